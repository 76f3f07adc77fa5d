"""Exports of a reviewed care draft: Markdown, JSON and PDF.

The drafts come from the real pipeline (rules classifier, safety gate with real crisis resources,
grounding check) with a fixed retriever and a scripted chat model: the tests are about what the
exported files hold, not about the LLM's prose.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from assistant.draft import DISCLAIMER, CareDraft
from assistant.export import (
    MAX_EDIT_CHARS,
    apply_review,
    export_json,
    export_markdown,
    export_pdf,
    write_exports,
)
from assistant.grounding import GroundingChecker
from assistant.pipeline import CarePipeline, PipelineConfig
from assistant.prompts import PERSON_HEADING, PRACTITIONER_HEADING
from assistant.safety import LANGUAGE_HEADING, SafetyGate
from classifiers.factory import load_classifier
from knowledge_base.resources import load_crisis_resources
from tests.assistant.kb_samples import sample_passages
from tests.fakes import FakeChat, FakeEncoder, FakeRetriever, make_passage

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPRESSED_POST = (
    "For two months I have felt empty and hopeless. I can't get out of bed, I stopped seeing "
    "friends and nothing I used to enjoy interests me. I feel worthless."
)
CRISIS_POST = "I feel hopeless and I'm going to kill myself tonight. I bought a rope yesterday."
REPLY = (
    f"## {PERSON_HEADING}\n"
    "- Write down what you do each hour and rate your mood from 0 to 10 [1].\n"
    f"## {PRACTITIONER_HEADING}\n"
    "- Offer individual cognitive behavioural therapy delivered by a trained therapist [2]."
)
NON_LATIN = "Заметки: наблюдать сон; Σημείωση: ελέγξτε ξανά; Ça va – naïve café; עברית"


@pytest.fixture(scope="module")
def pipeline() -> CarePipeline:
    passages = [
        make_passage(i, p.text, p.title, p.intervention_type, p.audience)
        for i, p in enumerate(sample_passages(), start=1)
    ][:3]
    return CarePipeline(
        classifier=load_classifier(mode="rules"),
        retriever=FakeRetriever(passages),
        gate=SafetyGate(
            load_crisis_resources(PROJECT_ROOT / "knowledge_base" / "resources", "en-US")
        ),
        grounding=GroundingChecker(FakeEncoder(), threshold=0.45),
        chat=FakeChat(REPLY),
        config=PipelineConfig(max_chars=5000, top_k=3),
    )


@pytest.fixture(scope="module")
def draft(pipeline: CarePipeline) -> CareDraft:
    return pipeline.recommend(DEPRESSED_POST)


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _squash(text: str) -> str:
    # PDF text extraction re-wraps lines; compare without whitespace.
    return "".join(text.split())


def test_review_keeps_edits_notes_and_status(draft: CareDraft) -> None:
    reviewed = apply_review(draft, "Edited plan: weekly check-ins [1].", True, "Seen on Monday")
    assert reviewed.recommendation == "Edited plan: weekly check-ins [1]."
    assert reviewed.reviewed and reviewed.reviewer_notes == "Seen on Monday"
    assert not draft.reviewed, "the pipeline's draft itself is not changed"
    # A blank editor keeps the pipeline's text.
    assert apply_review(draft, "  ", False).recommendation == draft.recommendation


def test_review_cannot_drop_the_crisis_block(pipeline: CarePipeline) -> None:
    crisis = pipeline.recommend(CRISIS_POST)
    assert crisis.gate.crisis
    reviewed = apply_review(crisis, "Only my own words.", True)
    assert reviewed.recommendation.startswith(crisis.gate.block_markdown.strip())
    assert reviewed.recommendation.endswith("Only my own words.")


def test_review_rejects_an_oversized_edit(draft: CareDraft) -> None:
    with pytest.raises(ValueError, match="longer than"):
        apply_review(draft, "x" * (MAX_EDIT_CHARS + 1), True)


def test_markdown_and_json_hold_analysis_sources_review_and_disclaimer(draft: CareDraft) -> None:
    reviewed = apply_review(draft, None, True, "Discussed with supervisor")
    md = export_markdown(reviewed)
    assert "depression" in md and f"Severity band: {draft.severity}" in md
    assert "Reviewed by practitioner: yes" in md and "Discussed with supervisor" in md
    assert DISCLAIMER in md
    for i, passage in enumerate(draft.passages, start=1):
        assert f"[{i}] **{passage['title']}** - {passage['citation']}" in md

    data = json.loads(export_json(reviewed))
    assert data["disclaimer"] == DISCLAIMER
    assert data["reviewed"] is True and data["reviewer_notes"] == "Discussed with supervisor"
    assert [p["citation"] for p in data["passages"]] == [p["citation"] for p in draft.passages]
    assert "depression" in [lab["label"] for lab in data["classification"]["labels"]]


def test_pdf_holds_analysis_draft_sources_review_and_disclaimer(draft: CareDraft) -> None:
    reviewed = apply_review(draft, None, False)
    text = _squash(_pdf_text(export_pdf(reviewed)))
    assert _squash(f"MindSignal care draft {draft.case_id}") in text
    assert _squash("Signals consistent with: depression") in text
    assert _squash(f"Severity band: {draft.severity}") in text
    assert _squash(f"Suicide-risk level (C-SSRS aligned): {draft.gate.level}") in text
    assert _squash("rate your mood from 0 to 10") in text
    for i, passage in enumerate(draft.passages, start=1):
        assert _squash(f"[{i}] {passage['title']}") in text
        assert _squash(str(passage["citation"])) in text
    assert _squash("Reviewed by practitioner: no") in text
    assert _squash(DISCLAIMER) in text


def test_pdf_keeps_non_latin_text(draft: CareDraft) -> None:
    reviewed = apply_review(draft, f"{NON_LATIN}\n\n{draft.recommendation}", True, NON_LATIN)
    text = _squash(_pdf_text(export_pdf(reviewed)))
    for word in ("Заметки", "наблюдать", "Σημείωση", "ελέγξτε", "naïve", "café", "עברית"):
        assert _squash(word) in text or _squash(word[::-1]) in text, word


def test_pdf_of_a_crisis_draft_shows_the_gate_and_resources(pipeline: CarePipeline) -> None:
    crisis = pipeline.recommend(CRISIS_POST)
    text = _squash(_pdf_text(export_pdf(apply_review(crisis, None, True))))
    assert _squash("Safety gate: crisis") in text
    first_resource = crisis.gate.resources[0]["name"]
    assert _squash(first_resource) in text


def test_pdf_names_an_urgent_emergency_only_when_the_gate_says_urgent(
    pipeline: CarePipeline,
) -> None:
    """A crisis at level "none" that is not urgent (someone else's suicide threat used as
    pressure) was headed "URGENT, an emergency other than suicide risk" in the PDF."""
    crisis = pipeline.recommend(CRISIS_POST)
    calm = crisis.model_copy(
        update={"gate": crisis.gate.model_copy(update={"level": "none", "urgent": False})}
    )
    text = _squash(_pdf_text(export_pdf(apply_review(calm, None, True))))
    assert _squash("URGENT, an emergency other than suicide risk") not in text
    assert _squash("Safety gate: crisis (none)") in text
    urgent = crisis.model_copy(
        update={"gate": crisis.gate.model_copy(update={"level": "none", "urgent": True})}
    )
    text = _squash(_pdf_text(export_pdf(apply_review(urgent, None, True))))
    assert _squash("URGENT, an emergency other than suicide risk") in text


def test_write_exports_writes_three_named_files(draft: CareDraft, tmp_path: Path) -> None:
    files = write_exports(apply_review(draft, None, True), tmp_path / "out")
    assert [Path(p).suffix for p in files.as_list()] == [".md", ".json", ".pdf"]
    assert all(draft.case_id in Path(p).name for p in files.as_list())
    assert files.pdf.read_bytes().startswith(b"%PDF")
    assert "Reviewed by practitioner: yes" in files.markdown.read_text(encoding="utf-8")
    assert json.loads(files.json.read_text(encoding="utf-8"))["case_id"] == draft.case_id


def test_non_latin_markdown_and_json_round_trip(draft: CareDraft, tmp_path: Any) -> None:
    reviewed = apply_review(draft, NON_LATIN, True, NON_LATIN)
    files = write_exports(reviewed, tmp_path)
    assert NON_LATIN in files.markdown.read_text(encoding="utf-8")
    assert json.loads(files.json.read_text(encoding="utf-8"))["reviewer_notes"] == NON_LATIN


SPANISH_POST = "No quiero vivir más. Tengo las pastillas preparadas para esta noche."


@pytest.fixture(scope="module")
def spanish_draft(pipeline: CarePipeline, language_detector: Any) -> CareDraft:
    checked = CarePipeline(
        classifier=load_classifier(mode="rules"),
        retriever=FakeRetriever([]),
        gate=SafetyGate(pipeline.gate.resources, language=language_detector),
        grounding=pipeline.grounding,
        chat=FakeChat(REPLY),
        config=pipeline.config,
    )
    return checked.recommend(SPANISH_POST)


def test_review_cannot_drop_the_not_english_notice(spanish_draft: CareDraft) -> None:
    assert spanish_draft.gate.language == "es" and not spanish_draft.gate.crisis
    reviewed = apply_review(spanish_draft, "Only my own words.", True)
    assert reviewed.recommendation.startswith(spanish_draft.gate.block_markdown.strip())
    assert reviewed.recommendation.endswith("Only my own words.")


def test_exports_show_the_not_english_notice_before_the_analysis(
    spanish_draft: CareDraft,
) -> None:
    md = export_markdown(spanish_draft)
    assert md.index(LANGUAGE_HEADING) < md.index("## Analysis")
    assert "(text not in English: not assessed)" in md
    text = _squash(_pdf_text(export_pdf(spanish_draft)))
    assert _squash("Language check: text not in English") in text
    assert text.index(_squash(LANGUAGE_HEADING)) < text.index(_squash("Analysis"))
    assert _squash("988") in text


def test_crisis_exports_put_the_block_and_the_levels_evidence_first(
    pipeline: CarePipeline,
) -> None:
    crisis = pipeline.recommend(CRISIS_POST)
    md = export_markdown(crisis)
    assert md.index("## Safety first") < md.index("## Analysis")
    text = _squash(_pdf_text(export_pdf(crisis)))
    assert text.index(_squash("Safety first")) < text.index(_squash("Analysis"))
    level_span = crisis.classification["risk"]["evidence"][0]["text"]
    assert _squash(f'"{level_span}" (risk: {crisis.risk}') in text


def test_json_export_says_it_is_a_draft_for_review(draft: CareDraft) -> None:
    data = json.loads(export_json(draft))
    assert data["draft_for_review"] is True
    assert "practitioner to review" in data["notice"] and "not a diagnosis" in data["notice"]
    assert data["case_id"] == draft.case_id and data["disclaimer"] == DISCLAIMER
    assert CareDraft.model_validate(data) == draft  # additive: the draft reads back whole


def test_a_whole_post_span_is_quoted_by_its_opening() -> None:
    from assistant.draft import QUOTE_CHARS, evidence_lines

    post = "I keep going over the same thoughts every night and nothing helps. " * 10
    classification = {
        "labels": [],
        "risk": {
            "level": "ideation",
            "evidence": [{"start": 0, "end": len(post), "text": post, "cue": "model: whole"}],
        },
    }
    (line,) = evidence_lines(classification)
    quoted = line.split('" (')[0].lstrip('"')
    assert quoted.endswith(" …") and len(quoted) <= QUOTE_CHARS + 1
    assert post.startswith(quoted[:-2])
    assert line.endswith("(risk: ideation, model: whole)")


def test_a_denial_is_labelled_as_one_not_as_a_risk_cue() -> None:
    from assistant.draft import classification_evidence, evidence_lines

    text = "I don't want to die or anything, I just feel empty."
    classification = {
        "labels": [],
        "risk": {
            "level": "indicator",
            "evidence": [
                {"start": 0, "end": 19, "text": text[:19], "cue": "denied: active_ideation"}
            ],
        },
    }
    (span,) = classification_evidence(classification)
    assert span["label"] == "risk: indicator (denied)"
    assert evidence_lines(classification) == [
        '"I don\'t want to die" (risk: indicator (denied), denied: active_ideation)'
    ]
