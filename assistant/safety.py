"""The deterministic safety gate: decides what is a crisis, independent of any LLM.

A post is a crisis when the classifier's suicide risk is at ideation or above, or when the text
itself states intent, a plan, means or an act in progress (a small regex set of its own, so a
classifier miss on an explicit plan still opens the gate). Behaviour or attempt makes it urgent
("URGENT: same-day assessment"). A crisis decision carries a Markdown block - local crisis
resources and a Stanley-Brown safety-planning outline - that the pipeline always shows first; the
LLM's draft is appended after it and can never remove it.

The gate reads English only. Given a language detector (:mod:`assistant.language`), it also marks
a text that is confidently in another language: the decision carries the language and a block
that leads with a notice (the analysis cannot read the text, so nothing rules risk in or out;
read it yourself or with an interpreter and ask directly about suicidal thoughts), followed by
the crisis block when the classifier or a cue still opened the gate, else by the crisis
resources and the safety-plan outline. Such a block exists whether or not there is a crisis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.draft import SafetyDecision
from assistant.language import language_name
from classifiers.labels import RISK_LEVELS, is_crisis, risk_rank

if TYPE_CHECKING:
    from assistant.language import LanguageDetector
    from classifiers.base import Classification
    from knowledge_base.resources import CrisisResources


@dataclass(frozen=True)
class CrisisPattern:
    """One explicit-risk cue: a name for the reasons list, the level it implies, and the regex."""

    name: str
    level: str
    pattern: re.Pattern[str]


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_SELF = r"(?:kill|end|off|hang|shoot|drown|poison)\s+(?:myself|my\s*self|my\s+life|it\s+all)"
_DIE = r"(?:" + _SELF + r"|end\s+it|suicide|die|not\s+wake\s+up|be\s+gone)"

#: Explicit intent, plan, means and acts. Deliberately first-person and specific: the classifier
#: handles vaguer ideation; these exist so an explicit plan can never slip through.
CRISIS_PATTERNS: tuple[CrisisPattern, ...] = (
    CrisisPattern(
        "intent",
        "ideation",
        _rx(
            r"\b(?:i'?m|i\s+am|im)\s+(?:going|gonna|planning|about|ready)\s+(?:to\s+)?"
            + _DIE
            + r"|\b(?:i\s+)?(?:will|want\s+to|wanna|plan\s+to|intend\s+to|decided\s+to)\s+"
            + _SELF
            + r"|\bcommit(?:ting)?\s+suicide\b"
        ),
    ),
    CrisisPattern(
        "timing",
        "ideation",
        _rx(
            r"\b(?:tonight|tomorrow|this\s+weekend|today)\b[^.!?\n]{0,60}\b"
            + _DIE
            + r"|\b"
            + _DIE
            + r"\b[^.!?\n]{0,60}\b(?:tonight|tomorrow|this\s+weekend|today)\b"
        ),
    ),
    CrisisPattern(
        "means",
        "behavior",
        _rx(
            r"\b(?:bought|buying|got|have|ordered|tied)\s+(?:a\s+|the\s+)?(?:rope|noose|gun|"
            r"pistol|firearm|razor\s+blades?|blades?)\b"
            r"|\b(?:stockpil\w*|sav(?:ing|ed)\s+up|hoard\w*|collect\w*)\s+(?:\w+\s+){0,2}"
            r"(?:pills|tablets|meds|medication|painkillers|sleeping\s+pills)\b"
            r"|\b(?:enough|bottle\s+of)\s+(?:\w+\s+){0,2}(?:pills|tablets)\s+to\s+(?:die|end|kill)"
            r"|\b(?:wrote|written|writing|left)\s+(?:a|my)\s+(?:suicide|goodbye)\s+(?:note|letter)s?\b"
            r"|\bgiv(?:ing|en)\s+away\s+(?:all\s+)?my\s+(?:stuff|things|belongings|possessions)\b"
        ),
    ),
    CrisisPattern(
        "act",
        "attempt",
        _rx(
            r"\b(?:i\s+)?(?:just\s+)?(?:took|swallowed|taken)\s+(?:a\s+bunch\s+of\s+|all\s+(?:of\s+)?my\s+|"
            r"\d+\s+|a\s+lot\s+of\s+|too\s+many\s+)(?:\w+\s+){0,2}(?:pills|tablets|meds|painkillers)\b"
            r"|\b(?:i\s+)?(?:have\s+|just\s+)?overdosed\b"
            r"|\b(?:standing|sitting)\s+(?:on|at)\s+(?:the\s+)?(?:edge|ledge|bridge|roof|tracks)\b"
            r"|\bcut\s+(?:myself\s+)?too\s+deep\b"
            r"|\b(?:tried|attempted)\s+to\s+" + _SELF + r"|\bsuicide\s+attempt\b"
        ),
    ),
)

#: Stanley & Brown (2012) safety-planning steps, as an outline the practitioner fills in.
SAFETY_PLAN_STEPS: tuple[tuple[str, str], ...] = (
    ("Warning signs", "thoughts, moods, situations that come before a crisis"),
    ("Internal coping strategies", "things the person can do alone to take their mind off it"),
    ("People and social settings that provide distraction", "places and people to be around"),
    ("People to ask for help", "names and numbers of people the person can tell"),
    ("Professionals and crisis lines", "clinician, out-of-hours service, the lines below"),
    ("Making the environment safe", "reducing access to means (medication, weapons, ligatures)"),
)

#: Shown when no resources file could be loaded: a crisis block is never empty.
FALLBACK_RESOURCES_MD = (
    "- Emergency services - call your local emergency number (24/7)\n"
    "- Find A Helpline - findahelpline.com (directory of free crisis lines by country)"
)


def _level_max(a: str, b: str) -> str:
    return a if risk_rank(a) >= risk_rank(b) else b


#: Heading of the notice that leads the block of a text the gate cannot read.
LANGUAGE_HEADING = "Text not in English: not analysed"


def language_notice(code: str) -> str:
    """What the practitioner must know about a text in another language (Markdown paragraph)."""
    return (
        f"MindSignal reads English only, and this text looks like {language_name(code)}. Its "
        "analysis and risk check cannot read it, so nothing here rules risk in or out. Read the "
        "text yourself or with an interpreter, and ask the person directly about suicidal "
        "thoughts."
    )


class SafetyGate:
    """Decides crisis and urgency from the classification and explicit text cues.

    Args:
        resources: Crisis resources for the configured locale (``None``: generic fallback lines).
        patterns: Explicit-risk cues; defaults to :data:`CRISIS_PATTERNS`.
        language: Detector of texts not in English (``None``: no language check).
    """

    def __init__(
        self,
        resources: CrisisResources | None = None,
        patterns: tuple[CrisisPattern, ...] = CRISIS_PATTERNS,
        language: LanguageDetector | None = None,
    ) -> None:
        self.resources = resources
        self.patterns = patterns
        self.language = language

    def matches(self, text: str) -> list[tuple[CrisisPattern, str]]:
        """Explicit cues in ``text`` as ``(pattern, matched phrase)``."""
        hits: list[tuple[CrisisPattern, str]] = []
        for pattern in self.patterns:
            match = pattern.pattern.search(text)
            if match:
                hits.append((pattern, " ".join(match.group(0).split())))
        return hits

    def decide(self, classification: Classification | dict[str, Any], text: str) -> SafetyDecision:
        """Crisis, urgency, level and the crisis block for one text.

        Args:
            classification: The classifier's result (object or its ``to_dict()``).
            text: The (redacted) text the classification was made on.

        Returns:
            The decision; ``block_markdown`` is empty when there is no crisis and the text is
            English (or unchecked).
        """
        risk = _risk_level(classification)
        level = risk if risk in RISK_LEVELS else "none"
        reasons: list[str] = []
        if is_crisis(level):
            reasons.append(f"classifier risk level: {level}")
        for pattern, phrase in self.matches(text):
            reasons.append(f'explicit {pattern.name} cue: "{phrase}"')
            level = _level_max(level, pattern.level)
        language = self.language.non_english(text) if self.language is not None else ""
        if language:
            reasons.append(
                f"text not in English, looks like {language_name(language)}: not assessed"
            )
        crisis = is_crisis(level)
        urgent = risk_rank(level) >= risk_rank("behavior")
        return self._decision(crisis, urgent, level, reasons, language)

    def combine(self, first: SafetyDecision, second: SafetyDecision) -> SafetyDecision:
        """The stricter of two decisions (a follow-up can raise the level, never lower it)."""
        level = _level_max(first.level, second.level)
        reasons = first.reasons + [r for r in second.reasons if r not in first.reasons]
        language = first.language or second.language
        if (
            level == first.level
            and (first.crisis or not second.crisis)
            and language == first.language
        ):
            return first.model_copy(update={"reasons": reasons})
        crisis = first.crisis or second.crisis
        urgent = first.urgent or second.urgent
        return self._decision(crisis, urgent, level, reasons, language)

    def _decision(
        self, crisis: bool, urgent: bool, level: str, reasons: list[str], language: str
    ) -> SafetyDecision:
        shown = crisis or bool(language)  # a block with resources is shown
        return SafetyDecision(
            crisis=crisis,
            urgent=urgent,
            level=level,
            reasons=reasons,
            block_markdown=self.block_markdown(urgent, language, crisis) if shown else "",
            resources=self._resource_dicts() if shown else [],
            locale=self._locale(),
            language=language,
        )

    def block_markdown(self, urgent: bool, language: str = "", crisis: bool = True) -> str:
        """The block shown first: the not-English notice (when ``language``), then the urgency
        line (when ``crisis``), local resources and the safety-planning outline."""
        lines: list[str] = []
        if language:
            lines += [f"## {LANGUAGE_HEADING}", "", language_notice(language), ""]
        if crisis:
            lines += ["## Safety first", ""]
        if crisis and urgent:
            lines += [
                "**URGENT: same-day assessment.** The text describes suicidal behaviour or an "
                "attempt. If there is immediate danger, contact emergency services now.",
                "",
            ]
        elif crisis:
            lines += [
                "The text contains signals consistent with suicidal thoughts. Ask directly about "
                "suicidal thoughts, intent, plans and access to means, and assess risk before "
                "anything else.",
                "",
            ]
        region = f" ({self.resources.name})" if self.resources is not None else ""
        lines += [f"**Crisis resources{region}:**", ""]
        lines.append(self.resources.to_markdown() if self.resources else FALLBACK_RESOURCES_MD)
        lines += ["", "**Safety plan outline (Stanley & Brown), to complete with the person:**", ""]
        lines += [
            f"{i}. **{title}** - {hint}" for i, (title, hint) in enumerate(SAFETY_PLAN_STEPS, 1)
        ]
        return "\n".join(lines)

    def _resource_dicts(self) -> list[dict[str, Any]]:
        if self.resources is None:
            return []
        return [r.model_dump(mode="json") for r in self.resources.resources]

    def _locale(self) -> str:
        return self.resources.locale if self.resources is not None else ""


def _risk_level(classification: Classification | dict[str, Any]) -> str:
    if isinstance(classification, dict):
        return str(classification.get("risk", {}).get("level", "none"))
    return classification.risk.level
