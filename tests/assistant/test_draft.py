"""The order evidence is listed and shown in, and which draft the grounding line is about.

Classifications are hand-made ``Classification.to_dict()`` rows, so each test states the spans it
is about; ``tests/assistant/test_views.py`` checks the same on the real classifier's output.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from assistant.draft import (
    CareDraft,
    SafetyDecision,
    classification_evidence,
    evidence_lines,
    ranked_evidence,
)

POST = "I feel hopeless and I keep thinking about killing myself, I don't want to die."


def _span(piece: str, cue: str) -> dict[str, Any]:
    start = POST.index(piece)
    return {"start": start, "end": start + len(piece), "text": piece, "cue": cue}


def _classification(
    labels: dict[str, list[dict[str, Any]]], risk: list[dict[str, Any]], level: str = "ideation"
) -> dict[str, Any]:
    return {
        "labels": [{"label": name, "score": 0.9, "evidence": evs} for name, evs in labels.items()],
        "risk": {"level": level, "evidence": risk},
    }


def test_the_evidence_list_leads_with_the_risk_cues_then_denials_then_conditions() -> None:
    classification = _classification(
        {"depression": [_span("feel hopeless", "depressed_mood")]},
        [
            _span("I don't want to die", "denied: passive_ideation"),
            _span("thinking about killing myself", "active_ideation"),
            _span("hopeless", "hopelessness"),
        ],
    )
    assert [line.split('" (')[0] for line in evidence_lines(classification)] == [
        '"thinking about killing myself',
        '"hopeless',
        "\"I don't want to die",
        '"feel hopeless',
    ]
    assert "(risk: ideation (denied)," in evidence_lines(classification)[2]


def test_the_evidence_list_keeps_risk_first_however_many_condition_spans_there_are() -> None:
    many = [_span(word, "lexicon") for word in ("feel", "hopeless", "keep", "thinking", "die")]
    classification = _classification(
        {"depression": many * 3}, [_span("killing myself", "active_ideation")]
    )
    lines = evidence_lines(classification, limit=4)
    assert len(lines) == 4 and lines[0].startswith('"killing myself" (risk: ideation,')


def test_ranked_evidence_puts_risk_over_conditions_and_longer_over_shorter() -> None:
    classification = _classification(
        {
            "depression": [_span("killing", "learned n-gram 'killing'")],
            "anxiety": [_span("I feel hopeless and I keep", "model: P(anxiety) 0.61")],
            "ptsd": [_span("feel hopeless", "depressed_mood")],
        },
        [
            _span("I don't want to die", "denied: passive_ideation"),
            _span("killing myself", "active_ideation"),
            _span("thinking about killing myself", "active_ideation"),
        ],
    )
    assert [ev["text"] for ev in ranked_evidence(classification)] == [
        "thinking about killing myself",  # the risk call's cues, longer first
        "killing myself",
        "I don't want to die",  # then its denials
        "feel hopeless",  # then conditions: rule cues, longer first...
        "killing",
        "I feel hopeless and I keep",  # ...before a model's reading, however long
    ]
    # The list and the prompt keep the classifier's order within each group.
    assert [ev["text"] for ev in classification_evidence(classification, risk_first=True)][:3] == [
        "killing myself",
        "thinking about killing myself",
        "I don't want to die",
    ]


def _draft(degraded: bool, reason: str | None = None) -> CareDraft:
    return CareDraft(
        case_id="c1",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        input_chars=len(POST),
        redacted_text=POST,
        classification=_classification({}, []),
        gate=SafetyDecision(crisis=False, urgent=False, level="none"),
        recommendation="- Keep a mood diary [1].",
        unsupported_count=1,
        degraded=degraded,
        degraded_reason=reason,
    )


def test_the_exported_grounding_line_names_the_draft_it_checked() -> None:
    rejected = _draft(True, "LLM draft not grounded: 0 of 12 sentences supported")
    assert (
        "_Grounding check of the draft shown (excerpts from the retrieved passages): "
        "1 unsupported sentence(s) flagged, 0 removed._"
    ) in rejected.to_markdown()
    assert "_Grounding check of the LLM's draft: 1 unsupported" in _draft(False).to_markdown()
