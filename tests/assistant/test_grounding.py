"""Grounding check with the real embedding model: supported vs invented sentences, citations."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.extractive import NO_PRACTITIONER_PASSAGE, PLACEHOLDER_NOTES, extractive_draft
from assistant.grounding import UNSUPPORTED_MARKER, GroundingChecker, parse_citations
from retrieval.embeddings import SentenceTransformerEmbeddings
from tests.assistant.kb_samples import passage_dicts

pytestmark = pytest.mark.slow

BA, CBT = 1, 2  # positions of the behavioural-activation and CBT-referral samples


@pytest.fixture(scope="module")
def passages() -> list[dict[str, Any]]:
    return passage_dicts()


@pytest.fixture(scope="module")
def checker(embeddings: SentenceTransformerEmbeddings) -> GroundingChecker:
    return GroundingChecker(embeddings, threshold=0.45, mode="flag")


def _verdict(checker: GroundingChecker, sentence: str, passages: list[dict[str, Any]]):
    report = checker.check(sentence, passages)
    assert len(report.sentences) == 1
    return report.sentences[0]


@pytest.mark.parametrize(
    "sentence",
    [
        f"Plan one or two small activities each day, like a short walk, before you feel motivated [{BA}].",
        f"Write down what you do each hour and rate your mood from 0 to 10 [{BA}].",
        f"Offer individual cognitive behavioural therapy with a trained therapist [{CBT}].",
        f"Review progress within four weeks using the PHQ-9 [{CBT}].",
    ],
)
def test_paraphrase_of_the_cited_passage_is_supported(
    checker: GroundingChecker, passages: list[dict[str, Any]], sentence: str
) -> None:
    verdict = _verdict(checker, sentence, passages)
    assert verdict.supported, verdict
    assert verdict.score >= 0.45


@pytest.mark.parametrize(
    "sentence",
    [
        f"Eat three bananas a day to cure depression [{BA}].",
        f"Prescribe lithium immediately and stop all therapy [{CBT}].",
        f"Tell the person to stop therapy and rely on willpower [{CBT}].",
        "Drink a glass of wine before bed to relax [5].",
        f"The person has bipolar disorder and should move abroad [{BA}].",
    ],
)
def test_invented_sentence_is_unsupported_and_flagged(
    checker: GroundingChecker, passages: list[dict[str, Any]], sentence: str
) -> None:
    report = checker.check(sentence, passages)
    verdict = report.sentences[0]
    assert not verdict.supported
    assert verdict.score < 0.45
    assert report.unsupported_count == 1
    assert report.text.endswith(UNSUPPORTED_MARKER.strip())


def test_invented_number_is_never_supported(
    checker: GroundingChecker, passages: list[dict[str, Any]]
) -> None:
    verdict = _verdict(
        checker, f"Offer cognitive behavioural therapy over 40 sessions [{CBT}].", passages
    )
    assert not verdict.supported
    assert "40" in verdict.reason
    # The same claim with the passage's own number (written as a word there) is fine.
    assert _verdict(
        checker, f"Offer cognitive behavioural therapy over 16 sessions [{CBT}].", passages
    ).supported


def test_citing_the_wrong_passage_is_caught_and_the_right_one_named(
    checker: GroundingChecker, passages: list[dict[str, Any]]
) -> None:
    verdict = _verdict(
        checker, "Schedule small pleasant activities at set times each day [3].", passages
    )
    assert not verdict.supported
    assert verdict.best_passage == BA
    assert f"closest is [{BA}]" in verdict.reason


def test_citation_outside_the_retrieved_range_is_stripped_and_counts_as_uncited(
    checker: GroundingChecker, passages: list[dict[str, Any]]
) -> None:
    report = checker.check(
        "Behavioural activation plans small activities for low mood [9].", passages
    )
    verdict = report.sentences[0]
    assert "[9]" not in report.text and "[9]" not in verdict.text
    assert verdict.citations == [] and not verdict.supported
    assert "do not exist" in verdict.reason


def test_uncited_sentence_is_unsupported_even_when_true(
    checker: GroundingChecker, passages: list[dict[str, Any]]
) -> None:
    verdict = _verdict(checker, "Write down what you do each hour and rate your mood.", passages)
    assert not verdict.supported and verdict.reason == "no valid citation"


def test_remove_mode_drops_unsupported_sentences_and_keeps_the_rest(
    embeddings: SentenceTransformerEmbeddings, passages: list[dict[str, Any]]
) -> None:
    draft = (
        "## Steps the person can start\n"
        f"- Write down what you do each hour and rate your mood from 0 to 10 [{BA}]. "
        f"Eat three bananas a day to cure depression [{BA}].\n"
        "## For the practitioner\n"
        f"- Offer cognitive behavioural therapy with a trained therapist [{CBT}]."
    )
    report = GroundingChecker(embeddings, 0.45, mode="remove").check(draft, passages)
    assert "bananas" not in report.text
    assert "rate your mood" in report.text and "cognitive behavioural therapy" in report.text
    assert report.removed_count == 1 and report.unsupported_count == 1
    assert report.text.startswith("## Steps the person can start")
    assert "## For the practitioner" in report.text


def test_headings_and_connectives_are_not_checked(
    checker: GroundingChecker, passages: list[dict[str, Any]]
) -> None:
    report = checker.check("## For the practitioner\n\nAlso:\n---\n", passages)
    assert report.sentences == () and report.unsupported_count == 0
    assert "## For the practitioner" in report.text


def test_extractive_draft_is_fully_supported(
    checker: GroundingChecker, passages: list[dict[str, Any]]
) -> None:
    draft = extractive_draft(passages, "I feel low and can't sleep")
    report = checker.check(draft, passages)
    assert report.sentences and all(s.supported for s in report.sentences)
    cited = {n for s in report.sentences for n in s.citations}
    assert cited == set(range(1, len(passages) + 1))


def test_the_callers_notes_are_kept_but_not_checked(
    checker: GroundingChecker, passages: list[dict[str, Any]]
) -> None:
    draft = f"## For the practitioner\n\n{NO_PRACTITIONER_PASSAGE}"
    assert checker.check(draft, passages).unsupported_count == 1  # as a claim: uncited
    report = checker.check(draft, passages, notes=PLACEHOLDER_NOTES)
    assert report.sentences == () and report.unsupported_count == 0
    assert report.text.endswith(NO_PRACTITIONER_PASSAGE) and UNSUPPORTED_MARKER not in report.text


def test_parse_citations_keeps_valid_numbers_in_order() -> None:
    text, cites, invalid = parse_citations("Do this [2, 7] and that [1].", k=3)
    assert cites == [2, 1] and invalid == 1
    assert text == "Do this [2] and that [1]."
