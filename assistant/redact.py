"""Redaction of identifiers before any model or log sees a text.

Regex patterns find emails, URLs, phone numbers (international and national formats), @handles
and Reddit ``u/`` usernames, street addresses (a house number followed by a street word), UK
postcodes in full (outward and inward code), US ZIP codes after a cue ("zip code 62704",
"Springfield, IL 62704") and dates of birth after a cue ("dob 12/03/1990", "born on 12 March
1990"). Names are found by cue heuristics ("my name is X", "I'm X", "called X", "Dr X", "my
sister X", sign-offs); a name is one to three words of letters in any script, with inner
hyphens and apostrophes (Mary-Jane, O'Connor). After most cues only a word that does not start
in lower case counts as a name ("I'm tired" is kept); after an explicit naming cue ("my name
is", "call me", "I'm called", "named") a lower-case name counts too ("my name is renée").
Common words that follow such cues ("I'm Depressed", "I'm Self-Harming", "call me lazy") are
never names. Without a cue, a capitalised first name of the 1990 US census (the ``names``
package's lists, less the names that are also common words: "Will", "Hope", "May") is a name
too ("Sarah and I broke up"), with a capitalised surname after it. Each hit is replaced by a
typed placeholder such as ``[NAME]``; the returned
:class:`~assistant.draft.Redaction` records kind and offsets on the original text, never the value.

Why no NER model: no official spaCy English model is published on PyPI (only unofficial
re-uploads), and models from a hub are not allowed here; the heuristics are tested against
planted identifiers in ``tests/assistant/test_redact.py``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from assistant.draft import Redaction, RedactionKind

# Bounded as the standards bound them (a local part of 64 characters, DNS labels of 63, a few
# labels): unbounded runs made a long hyphenated word ("Mary-Jane-Mary-Jane-...") take seconds,
# each word start scanning the whole run for an "@" or a dot.
_EMAIL = re.compile(
    r"\b[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"
)
_URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"')\]]+"
    r"|\b[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}\.(?:com|org|net|io|co|uk|de|fr|me|info|ly|gg|tv|app)"
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
#: A social handle named by its platform, without "@": "my insta is kayleigh_x_2010", "snap:
#: kaylz.xo". Only a value with a digit, "_" or "." ("my insta is private" is no handle).
_PLATFORM_HANDLE = re.compile(
    r"\b(?:insta(?:gram)?|ig|snap(?:chat)?|tiktok|tik\s+tok|twitter|discord|kik|telegram|"
    r"threads|twitch)(?:\s*(?:handle|name|username|user|account|id))?(?:\s*(?:is|:|-|=)\s*|\s+)"
    r"(?P<id>[A-Za-z0-9](?=[\w.]*[\d_.])[\w.]{1,28}[A-Za-z0-9_])(?![\w.])",
    re.IGNORECASE,
)
_STREET_WORDS = (
    "street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|court|ct|place|pl|way|"
    "terrace|close|crescent|square|sq|highway|hwy|parkway|pkwy|circle|cir|grove|gardens|mews|"
    "rise|row|walk|hill|green|park|vale|view"
)
_ADDRESS = re.compile(
    r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][a-zA-Z'-]+\s+){1,3}(?i:" + _STREET_WORDS + r")\b\.?",
)
# A full UK postcode (outward code, optional space, inward code) in any case: A9 9AA, A99 9AA,
# AA9 9AA, AA99 9AA, A9A 9AA, AA9A 9AA. The letter sets are the Royal Mail's (no Q, V, X first;
# no C, I, K, M, O, V in the inward code), so "10mg" or "x20mg" never read as one. An outward
# code alone ("M25", "B12") is too common in ordinary text to redact without a cue.
_UK_OUTWARD = r"[A-PR-UWYZ](?:\d[A-HJKPSTUW\d]?|[A-HK-Y]\d[ABEHMNPRVWXY\d]?)"
_UK_POSTCODE = re.compile(
    r"\b(?:" + _UK_OUTWARD + r"|GIR)[^\S\n]?\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|"
    "NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
# A postal code after a cue: "zip code 62704", "postcode: LS1 4AB", "post code LS1" (here an
# outward code alone counts).
_POSTAL_CUED = re.compile(
    r"\b(?i:zip\s*code|zip|postal\s+code|post\s*code)\s*(?:is\b|:|#)?\s*"
    r"(?P<id>\d{5}(?:-\d{4})?(?!\d)"
    r"|(?i:" + _UK_OUTWARD + r"(?:[^\S\n]?\d[ABD-HJLNP-UW-Z]{2})?)\b)"
)
# A US ZIP after a state code at the end of an address line: "Springfield, IL 62704".
_US_STATE_ZIP = re.compile(
    r",[^\S\n]*(?:" + _US_STATES + r")[^\S\n]+(?P<id>\d{5}(?:-\d{4})?)(?!\d)"
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?!\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]|20)\d{2}(?!\d)"
_DATE = (
    r"\d{4}[/.-]\d{1,2}[/.-]\d{1,2}(?!\d)"  # 1990-03-12
    r"|\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?!\d)"  # 12/03/1990, 12-03-90
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"  # 12 March 1990, 12th of March
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?"  # March 12, 1990
    rf"|{_MONTH},?\s+{_YEAR}"  # March 1990
)
# A record number after its name: "NHS no 943 476 5919", "MRN: 00123456", "hospital number
# RX1234567", "NI number QQ 12 34 56 C", "SSN 123-45-6789" (a case note's identifiers).
_RECORD_ID = re.compile(
    r"\b(?:nhs|chi|mrn|hospital|patient|client|case|record|ni|national\s+insurance|"
    r"social\s+security|ssn|medicare|medicaid|insurance|member)\s*"
    r"(?:no\.?|num(?:ber)?|#|id)?\s*[:=#-]?\s*"
    r"(?P<id>[a-z]{0,3}\s?\d[\d\s-]{4,14}\d(?:\s?[a-d])?)(?![\w-])",
    re.IGNORECASE,
)
# A card number: 13 to 19 digits in groups ("4111 1111 1111 1111"), with a valid Luhn check
# digit; the phone pattern took its first 15 digits and left the last group.
_CARD = re.compile(r"(?<![\w+])\d{4}(?:[ -]?\d{3,4}){2,3}(?:[ -]?\d{1,4})?(?![\w])")
# An IP address.
_IP = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.])"
)
# An identifier of letters and digits after its name: "passport 533380006", "driving licence
# MORGA657054SM9IJ", "my reg plate is AB12 CDE", "Centrelink CRN 123 456 789A", "TFN 123 456
# 782". The value has a digit and is in capitals or digits (so "my reg plate is hidden" is not).
_CUED_ID = re.compile(
    r"\b(?i:passport|driv(?:ing|er'?s|ers)\s+licen[cs]e|licen[cs]e|reg(?:istration)?\s*(?:plate|"
    r"number|no\.?)?|number\s+plate|licen[cs]e\s+plate|plate|crn|centrelink(?:\s+crn)?|tfn|"
    r"tax\s+file\s+number|ihi|ird|sin|health\s+card|medicare\s+card|account(?:\s+(?:no\.?|number))?|"
    r"sort\s+code|iban)(?:\s+(?i:no\.?|number|#))?\s*(?i:is\b|:|#|=)?\s*"
    r"(?P<id>(?=[A-Z0-9 -]*\d)[A-Z0-9]{2,}(?:[ -][A-Z0-9]{2,}){0,4})(?![\w-])"
)
# An Australian state and postcode: "Fitzroy VIC 3065".
_AU_STATE_POSTCODE = re.compile(r"\b(?:NSW|VIC|QLD|SA|WA|TAS|NT|ACT)[^\S\n]+(?P<id>\d{4})(?!\d)")


def _luhn(digits: str) -> bool:
    """The Luhn check a card number passes (a random 16-digit run fails 9 times in 10)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_DATE_ONLY = re.compile(_DATE, re.IGNORECASE)
