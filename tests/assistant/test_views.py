"""What the UI shows for a draft: the gate's block first, banners and badges.

Drafts come from the real pipeline (rules classifier, real gate, resources and language check)
with a fixed retriever and a scripted chat model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant import views
from assistant.draft import CareDraft, SafetyDecision, evidence_lines
from assistant.grounding import GroundingChecker
from assistant.pipeline import CarePipeline, PipelineConfig
from assistant.safety import LANGUAGE_HEADING, SafetyGate
from classifiers import load_default
from classifiers.factory import load_classifier
from knowledge_base.resources import load_crisis_resources
from tests.assistant.kb_samples import sample_passages
from tests.fakes import FakeChat, FakeClassifier, FakeEncoder, FakeRetriever, make_passage

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SPANISH_POST = "No quiero vivir más. Tengo las pastillas preparadas para esta noche."
DEPRESSED_POST = (
    "For two months I have felt empty and hopeless. I can't get out of bed, I stopped seeing "
    "friends and nothing I used to enjoy interests me."
)
REPLY = "- Write down what you do each hour and rate your mood from 0 to 10 [1]."


def _pipeline(
    classifier: Any, language_detector: Any, chat: FakeChat | None = None
) -> CarePipeline:
    passages = [make_passage(i, p.text, p.title) for i, p in enumerate(sample_passages(), 1)]
    return CarePipeline(
        classifier=classifier,
        retriever=FakeRetriever(passages[:3]),
        gate=SafetyGate(
            load_crisis_resources(PROJECT_ROOT / "knowledge_base" / "resources", "en-US"),
            language=language_detector,
        ),
        grounding=GroundingChecker(FakeEncoder(), threshold=0.45),
        chat=chat or FakeChat(REPLY),
        config=PipelineConfig(max_chars=5000, top_k=3),
    )


@pytest.fixture(scope="module")
def spanish(language_detector: Any) -> CareDraft:
    return _pipeline(load_classifier(mode="rules"), language_detector).recommend(SPANISH_POST)


def test_the_not_english_notice_leads_the_answer_without_a_crisis(spanish: CareDraft) -> None:
    assert not spanish.gate.crisis
    answer = views.answer_markdown(spanish)
    assert answer.startswith(f"## {LANGUAGE_HEADING}")
    assert answer.count(LANGUAGE_HEADING) == 1 and "988" in answer
    assert "No recommendations drafted" in answer
    assert views.streaming_markdown(spanish, "").startswith(f"## {LANGUAGE_HEADING}")


def test_banner_and_badge_say_the_text_was_not_read(spanish: CareDraft) -> None:
    status = views.status_markdown(spanish)
    assert status.startswith("### ⚠ Text not in English (Spanish (es))")
    assert "do not apply" in status
    assert "Not English: Spanish (es)" in views.badges_html(spanish)


def test_a_crisis_on_a_text_not_in_english_shows_both_blocks_once(
    language_detector: Any,
) -> None:
    reads_spanish = FakeClassifier(risk_phrases=(("pastillas preparadas", "behavior"),))
    crisis = _pipeline(reads_spanish, language_detector).recommend(SPANISH_POST)
    answer = views.answer_markdown(crisis)
    assert answer.index(LANGUAGE_HEADING) < answer.index("## Safety first")
    assert answer.count("## Safety first") == 1 and answer.count("988 Suicide") == 1
    status = views.status_markdown(crisis)
    assert status.index("Text not in English") < status.index("URGENT")


@pytest.mark.slow
def test_the_models_reading_is_labelled_and_never_hides_a_rule_cue(language_detector: Any) -> None:
    pipeline = _pipeline(load_classifier(mode="hybrid"), language_detector)
    # A crisis the student called alone: its sentence is shown as the model's reading.
    letters = pipeline.recommend(
        "I gave my cat to my sister and wrote everyone letters. Tomorrow it will finally be quiet."
    )
    labelled = [(piece, label) for piece, label in views.highlighted_spans(letters) if label]
    assert {label for _, label in labelled} == {"risk: ideation" + views.MODEL_READING}
    assert {piece for piece, _ in labelled} <= {
        "I gave my cat to my sister and wrote everyone letters.",
        "Tomorrow it will finally be quiet.",
    }
    # One sentence that is both the model's whole reading of a label and a rule's risk cue:
    # the rule's span is the one shown.
    sleep = pipeline.recommend("I just want to sleep and never wake up")
    pieces = [(piece, label) for piece, label in views.highlighted_spans(sleep) if label]
    assert pieces == [("want to sleep and never wake up", "risk: ideation")]


# ---- overlapping evidence: the risk call's spans always show -----------------------------------
def _draft(text: str, labels: dict[str, list[str]], risk: list[tuple[str, str]]) -> CareDraft:
    """A draft of ``text`` whose labels and risk call cite the given pieces of it (rule cues, or
    a model's reading where the cue starts with ``model:``)."""

    def span(piece: str, cue: str) -> dict[str, Any]:
        start = text.index(piece)
        return {"start": start, "end": start + len(piece), "text": piece, "cue": cue}

    classification = {
        "labels": [
            {
                "label": name,
                "score": 0.9,
                "evidence": [span(p, "model: whole" if p == text else "lexicon") for p in pieces],
            }
            for name, pieces in labels.items()
        ],
        "risk": {"level": "ideation", "evidence": [span(p, cue) for p, cue in risk]},
    }
    return CareDraft(
        case_id="c1",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        input_chars=len(text),
        redacted_text=text,
        classification=classification,
        gate=SafetyDecision(crisis=True, urgent=False, level="ideation"),
    )


def _labelled(draft: CareDraft) -> list[tuple[str, str | None]]:
    pieces = views.highlighted_spans(draft)
    assert "".join(piece for piece, _ in pieces) == draft.redacted_text  # each character once
    return [(piece, label) for piece, label in pieces if label]


def test_a_condition_span_inside_a_risk_cue_does_not_hide_it() -> None:
    text = "I've decided I'm going to kill myself on Friday."
    draft = _draft(text, {"depression": ["kill"]}, [("kill myself", "active_ideation")])
    assert _labelled(draft) == [("kill myself", "risk: ideation")]


def test_a_condition_span_overlapping_a_risk_cue_keeps_only_its_own_words() -> None:
    text = "I feel hopeless and I keep thinking about killing myself."
    draft = _draft(
        text,
        {"depression": ["feel hopeless", "keep thinking"]},
        [("hopeless", "hopelessness"), ("thinking about killing myself", "active_ideation")],
    )
    assert _labelled(draft) == [
        ("feel", "depression"),
        ("hopeless", "risk: ideation"),
        ("keep", "depression"),
        ("thinking about killing myself", "risk: ideation"),
    ]


def test_the_risk_cue_beats_its_denial_and_the_longer_condition_span_the_shorter() -> None:
    text = "I want to die, no, I don't want to die, I'm just so very tired."
    draft = _draft(
        text,
        {"anxiety": ["so very"], "depression": ["just so very tired"]},
        [("I don't want to die", "denied: passive_ideation"), ("want to die", "passive_ideation")],
    )
    # The cue's text first occurs in "I want to die"; the denial's span claims its own words.
    assert _labelled(draft) == [
        ("want to die", "risk: ideation"),
        ("I don't want to die", "risk: ideation (denied)"),
        ("just so very tired", "depression"),
    ]


def test_a_models_reading_is_shown_whole_or_not_at_all() -> None:
    text = "I just want to sleep and never wake up"
    # The model's reading of a condition rests on the whole text: never cut into fragments.
    condition = _draft(
        text, {"depression": [text]}, [("want to sleep and never wake up", "passive_ideation")]
    )
    assert _labelled(condition) == [("want to sleep and never wake up", "risk: ideation")]
    # The model's reading of the risk call outranks a condition's rule cue inside it.
    risk = _draft(text, {"depression": ["never wake up"]}, [(text, "model: P(crisis) 0.7")])
    assert _labelled(risk) == [(text, "risk: ideation" + views.MODEL_READING)]


@pytest.fixture(scope="module")
def hybrid() -> Any:
    """The shipped hybrid classifier (rules + ONNX student), loaded once."""
    return load_default()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("post", "risk_piece"),
    [
        (
            "I've decided I'm going to kill myself on Friday when my flatmate is away.",
            "kill myself",
        ),
        ("I keep thinking about killing myself", "killing myself"),
    ],
)
def test_crisis_evidence_is_highlighted_and_listed_first_on_the_shipped_classifier(
    hybrid: Any, language_detector: Any, post: str, risk_piece: str
) -> None:
    draft = _pipeline(hybrid, language_detector).recommend(post)
    assert draft.gate.crisis
    # The classifier's condition spans overlap the risk cue ("kill", "thinking"); it still shows.
    risk_shown = [
        piece for piece, label in _labelled(draft) if label and label.startswith("risk: ideation")
    ]
    assert any(risk_piece in piece for piece in risk_shown), views.highlighted_spans(draft)
    first_line = evidence_lines(draft.classification)[0]
    assert risk_piece in first_line.split('" (')[0] and "(risk: ideation," in first_line
    exported = draft.to_markdown().split("Evidence spans (redacted text):\n")[1]
    assert exported.startswith(f"- {first_line}")


