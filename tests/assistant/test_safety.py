"""The deterministic safety gate: classifier risk and explicit cues open it; resources are local."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.language import LanguageDetector
from assistant.safety import FALLBACK_RESOURCES_MD, LANGUAGE_HEADING, SafetyGate
from knowledge_base.resources import load_crisis_resources
from tests.fakes import FakeClassifier

RESOURCES_DIR = Path(__file__).resolve().parents[2] / "knowledge_base" / "resources"


@pytest.fixture(scope="module")
def gate() -> SafetyGate:
    return SafetyGate(load_crisis_resources(RESOURCES_DIR, "en-GB"))


def _decide(gate: SafetyGate, text: str, classifier_risk: str | None = None):
    classification = FakeClassifier().predict([text])[0]
    as_dict = classification.to_dict()
    if classifier_risk is not None:
        as_dict["risk"]["level"] = classifier_risk
    return gate.decide(as_dict, text)


def test_no_risk_means_no_block(gate: SafetyGate) -> None:
    decision = _decide(gate, "Work has been stressful and I feel a bit low lately.")
    assert not decision.crisis and not decision.urgent
    assert decision.block_markdown == ""
    assert decision.level == "none"


def test_indicator_alone_is_not_a_crisis(gate: SafetyGate) -> None:
    decision = _decide(gate, "Sometimes I think they'd be better off without me.")
    assert decision.level == "indicator"
    assert not decision.crisis


@pytest.mark.parametrize("level", ["ideation", "behavior", "attempt"])
def test_classifier_risk_from_ideation_opens_the_gate(gate: SafetyGate, level: str) -> None:
    decision = _decide(gate, "I feel awful.", classifier_risk=level)
    assert decision.crisis
    assert decision.urgent is (level != "ideation")
    assert f"classifier risk level: {level}" in decision.reasons


@pytest.mark.parametrize(
    ("text", "min_level"),
    [
        ("I'm going to kill myself after work.", "ideation"),
        ("i am gonna end it all tonight", "ideation"),
        ("I will end it tonight, I've decided.", "ideation"),
        ("I bought a rope last week. Everyone would be better off without me.", "behavior"),
        ("I tied a noose last night.", "behavior"),
        ("I've been stockpiling my sleeping pills for a month.", "behavior"),
        # saving pills needs a suicidal word beside it
        ("I've been saving my sleeping pills for a month. I just want to die.", "behavior"),
        ("I wrote a goodbye note for my parents.", "behavior"),
        ("I just took 30 pills and feel dizzy.", "attempt"),
        ("I'm standing on the bridge right now.", "attempt"),
    ],
)
def test_explicit_cues_open_the_gate_even_when_the_classifier_misses(
    gate: SafetyGate, text: str, min_level: str
) -> None:
    decision = _decide(gate, text, classifier_risk="none")
    assert decision.crisis, text
    order = ["none", "indicator", "ideation", "behavior", "attempt"]
    assert order.index(decision.level) >= order.index(min_level)
    assert any(r.startswith("explicit") for r in decision.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "I can't sleep tonight, my mind keeps racing about the exam.",
        "I bought a new phone and some pills for my headache.",
        "My grandfather took his pills this morning.",
        "The movie tonight was about a suicide attempt survivor; it moved me.",
        # means and preparations with an everyday purpose, no suicidal words, no classifier call
        "Bought a gun last week for deer season, first time hunting with my dad. Can't wait.",
        "Been giving away my stuff all week because I'm moving to Australia!",
        "I bought a rope last week for the tree swing.",
        "I've been saving my sleeping pills for the trip, the pharmacy is shut there.",
        "Sorted out who gets the spare room when my sister visits on Friday.",
        # times and plans without suicidal words
        "I won't be around after tonight, flying to Spain for the summer.",
        "Tomorrow it'll all be over, last exam of the year!",
        "Picked a date for the wedding: next June.",
        # jokes and hyperbole beside a time
        "I'm gonna die if I have to sit through another meeting on Friday haha",
        "Kill myself on Friday lol that meeting is going to be awful",
        "My grandfather passed away last night, tomorrow it'll all be over with the funeral.",
    ],
)
def test_ordinary_mentions_do_not_open_the_gate(gate: SafetyGate, text: str) -> None:
    # "suicide attempt" in the last text IS a cue: the gate prefers a false alarm there.
    decision = _decide(gate, text, classifier_risk="none")
    if "suicide attempt" in text:
        assert decision.crisis
    else:
        assert not decision.crisis, decision.reasons


def test_block_has_local_resources_and_the_safety_plan(gate: SafetyGate) -> None:
    decision = _decide(gate, "I bought a rope. I want to end it all.", classifier_risk="none")
    block = decision.block_markdown
    assert block.startswith("## Safety first")
    assert "URGENT: same-day assessment" in block
    assert "116 123" in block and "999" in block  # Samaritans and UK emergency number
    for step in (
        "Warning signs",
        "coping",
        "People to ask for help",
        "crisis lines",
        "environment safe",
    ):
        assert step in block
    assert decision.locale == "en-GB"
    assert any(r["name"] == "Samaritans" for r in decision.resources)


def test_ideation_block_is_not_marked_urgent(gate: SafetyGate) -> None:
    decision = _decide(gate, "I want to die.", classifier_risk="ideation")
    assert "URGENT" not in decision.block_markdown
    assert "Ask directly about suicidal thoughts" in decision.block_markdown


def test_without_resources_the_block_still_has_emergency_help() -> None:
    decision = SafetyGate(None).decide(
        FakeClassifier().predict(["x"])[0].to_dict(), "I'm going to kill myself"
    )
    assert FALLBACK_RESOURCES_MD in decision.block_markdown


def test_locale_changes_the_numbers() -> None:
    us = SafetyGate(load_crisis_resources(RESOURCES_DIR, "en-US"))
    decision = us.decide(FakeClassifier().predict(["x"])[0], "I'm going to kill myself")
    assert "988" in decision.block_markdown and "116 123" not in decision.block_markdown


def test_combine_never_lowers_the_level(gate: SafetyGate) -> None:
    crisis = _decide(gate, "I bought a rope.", classifier_risk="ideation")
    calm = _decide(gate, "Make it shorter please.")
    assert gate.combine(crisis, calm).crisis
    raised = gate.combine(calm, crisis)
    assert raised.crisis and raised.urgent and raised.block_markdown


def test_a_broken_clinic_file_keeps_the_locales_own_crisis_lines(tmp_path) -> None:
    from assistant.pipeline import _load_resources
    from assistant.settings import PROJECT_ROOT

    resources = PROJECT_ROOT / "knowledge_base" / "resources"
    broken = tmp_path / "clinic.yaml"
    broken.write_text("resources: [not, a, valid, list", encoding="utf-8")
    loaded = _load_resources(resources, "en-GB", broken)
    assert loaded is not None and loaded.locale == "en-GB"
    intl = _load_resources(resources, "xx-XX", None)
    assert intl is not None and intl.locale == "intl"


# ---- texts not in English -------------------------------------------------------------------
SPANISH = "No quiero vivir más. Tengo las pastillas preparadas para esta noche."


@pytest.fixture(scope="module")
def checked_gate(language_detector: LanguageDetector) -> SafetyGate:
    return SafetyGate(load_crisis_resources(RESOURCES_DIR, "en-GB"), language=language_detector)


def test_a_text_not_in_english_gets_the_notice_and_resources_first(
    checked_gate: SafetyGate,
) -> None:
    decision = _decide(checked_gate, SPANISH)
    assert decision.language == "es" and not decision.crisis and decision.level == "none"
    block = decision.block_markdown
    assert block.startswith(f"## {LANGUAGE_HEADING}")
    assert "reads English only" in block and "Spanish (es)" in block
    assert "nothing here rules risk in or out" in block and "interpreter" in block
    assert "ask the person directly about suicidal thoughts" in block
    assert "116 123" in block and "Warning signs" in block  # resources and the safety plan
    assert "## Safety first" not in block  # nobody found a crisis: the notice says why not
    assert decision.resources and any("not in English" in r for r in decision.reasons)


def test_a_crisis_call_on_a_text_not_in_english_still_stands(checked_gate: SafetyGate) -> None:
    decision = _decide(checked_gate, SPANISH, classifier_risk="behavior")
    assert decision.language == "es" and decision.crisis and decision.urgent
    block = decision.block_markdown
    assert block.startswith(f"## {LANGUAGE_HEADING}")
    assert block.index(LANGUAGE_HEADING) < block.index("## Safety first")
    assert "URGENT: same-day assessment" in block
    assert block.count("116 123") == 1 and block.count("Warning signs") == 1


def test_english_texts_and_an_unchecked_gate_are_unchanged(checked_gate: SafetyGate) -> None:
    assert _decide(checked_gate, "Work has been stressful and I feel low.").block_markdown == ""
    unchecked = SafetyGate(load_crisis_resources(RESOURCES_DIR, "en-GB"))
    assert _decide(unchecked, SPANISH).language == "" and not _decide(unchecked, SPANISH).reasons


def test_a_follow_up_keeps_or_adds_the_language(checked_gate: SafetyGate) -> None:
    english = _decide(checked_gate, "I feel hopeless and I can't sleep at all.")
    spanish = _decide(checked_gate, SPANISH)
    assert checked_gate.combine(spanish, english).language == "es"
    added = checked_gate.combine(english, spanish)
    assert added.language == "es" and added.block_markdown.startswith(f"## {LANGUAGE_HEADING}")


@pytest.mark.parametrize(
    ("text", "classifier_risk", "why"),
    [
        # a time, a worked-out plan, preparations: urgent at ideation level too
        (
            "I've decided I'm going to kill myself on Friday when my flatmate is away. I've "
            "worked out which bridge and what time.",
            "ideation",
            "a time for ending their life",
        ),
        ("I won't be around after tonight.", "none", "a time for ending their life"),
        (
            "I've written letters to everyone and sorted out who gets my cat. Tomorrow it'll "
            "all be over.",
            "ideation",
            "means or preparations beside suicidal thoughts",
        ),
        ("burning my wrist with a lighter again tonight", "behavior", "self-harm"),
        # other ways of giving a time (a QA re-test)
        (
            "ive decided im gonna kill myslef on saturday when my roomate is out, i know which "
            "bridge n what time",
            "ideation",
            "a worked-out plan",
        ),
        ("I'm going to jump off the bridge tomorrow night.", "none", "a time for ending"),
        ("im going to end it all tomorow", "none", "a time for ending"),
        (
            "Next Tuesday, when the kids are at their dad's, I'll take all my tablets.",
            "none",
            "time",
        ),
        ("Everyone will be better off when I'm gone on Sunday.", "none", "a time for ending"),
        ("By the time you read this I'll be gone.", "none", "a time for ending"),
        ("I've decided to end my life on my birthday next month.", "none", "a time for ending"),
        ("Tonight's the night. I'm done.", "none", "a time for ending"),
        ("I took 30 pills an hour ago.", "none", "a suicide attempt"),
    ],
)
def test_a_time_a_plan_or_preparations_are_urgent_and_the_block_says_which(
    gate: SafetyGate, text: str, classifier_risk: str, why: str
) -> None:
    decision = _decide(gate, text, classifier_risk=classifier_risk)
    assert decision.crisis and decision.urgent, decision.reasons
    assert "URGENT: same-day assessment.** The text describes " in decision.block_markdown
    assert why in decision.block_markdown


def test_an_attempt_the_writer_says_is_over_is_a_crisis_but_not_urgent(gate: SafetyGate) -> None:
    """C-SSRS counts lifetime attempts, so the practitioner is told to ask; it is no emergency."""
    text = (
        "I tried to end my life when I was 20. I'm 45 now and genuinely happy, and I volunteer "
        "with a suicide prevention charity."
    )
    decision = _decide(gate, text, classifier_risk="attempt")
    assert decision.crisis and not decision.urgent
    assert "the writer says it is over: not urgent" in decision.reasons
    recent = _decide(gate, "I tried to end my life last night.", classifier_risk="attempt")
    assert recent.urgent
    for over in (
        "I attempted suicide when I was a teenager. I'm 50 now and life is good.",
        "Years ago, in college, I overdosed. I've been in a really good place for a decade now.",
    ):
        assert not _decide(gate, over, classifier_risk="attempt").urgent, over


@pytest.mark.parametrize(
    "text",
    [
        "He took an overdose last night.",
        "She attempted suicide yesterday.",
        "She cut herself badly last night.",
        "My son has taken all of his tablets.",
    ],
)
def test_someone_elses_attempt_is_urgent_in_a_follow_up_and_when_recent(
    gate: SafetyGate, text: str
) -> None:
    """A practitioner's follow-up reports on the person: their attempt or self-harm is the
    case's crisis. In a post (a carer writing) it is when recent; an old one is history."""
    follow_up = gate.decide(FakeClassifier().predict(["x"])[0].to_dict(), text, context=True)
    assert follow_up.crisis and follow_up.urgent and follow_up.level == "attempt"
    assert "a suicide attempt or self-harm of the person" in follow_up.block_markdown
    fresh = _decide(gate, text, classifier_risk="none")
    assert fresh.crisis is any(w in text for w in ("last night", "yesterday"))
    old = _decide(gate, "My brother tried to kill himself in 2010, he's fine now.", "none")
    assert not old.crisis