# A date of birth: only a date after a cue, so that dates of events ("since 12 March") are kept.
_DATE_OF_BIRTH = re.compile(
    r"\b(?:d\.?o\.?b(?![a-z])\.?|date\s+of\s+birth|birth\s*date|birthday(?:['’]s)?|born)"
    r"\s*(?:(?:is|was)\b\s*)?[:=-]?\s*(?:(?:on|in)\s+)?(?:the\s+)?"
    rf"(?P<id>{_DATE})",
    re.IGNORECASE,
)


def _combining_marks() -> str:
    """The combining marks (Unicode Mn, Mc) of the Basic Multilingual Plane as a class body.

    A range runs on across letters and unassigned code points (a word matches those anyway),
    which keeps the class at about 90 ranges instead of 300.
    """
    ranges: list[list[int]] = []
    bridgeable = True  # nothing but letters, marks or unassigned since the last mark
    for code in range(0x300, 0x10000):
        category = unicodedata.category(chr(code))
        if category in ("Mn", "Mc"):
            if ranges and bridgeable:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
            bridgeable = True
        elif not (category[0] in "LM" or category == "Cn"):
            bridgeable = False
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


# Combining marks belong to a word (a decomposed "Zoe\u0308", the vowel signs of Devanagari or
# Bengali) but are not \w in Python's re.
_MARK = "[" + _combining_marks() + "]"
# One name word: letters with inner hyphens or apostrophes (Mary-Jane, O'Connor, D’Angelo).
_NAME_WORD = r"[^\W\d_](?:[^\W\d_]|" + _MARK + r"|['’-](?=[^\W\d_]))*"
# Up to three words on one line ("Mary Ann Smith"); which of them are kept is decided by
# _name_spans (case and common words), not here, because re has no class for upper case.
# Particles inside a full name ("Maria del Carmen López Ruiz", "Ludwig van Beethoven").
_PARTICLES = frozenset(
    {"de", "del", "della", "la", "las", "los", "da", "das", "do", "dos", "di", "van", "von"}
    | {"der", "den", "ter", "bin", "binti", "al", "el", "le", "du", "y"}
)
_PARTICLE = r"(?:" + "|".join(sorted(_PARTICLES)) + r")"
_NAME_TOKENS = (
    r"(" + _NAME_WORD + r"(?:[^\S\n]+(?:" + _PARTICLE + r"[^\S\n]+){0,2}" + _NAME_WORD + r"){0,4})"
)


