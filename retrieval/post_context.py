"""What a post says about its situation, beyond the labels: whom it is about, and whether
treatment has already started.

Some passages fit only part of the people with a condition, and shown to the rest they are noise
a clinician notices at once:

* **Population.** Therapies for children and young people, and support for families and carers,
  are written for someone other than the adult who is struggling ("CBT with ERP for children" for
  a 30-year-old's OCD post); shown to a parent or partner they are often exactly right.
  :func:`detect_population` returns the populations a post is about:

  - ``children_young_people``: the writer says they are under 18 ("I'm 15", "(16f)", "in year
    10", "my parents won't let me"), or writes about their child ("our son is 4 ... he can't sit
    still": a child named and referred to as he or she), or describes a young person by age
    ("15 year old student, teachers concerned": a practitioner's note).
  - ``families_carers``: the writer names someone close (a relative, partner or friend) and
    refers to a third person at least :data:`CARER_MIN_THIRD` times ("My brother washes for
    hours. His hands are raw"), or says "I'm his carer" or "worried about my ...". "My
    girlfriend noticed I cancel everything" stays the writer's own post.

* **Treatment already started.** Reviews of treatment that is not working, monitoring or stopping
  a medication, and relapse prevention after recovery presuppose treatment ("Stopping
  antidepressants safely" for someone who has never been treated). :func:`mentions_treatment`
  finds medication (classes and common names), therapy, prescribers and services, detox and
  rehab, recovery and relapse.

* **Difficulties of years.** A passage on chronic depressive symptoms (two years or more) for a
  post about two bad months is advice a clinician would not give. :func:`mentions_long_duration`
  finds durations of years, "since I was a teenager", "most of my life", "chronic".

Passages declare these in their front matter (``population``, ``after_treatment``,
``long_standing``), and the
retriever's metadata prior holds them back when the post does not match (``HybridRetriever``).
The patterns lean towards finding: a false find only keeps the ranking the passage would have
had anyway, while a miss would hold back what a worried parent or a person on medication needs.
"""

from __future__ import annotations

import re

CHILDREN = "children_young_people"
CARERS = "families_carers"
POPULATIONS: tuple[str, ...] = (CHILDREN, CARERS)

#: Third-person pronouns needed before a post counts as being about someone else.
CARER_MIN_THIRD = 2

#: "my" or "our", then up to two words such as "adult", "younger", "16-year-old" or "(16)".
_POSSESSIVE = r"\b(?:my|our)\s+(?:[\w()-]+\s+){0,2}?"
#: "my 16 year old", "our 15-year-old": an age standing for the child.
_AGED = r"|\b(?:my|our)\s+\d{1,2}\s*-?\s*(?:year|yr)s?\s*-?\s*old\b"
_CHILD_OF_WRITER = re.compile(
    _POSSESSIVE + r"(?:son|daughter|child|children|kid|kids|teen|teenager|stepson|stepdaughter|"
    r"boy|girl|baby)\b" + _AGED,
    re.IGNORECASE,
)
_MINOR_WRITER = re.compile(
    r"\b(?:i'?m|i am|im)\s+(?:only\s+)?(?:1[0-7]|[6-9])\b(?!\s*(?:%|percent|hours|days|weeks|"
    r"months|kg|lbs?|pounds|stone|am|pm|minutes))"
    r"|[(\[]\s*(?:1[0-7])\s*(?:[fm]|nb|y/?o)\s*[)\]]"
    r"|\b(?:1[0-7])\s*(?:y/?o|yrs? old|years? old)\b(?=[^.!?]{0,40}\b(?:i|me|my)\b)"
    r"|\b(?:in|at)\s+(?:year\s+(?:[7-9]|1[0-3])|(?:high|secondary|middle)\s+school|sixth form)\b"
    r"|\bmy (?:parents|mum and dad|mom and dad) (?:won'?t|wont|don'?t|dont|say|said|think|"
    r"make|made|found)\b",
    re.IGNORECASE,
)
#: A young person described by age, as a practitioner's note or a carer puts it ("15 year old
#: student, teachers concerned", "Pt is a 14yo F").
_MINOR_DESCRIBED = re.compile(
    r"\b(?:1[0-7]|[6-9])\s*(?:yo|y/o|y\.o\.|-?\s*(?:year|yr)s?[- ]old)\s*(?:f|m|female|male|boy|"
    r"girl|student|pupil|child|kid)\b",
    re.IGNORECASE,
)
_CLOSE_OTHER = re.compile(
    _POSSESSIVE + r"(?:son|daughter|child|kid|teen|teenager|husband|wife|partner|boyfriend|"
    r"girlfriend|bf|gf|fiance|fiancee|fiancé|fiancée|mum|mom|mother|dad|father|brother|sister|"
    r"sibling|friend|flatmate|roommate|housemate|grandma|grandmother|grandpa|grandfather|aunt|"
    r"uncle|cousin|stepson|stepdaughter|stepdad|stepmum|stepmom|boy|girl)\b" + _AGED,
    re.IGNORECASE,
)
#: The writer says outright that they care for or worry about someone.
_CARER_SELF = re.compile(
    r"\b(?:i'?m|i am|im|as)\s+(?:his|her|their|the|a)\s+(?:\w+\s+)?carer\b"
    r"|\bcaring for (?:my|our)\b|\bworried (?:sick )?about (?:my|our)\b",
    re.IGNORECASE,
)
_THIRD = re.compile(r"\b(?:he|she|him|her|his|hers|himself|herself|he'?s|she'?s)\b", re.I)