def test_a_combined_decision_says_what_the_follow_up_describes(gate: SafetyGate) -> None:
    calm = _decide(gate, "I feel low.", classifier_risk="none")
    later = gate.decide(
        FakeClassifier().predict(["x"])[0].to_dict(), "He took an overdose last night.", True
    )
    assert (
        "a suicide attempt or self-harm of the person" in gate.combine(calm, later).block_markdown
    )


@pytest.mark.parametrize(
    "text",
    [
        "My client has been thinking about ending her life. She has a plan to overdose this weekend.",
        "My son says he's going to kill himself tonight.",
        "He plans to end his life on Friday when his wife is away.",
    ],
)
def test_someone_elses_plan_with_a_time_is_urgent(gate: SafetyGate, text: str) -> None:
    decision = _decide(gate, text, classifier_risk="none")
    assert decision.crisis and decision.urgent, decision.reasons
    assert "a time for ending their life" in decision.block_markdown


def test_an_attempt_dated_in_the_past_is_a_crisis_but_not_urgent(gate: SafetyGate) -> None:
    old = "PHQ-9 score 22, GAD-7 18. Previous attempt 2 years ago."
    start = old.index("Previous attempt")
    evidence = [{"start": start, "end": start + 16, "text": "Previous attempt", "cue": "x"}]
    classification = FakeClassifier().predict([old])[0].to_dict()
    classification["risk"].update(level="attempt", evidence=evidence)
    decision = gate.decide(classification, old)
    assert decision.crisis and not decision.urgent
    assert any("dated in the past" in r for r in decision.reasons)
    # the same attempt last night is urgent; so is one with no evidence to date it
    recent = "Previous attempt last night, brought in by ambulance."
    classification["risk"]["evidence"] = [
        {"start": 0, "end": 16, "text": "Previous attempt", "cue": "x"}
    ]
    assert gate.decide(classification, recent).urgent
    classification["risk"]["evidence"] = []
    assert gate.decide(classification, old).urgent


