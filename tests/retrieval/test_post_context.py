"""What a post says about its situation: whom it is about, and whether treatment started."""

from __future__ import annotations

import pytest

from retrieval.post_context import (
    CARERS,
    CHILDREN,
    detect_population,
    detect_situations,
    mentions_long_duration,
    mentions_treatment,
)


@pytest.mark.parametrize(
    "text",
    [
        "I've felt flat for weeks and my gf noticed I cancel everything.",
        "Work is fine but I come home and sit there. My mum says I should see someone.",
        "I'm constantly worrying about money, my kids, my health, everything.",
        "I'm 34 and I have panic attacks on the train.",
        "Since the accident I can't sleep and I keep reliving it.",
    ],
)
def test_an_adult_writing_about_themselves(text: str) -> None:
    assert detect_population(text) == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "My brother washes for hours a day. His hands are raw and he hasn't left the flat.",
        "My girlfriend has really bad anxiety. She asks me the same questions and she cries.",
        "My son has had psychosis for three years. I'm his main carer and I'm exhausted.",
        "I'm worried about my dad, he drinks every day now.",
    ],
)
def test_someone_close_to_the_person(text: str) -> None:
    assert CARERS in detect_population(text)


@pytest.mark.parametrize(
    "text",
    [
        "Our son is 4 and nursery says he can't sit still and he hits other kids.",
        "Our 16 year old has been cutting her arms, we found out yesterday.",
        "My teenage son asks me to confirm over and over that he didn't say anything offensive.",
        "I'm 15 and I can't stop checking the door locks.",
        "(16f) my parents won't let me see a therapist.",
        "I'm in year 10 and I throw up after lunch most days.",
        # a practitioner's note describing a young person by age
        "15 year old student, teachers concerned, has been cutting her arms.",
        "Pt is a 14yo F presenting with low mood and school refusal.",
    ],
)
def test_children_and_young_people(text: str) -> None:
    assert CHILDREN in detect_population(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm 15 minutes late to everything because I check the stove.",
        "I'm 9 weeks sober today.",
        "My daughter's wedding is next month and I'm dreading the crowds.",  # no he/she
        "20 year old male here, I can't stop checking the stove.",
        "Pt is a 24yo F presenting with panic attacks.",
    ],
)
def test_numbers_and_passing_mentions_are_not_a_child(text: str) -> None:
    assert CHILDREN not in detect_population(text)


@pytest.mark.parametrize(
    "text",
    [
        "I've been on sertraline for a year and want to come off it.",
        "My meds stopped working and the psychiatrist wants to switch.",
        "Finished 12 sessions of CBT last spring and the worry is creeping back.",
        "Three months sober after rehab.",
        "Since I relapsed in March I've been drinking every day.",
    ],
)
def test_treatment_already_started(text: str) -> None:
    assert mentions_treatment(text)


@pytest.mark.parametrize(
    "text",
    [
        "I've felt flat for weeks and nothing is fun anymore.",
        "Should I stop trying to fix this myself?",
        "My heart races in shops and I think I'm dying.",
    ],
)
def test_no_treatment_mentioned(text: str) -> None:
    assert not mentions_treatment(text)


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("Been depressed on and off for like 6 years now.", True),
        ("Everything has felt grey since I was a teenager.", True),
        ("I've felt like this most of my adult life.", True),
        ("Chronic low mood, nothing shifts it.", True),
        ("I've been feeling low and not sleeping for a month now.", False),
        ("Our 15 year old daughter has stopped eating.", False),
        ("My 9-year-old won't go outside since the dog bit her.", False),
        ("It's been months and I'm so tired of everything.", False),
    ],
)
def test_difficulties_of_years(text: str, years: bool) -> None:
    assert mentions_long_duration(text) is years


@pytest.mark.parametrize(
    ("text", "situations"),
    [
        (
            "I'm 72, my wife passed last year, and the days are long.",
            {"bereavement", "older_adult"},
        ),
        ("I had a baby 5 weeks ago and I feel nothing for her.", {"perinatal", "postnatal"}),
        ("I am 28 weeks pregnant and my in-laws won't stop.", {"perinatal"}),
        ("I self harmed last night and it needed stitches.", {"self_harm"}),
        ("We lost the baby at 20 weeks.", {"baby_loss", "perinatal"}),
        ("Smoking weed every day to sleep.", {"cannabis"}),
        ("I drink about 8 cans every night.", {"alcohol"}),
        ("I took my prescription painkillers with vodka.", {"drugs", "alcohol"}),
        ("I took a load of my painkillers.", {"drugs", "self_harm"}),
        ("My dad killed himself when I was 12.", {"bereavement", "suicide_bereavement"}),
        ("Mum is 84 and her carer takes her money.", {"older_adult", "abuse", "elder_abuse"}),
        ("My heart races in shops and I think I'm dying.", set()),
    ],
)
def test_situations_a_post_shows(text: str, situations: set[str]) -> None:
    assert detect_situations(text) == frozenset(situations)