def detect_population(text: str) -> frozenset[str]:
    """The populations a post is about (empty: an adult writing about themselves)."""
    found: set[str] = set()
    third = len(_THIRD.findall(text))
    if (
        _MINOR_WRITER.search(text)
        or _MINOR_DESCRIBED.search(text)
        or (third and _CHILD_OF_WRITER.search(text))
    ):
        found.add(CHILDREN)
    if _CARER_SELF.search(text) or (third >= CARER_MIN_THIRD and _CLOSE_OTHER.search(text)):
        found.add(CARERS)
    return frozenset(found)


_TREATMENT = re.compile(
    r"\b(?:meds?|medications?|medicines?|pills?|tablets?|prescri\w+|doses?|dosage|"
    r"ssris?|snris?|antidepressants?|antipsychotics?|mood stabili[sz]ers?|stimulants?|"
    r"sertraline|fluoxetine|citalopram|escitalopram|paroxetine|prozac|zoloft|lexapro|"
    r"venlafaxine|effexor|mirtazapine|duloxetine|bupropion|wellbutrin|quetiapine|seroquel|"
    r"olanzapine|aripiprazole|abilify|risperidone|clozapine|lithium|lamotrigine|depakote|"
    r"valproate|ritalin|concerta|adderall|elvanse|vyvanse|methylphenidate|lisdexamfetamine|"
    r"atomoxetine|strattera|propranolol|pregabalin|diazepam|benzos?|naltrexone|acamprosate|"
    r"antabuse|disulfiram|methadone|buprenorphine|subutex|suboxone|"
    r"therap(?:y|ies|ist)|counsell?(?:ing|or)|cbt|erp|emdr|dbt|psychiatrist|psychologist|cpn|"
    r"care coordinator|mental health team|crisis team|rehab|detox|relapsed?|relapses|"
    r"recover(?:ed|y|ing)|treatment|sober|clean for)\b",
    re.IGNORECASE,
)


_LONG_STANDING = re.compile(
    r"\b(?:(?:[2-9]|[1-9]\d|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|"
    r"many|several|a\s+few|a\s+couple\s+(?:of\s+)?)\+?\s*(?:years?|yrs?)(?![\s-]*old)|(?:for|over|in)\s+(?:the\s+"
    r"(?:last|past)\s+)?(?:years|decades?)|since\s+(?:i\s+was\s+(?:a\s+)?(?:kid|child|teen\w*|little|"
    r"young|\d+)|childhood|(?:my\s+)?(?:teens|school|high\s+school|uni|university|college))|as\s+long\s+"
    r"as\s+i\s+(?:can|could)\s+remember|(?:most|all)\s+of\s+my\s+(?:adult\s+)?life|(?:my\s+)?whole"
    r"\s+(?:adult\s+)?life|all\s+my\s+life|chronic(?:ally)?|long[\s-]standing|long[\s-]term|"
    r"persistent|dysthymi\w*|on\s+and\s+off\s+for)\b",
    re.IGNORECASE,
)


def mentions_long_duration(text: str) -> bool:
    """Whether the post says its difficulties have lasted years ("on and off for 6 years",
    "since I was a teenager", "most of my adult life", "chronic")."""
    return bool(_LONG_STANDING.search(text))


def mentions_treatment(text: str) -> bool:
    """Whether the post mentions treatment already started: medication, therapy, services,
    detox or rehab, recovery or relapse."""
    return bool(_TREATMENT.search(text))


