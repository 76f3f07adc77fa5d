"""validate_text: bad input gets a clear error; good input comes back NFC-normalised."""

from __future__ import annotations

import unicodedata

import pytest

from classifiers.base import InvalidTextError
from classifiers.text_checks import validate_text


def test_ordinary_text_comes_back_unchanged() -> None:
    text = "I can't sleep and I'm worried all the time. 😔\nAny advice?"
    assert validate_text(text) == text


def test_decomposed_unicode_is_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Café, naïve résumé")
    assert decomposed != "Café, naïve résumé"
    assert validate_text(decomposed) == "Café, naïve résumé"


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_or_whitespace_is_rejected(text: str) -> None:
    with pytest.raises(InvalidTextError, match="empty"):
        validate_text(text)


@pytest.mark.parametrize("text", ["\u200b", "\u200b\u200c\u200d", " \ufeff\u2060\n\u00ad "])
def test_only_invisible_characters_is_rejected_as_empty(text: str) -> None:
    with pytest.raises(InvalidTextError, match="empty"):
        validate_text(text)


def test_a_zero_width_joiner_inside_real_text_is_kept() -> None:
    text = "my family \U0001f468\u200d\U0001f469\u200d\U0001f467 is worried about me"
    assert validate_text(text) == text


def test_nul_bytes_are_rejected_as_binary() -> None:
    with pytest.raises(InvalidTextError, match="binary"):
        validate_text("PK\x03\x04\x00\x00 some zip header")


def test_many_control_characters_are_rejected_as_binary() -> None:
    junk = "".join(chr(c) for c in range(1, 9)) * 20 + "hello"
    with pytest.raises(InvalidTextError, match="binary"):
        validate_text(junk)


def test_mis_decoded_text_is_rejected() -> None:
    with pytest.raises(InvalidTextError, match="encoding"):
        validate_text("\ufffd\ufffd\ufffd\ufffd ab")


def test_a_stray_replacement_character_is_tolerated() -> None:
    text = "I feel a bit low today \ufffd but mostly ok, thanks for asking everyone."
    assert validate_text(text) == text


def test_unpaired_surrogates_are_rejected() -> None:
    broken = b"I feel \xff\xfe awful".decode("utf-8", errors="surrogateescape")
    with pytest.raises(InvalidTextError, match="undecodable"):
        validate_text(broken)


def test_too_long_text_names_the_limit() -> None:
    with pytest.raises(InvalidTextError, match="limit is 100"):
        validate_text("a" * 101, max_chars=100)
    assert validate_text("a" * 100, max_chars=100) == "a" * 100


def test_utf8_bytes_are_accepted_and_invalid_bytes_rejected() -> None:
    assert validate_text("naïve".encode()) == "naïve"
    with pytest.raises(InvalidTextError, match="UTF-8"):
        validate_text(b"caf\xe9 latte")


def test_non_text_is_rejected() -> None:
    with pytest.raises(InvalidTextError, match="expected text"):
        validate_text(12345)


def test_error_message_does_not_echo_the_text() -> None:
    secret = "my private story " * 10
    with pytest.raises(InvalidTextError) as info:
        validate_text(secret + "\x00")
    assert "private story" not in str(info.value)


def test_zero_width_spaces_between_words_become_spaces() -> None:
    """ "I want to\u200bkill\u200bmyself" hid an explicit plan from every pattern."""
    from classifiers.text_checks import strip_hidden

    assert validate_text("I\u200bwant to\u200bkill\u200bmyself") == "I want to kill myself"
    # beside a real space, or inside a word with a soft hyphen or a BOM: left out
    assert strip_hidden("\ufeffkill \u200bmy\u00adself") == "kill myself"
    # emoji joined by zero-width joiners are kept as they are
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert strip_hidden(family) == family