def _with_labels(text: str, labels: list[str]) -> dict:
    as_dict = FakeClassifier().predict([text])[0].to_dict()
    as_dict["labels"] = [{"label": lab, "score": 0.8, "sources": ["rules"]} for lab in labels]
    as_dict["risk"]["level"] = "none"
    return as_dict


def test_danger_to_others_beside_psychotic_content_is_urgent(gate: SafetyGate) -> None:
    text = "I'm scared I might hurt my baby. I've been hearing that he is evil."
    decision = gate.decide(_with_labels(text, ["psychosis"]), text)
    assert decision.crisis and decision.urgent and decision.level == "none"
    assert "possible danger to someone else" in decision.block_markdown
    assert "safeguarding" in decision.block_markdown
    # the same words read as harm obsessions (OCD), or without a psychosis label: no crisis
    obsession = (
        "I keep getting horrible thoughts of hurting my baby. I would never do it and I avoid "
        "being alone with him."
    )
    assert not gate.decide(_with_labels(obsession, ["ocd"]), obsession).crisis
    persecuted = "The voices say my neighbours are poisoning me."
    assert not gate.decide(_with_labels(persecuted, ["psychosis"]), persecuted).crisis
    # a combined (follow-up) decision keeps saying what it describes
    calm = gate.decide(_with_labels("Low mood.", []), "Low mood.")
    combined = gate.combine(calm, decision)
    assert combined.urgent and "possible danger to someone else" in combined.block_markdown


