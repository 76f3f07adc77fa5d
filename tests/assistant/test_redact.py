"""Redaction: every planted identifier is replaced by its typed placeholder; clinical text stays."""

from __future__ import annotations

import pytest

from assistant.redact import find_identifiers, redact_text

PLANTED_POST = (
    "Hi, my name is Jessica Turner and I'm really struggling. My sister Anna says I should email "
    "her at jess.turner99@gmail.com or call +44 7700 900123, or my cell (555) 123-4567. "
    "I live at 42 Maple Street and posted as u/sadgirl_99 and @jess_t on twitter, see "
    "https://reddit.com/r/depression/comments/abc123 and www.jessblog.net/about. "
    "Dr. Patel says my mood is low. Jessica is tired all the time.\nThanks, Jess"
)
IDENTIFIERS = (
    "Jessica",
    "Turner",
    "Anna",
    "jess.turner99@gmail.com",
    "7700 900123",
    "123-4567",
    "42 Maple Street",
    "sadgirl_99",
    "@jess_t",
    "reddit.com/r/depression",
    "jessblog",
    "Patel",
    "Jess",
)


def test_every_planted_identifier_is_removed() -> None:
    result = redact_text(PLANTED_POST)
    for value in IDENTIFIERS:
        assert value not in result.text, f"{value!r} survived redaction"
    for placeholder in ("[NAME]", "[EMAIL]", "[PHONE]", "[URL]", "[HANDLE]", "[ADDRESS]"):
        assert placeholder in result.text


def test_clinical_content_is_kept() -> None:
    text = redact_text(PLANTED_POST).text
    for phrase in ("really struggling", "my mood is low", "tired all the time", "I live at"):
        assert phrase in text


def test_offsets_point_at_the_original_values_and_no_value_is_stored() -> None:
    result = redact_text(PLANTED_POST)
    spans = {PLANTED_POST[r.start : r.end]: r.kind for r in result.redactions}
    assert spans["jess.turner99@gmail.com"] == "EMAIL"
    assert spans["42 Maple Street"] == "ADDRESS"
    assert spans["Jessica Turner"] == "NAME"
    assert spans["u/sadgirl_99"] == "HANDLE"
    assert spans["+44 7700 900123"] == "PHONE"
    dumped = str([r.model_dump() for r in result.redactions])
    assert "gmail" not in dumped and "Jessica" not in dumped


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("reach me on 020 7946 0958 tonight", "PHONE"),
        ("my number is +1-202-555-0143", "PHONE"),
        ("call 555.867.5309", "PHONE"),
        ("I'm /u/throwaway_123 on here", "HANDLE"),
        ("email first.last+tag@uni.ac.uk", "EMAIL"),
        ("see http://example.org/x?y=1", "URL"),
        ("we moved to 1600 Pennsylvania Avenue last year", "ADDRESS"),
        ("I'm Sam and I can't sleep", "NAME"),
        ("they call me Lou", "NAME"),
        ("my therapist, Maria Lopez, left", "NAME"),
        ("My best friend Tom stopped calling", "NAME"),
    ],
)
def test_identifier_kinds(text: str, kind: str) -> None:
    kinds = [k for k, _, _ in find_identifiers(text)]
    assert kind in kinds


