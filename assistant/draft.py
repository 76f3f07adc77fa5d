"""The typed result of one analysis and care draft: :class:`CareDraft` and the parts it holds.

This is the contract between the pipeline and its front ends (the Gradio UI, the CLI, exports):

- :class:`Redaction` - one identifier removed from the input (kind and offsets on the ORIGINAL
  text; the removed value itself is never stored).
- :class:`SafetyDecision` - what the deterministic safety gate decided (crisis, urgent, level,
  reasons, the language of a text not in English) and the block shown first (crisis resources,
  led by a notice when the text is not in English).
- :class:`SentenceCheck` - one sentence of the draft with its citations and grounding verdict.
- :class:`CareDraft` - everything above plus classification, passages, the final recommendation,
  degraded-mode flags, versions and timings; ``to_markdown()`` and ``to_json()`` export it.
- :class:`DraftEvent` - what :meth:`assistant.pipeline.CarePipeline.stream` yields: one
  ``"analysis"`` event, then ``"token"`` events, then one ``"final"`` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DISCLAIMER = (
    "Draft for practitioner review - not a diagnosis and not a substitute for clinical judgement. "
    "Detected signals are consistent with, not proof of, a condition; verify everything before use."
)

RedactionKind = Literal["NAME", "EMAIL", "PHONE", "URL", "HANDLE", "ADDRESS", "DATE_OF_BIRTH", "ID"]


def classification_evidence(
    classification: Mapping[str, Any], risk_first: bool = False
) -> list[dict[str, Any]]:
    """Evidence spans of every detected label and of the risk call (``Classification.to_dict()``
    form), each with the ``label`` it supports (``"risk: <level>"`` for the risk call).

    The risk call's spans keep the classifier's order (highest level first, so the span that set
    the level leads), with denials and thoughts that are history after the cues of the level.

    Args:
        classification: The classification as a dict.
        risk_first: Put the risk call's spans first (for evidence lists); else the labels'.
    """
    risk_cues, risk_notes, label_spans = _evidence_by_importance(classification)
    risk_spans = risk_cues + risk_notes
    return risk_spans + label_spans if risk_first else label_spans + risk_spans


def ranked_evidence(classification: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Evidence spans in order of importance, for showing overlapping spans once each.

    The risk call's cues come first (they set its level: a crisis is never hidden by a
    condition), then its denials and thoughts that are history, then the labels' spans. Within
    each group a rule cue comes before a model's reading (a whole sentence or text the model's
    call rests on), then a longer span before a shorter one, then the classifier's order.
    """

    def by_size(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(spans, key=lambda ev: (is_model_reading(ev), -len(str(ev["text"]))))

    return [ev for group in _evidence_by_importance(classification) for ev in by_size(group)]


def is_model_reading(evidence: Mapping[str, Any]) -> bool:
    """Whether an evidence span is a model's reading (cue ``model: ...``), not a rule cue."""
    return str(evidence.get("cue", "")).startswith("model:")


def _evidence_by_importance(
    classification: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """``(risk cues, risk denials and past thoughts, label spans)``, each in classifier order."""
    label_spans: list[dict[str, Any]] = []
    for lab in classification.get("labels", []):
        for ev in lab.get("evidence", []):
            if isinstance(ev, dict) and ev.get("text"):
                label_spans.append({**ev, "label": str(lab.get("label", ""))})
    risk_cues: list[dict[str, Any]] = []
    risk_notes: list[dict[str, Any]] = []
    risk = classification.get("risk", {})
    for ev in risk.get("evidence", []) if isinstance(risk, dict) else []:
        if isinstance(ev, dict) and ev.get("text"):
            # A denial ("I don't want to die") or thoughts that are history ("I used to think
            # about ending it") is evidence of the level, not a cue for a crisis.
            cue = str(ev.get("cue", ""))
            note = " (denied)" if cue.startswith("denied:") else ""
            note = " (past)" if cue.startswith("past:") else note
            span = {**ev, "label": f"risk: {risk.get('level', '')}{note}"}
            (risk_notes if note else risk_cues).append(span)
    return risk_cues, risk_notes, label_spans


def checked_draft(draft: CareDraft) -> str:
    """Which draft the grounding check is about, for the lines that report it: in degraded mode
    the passage excerpts shown, not the LLM's draft (which may have been rejected for failing
    that same check)."""
    if draft.degraded:
        return "the draft shown (excerpts from the retrieved passages)"
    return "the LLM's draft"


def evidence_lines(classification: Mapping[str, Any], limit: int = 12) -> list[str]:
    """Evidence spans as list lines, the risk call's first: ``"text" (label, cue)``; a span
    longer than ``QUOTE_CHARS`` (a model call that rests on a whole post) is quoted by its
    opening."""
    return [
        f'"{_quote(str(ev["text"]))}" ({ev["label"]}, {ev.get("cue", "")})'
        for ev in classification_evidence(classification, risk_first=True)[:limit]
    ]


QUOTE_CHARS = 200


def _quote(text: str) -> str:
    if len(text) <= QUOTE_CHARS:
        return text
    return text[: QUOTE_CHARS - 1].rsplit(" ", 1)[0] + " …"


class Redaction(BaseModel):
    """One identifier replaced by a typed placeholder; offsets are on the original text."""

    model_config = ConfigDict(frozen=True)

    kind: RedactionKind
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class SafetyDecision(BaseModel):
    """The deterministic safety gate's decision; the LLM can add to it, never remove it."""

    model_config = ConfigDict(frozen=True)

    crisis: bool = Field(description="Risk at ideation or above, or explicit intent/plan/means.")
    urgent: bool = Field(description="Behaviour or attempt: same-day assessment.")
    level: str = Field(
        description="Effective risk level (none ... attempt) after the gate's rules."
    )
    reasons: list[str] = Field(default_factory=list, description="Why; rule names and cues.")
    block_markdown: str = Field(default="", description="Crisis resources and safety-plan outline.")
    resources: list[dict[str, Any]] = Field(
        default_factory=list, description="The crisis resources shown (name, contact, hours, ...)."
    )
    locale: str = Field(default="", description="Locale of the crisis resources.")
    language: str = Field(
        default="",
        description=(
            "Language code when the text is confidently not English ('' otherwise): the "
            "classifier and the gate cannot read it, so block_markdown leads with a notice."
        ),
    )


class SentenceCheck(BaseModel):
    """One checked sentence of the LLM draft."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(description="The sentence as shown (invalid citations stripped).")
    citations: list[int] = Field(default_factory=list, description="Valid passage numbers cited.")
    supported: bool
    score: float = Field(description="Support score 0-1 against the cited passages.")
    reason: str = Field(default="", description="Why it is (un)supported.")
    best_passage: int | None = Field(
        default=None, description="Passage number that supports it most."
    )


class CareDraft(BaseModel):
    """Everything one analysis and draft holds. Frozen: derive changed copies with ``model_copy``."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    created_at: datetime
    input_chars: int
    redacted_text: str
    redactions: list[Redaction] = Field(default_factory=list)
    classification: dict[str, Any]
    gate: SafetyDecision
    passages: list[dict[str, Any]] = Field(default_factory=list)
    others: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "Conditions the rules see in someone the writer describes, not in the writer "
            "(label, score, sources, evidence), where the writer shows none of their own; the "
            "case's passages are then for that person and the people around them."
        ),
    )
    recommendation: str = ""
    sentences: list[SentenceCheck] = Field(default_factory=list)
    unsupported_count: int = 0
    removed_count: int = 0
    degraded: bool = False
    degraded_reason: str | None = None
    no_draft_reason: str | None = Field(
        default=None,
        description=(
            "Why retrieval and the LLM were skipped and no recommendations drafted (text not in "
            "English, or no mental-health signal and no risk); null when a draft was made."
        ),
    )
    llm_model: str | None = Field(
        default=None,
        description=(
            "The model whose text the recommendation shows; null when it shows passage "
            "excerpts (degraded) or no draft."
        ),
    )
    classifier_version: str = ""
    versions: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Component versions; 'llm' is the model asked for a draft, present even when its "
            "draft was not used (then llm_model is null), absent when no model was asked."
        ),
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)
    reviewed: bool = False
    reviewer_notes: str = ""

    # ---- convenience views -----------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        """Detected condition names, best first."""
        return [str(label["label"]) for label in self.classification.get("labels", [])]

    @property
    def severity(self) -> str:
        """Severity band from the classification."""
        return str(self.classification.get("severity", {}).get("level", "minimal"))

    @property
    def risk(self) -> str:
        """The classifier's suicide-risk level (the gate's effective level is ``gate.level``)."""
        return str(self.classification.get("risk", {}).get("level", "none"))

    # ---- exports -------------------------------------------------------------------------
    def analysis_lines(self) -> list[str]:
        """One line each for signals, severity, risk, gate reasons and redactions."""
        lines: list[str] = [f"Created: {self.created_at.isoformat(timespec='seconds')}"]
        labels = self.classification.get("labels", [])
        if labels:
            signals = ", ".join(f"{lab['label']} ({float(lab['score']):.2f})" for lab in labels)
            lines.append(f"Signals consistent with: {signals}")
        else:
            lines.append("Signals consistent with: no condition signal above threshold")
        if self.others:
            about = ", ".join(f"{o['label']} ({float(o['score']):.2f})" for o in self.others)
            lines.append(f"Signals about someone the writer describes (not the writer): {about}")
        lines.append(f"Severity band: {self.severity}")
        unread = " (text not in English: not assessed)" if self.gate.language else ""
        lines.append(f"Suicide-risk level (C-SSRS aligned): {self.gate.level}{unread}")
        if self.gate.reasons:
            lines.append(f"Safety gate: {'; '.join(self.gate.reasons)}")
        if self.redactions:
            kinds = sorted({r.kind for r in self.redactions})
            lines.append(f"Redacted identifiers: {len(self.redactions)} ({', '.join(kinds)})")
        return lines

    def to_json(self) -> str:
        """The whole draft as JSON (ISO dates)."""
        return self.model_dump_json(indent=2)

    def split_recommendation(self) -> tuple[str, str]:
        """``(safety block, rest)`` of the recommendation.

        The gate's block (crisis resources, or the not-English notice) is the gate's, not the
        draft's prose: front ends show it first, before everything else. It is ``""`` when the
        gate made none; the rest is the recommendation without it.
        """
        block = self.gate.block_markdown.strip()
        body = self.recommendation.strip()
        if block and block in body:
            body = body.replace(block, "", 1).strip()
        return block, body

    def to_markdown(self) -> str:
        """Full export: safety block first, then analysis, draft, sources, review, disclaimer."""
        out: list[str] = [f"# MindSignal care draft `{self.case_id}`", ""]
        out.append(f"_{DISCLAIMER}_")
        out.append("")
        block, body = self.split_recommendation()
        if block:
            out += [block, ""]
        if self.degraded:
            out += [f"> **Degraded mode:** {self.degraded_reason or 'LLM unavailable'}.", ""]
        out += ["## Analysis", ""]
        out += [f"- {line}" for line in self.analysis_lines()]
        evidence = evidence_lines(self.classification)
        if evidence:
            out += ["", "Evidence spans (redacted text):"]
            out += [f"- {line}" for line in evidence]
        out += ["", "## Recommendation draft", "", body or "_(no draft)_", ""]
        if self.unsupported_count or self.removed_count:
            out.append(
                f"_Grounding check of {checked_draft(self)}: {self.unsupported_count} "
                f"unsupported sentence(s) flagged, {self.removed_count} removed._"
            )
            out.append("")
        out += ["## Sources", ""]
        if not self.passages:
            out.append("_No evidence passages were retrieved._")
        for i, passage in enumerate(self.passages, start=1):
            out.append(f"[{i}] **{passage.get('title', '')}** - {passage.get('citation', '')}")
        out += ["", "## Review", ""]
        out.append(f"- Reviewed by practitioner: {'yes' if self.reviewed else 'no'}")
        if self.reviewer_notes:
            out.append(f"- Notes: {self.reviewer_notes}")
        versions = ", ".join(f"{k} {v}" for k, v in sorted(self.versions.items()))
        if versions:
            out.append(f"- Versions: {versions}")
        out += ["", f"_{DISCLAIMER}_", ""]
        return "\n".join(out)


@dataclass(frozen=True)
class DraftEvent:
    """One step of a streamed draft.

    ``analysis``: the draft without the LLM text (crisis block already in ``recommendation``).
    ``token``: a piece of LLM text in ``text`` (``draft`` is None).
    ``final``: the verified draft.
    """

    kind: Literal["analysis", "token", "final"]
    text: str
    draft: CareDraft | None = None
