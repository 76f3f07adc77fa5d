"""Rule-based detection: transparent lexicons with negation, hypothetical, third-person, past and quote scoping."""

from __future__ import annotations

from classifiers.rules.lexicon import LabelAnalysis, LexiconClassifier, RuleAnalysis

__all__ = ["LabelAnalysis", "LexiconClassifier", "RuleAnalysis"]