@pytest.mark.parametrize(
    "text",
    [
        "I've had 3 panic attacks since 2019 and slept 4 hours a night for 2 weeks.",
        "I'm Really tired. I'm Not okay. I'm so Done with everything.",
        "I took 20mg of sertraline at 10.30 and my PHQ-9 score was 17.",
        "I called Mom yesterday and she didn't answer.",
        "My therapist says CBT might help.",
        # census first names that are also common words
        "Hope this makes sense. Grace at work was kind. Mark my words.",
        "Will you help? May is hard, June is worse.",
        "Jesus, I am so tired of this.",
        "Lithium 800mg. Li level 2.1 today. Sertraline 100mg.",
        "Mum and Dad argue, and Nan sides with Dad.",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text).text == text


def test_text_without_identifiers_round_trips() -> None:
    result = redact_text("Nothing identifying here, just a bad week.")
    assert result.count == 0
    assert result.text == "Nothing identifying here, just a bad week."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The QA report's misses.
        ("My name is Łukasz Nowak", "My name is [NAME]"),
        ("My name's José García", "My name's [NAME]"),
        ("I'm Zoë… my sister Siobhán", "I'm [NAME]… my sister [NAME]"),
        ("My name is Mary-Jane Watson", "My name is [NAME]"),
        ("my name is renée o'connor", "my name is [NAME]"),
        # A QA re-test: full names with particles, a form field, health words after "I'm".
        ("My name is Maria del Carmen López Ruiz.", "My name is [NAME]."),
        ("I'm Ana Lucía Gómez Pérez and I feel awful", "I'm [NAME] and I feel awful"),
        ("I'm Maria de la Cruz", "I'm [NAME]"),
        ("Name: Kateřina Nováková\nAge 34", "Name: [NAME]\nAge 34"),
        ("I'm Sleep-Deprived and anxious", "I'm Sleep-Deprived and anxious"),
        ("I'm PTSD'd from the war", "I'm PTSD'd from the war"),
        ("Ludwig van Beethoven wrote it", "Ludwig van Beethoven wrote it"),  # no cue: kept
        # Names are words of any script, with inner apostrophes and hyphens.
        ("I'm D'Angelo and I can't sleep", "I'm [NAME] and I can't sleep"),
        ("my name’s zoë", "my name’s [NAME]"),
        ("I'm Zoe\u0308, Zoe\u0308 is tired", "I'm [NAME], [NAME] is tired"),  # decomposed ë
        ("my name is प्रिया", "my name is [NAME]"),
        ("Hi, I'm 李华.", "Hi, I'm [NAME]."),
        (
            "My sister Anna's car broke down. Anna cried.",
            "My sister [NAME]'s car broke down. [NAME] cried.",
        ),
        # Lower case counts right after an explicit naming cue, and the capitalised form of
        # that name is redacted elsewhere too.
        ("my name is renée and Renée is tired", "my name is [NAME] and [NAME] is tired"),
        ("they call me lou", "they call me [NAME]"),
        ("i'm called siobhán", "i'm called [NAME]"),
        ("my son named tom is five", "my son named [NAME] is five"),
        ("my name is sam and i feel low", "my name is [NAME] and i feel low"),
        ("MY NAME IS SAM AND I CAN'T SLEEP", "MY NAME IS [NAME] AND I CAN'T SLEEP"),
        # A capitalised name does not run on into lower-case words.
        ("My name is Sam been struggling", "My name is [NAME] been struggling"),
        # A case note's heading and a sign-off after the last sentence.
        ("Client: Mohammed Al-Rashid, 34.", "Client: [NAME], 34."),
        ("Pt: Sarah Jones\nPresenting with low mood.", "Pt: [NAME]\nPresenting with low mood."),
        ("Thanks for listening. - Priya", "Thanks for listening. - [NAME]"),
        (
            "I'm Mohammed and I feel low. My brother Rasheed knows.",
            "I'm [NAME] and I feel low. My brother [NAME] knows.",
        ),
        # a second QA probe: a case note's names, ages in brackets, next of kin
        ("Re: John Smith, DOB 03/04/1988.", "Re: [NAME], DOB [DATE_OF_BIRTH]."),
        ("Sarah Jones (34) was seen today.", "[NAME] (34) was seen today."),
        ("Referral for Aisha Rahman, 16, Year 11", "Referral for [NAME], 16, Year 11"),
        (
            "Patient: Oluwaseun Adeyemi / Next of kin: Funmilayo Adeyemi (wife)",
            "Patient: [NAME] / Next of kin: [NAME] (wife)",
        ),
        ("Seen by Jane Doe, CPN.", "Seen by [NAME], CPN."),
        ("I (Emily, 22) live here.", "I ([NAME], 22) live here."),
        ("my ex Daniel Wright posted my address", "my ex [NAME] posted my address"),
        ("SW: Priya Sharma.", "SW: [NAME]."),
    ],
)
def test_names_are_redacted_whole(text: str, expected: str) -> None:
    assert redact_text(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "I'm Depressed. I'm Bipolar. I'm Fine. I'm Sure. I'm Not okay.",
        "I'm Exhausted and I'm Self-Harming again.",
        "I'm Anxious-Avoidant, I'm Naïve, I'm Non-Binary, I'm Burnt-Out.",
        "Honestly I'm Not sure. Maybe I'm Just Tired. Today was Awful.",
        # Lower-case words are never names without an explicit naming cue.
        "i'm tired and i'm so done. i called him yesterday.",
        "They call me lazy and selfish. Call me back later.",
        "I named my dog after my gran.",
        "Call me picky, but he never listens. She used to call me every day.",
        "I am FUMING. They offered something called MANTRA.",
        "It is called rumination and the name is misleading.",
        "Client: reports low mood. Client: Reports low mood since March.",
        "I finished the race. - Proud of myself",
        # A title-case post's crisis words are no names: redaction runs before the classifier.
        "I'm Overdosing right now",
        "Title: I'm Hanging Myself Tonight",
        "This is Goodbye. I'm Sectioned under the MHA. I called Samaritans last night.",
        "I'm (25M) and I'm a psychologist (M, 29). My insta is private.",
        "Use the coupon code REDDIT15OFF at checkout.",
    ],
)
def test_look_alikes_of_names_are_left_alone(text: str) -> None:
    assert redact_text(text).text == text


