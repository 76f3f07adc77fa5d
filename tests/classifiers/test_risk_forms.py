"""Everyday, narrative forms of suicidal behaviour and attempts, and their look-alikes.

C-SSRS counts preparation and self-harm as behaviour, and actual, interrupted and aborted
(self-interrupted) attempts - current or lifetime - as attempts. Posts rarely use the clinical
words: "I've attempted twice before", "security talked me away from the edge", "I had the rope
tied but chickened out". Each genuine form must reach its level with the hand-written cues alone
as well as with construct-tracker's lexicon added; each look-alike must stay below behaviour.
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


GENUINE = [
    # self-harm, habitual or relapsed
    ("behavior", "I've been cutting for three years."),
    ("behavior", "Hit 30 days without cutting and then broke it tonight."),
    ("behavior", "Relapsed tonight. 112 days clean and I just threw it away with a razor."),
    ("behavior", "I scratch my arms until they bleed, it’s the only thing that helps"),
    ("behavior", "i've been sh'ing again, 3 times this week"),
    ("behavior", "I’ve been burning my wrists with cigarettes"),
    ("behavior", "I carved his name into my thigh with a compass"),
    # preparation and rehearsal
    ("behavior", "i wrote a suicide note and hid it under my mattress"),
    ("behavior", "i have the rope in my car and i know which tree"),
    ("behavior", "I scheduled the emails to send after I’m gone."),
    ("behavior", "Walked to the train tracks tonight and sat there working out the timing."),
    ("behavior", "I put the noose up in the garage and tried it on to see if it would hold"),
    ("behavior", "i've hoarded about 90 of my quetiapine over the last few months"),
    # researching a means with one's own medicine, named or not
    ("behavior", "i looked up how many of my sertraline it would take"),
    ("behavior", "Googled how much of my insulin it would take. I have enough."),
    ("behavior", "I worked out how many of my tablets it would take to not wake up"),
    # actual attempts, lifetime and current
    ("attempt", "I've attempted twice before."),
    ("attempt", "I was hospitalized after trying to end my life."),
    ("attempt", "After my overdose I spent a week in the psych ward."),
    ("attempt", "I cut my wrists trying to die and needed 20 stitches."),
    ("attempt", "i have 2 attempts under my belt"),
    ("attempt", "I just swallowed the whole bottle."),
    ("attempt", "I hung myself last spring but my brother cut me down"),
    ("attempt", "Tried to end my life at 14. Nobody in my family talks about it."),
    # interrupted: someone else stopped it
    ("attempt", "I was ready to jump when my counsellor called me."),
    ("attempt", "I was gently talked away from the edge by campus security."),
    ("attempt", "i was halfway over the railing when a stranger grabbed me"),
    # aborted: the writer stopped
    ("attempt", "I had the rope tied and everything but I chickened out."),
    ("attempt", "I put the gun in my mouth but couldn't pull the trigger."),
    ("attempt", "I was going to jump in front of the train but I froze and it passed"),
]

LOOK_ALIKES = [
    "I attempted the exam twice before passing.",
    "I've attempted twice to pass my driving test.",
    "Since my attempt at baking bread went badly I buy it now.",
    "I've been cutting carbs for three months and feel great.",
    "I was ready to jump into the pool when the lifeguard blew the whistle.",
    "He talked me off the ledge about buying that car.",
    "I've been cutting my hair myself since lockdown.",
    "I'm burning the candle at both ends with work and uni.",
    "I burned myself on the oven again, classic me.",
    "I took 2 paracetamol for my headache.",
    "I took the whole bottle of wine to the party.",
    "My friend overdosed last year.",
    "My mate was talked down from the roof by the fire brigade.",
    "I've never tried to kill myself.",
    "I OD'd on coffee today lol",
    "I got my stomach pumped after a night of drinking at uni.",
    "I bought a rope for climbing.",
    "I had the knife in my hand ready to carve the turkey.",
    "I drowned myself in work to forget her.",
    "I burned myself out at work this year",
    "I checked how many of my vacation days it would take to cover the trip.",
    "Worked out how many of my paychecks it will take to pay off the loan.",
    "I looked up how many of my melatonin it would take to sleep through a flight.",
]

#: Passive ideation as rumination (C-SSRS "wish to be dead"), and days away that read alike.
PASSIVE = [
    "been thinking a lot lately about just not being around",
    "I keep thinking about not being here anymore.",
    "thought about not existing a lot today",
]
PASSIVE_LOOK_ALIKES = [
    "I've been thinking about not being around for Christmas this year, going to his family's.",
    "I'm thinking about not being around this weekend, we're camping.",
]


@pytest.mark.parametrize(("level", "text"), GENUINE)
def test_everyday_behaviour_and_attempt_forms_reach_their_level(
    clf: LexiconClassifier, level: str, text: str
) -> None:
    assert risk_level(clf, text) == level


@pytest.mark.parametrize(("level", "text"), GENUINE)
def test_the_hand_written_cues_alone_reach_the_level(
    clf_hand_written: LexiconClassifier, level: str, text: str
) -> None:
    assert risk_level(clf_hand_written, text) == level


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_stay_below_behaviour(clf: LexiconClassifier, text: str) -> None:
    assert risk_rank(risk_level(clf, text)) < risk_rank("behavior")


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("I was ready to jump when my counsellor called me.", "interrupted_attempt"),
        ("I had the rope tied and everything but I chickened out.", "aborted_attempt"),
    ],
)
def test_interrupted_and_aborted_attempts_name_their_cue(
    clf: LexiconClassifier, text: str, cue: str
) -> None:
    assert cue in {e.cue for e in clf.predict([text])[0].risk.evidence}


#: Hyperbole and everyday uses that the ideation cues used to read as suicidal (train and
#: validation posts of the control and condition subreddits, 2026-12-07), and the genuine forms
#: beside them that must still reach ideation.
HYPERBOLE = [
    "I'm so embarrassed I could die.",
    "I could die any moment, my heart keeps skipping and I'm sure it's serious",
    "my ED brain just wants me to starve myself and run off the water weight",
    "I completely hate it when they call him dad and want it to stop.",
    "hearing your opinions would help me pull the trigger on a new rifle",
    "I was about to pull the trigger on a Black Aces shotgun until I handled it at the store.",
    "I couldn't pull the trigger and get the dog.",
    "The lifeless bodies in the cars still come back to me.",
]
STILL_IDEATION = [
    "I keep wishing for a fatal accident so that I could die but it wouldn't be my fault.",
    "I just wish I could die",
    "I should just die",
    "I'm going to starve myself to death",
    "I just want it to stop.",
    "I want it all to end.",
    "I held the gun and wanted to pull the trigger",
    "I want to pull the trigger and end it",
]


@pytest.mark.parametrize(
    ("text", "ideation"),
    [(t, True) for t in PASSIVE + STILL_IDEATION]
    + [(t, False) for t in PASSIVE_LOOK_ALIKES + HYPERBOLE],
)
def test_ideation_forms_and_their_everyday_look_alikes(
    clf: LexiconClassifier, text: str, ideation: bool
) -> None:
    level = risk_level(clf, text)
    assert (level == "ideation") if ideation else (risk_rank(level) < risk_rank("ideation"))


DENIALS = [
    "I don't want to die or anything, I just feel empty and tired all the time.",
    "For the record I am NOT suicidal, I said 'I'm done' about the fantasy football league.",
    "I'm not going to kill myself, don't worry.",
    "I would never kill myself, my kids need me.",
    "I am not suicidal, just feeling blank.",
    # a clinical note's denial
    "Client seen for review. Mood low since redundancy. Denies suicidal ideation, intent or plan.",
    "Pt denied any thoughts of suicide at assessment.",
]
NOT_DENIALS = [
    # ideation beside the denial: the rules see it, so the denial must not hide it
    "I'm not suicidal but sometimes I wish I wouldn't wake up.",
    "I don't want to die, I just don't want to live like this anymore.",
    # negated, but saying the opposite of a denial
    "Sometimes I wish I'd get into a fatal car accident so that I wouldn't have to kill myself.",
    "I don't have the balls to kill myself.",
    "I haven't got the guts to kill myself.",
    "I can't even kill myself properly.",
    # a "but" after the denial: ambivalence, often how passive ideation is put
    "I'm not planning to kill myself, but I feel like it would be no great loss.",
    "I love my kids so much that I will never kill myself. But it's almost like that is killing me.",
    # someone else's
    "My brother said he's not suicidal.",
]


@pytest.mark.parametrize("text", DENIALS)
def test_a_plain_denial_of_suicidal_thoughts_is_found(clf: LexiconClassifier, text: str) -> None:
    from classifiers.rules.risk import denial_hits

    found = denial_hits(text, clf.analyze(text).risk_hits)
    assert found and all(risk_rank(h.level) >= risk_rank("ideation") for h in found)
    assert risk_level(clf, text) in ("none", "indicator")


@pytest.mark.parametrize("text", NOT_DENIALS)
def test_negations_that_are_not_denials_are_not_read_as_one(
    clf: LexiconClassifier, text: str
) -> None:
    from classifiers.rules.risk import denial_hits

    assert denial_hits(text, clf.analyze(text).risk_hits) == ()
