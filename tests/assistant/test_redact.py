"""Redaction: every planted identifier is replaced by its typed placeholder; clinical text stays."""

from __future__ import annotations

import pytest

from assistant.redact import find_identifiers, redact_text

PLANTED_POST = (
    "Hi, my name is Jessica Turner and I'm really struggling. My sister Anna says I should email "
    "her at jess.turner99@gmail.com or call +44 7700 900123, or my cell (555) 123-4567. "
    "I live at 42 Maple Street and posted as u/sadgirl_99 and @jess_t on twitter, see "
    "https://reddit.com/r/depression/comments/abc123 and www.jessblog.net/about. "
    "Dr. Patel says my mood is low. Jessica is tired all the time.\nThanks, Jess"
)
IDENTIFIERS = (
    "Jessica",
    "Turner",
    "Anna",
    "jess.turner99@gmail.com",
    "7700 900123",
    "123-4567",
    "42 Maple Street",
    "sadgirl_99",
    "@jess_t",
    "reddit.com/r/depression",
    "jessblog",
    "Patel",
    "Jess",
)


def test_every_planted_identifier_is_removed() -> None:
    result = redact_text(PLANTED_POST)
    for value in IDENTIFIERS:
        assert value not in result.text, f"{value!r} survived redaction"
    for placeholder in ("[NAME]", "[EMAIL]", "[PHONE]", "[URL]", "[HANDLE]", "[ADDRESS]"):
        assert placeholder in result.text


def test_clinical_content_is_kept() -> None:
    text = redact_text(PLANTED_POST).text
    for phrase in ("really struggling", "my mood is low", "tired all the time", "I live at"):
        assert phrase in text


def test_offsets_point_at_the_original_values_and_no_value_is_stored() -> None:
    result = redact_text(PLANTED_POST)
    spans = {PLANTED_POST[r.start : r.end]: r.kind for r in result.redactions}
    assert spans["jess.turner99@gmail.com"] == "EMAIL"
    assert spans["42 Maple Street"] == "ADDRESS"
    assert spans["Jessica Turner"] == "NAME"
    assert spans["u/sadgirl_99"] == "HANDLE"
    assert spans["+44 7700 900123"] == "PHONE"
    dumped = str([r.model_dump() for r in result.redactions])
    assert "gmail" not in dumped and "Jessica" not in dumped


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("reach me on 020 7946 0958 tonight", "PHONE"),
        ("my number is +1-202-555-0143", "PHONE"),
        ("call 555.867.5309", "PHONE"),
        ("I'm /u/throwaway_123 on here", "HANDLE"),
        ("email first.last+tag@uni.ac.uk", "EMAIL"),
        ("see http://example.org/x?y=1", "URL"),
        ("we moved to 1600 Pennsylvania Avenue last year", "ADDRESS"),
        ("I'm Sam and I can't sleep", "NAME"),
        ("they call me Lou", "NAME"),
        ("my therapist, Maria Lopez, left", "NAME"),
        ("My best friend Tom stopped calling", "NAME"),
    ],
)
def test_identifier_kinds(text: str, kind: str) -> None:
    kinds = [k for k, _, _ in find_identifiers(text)]
    assert kind in kinds


@pytest.mark.parametrize(
    "text",
    [
        "I've had 3 panic attacks since 2019 and slept 4 hours a night for 2 weeks.",
        "I'm Really tired. I'm Not okay. I'm so Done with everything.",
        "I took 20mg of sertraline at 10.30 and my PHQ-9 score was 17.",
        "I called Mom yesterday and she didn't answer.",
        "My therapist says CBT might help.",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text).text == text


def test_text_without_identifiers_round_trips() -> None:
    result = redact_text("Nothing identifying here, just a bad week.")
    assert result.count == 0
    assert result.text == "Nothing identifying here, just a bad week."
