"""Case sessions: follow-up vs new case, bounded history, reset."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from assistant.draft import CareDraft, SafetyDecision
from assistant.session import CaseBusyError, CaseSession

LONG_NEW_POST = (
    "I'm 34 and for the last two months I have barely left my flat. I used to go climbing every "
    "weekend and now I can't even answer messages from friends. Work is piling up, I sleep twelve "
    "hours and still wake exhausted, and I have stopped cooking. Everything feels grey and "
    "pointless and I don't recognise myself anymore. My partner is worried and keeps asking what "
    "is wrong but I don't have an answer. I keep thinking I should be able to snap out of it. "
    "Some days I just sit in the car outside work for an hour before I can go in."
)


def _draft() -> CareDraft:
    return CareDraft(
        case_id="case1",
        created_at=datetime.now(UTC),
        input_chars=10,
        redacted_text="x",
        classification={"labels": [], "severity": {"level": "mild"}, "risk": {"level": "none"}},
        gate=SafetyDecision(crisis=False, urgent=False, level="none"),
    )


def test_without_a_case_nothing_is_a_follow_up() -> None:
    assert not CaseSession().is_follow_up("make it shorter")


@pytest.mark.parametrize(
    "message",
    [
        "make it shorter",
        "The person is 16",
        "What about sleep?",
        "Can you focus on the practitioner section and add something about school support for a "
        "teenager, since the person is still living with their parents and studying for exams?",
        "they have tried CBT before",
    ],
)
def test_follow_ups_keep_the_case(message: str) -> None:
    session = CaseSession()
    session.start_case(_draft())
    assert session.is_follow_up(message)


@pytest.mark.parametrize(
    ("message", "follow_up"),
    [
        # a person's own words: a new post, however short
        (
            "I keep hearing voices telling me I'm worthless and the neighbours are spying on me",
            False,
        ),
        ("I can't stop crying and I haven't eaten in days.", False),
        ("I feel like nothing matters anymore.", False),
        # the practitioner, in the first person, on the case
        ("I think she's worse than the post suggests", True),
        ("I'd like it shorter", True),
        ("I want you to focus on sleep", True),
        ("I'm worried about her safety", True),
        ("I have seen her twice this week", True),
        # another case announced: a new case whatever it says about "she"
        ("Next client: 19yo F, she has been bingeing and purging daily.", False),
        ("Pt 2: he reports hearing voices.", False),
        ("New post - she says she can't go on.", False),
    ],
)
def test_first_person_words_are_a_new_post_unless_they_speak_of_the_person(
    message: str, follow_up: bool
) -> None:
    session = CaseSession()
    session.start_case(_draft())
    assert session.is_follow_up(message) is follow_up


def test_long_new_post_is_a_new_case() -> None:
    session = CaseSession()
    session.start_case(_draft())
    assert not session.is_follow_up(LONG_NEW_POST)


def test_history_is_bounded_and_keeps_the_latest_turns() -> None:
    session = CaseSession(max_history_turns=2)
    session.start_case(_draft(), llm_text="original draft")
    for i in range(5):
        session.add_exchange(f"request {i}", f"answer {i}")
    contents = [m["content"] for m in session.messages()]
    assert contents == ["original draft", "request 3", "answer 3", "request 4", "answer 4"]


def test_new_case_resets_history() -> None:
    session = CaseSession()
    session.start_case(_draft(), llm_text="first")
    session.add_exchange("shorter", "short")
    session.start_case(_draft(), llm_text="second")
    assert session.messages() == [{"role": "assistant", "content": "second"}]
    session.reset()
    assert not session.has_case and session.messages() == []


def test_prompt_history_is_cut_to_fit_the_context_keeping_the_latest() -> None:
    session = CaseSession(max_history_turns=8)
    session.start_case(_draft(), llm_text="original draft")
    for i in range(4):
        session.add_exchange(f"request {i}", f"answer {i} " + "x" * 3000)
    contents = [m["content"] for m in session.messages(max_chars=7000)]
    assert contents[0] == "original draft"
    assert contents[1:3] == ["request 2", "answer 2 " + "x" * 3000]
    assert contents[-2] == "request 3"
    assert len(contents) == 5


def test_a_session_takes_one_turn_at_a_time_and_is_freed_however_a_turn_ends() -> None:
    session = CaseSession()
    with session.turn():
        assert session.busy
        with pytest.raises(CaseBusyError, match="still being written"), session.turn():
            pytest.fail("a second turn ran beside the first")
        assert session.busy, "the refused turn did not release the running one"
    assert not session.busy
    with pytest.raises(ValueError), session.turn():
        raise ValueError("the draft failed")
    assert not session.busy, "a failed turn frees the session"


def test_a_turn_held_by_a_stream_is_freed_when_another_thread_closes_it() -> None:
    """Gradio runs each step of a streamed answer on a free worker thread and closes an abandoned
    stream from its event loop: the turn is released by a thread that did not take it."""
    session = CaseSession()

    def answer() -> Iterator[str]:
        with session.turn():
            yield "first words"
            yield "more words"

    stream = answer()
    worker = threading.Thread(target=next, args=(stream,))
    worker.start()
    worker.join(10)
    assert session.busy
    stream.close()
    assert not session.busy