@pytest.mark.parametrize(
    "postcode",
    ["M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "W1A 0AX", "EC1A 1BB", "ec1a 1bb", "EC1A1BB"],
)
def test_uk_postcodes_in_every_format_are_redacted(postcode: str) -> None:
    assert redact_text(f"I moved to {postcode}, near my mum.").text == (
        "I moved to [ADDRESS], near my mum."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I live in LS1 4AB.", "I live in [ADDRESS]."),
        ("42 Maple Street, Leeds LS1 4AB", "[ADDRESS], Leeds [ADDRESS]"),
        ("my postcode is LS1", "my postcode is [ADDRESS]"),  # an outward code alone, when cued
        ("zip code 62704", "zip code [ADDRESS]"),
        ("Springfield, IL 62704-1234", "Springfield, IL [ADDRESS]"),
    ],
)
def test_postal_codes_are_redacted(text: str, expected: str) -> None:
    assert redact_text(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "I sat on the M25 for hours and now take B12 and vitamin D.",
        "I take 20mg at 10pm, the A1 was closed, my GAD-7 was 15.",
        "I walked 12345 steps and scored 62704 points.",
    ],
)
def test_codes_in_ordinary_text_are_left_alone(text: str) -> None:
    assert redact_text(text).text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dob 12/03/1990", "dob [DATE_OF_BIRTH]"),
        ("DOB: 12-03-1990", "DOB: [DATE_OF_BIRTH]"),
        ("d.o.b. 12.03.90", "d.o.b. [DATE_OF_BIRTH]"),
        ("date of birth 1990-03-12", "date of birth [DATE_OF_BIRTH]"),
        ("I was born on 12 March 1990 in Leeds", "I was born on [DATE_OF_BIRTH] in Leeds"),
        ("born on March 12, 1990.", "born on [DATE_OF_BIRTH]."),
        ("my birthday is the 12th of March", "my birthday is the [DATE_OF_BIRTH]"),
    ],
)
def test_cued_dates_of_birth_are_redacted(text: str, expected: str) -> None:
    assert redact_text(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "On 12 March 1990 my dad left.",
        "I was born 2 weeks early and I've been anxious since 2019.",
    ],
)
def test_dates_without_a_birth_cue_are_left_alone(text: str) -> None:
    assert redact_text(text).text == text


def test_new_kinds_are_recorded_with_offsets_on_the_original() -> None:
    text = "dob 12/03/1990, postcode LS1 4AB, my name is renée o'connor"
    result = redact_text(text)
    spans = {text[r.start : r.end]: r.kind for r in result.redactions}
    assert spans == {
        "12/03/1990": "DATE_OF_BIRTH",
        "LS1 4AB": "ADDRESS",
        "renée o'connor": "NAME",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NHS no 943 476 5919.", "NHS no [ID]."),
        ("MRN: 00123456. Hospital number RX1234567.", "MRN: [ID]. Hospital number [ID]."),
        ("NI number QQ 12 34 56 C", "NI number [ID]"),
        ("SSN 123-45-6789", "SSN [ID]"),
    ],
)
def test_record_numbers_after_their_name_are_redacted(text: str, expected: str) -> None:
    assert redact_text(text).text == expected
    assert {r.kind for r in redact_text(text).redactions} == {"ID"}