@dataclass(frozen=True)
class _NameCue:
    """A pattern whose group 1 holds name candidates.

    ``any_case``: a name in lower case counts too. ``not_before``: what, right after the
    candidates, makes the phrase an idiom rather than a name ("call me picky but"). ``whole``:
    only when every candidate word reads as part of the name.
    """

    pattern: re.Pattern[str]
    any_case: bool = False
    not_before: re.Pattern[str] | None = None
    whole: bool = False


_NAME_CUES = [
    # Explicit naming: "my name is Sam", "her name's Sam", "I'm called Sam", "a son named tom".
    # Here a writer who types in lower case still gives a name.
    _NameCue(
        re.compile(
            r"\b(?i:(?:my|his|her|their|our|your|whose)\s+(?:names?\s+is|name['’]s)|"
            r"(?:i['’]?m|i\s+am)\s+called|named)\s+" + _NAME_TOKENS
        ),
        any_case=True,
    ),
    # "they call me lou", but not the idiom "call me picky, but ...".
    _NameCue(
        re.compile(r"\b(?i:call\s+me)\s+" + _NAME_TOKENS),
        any_case=True,
        not_before=re.compile(r",?\s+(?i:but)\b"),
    ),
    # "I called Sam", "a guy called Sam", "the name is Sam": these also precede lower-case words
    # that are not names ("it is called rumination", "the name is misleading").
    _NameCue(re.compile(r"\b(?i:called|names?\s+is|name['’]s)\s+" + _NAME_TOKENS)),
    # "I'm Sam", "I am Sam" - only when followed by a capitalised non-common word
    _NameCue(re.compile(r"\b(?:I['’]m|Im|im|I am|(?i:this is))\s+" + _NAME_TOKENS)),
    # A form field: "Name: Kateřina Nováková", "Client name - Sam"
    _NameCue(
        re.compile(
            r"(?:^|\n)\s*(?i:(?:full\s+|first\s+|client\s+|patient\s+)?name)\s*[:\-–]\s*"
            + _NAME_TOKENS
        ),
        any_case=True,
    ),
    # A case note's heading: "Client: Mohammed Al-Rashid", "Pt: Sarah Jones" (capitalised only:
    # "Client: reports low mood" is no name)
    _NameCue(
        re.compile(
            r"(?:^|\n|/)\s*(?i:client|patient|pt|service\s+user|young\s+person|re|next\s+of\s+kin|"
            r"nok|carer|parent|guardian|mother|father|gp|sw|social\s+worker|cpn|key\s*worker|"
            r"care\s+coordinator|referrer|interpreter)\s*[:\-–]\s*" + _NAME_TOKENS
        )
    ),
    # A note naming someone: "Seen by Jane Doe, CPN", "Referral for Aisha Rahman", "spoke to
    # Priya Sharma" (capitalised only)
    _NameCue(
        re.compile(
            r"\b(?i:seen\s+by|referred\s+by|referral\s+for|spoke\s+(?:to|with)|"
            r"accompanied\s+by|discussed\s+with)\s+" + _NAME_TOKENS
        )
    ),
    # A name with an age in brackets, or an age after it: "Sarah Jones (34)", "Client (Mohammed,
    # 29)", "I (Emily, 22)"
    _NameCue(re.compile(r"\(\s*" + _NAME_TOKENS + r"\s*,\s*\d{1,2}\s*\)")),
    _NameCue(
        re.compile(
            r"(?:^|(?<=[.!?\n]))\s*"
            + _NAME_TOKENS
            + r"\s*\(\s*\d{1,2}\s*(?:[mfMF]|yo|y/o|yrs?)?\s*\)"
        ),
        whole=True,
    ),
    # Titles: "Dr Patel", "Mrs. Jones"
    _NameCue(re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof)\.?\s+" + _NAME_TOKENS)),
    # Relations: "my sister Anna", "my therapist, John"
    _NameCue(
        re.compile(
            r"\b(?i:my|our|his|her|their)\s+(?i:(?:(?:ex|best|older|younger|little|big|step)"
            r"[\s-]?)?(?:friend|boyfriend|girlfriend|partner|husband|wife|sister|brother|mom|"
            r"mum|mother|dad|father|son|daughter|cousin|aunt|uncle|therapist|counsellor|"
            r"counselor|doctor|gp|psychiatrist|teacher|boss|roommate|flatmate|coworker|colleague|"
            r"fiance|fiancee|grandma|grandpa|grandmother|grandfather|niece|nephew|ex|manager|"
            r"supervisor|neighbour|neighbor|landlord|landlady|housemate|coach|tutor|mentor|"
            r"sponsor|caseworker|keyworker|nurse|pastor|priest|vicar|stepdad|stepmum|stepmom))"
            r"\s*,?\s+" + _NAME_TOKENS
        )
    ),
    # Sign-offs at the end of a post: "Thanks, Sam" / "- Sam"
    _NameCue(
        re.compile(
            r"(?:^|\n)\s*(?i:thanks|thank you|cheers|regards|best|love|xoxo|-|—)[,!.]?\s+"
            + _NAME_TOKENS
            + r"\s*$"
        )
    ),
    # ... or after the last sentence, when all that follows is the name ("Thanks for
    # listening. - Priya"; not "I finished the race. - Proud of myself")
    _NameCue(
        re.compile(
            r"(?<=[.!?])[^\S\n]+(?i:thanks|thank you|cheers|regards|best|love|xoxo|-|—)[,!.]?\s+"
            + _NAME_TOKENS
            + r"\s*$"
        ),
        whole=True,
    ),
    # Bare capitalised words elsewhere are too ambiguous; a name found by a cue is redacted
    # wherever else it appears (second pass in _name_spans).
]
# Words that follow "I'm", "called" or "call me" but are not names; a hyphenated word with any
# part here is not a name either ("Self-Harming", "Anxious-Avoidant"). Leave out words that are
# also common first names (Will, Can, Grace, Hope, Joy, Bill, Mark).
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
    Him Her Them Myself Yourself Himself Herself Themselves Our Your His Their Its Is Am Are Was
    Were Be Been Have Has Had Do Does Did Would Could Should Might Must Don't Can't Won't Didn't
    Isn't Wasn't Ain't Too Even Only Already Ever Again Once Now Later Soon Maybe Probably
    Definitely Actually Apparently Obviously Seriously Totally Completely Absolutely Extremely
    Super Quite Slightly Barely Hardly Constantly Kind Sort Bit Lot Back Out Up Down Off After
    Before Anytime Whatever Anything Lol Btw Tbh Idk Ive Haha Lmao Omg Ugh Um Uh Well Yeah Yep
    Nope Nah Crazy Lazy Selfish Weak Dramatic Names Needy Clingy Sensitive Annoying Difficult
    Toxic Psycho Mental Insane Weird Hard Awful Terrible Horrible Tough Self Harming Cutting
    Sleep Deprived PTSD PTSD'd OCD ADHD
    Ashamed Guilty Paranoid Manic Hypomanic Psychotic Schizophrenic Dissociating Dissociated
    Relapsing Recovering Sober Clean Drunk High Panicking Struggling Spiraling Spiralling Crying
    Shaking Avoidant Insecure Traumatized Traumatised Neurodivergent Nonbinary Binary Bulimic
    Anorexic Addicted Alcoholic Fragile Desperate Terrified Furious Angry Mad Upset Hurt Hurting
    Empty Dead Dying Miserable Unwell Ill Alright Great Calm Confused Isolated Burnt Burned
    Disabled Pregnant Single Married Divorced Widowed Unemployed Homeless Gone Late Early Glad
    Grateful Nervous Stressed Tense Irritable Restless Drained Awake Asleep Depression Anxiety
    Trauma Grief Male Female Man Woman Guy Girl Boy Kid Adult Teen Teenager Student Irish
    Scottish Welsh Polish Indian Mexican Hindu Buddhist Atheist Agnostic Black White Asian Latino
    Latina Hispanic One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve Thirteen
    Fourteen Fifteen Sixteen Seventeen Eighteen Nineteen Twenty Thirty Forty Fifty Sixty Naive
    Naïve Every Whenever Sometime Sometimes First Last Next Right Immediately Instead Directly
    Any All Each Everyday Daily Babe Baby Sweetie Darling Hun Mate Kiddo Sis Bro Dude Sweetheart
    Buddy Picky Pathetic Disgusting Ungrateful Spoiled Spoilt Manipulative Attention Liar Loser
    Freak Failure Burden Mistake Disappointment
    Reports Reported Presents Presented Presenting Denies Denied States Stated Attended Seen
    Discharged Referred Referral Assessment Review Update Notes Note Summary Plan Risk History
    I'm I've I'd I'll Goodbye Farewell Samaritans Shout Childline Overdose Suicide Dermatillomania
    Trichotillomania Bulimia Anorexia Psychosis Schizophrenia Mania Insomnia Agoraphobia
    Patient Client Pt Case Record Ref Subject Appointment Impression Diagnosis
