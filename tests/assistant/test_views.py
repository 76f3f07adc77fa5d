"""What the UI shows for a draft: the gate's block first, banners and badges.

Drafts come from the real pipeline (rules classifier, real gate, resources and language check)
with a fixed retriever and a scripted chat model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant import views
from assistant.draft import CareDraft
from assistant.grounding import GroundingChecker
from assistant.pipeline import CarePipeline, PipelineConfig
from assistant.safety import LANGUAGE_HEADING, SafetyGate
from classifiers.factory import load_classifier
from knowledge_base.resources import load_crisis_resources
from tests.assistant.kb_samples import sample_passages
from tests.fakes import FakeChat, FakeClassifier, FakeEncoder, FakeRetriever, make_passage

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SPANISH_POST = "No quiero vivir más. Tengo las pastillas preparadas para esta noche."
REPLY = "- Write down what you do each hour and rate your mood from 0 to 10 [1]."


def _pipeline(classifier: Any, language_detector: Any) -> CarePipeline:
    passages = [make_passage(i, p.text, p.title) for i, p in enumerate(sample_passages(), 1)]
    return CarePipeline(
        classifier=classifier,
        retriever=FakeRetriever(passages[:3]),
        gate=SafetyGate(
            load_crisis_resources(PROJECT_ROOT / "knowledge_base" / "resources", "en-US"),
            language=language_detector,
        ),
        grounding=GroundingChecker(FakeEncoder(), threshold=0.45),
        chat=FakeChat(REPLY),
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
