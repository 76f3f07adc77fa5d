"""Everyday acts that look like C-SSRS "preparatory acts": they must stay below behaviour.

A rope for the tent, photos from the bridge, a paid-off card, a will after a death in the
family. Written by a helper beside a blind-written cue for veiled preparation (git history,
2026-12-07), which was not kept: it reached none of five held-out veiled forms and changed no
real post. The look-alikes still guard the preparation cues that remain.
"""

from __future__ import annotations

import pytest

from classifiers.labels import risk_rank
from classifiers.rules import LexiconClassifier


@pytest.fixture(scope="module")
def clf() -> LexiconClassifier:
    return LexiconClassifier()


def risk_level(clf: LexiconClassifier, text: str) -> str:
    return clf.predict([text])[0].risk.level


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


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_stay_below_behaviour(clf: LexiconClassifier, text: str) -> None:
    assert risk_rank(risk_level(clf, text)) < risk_rank("behavior")