def test_a_title_case_crisis_reaches_the_gate_through_redaction(gate: SafetyGate) -> None:
    """Redaction runs first: "I'm Hanging Myself Tonight" was "I'm [NAME] Myself Tonight"."""
    from assistant.redact import redact_text

    text = redact_text("Title: I'm Hanging Myself Tonight\n\nthe rope is in the loft").text
    decision = _decide(gate, text, classifier_risk="none")
    assert decision.crisis and decision.urgent, decision.reasons


def test_a_method_and_a_time_beside_a_crisis_are_urgent(gate: SafetyGate) -> None:
    """The end of a long post the student reads only the start of."""
    text = (
        "if I take the dog to my mum's on Friday I can use the car exhaust in the garage while "
        "my girlfriend is at her sister's, and nobody has to find me straight away."
    )
    assert _decide(gate, text, classifier_risk="ideation").urgent
    # a method and a time alone are everyday ("take the train on Friday")
    assert not _decide(gate, "I'll take the train on Friday to see mum.").crisis


def test_dangerous_withdrawal_is_an_urgent_medical_emergency(gate: SafetyGate) -> None:
    """Seizures or hallucinations coming off alcohol (the classifier's substance-use evidence of
    a medical risk) open the gate as an emergency, with no suicide-risk level of their own."""
    text = "I had a seizure yesterday after stopping drinking, now I'm seeing things"
    as_dict = _with_labels(text, ["substance_use"])
    as_dict["labels"][0]["evidence"] = [
        {"start": 2, "end": 41, "text": text[2:41], "cue": "medical_risk"}
    ]
    decision = gate.decide(as_dict, text)
    assert decision.crisis and decision.urgent and decision.level == "none"
    assert "dangerous withdrawal" in decision.block_markdown
    assert "emergency medical care" in decision.block_markdown
    # the gate's own pattern reads the same text (someone else's withdrawal too)
    assert gate.decide(_with_labels(text, ["substance_use"]), text).urgent
    # the same cue on another label, in a text without the signs: no emergency
    calm = "I drink most nights and I want to cut down."
    other = _with_labels(calm, ["eating_disorder"])
    other["labels"][0]["evidence"] = [
        {"start": 0, "end": 7, "text": calm[:7], "cue": "medical_risk"}
    ]
    assert not gate.decide(other, calm).crisis
    assert not gate.decide(_with_labels(calm, ["substance_use"]), calm).crisis
    # a follow-up keeps saying what it describes
    calm = gate.decide(_with_labels("Low mood.", []), "Low mood.")
    assert "dangerous withdrawal" in gate.combine(calm, decision).block_markdown


def test_the_date_of_someone_elses_suicide_is_no_plan(gate: SafetyGate) -> None:
    """ "the anniversary of my mum's suicide tomorrow" was a timed plan, URGENT."""
    text = "It's the anniversary of my mum's suicide tomorrow and I don't know how to cope."
    decision = gate.decide(_with_labels(text, []), text)
    assert not decision.crisis
    own = "I've decided on suicide tomorrow."
    assert gate.decide(_with_labels(own, []), own).urgent


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (
            "My mate took some gear at a party and now he's not waking up, his lips are going "
            "blue and he's making snoring noises.",
            "overdose",
        ),
        (
            "On lithium for bipolar. Two days of diarrhoea and vomiting, I'm unsteady on my feet "
            "and my speech feels slurred.",
            "lithium toxicity",
        ),
        (
            "Started tramadol last week on top of my sertraline. Now I'm sweaty, agitated, my "
            "muscles keep jerking and my temperature is 39.",
            "serotonin syndrome",
        ),
        ("Pt on haloperidol depot, now rigid, temp 40.1, confused, CK 12,000.", "neuroleptic"),
        ("On clozapine 6 months. Sore throat and fever since yesterday.", "clozapine"),
        ("pt on phenelzine ate aged cheese, now severe occipital headache, BP 220/130", "MAOI"),
        (
            "Since our daughter was born 10 days ago my wife hasn't slept and says the baby is "
            "the devil.",
            "postpartum psychosis",
        ),
        (
            "My 8 year old told me tonight that her uncle touches her when he babysits and that "
            "it's their secret.",
            "child",
        ),
        ("Client disclosed partner strangled her last night. She's going home tonight.", "abuse"),
        ("My husband says he'll kill me if I leave.", "abuse"),
    ],
)
def test_medical_and_safeguarding_emergencies_are_urgent(
    gate: SafetyGate, text: str, name: str
) -> None:
    decision = gate.decide(_with_labels(text, []), text)
    assert decision.crisis and decision.urgent and decision.level == "none", text
    assert name.split()[0].lower() in " ".join([*decision.reasons, decision.block_markdown]).lower()
    # not a suicidal crisis: its own next step and resources, no suicide safety-plan outline
    assert "**URGENT.** The text describes" in decision.block_markdown
    assert "same-day assessment" not in decision.block_markdown
    assert "Crisis resources" in decision.block_markdown
    assert "Stanley" not in decision.block_markdown


