"""Severity from symptom breadth, impairment, intensity, duration and risk: :func:`score_severity`.

The idea follows how clinicians grade severity (DSM-5 specifiers, PHQ-9 bands): how many
distinct symptom criteria are present, whether daily functioning is impaired, how intense and
how long-lasting the writer says it is, and whether there is suicidal ideation or behaviour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from classifiers.base import SeverityResult
from classifiers.labels import SEVERITY_LEVELS, risk_rank

# Band edges on the 0-1 score. Lightly calibrated on the development split of the depression
# severity set (Naseem et al. 2022) only to round numbers; `python -m classifiers.rules.report`
# prints the balanced accuracy they give.
SEVERITY_CUTS: tuple[float, float, float] = (0.1, 0.3, 0.65)


@dataclass(frozen=True)
class SeverityFeatures:
    """What the severity score is computed from (all counts are of counted, first-person hits)."""

    symptom_criteria: int = 0
    symptom_weight: float = 0.0
    labels: int = 0
    impairment: int = 0
    intensity: int = 0
    duration: int = 0
    mildness: int = 0
    risk_level: str = "none"
    words: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "symptom_criteria": self.symptom_criteria,
            "symptom_weight": round(self.symptom_weight, 3),
            "labels": self.labels,
            "impairment": self.impairment,
            "intensity": self.intensity,
            "duration": self.duration,
            "mildness": self.mildness,
            "risk_level": self.risk_level,
            "words": self.words,
        }


def score_severity(features: SeverityFeatures) -> SeverityResult:
    """Grade severity as minimal, mild, moderate or severe with a 0-1 score.

    Args:
        features: Counts from the rule analysis of one text.

    Returns:
        The band and score. Ideation or above is at least moderate; behaviour or an attempt is
        severe, whatever the other features say.
    """
    # Evidence accumulates with diminishing returns; impairment weighs most because it is
    # what separates moderate from mild in every grading scheme.
    raw = (
        0.55 * features.symptom_weight
        + 0.12 * min(features.symptom_criteria, 6)
        + 0.45 * min(features.impairment, 3)
        + 0.15 * min(features.intensity, 4)
        + 0.15 * min(features.duration, 2)
        + 0.1 * max(0, min(features.labels, 3) - 1)
        - 0.2 * min(features.mildness, 2)
    )
    score = 1.0 - math.exp(-max(raw, 0.0) * 0.8)
    rank = risk_rank(features.risk_level)
    if rank >= risk_rank("behavior"):
        score = max(score, 0.85)
    elif rank >= risk_rank("ideation"):
        score = max(score, SEVERITY_CUTS[1] + 0.1)
    elif rank >= risk_rank("indicator"):
        score = max(score, SEVERITY_CUTS[0] + 0.05)
    level = SEVERITY_LEVELS[sum(score >= cut for cut in SEVERITY_CUTS)]
    if rank >= risk_rank("behavior"):
        level = "severe"
    return SeverityResult(level=level, score=round(min(score, 0.99), 4), sources=("rules",))
