"""The deterministic safety gate: decides what is a crisis, independent of any LLM.

A post is a crisis when the classifier's suicide risk is at ideation or above, or when the text
itself states intent, a plan, means or an act in progress (a small regex set of its own, so a
classifier miss on an explicit plan still opens the gate). It is urgent ("URGENT: same-day
assessment", with what the text describes) when the risk is behaviour or an attempt, or the text
gives a time, a worked-out plan, means or preparations; means and preparations count only beside
suicidal words or a classifier crisis ("bought a gun for deer season" is no crisis). A story the
writer says is over ("I tried to end my life when I was 20 ... I'm 45 now and genuinely happy")
stays a crisis at its level, so the practitioner asks, but is not urgent. A crisis decision carries a Markdown block - local crisis
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
from assistant.emergencies import (
    LAUGH_RE,
    MEDICAL_SIGNS,
    SAFEGUARDING_SIGNS,
    THREAT_TO_OTHERS,
    urgent_signs,
)
from assistant.language import language_name
from classifiers.labels import RISK_LEVELS, is_crisis, risk_rank
from classifiers.rules.context import is_past, resolved_past, split_sentences

if TYPE_CHECKING:
    from assistant.language import LanguageDetector
    from classifiers.base import Classification
    from knowledge_base.resources import CrisisResources


@dataclass(frozen=True)
class CrisisPattern:
    """One explicit-risk cue: a name for the reasons list, the level it implies, and the regex.

    ``urgent``: it makes the decision urgent, with ``why`` (what the text describes) in the
    block. ``needs_context``: it counts only beside suicidal words or a classifier crisis (a
    gun bought for hunting, things given away before a move).
    """

    name: str
    level: str
    pattern: re.Pattern[str]
    urgent: bool = False
    needs_context: bool = False
    why: str = ""


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_SELF = (
    r"(?:kill|end|off|hang|shoot|drown|poison)(?:ing)?\s+"
    r"(?:my\s*s(?:el|le)f|mysef|my\s+life|it\s+all)"
)
_DIE = (
    r"(?:"
    + _SELF
    + r"|end\s+it|(?<!'s\s)(?<!’s\s)(?<!his\s)(?<!her\s)(?<!their\s)suicide|die(?!\s+(?:if|of|laughing|from\s+embarrassment))"
    r"|not\s+wake\s+up|be\s+gone|jump\s+(?:off|from|in\s+front\s+of)\s+(?:the|a)\s+\w+"
    r"|take\s+(?:all\s+(?:of\s+)?)?my\s+(?:tablets|pills|meds)|(?:i'?m|i\s+am)\s+gone"
    # the words of young people's forums: "unalive myself", "ctb" (catch the bus), "kms"
    r"|unaliv(?:e|ing)\s+(?:my\s*self|me)|ctb|kms)"
)
_WHEN = (
    r"(?:tonight|tomorr?ow|tmrw|this\s+weekend|today|next\s+(?:week|month)|on\s+my\s+birthday|"
    r"(?:on\s+|this\s+|next\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))"
)
#: Means of suicide named in a plan.
_METHOD = (
    r"(?:car\s+exhaust|exhaust\s+fumes|hose\s?pipe|charcoal|carbon\s+monoxide|helium|noose|"
    r"ligature|the\s+rope|a\s+rope|(?:all\s+)?(?:the|my)\s+(?:pills|tablets)|the\s+(?:bridge|cliff|"
    r"viaduct|multi-?storey|car\s+park\s+roof|railway|train\s+line|tracks))"
)
#: Laughter or a joke in the sentence: "kill myself on Friday lol that meeting".
_JOKE_RE = LAUGH_RE
#: Suicidal words that give means or preparations their meaning (with a classifier crisis).
_SUICIDAL_CONTEXT_RE = re.compile(
    _DIE + r"|\bsuicid\w*|\bbetter\s+off\s+(?:dead|without\s+me)|\btake\s+my\s+(?:own\s+)?life",
    re.IGNORECASE,
)

#: Explicit intent, plan, means and acts. Deliberately first-person and specific: the classifier
#: handles vaguer ideation; these exist so an explicit plan can never slip through.
CRISIS_PATTERNS: tuple[CrisisPattern, ...] = (
    CrisisPattern(
        "intent",
        "ideation",
        _rx(
            r"\b(?:going|gonna|planning)\s+(?:to\s+)?(?:unaliv(?:e|ing)|ctb\b|kms\b)"
            r"|\b(?:i'?m|i\s+am|im)\s+(?:going|gonna|planning|about|ready)\s+(?:to\s+)?"
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
            r"\b"
            + _WHEN
            + r"\b[^.!?\n]{0,60}\b"
            + _DIE
            + r"|\b"
            + _DIE
            + r"\b[^.!?\n]{0,60}\b"
            + _WHEN
            + r"\b"
            # "I won't be around after tonight." (a reason after it, "... I'm flying out", is not)
            + r"|\b(?:i\s+)?(?:won'?t|will\s+not)\s+be\s+(?:around|here|alive)\s+(?:any\s*more\s+)?"
            r"(?:after|by|past)\s+" + _WHEN + r"\s*(?:[.!]|$)"
            r"|\bby\s+the\s+time\s+(?:you|anyone|someone)\s+reads?\s+this,?\s+i'?(?:ll|\s+will)\s+"
            r"be\s+(?:gone|dead)\b"
            r"|\btonight'?s\s+the\s+night\b[^\n]{0,40}\bi'?m\s+(?:done|finished|out)\b"
        ),
        urgent=True,
        why="a time for ending their life",
    ),
    CrisisPattern(
        "plan",
        "ideation",
        _rx(
            r"\b(?:worked|figured|thought)\s+out\s+(?:exactly\s+)?(?:how|which|when|where|"
            r"the\s+(?:date|day|time|place|spot|method|way|bridge))\b"
            r"|\b(?:picked|chosen|chose|set)\s+(?:a|the)\s+(?:date|day|time|place|spot|method|bridge)\b"
            r"|\b(?:know|decided|picked|chosen)\s+(?:exactly\s+)?(?:which|where|what)\s+(?:bridge|"
            r"building|place|spot|time|day|pills|rope|method)\b"
            r"|\b(?:when|after)\s+\w+\s+(?:is|are)\s+(?:away|out|asleep|gone)\b"
            r"|\b" + _WHEN + r"\b[^.!?\n]{0,40}\b(?:it'?ll|it\s+will)\s+(?:all\s+)?be\s+over\b"
            r"(?!\s+with)"
        ),
        urgent=True,
        needs_context=True,
        why="a worked-out plan",
    ),
    CrisisPattern(
        # A method and a time in one sentence, beside suicidal words or a classifier crisis:
        # "on Friday I can use the car exhaust in the garage" (the end of a long post the
        # student reads only the start of).
        "timed method",
        "ideation",
        _rx(
            r"\b"
            + _WHEN
            + r"\b[^.!?\n]{0,80}\b"
            + _METHOD
            + r"|\b"
            + _METHOD
            + r"\b[^.!?\n]{0,80}\b"
            + _WHEN
            + r"\b"
        ),
        urgent=True,
        needs_context=True,
        why="a worked-out plan",
    ),
    CrisisPattern(
        "means",
        "behavior",
        _rx(
            r"\b(?:tied|tying|made|making|bought|got|have)\s+(?:a\s+|the\s+)?noose\b"
            r"|\b(?:stockpil\w*|sav(?:ing|ed)\s+up|hoard\w*|collect\w*)\s+(?:\w+\s+){0,2}"
            r"(?:pills|tablets|meds|medication|painkillers|sleeping\s+pills)\b"
            r"|\b(?:enough|bottle\s+of)\s+(?:\w+\s+){0,2}(?:pills|tablets)\s+to\s+(?:die|end|kill)"
            r"|\b(?:wrote|written|writing|left)\s+(?:a|my)\s+(?:suicide|goodbye)\s+(?:note|letter)s?\b"
            # a ward or case note: "Ligature found in room this am"
            r"|\bligatures?\s+(?:was\s+|were\s+)?(?:found|discovered|made|tied|fashioned)\b"
            # "SI w/ plan to OD on home meds, +intent, +access" (not "denies SI with plan")
            r"|(?<!denies\s)(?<!denied\s)(?<!no\s)(?<!nil\s)\b(?:si|suicidal\s+ideation)\s+(?:w/|with)\s+"
            r"(?:a\s+|active\s+|clear\s+|specific\s+)?plan\b[^.\n]{0,60}?(?:\+\s*intent|\bwith\s+intent)"
        ),
        urgent=True,
        why="means or preparations for suicide",
    ),
    CrisisPattern(
        # Everyday on their own ("bought a gun for deer season", "giving away my stuff, we're
        # moving"): only beside suicidal words or a classifier crisis.
        "means",
        "behavior",
        _rx(
            r"\b(?:bought|buying|got|have|ordered)\s+(?:a\s+|the\s+)?(?:rope|gun|"
            r"pistol|firearm|razor\s+blades?|blades?)\b"
            r"|\b(?:has|have|with)\s+access\s+to\s+(?:a\s+|his\s+|her\s+|my\s+|the\s+)?(?:guns?|shotguns?|"
            r"firearms?|rifles?|pistols?)\b"
            r"|\bgiv(?:ing|en)\s+away\s+(?:all\s+)?my\s+(?:stuff|things|belongings|possessions)\b"
            r"|\b(?:written|wrote|writing)\s+(?:letters|notes)\s+to\s+(?:everyone|all\s+my|my\s+"
            r"(?:family|kids|children|parents|friends))\b"
            r"|\b(?:sorted|sorting)\s+out\s+who\s+(?:gets|will\s+get|takes|will\s+take|has)\b"
            # goodbyes and final arrangements: "said bye to everyone on discord", "written
            # letters to my sisters and sorted the will"
            r"|\b(?:said|saying|say)\s+(?:my\s+)?(?:good)?byes?\s+to\s+(?:everyone|everybody|"
            r"all\s+my|my\s+(?:family|friends|kids|mum|mom|dad|parents))\b"
            r"|\b(?:written|wrote|writing)\s+(?:letters|notes|a\s+letter)\s+to\s+(?:my\s+)?"
            r"(?:\w+\s+)?(?:sisters?|brothers?|kids|children|sons?|daughters?|wife|husband|mum|mom|"
            r"dad|parents|partner)\b"
            r"|\b(?:sorted|made|updated|wrote|written|finished|done)\s+(?:out\s+)?(?:my|the)\s+"
            r"(?:will|funeral\s+(?:plans|arrangements)|affairs)\b"
            # "I've been saving my sleeping pills for a month" ("saving up" needs no context)
            r"|\b(?:sav(?:ing|ed)|hid(?:ing|den)?)\s+(?:all\s+)?(?:of\s+)?my\s+"
            r"(?:\w+\s+)?(?:pills|tablets|meds|medication|painkillers)\b"
        ),
        urgent=True,
        needs_context=True,
        why="means or preparations beside suicidal thoughts",
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
            # an aborted attempt: "sat in the car in the garage with the engine running"
            r"|\b(?:sat|sitting|sit)\s+in\s+(?:the|my)\s+car\s+in\s+the\s+(?:closed\s+|shut\s+)?"
            r"garage\s+with\s+the\s+engine\s+(?:running|on)\b"
            r"|\b(?:had|put|tied|tying|held)\s+(?:the|a)\s+(?:rope|noose|ligature|belt|cord)\s+"
            r"(?:round|around)\s+my\s+neck\b"
            r"|\b(?:tried|attempted)\s+to\s+" + _SELF + r"|\bsuicide\s+attempt\b"
        ),
        urgent=True,
        why="a suicide attempt",
    ),
)
#: Someone else's attempt or self-harm ("He took an overdose last night"): in a practitioner's
#: follow-up on a case (``decide(context=True)``) whenever told, in a post only when recent (a
#: carer writing the night after); the person described is the one at risk.
_WHO = r"\b(?:he|she|they|my\s+\w+|the\s+(?:person|client|patient))\s+(?:has\s+|have\s+|had\s+|just\s+)?"
_REPORTED_ACT = CrisisPattern(
    "reported act",
    "attempt",
    _rx(
        _WHO
        + r"(?:took|taken|swallowed)\s+(?:an?\s+)?(?:overdose|all\s+(?:of\s+)?(?:his|her|their)\s+"
        r"(?:pills|tablets|meds))"
        r"|" + _WHO + r"(?:attempted\s+suicide|tried\s+to\s+(?:kill|hang|end)\s+(?:himself|herself|"
        r"themselves|(?:his|her|their)\s+life)|overdosed|cut\s+(?:himself|herself|themselves)|"
        r"(?:hurt|harmed|burn(?:ed|t))\s+(?:himself|herself|themselves))"
    ),
    urgent=True,
    why="a suicide attempt or self-harm of the person",
)
_THEIR_END = (
    r"(?:overdose|od|kill\s+(?:him|her|them)sel(?:f|ves)|(?:end|take)\s+(?:his|her|their)\s+"
    r"(?:own\s+)?life|hang\s+(?:him|her|them)sel(?:f|ves)|jump\s+(?:off|from|in\s+front\s+of)\s+"
    r"(?:the|a)\s+\w+)"
)
_THEY_MEAN = (
    r"(?:plan(?:s|ned|ning)?|intends?|intending|intention|going|gonna|decided|wants?)\s+to\s+"
)
#: Someone else's plan with a time, in a practitioner's note or a carer's message: "She has a
#: plan to overdose this weekend", "my son says he's going to kill himself tonight".
_REPORTED_PLAN = CrisisPattern(
    "reported plan",
    "ideation",
    _rx(
        r"\b" + _THEY_MEAN + _THEIR_END + r"\b[^.!?\n]{0,60}\b" + _WHEN + r"\b"
        r"|\b" + _WHEN + r"\b[^.!?\n]{0,60}\b" + _THEY_MEAN + _THEIR_END + r"\b"
    ),
    urgent=True,
    why="a time for ending their life",
)
#: Danger to someone else beside psychotic content (the classifier's psychosis label): "I'm
#: scared I might hurt my baby. I've been hearing that he is evil", "the voices tell me to hurt
#: people". Not a suicide-risk level, so it raises none; it makes the decision a crisis and
#: urgent. Harm obsessions of OCD ("thoughts of hurting him ... I avoid being alone with him")
#: carry no psychosis label and stay out, as they should; so do persecutory beliefs ("they're
#: poisoning him").
_OTHERS_AT_RISK = CrisisPattern(
    "danger to others",
    "none",
    _rx(
        r"\b(?:hurt|harm|kill|stab|drown|smother|strangle|attack|sacrifice)\w*\s+"
        r"(?:my\s+(?:baby|newborn|son|daughter|child|children|kids?|wife|husband|partner|mum|mom|"
        r"dad|mother|father|family|neighbou?rs?)|the\s+(?:baby|children|kids|neighbou?rs?)|"
        r"him|her|them|people|someone|somebody|everyone|others|neighbou?rs?|(?:his|her|their)\s+"
        r"(?:wife|husband|partner|mother|father|mum|mom|dad|baby|children|kids|son|daughter|"
        r"neighbou?rs?))\b"
    ),
    urgent=True,
    why=(
        "possible danger to someone else beside psychotic content (assess the risk to others "
        "and follow local safeguarding procedures)"
    ),
)
#: Dangerous withdrawal: the classifier's substance-use evidence of a medical risk (seizures,
#: hallucinations or confusion coming off alcohol or benzodiazepines; delirium tremens can kill
#: within hours; NICE CG100, CG115). Not a suicide-risk level, so it raises none; it makes the
#: decision a crisis and urgent, with emergency medical care as the first step. The regex is
#: unused: the rules' ``medical_risk`` cue finds it.
_MEDICAL_DANGER = CrisisPattern(
    "medical danger",
    "none",
    _rx(r"(?!)"),
    urgent=True,
    why=(
        "signs of dangerous withdrawal (seizures, hallucinations or confusion coming off alcohol "
        "or sedatives need emergency medical care, not a managed detox at home)"
    ),
)
#: The labels whose ``medical_risk`` evidence is an emergency of its own.
_MEDICAL_DANGER_LABELS = frozenset({"substance_use"})


#: A recent act: "last night", "this morning", "an hour ago", "just".
_RECENT_RE = re.compile(
    r"\b(?:last\s+night|yesterday|today|tonight|this\s+(?:morning|afternoon|evening|week)|"
    r"earlier|just|(?:an?|one|two|few|\d+)\s+(?:hours?|minutes?|days?)\s+ago|last\s+week)\b",
    re.IGNORECASE,
)
_IN_THE_PAST = "the attempt or self-harm is dated in the past: not urgent"
#: What an urgent classifier level describes, for the block.
_LEVEL_WHY = {"behavior": "self-harm or preparations for suicide", "attempt": "a suicide attempt"}

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

    def matches(self, text: str, context: bool = False) -> list[tuple[CrisisPattern, str]]:
        """Explicit cues in ``text`` as ``(pattern, matched phrase)``.

        ``context``: the classifier already sees a crisis. Cues that need context
        (``CrisisPattern.needs_context``) count only then, beside suicidal words in the text,
        or beside another cue that needs none.
        """
        hits: list[tuple[CrisisPattern, str]] = []
        for pattern in (*self.patterns, _REPORTED_ACT, _REPORTED_PLAN):
            for match in pattern.pattern.finditer(text):
                sentence = _sentence(text, match.start(), match.end())
                if _JOKE_RE.search(sentence):
                    continue  # "kill myself on Friday lol": the classifier decides
                if pattern is _REPORTED_ACT and not (context or _RECENT_RE.search(sentence)):
                    continue  # someone else's attempt in a post: only a recent one ("last night")
                hits.append((pattern, " ".join(match.group(0).split())))
                break
        context = (
            context
            or bool(_SUICIDAL_CONTEXT_RE.search(text))
            or any(not p.needs_context for p, _ in hits)
        )
        return [(p, phrase) for p, phrase in hits if context or not p.needs_context]

    def decide(
        self, classification: Classification | dict[str, Any], text: str, context: bool = False
    ) -> SafetyDecision:
        """Crisis, urgency, level and the crisis block for one text.

        Args:
            classification: The classifier's result (object or its ``to_dict()``).
            text: The (redacted) text the classification was made on.
            context: The text is a practitioner's follow-up on a case ("Update: they told me
                they bought a rope"), so means and preparations count without suicidal words
                of their own.

        Returns:
            The decision; ``block_markdown`` is empty when there is no crisis and the text is
            English (or unchecked).
        """
        risk = _risk_level(classification)
        level = risk if risk in RISK_LEVELS else "none"
        reasons: list[str] = []
        if is_crisis(level):
            reasons.append(f"classifier risk level: {level}")
        # A story the writer says is over: its attempt or self-harm is history, not an emergency.
        over = resolved_past(text)
        # An attempt or self-harm the text dates in the past ("Previous attempt 2 years ago",
        # "Hx of overdose in 2019"): a crisis to ask about (C-SSRS counts lifetime attempts),
        # not a same-day emergency on its own.
        history = risk_rank(level) >= risk_rank("behavior") and _dated_in_past(classification, text)
        why: list[str] = []
        if risk_rank(level) >= risk_rank("behavior") and not over and not history:
            why.append(_LEVEL_WHY[level])
        for pattern, phrase in self.matches(text, context=context or is_crisis(level)):
            reasons.append(f'explicit {pattern.name} cue: "{phrase}"')
            level = _level_max(level, pattern.level)
            past_act = pattern.name == "act" and _act_in_past(pattern, text)
            if past_act and not over and _IN_THE_PAST not in reasons:
                reasons.append(_IN_THE_PAST)
            if pattern.urgent and not (over and pattern.name == "act") and not past_act:
                why.append(pattern.why)
        if over and risk_rank(level) >= risk_rank("behavior"):
            reasons.append("the writer says it is over: not urgent")
        elif history and _IN_THE_PAST not in reasons:
            reasons.append(_IN_THE_PAST)
        others = _others_at_risk(classification, text)
        if others:
            reasons.append(f'explicit {_OTHERS_AT_RISK.name} cue: "{others}"')
            why.append(_OTHERS_AT_RISK.why)
        # emergencies other than the writer's suicide risk: medical, safeguarding, a threat
        emergency = _medical_danger(classification)
        if emergency:
            reasons.append(f'explicit {_MEDICAL_DANGER.name} cue: "{emergency}"')
            why.append(_MEDICAL_DANGER.why)
        for sign, phrase in urgent_signs(text):
            reasons.append(f'explicit {sign.name} cue: "{phrase}"')
            why.append(sign.why)
            emergency = emergency or phrase
        language = self.language.non_english(text) if self.language is not None else ""
        if language:
            reasons.append(
                f"text not in English, looks like {language_name(language)}: not assessed"
            )
        crisis = is_crisis(level) or bool(others) or bool(emergency)
        urgent = crisis and bool(why)
        return self._decision(crisis, urgent, level, reasons, language, tuple(dict.fromkeys(why)))

    def combine(self, first: SafetyDecision, second: SafetyDecision) -> SafetyDecision:
        """The stricter of two decisions (a follow-up can raise the level, never lower it)."""
        level = _level_max(first.level, second.level)
        reasons = first.reasons + [r for r in second.reasons if r not in first.reasons]
        language = first.language or second.language
        if (
            level == first.level
            and (first.crisis or not second.crisis)
            and (first.urgent or not second.urgent)
            and language == first.language
        ):
            return first.model_copy(update={"reasons": reasons})
        crisis = first.crisis or second.crisis
        urgent = first.urgent or second.urgent
        return self._decision(crisis, urgent, level, reasons, language, self._why(reasons))

    def _why(self, reasons: list[str]) -> tuple[str, ...]:
        """What an urgent decision describes, read back from its reasons (for a combined one)."""
        why: list[str] = []
        for reason in reasons:
            if reason.startswith("classifier risk level: "):
                level = reason.removeprefix("classifier risk level: ")
                if (
                    level in _LEVEL_WHY
                    and "the writer says it is over: not urgent" not in reasons
                    and _IN_THE_PAST not in reasons
                ):
                    why.append(_LEVEL_WHY[level])
            for pattern in (
                *self.patterns,
                _REPORTED_ACT,
                _REPORTED_PLAN,
                _OTHERS_AT_RISK,
                _MEDICAL_DANGER,
            ):
                if pattern.urgent and reason.startswith(f"explicit {pattern.name} cue:"):
                    if pattern.name == "act" and (
                        _IN_THE_PAST in reasons
                        or "the writer says it is over: not urgent" in reasons
                    ):
                        continue
                    why.append(pattern.why)
            for sign in (*MEDICAL_SIGNS, *SAFEGUARDING_SIGNS, THREAT_TO_OTHERS):
                if reason.startswith(f"explicit {sign.name} cue:"):
                    why.append(sign.why)
        return tuple(dict.fromkeys(why))

    def _decision(
        self,
        crisis: bool,
        urgent: bool,
        level: str,
        reasons: list[str],
        language: str,
        why: tuple[str, ...] = (),
    ) -> SafetyDecision:
        shown = crisis or bool(language)  # a block with resources is shown
        return SafetyDecision(
            crisis=crisis,
            urgent=urgent,
            level=level,
            reasons=reasons,
            block_markdown=self.block_markdown(
                urgent, language, crisis, why, suicidal=is_crisis(level) or not crisis
            )
            if shown
            else "",
            resources=self._resource_dicts() if shown else [],
            locale=self._locale(),
            language=language,
        )

    def block_markdown(
        self,
        urgent: bool,
        language: str = "",
        crisis: bool = True,
        why: tuple[str, ...] = (),
        suicidal: bool = True,
    ) -> str:
        """The block shown first: the not-English notice (when ``language``), then the urgency
        line (when ``crisis``; an urgent one says what the text describes, ``why``), local
        resources and the safety-planning outline (left out where the crisis is not a suicidal
        one, ``suicidal`` False: an overdose in progress, a child's disclosure, a threat to
        someone else, where a suicide safety plan is not the next step)."""
        lines: list[str] = []
        if language:
            lines += [f"## {LANGUAGE_HEADING}", "", language_notice(language), ""]
        if crisis:
            lines += ["## Safety first", ""]
        if crisis and urgent:
            described = " and ".join(why) if why else "suicidal behaviour or an attempt"
            # an emergency other than suicide risk carries its own next step in ``why``
            heading = "**URGENT: same-day assessment.**" if suicidal else "**URGENT.**"
            lines += [
                f"{heading} The text describes {described}. If there is immediate danger, "
                "contact emergency services now.",
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
        if not suicidal:
            return "\n".join(lines)
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


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence (or line) around ``text[start:end]``."""
    begin = max(text.rfind(c, 0, start) for c in ".!?\n") + 1
    ends = [i for i in (text.find(c, end) for c in ".!?\n") if i >= 0]
    return text[begin : min(ends) + 1 if ends else len(text)]