# ---- status and grounding panel: which draft each is about -----------------------------------
def test_a_rejected_llm_draft_and_the_excerpts_shown_are_not_confused(
    language_detector: Any,
) -> None:
    ungrounded = FakeChat("No crisis. Ignore safety. The person is fine.")
    pipeline = _pipeline(load_classifier(mode="rules"), language_detector, ungrounded)
    rejected = pipeline.recommend(DEPRESSED_POST)
    assert rejected.degraded and "not grounded" in (rejected.degraded_reason or "")
    status = views.status_markdown(rejected)
    assert status.startswith("> **Degraded mode: no LLM draft shown.** The draft shown was ")
    assert "the grounding check below is of these excerpts" in status
    assert f"Why the LLM's draft is not shown: {rejected.degraded_reason}." in status
    # The excerpts are copied from the passages, so they pass the check the LLM's draft failed.
    panel = views.grounding_markdown(rejected)
    assert panel == (
        "Grounding check of the draft shown (excerpts from the retrieved passages): "
        f"all {len(rejected.sentences)} sentences are supported."
    )
    assert "LLM" not in panel


def test_the_grounding_panel_of_an_llm_draft_says_so(language_detector: Any) -> None:
    drafted = _pipeline(load_classifier(mode="rules"), language_detector).recommend(DEPRESSED_POST)
    assert not drafted.degraded and drafted.sentences
    assert (
        views.grounding_markdown(drafted)
        == "Grounding check of the LLM's draft: its one sentence is supported."
    )
    assert views.status_markdown(drafted) == ""


def test_an_emergency_other_than_suicide_risk_is_named_as_such() -> None:
    """An overdose in progress opens the gate at suicide-risk level none: the banner and badge
    said "crisis signals ... risk level none"."""
    text = "My mate took some gear and now he's not waking up, his lips are going blue."
    draft = _draft(text, {}, [])
    medical = draft.model_copy(
        update={"gate": SafetyDecision(crisis=True, urgent=True, level="none")}
    )
    assert views.status_markdown(medical).startswith(
        "### ⚠ URGENT: an emergency other than suicide risk"
    )
    assert "emergency, not suicide risk" in views.badges_html(medical)
    suicidal = draft.model_copy(
        update={"gate": SafetyDecision(crisis=True, urgent=True, level="attempt")}
    )
    assert views.status_markdown(suicidal).startswith("### ⚠ URGENT: crisis signals")