@pytest.mark.parametrize(
    "text",
    ["I was in hospital 2 weeks.", "Case 12 was the hardest.", "The patient 3 beds down cried."],
)
def test_numbers_after_those_words_without_a_record_shape_are_kept(text: str) -> None:
    assert redact_text(text).text == text


def test_handles_named_by_their_platform_are_redacted() -> None:
    text = "my insta is kayleigh_x_2010 and snap is kaylz.xo"
    assert redact_text(text).text == "my insta is [HANDLE] and snap is [HANDLE]"
    assert redact_text("Lives at 14 Elm Grove.").text == "Lives at [ADDRESS]."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Credit card 4111 1111 1111 1111", "Credit card [ID]"),
        ("IP 192.168.0.14", "IP [ID]"),
        (
            "passport 533380006, driving licence MORGA657054SM9IJ",
            "passport [ID], driving licence [ID]",
        ),
        ("My reg plate is AB12 CDE, he follows my car", "My reg plate is [ID], he follows my car"),
        ("Centrelink CRN 123 456 789A", "Centrelink CRN [ID]"),
        ("5 Smith St, Fitzroy VIC 3065.", "[ADDRESS], Fitzroy VIC [ADDRESS]."),
        ("my manager Dave is horrible", "my manager [NAME] is horrible"),
        ("Re: Patient ID 9434765919, seen 03/02/2024.", "Re: Patient ID [ID], seen 03/02/2024."),
    ],
)
def test_cards_addresses_and_identifiers_after_their_name_are_redacted(
    text: str, expected: str
) -> None:
    """A card number lost only its first 15 digits (as a phone number); a licence, a plate, an
    Australian postcode and "my manager Dave" were kept."""
    assert redact_text(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "my licence was taken away for drink driving",
        "my account is private",
        "3 years sober on 12.5.2024",
        "I scored 21 on the PHQ-9",
    ],
)
def test_words_and_dates_near_those_names_are_kept(text: str) -> None:
    assert "[" not in redact_text(text).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Sarah and I broke up last week and Kevin keeps texting me.",
            "[NAME] and I broke up last week and [NAME] keeps texting me.",
        ),
        ("I told Sarah Jones about it.", "I told [NAME] about it."),
        ("I live in Austin and my sister visits.", "I live in [NAME] and my sister visits."),
        ("Kevin's mum and O'Neil and Mary-Jane came.", "[NAME]'s mum and [NAME] and [NAME] came."),
        # the same name later in lower case stays a name where it was found capitalised first
        ("Kevin said no. I told kevin again.", "[NAME] said no. I told kevin again."),
    ],
)
def test_common_first_names_are_redacted_without_a_cue(text: str, expected: str) -> None:
    """A first name with no cue before it ("Sarah and I broke up") was kept: the census first
    names (the ``names`` package) are names wherever they are capitalised."""
    assert redact_text(text).text == expected


def test_the_risk_patterns_read_a_redacted_name() -> None:
    """The classifier and the gate read the redacted text: "I'll be joining Mary soon" and
    "be with Harold again soon" must still read once the name is a placeholder."""
    from assistant.safety import SafetyGate
    from classifiers.rules import LexiconClassifier

    text = redact_text('Pt states "I will be joining Mary soon".').text
    assert "[NAME]" in text
    assert LexiconClassifier().analyze(text).risk.level == "ideation"
    text = redact_text(
        "Dad has stopped taking his heart tablets and says he wants to be with Harold again soon."
    ).text
    assert "[NAME]" in text
    decision = SafetyGate().decide(
        {"relevant": False, "labels": [], "risk": {"level": "none", "evidence": []}}, text
    )
    assert decision.urgent
