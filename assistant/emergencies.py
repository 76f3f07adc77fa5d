"""Emergencies other than the writer's suicide risk, for the safety gate.

A practitioner may paste a text that describes a medical emergency (an overdose in progress,
dangerous withdrawal, lithium toxicity, serotonin syndrome, neuroleptic malignant syndrome,
fever on clozapine, an MAOI hypertensive crisis, refeeding problems, delirium, an infected
injection site, postpartum psychosis), a safeguarding one (a child's disclosure of abuse,
domestic abuse with high-risk signs) or a threat to harm someone else. Each is an
:class:`UrgentSign`: transparent patterns that need the drug or setting *and* its signs near
each other, and that stand down for a question about the signs, a past history, a negation, a
laugh, fiction or a research text. They are not a screen: a form they miss stays with the
classifier and the practitioner. :class:`assistant.safety.SafetyGate` turns a match into an
urgent decision with ``why`` (what the text describes and the next step) in its block.

Guidance behind the next steps: NICE CG100/CG115 (alcohol withdrawal), WHO 2014 community
management of opioid overdose, NICE CG185 (lithium), CG178 (antipsychotics), NG69 and MARSIPAN
(refeeding), CG103 (delirium), CG192 (postpartum psychosis), NG76 (child abuse and neglect),
PH50 (domestic violence and abuse).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


#: Laughter near a match: "my brother hits me with a pillow lol".
LAUGH_RE = _rx(r"\b(?:lol|lmao|lmfao|rofl|haha\w*|jk|joking|laughing)\b|[\U0001F602\U0001F923]")
#: What makes a match no emergency, for every sign: a question about the signs ("what are the
#: signs of lithium toxicity?", "what do I do if someone is unresponsive after taking G?"), a
#: history ("in 2015", "years ago", "nine years on I'm recovered"), fiction or research.
_DEFAULT_VOID = _rx(
    r"\b(?:what\s+(?:are|r|is)\s+(?:the\s+)?(?:\w+\s+)?(?:signs|symptoms)|signs\s+of|"
    r"what\s+(?:to\s+)?(?:watch|look)\s+(?:out\s+)?for|is\s+there\s+a\s+risk|what\s+foods|"
    r"should\s+i\s+avoid|harm\s+reduction\s+question|if\s+(?:someone|somebody|anyone|a\s+person)\b|"
    r"(?:job\s+)?interview|training\s+(?:course|day)|is\s+it\s+true|can\s+you\s+(?:get|have)|"
    r"practice\s+question|exam\s+question|most\s+likely\s+diagnosis|case\s+(?:study|vignette)|"
    r"teaching\s+(?:session|on)|lecture|(?:fiction|writing)\s+prompt|write\s+a\s+(?:scene|story)|"
    r"my\s+(?:\w+\s+)?(?:novel|story|book|screenplay|script|fanfic)|in\s+the\s+(?:film|book|novel|show)|"
    r"years?\s+ago|in\s+(?:19|20)\d\d\b|"
    r"used\s+to|(?:\d+|nine|ten|many|several|five|six|seven|eight)\s+years\s+(?:on|later|sober|"
    r"clean)|(?:fully\s+|i'?m\s+)recovered|for\s+(?:months|years)\s+now|died\s+years\s+ago|"
    r"abstract\s*:|cohort\s+study|hazard\s+ratio|chapter\s+(?:\d+|[ivx]+|one|two|three)\b|"
    r"when\s+(?:i|she|he|we)\s+(?:was|were)\s+(?:young|younger|little|small|a\s+(?:kid|child|teen|"
    r"teenager|baby|toddler)|\d+|two|three|four|five|six|seven|eight|nine|ten))"
)
#: A negated sign in a note: "No fever, no sore throat", "not drowsy", "I'm not ill".
_NEGATED_SIGNS = _rx(
    r"\b(?:no|nil|denies|not)\s+(?:fever|temp\w*|tremor|vomiting|diarrh\w+|sore\s+throat|"
    r"rigidity|confusion|drowsy|ill|unwell|infection|headache)\b"
)


@dataclass(frozen=True)
class UrgentSign:
    """One emergency: every one of ``parts`` (regexes) found within ``window`` characters of
    the first one's match, none of ``void`` nor the default stand-downs near it.

    ``why`` goes into the gate's block: what the text describes and the next step.
    ``distinct``: the last part must match this many different words (two signs of lithium
    toxicity, not one side effect).
    """

    name: str
    parts: tuple[re.Pattern[str], ...]
    why: str
    window: int = 600
    distinct: int = 1
    void: re.Pattern[str] | None = None

    def search(self, text: str) -> str:
        """The phrase of the first part where the sign holds, or ""."""
        for m in self.parts[0].finditer(text):
            lo, hi = max(0, m.start() - self.window), m.end() + self.window
            if not all(p.search(text, lo, hi) for p in self.parts[1:]):
                continue
            if LAUGH_RE.search(text, lo, hi) or _DEFAULT_VOID.search(text, lo, hi):
                continue
            if self.void is not None and self.void.search(text, lo, hi):
                continue
            if self.distinct > 1:
                found = {f.group(0).lower() for f in self.parts[-1].finditer(text, lo, hi)}
                if len(found) < self.distinct:
                    continue
            return " ".join(m.group(0).split())
        return ""


_FEVER = (
    r"\b(?:fever|feverish|temp(?:erature)?\s*(?:[^\d\n]{0,25})?(?:3[89]|4[0-2])(?:\.\d)?\b|high\s+"
    r"temp\w*|burning\s+up|boiling\s+hot|roasting|pyrexi\w+|febrile|hyperthermi\w+|shivery|the\s+"
    r"shivers|shivering|rigors|chills)"
)
_SUBSTANCE = (
    r"\b(?:gear|heroin|smack|fentanyl|fent|opioids?|opiates?|oxy\w*|codeine|tramadol|methadone|"
    r"pills|tablets|paracetamol|tylenol|sleeping\s+(?:tablets|pills)|ket|ketamine|ghb|gbl|xanax|"
    r"xannies|xans|bars|benzos?|diazepam|valium|klonopin|goon|wine|spirits|overdos\w*|od'?d|"
    r"vodka|drunk|alcohol|drugs|using|injected|shot\s+up|swallowed|"
    r"nodding\s+(?:out|off)|under\s+on\s+g)\b"
)
_ANTIPSYCHOTIC = (
    r"\b(?:haloperidol|haldol|halo|olanzapine|olanz|risperidone|risp|quetiapine|aripiprazole|"
    r"paliperidone|zuclopenthixol|flupentixol|chlorpromazine|clozapine|antipsychotics?|"
    r"neuroleptics?|depot\s+(?:injection|antipsychotic)|(?:im|on\s+(?:a|his|her|the)|his|her)\s+"
    r"depot)\b"
)
_SEROTONERGIC = (
    r"\b(?:sertraline|fluoxetine|citalopram|escitalopram|paroxetine|venlafaxine|duloxetine|"
    r"ssris?|snris?|tramadol|mdma|ecstasy|linezolid|lithium|mirtazapine|clomipramine|"
    r"st\.?\s+john'?s\s+wort|triptans?|sumatriptan|fentanyl|ondansetron)\b"
)
# A withdrawal sign, not "seeing things more clearly" or "confused about how to date sober".
_WITHDRAWAL_SIGN = (
    r"\b(?:seizures?|fits?|fitting|convuls\w*|hallucinat\w*|seeing\s+things(?!\s+(?:so\s+)?"
    r"(?:much\s+)?(?:more\s+)?(?:clearly|differently))|(?:seeing|saw|seen)\s+(?:bugs|insects|"
    r"spiders|ants|snakes|rats|shadows)|talking\s+to\s+(?:people|someone)\s+who\s+(?:aren'?t|isn'?t)\s+there|"
    r"picking\s+at\s+(?:things|the\s+air)|(?:really\s+|so\s+|very\s+)?(?:confused|muddled)"
    r"(?!\s+(?:about|why|whether|how|what|if|by|at\s+the\s+time|as\s+to))|disorient\w+|the\s+dts)\b"
)

#: Medical emergencies.
MEDICAL_SIGNS: tuple[UrgentSign, ...] = (
    UrgentSign(
        "overdose",
        (
            # someone's state now: "he's not waking up", "can't wake her", "lips going blue"
            _rx(
                r"\b(?:he|she|they|hes|shes)(?:'s|\s+is|'re|\s+are)?\s+(?:not|still\s+not)\s+(?:waking|"
                r"breathing|responding)(?!\s+(?:down|to\s+(?:my|our|the)\s+(?:texts?|messages?|calls?|"
                r"emails?)))|\b(?:won'?t|wont|doesn'?t|isn'?t)\s+wak(?:e|ing)\s+up\b|\bcan'?t\s+(?:wake|"
                r"rouse|keep)\s+(?:him|her|them)(?:\s+awake)?\b|\bunresponsive\b(?!\s+when)(?!\s+to\s+(?:my|our)\s+"
                r"(?:texts?|messages?|calls?|emails?))|\blips\s+(?:are\s+|have\s+|going\s+|gone\s+|"
                r"turning\s+)*(?:blue|purple|grey|gray)|\b(?:gone|going|turning)\s+blue\b|\b(?:barely|"
                r"hardly|stopped|not)\s+breathing\b|\b(?:not\s+responding\s+at\s+all|(?:really\s+|very\s+)?"
                r"drowsy\s+and\s+(?:slurring|vomiting|being\s+sick)|keeps?\s+nodding\s+off|snoring\s+"
                r"(?:really\s+)?(?:weird|strange|loud(?:ly)?))|\bbreathing\s+(?:really\s+)?(?:weird|strange|funny|"
                r"shallow|slow)|\bsnoring\s+noises\b|\bgurgling\b|\bpinpoint\s+pupils\b|\bnodding\s+out\b"
            ),
            _rx(_SUBSTANCE),
        ),
        "signs of an overdose in progress (call emergency services now; naloxone if opioids "
        "may be involved; recovery position; stay with the person)",
        void=_rx(r"\b(?:baby|newborn|moses\s+basket|cot)\b"),
    ),
    UrgentSign(
        # someone else's withdrawal too (the rules' own cue covers the writer's)
        "dangerous withdrawal",
        (
            _rx(
                r"\b(?:stopp(?:ed|ing)|quit(?:ting)?|came\s+off|coming\s+off|cut\s+down|ran\s+out\s+of|"
                r"run\s+out\s+of|cold\s+turkey|(?:alcohol|etoh|benzo)\s+(?:w/d|withdrawal)|"
                r"(?:day|days)\s+(?:\d|one|two|three|four)\s+(?:off|without)|heavy\s+drinker)\b"
            ),
            _rx(
                r"\b(?:drink\w*|booze|alcohol|etoh|benzos?|diazepam|valium|xanax|klonopin|clonazepam|"
                r"lorazepam|ativan|w/d|wine)\b"
            ),
            _rx(_WITHDRAWAL_SIGN),
        ),
        window=600,
        why="signs of dangerous withdrawal (seizures, hallucinations or confusion coming off alcohol "
        "or sedatives need emergency medical care, not a managed detox at home)",
        void=_rx(
            r"\b(?:months?\s+since|years?\s+since|(?:\d+|a|one|two|three|six)\s+months?\s+ago|"
            r"worr(?:y|ied)\s+about|scared\s+of|afraid\s+of|risk\s+of)\b"
        ),
    ),
    UrgentSign(
        # NICE NG69 1.2.5-1.2.6 (MARSIPAN): refeeding and cardiac complications
        "refeeding or cardiac complications",
        (
            _rx(
                r"\b(?:anorexi\w+|eating\s+disorder|refeed\w*|malnourish\w*|underweight|restricting|"
                r"purging|bulimi\w+)\b"
            ),
            _rx(
                r"\b(?:start(?:ed|ing)|began|begun|back\s+to)\s+eating\s+(?:again|more|normally)|"
                r"refeed\w*|(?:just\s+)?(?:come|came|got|been)\s+(?:home\s+)?(?:from|out\s+of)\s+"
                r"hospital|discharged|making\s+her\s+eat|(?:purging|vomiting)\s+(?:\w+\s+){0,3}(?:times|x)\s+"
                r"a\s+day|fainted|heart\s+rate\s+(?:was\s+|is\s+|of\s+)?(?:[23]\d|4[0-4])\b|potassium\s+"
                r"(?:was\s+|is\s+)?low"
            ),
            _rx(
                r"\b(?:swollen|swelling|puffy|oedema|edema|breathless\w*|short\s+of\s+breath|chest\s+"
                r"pains?|palpitations|heart\s+(?:is\s+)?(?:racing|pounding|skipping)|fainted|fainting|"
                r"collapsed|dizzy|fluttering|skipping\s+beats|cramping)\b"
            ),
        ),
        window=700,
        why="possible refeeding syndrome or heart strain in an eating disorder (same-day medical "
        "assessment)",
    ),
    UrgentSign(
        # NICE CG103: a sudden change in an older person is delirium until shown otherwise
        "delirium",
        (
            _rx(
                r"\b(?:suddenly|all\s+of\s+a\s+sudden|overnight|(?:acute(?:ly)?|sudden(?:\s+onset)?|new)\s+"
                r"(?:confusion|confused)|since\s+(?:this\s+morning|last\s+night|starting)|something\s+"
                r"was\s+(?:really\s+)?off|"
                r"since\s+(?:yesterday|(?:her|his|the)\s+(?:uti|infection|chest\s+infection|operation|op|"
                r"fall|surgery|new\s+(?:tablets|meds|medication)))|in\s+the\s+(?:last|past)\s+(?:two|"
                r"three|few|couple\s+of|\d)\s+days|was\s+(?:fine|fully\s+orientated|fully\s+oriented)\s+"
                r"(?:last\s+week|yesterday|a\s+few\s+days\s+ago))"
            ),
            _rx(
                r"\b(?:(?:he|she|they|mum|mom|dad|nan|gran|grandad|granddad|grandma|grandpa|pt|"
                r"patient|resident)(?:'s|\s+is|\s+has|\s+was|\s+seems|\s+gets|\s+got)?\s+(?:\w+\s+){0,2}"
                r"(?:muddled|confused|disorientated|disoriented)|(?:acute(?:ly)?|sudden(?:\s+onset)?|new)\s+"
                r"(?:confusion|confused)|hallucinat\w+|talking\s+to\s+people\s+who\s+aren'?t\s+there|"
                r"doesn'?t\s+know\s+who\s+i\s+am|couldn'?t\s+tell\s+me\s+what\s+day|picking\s+at\s+the\s+"
                r"(?:blanket|sheets|air)|fluctuating\s+(?:alertness|consciousness)|"
                r"seeing\s+(?:children|people|animals|insects)|thinks\s+it'?s\s+(?:19|20)\d\d|doesn'?t\s+"
                r"know\s+where\s+(?:she|he)\s+is|pulling\s+at\s+(?:his|her)\s+(?:catheter|drip|lines?))\b"
            ),
            _rx(
                r"\b(?:[6-9]\d|1[01]\d)\s*(?:yo|y/o|years?\s+old)\b|\((?:[6-9]\d|1[01]\d)\s*[mf]?\)|"
                r"\b(?:[6-9]\d|1[01]\d)\s*yo?\s*[mf]\b|\b(?:mum|mom|dad|father|mother|he|she|nan|gran)"
                r"(?:'s|\s+is|\s+aged|,)\s+(?:[6-9]\d|1[01]\d)\b|\b(?:she|he)'?s\s+(?:[6-9]\d|1[01]\d)\b|\b(?:nan|nana|gran|granny|grandma|grandad|granddad|grandpa|grandmother|"
                r"grandfather|elderly|older\s+(?:man|woman|person|adult)|care\s+home)\b"
            ),
        ),
        "a sudden confusion or hallucinations in an older person (delirium until shown "
        "otherwise: same-day medical assessment for infection, medication or other causes)",
        window=400,
        void=_rx(r"\b(?:sundowning|same\s+pattern|as\s+always|had\s+dementia\s+for)\b"),
    ),
    UrgentSign(
        "injection site infection",
        (
            _rx(
                r"\b(?:ivdu|pwid|shoot(?:ing)?\s+up|inject(?:s|ing|ed)?\s+(?:heroin|drugs|gear|meth|speed|"
                r"crack|coke|ice)|track\s+marks?|(?:inject\w*|shoot(?:ing)?\s+up)\s+(?:in|into)\s+(?:my|"
                r"his|her)\s+(?:groin|legs?|arms?|neck|feet)|uses\s+(?:ice|heroin|meth|gear)\s+iv|"
                r"iv\s+(?:drug|heroin|ice|meth))"
            ),
            _rx(
                r"\b(?:abscess\w*|red(?:,)?\s+(?:and\s+)?(?:hot|puffy)|hot\s+and\s+(?:red|swollen)|"
                r"spreading|swollen|pus|cellulitis|infected|red\s+lump|red\s+streaks?)\b"
            ),
            _rx(_FEVER),
        ),
        "a spreading infection at an injection site with fever (same-day medical care: risk of "
        "sepsis)",
    ),
    UrgentSign(
        "lithium toxicity",
        (
            _rx(r"\blithium\b|\bpriadel\b|\bcamcolit\b|\bli\s+level\b"),
            _rx(
                r"\b(?:vomit\w*|throwing\s+up|being\s+sick|n\s*&\s*v|diarrh\w+|unsteady|wobbly|"
                r"ataxi\w*|slurr\w+|coarse\s+tremor|falling\s+over|keep\s+falling|can'?t\s+walk\s+"
                r"straight|drowsy|level\s+(?:of\s+|is\s+|was\s+)?(?:1\.[5-9]|[2-9](?:\.\d)?)|levels?\s+"
                r"(?:not|never)\s+(?:been\s+)?(?:checked|done|taken))\b"
            ),
        ),
        "signs of lithium toxicity (stop the dose and arrange a same-day lithium level and "
        "medical review)",
        distinct=2,
        void=_NEGATED_SIGNS,
    ),
    UrgentSign(
        "serotonin syndrome",
        (
            _rx(_SEROTONERGIC + r"|\bserotonin\s+(?:syndrome|toxicity)\b"),
            # jerks or clonus, not a twitching eyelid or the tremor of an ordinary side effect
            _rx(
                r"\b(?:muscles?|legs?|arms?|body)\s+(?:keep\s+|kept\s+|are\s+|is\s+)?(?:jerk\w*|twitch\w*|"
                r"kicking|spasming)|\bclonus\b|\bjerking\s+(?:all\s+over|uncontrollably)|\btwitching\b"
                r"(?!\s+(?:eye|eyelid))"
            ),
            _rx(_FEVER + r"|\bconfus\w+"),
        ),
        "signs of serotonin toxicity (emergency medical assessment today)",
        void=_NEGATED_SIGNS,
    ),
    UrgentSign(
        "neuroleptic malignant syndrome",
        (
            _rx(_ANTIPSYCHOTIC + r"|\bnms\b|\bneuroleptic\s+malignant\b"),
            _rx(
                r"\b(?:rigid\w*|lead[- ]pipe|ck\s*(?:of\s+|is\s+|:)?\s*\d{4,}|cpk|stiff\s+as|(?:gone|"
                r"going|is|he'?s|she'?s)\s+(?:really\s+|very\s+|so\s+)?stiff)\b"
            ),
            _rx(_FEVER),
        ),
        "signs of neuroleptic malignant syndrome (stop the antipsychotic and arrange emergency "
        "medical care)",
        void=_NEGATED_SIGNS,
    ),
    UrgentSign(
        "clozapine and infection",
        (
            _rx(r"\bclozapine\b|\bclozaril\b|\bdenzapine\b|\bzaponex\b"),
            _rx(
                _FEVER
                + r"|\b(?:sore\s+throat|throat\s+is\s+(?:killing|really\s+sore|sore)|mouth\s+"
                r"ulcers?|flu[- ]like)\b"
            ),
        ),
        "fever or infection on clozapine (a same-day full blood count for neutropenia)",
        void=_rx(_NEGATED_SIGNS.pattern + r"|\b(?:terrified|scared|worried)\s+of\b"),
    ),
    UrgentSign(
        "hypertensive crisis",
        (
            _rx(
                r"\b(?:phenelzine|nardil|tranylcypromine|parnate|isocarboxazid|moclobemide|maois?|"
                r"mao\s+inhibitors?)\b"
            ),
            _rx(
                r"\b(?:(?:severe|splitting|thunderclap|pounding|occipital|worst)\s+(?:\w+\s+){0,3}"
                r"headache|head\s+is\s+(?:pounding|splitting|exploding)|bp\s*(?:of\s+|is\s+|:)?\s*"
                r"(?:1[89]\d|2\d\d)|(?:blood\s+pressure|machine|monitor)\s+(?:is\s+|was\s+|said\s+|read\s+)?"
                r"(?:really\s+|very\s+|dangerously\s+)?(?:high|1[89]\d|2\d\d)|\b(?:1[89]\d|2\d\d)\s*/\s*"
                r"1[0-4]\d)"
            ),
        ),
        "signs of a hypertensive crisis on an MAOI (emergency medical care now)",
        void=_rx(r"\b(?:mentioned|if\s+the\s+next|next\s+week|does\s+the\s+diet|should\s+i)\b"),
    ),
    UrgentSign(
        # NICE CG192 1.10: suspected postpartum psychosis needs assessment within 4 hours
        "postpartum psychosis",
        (
            _rx(
                r"\b(?:since\s+(?:our|the|my|her)\s+(?:new\s+)?(?:baby|daughter|son|twins)\s+(?:was|were)\s+"
                r"born|gave\s+birth|giving\s+birth|had\s+(?:our|the|a|her)\s+baby|post[-\s]?partum|"
                r"new\s+(?:mum|mom|mother)|born\s+(?:\d+|two|three|four|five|six|ten|twelve)\s+days\s+ago|"
                r"post-?natal(?:ly)?|pp\s+day|after\s+(?:the\s+)?birth|(?:\d+|two|three|four|five|six)\s+"
                r"(?:days?|weeks?)\s+(?:after\s+(?:the\s+)?birth|post-?partum|old\s+baby)|new(?:born|"
                r"\s+baby))\b"
            ),
            # the mother's belief, not a sibling's jealousy ("my 7 year old says the baby is evil")
            _rx(
                r"\b(?:she|mum|mom|mother|my\s+(?:wife|partner)|the\s+mother)\s+(?:\S+\s+){0,8}?(?:says|said|"
                r"thinks|believes|is\s+convinced|keeps\s+saying)\s+(?:that\s+)?(?:the|our|her|my)\s+baby\s+"
                r"(?:is|was|has\s+been)\s+(?:the\s+devil|evil|possessed|a\s+demon|swapped|replaced|not\s+"
                r"(?:hers|ours|really))|\b(?:she|mum|mom|mother|my\s+(?:wife|partner))\s+(?:\w+\s+){0,2}"
                r"(?:says|thinks|believes|is\s+convinced)\s+(?:that\s+)?she\s+(?:is|was|has\s+been)\s+"
                r"chosen|\bmy\s+(?:new\s+)?(?:baby|newborn)\s+is\s+(?:evil|the\s+devil|possessed)|"
                r"\bbaby\s+(?:has\s+been|was|is)\s+(?:swapped|replaced)|\bvoices?\s+(?:say|says|said|"
                r"tell|tells|told|telling)|\bbaby\s+(?:needs|has)\s+to\s+be\s+(?:sacrificed|saved|killed)|"
                r"god\s+(?:is\s+)?sending\s+(?:her|me)\s+messages|messages?\s+through\s+the\s+(?:tv|radio)|"
                r"implanted\s+a\s+chip|(?:the\s+)?baby\s+wasn'?t\s+really\s+(?:theirs|hers|ours)"
            ),
        ),
        "possible postpartum psychosis (a psychiatric emergency: assessment by the perinatal or "
        "crisis team within hours; do not leave the mother alone with the baby meanwhile)",
        window=400,
    ),
    UrgentSign(
        # persecutory beliefs with a weapon in the other person's hands
        "psychosis with a weapon",
        (
            _rx(
                r"\b(?:machete|knife|knives|gun|shotgun|rifle|axe|hammer|baseball\s+bat|crossbow|"
                r"sword|blade|carving\s+knife)\b"
            ),
            _rx(
                r"\b(?:reckons|convinced|thinks|believes|says)\s+(?:that\s+)?(?:the\s+)?(?:feds|police|"
                r"cops|government|neighbou?rs?|people|they|someone|somebody|mi5|cia|fbi|aliens|"
                r"demons)\s+(?:are|is|were|have|has)\s+(?:in|watching|after|following|coming|"
                r"poisoning|spying|listening|out\s+to)|\bparanoi\w+|\bpersecutory|\bvoices\b|\bout\s+to\s+get\s+(?:him|"
                r"her|them)|\b(?:reading|controlling)\s+(?:his|her)\s+thoughts|\bplanning\s+to\s+"
                r"(?:kidnap|kill|hurt)\s+(?:him|her)|\bbelieves\s+\w+\s+(?:is\s+|are\s+)?following"
            ),
            _rx(
                r"\b(?:by\s+(?:the|his|her)\s+(?:front\s+)?(?:door|bed)|under\s+(?:his|her)\s+(?:pillow|"
                r"bed)|(?:he|she)\s+(?:carries|is\s+carrying|sleeps\s+with|keeps)|\bcarrying\s+(?:a|the)\s+"
                r"\w+|\bgot\s+(?:his|her)\s+\w+\s+out|on\s+(?:his|her)\s+bedside\s+table|keeps\s+(?:a|the)\s+"
                r"\w+\s+in\s+(?:his|her)\s+(?:coat|pocket|bag|car)|(?:he'?s|she'?s|he\s+has|she\s+has)"
                r"\s+(?:got\s+)?(?:a|the|his|her)\s+(?:\w+\s+)?(?:machete|knife|gun|shotgun|axe|hammer|bat|"
                r"sword|blade))"
            ),
        ),
        "persecutory beliefs with a weapon at hand (possible danger to others and to the "
        "person: emergency services or the crisis team now)",
    ),
)

#: A child writing about themselves ("I'm 14", "im 13", "(15F)"), not "I'm 9 years sober".
_CHILD_SELF = (
    r"\b(?:i'?m|i\s+am|im)\s+(?:only\s+)?(?:1[0-7]|[6-9])\b(?!\s*(?:%|kg|lbs?|stone|st|days?|weeks?|"
    r"months?|years?|yrs?|hours?|minutes?|times?|miles?|k\b))|\(\s*(?:1[0-7])\s*[mfMF]?\s*\)|"
    r"\b(?:1[0-7])\s*[mfMF]\b"
)
_CHILD = (
    r"\b(?:\d+\s*(?:-\s*)?(?:year|yr)s?\s*(?:-\s*)?old|daughter|son|child|kid|toddler|niece|nephew|"
    r"pupils?|students?|granddaughter|grandson|stepdaughter|stepson|little\s+(?:girl|boy)|lads?|"
    r"under-?1\d|year\s+\d\s+(?:class|pupil)|\((?:\d|1[0-7])\)|\d{1,2}\s*yo|\d{1,2}\s*y/o)\b"
)
_ADULT = (
    r"(?:stepdad|step-?father|stepmum|stepmom|dad|father|mum|mom|mother|(?:mum|mom|mother)'?s\s*"
    r"(?:boyfriend|bf|partner|husband)|uncle|grandad|granddad|grandpa|coach|teacher|babysitter|"
    r"priest|tutor|(?:new\s+)?partner|boyfriend)"
)
_PARTNER = (
    r"\b(?:partner|husband|boyfriend|wife|girlfriend|ex|fianc\w+|bf|gf|perp\w*|dv|domestic|"
    r"abuser|relationship|(?:scared|afraid|terrified)\s+to\s+leave|terrified|controlling)\b"
)
#: Safeguarding emergencies: what is disclosed needs the local procedure today.
SAFEGUARDING_SIGNS: tuple[UrgentSign, ...] = (
    UrgentSign(
        "child abuse disclosure",
        (
            _rx(
                r"\b(?:"
                + _ADULT
                + r"|he|she)\s+(?:\w+\s+){0,6}?(?:touch(?:es|ed|ing)|fondl\w+|molest\w*|"
                r"locks\s+(?:him|her)\s+in|burn(?:ed|t|s)\s+(?:his|her)|beats?\s+(?:him|her)|hits\s+(?:him|her)|"
                r"(?:sexually\s+)?abus(?:es|ed|ing)(?!\s+(?:drugs|alcohol|opiates|opioids|substances|pills|"
                r"heroin|cocaine|meth|painkillers|the\s+system|(?:his|her)\s+(?:power|position)))|hurts\s+(?:his|her)\s+(?:willy|private\w*|bottom|"
                r"vagina|penis)|com(?:es|ing)\s+in(?:to)?\s+(?:her|his)\s+(?:bed)?room\s+at\s+night)\s*"
                r"(?:her|him|them)?\b(?!\s+(?:hair|shoulder|arm|back|hand|face|stuff|things|gently))"
            ),
            _rx(_CHILD),
            _rx(
                r"\b(?:secrets?|babysit\w*|private\s+parts|privates|down\s+there|willy|in\s+(?:the|her|his)"
                r"\s+(?:bed|bedroom|bath|room)|at\s+night|disclosed|told\s+(?:me|her\s+teacher|his\s+teacher|"
                r"a\s+teacher)|without\s+food|cigarette|bruises?|don'?t\s+(?:say|tell))\b"
            ),
        ),
        "a child's disclosure of abuse (follow local child-protection procedures today: "
        "listen, do not investigate, record the child's words and refer to children's social "
        "care or the police)",
    ),
    UrgentSign(
        # a child telling it themselves: "I'm 14 and my stepdad hits me when he's drunk"
        "child abuse disclosure",
        (
            _rx(_CHILD_SELF),
            _rx(
                r"\b" + _ADULT + r"\s+(?:\w+\s+){0,3}?(?:(?:hits|beats|hurts|touches|kicks|punches|"
                r"chokes|strangles|burns|slaps|locks)\s+me\b(?!\s+up)|keeps?\s+(?:hitting|hurting|"
                r"touching|beating|kicking|punching)\s+me\b|(?:hit|beat|hurt|touched|kicked|punched|"
                r"slapped|strangled|choked|burnt|burned)\s+me\s+(?:with\s+a\s+\w+\s+)?(?:again|last\s+"
                r"night|yesterday|today|this\s+morning|tonight)\b|com(?:es|ing)\s+in(?:to)?\s+my\s+(?:bed)?"
                r"room|makes\s+me\s+(?:touch|watch)|said\s+if\s+i\s+tell\s+(?:anyone|anybody|someone))"
            ),
        ),
        "a child's disclosure of abuse (follow local child-protection procedures today: "
        "listen, do not investigate, record the child's words and refer to children's social "
        "care or the police)",
    ),
    UrgentSign(
        # a young person's own report without an age: a parent's beating with injuries, kept secret
        "child abuse disclosure",
        (
            _rx(
                r"\b(?:my\s+)?(?:dad|mum|mom|stepdad|stepmum|stepmom|father|mother)\s+(?:\w+\s+){0,2}?"
                r"(?:hits|beats|kicks|punches|burns)\s+me\s+with"
            ),
            _rx(r"\b(?:bruises?|marks|bleeding|welts)\b"),
            _rx(r"\b(?:don'?t|dont)\s+tell\s+(?:anyone|anybody)|\bscared\s+to\s+go\s+home\b"),
        ),
        "a child's disclosure of abuse (follow local child-protection procedures today: "
        "listen, do not investigate, record the child's words and refer to children's social "
        "care or the police)",
    ),
    UrgentSign(
        # non-fatal strangulation, whoever did it: a marker of homicide risk in abuse
        "non-fatal strangulation",
        (
            _rx(
                r"\b(?:squeezed|grabbed|held|choked|strangled|(?:had|put)\s+(?:his|her)\s+hands?\s+"
                r"(?:round|around))\s+(?:me|her|my|his)\s+(?:by\s+the\s+)?(?:neck|throat)\b|\b(?:arm|hands?|knee)\s+"
                r"(?:across|on|against)\s+(?:my|her)\s+(?:neck|throat)\b|\b(?:strangl(?:ed|ing|"
                r"es|e)|chok(?:ed|ing))\s+(?:me|her)\b(?!\s+out)|\b(?:neck|throat)\b[^.!?\n]{0,40}"
                r"(?:couldn'?t|could\s+not|can'?t)\s+breathe|\b(?:nearly\s+passed\s+out|until\s+(?:i|she)\s+"
                r"(?:nearly\s+)?passed\s+out)\b"
            ),
            _rx(
                r"\b(?:he|she|partner|husband|boyfriend|bf|wife|girlfriend|gf|ex|dad|stepdad|mum|"
                r"someone|client|pt)\b"
            ),
        ),
        "non-fatal strangulation (a high-risk sign of domestic abuse: follow local safeguarding "
        "procedures today, such as a DASH risk assessment and a MARAC referral in the UK, and plan "
        "for the person's safety now)",
        void=_rx(
            r"\b(?:jiu[- ]?jitsu|bjj|judo|mma|wrestl\w*|sparring|grappl\w*|documentary|podcast|"
            r"film|movie|series|collar|lead|harness|choked\s+(?:on|up)|strangler)\b"
        ),
    ),
    UrgentSign(
        "domestic abuse",
        (
            _rx(
                r"\bthreat(?:en(?:ed|s|ing)?)?\s+to\s+kill\s+(?:me|her|him|us|the\s+(?:kids|children))\b"
                r"|\b(?:says?|said)\s+(?:he|she)(?:'ll|\s+will|'d|\s+would|d)\s+kill\s+(?:me|her|us)\s+if\s+"
                r"(?:i|she|he)\s+(?:ever\s+)?(?:leave|left|try\s+to\s+leave|call\s+the\s+police|report|"
                r"tell\s+(?:anyone|anybody|someone|the\s+police)|do(?!\s+(?:badly|bad|poorly|worse|"
                r"that|it\s+again|well)))|\bdash\s+(?:score\s+)?(?:(?:of|is|=|:)\s*)?"
                r"(?:1[4-9]|2\d)|\bmarac\s+(?:referral|referred)|\breferr\w+\s+to\s+marac\b"
                r"|\b(?:says?|said|told\s+(?:me|her))\s+(?:that\s+)?if\s+(?:i|she)\s+(?:ever\s+)?(?:tried\s+to\s+|"
                r"try\s+to\s+)?(?:leave|left|take\s+the\s+(?:kids|children)|go\s+to\s+the\s+police|call\s+the\s+"
                r"police|tell\s+(?:anyone|anybody|someone))(?:\s+(?:him|her))?,?\s+(?:he|she)(?:'d|d|'ll|\s+"
                r"will|\s+would)\s+kill\s+(?:me|her)\b"
                r"|\b(?:told\s+(?:me|her))\s+(?:he|she)(?:'d|d|'ll|\s+will|\s+would)\s+kill\s+(?:me|her)\s+"
                r"if\s+(?:i|she)\s+(?:ever\s+)?(?:tried\s+to\s+|try\s+to\s+)?(?:leave|left|take|go|call|tell)"
                r"|\byou'?re\s+dead\s+if\s+you\b|\b(?:held|holding|pulled)\s+(?:a|the)\s+(?:kitchen\s+)?"
                r"(?:knife|gun)\s+(?:up|to\s+(?:me|her|my|her))"
            ),
            _rx(_PARTNER),
        ),
        "domestic abuse with high-risk signs (threats to kill or weapons: follow local "
        "safeguarding procedures today, such as a DASH risk assessment and a MARAC referral in "
        "the UK, and plan for the person's safety now)",
    ),
)

#: A threat to harm someone else, with a concrete method or the means at hand: "I'm going to go
#: round there and stab him", "I've got a knife in my bag and I'm going to use it on him",
#: "bring my dad's gun to school". A bare "I'm going to kill him" is everyday anger and stays
#: with the classifier, and so do games, sport, cooking and photography.
_VICTIM = (
    r"(?:him|her|them(?!\s+(?:with\s+a\s+(?:fork|skewer|knife)|in\s+(?:factor|sun|cream|butter|"
    r"sauce|kisses)))|everyone(?!\s+in\s+(?:fortnite|cod|warzone|minecraft|the\s+game|game))|"
    r"everybody|people|the\s+lot\s+of\s+(?:them|you)|all\s+of\s+them|my\s+(?:\w+\s+)?(?:baby|son|"
    r"daughter|child|kids?|wife|husband|partner|ex|boss|mum|mom|dad|mother|father|neighbou?rs?|"
    r"teacher|brother|sister|manager|stepdad|stepmum|stepmom|stepfather|uncle|aunt|cousin|"
    r"flatmate|roommate|landlord|colleague|bf|gf|boyfriend|girlfriend)(?!'s|’s)|(?:his|her|my)\s+"
    r"ex'?s\s+(?:new\s+)?(?:boyfriend|girlfriend|partner|husband|wife)|that\s+(?:bastard|prick|"
    r"twat|bitch|cunt|arsehole|asshole|guy|man|woman|idiot)|the\s+(?:solicitor|lawyer|judge|guy|"
    r"bloke|man|woman)|(?:his|her)\s+(?:brother|sister|boss|ex)|the\s+(?:baby|kids?|"
    r"children|neighbou?rs?|teacher|boss|class|school)(?!'s|’s)|(?:his|her|their)\s+(?:new\s+)?"
    r"(?:boyfriend|girlfriend|partner|wife|husband))"
)
_WEAPON = (
    r"(?:knife|gun|blade|machete|rifle|shotgun|pistol|axe|hunting\s+knife|baseball\s+bat|"
    r"petrol|jerry\s+can|crossbow)"
)
THREAT_TO_OTHERS = UrgentSign(
    "threat to others",
    (
        _rx(
            r"\b(?:i'?m|i\s+am|im|i'?ll|i\s+will|i'?m\s+gonna|gonna|going\s+to)\s+(?:\w+\s+){0,5}?"
            r"(?:stab|shoot(?!\s+(?:him|her|them|you)\s+(?:a|an)\s+(?:text|message|email|dm|line|pm))|"
            r"strangle|smother(?!\s+(?:\S+\s+){1,2}(?:in|with)\b)|suffocate|drown|poison|set\s+fire\s+to|"
            r"burn\s+down)\s+" + _VICTIM + r"\b"
            r"|\b(?:kill|hurt|stab|shoot|cut|get)\s+"
            + _VICTIM
            + r"\b[^\n]{0,80}?\b(?:(?:i'?ve|i\s+have|"
            r"i'?ve\s+already|already)\s+got|i\s+(?:bought|have|keep|carry)|got|keeps?)\s+(?:the|a|my|"
            r"his|her)\s+(?:\w+\s+)?" + _WEAPON + r"\b"
            r"|\b(?:got|have|carry|carrying|keep)\s+(?:a|my|the)\s+"
            + _WEAPON
            + r"\b[^.!?\n]{0,60}?\b"
            r"(?:use\s+it\s+on|stab|shoot|cut|hurt|kill)\s+" + _VICTIM + r"\b"
            r"|\b(?:bring|take|taking|bringing)\s+(?:a|my|my\s+\w+'s|the)\s+(?:gun|rifle|weapon|"
            r"shotgun|pistol)\s+(?:\w+\s+){0,3}?(?:to|into)\s+(?:school|work|class|college|the\s+office)"
            r"|\b(?:bring|take|get|use|grab)\s+(?:a|my|my\s+\w+'s|the)\s+(?:gun|rifle|weapon|shotgun|"
            r"pistol)\b[^.!?\n]{0,40}?\b(?:make\s+(?:them|everyone|you)\s+(?:all\s+)?pay|(?:kill|"
            r"shoot|hurt)\s+" + _VICTIM + r")\b"
            r"|\b(?:pillow|cushion|bag)\s+over\s+(?:her|his|their|the\s+baby'?s)\s+(?:face|mouth)\b"
            r"|\b(?:going|gonna|i'?ll)\s+(?:to\s+)?(?:\w+\s+){0,3}?(?:burn|torch)\s+(?:his|her|their)\s+"
            r"(?:house|flat|car)\s+down\s+with\s+(?:him|her|them)\s+in\s+it"
            r"|\b(?:going|gonna)\s+to\s+(?:make\s+(?:him|her|them)\s+pay|shoot|stab|kill)\b[^.!?\n]{0,160}?"
            r"\b(?:bought|got|have|has|ready)\s+(?:a|the|his|my)\s+(?:\w+\s+)?" + _WEAPON + r"\b"
            r"|\b(?:bought|got|have|has)\s+(?:a|the|his|my)\s+(?:\w+\s+)?"
            + _WEAPON
            + r"\b[^\n]{0,200}?"
            r"\b(?:going|gonna)\s+to\s+(?:make\s+(?:him|her|them)\s+pay|shoot|stab|kill)\b"
            r"|\b(?:going|gonna)\s+to\s+shoot\s+"
            + _VICTIM
            + r"[^.!?\n]{0,80}?\b(?:has|have|got)\s+"
            r"(?:a|the|his)\s+(?:\w+\s+)?" + _WEAPON + r"\b"
        ),
    ),
    "a threat to harm someone else (assess the risk to others now; follow local safeguarding "
    "procedures; emergency services if it is imminent)",
    window=150,
    void=_rx(r"\b(?:fortnite|warzone|call\s+of\s+duty|minecraft|resident\s+evil|zombies?)\b"),
)


def urgent_signs(text: str) -> list[tuple[UrgentSign, str]]:
    """Every emergency sign in ``text`` with the phrase it rests on, in a fixed order (medical,
    safeguarding, then a threat to others)."""
    found = []
    for sign in (*MEDICAL_SIGNS, *SAFEGUARDING_SIGNS, THREAT_TO_OTHERS):
        phrase = sign.search(text)
        if phrase:
            found.append((sign, phrase))
    return found