#: Situations a passage can require (its ``requires`` front matter): a passage on grief after a
#: death, baby loss, perinatal mental health, later life, a substance, a medicine's emergency or
#: abuse fits only a post that shows that situation. Without it, it is noise a clinician notices
#: at once (postpartum psychosis for a widower of 72, alcohol withdrawal for a cannabis user).
_SITUATION_PATTERNS: dict[str, str] = {
    "bereavement": (
        r"\b(?:died|passed\s+away|(?:has|had|have|just|recently)\s+passed|passed\s+(?:last|in|on|"
        r"recently|\d)|(?:wife|husband|mum|mom|dad|mother|father|partner|son|daughter|brother|sister|"
        r"nan|gran|grandad|grandma|grandpa|friend)\s+passed|death\s+of|funeral|widow(?:ed|er)?|"
        r"bereave\w*|grie(?:f|ving|ve)|lost\s+(?:my|our|his|her)\s+(?:\w+\s+)?(?:mum|mom|mother|dad|"
        r"father|wife|husband|partner|son|daughter|child|baby|brother|sister|nan|gran|grandad|grandma|"
        r"grandpa|friend)\b(?!\s+(?:'s\s+)?(?:job|keys|phone|number))|killed\s+(?:him|her|them)sel(?:f|ves)|"
        r"took\s+(?:his|her|their)\s+(?:own\s+)?life|since\s+(?:\w+\s+){0,2}died|anniversary\s+of)"
    ),
    "baby_loss": (
        r"\b(?:miscarr\w+|still\s?b(?:orn|irth)|lost\s+(?:the|our|my)\s+baby|neonatal\s+death|"
        r"ectopic|pregnancy\s+loss|baby\s+(?:died|passed)|tfmr|termination\s+for\s+medical|chemical\s+"
        r"pregnancy|born\s+sleeping|angel\s+baby)"
    ),
    "perinatal": (
        r"\b(?:pregnan\w+|expecting\s+(?:a|our|my)|newborn|new\s+baby|(?:had|having)\s+(?:a|my|our)\s+"
        r"baby|gave\s+birth|giving\s+birth|birth|postnatal|post-?natal|post-?partum|post\s+partum|"
        r"breast\s?feed\w*|maternity|antenatal|ante-?natal|perinatal|my\s+baby|our\s+baby|the\s+baby|"
        r"trying\s+(?:for\s+a\s+baby|to\s+conceive)|conceiv\w+|ivf|\d+\s*(?:weeks?|months?)\s+"
        r"(?:pp|postpartum|post\s+partum))"
    ),
    "postnatal": (
        r"\b(?:newborn|new\s+baby|(?:had|having)\s+(?:a|my|our|the)\s+(?:baby|twins)|had\s+our\s+\w+|"
        r"gave\s+birth|since\s+(?:the\s+)?(?:birth|delivery)|postnatal|post-?natal|post-?partum|post\s+"
        r"partum|breast\s?feed\w*|\d+\s*(?:days?|weeks?|months?)\s+(?:old|postpartum|pp)\b|"
        r"(?:days?|weeks?|months?)\s+(?:after|since)\s+(?:the\s+)?(?:birth|delivery|c-?section))"
    ),
    "self_harm": (
        r"\b(?:self[\s-]?harm\w*|cut(?:s|ting)?\s+(?:myself|herself|himself|themselves|my|her|his|their|on)|"
        r"cutting|cut\s+(?:deep|deeper|again|too|tonight|today|badly|last\s+night)|bleeding|plasters?|"
        r"steri-?strips|burn(?:s|t|ed|ing)?\s+(?:myself|herself|himself|themselves|my|her|his)|"
        r"overdos\w*|od'?d|took\s+(?:a\s+load\s+of|all|loads\s+of|too\s+many|\d+)\s+(?:\w+\s+){0,2}?"
        r"(?:pills|tablets|painkillers|meds|medication|paracetamol)|(?:hurt|hurting|harm|harming|"
        r"injur\w+|hit|hitting|scratch\w*)\s+"
        r"(?:myself|herself|himself|themselves)|stitches|ligature|razors?|blades?|scars?|wounds?)"
    ),
    "older_adult": (
        r"\b(?:elderly|older\s+(?:adult|person|people|man|woman|relative|parent|mum|mom|dad|"
        r"patient|client)s?|pensioner|care\s+home|nursing\s+home|residential\s+care|dementia|"
        r"retired|retirement|in\s+(?:my|his|her|their)\s+(?:sixties|seventies|eighties|nineties|"
        r"late\s+sixties)|(?:6[5-9]|[7-9]\d|10\d)\s*(?:y/?o|yrs?|years?\s+old|[mf]\b)|(?:i'?m|i\s+am|"
        r"aged?|he'?s|she'?s|is)\s+(?:6[5-9]|[7-9]\d|10\d)\b|\(\s*(?:6[5-9]|[7-9]\d|10\d)\s*[mf]?\s*\)|"
        r"widow(?:ed|er)|grand(?:mother|father|ma|pa|dad|children|kids|son|daughter)|nan\b|gran\b)"
    ),
    "alcohol": (
        r"\b(?:alcohol\w*|drink(?:ing|s|er|ers)?|drank|drunk|booze|boozing|beers?|wine|vodka|"
        r"whisk(?:e)?y|gin|rum|cider|lager|pints?|cans|spirits|hangovers?|sober|sobriety|aa|"
        r"units|liquor|shots|blackout|dts|detox)"
    ),
    "drugs": (
        r"\b(?:heroin|opioids?|opiates?|fentanyl|fent|methadone|buprenorphine|subutex|suboxone|"
        r"codeine|tramadol|oxy\w*|morphine|painkillers?|smack|gear|naloxone|narcan|inject\w*|needles?|"
        r"overdos\w*|od'?d|ketamine|ket|ghb|gbl|benzos?|xanax|xans|valium|diazepam|cocaine|coke|"
        r"crack|meth|speed|amphetamines?|mdma|ecstasy|pills|drugs|(?:been|started|using)\s+using|using\s+"
        r"again|detox|rehab)"
    ),
    "cannabis": (
        r"\b(?:weed|cannabis|marijuana|pot|spliffs?|joints?|skunk|thc|edibles|stoned|bud|vape\s+pen|"
        r"dab\w*|smok(?:e|ing)\s+up)"
    ),
    "confusion": (
        r"\b(?:confus\w+|disorient\w+|memory\s+(?:problems|loss|is\s+getting)|forget(?:ful|ting)|"
        r"dementia|delirium|not\s+making\s+sense|wander\w*|doesn'?t\s+(?:know|recogni[sz]e))"
    ),
    "veteran": (
        r"\b(?:veterans?|army|military|armed\s+forces|forces|soldiers?|navy|raf|marines?|"
        r"tours?\s+(?:of|in)|tours|deploy\w+|combat|ex-?forces|ex-?army|afghanistan|iraq|vet\b)"
    ),
    "lithium": r"\b(?:lithium|priadel|camcolit)",
    "serotonergic": (
        r"\b(?:ssris?|snris?|sertraline|fluoxetine|citalopram|escitalopram|paroxetine|venlafaxine|"
        r"duloxetine|mirtazapine|clomipramine|tramadol|mdma|ecstasy|triptans?|sumatriptan|"
        r"linezolid|st\.?\s+john'?s\s+wort|antidepressants?|prozac|zoloft|lexapro)"
    ),
    "antipsychotic": (
        r"\b(?:antipsychotics?|clozapine|clozaril|olanzapine|risperidone|quetiapine|seroquel|"
        r"aripiprazole|abilify|haloperidol|haldol|paliperidone|depot|neuroleptics?)"
    ),
    "abuse": (
        r"\b(?:abus\w+|hits?\s+me|hit\s+me|beats?\s+me|beat\s+me|hurts?\s+me|violen\w+|"
        r"controlling|coercive|threaten\w*|scared\s+of\s+(?:him|her|my)|afraid\s+of\s+(?:him|her|my)|"
        r"strangl\w+|chok(?:ed|ing)\s+me|domestic|dv|marac|dash|grooming|touched\s+me|molest\w*|"
        r"neglect\w*|exploit\w*|takes?\s+(?:my|his|her)\s+money|financial\s+abuse)"
    ),
}
SITUATIONS: tuple[str, ...] = (*_SITUATION_PATTERNS, "suicide_bereavement", "elder_abuse")
#: Situations that imply another: a post after a birth is in the perinatal period.
_IMPLIED = {"postnatal": "perinatal"}
_SITUATION_RES = {
    name: re.compile(pattern + r"\b", re.IGNORECASE)
    for name, pattern in _SITUATION_PATTERNS.items()
}


def detect_situations(text: str) -> frozenset[str]:
    """The situations of :data:`SITUATIONS` the post shows (see :data:`_SITUATION_PATTERNS`);
    ``suicide_bereavement`` is someone else's death by suicide
    (:func:`classifiers.rules.context.bereavement_spans`), ``elder_abuse`` later life and abuse
    together."""
    from classifiers.rules.context import bereavement_spans

    found = {name for name, pattern in _SITUATION_RES.items() if pattern.search(text)}
    if bereavement_spans(text):
        found |= {"suicide_bereavement", "bereavement"}
    if {"older_adult", "abuse"} <= found:
        found.add("elder_abuse")
    found |= {_IMPLIED[s] for s in found if s in _IMPLIED}
    return frozenset(found)
