"""Interfaces and result types of the classifiers.

Every classifier (rules, student model, hybrid) returns :class:`Classification` objects whose
``to_dict`` is exactly one row of the ``mindsignal classify`` output contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from classifiers.labels import is_crisis


@dataclass(frozen=True)
class Evidence:
    """A span of the input text that supports a call, and the cue that fired."""

    start: int
    end: int
    text: str
    cue: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "cue": self.cue}


@dataclass(frozen=True)
class LabelScore:
    """One detected condition: calibrated probability, the parts that decided, and evidence."""

    label: str
    score: float
    sources: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "score": round(float(self.score), 4),
            "sources": list(self.sources),
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class SeverityResult:
    """Severity band (minimal, mild, moderate, severe) and a 0-1 score."""

    level: str
    score: float
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "score": round(float(self.score), 4)}


@dataclass(frozen=True)
class RiskResult:
    """C-SSRS-aligned suicide-risk level; ``crisis`` is true from ideation up."""

    level: str
    score: float
    evidence: tuple[Evidence, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def crisis(self) -> bool:
        return is_crisis(self.level)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "score": round(float(self.score), 4),
            "crisis": self.crisis,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class Classification:
    """The full analysis of one text."""

    relevant: bool
    relevance_score: float
    labels: tuple[LabelScore, ...]
    severity: SeverityResult
    risk: RiskResult
    model_version: str
    decided_by: tuple[str, ...] = field(default=())

    def label_names(self) -> list[str]:
        return [label.label for label in self.labels]

    def to_dict(self, id: Any = None) -> dict[str, Any]:
        """One row of the output contract."""
        return {
            "id": id,
            "relevant": self.relevant,
            "relevance_score": round(float(self.relevance_score), 4),
            "labels": [label.to_dict() for label in self.labels],
            "severity": self.severity.to_dict(),
            "risk": self.risk.to_dict(),
            "model_version": self.model_version,
        }


class InvalidTextError(ValueError):
    """A text that cannot be classified (empty, binary, too long); the message says why."""


@runtime_checkable
class Classifier(Protocol):
    """Anything that turns texts into :class:`Classification` results, in input order."""

    @property
    def version(self) -> str:
        """Identifier recorded in every result's ``model_version``."""
        ...

    def predict(self, texts: Sequence[str]) -> list[Classification]:
        """Classify texts; raises :class:`InvalidTextError` for a text that cannot be classified."""
        ...