"""
_NOT_NAMES = frozenset(w.casefold() for w in _NOT_NAMES_TEXT.split())
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)


@dataclass(frozen=True)
class RedactionResult:
    """The redacted text and what was replaced (offsets on the original text)."""

    text: str
    redactions: tuple[Redaction, ...]

    @property
    def count(self) -> int:
        return len(self.redactions)


def _is_common_word(word: str) -> bool:
    """Whether ``word`` (or any hyphenated part of it) is a common word, not a name.

    Verb forms count as common words whatever the list says: "I'm Overdosing right now", "I'm
    Hanging Myself Tonight" and "I'm Sectioned" in a title-case post are the crisis itself, and
    redaction runs before the classifier reads the text. Names of that shape are rare (an -ing
    word of six letters or more; an -ed word of seven or more, except the "Mohammed", "Rasheed"
    endings).
    """
    folded = word.replace("’", "'").casefold()
    parts = [folded, *folded.split("-")]
    return any(part in _NOT_NAMES or _is_verb_form(part) for part in parts)


def _is_verb_form(word: str) -> bool:
    if len(word) >= 6 and word.endswith("ing"):
        return True
    return (
        len(word) >= 7
        and word.endswith("ed")
        and not word.endswith(("mmed", "amed", "hmed", "eed"))
    )


def _kept_name(words: list[str], any_case: bool) -> list[str]:
    """The leading run of ``words`` that reads as a name (empty when none does).

    A run stops at a common word ("I'm Sam And" -> "Sam") and after a possessive, which loses
    its "'s" ("Anna's" -> "Anna"). It stops at a word starting in lower case too, unless
    ``any_case`` and the run itself started in lower case ("my name is renée o'connor"): a
    writer who capitalises a first name capitalises the surname, so "My name is Sam been
    struggling" keeps only "Sam". A word in capitals is emphasis or an acronym ("I am FUMING",
    "a course called MANTRA") unless ``any_case`` ("MY NAME IS SAM").
    """
    kept: list[str] = []
    lower_run = False
    for i, word in enumerate(words):
        if len(word) < 2 and not kept:
            break  # "(M, 29)": a sex, not a name
        lower = word[0].islower()  # caseless scripts (Chinese, Devanagari) count as capitalised
        if not kept:
            lower_run = lower
        elif word in _PARTICLES and not lower_run and _name_follows(words[i + 1 :]):
            kept.append(word)  # "del" in "Maria del Carmen", "de la" in "Maria de la Cruz"
            continue
        if _is_common_word(word) or (lower and not (any_case and lower_run)):
            break
        if not any_case and len(word) > 1 and word.isupper():
            break
        bare = _POSSESSIVE.sub("", word)
        if bare != word:
            if not _is_common_word(bare):
                kept.append(bare)
            break
        kept.append(word)
    return kept


def _name_follows(words: list[str]) -> bool:
    """Whether a capitalised name word comes next, after at most one more particle."""
    rest = words[1:] if words and words[0] in _PARTICLES else words
    return bool(rest) and rest[0][:1].isupper() and not _is_common_word(rest[0])


def _name_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = _census_name_spans(text)
    for cue in _NAME_CUES:
        for match in cue.pattern.finditer(text):
            words = list(re.finditer(r"\S+", match.group(1)))
            kept = _kept_name([w.group(0) for w in words], cue.any_case)
            if not kept or (cue.whole and len(kept) < len(words)):
                continue
            end = match.start(1) + words[len(kept) - 1].start() + len(kept[-1])
            if cue.not_before is not None and cue.not_before.match(text, end):
                continue
            spans.append((match.start(1), end))
    # Second pass: a name found by a cue is redacted everywhere else it appears too; a name found
    # in lower case also in its capitalised form ("renée" ... "Renée").
    names = {text[s:e] for s, e in spans}
    for name in names:
        first = name.split()[0]
        last = name.split()[-1]  # the surname a relative shares ("Next of kin: ... Adeyemi")
        for form in {name, first, last, name.title(), first.title()}:
            if len(form) < 3:
                continue
            for match in re.finditer(r"(?<!\w)" + re.escape(form) + r"(?!\w)", text):
                # Not the start of a longer word whose next letter is decomposed ("Zoe\u0308").
                after = text[match.end() : match.end() + 1] or " "
                if unicodedata.category(after)[0] != "M":
                    spans.append(match.span())
    return spans


#: First names of the 1990 US census (the ``names`` package's lists, 5,163 names) that are also
#: common English words, months, places or words a risk pattern reads ("Will", "May", "Hope",
#: "Grace", "Mark", "Jesus"): a capitalised one is no name without a cue. Found by counting each
#: census name written in lower case in the construct-tracker Reddit corpus, then read by hand
#: (names people write in lower case, "sarah", "ben", stay names).
_CENSUS_WORDS_TEXT = """
    ai aide alpha america an angel angle april art asia aura autumn bell bill bong brain buck bud
    buddy candy carry chance charity chase cherish cherry chia chin china christian chuck cliff
    conception curt dawn deja delta desire destiny dick don dong dot drew earnest echo else era eve
    fairy faith florida forest foster frank gay gene german glory golden grace grant guy ha hang
    harmony heath honey hope hue hung hunter ima in india ivory jack jan january joy june junior
    karma king kip kit kitty lady lane lang le lean liberty lily loan long lore love ma mac major
    man manual many mark marry max may melody mercy merry meta mi miles min miss moon my na nada
    noble nu numbers ok pa page pat patience peg penny porter precious queen ray rich rocky rose
    royal rusty sage sang santa scarlet season see september shin so son song soo soon sparkle
    spring star sterling stormy su sue summer sun sunday sunny sunshine tad teddy temple tequila
    thi tiny un van von walker wan ward will winter yee yen yer young august irish israel france
    marine prince valentine hong jesus tory avis angeles carolina nevada
    february march july october november december monday tuesday wednesday thursday friday
    saturday mum mom dad nan nana gran granny papa pop mama sis bro doc nurse easter