@pytest.mark.parametrize(
    "text",
    [
        "I've been on lithium for 10 years and it works well, I get my levels checked.",
        "Sertraline makes me sweaty and I get a slight tremor in my hands but it helps.",
        "I'm on olanzapine and I've put on weight and feel stiff in the mornings.",
        "My baby is snoring loudly and won't wake up for feeds, is that normal?",
        "Clinician query: what's the difference between postpartum blues, PND and puerperal "
        "psychosis, and when should I refer urgently?",
        "Since the baby was born I feel so low and tearful.",
        "My son hit him back at school after the other boy pushed him, the teacher told me.",
        "My mum will kill me when she finds out I failed.",
        "Question: what are the signs of a fentanyl overdose?",
    ],
)
def test_ordinary_medication_and_family_talk_is_no_emergency(gate: SafetyGate, text: str) -> None:
    assert not gate.decide(_with_labels(text, []), text).crisis, text


@pytest.mark.parametrize(
    "text",
    [
        "I'm going to kill him. I've got the knife ready.",
        "If he doesn't give me the kids back I'm going to go round there and stab him.",
        "one day i'm going to bring my dad's gun and make them all pay.",
        "some nights I think about putting a pillow over her face",
        "I'm going to smother the baby, the voices say he is evil.",
    ],
)
def test_a_threat_to_someone_else_with_a_method_is_urgent(gate: SafetyGate, text: str) -> None:
    decision = gate.decide(_with_labels(text, []), text)
    assert decision.crisis and decision.urgent, text
    assert "threat to harm someone else" in decision.block_markdown


@pytest.mark.parametrize(
    "text",
    [
        "I'm going to kill him if he eats my leftovers again lol",
        "I'll stab you with this fork if you touch my chips haha",
        "We're going to shoot the wedding on film this year",
        "I could kill him, he forgot our anniversary again",
    ],
)
def test_everyday_anger_is_no_threat(gate: SafetyGate, text: str) -> None:
    assert not gate.decide(_with_labels(text, []), text).crisis, text


@pytest.mark.parametrize(
    "text",
    [
        "going to unalive myself tonight",
        "ngl thinking abt unaliving myself tonight fr fr",
        "gonna ctb this weekend, got everything ready",
        "Last night I sat in the car in the garage with the engine running for twenty minutes.",
        "Ligature found in room this am, removed by staff.",
        "Pt endorses SI w/ plan to OD on home meds, +intent, +access.",
    ],
)
def test_forum_words_aborted_attempts_and_note_forms_are_urgent(
    gate: SafetyGate, text: str
) -> None:
    assert gate.decide(_with_labels(text, []), text).urgent, text


def test_goodbyes_and_final_arrangements_are_urgent_beside_a_crisis(gate: SafetyGate) -> None:
    for text in (
        "i'm so done. i've said bye to everyone on discord.",
        "There's no reason left. I've written letters to my sisters and sorted the will.",
    ):
        assert gate.decide(_with_crisis(text), text).urgent, text
    for text in (
        "Going to say goodbye to everyone at work on Friday, new job starts Monday!",
        "We sorted the will after dad's diagnosis, it felt grim but it's done",
        "Pt denies SI with plan or intent. Mood euthymic.",
    ):
        assert not gate.decide(_with_labels(text, []), text).urgent, text


def _with_crisis(text: str) -> dict:
    as_dict = _with_labels(text, [])
    as_dict["risk"]["level"] = "ideation"
    return as_dict


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (
            "My daughter has anorexia and has just come home from hospital. She's started eating "
            "again but now her ankles are swollen and she's breathless.",
            "refeeding",
        ),
        (
            "Mum is 79 and since her UTI she's suddenly seeing children in the garden and is very "
            "muddled.",
            "delirium",
        ),
        (
            "IVDU for 6 years. Abscess on my groin injection site is red, hot and spreading and "
            "I've got a fever.",
            "injection site",
        ),
        (
            "my mate's been on ice for a week, hasn't slept, reckons the feds are in the ceiling "
            "and he's got a machete by the door.",
            "weapon",
        ),
        ("I'm 14 and my stepdad hits me when he's drunk. Please don't tell anyone.", "child"),
        ("I'm 15 and my mum's boyfriend keeps coming into my room at night.", "child"),
    ],
)
def test_more_emergencies_are_urgent(gate: SafetyGate, text: str, name: str) -> None:
    decision = gate.decide(_with_labels(text, []), text)
    assert decision.crisis and decision.urgent, text
    assert any(name in r for r in decision.reasons), decision.reasons


