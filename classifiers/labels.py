"""The label sets of the output contract. Keep them stable: outside evaluations depend on them."""

from __future__ import annotations

from typing import Literal, get_args

ConditionName = Literal[
    "depression",
    "anxiety",
    "bipolar",
    "ptsd",
    "adhd",
    "ocd",
    "eating_disorder",
    "psychosis",
    "autism",
    "bpd",
    "substance_use",
]
CONDITIONS: tuple[str, ...] = get_args(ConditionName)
SEVERITY_LEVELS: tuple[str, ...] = ("minimal", "mild", "moderate", "severe")
RISK_LEVELS: tuple[str, ...] = ("none", "indicator", "ideation", "behavior", "attempt")
CRISIS_FROM = "ideation"


def risk_rank(level: str) -> int:
    """Ordinal position of a risk level (none=0 ... attempt=4)."""
    return RISK_LEVELS.index(level)


def severity_rank(level: str) -> int:
    """Ordinal position of a severity level (minimal=0 ... severe=3)."""
    return SEVERITY_LEVELS.index(level)


def is_crisis(level: str) -> bool:
    """True from ideation up, as the output contract says."""
    return risk_rank(level) >= risk_rank(CRISIS_FROM)