def _act_in_past(pattern: CrisisPattern, text: str) -> bool:
    """Every sentence the act cue is found in dates it in the past, with nothing recent in it
    ("Back in 2012 I overdosed on heroin ... 10 years clean this month")."""
    sentences = [_sentence(text, m.start(), m.end()) for m in pattern.pattern.finditer(text)]
    return bool(sentences) and all(
        is_past(sentence) and not _RECENT_RE.search(sentence) for sentence in sentences
    )


def _dated_in_past(classification: Classification | dict[str, Any], text: str) -> bool:
    """Every span the risk call rests on is in a sentence that puts it in the past, with
    nothing recent in it ("Previous attempt 2 years ago"); False without evidence."""
    if isinstance(classification, dict):
        evidence = [
            (int(e.get("start", 0)), int(e.get("end", 0)))
            for e in classification.get("risk", {}).get("evidence", [])
        ]
    else:
        evidence = [(e.start, e.end) for e in classification.risk.evidence]
    if not evidence:
        return False
    sentences = split_sentences(text)
    for start, end in evidence:
        sentence = next((text[a:b] for a, b in sentences if a <= start < b), text[start:end])
        if not is_past(sentence) or _RECENT_RE.search(sentence):
            return False
    return True


def _others_at_risk(classification: Classification | dict[str, Any], text: str) -> str:
    """The phrase of harm to someone else in a text the classifier reads as psychotic, or ""."""
    if isinstance(classification, dict):
        labels = {str(lab.get("label")) for lab in classification.get("labels", [])}
    else:
        labels = set(classification.label_names())
    if "psychosis" not in labels:
        return ""
    match = _OTHERS_AT_RISK.pattern.search(text)
    return " ".join(match.group(0).split()) if match else ""


def _medical_danger(classification: Classification | dict[str, Any]) -> str:
    """The evidence text of a medical emergency the classifier found (dangerous withdrawal), or
    ""."""
    if isinstance(classification, dict):
        labels = [
            (
                str(lab.get("label")),
                [(str(e.get("cue")), str(e.get("text"))) for e in lab.get("evidence", [])],
            )
            for lab in classification.get("labels", [])
        ]
    else:
        labels = [
            (lab.label, [(e.cue, e.text) for e in lab.evidence]) for lab in classification.labels
        ]
    for label, evidence in labels:
        if label in _MEDICAL_DANGER_LABELS:
            for cue, phrase in evidence:
                if cue == "medical_risk":
                    return " ".join(phrase.split())
    return ""


def _risk_level(classification: Classification | dict[str, Any]) -> str:
    if isinstance(classification, dict):
        return str(classification.get("risk", {}).get("level", "none"))
    return classification.risk.level