@pytest.mark.parametrize(
    "text",
    [
        "I'm 16 and my dad hit me once when I was little, we're fine now and I love him",
        "I'm 15 and my brother hit me with a pillow lol",
        "My nan is 85 and she's been confused about dates for years, the dementia is slowly "
        "getting worse",
        "I keep a baseball bat by the door because I live alone, no big deal",
        "I have anorexia and I've started eating again, feeling proud",
        # forms that fired on the Reddit corpus before the signs were narrowed
        "I never had trouble going to sleep. Rather, I can't wake up in the morning.",
        "I like not waking up hungover, sick or whatever comes in the morning.",
        "Is it the Lithium or the Bipolar? Laying on my couch, the walls began to warp.",
        "She would even threaten to kill herself if I left her.",
        "Afraid I have psychosis 14F? I suddenly started hearing an audio track, my dad says.",
        "I'm getting paranoid over the littlest things. I do have a knife and razor blades.",
    ],
)
def test_ordinary_family_and_recovery_talk_is_no_emergency(gate: SafetyGate, text: str) -> None:
    assert not gate.decide(_with_labels(text, []), text).crisis, text


def test_access_to_firearms_beside_a_crisis_is_urgent(gate: SafetyGate) -> None:
    text = "Recently widowed, drinking heavily, has access to shotguns."
    assert gate.decide(_with_crisis(text), text).urgent
    assert not gate.decide(_with_labels(text, []), text).crisis


@pytest.mark.parametrize(
    "text",
    [
        # a probe's false alarms of the first version of these signs (2026-12-08)
        "I'm going to shoot everyone in Fortnite tonight, new season just dropped",
        "I'll shoot him a text after work and see if he still wants to get coffee.",
        "I'm going to shoot my sister's wedding in June and I'm so nervous.",
        "Boil the spuds for 20 min, then I'll stab them with a fork to check they're done.",
        "We're going to kill them on Saturday. Got the new bat from Dad for my birthday.",
        "I'm going to smother the kids in factor 50 and pray for cloud.",
        "He choked me out twice in jiu-jitsu tonight, my guard is terrible.",
        "Watched the Boston Strangler documentary with my boyfriend and now I can't sleep.",
        "My manager said he'd kill me if I go over budget again this quarter.",
        "She's not responding to my texts since we had that fight on Friday.",
        "Since I took the new job, he's not breathing down my neck every five minutes.",
        "Our 3 week old makes gurgling noises all night in the Moses basket after her feed.",
        "I'm 9 years sober and my dad still hits me up for money every month.",
        "(16F) Every night it hits me how much I miss my dad.",
        "My daughter won't let anyone touch her hair - she screams in the bath.",
        "Since our new baby arrived we swapped night feeds so we each get some sleep.",
        "My 7 year old keeps saying the new baby is evil because she cries all night.",
        "My counsellor is 71 and she suddenly announced she's retiring. I'm confused.",
        "Had my flu jab yesterday - the injection site is red and hot and swollen and I was "
        "shivering a bit last night.",
        "Lithium level 0.7, U&Es normal. No tremor, no vomiting or diarrhoea, not drowsy.",
        "My eye keeps twitching. I'm on citalopram and I'm agitated about my exams.",
        "I work nights at the bus depot, my back is stiff and I'm confused about uni.",
        "pt on clozapine, FBC due Thurs. No fever, no sore throat. Obs stable.",
        "Starting phenelzine next week. What foods should I avoid so I don't get a severe "
        "headache?",
        "I stopped drinking three years ago and I'm seeing things so much more clearly now.",
        "Three months since I quit booze and I'm really confused about how to date sober.",
        "Chapter 3. The voices told Martha to take the knife. She kept it under her pillow.",
    ],
)
def test_the_emergency_signs_stand_down_for_everyday_words(gate: SafetyGate, text: str) -> None:
    assert not gate.decide(_with_labels(text, []), text).crisis, text


@pytest.mark.parametrize(
    "text",
    [
        # the same probe's misses
        "bf took a bunch of oxy and now hes breathing really weird and wont wake up. what do i do",
        "She's nodding out after using and her lips are grey, I've got naloxone",
        "He's been a heavy drinker for 20 yrs, stopped suddenly on Monday, and now he's shaking "
        "and talking to people who aren't there",
        "Alcohol w/d day 2, visual hallucinations, disorientated to time and place, tremor ++",
        "Li level 1.8 this am, pt c/o N&V, coarse tremor, ataxic",
        "pt on olanz, rigid, pyrexial 38.9, CK 12000, fluctuating GCS",
        "82yo F, acute confusion since yesterday, ?UTI, now hallucinating",
        "been shooting up in my groin and its gone hot and swollen, got the shivers",
        "My wife had our baby 10 days ago and now she says the baby has been replaced by an "
        "impostor. She hasn't slept in 3 days.",
        "im 13 n my mums bf comes in my room at nite and i dont like it",
        "my bf said if i ever leave hed kill me and he keeps a gun in the car",
        "he squeezed my neck till i couldnt breathe and then acted like nothing happened",
        "Swear down I'm gonna stab my stepdad when he gets home tonight",
        "I've got a knife in my bag and I'm going to use it on him after school",
        "Pt paranoid re neighbours poisoning the water, keeps a hammer in his coat pocket",
    ],
)
def test_the_emergency_signs_read_other_ways_of_saying_it(gate: SafetyGate, text: str) -> None:
    assert gate.decide(_with_labels(text, []), text).urgent, text


