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
    UrgentSign,
    urgent_signs,
)
from assistant.language import language_name
from classifiers.labels import RISK_LEVELS, is_crisis, risk_rank
from classifiers.rules.context import coercion_spans, is_past, resolved_past, split_sentences

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
#: Someone the writer describes: "he", "my son", "my 16 year old daughter", "the client" (never
#: "my friend said I ...": the last word is not "I").
_SOMEONE = (
    r"(?:he|she|they|hes|shes|theyre|my\s+(?:[\w()-]+\s+){0,3}?(?!i\b)\w+|the\s+(?:person|client|"
    r"patient))"
)
_WHO = r"\b" + _SOMEONE + r"\s+(?:has\s+|have\s+|had\s+|just\s+)?"
_REPORTED_ACT = CrisisPattern(
    "reported act",
    "attempt",
    _rx(
        _WHO
        + r"(?:took|taken|swallowed)\s+(?:an?\s+)?(?:overdose|(?:all|a\s+load|loads|a\s+handful|a\s+"
        r"bunch|a\s+lot)\s+(?:of\s+)?(?:his|her|their)\s+(?:\w+\s+)?(?:pills|tablets|meds|medication))"
        r"|" + _WHO + r"(?:attempted\s+suicide|tried\s+to\s+(?:kill|hang|end)\s+(?:himself|herself|"
        r"themselves|(?:his|her|their)\s+life)|overdosed|cut\s+(?:himself|herself|themselves)|"
        r"(?:hurt|harmed|burn(?:ed|t))\s+(?:himself|herself|themselves))"
    ),
    urgent=True,
    why="a suicide attempt or self-harm of the person",
)
#: Someone else's recent self-harm without a word of suicide, told by what they did or what the
#: writer found ("she burnt her arm with a lighter last night", "he showed me cuts on his upper
#: arm, some fresh from last night"): behaviour, counted in a post only when recent, like an act.
_REPORTED_HARM = CrisisPattern(
    "reported recent self-harm",
    "behavior",
    _rx(
        _WHO + r"(?:cut|burnt|burned|scratched|punched|hit)\s+(?:his|her|their)\s+(?:own\s+)?"
        r"(?:arms?|wrists?|legs?|thighs?|skin|face|head|stomach)\b"
        r"|\b(?:cuts|burns|marks|scratches|wounds)\s+on\s+(?:his|her|their)\s+(?:upper\s+|lower\s+|"
        r"inner\s+)?(?:arms?|wrists?|legs?|thighs?|stomach)\b"
    ),
    urgent=True,
    why="self-harm of the person described",
)
#: Self-harm going on now in someone the writer describes ("My 16 year old daughter has been
#: cutting her arms", "he's been burning himself"): counted like a recent act, without a word
#: of when, since the form says it is still happening.
_REPORTED_ONGOING = CrisisPattern(
    "reported self-harm",
    "behavior",
    _rx(
        r"\b(?:"
        + _SOMEONE
        + r"|(?:walked\s+in\s+on|caught|found|saw|seen|heard)\s+(?:him|her|them))\s*"
        r"(?:'s|'re|\s+has|\s+have|\s+is|\s+are|\s+keeps|\s+started)?\s+(?:been\s+)?(?:cutting|"
        r"burning|scratching|hurting|harming|punching|banging|bangs|punches)\s+(?:himself|"
        r"herself|themselves|(?:his|her|their)\s+(?:own\s+)?(?:arms?|legs?|wrists?|thighs?|stomach|"
        r"skin|body|head|face))\b"
        # a note's disclosure: "following disclosure of cutting on forearms for the past four
        # months" (not "history of self-harm")
        r"|\bdisclos(?:ed|es|ure|ing)\s+(?:of\s+)?(?:ongoing\s+|recent\s+|current\s+)?(?:cutting|burning|"
        r"self[\s-]?harm\w*|scratching)\b(?![^.\n]{0,60}\b(?:in\s+(?:19|20)\d\d|years?\s+ago|none\s+since|"
        r"no\s+(?:further|recent)|stopped))"
    ),
    urgent=True,
    why="self-harm going on now in the person described",
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
_STOPS_MEDICATION = (
    r"\b(?:stopped|stopping|stops|quit|quitting|binned|binning|refus(?:ed|es|ing)|flush(?:ed|ing)|"
    r"cancell?(?:ed|ing)|returned|not\s+taking|no\s+longer\s+(?:takes?|taking|wants?)|"
    r"(?:won'?t|wont|isn'?t|wasn'?t|doesn'?t|don'?t)\s+(?:take|taking|want))\s+(?:taking\s+|"
    r"having\s+|going\s+to\s+|using\s+)?(?:all\s+)?(?:of\s+)?(?:his|her|my|their|the)?\s*"
    r"(?:[\w-]+\s+){0,3}?(?:tablets|pills|meds|medications?|medicines?|insulin|inhalers?|"
    r"dialysis|treatment|chemo\w*|lithium|statins|metformin|anticoagulants|blood\s+thinners|"
    r"thyroxine|levothyroxine|clozapine|digoxin|warfarin|spray|antidepressants|antipsychotics|"
    r"injections?|oxygen|transfusions?)\b"
    r"|\b(?:discontinued|thrown\s+out|threw\s+out|chucked|dumped)\s+(?:all\s+)?(?:his|her|my|their|"
    r"the)?\s*(?:[\w-]+\s+){0,3}?(?:tablets|pills|meds|medications?|medicines?|insulin|"
    r"prescriptions?)\b|\b(?:off|missed|skipp(?:ed|ing))\s+(?:all\s+)?(?:his|her|my|their|\d+|"
    r"two|three|several)?\s*(?:[\w-]+\s+){0,2}?(?:meds|medications?|tablets|pills|dialysis|"
    r"sessions|doses|injections)\b|\b(?:not|hasn'?t\s+been|stopped)\s+(?:been\s+)?(?:picking\s+up|"
    r"collecting)\s+(?:his|her|my|their)\s+(?:prescriptions?|meds|medication)\b|\b(?:quit|stopped)\s+"
    r"(?:seeing|going\s+to)\s+(?:his|her|my|their|the)\s+(?:cardiologist|renal|dialysis|oncolog\w+|"
    r"diabetes|heart|doctor|gp|clinic)\b|\b(?:stopped|stopping|refus\w+|not)\s+(?:eating|drinking)"
    r"\s+(?:and\s+drinking\s+)?(?:on\s+purpose|deliberately)"
)
_GIVES_THINGS_AWAY = (
    r"\b(?:giv(?:ing|en|es)|gave|give|hand(?:ing|ed)\s+out|gift(?:ed|ing)|rehom(?:ed|ing)|"
    r"(?:asked|asking)\s+(?:\w+\s+){1,2}to\s+(?:take|have|look\s+after))\s+(?:away\s+)?"
    r"(?:[\w']+\s+){0,4}?(?:medals|rings?|jewell?e?ry|watch|collection|tools|china|photo\s+"
    r"albums?|albums|plants|dog|cat|budgie|hamsters?|rabbits?|pets?|guitar|vinyl|records|ps5|"
    r"xbox|console|bike|savings|stuff|things|belongings|possessions|books|fishing\s+rods?|"
    r"trainers|hoodies|clothes)\b"
    r"|\b(?:my|his|her|the)\s+(?:dog|cat|budgie|rabbits?|pets?)\s+(?:is|are|will\s+be)\s+going\s+to\b"
    r"|\bwhich\s+of\s+(?:his|her|my)\s+\w+\s+go(?:es)?\s+to\b|\bgoes\s+to\s+a\s+good\s+home\b"
    r"|\b(?:giv(?:ing|en|es)|gave|hand(?:s|ing|ed)|gift(?:ed|ing)|rehom(?:ed|ing))\s+"
    r"(?:away\s+)?(?:me|us|him|her|them|(?:my|his|her|our)\s+\w+|everyone)?\s*(?:(?:his|her|my|"
    r"their)\s+(?:late\s+\w+'s\s+|old\s+|favourite\s+|favorite\s+|good\s+|service\s+|war\s+)?[\w-]+"
    r"(?:\s+(?:gear|keys|collection|medals|albums|cards|set))?)\b(?=\s+(?:to|with|round|away|and|,|\.)"
    r"|[.,]|\s*$)"
    r"|\b(?:giving|gave|given)\s+away\s+(?:all\s+)?(?:of\s+)?(?:his|her|my|their)\s+\w+"
    r"|\b(?:sign(?:ed|ing)|transferr?(?:ed|ing))\s+(?:the|his|her|my)\s+(?:\w+\s+)?(?:farm|house|"
    r"business|car|flat|property)\s+(?:over|to|into)\b|\b(?:arranged|arranging)\s+for\s+(?:his|her|"
    r"my|the)\s+\w+\s+to\s+(?:be\s+sold|go\s+to)\b|\bnames\s+on\s+the\s+back\b|\blabell?ed\s+"
    r"(?:his|her|my|all\s+(?:his|her|my))?\s*(?:belongings|things|stuff)\b"
)
_PUTS_AFFAIRS_IN_ORDER = (
    r"\b(?:sort(?:ed|ing)|put(?:ting)?|got|getting|set(?:ting)?|tid(?:ied|ying)|tied|tying)\s+"
    r"(?:out\s+|up\s+)?(?:all\s+)?(?:his|her|my|their)\s+(?:affairs|loose\s+ends)\b"
    r"|\bwho\s+gets\s+what\b|\b(?:knows?|told|showed|shown|tell|show(?:ing)?)\s+(?:\w+\s+){0,3}"
    r"where\s+(?:the|his|her|my)\s+(?:[\w-]+\s+){0,3}(?:will|papers|paperwork|documents|"
    r"insurance|passwords)\b|\b(?:made|wrote|written|writing|updat\w+|chang\w+|did|done|"
    r"finish\w+|sort\w+)\s+(?:out\s+)?(?:a|his|her|my|their|the)\s+will\b|\bfuneral\s+(?:plan|"
    r"deposit|directors?)\b|\bpre-?pa(?:y|id|ying)\b[^.\n]{0,20}\bfuneral|\bfor\s+when\s+"
    r"(?:i'?m|he'?s|she'?s)\s+gone\b|\bpasswords\b[^.\n]{0,30}\b(?:envelope|for\s+my\s+\w+)"
    r"|\b(?:said|saying|say|ring\w*|rang|call\w*|phon\w*)\b[^.\n]{0,40}\b(?:(?:good)?byes?|"
    r"cheerio|farewell)\b|\b(?:goodbye|farewell)\s+(?:cards|letters|notes|messages)\b|\bletters\s+"
    r"(?:to|for)\s+(?:each\s+of\s+)?(?:my|his|her|everyone)\b|\bmake\s+(?:his|her|my)\s+peace\b"
    r"|\bcancell?(?:ed|ing)\s+(?:all\s+)?(?:my|his|her)\s+(?:\w+\s+)?(?:subscriptions|contract|"
    r"direct\s+debits)\b|\blabell?ed\s+(?:the\s+|all\s+(?:the\s+|his\s+|her\s+)?)?(?:furniture|"
    r"things|boxes)\b|\btransferred\s+(?:the\s+|his\s+|her\s+|my\s+)?house\b"
    r"|\b(?:bank\s+)?(?:logins?|pin|passwords?)\b[^.\n]{0,40}\b(?:wrote\s+it\s+down|in\s+case|"
    r"for\s+me|envelope|folder)|\b(?:his|her|my)\s+(?:bank\s+)?(?:logins?|pin)\b|\bexecutor\b|"
    r"\b(?:instructions|wishes|songs|hymns)\s+for\s+(?:his|her|my|the)\s+funeral\b|\bchose\s+the\s+"
    r"(?:songs|hymns)\b|\bpa(?:id|ying)\s+off\s+(?:the\s+last\s+of\s+)?(?:all\s+)?(?:my|his|her)\s+"
    r"(?:debts|credit\s+card|loans?)\b|\bcancell?(?:ed|ing)\s+(?:my|his|her)?\s*(?:\w+\s+)?(?:gym|"
    r"phone|newspaper|utilities|milk|contract|subscriptions?)\b|\bputting\s+(?:things|everything)\s+"
    r"in\s+order\b|\bwill'?s\s+signed\b|\bsort(?:ed|ing)\s+(?:out\s+)?(?:the\s+|his\s+|her\s+|my\s+)?"
    r"(?:paperwork|finances|life\s+insurance)\b|\b(?:life\s+)?insurance\s+(?:papers|policy)\b|"
    r"\b(?:thank(?:ed|ing)|thanks)\s+(?:everyone|all\s+of\s+us|us\s+all|every\w*)\b|\b(?:saying|said)"
    r"\s+sorry\s+for\s+everything\b|\breturned\s+everything\b|\btying\s+up\s+loose\s+ends\b|"
    r"\b(?:spare|house|car)\s+keys?\b[^.\n]{0,40}\b(?:round|to|gave|handed|dropped)|\b(?:dropped|"
    r"handed|gave)\s+(?:me\s+)?(?:the\s+|his\s+|her\s+|my\s+)?(?:spare\s+|house\s+|car\s+)?keys\b|"
    r"\btitle\s+to\s+(?:his|her|my)\b|\bphoning\s+round\s+everyone\b|\b(?:to|just\s+to)\s+say\s+"
    r"(?:he|she|i)\s+loves?\s+(?:them|everyone|us)\b"
)
#: A name, or the placeholder redaction left for one (the gate reads the redacted text).
_A_NAME = r"(?:\[NAME\]|\w+)"
_RELATIVE_DEAD = (
    r"(?:him|her|them|mum|mom|dad|mam|jesus|god|(?:my|his|her|our)\s+(?:late\s+)?(?:\w+\s+)?"
    r"(?:husband|wife|partner|mum|mom|mam|dad|mother|father|son|daughter|brother|sister|"
    r"nan|gran|grandad|grandma|grandpa|boy|girl)|uncle\s+"
    + _A_NAME
    + r"|aunt(?:ie)?\s+"
    + _A_NAME
    + r"|"
    r"\[NAME\])"
)
_READY_TO_DIE = (
    r"\bready\s+to\s+(?:go|die|leave\s+(?:this|the)\s+world)\b(?![ \t]+(?:on|to|out|home|back|"
    r"shopping|for|in|with|into|up|down|camping|abroad|again|now|tomorrow)\b)"
    r"|\b(?:i'?m|he'?s|she'?s|is|am)\s+(?:so\s+)?['\"‘“]?ready['\"’”]?(?=\s*[.!,;]|\s*$|\s+and\b)"
    r"|\bready\s+for\s+the\s+next\s+(?:bit|part|world|life)\b"
    r"|\b(?:be(?:ing)?|wants?\s+to\s+be|want\s+to\s+be)\s+with\s+"
    + _A_NAME
    + r"(?:\s+\w+)?\s+(?:again|soon|"
    r"now|before\s+long)\b|\b(?:wants?|want|wanting|wish\w*|long\w*|pray\w*)\s+to\s+(?:be\s+"
    r"with|join|go\s+(?:home\s+)?to)\s+" + _RELATIVE_DEAD + r"(?!\w)"
    r"|\bjoin(?:ing)?\s+" + _RELATIVE_DEAD + r"\s+(?:soon|now|there|again)\b"
    r"|\bseeing\s+"
    + _A_NAME
    + r"\s+again\s+(?:before\s+long|soon)\b|\bgo\s+(?:home\s+)?to\s+(?:jesus|god|"
    r"the\s+lord|heaven)\b"
    r"|\b(?:won'?t|wont|will\s+not|not|don'?t\s+(?:think|see)\s+(?:i'?ll|he'?ll|she'?ll|myself|"
    r"himself|herself))\s+(?:be\s+|being\s+)?(?:around|here)\s+(?:much\s+longer|for\s+(?:long|"
    r"much\s+longer|christmas|(?:her|his|my)\s+birthday)|long|any\s*more|by\s+(?:the\s+)?(?:new\s+"
    r"year|christmas|summer|spring))\b|\b(?:i'?ll|he'?ll|she'?ll)\s+be\s+(?:here|around)\s+much\s+"
    r"longer\b|\b(?:worry\s+about|put\s+up\s+with|deal\s+with|bother\s+with)\s+me\s+(?:for\s+)?"
    r"much\s+longer\b|\bwon'?t\s+be\s+long\s+now\b"
    r"|\bwon'?t\s+(?:need|be\s+needing)\s+(?:them|it|these|this|any\s+of\s+(?:it|them|this))\s+"
    r"(?:where|after|when|soon|much\s+longer|any\s*more)"
    r"|\bno\s+point\s+(?:anymore|any\s+more|now|going\s+on|carrying\s+on|dragging\s+it\s+out|in\s+"
    r"(?:me\s+)?(?:living|going\s+on|carrying\s+on|being\s+here|it\s+all|staying|trying))"
    r"|\bwhat'?s\s+the\s+point\b|\b(?:tired|sick)\s+of\s+(?:living|life|being\s+alive)\b"
    r"|\b(?:had|have|'ve)\s+enough(?:\s+of\s+(?:this\s+world|life|living|it\s+all|everything))?"
    r"(?=\s*[.!,;'\"’”]|\s*$|\s+and\b)|\bwant\s+(?:it|this|everything)\s+(?:all\s+)?to\s+(?:be\s+"
    r"over|end)\b|\bwants?\s+to\s+(?:die|go)(?=\s*[.!,;'\"’”]|\s*$|\s+(?:now|on\s+(?:my|his|her)\s+"
    r"own\s+terms)\b)|\bgo\s+to\s+sleep\s+and\s+(?:not|never)\s+wake\b|\b(?:prays?|hop(?:es|ing)|"
    r"wish(?:es)?|wants?)\s+(?:that\s+)?(?:she|he|i)\s+(?:won'?t|doesn'?t|don'?t|never)\s+wake\s+up"
    r"|\b(?:he'?s|she'?s|i'?m|is)\s+['\"‘“]?(?:done|finished)(?:\s+with\s+(?:all\s+this|it\s+all|"
    r"life|everything))?['\"’”]?(?=\s*[.!,;]|\s*$|\s+and\b)|\bnothing\s+(?:left\s+)?to\s+(?:stay|"
    r"live|stick\s+around)\s+for\b|\bat\s+peace\s+with\s+(?:my|his|her)\s+decision\b|\b(?:made|"
    r"make)\s+(?:up\s+)?(?:my|his|her)\s+mind\s+up\b|\b(?:this|it)\s+is\s+my\s+last\s+(?:week|"
    r"day|night)(?![ \t]+(?:at|of|in|on|before|with)\b)|\b(?:doesn'?t|don'?t)\s+want\s+to\s+be\s+"
    r"a\s+burden\b|\b(?:want\w*|wish\w*)\s+to\s+be\s+gone\b|\blived\s+long\s+enough\b|\b(?:my|his|"
    r"her)\s+time\s+is\s+up\b|\b(?:doesn'?t|don'?t|does\s+not|do\s+not)\s+want\s+to\s+(?:be\s+"
    r"here|live|go\s+on|carry\s+on|wake\s+up)\b"
    r"|\bwon'?t\s+be\s+needing\s+(?:it|them|this|that)\b|\b(?:with|see)\s+(?:her|him|them)\s+"
    r"(?:again\s+)?soon\s+enough\b|\bno\s+intention\s+of\s+being\s+(?:here|around|alive)\b|"
    r"\bwish(?:es|ed)?\s+(?:he|she|i|they)\s+(?:was|were)n'?t\s+(?:alive|here|born)\b|\blet\s+me\s+"
    r"go\b|\b(?:decid\w+|decision)\s+to\s+end\s+(?:it|things|my\s+life|her\s+life|his\s+life)\b|"
    r"\bwhen\s+it'?s\s+time\b|\bwon'?t\s+live\s+to\s+see\b|\b(?:i'?m|he'?s|she'?s|am|is)\s+(?:ok|"
    r"okay|fine|at\s+peace|happy|content)\s+with\s+(?:it|that|dying|going)\b|\b(?:don'?t|doesn'?t)"
    r"\s+want\s+to\s+keep\s+(?:going|living|on)\b|\bwant\s+it\s+(?:all\s+)?to\s+stop\b|\btime\s+to\s+"
    r"call\s+it\b|\bhad\s+a\s+good\s+run\b|\bnot\s+wanting\s+to\s+wake\s+up\b|\bcalling\s+(?:her|"
    r"him|me)\s+home\b|\bhappy\s+to\s+go\b|\bclock\s+out\b|\b(?:feel|feeling|felt)\s+(?:so\s+)?"
    r"(?:peaceful|calm|lighter)\b|\bno\s+reason\s+to\s+(?:keep\s+going|go\s+on|live|stay)\b|"
    r"\bnot\s+long\s+for\s+this\s+world\b|\bdone\s+(?:his|her|my)\s+bit\b|\bready\s+to\s+(?:join|"
    r"go\s+to|be\s+with)\b|\bsooner\s+(?:than\s+(?:later|you\s+think))\b|\brather\s+go\s+sooner\b|"
    r"\bthis\s+is\s+the\s+last\s+time\b|\bneeding\s+this\s+soon\b|\b(?:long\s+time\s+coming|this\s+"
    r"(?:weekend|week|friday|saturday|sunday)\s+is\s+it)\b|\bwhen\s+(?:i'?m|he'?s|she'?s|im)\s+gone\b"
    r"|\bafter\s+(?:i'?m|he'?s|she'?s)\s+gone\b|\bhanging\s+around\s+much\s+longer\b|\bno\s+"
    r"squabbling\s+after\b|\bjust\s+in\s+case\s+x?\b|\b(?:i'?m|he'?s|she'?s)\s+tired\b[^.\n]{0,30}"
    r"\b(?:miss|go|done)\b|\b(?:i'?m|he'?s|she'?s)\s+(?:really\s+|just\s+)?done['’]?\.?['’]?$"
)
#: What makes stopping treatment or giving things away no preparation for dying: a clinician's
#: decision, palliative care, a move, an allergy or side effects.
_NOT_PREPARING = _rx(
    r"\b(?:palliative|hospice|end[\s-]of[\s-]life\s+care|(?<!not\s)terminal(?:ly)?|oncologist|"
    r"(?:doctor|gp|consultant|specialist|nurse|psychiatrist|team)\s+(?:has\s+|have\s+)?(?:stopped|"
    r"took|taken|switched|switching|changed|changing|reduced|reducing|agreed)|side[\s-]effects?|"
    r"allerg\w+|downsiz\w+|moving|move\s+(?:in|into|to|abroad)|emigrat\w+|relocat\w+|course\s+"
    r"(?:ended|finished)|finished\s+the\s+course|for\s+my\s+(?:\d+\w*|eighteenth|twenty-first|"
    r"birthday)|birthday\s+present|after\s+the\s+baby|travell?ing|retiring\s+(?:next|this|on|in|at)|retirement\s+(?:do|party|drinks)|"
    r"leaving\s+(?:do|party|drinks)|new\s+job|holiday|vacation|gap\s+year)\b"
)
#: Preparations for dying, told by the person or by someone close: stopping medication they
#: need, giving treasured things or pets away or putting affairs in order, beside words of being
#: ready to go or of wanting to die ("Dad (81) has stopped taking his heart tablets since Mum
#: died ... giving his medals away ... said he's 'ready to go'"), or two such preparations of
#: different kinds (stopping medication and giving things away). Suicide in later life is often
#: prepared quietly like this rather than announced (WHO mhGAP SUI; NICE NG225), and C-SSRS
#: counts preparatory acts as behaviour. Each part is everyday on its own ("stopped my statins,
#: the doctor is switching me", "giving my old clothes to charity"); they must be near each
#: other, and a clinician's decision, palliative care or a move stands them down.
_PREPARATIONS_WHY = (
    "preparations for dying (stopping medication the person needs, giving things away or "
    "putting affairs in order, with words of being ready to go or of wanting to die)"
)
_PREPARATIONS: tuple[UrgentSign, ...] = (
    UrgentSign(
        "preparations for dying",
        (
            _rx(_STOPS_MEDICATION + "|" + _GIVES_THINGS_AWAY + "|" + _PUTS_AFFAIRS_IN_ORDER),
            _rx(_READY_TO_DIE),
        ),
        why=_PREPARATIONS_WHY,
        window=400,
        void=_NOT_PREPARING,
    ),
    UrgentSign(
        "preparations for dying",
        (_rx(_STOPS_MEDICATION), _rx(_GIVES_THINGS_AWAY + "|" + _PUTS_AFFAIRS_IN_ORDER)),
        why=_PREPARATIONS_WHY,
        window=400,
        void=_NOT_PREPARING,
    ),
    UrgentSign(
        "preparations for dying",
        (_rx(_GIVES_THINGS_AWAY), _rx(_PUTS_AFFAIRS_IN_ORDER)),
        why=_PREPARATIONS_WHY,
        window=400,
        void=_NOT_PREPARING,
    ),
)


def _prepared(text: str) -> str:
    """The phrase of the first preparation for dying the text tells of, or ""."""
    for sign in _PREPARATIONS:
        phrase = sign.search(text)
        if phrase:
            return phrase
    return ""


#: Someone else's threat to end their life if the writer leaves or refuses them ("if i leave
#: he'll kill himself and it'll be my fault"; :func:`classifiers.rules.context.coercion_spans`):
#: a crisis for the person who threatens, and a recognised sign of coercive control (a DASH risk
#: question). Not urgent on its own; the block says what to do for both people.
_COERCION = "suicide threat used as pressure"
_COERCION_NOTE = (
    "The text reports someone threatening to end their life if the writer leaves or does not do "
    "what they want. Take the threat seriously for that person: if they are in immediate "
    "danger, the writer can call emergency services, and their safety is not the writer's to "
    "carry. Suicide threats used to stop a partner leaving are a recognised sign of coercive "
    "control (a DASH risk question): ask about the writer's own safety, and their own suicidal "
    "thoughts, too."
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
    r"earlier|just|(?:an?|one|two|few|\d+)\s+(?:hours?|minutes?|days?)\s+ago|last\s+week|"
    r"(?:on|last|this)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"(?:this|last|at\s+the)\s+weekend|fresh|new\s+(?:cuts|burns|marks)|still\s+bleeding)\b",
    re.IGNORECASE,
)
#: A time that puts someone else's act in the past whatever else the sentence says ("My only
#: friend attempted suicide last semester ... I just don't know what to do").
_DATED_PAST_RE = re.compile(
    r"\b(?:last\s+(?:semester|term|year|month|summer|winter|spring|autumn|fall|christmas)|"
    r"(?:\d+|a|two|three|few|several|many)\s+(?:years?|months?)\s+ago|in\s+(?:19|20)\d\d)\b",
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
        for pattern in (
            *self.patterns,
            _REPORTED_ACT,
            _REPORTED_HARM,
            _REPORTED_ONGOING,
            _REPORTED_PLAN,
        ):
            for match in pattern.pattern.finditer(text):
                sentence = _sentence(text, match.start(), match.end())
                if _JOKE_RE.search(sentence):
                    continue  # "kill myself on Friday lol": the classifier decides
                recent = context or (
                    _RECENT_RE.search(sentence) and not _DATED_PAST_RE.search(sentence)
                )
                if pattern in (_REPORTED_ACT, _REPORTED_HARM) and not recent:
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
        prepared = _prepared(text)
        if prepared:
            reasons.append(f'explicit {_PREPARATIONS[0].name} cue: "{prepared}"')
            level = _level_max(level, "behavior")
            why.append(_PREPARATIONS_WHY)
        coerced = _coercion(text)
        if coerced:
            reasons.append(f'explicit {_COERCION} cue: "{coerced}"')
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
        crisis = is_crisis(level) or bool(others) or bool(emergency) or bool(coerced)
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
                _REPORTED_HARM,
                _REPORTED_ONGOING,
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
            for sign in (*MEDICAL_SIGNS, *SAFEGUARDING_SIGNS, THREAT_TO_OTHERS, *_PREPARATIONS):
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
        coerced = any(r.startswith(f"explicit {_COERCION} cue:") for r in reasons)
        return SafetyDecision(
            crisis=crisis,
            urgent=urgent,
            level=level,
            reasons=reasons,
            block_markdown=self.block_markdown(
                urgent,
                language,
                crisis,
                why,
                suicidal=is_crisis(level) or not crisis,
                notes=(_COERCION_NOTE,) if coerced else (),
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
        notes: tuple[str, ...] = (),
    ) -> str:
        """The block shown first: the not-English notice (when ``language``), then the urgency
        line (when ``crisis``; an urgent one says what the text describes, ``why``), local
        resources and the safety-planning outline (left out where the crisis is not a suicidal
        one, ``suicidal`` False: an overdose in progress, a child's disclosure, a threat to
        someone else, where a suicide safety plan is not the next step). ``notes``: what to do
        about a situation the text describes beside the risk level (someone else's suicide
        threat used as pressure), after the urgency line, or in its place where the crisis rests
        on the note alone."""
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
        elif crisis and (suicidal or not notes):
            lines += [
                "The text contains signals consistent with suicidal thoughts. Ask directly about "
                "suicidal thoughts, intent, plans and access to means, and assess risk before "
                "anything else.",
                "",
            ]
        if crisis:
            for note in notes:
                lines += [note, ""]
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


def _coercion(text: str) -> str:
    """The first threat by someone else to end their life if the writer leaves, or ""."""
    for start, end in coercion_spans(text):
        if not LAUGH_RE.search(_sentence(text, start, end)):
            return " ".join(text[start:end].split())
    return ""


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
