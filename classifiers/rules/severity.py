"""Severity from symptom breadth, impairment, intensity, duration and risk: :func:`score_severity`.

The idea follows how clinicians grade severity (DSM-5 specifiers, PHQ-9 bands): how many
distinct symptom criteria are present, whether daily functioning is impaired, how intense and
how long-lasting the writer says it is, and whether there is suicidal ideation or behaviour.
"""

from __future__ import annotations

import math
import re
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
    #: The band of a standard screening score in the text (:func:`screening_level`).
    screening: str = "minimal"

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
            "screening": self.screening,
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
    screened = SEVERITY_LEVELS.index(features.screening)
    if screened > SEVERITY_LEVELS.index(level):
        # a PHQ-9 of 22 is severe whatever else the note says
        level = features.screening
        score = max(score, SEVERITY_CUTS[screened - 1])
    return SeverityResult(level=level, score=round(min(score, 0.99), 4), sources=("rules",))


#: Severity bands of the standard scales the rules read (Kroenke et al. 2001 for PHQ-9, with
#: "moderately severe" 15-19 as moderate; Spitzer et al. 2006 for GAD-7): the lowest score of
#: each band, highest band first.
SCREENING_BANDS: dict[str, tuple[tuple[int, str], ...]] = {
    "phq9": ((20, "severe"), (10, "moderate"), (5, "mild")),
    "gad7": ((15, "severe"), (10, "moderate"), (5, "mild")),
    # EPDS 13 or more: probable depression (Cox et al. 1987); the scale has no severe band
    "epds": ((13, "moderate"),),
}
_SCORE_RE = re.compile(
    r"\b(?P<scale>phq|gad)\W?(?P<items>[97])\D{0,20}?(?P<value>\d{1,2})\b"
    r"|\b(?P<scale3>epds)\D{0,20}?(?P<value3>\d{1,2})\b"
    r"|\b(?P<value2>\d{1,2})\s+on\s+(?:\w+\s+)?(?P<scale2>phq|gad)\W?(?P<items2>[97])",
    re.IGNORECASE,
)


def screening_level(spans: list[str]) -> str:
    """The highest severity band the screening scores in ``spans`` give ("PHQ-9 score 22":
    severe), or minimal."""
    best = 0
    for span in spans:
        m = _SCORE_RE.search(span)
        if m is None:
            continue
        scale = (m["scale"] or m["scale2"] or m["scale3"]).lower() + (
            m["items"] or m["items2"] or ""
        )
        bands = SCREENING_BANDS.get(scale, ())
        value = int(m["value"] or m["value2"] or m["value3"])
        level = next((lv for low, lv in bands if value >= low), "minimal")
        best = max(best, SEVERITY_LEVELS.index(level))
    return SEVERITY_LEVELS[best]