def _probes() -> list[dict]:
    import json

    path = Path(__file__).with_name("emergency_probes.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize("probe", _probes(), ids=lambda p: p["id"])
def test_the_emergency_probe_set(probe: dict) -> None:
    """200 texts a QA helper wrote without seeing the patterns (2026-12-08): 80 emergencies in
    practitioners' and people's own words, 120 everyday texts sharing their vocabulary. Held
    out, the first version found 40 of the 80 and fired on 3 of the 120; widened against them
    it finds 76 and fires on none. The four it still misses are marked, so any other change
    shows."""
    from assistant.emergencies import urgent_signs

    fired = bool(urgent_signs(probe["text"]))
    if probe["fires"] and not probe["known_miss"]:
        assert fired, probe["text"]
    elif not probe["fires"]:
        assert not fired, probe["text"]
    else:
        assert not fired, "a known miss now fires: update the probe file"


def test_an_act_the_text_dates_in_the_past_is_not_urgent(gate: SafetyGate) -> None:
    """ "Back in 2012 I overdosed on heroin ... 10 years clean" was URGENT beside its own reason
    "dated in the past: not urgent"."""
    text = "Back in 2012 I overdosed on heroin and a stranger saved me. 10 years clean this month."
    decision = gate.decide(_with_labels(text, []), text)
    assert decision.crisis and not decision.urgent
    calm = gate.decide(_with_labels("Low mood.", []), "Low mood.")
    assert not gate.combine(calm, decision).urgent
    recent = "I overdosed last night and I feel awful."
    assert gate.decide(_with_labels(recent, []), recent).urgent


def test_a_follow_up_emergency_at_the_same_level_makes_the_case_urgent(gate: SafetyGate) -> None:
    """A case already a crisis at ideation, then "he's not waking up, lips going blue" (an
    overdose in progress, suicide-risk level none): the combined decision kept the first,
    non-urgent one."""
    first = gate.decide(
        _with_crisis("I keep thinking about ending it."), "I keep thinking about ending it."
    )
    assert first.crisis and not first.urgent
    text = "Update: he took a load of pills and now he's not waking up, his lips are going blue."
    second = gate.decide(_with_crisis(text), text)
    combined = gate.combine(first, second)
    assert combined.urgent and "overdose" in combined.block_markdown


@pytest.mark.parametrize(
    "text",
    [
        # a carer's account: the classifier reads no risk in someone else's quiet preparations
        "Dad (81) has stopped taking his heart tablets since Mum died in March. Yesterday he "
        'started giving his medals away to the grandchildren and said he\'s "ready to go".',
        "I'm 79 and since my wife passed I've stopped taking my heart pills. I've given my medals "
        "to my grandson. I'm ready to go and be with her.",
        "I've stopped taking my blood pressure tablets on purpose. No point anymore. I told the "
        "kids where the will is.",
        "Client (74) reports she has sorted her affairs and is no longer taking her insulin. "
        "States she has 'lived long enough'.",
    ],
)
def test_preparations_for_dying_are_urgent_whoever_tells_them(gate: SafetyGate, text: str) -> None:
    decision = gate.decide(_with_labels(text, []), text)
    assert decision.crisis and decision.urgent, text
    assert decision.level == "behavior"
    assert any(r.startswith("explicit preparations for dying cue:") for r in decision.reasons)
    assert "preparations for dying" in decision.block_markdown
    assert "Safety plan outline" in decision.block_markdown  # a suicidal crisis


@pytest.mark.parametrize(
    "text",
    [
        "I stopped taking my statins because of the muscle aches, doctor is switching me.",
        "Giving away my old clothes to charity this weekend, decluttering feels great.",
        "Mum's giving her books away before the move to the care home, she says she's ready to "
        "go now that the flat is sold.",
        "We updated our will after the baby came. Ready to go back to work next week!",
        "Grandad gave me his watch for my 18th and said he's ready to go on the cruise lol",
        "What are the warning signs that an elderly parent is giving up, like giving things "
        "away or stopping their meds?",
    ],
)
def test_everyday_medication_wills_and_giving_away_are_no_preparations(
    gate: SafetyGate, text: str
) -> None:
    decision = gate.decide(_with_labels(text, []), text)
    assert not any(r.startswith("explicit preparations for dying cue:") for r in decision.reasons)


def test_a_suicide_threat_used_as_pressure_opens_the_gate_with_what_to_do(
    gate: SafetyGate,
) -> None:
    """Someone else's threat to end their life if the writer leaves: a crisis for the person who
    threatens, not urgent on its own, not the writer's suicide risk (no safety plan for the
    writer), with what to do for both people."""
    text = "My boyfriend says he'll kill himself if I break up with him. I feel trapped."
    as_dict = _with_labels(text, [])
    as_dict["risk"]["level"] = "indicator"
    decision = gate.decide(as_dict, text)
    assert decision.crisis and not decision.urgent
    assert decision.level == "indicator"
    assert decision.reasons == [
        "explicit suicide threat used as pressure cue: \"My boyfriend says he'll kill himself if "
        'I break up with him"'
    ]
    block = decision.block_markdown
    assert "coercive control" in block and "emergency services" in block
    assert "signals consistent with suicidal thoughts" not in block
    assert "Safety plan outline" not in block
    # the writer's own crisis beside it keeps both
    as_dict["risk"]["level"] = "ideation"
    both = gate.decide(as_dict, text)
    assert (
        "coercive control" in both.block_markdown and "Safety plan outline" in both.block_markdown
    )
    # a follow-up keeps the note
    calm = _decide(gate, "Work has been stressful.")
    assert "coercive control" in gate.combine(calm, decision).block_markdown
    # a carer's report without the condition and a joke are no such threat
    for other in (
        "my son said he wants to kill himself last night. he's 15.",
        "he says he'll kill himself if i eat the last slice lol",
    ):
        assert not any(
            "used as pressure" in r for r in gate.decide(_with_labels(other, []), other).reasons
        )


def _preparation_probes() -> list[dict]:
    import json

    path = Path(__file__).with_name("preparation_probes.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize("probe", _preparation_probes(), ids=lambda p: p["id"])
def test_the_preparation_and_pressure_probe_sets(probe: dict) -> None:
    """390 texts three QA helpers wrote without seeing the patterns (2026-12-08): preparations
    for dying (40 each set) against everyday texts sharing their words (40), and someone else's
    suicide threat used as pressure (25) against look-alikes (25). The patterns were widened
    against the first two sets; the third (``set`` "s3") is the held-out check, untouched:
    preparations found in 11 of 40 and no false alarm, threats used as pressure in 12 of 25
    and one false alarm (a general question). Its misses and false alarm are marked, so any
    change shows."""
    from assistant.safety import _coercion, _prepared

    text = probe["text"]
    fired = bool(_prepared(text) if probe["sign"] == "preparations" else _coercion(text))
    if probe["known_miss"] or probe["known_false_alarm"]:
        assert fired is probe["known_false_alarm"], "a marked case changed: update the probe file"
    else:
        assert fired is probe["fires"], text


@pytest.mark.parametrize(
    "text",
    [
        "My 16 year old daughter has been cutting her arms and I only found out yesterday.",
        "hes been cutting himself again, i saw the marks",
        "My son is hurting himself, I found blood on his sheets.",
        "Session note: 14-year-old girl referred by school nurse following disclosure of cutting "
        "on forearms for the past four months.",
    ],
)
def test_self_harm_going_on_in_someone_described_is_urgent(gate: SafetyGate, text: str) -> None:
    """A parent's "my daughter has been cutting her arms" read no risk and got no draft: the
    person described is harming themselves now."""
    decision = gate.decide(_with_labels(text, []), text)
    assert decision.crisis and decision.urgent and decision.level == "behavior"
    assert "self-harm going on now in the person described" in decision.block_markdown


@pytest.mark.parametrize(
    "text",
    [
        "My daughter is hitting her brother when she is angry.",
        "He was cutting his arms when he was 14, he is 30 now and doing great.",
        "The chef is cutting the onions.",
        "Hx: disclosed self-harm in 2019, none since. Mood stable.",
    ],
)
def test_other_peoples_words_that_look_like_self_harm_are_not(gate: SafetyGate, text: str) -> None:
    assert not gate.decide(_with_labels(text, []), text).crisis


def _carer_probes() -> list[dict]:
    import json

    path = Path(__file__).with_name("carer_probes.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def lexicon() -> Any:
    from classifiers.rules import LexiconClassifier

    return LexiconClassifier()


@pytest.mark.parametrize("probe", _carer_probes(), ids=lambda p: p["id"])
def test_the_carer_probe_set(gate: SafetyGate, lexicon: Any, probe: dict) -> None:
    """75 texts a QA helper wrote without seeing the code (2026-12-08): 40 posts about someone
    close (8 of them harming themselves now), 20 about the writer's own difficulty with others
    mentioned in passing, 15 with no difficulty for anyone. Held out, the rules found the
    described person's conditions in 19 of the 40 (no wrong condition; the gate opened on 1 of
    the 8 self-harm posts). The gate's patterns and the rules' third-person forms were widened
    against them (all 8 now urgent; conditions found in 33 of 40, two with depression beside the
    right one, none in the 35 controls); ``others_found`` pins them, misses included, so any
    change shows."""
    from assistant.redact import redact_text

    text = redact_text(probe["text"]).text
    found = [lab.label for lab in lexicon.analyze(text).about_others()]
    assert found == probe["others_found"]
    if probe["group"] != "carer":
        assert found == []
    empty = {"relevant": False, "labels": [], "risk": {"level": "none", "evidence": []}}
    decision = gate.decide(empty, text)
    if probe["group"] == "carer":
        assert decision.urgent is probe["self_harm_now"], text
    else:
        assert not decision.crisis or probe["self_harm_now"], text


def test_someone_elses_act_dated_last_semester_is_not_recent(gate: SafetyGate) -> None:
    """ "My only friend attempted suicide last semester ... I just don't know what to do" was a
    recent act: "just" in the sentence counted as recent."""
    text = (
        "My only friend attempted suicide last semester and I can't put any stress on her and I "
        "really just don't know what to do anymore."
    )
    assert not any(p.name == "reported act" for p, _ in gate.matches(text))
    recent = "My 16 year old daughter took an overdose last night."
    assert any(p.name == "reported act" for p, _ in gate.matches(recent))
    # the writer's own act is never someone else's
    assert not any(
        p.name == "reported act" for p, _ in gate.matches("my friend said I took an overdose today")
    )