"""
_CENSUS_WORDS = frozenset(_CENSUS_WORDS_TEXT.split())
#: A capitalised word, with an inner hyphen or apostrophe ("Mary-Jane", "O'Neil").
_TITLE_WORD = re.compile(
    r"(?<![\w\['’-])(?:[A-Z]['’])?(?P<key>[A-Z][a-z]+)(?:-[A-Z]?[a-z]+)?(?![\w\]]|['’][a-z]{2})"
)


@cache
def _census_first_names() -> frozenset[str]:
    """The census first names (lower case) that are not also common words."""
    files = resources.files("names")
    found: set[str] = set()
    for name in ("dist.female.first", "dist.male.first"):
        for line in files.joinpath(name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.add(line.split()[0].lower())
    return frozenset(found - _CENSUS_WORDS - _NOT_NAMES)


def _census_name_spans(text: str) -> list[tuple[int, int]]:
    """Capitalised census first names without a cue ("Sarah and I broke up", "told Kevin"),
    with a capitalised surname after one ("Sarah Jones")."""
    names = _census_first_names()
    spans: list[tuple[int, int]] = []
    words = list(_TITLE_WORD.finditer(text))
    for i, word in enumerate(words):
        key = word.group("key")
        if len(key) < 3 or key.lower() not in names or _is_common_word(key):
            continue
        end = word.end()
        nxt = words[i + 1] if i + 1 < len(words) else None
        if (
            nxt is not None
            and text[end : nxt.start()] == " "
            and not _is_common_word(nxt.group(0))
            and nxt.group(0).lower() not in _CENSUS_WORDS
        ):
            end = nxt.end()
        spans.append((word.start(), end))
    return spans


def find_identifiers(text: str) -> list[tuple[RedactionKind, int, int]]:
    """All identifier spans in ``text`` as ``(kind, start, end)``, non-overlapping, in order."""
    found: list[tuple[int, RedactionKind, int, int]] = []  # (priority, kind, start, end)
    detectors: tuple[tuple[RedactionKind, re.Pattern[str]], ...] = (
        ("EMAIL", _EMAIL),
        ("URL", _URL),
        ("HANDLE", _HANDLE),
        ("HANDLE", _PLATFORM_HANDLE),
        # Before PHONE: "dob 12-03-1990" has eight digits split by dashes, and "NHS no 943 476
        # 5919" ten.
        ("DATE_OF_BIRTH", _DATE_OF_BIRTH),
        ("ID", _RECORD_ID),
        ("ID", _CUED_ID),
        ("ID", _CARD),
        ("ID", _IP),
        ("ADDRESS", _ADDRESS),
        ("ADDRESS", _UK_POSTCODE),
        ("ADDRESS", _POSTAL_CUED),
        ("ADDRESS", _US_STATE_ZIP),
        ("ADDRESS", _AU_STATE_POSTCODE),
        ("PHONE", _PHONE),
    )
    for priority, (kind, pattern) in enumerate(detectors):
        for match in pattern.finditer(text):
            # A cued pattern redacts only the value, its group "id": "dob [DATE_OF_BIRTH]".
            start, end = match.span("id" if "id" in pattern.groupindex else 0)
            value = text[start:end].rstrip(".,;:!?")
            end = start + len(value)
            if kind == "PHONE" and (
                sum(c.isdigit() for c in value) < 7 or _DATE_ONLY.fullmatch(value)
            ):
                continue  # too short, or a date ("sober since 12.5.2024" is no phone number)
            if pattern is _CARD:
                digits = "".join(c for c in value if c.isdigit())
                if not 13 <= len(digits) <= 19 or not _luhn(digits):
                    continue
            found.append((priority, kind, start, end))
    for start, end in _name_spans(text):
        found.append((len(detectors), "NAME", start, end))
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
