"""Schema of a knowledge-base passage (YAML front matter + Markdown body, one passage per file).

Example file ``knowledge_base/passages/depression/dep-ba-001.md``::

    ---
    id: dep-ba-001
    title: Behavioural activation for low mood
    conditions: [depression]
    severity: [mild, moderate]
    risk: [none, indicator]
    intervention_type: behaviour_change
    audience: person
    population: []            # optional: children_young_people, families_carers
    after_treatment: false    # optional: true when it presupposes treatment already started
    long_standing: false      # optional: true when it presupposes difficulties of years
    requires: []              # optional: situations the post must show (bereavement, perinatal ...)
    evidence:
      guideline: NICE NG222
      section: Treatment for a new episode of less severe depression
      year: 2022
      url: https://www.nice.org.uk/guidance/ng222
    reviewed: 2026-11-25
    ---
    Body text, 60-200 words, in the project's own words ...
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from classifiers.labels import CONDITIONS, RISK_LEVELS, SEVERITY_LEVELS
from retrieval.post_context import POPULATIONS, SITUATIONS

#: Conditions a passage may target: the classifier's labels plus two cross-cutting topics.
PASSAGE_CONDITIONS: tuple[str, ...] = (*CONDITIONS, "suicide_risk", "general_wellbeing")

InterventionType = Literal[
    "psychoeducation",
    "behaviour_change",
    "guided_self_help",
    "psychological_therapy",
    "medication_review",
    "referral",
    "social_support",
    "safety_planning",
    "crisis_resources",
]
INTERVENTION_TYPES: tuple[str, ...] = InterventionType.__args__  # type: ignore[attr-defined]

#: The closed vocabularies of the list fields: field -> (what the error calls a value, allowed).
_VOCABULARIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "conditions": ("condition(s)", PASSAGE_CONDITIONS),
    "severity": ("severity level(s)", SEVERITY_LEVELS),
    "risk": ("risk level(s)", RISK_LEVELS),
    "population": ("population(s)", POPULATIONS),
    "requires": ("situation(s)", SITUATIONS),
}


def vocabulary_error(field_name: str, values: Iterable[str]) -> str | None:
    """Why ``values`` do not fit the closed list field ``field_name``; None when they all do."""
    what, allowed = _VOCABULARIES[field_name]
    bad = [x for x in values if x not in allowed]
    return f"unknown {what} {bad}; allowed: {list(allowed)}" if bad else None


MIN_WORDS = 60
MAX_WORDS = 200
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}$")


class EvidenceSource(BaseModel):
    """The public guideline a passage rests on."""

    model_config = ConfigDict(extra="forbid")

    guideline: str = Field(min_length=3, description="e.g. 'NICE NG222', 'WHO mhGAP-IG 2.0'")
    section: str = Field(min_length=3, description="Section or recommendation area.")
    year: int = Field(ge=1990, le=2100)
    url: HttpUrl


class Passage(BaseModel):
    """One self-contained intervention passage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = Field(min_length=5, max_length=160)
    conditions: list[str] = Field(min_length=1)
    severity: list[str] = Field(min_length=1)
    risk: list[str] = Field(min_length=1)
    intervention_type: InterventionType
    audience: Literal["practitioner", "person"]
    evidence: EvidenceSource
    reviewed: dt.date
    population: list[str] = Field(
        default_factory=list,
        description=(
            "Whom the passage is written for when it is not the adult who is struggling: "
            "'children_young_people' (therapies and services for under-18s) and/or "
            "'families_carers' (support for the people around someone). Empty: anyone. The "
            "retriever holds such passages back unless the post is about that population."
        ),
    )
    after_treatment: bool = Field(
        False,
        description=(
            "The passage presupposes treatment already started: a review of treatment that is "
            "not working, monitoring or stopping a medication, relapse prevention after "
            "recovery. The retriever holds it back unless the post mentions treatment."
        ),
    )
    requires: list[str] = Field(
        default_factory=list,
        description=(
            "Situations the passage is written for, any one of which the post must show for it "
            f"to fit: {', '.join(SITUATIONS)} (retrieval.post_context.detect_situations). Empty: "
            "any post. The retriever holds such a passage back unless the post shows one of them."
        ),
    )
    long_standing: bool = Field(
        False,
        description=(
            "The passage presupposes difficulties that have lasted years (chronic depressive "
            "symptoms, defined as two years or more). The retriever holds it back unless the "
            "post says the difficulties have lasted that long."
        ),
    )
    situations: list[str] = Field(
        default_factory=list,
        max_length=8,
        description=(
            "How the people this passage fits describe their situation, in their own plain words "
            "(3-30 words each). Retrieval reads them to bridge informal posts and clinical "
            "passages; they are never shown as advice."
        ),
    )
    text: str

    @field_validator("id")
    @classmethod
    def _check_id(cls, v: str) -> str:
        if not _ID_RE.match(v):
            raise ValueError("must be lowercase letters, digits and dashes (3-81 chars)")
        return v

    @field_validator("conditions", "severity", "risk", "population", "requires")
    @classmethod
    def _check_vocabulary(cls, v: list[str], info: ValidationInfo) -> list[str]:
        problem = vocabulary_error(str(info.field_name), v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("situations")
    @classmethod
    def _check_situations(cls, v: list[str]) -> list[str]:
        cleaned = [" ".join(s.split()) for s in v]
        if any("|" in s for s in cleaned):
            raise ValueError("a situation may not contain '|' (the store joins them with it)")
        bad = [s for s in cleaned if not 3 <= len(s.split()) <= 30]
        if bad:
            raise ValueError(f"each situation needs 3-30 words; these do not: {bad[:3]}")
        return cleaned

    @model_validator(mode="after")
    def _check_length(self) -> Passage:
        words = len(self.text.split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            raise ValueError(f"text has {words} words; a passage needs {MIN_WORDS}-{MAX_WORDS}")
        return self

    @property
    def citation(self) -> str:
        """Human-readable citation, e.g. 'NICE NG222 (2022), Treatment ...'."""
        e = self.evidence
        return f"{e.guideline} ({e.year}), {e.section}. {e.url}"

    @property
    def content_hash(self) -> str:
        """sha256 of the normalised front matter and text; changes exactly when the passage does."""
        front = self.model_dump(mode="json", exclude={"text"})
        # Fields added later: passages that leave them at their default keep their earlier hash.
        for name, default in (
            ("population", []),
            ("after_treatment", False),
            ("long_standing", False),
            ("requires", []),
        ):
            if front[name] == default:
                del front[name]
        # Whitespace-only edits (line endings, trailing spaces) must not trigger a re-embed.
        text = "\n".join(line.rstrip() for line in self.text.strip().splitlines())
        payload = json.dumps(front, sort_keys=True, ensure_ascii=False) + "\n" + text
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
