"""Benchmarks (`make bench`): each module writes benchmarks/results/<name>.json and .md."""
