"""C-SSRS-aligned suicide-risk cues and :func:`score_risk`.

Two sources feed the risk lexicon: the hand-written cues of ``lexicons/risk.yaml`` (always
there) and, when the ``construct-tracker`` package is installed, its validated Suicide Risk
Lexicon (Low et al., Apache-2.0), loaded at run time and never copied into this repository.
Its constructs are mapped onto C-SSRS levels by ``construct_tracker`` in ``risk.yaml``;
tokens found too generic on control posts are listed there and skipped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from classifiers.base import Evidence, RiskResult
from classifiers.labels import RISK_LEVELS, risk_rank
from classifiers.rules.context import ContextFlags
from classifiers.rules.patterns import CueSpec

logger = logging.getLogger(__name__)

CONSTRUCT_TRACKER_LEXICON = (
    "lexicons/suicide_risk_lexicon_v1-0/suicide_risk_lexicon_validated_24-08-02T21-27-35.json"
)
# Base score of each level when it is the highest one supported; more distinct cues and
# cues at the same level push the score up within the level's band.
_LEVEL_BASE = {"none": 0.0, "indicator": 0.25, "ideation": 0.55, "behavior": 0.75, "attempt": 0.85}
_LEVEL_SPAN = {"none": 0.1, "indicator": 0.2, "ideation": 0.18, "behavior": 0.1, "attempt": 0.12}
_MAX_EVIDENCE = 8


@dataclass(frozen=True)
class RiskHit:
    """One risk cue found in the text, with the level it supports after its context."""

    start: int
    end: int
    text: str
    cue: str
    level: str
    effective_level: str
    weight: float
    flags: ContextFlags
    source: str

    @property
    def counted(self) -> bool:
        """True when the hit supports any level for the writer."""
        return self.effective_level != "none"


# The writer denying suicidal thoughts in so many words. "I don't have the guts to kill
# myself" and "so that I wouldn't have to kill myself" are negated too, but they are not
# denials: only these forms are.
_SELF_HARM_ACT = (
    r"(?:die|be dead|kill myself|end (?:it all|it|my life)|take my (?:own )?life|commit suicide"
    r"|hurt myself|harm myself|do anything(?: stupid)?)"
)
_NO_HISTORY = (
    r"\bno\s+(?:known\s+|previous\s+|past\s+)?(?:history|hx)\s+of\s+(?:self[- ]?harm|"
    r"suicid\w*|overdoses?)"
)
_DENIAL_RE = re.compile(
    r"\bi\s*(?:'m|’m|am)\s+(?:not|n[o']t)\s+(?:\w+\s+){0,2}?suicidal\b"
    r"|\b(?:definitely|absolutely|really|honestly)?\s*not\s+suicidal\b"
    r"|\bi\s+(?:do\s+not|don'?t|don’t|dont)\s+(?:really\s+|actually\s+|even\s+)?"
    r"(?:want|wanna|plan|intend)\s+(?:to\s+)?"
    + _SELF_HARM_ACT
    + r"|\bi\s*(?:'m|’m|am)\s+not\s+(?:going|gonna|planning|about)\s+(?:to\s+)?"
    + _SELF_HARM_ACT
    + r"|\bi\s*(?:would|will|'d|’d)\s*(?:n't|n’t|not|never)\s+(?:ever\s+)?"
    + _SELF_HARM_ACT
    + r"|\bi\s+(?:won'?t|won’t|will never|would never)\s+(?:ever\s+)?"
    + _SELF_HARM_ACT
    + r"|\b(?:no|not\s+having\s+any|(?:do\s+not|don'?t|don’t)\s+have\s+any)\s+"
    r"(?:suicidal\s+)?(?:thoughts?|intentions?|plans?|urges?)\b(?:\s+(?:of|to|about)\s+"
    r"(?:suicide|killing myself|ending (?:it|my life)|dying|self[- ]harm))?"
    # a clinical note: "denies suicidal ideation, intent or plan", "denied any thoughts of suicide"
    r"|\bden(?:ies|ied|ying)\s+(?:any\s+|all\s+)?(?:current\s+|active\s+)?(?:suicidal\s+"
    r"(?:ideation|thoughts?|intent|plans?)|thoughts\s+of\s+(?:suicide|self[- ]harm|ending)|"
    r"(?:si|sih)\b)"
    # "I don't self harm or anything", "I've never cut myself"
    r"|\bi\s*(?:do\s+not|don'?t|don’t|dont|never|have\s+never|'ve\s+never|’ve\s+never|"
    r"have\s*n'?t\s+ever|haven’t\s+ever)\s+(?:ever\s+)?(?:self[- ]?harm(?:ed)?|"
    r"(?:cut|hurt|harm(?:ed)?)\s+myself)\b"
    r"|"
    + _NO_HISTORY
    # a note's shorthand: "Nil SI/SH", "No SI or thoughts of self-harm", "nil suicidal ideation"
    + r"|\b(?:nil|no)\s+(?:current\s+|active\s+)?(?:si|sh|dsh|suicidal\s+(?:ideation|thoughts?)|"
    r"thoughts\s+of\s+(?:suicide|self[- ]?harm))\b",
    re.IGNORECASE,
)
# A practitioner's note about a client: "She has never self-harmed or attempted suicide", "no
# history of self-harm". Only these forms deny for someone else ("My brother said he's not
# suicidal" is his word, reported).
_CLIENT_DENIAL_RE = re.compile(
    r"\b(?:has|have|had)\s+never\s+(?:self[- ]?harmed|attempted\s+suicide|overdosed|"
    r"tried\s+to\s+(?:kill|harm|hurt)\s+(?:him|her|them)sel(?:f|ves))|" + _NO_HISTORY,
    re.IGNORECASE,
)
# "I'm not suicidal, but ..." is often how ambivalence or passive ideation is put ("I don't
# want to die, but the pain of living gets stronger"; "I will never kill myself. But it's
# killing me"): a contrast after the denial, in its sentence or opening the next, voids it.
_CONTRAST_AFTER_RE = re.compile(
    r"[^.!?\n]*?\b(?:but|though|although|however|yet|except)\b"
    r"|[^.!?\n]*[.!?\n]+[\s\"'“”]*(?:but|though|although|however|yet|except)\b",
    re.IGNORECASE,
)
_DENIAL_SUBJECT_RE = re.compile(
    r"suicid|kill|die\b|dead|end (?:it|my)|life|hurt|harm|do anything|\b(?:d?sh|si)\b",
    re.IGNORECASE,
)


#: The denial forms by the context of the denied cue: the writer's ("I don't want to die"),
#: or a client's in a practitioner's note ("She has never self-harmed or attempted suicide").
_DENIAL_FORMS = {("negated",): _DENIAL_RE, ("negated", "third_person"): _CLIENT_DENIAL_RE}


def denial_hits(text: str, hits: Sequence[RiskHit]) -> tuple[RiskHit, ...]:
    """The hits where the writer denies suicidal thoughts ("I don't want to die or anything",
    "I am NOT suicidal", "I'm not going to kill myself"), each spanning the whole denial: a
    cue of ideation or above, first person, present, negated and inside one of the plain
    denial forms, with no "but" after it ("I'm not planning to kill myself, but it would be
    no great loss"). A practitioner's note denies for the client in its own forms ("She has
    never self-harmed or attempted suicide", "no history of self-harm"). Empty when any cue of
    the writer's at ideation or above counts ("I'm not suicidal; I wish I wouldn't wake up"), so
    a denial never hides ideation the rules see."""
    crisis = risk_rank("ideation")
    if any(risk_rank(h.effective_level) >= crisis for h in hits):
        return ()
    candidates = [
        h for h in hits if h.flags.reasons in _DENIAL_FORMS and risk_rank(h.level) >= crisis
    ]
    if not candidates:
        return ()
    spans = {
        reasons: [
            (m.start(), m.end())
            for m in forms.finditer(text)
            if _DENIAL_SUBJECT_RE.search(m.group(0))
            and not _CONTRAST_AFTER_RE.match(text, m.end(), m.end() + 400)
        ]
        for reasons, forms in _DENIAL_FORMS.items()
    }
    out = []
    for h in candidates:
        for a, b in spans[h.flags.reasons]:
            if a < h.end and h.start < b:
                # The whole denial is the evidence: "I don't want to die", not "want to die".
                start, end = min(a, h.start), max(b, h.end)
                out.append(dataclasses.replace(h, start=start, end=end, text=text[start:end]))
                break
    return tuple(out)


def past_ideation_hits(hits: Sequence[RiskHit], resolved: bool) -> tuple[RiskHit, ...]:
    """The writer's ideation cues that are history, in a text that says it is over ("I used to
    think about killing myself in high school. Not anymore, DBT changed my life"): ideation-level
    hits whose only context is the past (an indicator now), when ``resolved`` (the text says the
    difficulty is over and nothing says it is back, :func:`classifiers.rules.context.
    resolved_past`). Empty when any cue of the writer's at ideation or above counts, so history
    never hides a present cue; past behaviour and attempts keep their level and are not here
    (C-SSRS counts lifetime attempts)."""
    if not resolved:
        return ()
    crisis = risk_rank("ideation")
    if any(risk_rank(h.effective_level) >= crisis for h in hits):
        return ()
    return tuple(h for h in hits if h.flags.reasons == ("past",) and h.level == "ideation")


def effective_level(level: str, flags: ContextFlags) -> str:
    """The level a hit supports once its context is taken into account.

    Negated and third-person hits say nothing about the writer, nor does a figure of speech
    ("kill myself laughing") or a professional's question about people in general ("how do I
    screen my clients for self-harm?"). A quoted hit is somebody
    else's words, and "I used to be suicidal" is history: both count as an indicator only.
    Past attempts stay attempts (C-SSRS counts lifetime attempts) and past self-harm stays
    behaviour. Hypotheticals keep their level: "if this doesn't work I'll kill myself" is
    ideation, and a safety screen should rather over-call here.
    """
    if flags.negated or flags.third_person or flags.figurative or flags.generic:
        return "none"
    if flags.quoted:
        return "indicator" if risk_rank(level) >= risk_rank("indicator") else level
    if flags.past and level == "ideation":
        return "indicator"
    return level


def score_risk(hits: Sequence[RiskHit]) -> RiskResult:
    """The highest C-SSRS level the hits support, its evidence and a 0-1 score.

    Args:
        hits: Risk cues found in one text, with their effective levels.

    Returns:
        ``none`` with score 0 when nothing counts; otherwise the top level, with the evidence
        of that level first, then of lower levels (at most a few spans).
    """
    counted = [h for h in hits if h.counted]
    if not counted:
        return RiskResult(level="none", score=0.0, evidence=(), sources=("rules",))
    top = max(counted, key=lambda h: risk_rank(h.effective_level)).effective_level
    at_top = [h for h in counted if h.effective_level == top]
    strength = sum(h.weight for h in {(h.cue, h.effective_level): h for h in at_top}.values())
    below = sum(h.weight for h in counted if risk_rank(h.effective_level) < risk_rank(top))
    support = 1.0 - math.exp(-(strength + 0.3 * below))
    score = _LEVEL_BASE[top] + _LEVEL_SPAN[top] * support
    ordered = sorted(counted, key=lambda h: (-risk_rank(h.effective_level), h.start))
    evidence = []
    seen: set[tuple[int, int]] = set()
    for h in ordered:
        if (h.start, h.end) in seen:
            continue
        seen.add((h.start, h.end))
        evidence.append(Evidence(start=h.start, end=h.end, text=h.text, cue=h.cue))
        if len(evidence) >= _MAX_EVIDENCE:
            break
    return RiskResult(
        level=top, score=round(min(score, 0.99), 4), evidence=tuple(evidence), sources=("rules",)
    )


def load_construct_tracker_cues(config: Mapping[str, Any]) -> tuple[list[CueSpec], str]:
    """Risk cues from construct-tracker's Suicide Risk Lexicon, mapped to C-SSRS levels.

    Args:
        config: The ``construct_tracker`` block of ``risk.yaml``: ``levels`` (construct name to
            level), ``weights`` (level to weight) and ``exclude`` (tokens too generic to use).

    Returns:
        The cue specs and a short identifier of the lexicon version ("" when unavailable).
        When the package is missing or its data cannot be read, logs a warning and returns no
        cues: the hand-written cues still work.
    """
    try:
        from importlib.resources import files

        path = files("construct_tracker.data") / CONSTRUCT_TRACKER_LEXICON
        data = json.loads(path.read_text(encoding="utf-8"))
    except Exception as exc:  # any failure means "not available": degrade, do not crash
        logger.warning(
            "construct-tracker Suicide Risk Lexicon not available (%s: %s); using the "
            "hand-written risk cues only. Install with: pip install --no-deps "
            "construct-tracker==1.0.16",
            type(exc).__name__,
            exc,
        )
        return [], ""
    levels: Mapping[str, str] = config.get("levels", {})
    weights: Mapping[str, float] = config.get("weights", {})
    exclude = {str(t).lower() for t in config.get("exclude", [])}
    keep_single = {str(t).lower() for t in config.get("keep_single_words", [])}
    specs: list[CueSpec] = []
    for construct, level in levels.items():
        entry = data.get(construct)
        if entry is None:
            logger.warning("construct-tracker lexicon has no construct %r; skipped", construct)
            continue
        if level not in RISK_LEVELS:
            raise ValueError(f"risk.yaml maps {construct!r} to unknown level {level!r}")
        tokens = list(entry.get("tokens", []))
        # The list holds the raw tokens followed by their lemmatised forms ("kill I", "do with
        # live"), which never occur in real text; only the raw half is useful here.
        raw = tokens[: len(tokens) // 2] if len(tokens) % 2 == 0 else tokens
        cue = "ct:" + _slug(construct)
        for token in dict.fromkeys(str(t).strip() for t in raw):
            if not token or token.lower() in exclude:
                continue
            single = " " not in token
            if single and level == "indicator" and token.lower() not in keep_single:
                continue
            specs.append(
                CueSpec(
                    lexicon="risk",
                    cue=cue,
                    weight=float(weights.get(level, 0.5)),
                    pattern=_literal_pattern(token),
                    level=level,
                    source="construct_tracker",
                    # Short all-caps tokens ("OD", "NSSI") are abbreviations; as lower-case
                    # words they are ordinary English ("od" is rare, but "er" is not).
                    case_sensitive=token.isupper() and len(token) <= 4,
                )
            )
    return specs, f"ct{len(specs)}"


def _slug(construct: str) -> str:
    """``"Shame, self-disgust, & worthlessness"`` -> ``"shame_self_disgust_worthlessness"``."""
    words = [w for w in re.split(r"[^a-z]+", construct.lower()) if w]
    return "_".join(words)


def _literal_pattern(token: str) -> str:
    """A lexicon token as a pattern: regex characters escaped, spaces and apostrophes relaxed."""
    out = []
    for ch in token:
        if ch in "'’":
            out.append("'")
        elif ch == " ":
            out.append(" ")
        elif ch == "-":
            out.append("(?:-| )?")
        elif ch.isalnum():
            out.append(ch)
        else:
            out.append("\\" + ch)
    return "".join(out)
