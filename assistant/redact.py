"""Redaction of identifiers before any model or log sees a text.

Regex patterns find emails, URLs, phone numbers (international and national formats), @handles
and Reddit ``u/`` usernames, and street addresses (a house number followed by a street word);
names are found by cue heuristics ("my name is X", "I'm X", "called X", "Dr X", "my sister X",
sign-offs). Each hit is replaced by a typed placeholder such as ``[NAME]``; the returned
:class:`~assistant.draft.Redaction` records kind and offsets on the original text, never the value.

Why no NER model: no official spaCy English model is published on PyPI (only unofficial
re-uploads), and models from a hub are not allowed here; the heuristics are tested against
planted identifiers in ``tests/assistant/test_redact.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.draft import Redaction, RedactionKind

_EMAIL = re.compile(r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"')\]]+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|uk|de|fr|me|info|ly|gg|tv|app)"
    r"(?:/[^\s<>\"')\]]*)?",
    re.IGNORECASE,
)
# A phone number: optional +country code, then digit groups split by spaces, dots or dashes,
# 9-15 digits overall (E.164 allows up to 15); brackets around an area code are allowed.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d(?:[\s.-]?\d){6,13}(?!\w)"
)
_HANDLE = re.compile(
    r"(?<![\w/])(?:/?u/[A-Za-z0-9_-]{2,}|@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,30}[A-Za-z0-9_])?)"
)
_STREET_WORDS = (
    "street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|court|ct|place|pl|way|"
    "terrace|close|crescent|square|sq|highway|hwy|parkway|pkwy|circle|cir"
)
_ADDRESS = re.compile(
    r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][a-zA-Z'-]+\s+){1,3}(?i:" + _STREET_WORDS + r")\b\.?",
)
# Capitalised word(s) = a name candidate; up to three tokens ("Mary Ann Smith").
_NAME_TOKENS = r"([A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+){0,2})"
_NAME_CUES = [
    # "my name is Sam", "name's Sam", "I am called Sam", "they call me Sam"
    re.compile(
        r"\b(?i:my name is|my name's|name is|names is|call me|called|named)\s+" + _NAME_TOKENS
    ),
    # "I'm Sam", "I am Sam" - only when followed by a capitalised non-common word
    re.compile(r"\b(?:I'm|I’m|Im|I am|(?i:this is))\s+" + _NAME_TOKENS),
    # Titles: "Dr Patel", "Mrs. Jones"
    re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof)\.?\s+" + _NAME_TOKENS),
    # Relations: "my sister Anna", "my therapist, John"
    re.compile(
        r"\b(?i:my|our|his|her|their)\s+(?i:(?:(?:ex|best|older|younger|little|big|step)[\s-]?)?"
        r"(?:friend|boyfriend|girlfriend|partner|husband|wife|sister|brother|mom|mum|mother|dad|"
        r"father|son|daughter|cousin|aunt|uncle|therapist|counsellor|counselor|doctor|gp|"
        r"psychiatrist|teacher|boss|roommate|flatmate|coworker|colleague|fiance|fiancee|"
        r"grandma|grandpa|grandmother|grandfather|niece|nephew))\s*,?\s+" + _NAME_TOKENS
    ),
    # Sign-offs at the end of a post: "Thanks, Sam" / "- Sam"
    re.compile(
        r"(?:^|\n)\s*(?i:thanks|thank you|cheers|regards|best|love|xoxo|-|—)[,!.]?\s+"
        + _NAME_TOKENS
        + r"\s*$"
    ),
    # Bare capitalised words elsewhere are too ambiguous; a name found by a cue is redacted
    # wherever else it appears (second pass in _name_spans).
]
# Capitalised words that follow "I'm" or "called" but are not names.
_NOT_NAMES_TEXT = """
    I Im Me My Mine We Us You He She They It The A An And But Or So Not No Yes Just Really Very
    Still Also Always Never Sorry Sure Fine Ok Okay Tired Done Sad Scared Afraid Alone Lonely
    Going Trying Feeling Getting Being Having Doing Here There This That These Those What When
    Why How Who Which Where Today Tomorrow Yesterday Tonight Monday Tuesday Wednesday Thursday
    Friday Saturday Sunday January February March April May June July August September October
    November December English American British Canadian Australian Christian Muslim Jewish
    Catholic God Jesus Lord Reddit Google Facebook Instagram Twitter Tiktok Discord Youtube
    Depressed Anxious Bipolar Autistic Suicidal Trans Gay Lesbian Bi Queer New Old Good Bad
    Happy Better Worse Worried Exhausted Overwhelmed Stuck Lost Broken Numb Hopeless Ready
    Afraid Like Kinda Sick Fat Ugly Stupid Useless Worthless Honestly Basically Literally
    Currently Finally Almost About Over Under In On At To From Of For With Without By Because If
    Then Since Until While Nothing Everything Something Someone Anyone Everyone Nobody Dr Mr Mrs
    Ms Miss Prof Adhd Ocd Ptsd Bpd Cptsd Gad Mdd Hi Hello Hey Thanks Thank Please Help Mom Mum
    Dad Mother Father Pretty
