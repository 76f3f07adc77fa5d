"""Lexicon data files (YAML); a package so the files ship as package data."""
