"""Checks every text passes before any classifier sees it.

Bad input must fail loudly with a message a practitioner can act on (and never echo the text
itself, which is sensitive), instead of producing a confident-looking result for garbage.
"""

from __future__ import annotations

import re
import unicodedata

from classifiers.base import InvalidTextError

# C0/C1 control characters that never occur in typed prose (tab, newlines and form feed do).
_CONTROL_RE = re.compile("[\x01-\x08\x0e-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Above this share of odd characters the "text" is almost certainly a binary file or a
# mis-decoded one (a few stray characters in a long post are normal, a tenth is not).
_MAX_CONTROL_SHARE = 0.02
# Separators and format characters (U+200B zero-width space, U+2060 word joiner, U+FEFF ...): a
# text made only of these shows nothing on screen and gives a classifier nothing to read.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cf", "Cc"})
# Characters that show nothing: "to\u200bkill\u200bmyself" hides "kill myself" from every
# pattern and tokenizer. A zero-width space is a word break by definition and becomes a space
# where it stands between two words; the others here (soft hyphen, word joiner, invisible
# operators, byte-order mark) sit inside a word and are left out. Zero-width joiners and
# non-joiners stay: they build emoji ("family" is three emoji joined) and some scripts.
_HIDDEN_RE = re.compile("[\u00ad\u180e\u200b\u2060-\u2064\ufeff]")
_ZW_SPACE_RE = re.compile("(?<=\\S)\u200b+(?=\\S)")
_MAX_REPLACEMENT_SHARE = 0.10
_MIN_REPLACEMENTS = 3


def validate_text(text: object, max_chars: int = 50_000) -> str:
    """Check one input text and return it normalised to Unicode NFC.

    Args:
        text: The text to classify. ``bytes`` are accepted only when they are valid UTF-8.
        max_chars: Longest text accepted, counted after normalisation.

    Returns:
        The text without hidden characters (:func:`strip_hidden`), NFC-normalised; evidence
        spans of the classifiers index this string.

    Raises:
        InvalidTextError: The text is not a string, is empty or holds only whitespace and
            invisible characters (zero-width spaces and other format characters), looks binary
            (NUL bytes, control characters), looks mis-decoded (many U+FFFD characters,
            unpaired surrogates) or is longer than ``max_chars``.
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidTextError(
                f"text is not valid UTF-8 (undecodable byte at position {exc.start}); "
                "save the file as UTF-8 and try again"
            ) from None
    if not isinstance(text, str):
        raise InvalidTextError(f"expected text (a string), got {type(text).__name__}")
    if not text.strip():
        raise InvalidTextError("text is empty or only whitespace; nothing to classify")
    if "\x00" in text:
        raise InvalidTextError(
            "text contains NUL characters and looks like a binary file, not prose"
        )
    if _SURROGATE_RE.search(text):
        raise InvalidTextError(
            "text contains undecodable bytes (unpaired surrogates); re-read the file as UTF-8"
        )
    controls = len(_CONTROL_RE.findall(text))
    if controls > max(2, _MAX_CONTROL_SHARE * len(text)):
        raise InvalidTextError(
            f"text has {controls} control characters and looks like binary data, not prose"
        )
    if not any(unicodedata.category(ch) not in _INVISIBLE_CATEGORIES for ch in text):
        raise InvalidTextError(
            "text is empty: it holds only whitespace and invisible characters (zero-width "
            "spaces, joiners, byte-order marks); nothing to classify"
        )
    replacements = text.count("\ufffd")
    if replacements >= _MIN_REPLACEMENTS and replacements > _MAX_REPLACEMENT_SHARE * len(text):
        raise InvalidTextError(
            f"text has {replacements} replacement characters (U+FFFD): it was decoded with the "
            "wrong encoding; re-read it as UTF-8"
        )
    text = unicodedata.normalize("NFC", strip_hidden(text))
    if len(text) > max_chars:
        raise InvalidTextError(
            f"text is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Split it into smaller parts (or raise classifier.max_chars)"
        )
    return text


def strip_hidden(text: str) -> str:
    """``text`` without invisible characters (zero-width spaces, soft hyphens, word joiners, a
    byte-order mark; a zero-width space between two words becomes a space): "I want
    to\u200bkill\u200bmyself" hid an explicit plan from every pattern. Zero-width joiners stay
    (emoji sequences)."""
    if not _HIDDEN_RE.search(text):
        return text
    return _HIDDEN_RE.sub("", _ZW_SPACE_RE.sub(" ", text))