"""
_NOT_NAMES = frozenset(w.casefold() for w in _NOT_NAMES_TEXT.split())


@dataclass(frozen=True)
class RedactionResult:
    """The redacted text and what was replaced (offsets on the original text)."""

    text: str
    redactions: tuple[Redaction, ...]

    @property
    def count(self) -> int:
        return len(self.redactions)


def _name_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for pattern in _NAME_CUES:
        for match in pattern.finditer(text):
            start = match.start(1)
            tokens = match.group(1).split()
            # Keep the leading run of tokens that are not common words ("I'm Sam And" -> "Sam").
            kept: list[str] = []
            for tok in tokens:
                if tok.strip("'’").casefold() in _NOT_NAMES:
                    break
                kept.append(tok)
            if not kept:
                continue
            name = " ".join(kept)
            spans.append((start, start + len(name)))
    # Second pass: a name found by a cue is redacted everywhere else it appears too.
    names = {text[s:e] for s, e in spans}
    for name in names:
        for first in {name, name.split()[0]}:
            if len(first) < 3:
                continue
            for match in re.finditer(r"\b" + re.escape(first) + r"\b", text):
                spans.append(match.span())
    return spans


def find_identifiers(text: str) -> list[tuple[RedactionKind, int, int]]:
    """All identifier spans in ``text`` as ``(kind, start, end)``, non-overlapping, in order."""
    found: list[tuple[int, RedactionKind, int, int]] = []  # (priority, kind, start, end)
    for priority, (kind, pattern) in enumerate(
        (
            ("EMAIL", _EMAIL),
            ("URL", _URL),
            ("HANDLE", _HANDLE),
            ("ADDRESS", _ADDRESS),
            ("PHONE", _PHONE),
        )
    ):
        for match in pattern.finditer(text):
            start, end = match.span()
            value = match.group(0).rstrip(".,;:!?")
            end = start + len(value)
            if kind == "PHONE" and sum(c.isdigit() for c in value) < 7:
                continue
            found.append((priority, kind, start, end))  # type: ignore[arg-type]
    for start, end in _name_spans(text):
        found.append((9, "NAME", start, end))
    # Earlier start wins; at the same start the higher-priority (then longer) match wins.
    found.sort(key=lambda f: (f[2], f[0], -(f[3] - f[2])))
    result: list[tuple[RedactionKind, int, int]] = []
    last_end = -1
    for _, kind, start, end in found:
        if start >= last_end and end > start:
            result.append((kind, start, end))
            last_end = end
    return result


def redact_text(text: str) -> RedactionResult:
    """Replace identifiers with typed placeholders such as ``[EMAIL]`` and ``[NAME]``.

    Args:
        text: The original text.

    Returns:
        The redacted text and one :class:`Redaction` per replaced span (original offsets).
    """
    spans = find_identifiers(text)
    pieces: list[str] = []
    cursor = 0
    redactions: list[Redaction] = []
    for kind, start, end in spans:
        pieces.append(text[cursor:start])
        pieces.append(f"[{kind}]")
        redactions.append(Redaction(kind=kind, start=start, end=end))
        cursor = end
    pieces.append(text[cursor:])
    return RedactionResult(text="".join(pieces), redactions=tuple(redactions))
