"""Veiled preparatory acts (C-SSRS "preparatory acts or behavior") and their look-alikes.

Posts seldom name the act: "bought a rope today. not sure why.", "went to the bridge at 2am again
and stood there for an hour", "paid off my credit card so nobody is left with it after I'm
gone". Each act alone is everyday (a rope for the tent, photos from the bridge, a paid-off card,
a will after a death in the family), so each genuine form must reach the behaviour level with the
hand-written cues alone as well as with construct-tracker's lexicon added, and each look-alike
must stay below behaviour.
"""

from __future__ import annotations

import pytest

from classifiers.labels import risk_rank
from classifiers.rules import LexiconClassifier


@pytest.fixture(scope="module")
def clf() -> LexiconClassifier:
    return LexiconClassifier()


@pytest.fixture(scope="module")
def clf_hand_written() -> LexiconClassifier:
    return LexiconClassifier(use_construct_tracker=False)


def risk_level(clf: LexiconClassifier, text: str) -> str:
    return clf.predict([text])[0].risk.level


LONG_POST = (
    "I don't really know how to start this. Work has been brutal for months, my partner left in "
    "the spring and I've mostly stopped answering my phone. My mum keeps asking if I'm eating "
    "properly and I tell her yes. Last week I cleared out my desk at the office and nobody "
    "noticed. Yesterday I bought a rope, no idea why, and put it in the cupboard under the "
    "stairs. I slept for the first time in days after that."
)

GENUINE = [
    # means got or kept with no purpose, or as a way out
    "bought a rope today. not sure why.",
    "Ordered a bag of charcoal even though I don't own a grill.",
    "i got a length of rope and hid it in my wardrobe, just in case",
    "Picked up a gun today, dont really know why.",
    "ive got 60 paracetamol in my drawer for when i cant do this anymore",
    "The pills in my bedside drawer are my way out.",
    "helium tank arrived today and i dont even have balloons",
    LONG_POST,
    # a vigil or rehearsal at a height or the tracks
    "Went to the bridge at 2am agian and stood there for an hour.",
    "found myself at the edge of the platform again tonight",
    "I let four trains go by tonight without getting on.",
    "walked up to the top floor of the car park at night and looked down for a long time",
    "spent ages staring down at the water from the bridge last night",
    "climbed over the railing on the overpass and just held on",
    "sat with my legs dangling over the edge of the roof at 3am",
    "been walking along the bridge near my flat to psych myself up",
    "I would sit in my car looking over a bridge debating if I should",
    # affairs put in order as a farewell
    "Found a new home for my cat so she'll be looked after when I'm not around anymore.",
    "asked my sister to take care of my dog for after",
    "I'm 24 and I finished my will today. Everything is in order now.",
    "Paid off my credit card so nobody is left with it after I'm gone.",
    "all my affairs are in order. im at peace with it",
    "Gave my best friend my guitar and my switch, so she has something to remember me by.",
    "rehomed my rabbit last week. she deserves someone who'll be around.",
    "I've made sure someone will feed the cat once I'm gone.",
    "everything is sorted now. nothing keeping me here.",
    # a method partly tried
    "tied my dressing gown cord to the door handle to see how it felt",
    "looped the belt over the top of the wardrobe door and leaned into it",
    "held a plastic bag over my face until everything went fuzzy",
    "popped all of my tablets out of the blister packs and put them in a jar",
    "sat in the car in the garage with the engine running for a bit",
    "put my head under the bathwater and held it there as long as i could",
    # a method researched in its details
    "been reading up on how long it takes to lose consciousness",
    "looked up which trains dont stop at my station",
    "googled how many floors you need to fall from",
]

LOOK_ALIKES = [
    # means with an everyday purpose
    "bought a rope for the tent this weekend",
    "Bought rope and charcoal for the camping trip, just in case.",
    "I keep a rope in my truck just in case",
    "ordered a helium tank for the birthday balloons",
    "I keep paracetamol in my bag just in case I get a migraine",
    "Picked up a Glock today, not sure why I waited so long",
    "bought a shotgun for home defense, just in case",
    "my brother bought a rope, not sure why",
    # sightseeing, company, commuting
    "stood on the bridge taking photos of the sunset",
    "went up to the roof at night with friends to watch the meteor shower",
    "I went out late at night to the bridge with my camera and stood there for ages",
    "looked down from the top of the tower for ages, amazing view",
    "stared down at the river from the bridge for ages watching the swans",
    "sat in the car looking over the bridge at night at the city lights",
    "our train was late so we let two trains go past because they were packed",
    "Looked up which trains don't stop at my station so I don't get on the wrong one",
    "found myself at the edge of my seat the whole film",
    "found myself on the edge of a cliff, career-wise",
    # finance news, estate planning, trips and moves
    "paid off my credit card!! debt free at 26",
    "Paid off my credit card so my wife isn't stuck with it if I die.",
    "paid off the car loan so my dad isn't stuck with it since he cosigned",
    "I closed all my accounts so my parents don't have to deal with it after I move abroad",
    "made a will after my dad died, everything's in order now",
    "I'm 25 and just made a will because we had a baby",
    "Finally did my will, everything is sorted!",
    "Got my affairs in order before my surgery next week.",
    "How do I get my affairs in order? I'm 40 and have no will.",
    "First day tomorrow! Everything is ready. I'm ready!",
    "asked my neighbour to feed the cat when I'm not around",
    "rehoming my dog because my new flat doesn't allow pets",
    "Gave my coworkers little gifts to remember me by on my last day",
    # everyday knots, pills, cars and water
    "tied the rope to the tree branch for the kids' swing",
    "Popped all my tablets out into my weekly pill organiser",
    "Sat in the car with the engine running for ages waiting for my sister",
    "held my breath under water in the pool for a minute",
    "put my head under the water to rinse out the shampoo",
    "put my head under the water in the bath and held it there until i calmed down",
]


@pytest.mark.parametrize("text", GENUINE)
def test_veiled_preparation_reaches_behaviour(clf: LexiconClassifier, text: str) -> None:
    assert risk_level(clf, text) == "behavior"


@pytest.mark.parametrize("text", GENUINE)
def test_the_hand_written_cues_alone_reach_behaviour(
    clf_hand_written: LexiconClassifier, text: str
) -> None:
    assert risk_level(clf_hand_written, text) == "behavior"


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_stay_below_behaviour(clf: LexiconClassifier, text: str) -> None:
    assert risk_rank(risk_level(clf, text)) < risk_rank("behavior")


@pytest.mark.parametrize(
    "text",
    [
        "bought a rope today. not sure why.",
        "I let four trains go by tonight without getting on.",
        "asked my sister to take care of my dog for after",
        "held a plastic bag over my face until everything went fuzzy",
    ],
)
def test_veiled_forms_name_their_cue(clf: LexiconClassifier, text: str) -> None:
    assert "veiled_preparation" in {e.cue for e in clf.predict([text])[0].risk.evidence}
