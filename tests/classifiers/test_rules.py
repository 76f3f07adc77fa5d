"""The rule-based classifier: lexicon hits, context scoping, risk, severity, relevance."""

from __future__ import annotations

import logging
import pickle
import shutil
from pathlib import Path

import pytest

from classifiers.base import Classification, Classifier, InvalidTextError
from classifiers.labels import CONDITIONS, RISK_LEVELS, SEVERITY_LEVELS, risk_rank, severity_rank
from classifiers.rules import LexiconClassifier
from classifiers.rules import risk as risk_module
from classifiers.rules.lexicon import default_lexicon_dir
from classifiers.rules.patterns import LexiconError


@pytest.fixture(scope="module")
def clf() -> LexiconClassifier:
    return LexiconClassifier()


def classify(clf: LexiconClassifier, text: str) -> Classification:
    return clf.predict([text])[0]


# ---- contract ---------------------------------------------------------------------------------
def test_result_has_every_field_of_the_output_contract(clf: LexiconClassifier) -> None:
    text = "I've been so depressed for months and I can't get out of bed. I want to die."
    row = classify(clf, text).to_dict(id="post-1")
    assert set(row) == {
        "id",
        "relevant",
        "relevance_score",
        "labels",
        "severity",
        "risk",
        "model_version",
    }
    assert row["id"] == "post-1"
    assert row["relevant"] is True
    assert 0.0 <= row["relevance_score"] <= 1.0
    assert row["model_version"] == clf.version and clf.version.startswith("rules-")
    (label,) = [x for x in row["labels"] if x["label"] == "depression"]
    assert set(label) == {"label", "score", "sources", "evidence"}
    assert label["sources"] == ["rules"]
    assert 0.5 <= label["score"] <= 1.0
    assert {"start", "end", "text", "cue"} <= set(label["evidence"][0])
    assert row["severity"]["level"] in SEVERITY_LEVELS
    assert set(row["risk"]) == {"level", "score", "crisis", "evidence"}
    assert row["risk"]["level"] == "ideation" and row["risk"]["crisis"] is True
    assert row["risk"]["evidence"], "a crisis call must show the words that triggered it"


def test_classifier_satisfies_the_protocol_and_keeps_input_order(clf: LexiconClassifier) -> None:
    assert isinstance(clf, Classifier)
    texts = [
        "My ADHD meds stopped working and I can't focus at work.",
        "Which index fund has the lowest fees for my ISA?",
        "I relapsed after 90 days sober and the cravings are back.",
    ]
    results = clf.predict(texts)
    assert [r.label_names() for r in results] == [["adhd"], [], ["substance_use"]]


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("depression", "I don't enjoy anything anymore, I have no motivation and feel worthless."),
        (
            "anxiety",
            "I had another panic attack at work, my heart was racing and I can't stop worrying.",
        ),
        (
            "bipolar",
            "I haven't slept in days but I'm full of energy. My psychiatrist upped my lithium.",
        ),
        (
            "ptsd",
            "The flashbacks and nightmares about the assault are getting worse; I'm so hypervigilant.",
        ),
        (
            "adhd",
            "Executive dysfunction is killing me, I procrastinate everything and can't focus.",
        ),
        (
            "ocd",
            "My intrusive thoughts won't stop and I check the locks over and over until it feels right.",
        ),
        (
            "eating_disorder",
            "I've been restricting again, counting calories and I purged after dinner.",
        ),
        (
            "psychosis",
            "I hear voices telling me people are watching me. My antipsychotics aren't helping.",
        ),
        (
            "autism",
            "I had a meltdown after sensory overload at the mall; masking all day exhausts me.",
        ),
        ("bpd", "My favourite person didn't text back and my fear of abandonment is unbearable."),
        (
            "substance_use",
            "I'm 30 days sober today but the withdrawal was hell and the cravings are strong.",
        ),
    ],
)
def test_clear_first_person_posts_are_detected(
    clf: LexiconClassifier, label: str, text: str
) -> None:
    result = classify(clf, text)
    assert label in result.label_names()
    assert result.relevant


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("psychosis", "The voices are back and they're getting louder."),
        ("ocd", "I have to go back and check the hob five times before I can leave the house."),
        ("ptsd", "Every time I hear fireworks I hit the floor and freeze."),
        ("substance_use", "I need a drink before work now just to stop my hands shaking."),
        ("eating_disorder", "Haven't eaten since Monday and I feel disgusting whenever I do eat."),
        ("anxiety", "I hid in the toilets at lunch so I didn't have to talk to anyone."),
        ("adhd", "I start ten things and finish none of them."),
        ("depression", "Can't be bothered with anything anymore, I've stopped going out."),
        ("bipolar", "Haven't needed to sleep in days and I feel amazing."),
        ("autism", "I cut the labels out of all my clothes because they're unbearable."),
        ("bpd", "I love him one minute and hate him the next."),
    ],
)
def test_everyday_first_person_wording_of_a_symptom_is_a_counted_hit(
    clf: LexiconClassifier, label: str, text: str
) -> None:
    analysis = clf.analyze(text)
    hits = {la.label: la for la in analysis.labels}[label].hits
    assert any(h.counted for h in hits), text


@pytest.mark.parametrize(
    "text",
    [
        "Checked the weather forecast ten times today because of the frost warning.",
        "Couldn't stop eating at my nan's 80th, three plates of roast.",
        "So nervous about my driving test tomorrow.",
        "Two glasses of wine at lunch and ready for a nap.",
        "Up at 4 for the lambing, can't focus on anything.",
        "Barely slept, so excited about the new job!",
        "Can't sit still waiting for the results of the match!",
        "I'm on a diet before the wedding.",
    ],
)
def test_ordinary_life_gives_no_symptom_hit(clf: LexiconClassifier, text: str) -> None:
    assert not [la.label for la in clf.analyze(text).labels if la.hits]


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("ptsd", "My therapist thinks I have PTSD and I agree."),
        ("adhd", "I think I have ADHD. I'm not sure."),
        ("ptsd", "I think I have PTSD. I don't know what to do."),
        ("substance_use", "My wife says I have a drinking problem and she's right."),
        ("substance_use", "I think I have a drinking problem."),
    ],
)
def test_a_suspicion_without_a_denial_still_counts(
    clf: LexiconClassifier, label: str, text: str
) -> None:
    assert label in classify(clf, text).label_names()


# ---- evidence spans ---------------------------------------------------------------------------
def test_evidence_spans_index_the_original_text_after_emoji_and_accents(
    clf: LexiconClassifier,
) -> None:
    text = "Ça va? 😔🌧️ Ñandú says hi… Honestly I'm so depressed and I want to kill myself 💔"
    result = classify(clf, text)
    spans = [e for label in result.labels for e in label.evidence] + list(result.risk.evidence)
    assert spans
    for e in spans:
        assert text[e.start : e.end] == e.text
    assert any(e.text == "kill myself" or "kill myself" in e.text for e in result.risk.evidence)


def test_every_hit_in_the_analysis_points_into_the_text(clf: LexiconClassifier) -> None:
    text = (
        "> quoted line about anxiety\nMy brother isn't depressed. I used to binge. 🙂 I'm autistic."
    )
    analysis = clf.analyze(text)
    hits = [h for la in analysis.labels for h in la.hits] + list(analysis.risk_hits)
    assert hits
    for h in hits:
        assert text[h.start : h.end] == h.text


# ---- context: negation, third person, hypothetical, past, quotes --------------------------------
@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("depression", "I'm not depressed, just tired after a long week."),
        ("anxiety", "I have never had a panic attack in my life."),
        ("adhd", "I don't have ADHD, I'm just bored in class."),
        ("autism", "I'm not autistic, but I like routines."),
        # someone else's suspicion, then the writer's denial
        (
            "eating_disorder",
            "My mum keeps asking if I have an eating disorder because I skipped tea. I don't.",
        ),
        ("ptsd", "Did two tours and everyone at the pub assumes I must have PTSD. I don't."),
        ("depression", "My GP thinks I'm depressed but I'm not."),
        ("substance_use", "My wife says I have a drinking problem. I don't."),
    ],
)
def test_negated_mentions_are_not_detected_and_are_flagged(
    clf: LexiconClassifier, label: str, text: str
) -> None:
    analysis = clf.analyze(text)
    assert label not in analysis.to_classification().label_names()
    la = analysis.label(label)
    assert la.hits, "the mention is still reported, for fusion to veto on"
    assert all("negated" in h.reasons for h in la.hits)
    assert la.vetoed


@pytest.mark.parametrize(
    ("label", "text", "figurative"),
    [
        ("bipolar", "The weather here is so bipolar, sunny at 8 and hail at 8:15.", True),
        ("bipolar", "I'm so bipolar about my new timetable lol", True),
        ("ocd", "I'm a bit OCD about my spice rack.", True),
        ("ocd", "I have OCD and checking the locks takes me an hour.", False),
        ("bipolar", "I was diagnosed with bipolar last year.", False),
    ],
)
def test_a_diagnosis_name_used_as_an_everyday_adjective_is_not_counted(
    clf: LexiconClassifier, label: str, text: str, figurative: bool
) -> None:
    la = clf.analyze(text).label(label)
    assert la.hits
    assert all(("figurative" in h.reasons) is figurative for h in la.hits)
    assert la.vetoed is figurative  # fusion may veto the student on it


def test_intensified_never_is_not_a_negation(clf: LexiconClassifier) -> None:
    assert "depression" in classify(clf, "I've never been so depressed in my life.").label_names()


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("bipolar", "My brother has bipolar disorder and takes lithium."),
        ("eating_disorder", "My sister is anorexic and keeps restricting."),
        ("substance_use", "My dad is an alcoholic and relapsed again."),
    ],
)
def test_conditions_of_other_people_are_not_the_writers(
    clf: LexiconClassifier, label: str, text: str
) -> None:
    analysis = clf.analyze(text)
    assert label not in analysis.to_classification().label_names()
    assert all("third_person" in h.reasons for h in analysis.label(label).hits)
    assert analysis.relevant, "a post about a relative's condition is still about mental health"


def test_what_others_say_about_the_writer_is_first_person(clf: LexiconClassifier) -> None:
    result = classify(clf, "My mom says I have ADHD and honestly I can't focus on anything.")
    assert "adhd" in result.label_names()


def test_friend_wanting_to_die_is_relevant_but_not_the_writers_ideation(
    clf: LexiconClassifier,
) -> None:
    result = classify(clf, "My friend wants to kill himself and I don't know how to help him.")
    assert risk_rank(result.risk.level) < risk_rank("ideation")
    assert result.relevant


def test_hypotheticals_are_discounted(clf: LexiconClassifier) -> None:
    analysis = clf.analyze("If I were depressed, would I even know?")
    hits = analysis.label("depression").hits
    assert hits and all("hypothetical" in h.reasons and 0 < h.factor < 1 for h in hits)
    assert "depression" not in analysis.to_classification().label_names()


def test_past_and_remission_are_down_weighted(clf: LexiconClassifier) -> None:
    past = clf.analyze("I used to be anorexic, 3 years recovered now.").label("eating_disorder")
    now = clf.analyze("I am anorexic.").label("eating_disorder")
    assert past.hits and all("past" in h.reasons for h in past.hits)
    assert past.score < now.score
    assert past.score < 0.5 <= now.score


def test_quoted_text_is_down_weighted(clf: LexiconClassifier) -> None:
    quoted = clf.analyze(
        "> I want to kill myself\nI hear you, that sounds so hard. Please reach out."
    )
    own = clf.analyze("I want to kill myself. I hear you, that sounds so hard.")
    assert all("quoted" in h.flags.reasons for h in quoted.risk_hits)
    assert not quoted.risk.crisis and own.risk.crisis
    inline = clf.analyze('She wrote "I am so depressed" on her story.')
    assert "depression" not in inline.to_classification().label_names()


# ---- suicide risk ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("level", "text"),
    [
        ("none", "Had a lovely walk with the dog today and finished my book."),
        ("indicator", "I feel like such a burden to everyone and it all feels hopeless."),
        ("ideation", "Lately I keep thinking about killing myself."),
        ("ideation", "I just want to die, I don't want to wake up tomorrow."),
        ("behavior", "I wrote a suicide note last night and I have the pills ready."),
        ("behavior", "I started cutting myself again last week."),
        ("behavior", "I've written my note."),  # a finished note of one's own, no adjective
        ("none", "I wrote my note for class today and left my note on the fridge."),
        ("behavior", "I wrote my last letter to my mum."),
        ("none", "Wrote a letter to my mum."),  # an everyday letter, no last or final
        ("attempt", "I tried to kill myself last year and woke up in the hospital."),
        ("attempt", "After my overdose in March I was in the ICU for a week."),
        # everyday wording of the same levels (found missing by the behavioural cases)
        ("ideation", "lol ngl i wouldn't mind if i just didn't wake up tomorrow"),
        ("ideation", "Some nights I pray not to wake up."),
        ("ideation", "can't stop thinking about not existing"),
        ("ideation", "honestly I should have killed myself when I had the chance"),
        ("ideation", "looking down from the bridge, working out if it's high enough"),
        ("behavior", "been looking up how much paracetamol it would take"),
        ("behavior", "googling painless ways to go at 3am"),
        ("behavior", "i've been saving up my mum's sleeping pills in a sock"),
        ("behavior", "i've been planning how i'd do it once exams are over"),
        ("behavior", "wrote goodbye messages to everyone in my squad"),
        ("behavior", "the rope I've put up in the barn, just in case"),
        ("attempt", "tried to hang myself on sunday night. the rail broke."),
        ("attempt", "took a load of my pills saturday night and woke up sunday"),
        # brief forms: a model reads nothing in so few words, so these rest on the rules
        ("indicator", "I can't anymore."),
        ("indicator", "Nobody would even notice if I was gone"),
        ("indicator", "why bother anymore"),
        ("ideation", "Just, dont really see a point in living anymore."),
        # ... and their everyday look-alikes
        ("none", "I can't eat gluten anymore."),
        ("none", "why bother with the car wash if it rains tomorrow"),
        ("none", "Driving test tomorrow at 9:40, third attempt. Stomach's doing flips."),
        ("none", "I don't want to be here, this party is boring"),
        ("none", "sitting on the roof watching the sunset"),
        ("none", "sat on the edge of my bed crying"),
        ("none", "sitting on the edge of my seat for the penalties"),
        ("behavior", "stood on the edge for an hour last night"),
        ("behavior", "I was standing on the ledge for an hour"),
        ("behavior", "sat in the kitchen with my pills lined up"),
        ("none", "I want death metal on at my funeral lol"),
        ("ideation", "I just want death, everything hurts"),
        ("ideation", "I don't want to be here anymore, this job is killing me"),
        ("none", "my third attempt at the driving test went fine"),
        ("none", "I'd like to wake up early tomorrow for the market."),
        ("none", "working out whether it would be enough money for the trip"),
    ],
)
def test_risk_levels_follow_the_cssrs_scale(clf: LexiconClassifier, level: str, text: str) -> None:
    risk = classify(clf, text).risk
    assert risk.level == level
    assert risk.crisis == (risk_rank(level) >= risk_rank("ideation"))
    if level != "none":
        assert risk.evidence and 0.0 < risk.score <= 1.0
    else:
        assert risk.score == 0.0


def test_risk_scores_rise_with_the_level(clf: LexiconClassifier) -> None:
    texts = {
        "indicator": "I'm such a burden to everyone.",
        "ideation": "I want to kill myself.",
        "behavior": "I wrote my suicide note.",
        "attempt": "I attempted suicide two years ago.",
    }
    scores = [classify(clf, texts[level]).risk.score for level in RISK_LEVELS[1:]]
    assert scores == sorted(scores) and len(set(scores)) == 4


def test_negated_or_resolved_suicidality_is_not_ideation(clf: LexiconClassifier) -> None:
    for text in ["I'm not suicidal, just really stressed.", "I'm no longer suicidal."]:
        assert not classify(clf, text).risk.crisis, text


def test_past_ideation_is_history_but_a_past_attempt_stays_an_attempt(
    clf: LexiconClassifier,
) -> None:
    assert classify(clf, "I used to be suicidal as a teenager.").risk.level == "indicator"
    assert classify(clf, "Years ago I attempted suicide.").risk.level == "attempt"


def test_hand_written_risk_cues_work_without_construct_tracker() -> None:
    clf = LexiconClassifier(use_construct_tracker=False)
    assert "+ct" not in clf.version
    assert classify(clf, "I want to kill myself tonight.").risk.level == "ideation"
    assert classify(clf, "I tried to kill myself in 2019.").risk.level == "attempt"


def test_missing_construct_tracker_degrades_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(risk_module, "CONSTRUCT_TRACKER_LEXICON", "lexicons/no-such-file.json")
    with caplog.at_level(logging.WARNING, logger="classifiers.rules.risk"):
        clf = LexiconClassifier()
    assert "construct-tracker" in caplog.text and "pip install" in caplog.text
    assert classify(clf, "I want to die.").risk.level == "ideation"


# ---- severity -----------------------------------------------------------------------------------
def test_severity_rises_with_symptoms_impairment_and_risk(clf: LexiconClassifier) -> None:
    mild = classify(clf, "I've been feeling a bit down lately but mostly okay.").severity
    moderate = classify(
        clf,
        "I'm depressed, I have no motivation, I can't sleep and I feel worthless every day.",
    ).severity
    severe = classify(
        clf,
        "I've been severely depressed for months, I haven't left my room in weeks, I lost my job "
        "and I bought a rope to hang myself.",
    ).severity
    assert severity_rank(mild.level) < severity_rank(moderate.level) < severity_rank(severe.level)
    assert mild.score < moderate.score < severe.score
    assert severe.level == "severe"


def test_ideation_is_at_least_moderate(clf: LexiconClassifier) -> None:
    result = classify(clf, "I want to die.")
    assert result.risk.level == "ideation"
    assert severity_rank(result.severity.level) >= severity_rank("moderate")


# ---- relevance ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Should I overpay my mortgage or put the money into my stocks and shares ISA? The interest "
        "rate is 4% and my pension contributions are already maxed.",
        "What a match last night! The striker scored twice and the league title race is on.",
        "The government's new policy on the election was debated in parliament for hours.",
    ],
)
def test_off_topic_posts_are_not_relevant(clf: LexiconClassifier, text: str) -> None:
    result = classify(clf, text)
    assert result.relevant is False
    assert result.labels == ()
    assert result.risk.level == "none"
    assert result.severity.level == "minimal"


def test_general_mental_health_talk_is_relevant_without_a_condition(
    clf: LexiconClassifier,
) -> None:
    result = classify(clf, "I'm really struggling lately and my therapist says I should rest more.")
    assert result.relevant and result.labels == ()


# ---- analysis for fusion -------------------------------------------------------------------------
def test_analysis_reports_every_label_with_cue_counts(clf: LexiconClassifier) -> None:
    analysis = clf.analyze("Panic attacks every day, racing heart, I can't stop worrying.")
    assert [la.label for la in analysis.labels] == list(CONDITIONS)
    anxiety = analysis.label("anxiety")
    assert anxiety.cue_count >= 3 and anxiety.score >= 0.8
    assert analysis.label("psychosis").score == 0.0 and not analysis.label("psychosis").hits
    dumped = analysis.to_dict()
    assert dumped["labels"][0]["label"] == "anxiety"
    assert dumped["severity_features"]["symptom_criteria"] >= 3


def test_more_independent_cues_give_more_confidence(clf: LexiconClassifier) -> None:
    one = clf.analyze("I keep procrastinating.").label("adhd").score
    three = (
        clf.analyze("I keep procrastinating, I can't focus and I hyperfocus on games.")
        .label("adhd")
        .score
    )
    assert 0 < one < three


# ---- robustness ---------------------------------------------------------------------------------
def test_invalid_text_raises_a_clear_error(clf: LexiconClassifier) -> None:
    with pytest.raises(InvalidTextError, match="empty"):
        clf.predict(["   "])
    with pytest.raises(InvalidTextError, match="limit"):
        LexiconClassifier(max_chars=100).predict(["word " * 50])


def test_pickled_classifier_predicts_the_same(clf: LexiconClassifier) -> None:
    texts = ["I'm so anxious and I had a panic attack.", "I tried to overdose last year."]
    clone = pickle.loads(pickle.dumps(clf))
    assert clone.version == clf.version
    assert [r.to_dict() for r in clone.predict(texts)] == [r.to_dict() for r in clf.predict(texts)]


def test_version_tracks_the_lexicon_files(tmp_path: Path) -> None:
    lexicons = tmp_path / "lexicons"
    shutil.copytree(default_lexicon_dir(), lexicons)
    before = LexiconClassifier(lexicons, use_construct_tracker=False).version
    again = LexiconClassifier(lexicons, use_construct_tracker=False).version
    path = lexicons / "adhd.yaml"
    path.write_text(
        path.read_text() + "\n  - cue: extra\n    weight: 0.3\n    patterns: ['fidget spinner']\n"
    )
    after = LexiconClassifier(lexicons, use_construct_tracker=False)
    assert before == again != after.version
    assert "adhd" in after.analyze("fidget spinner").to_dict()["labels"][0]["label"]


def test_malformed_lexicon_names_the_file(tmp_path: Path) -> None:
    lexicons = tmp_path / "lexicons"
    shutil.copytree(default_lexicon_dir(), lexicons)
    (lexicons / "ocd.yaml").write_text(
        "lexicon: ocd\ncues:\n  - cue: broken\n    patterns: ['(unclosed']\n"
    )
    with pytest.raises(LexiconError, match=r"ocd\.yaml"):
        LexiconClassifier(lexicons)
    (lexicons / "ocd.yaml").write_text(
        "lexicon: ocd\ncues:\n  - cue: grouped\n    patterns: ['(check) again']\n"
    )
    with pytest.raises(LexiconError, match="capturing group"):
        LexiconClassifier(lexicons)


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        (
            "First year of uni I had panic attacks. Got help, worked through it, and I'm doing "
            "great now.",
            True,
        ),
        ("Years ago I washed my hands till they bled. It's long behind me.", True),
        (
            "In my teens I had to touch switches three times. Haven't had the urge in about "
            "twelve years.",
            True,
        ),
        ("I had a dark patch after my divorce. Been well for a decade now.", True),
        # back, still or today: the difficulty is not over
        (
            "I was doing so well for two years. Now it's all back: the nightmares, the flashbacks.",
            False,
        ),
        ("I thought I'd beaten the low stuff. Third week in my room again.", False),
        ("I recovered years ago but I still count calories.", False),
        ("I wrote a note today. I called a hotline. I'm okay now.", False),
        ("I've had panic attacks every day this month.", False),
    ],
)
def test_a_difficulty_the_writer_calls_over_is_read_as_resolved(
    clf: LexiconClassifier, text: str, resolved: bool
) -> None:
    assert clf.analyze(text).resolved is resolved


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        ("Sociology homework: explain why men are less likely to seek help for depression.", True),
        ("There's a film where the dad hears voices telling him to hide the kids. Good?", True),
        (
            "Hypothetically, if a coworker messaged you saying they wanted to end it, who'd you call?",
            True,
        ),
        ("I'm writing a short story where the main character starves herself before a show.", True),
        (
            "We did mental health first aid training at work today, the psychosis bit was good.",
            True,
        ),
        ("I’ve been so low since my dad died and I can’t sleep.", False),
        ("My friend told me I seem off lately and I think she's right.", False),
        ("Watched a film tonight and cried the whole way through.", False),
    ],
)
def test_fiction_study_and_hypotheticals_are_read_as_a_reported_frame(
    clf: LexiconClassifier, text: str, reported: bool
) -> None:
    assert clf.analyze(text).reported is reported


@pytest.mark.parametrize(
    ("text", "addressed"),
    [
        (
            "Please talk to someone. You are not alone, your life matters to the people around you.",
            True,
        ),
        ("You shouldn’t feel guilty. You’re trying your best and you need to keep trying.", True),
        ("Hang in there :) you got this", False),  # two "you" words: too little to say
        ("You never cared. I'm done, I can't do this anymore, I want it to end.", False),
        (
            "I told my therapist you were right, I can't keep going like this and I need help.",
            False,
        ),
        ("I want to die and nobody notices.", False),
    ],
)
def test_a_text_speaking_to_someone_else_is_read_as_addressed(
    clf: LexiconClassifier, text: str, addressed: bool
) -> None:
    assert clf.analyze(text).addressed is addressed


@pytest.mark.parametrize(
    "text",
    [
        "If you're thinking about suicide, please call a hotline tonight.",
        "Do you have a plan to end your life?",
        "Did the psychologist know you are suicidal? He may have to tell your doctor.",
    ],
)
def test_a_risk_cue_said_to_the_reader_is_an_indicator_at_most(
    clf: LexiconClassifier, text: str
) -> None:
    assert clf.analyze(text).risk.level in ("none", "indicator")


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("You know that feeling when you just want to die? That's me every day.", "ideation"),
        ("I want to kill myself, you know?", "ideation"),
        ("You ever feel like you'd be better off dead? I do, every single day.", "ideation"),
    ],
)
def test_a_generic_you_beside_the_writer_stays_the_writers(
    clf: LexiconClassifier, text: str, level: str
) -> None:
    assert clf.analyze(text).risk.level == level


def test_a_reply_with_a_risk_cue_of_the_writers_own_is_not_read_as_addressed(
    clf: LexiconClassifier,
) -> None:
    from classifiers.hybrid import rules_view

    reply = "Please talk to someone. You are not alone, your life matters to the people around you."
    assert rules_view(clf.analyze(reply)).addressed
    said = "If you're thinking about suicide, please call someone. You matter, your life matters."
    assert rules_view(clf.analyze(said)).addressed
    own = "You all will be better off. You never listened. You can stop pretending, I'm a burden."
    assert clf.analyze(own).addressed  # the words speak to the reader ...
    assert not rules_view(clf.analyze(own)).addressed  # ... but the burden is the writer's


def test_resolved_reads_curly_apostrophes(clf: LexiconClassifier) -> None:
    assert clf.analyze("Panic attacks at uni. That’s long behind me, I’m doing great now.").resolved
    assert not clf.analyze("I thought I’d beaten it but I’m doing great now, lol no.").resolved


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("I've been feeling really low for months.", "depressed_mood"),
        ("Felt so down all week, no idea why.", "depressed_mood"),
        ("I've stopped seeing my friends and I just stay in.", "social_withdrawal"),
        ("Honestly I've been isolating myself since Christmas.", "social_withdrawal"),
    ],
)
def test_everyday_words_for_low_mood_are_depression_cues(
    clf: LexiconClassifier, text: str, cue: str
) -> None:
    assert cue in {h.cue for h in clf.analyze(text).label("depression").hits}


@pytest.mark.parametrize(
    "text",
    [
        "My phone battery is so low.",
        "Feeling low on energy after the gym.",
        "I feel down about the match.",
    ],
)
def test_low_and_down_about_other_things_are_not_depression_cues(
    clf: LexiconClassifier, text: str
) -> None:
    assert not clf.analyze(text).label("depression").hits


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # "them" is the pills: the cue is still the writer's
        (
            "The pharmacist said don't take them all at once. Funny, because I've been counting "
            "them and working out whether it would be enough.",
            "ideation",
        ),
        ("I'd rather have them than go through this suicidal roller coaster again.", "ideation"),
        # people stay people
        ("My dad keeps saying he wants to die. I can't cope with him wanting to die.", "none"),
        ("My friends are struggling, I think they want to die.", "none"),
        (
            "I've written letters to both my kids and put them in my work locker. I think this "
            "week is it.",
            "behavior",
        ),
        ("Left notes for my parents. I won't be around anymore after tonight.", "behavior"),
        # letters without an ending the writer chooses stay out
        ("I've written letters to both my kids for their 18th birthdays.", "none"),
        # giving things away with the everyday reason beside it
        ("Been giving away my stuff all week because I'm moving to Australia!", "none"),
        ("I'm giving away my things, I won't need them where I'm going.", "behavior"),
        ("Wrote letters to my kids while I was deployed, they loved them.", "none"),
    ],
)
def test_risk_cues_are_scoped_to_the_writer_and_to_real_endings(
    clf: LexiconClassifier, text: str, level: str
) -> None:
    """'them' after the writer is often a thing; goodbye letters need an ending beside them."""
    assert clf.analyze(text).risk.level == level


@pytest.mark.parametrize(
    ("label", "text", "found"),
    [
        ("bipolar", "haven't needed sleep in 5 nights!! feel like I could run the country", True),
        ("bipolar", "haven't slept in 5 nights because of the baby", False),
        ("bipolar", "ordered 40 rose bushes on the credit card", True),
        ("bipolar", "ordered 40 cupcakes for the school fair, paid cash", False),
        ("bipolar", "honestly feel like I could run the country", True),
        ("bipolar", "I feel like I could run a marathon after that coffee", False),
        (
            "bipolar",
            "haven't slept in three days but I feel amazing, I started four businesses",
            True,
        ),
        ("bipolar", "haven't needed sleep all week and my thoughts are racing", True),
        ("bipolar", "my dad started two businesses in the 90s", False),
        ("bipolar", "I started three new courses this term", False),
        ("psychosis", "the voices started again in the exam hall", True),
        ("psychosis", "the music started again after the break", False),
        ("psychosis", "nobody else can hear them", False),  # them: anything at all
        (
            "substance_use",
            "I need a couple of vodkas before my shift to stop my hands shaking",
            True,
        ),
        (
            "substance_use",
            "can't get through a shift at the bar now without a couple of lines",
            True,
        ),
        ("substance_use", "I need a couple of beers to calm my nerves before the speech", False),
        ("substance_use", "can't face a Monday morning without a coffee", False),
        (
            "ocd",
            "go back and check the front door is locked, then the car, then the door again",
            True,
        ),
        ("ocd", "I went back to check the oven, then the kettle again because mum asked", False),
        (
            "anxiety",
            "ate lunch in the toilets because I couldn't face walking into the canteen",
            True,
        ),
        ("anxiety", "my face burns if anyone even looks at me", True),
        ("anxiety", "I couldn't face going to the pub after a 12 hour shift", False),
        # recovery is substance use now, however long ago it started
        ("substance_use", "sober 6 years", True),
        ("substance_use", "quit drinking two years ago and never looked back", True),
        ("substance_use", "I quit drinking for January, feeling great", False),
        ("substance_use", "I quit drinking coffee last month", False),
        ("substance_use", "I stopped using my planner and now I forget everything", False),
        ("substance_use", "I stopped using. 2 years clean", True),
    ],
)
def test_everyday_forms_of_core_symptoms(
    clf: LexiconClassifier, label: str, text: str, found: bool
) -> None:
    assert bool(clf.analyze(text).label(label).hits) is found


@pytest.mark.parametrize(
    ("level", "text"),
    [
        # passive and active ideation in plain, slang and non-native wording
        ("ideation", "some nights i wish i could close my eyes and not wake up"),
        ("ideation", "i dont wanna be here anymore"),
        ("ideation", "wish i'd never been born tbh"),
        ("ideation", "honestly i hope a bus hits me on the way to school"),
        ("ideation", "death sounds so peaceful right now"),
        ("ideation", "im jealous of dead people"),
        ("ideation", "I pray every night that God takes me"),
        ("ideation", "the thought of not being here is so comforting"),
        ("ideation", "i dont see myself living past 25"),
        ("ideation", "my dog is the only thing keeping me alive"),
        ("ideation", "stopped taking my heart pills, let nature take its course"),
        ("ideation", "i want to unalive myself"),
        ("ideation", "i am thinking to suicide sometimes"),
        ("ideation", "i want to finish my life"),
        ("ideation", "tempted to step in front of a train on my way home"),
        ("ideation", "i keep thinking about driving my car into a tree"),
        ("ideation", "i dont trust myself around the pills tonight"),
        ("ideation", "stood on the platform thinking how easy it would be to just step off"),
        ("ideation", "how many paracetamol would it take to die"),
        # preparation and self-harm in everyday words
        ("behavior", "i've been giving my things away, won't need them where i'm going"),
        ("behavior", "been stashing my meds in a sock"),
        ("behavior", "looked up bridges high enough to jump off"),
        ("behavior", "tested if the banister would hold my weight"),
        ("behavior", "checked if my life insurance pays out for suicide"),
        ("behavior", "bought paracetamol from three different shops"),
        ("behavior", "i sh'd again last night"),
        ("behavior", "took the blade out of my sharpener"),
        ("behavior", "burned my arm with a lighter"),
        # past attempts in everyday words
        ("attempt", "i took an overdose when i was 16"),
        ("attempt", "i od'd last year"),
        ("attempt", "mum found me hanging in the garage"),
        ("attempt", "they pumped my stomach at 17"),
        ("indicator", "nothing matters anymore"),
        ("indicator", "i ruin everything i touch"),
        # ... and their everyday look-alikes
        ("none", "set a date for the wedding"),
        ("none", "overdosed on chocolate this weekend haha"),
        ("none", "I'd rather die than wear that"),
        ("none", "I jumped off the pier into the sea on holiday"),
        ("none", "cut my leg on a rusty nail"),
        ("none", "I wouldn't mind if I died my hair pink"),
        ("none", "i can't wait to die my hair purple"),
        (
            "none",
            "if my flatmate plays that song one more time im throwing myself off the balcony 😂",
        ),
        ("none", "gave away most of my stuff before moving to japan"),
        ("none", "collected my tablets from the pharmacy."),
        ("none", "looked up the tallest buildings in dubai for our trip"),
        ("none", "went on the rollercoaster to see if i could do it"),
        ("none", "wrote letters to everyone i love for christmas"),
        ("none", "used a razor on my legs before the beach"),
        ("none", "i want to cut my hair so bad"),
        ("none", "had enough of life in london, moving to the coast"),
        ("none", "i want to leave this world behind and go hiking"),
        ("none", "i want to finish my life story book"),
        ("none", "thinking how easy it would be to just take the job offer"),
        ("none", "i almost jumped out of my skin when the door slammed"),
        ("none", "the only reason i'm still here at work is the pension"),
    ],
)
def test_everyday_crisis_wording_reaches_its_level(
    clf: LexiconClassifier, level: str, text: str
) -> None:
    risk = classify(clf, text).risk
    assert risk.level == level


@pytest.mark.parametrize(
    ("label", "text", "plain"),
    [
        # denials a plain negator window missed (a blind probe of 150 invented texts)
        ("bipolar", "my GP ruled out bipolar after two appointments", False),
        ("adhd", "no way I have ADHD, I just hate maths homework", False),
        ("depression", "I see no way out of this depression", True),
        # someone else's view, denied without a "but"
        ("depression", "everyone thinks I'm depressed, I'm really not", False),
        ("adhd", "people assume I have ADHD, I don't.", False),
        ("ptsd", "my therapist thinks I have PTSD, I don't know what to do", True),
        ("depression", "my mum says I'm depressed, I'm not sure", True),
        ("anxiety", "it was nothing like a panic attack, I was just too hot", False),
        ("anxiety", "not that I'm anxious or anything, the interview is tomorrow", False),
        ("depression", "I don't think that I am depressed, just tired", False),
        ("depression", "I know that I'm depressed", True),  # "that" after "know" ends no denial
        ("adhd", "I think that I have ADHD", True),
        # a past that is back in the same sentence is present
        (
            "anxiety",
            "used to have panic attacks, thought they were gone, had one at work today",
            True,
        ),
        ("eating_disorder", "my bulimia is back in charge and I keep making myself sick", True),
        ("eating_disorder", "I had bulimia back in 2015, never again", False),
    ],
)
def test_denials_and_returning_pasts_are_scoped(
    clf: LexiconClassifier, label: str, text: str, plain: bool
) -> None:
    hits = clf.analyze(text).label(label).hits
    assert any(h.counted and h.flags.plain for h in hits) is plain


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("the depression lifted last spring", True),
        ("I had terrible anxiety in secondary school. It's long gone.", True),
        ("I was depressed for most of 2019 but I'm in a good place now", True),
        ("bulimia took my late teens from me. 12 years free of it and counting", True),
        ("used to have panic attacks, haven't had one since uni", True),
        ("bipolar II, no episodes in five years on lithium", True),
        ("I'm so over it, can't stop crying", False),  # fed up, not recovered
        ("I haven't worked since college, the depression wrecked me", False),
        ("I tried to end my life when I was 20. I'm 45 now and genuinely happy.", True),
        ("I'm 16 now and not happy at all", False),
        (
            "I used to think about killing myself at uni. That's over, I'm happy and stable now.",
            True,
        ),
        ("I'm not fine now, it's worse than ever", False),
        ("I attempted suicide when I was a teenager. I'm 50 now and life is good.", True),
        ("I overdosed in college. I've been in a really good place for a decade now.", True),
    ],
)
def test_more_ways_of_saying_it_is_over(clf: LexiconClassifier, text: str, resolved: bool) -> None:
    assert clf.analyze(text).resolved is resolved


def test_recovery_is_present_whenever_it_began(clf: LexiconClassifier) -> None:
    hits = clf.analyze("quit drinking two years ago and never looked back").label("substance_use")
    assert any(h.cue == "recovery" and h.flags.plain for h in hits.hits)


def test_cue_sets_find_the_same_with_their_own_scan_or_a_shared_one() -> None:
    from classifiers.rules.patterns import CueSet, CueSpec, TriggerScan

    def spec(cue: str, pattern: str, weight: float = 0.5) -> CueSpec:
        return CueSpec(lexicon="t", cue=cue, weight=weight, pattern=pattern)

    risk = CueSet("risk", [spec("ideation", "want to die"), spec("plan", "(?:a|the) plan")])
    # two cues matching the same span with the same weight: the one listed first wins
    tie = CueSet("tie", [spec("first", "kill myself"), spec("second", "kill (?:myself|me)")])
    shared = TriggerScan([risk, tie])
    text = "I want to die. Skilled people plan; I have the plan. I could kill myself."
    low = text.lower()
    found = shared.scan(low)
    # overlapping literals are all found, with every start offset
    assert found["kill"] == [low.index("kill"), low.index("kill myself")]
    for cues in (risk, tie):
        own = list(cues.find(text, low))
        assert own == list(cues.find(text, low, found=found))
    assert [(s.cue, text[a:b]) for s, a, b in risk.find(text)] == [
        ("ideation", "want to die"),
        ("plan", "the plan"),
    ]
    # "Skilled" holds "kill" but not at a word start: no match there, one for "kill myself"
    assert [(s.cue, text[a:b]) for s, a, b in tie.find(text)] == [("first", "kill myself")]
    assert pickle.loads(pickle.dumps(shared)).scan(low) == found


@pytest.mark.parametrize(
    "text",
    [
        "I'm going to kill myself laughing at this show tonight.",
        "Bridge club tonight. Could have murdered him. Then could have murdered myself.",
        "I was so embarrassed I could have died.",
    ],
)
def test_figures_of_speech_on_killing_or_dying_are_no_risk_cue(
    clf: LexiconClassifier, text: str
) -> None:
    analysis = clf.analyze(text)
    assert analysis.risk.level == "none", analysis.risk
    assert all(h.flags.figurative and h.effective_level == "none" for h in analysis.risk_hits), (
        analysis.risk_hits
    )


def test_a_figure_of_speech_leaves_the_rest_of_its_sentence_a_cue(clf: LexiconClassifier) -> None:
    # only the idiom's own words are discounted
    analysis = clf.analyze("This job is killing me and honestly I want to kill myself.")
    assert analysis.risk.level == "ideation"
    assert [h.text for h in analysis.risk_hits if h.counted] == ["kill myself"]
    from classifiers.rules.context import figurative_spans

    text = "I’d kill for a proper fry-up. I could murder a pint. That cheesecake was to die for."
    assert [text[a:b] for a, b in figurative_spans(text)] == [
        "I’d kill for a proper fry-up",
        "I could murder a pint",
        "to die for",
    ]
    assert figurative_spans("I want to kill myself. I'm dying inside.") == []


def test_an_object_pronoun_does_not_take_over_the_writers_cue(clf: LexiconClassifier) -> None:
    # "him" is who the writer avoids, not who keeps checking
    text = "I avoid being alone with him and keep checking the stair gate."
    hits = [h for la in clf.analyze(text).labels for h in la.hits if h.cue == "checking"]
    assert hits and hits[0].flags.plain
    # a third-person subject still does
    text = "I told him and he kept checking the stair gate."
    hits = [h for la in clf.analyze(text).labels for h in la.hits if h.cue == "checking"]
    assert hits and hits[0].flags.third_person


@pytest.mark.parametrize(
    "text",
    [
        # a practitioner's note: one negation over a list joined by "or"
        "Client denied any thoughts of suicide or self-harm. Mood low for 3 weeks.",
        "No thoughts of self-harm or suicide at present. Feels anxious most days.",
        "She has never self-harmed or attempted suicide. Worried about exams.",
        "I don't feel helpless or hopeless, just tired.",
    ],
)
def test_one_negation_covers_a_list_joined_by_or(clf: LexiconClassifier, text: str) -> None:
    analysis = clf.analyze(text)
    assert analysis.risk.level == "none", analysis.risk_hits
    assert analysis.risk_hits and all(h.flags.negated for h in analysis.risk_hits)


def test_or_opening_a_new_clause_ends_the_negation(clf: LexiconClassifier) -> None:
    # "or" followed by a subject is a new clause, not a list under "don't"
    text = "I don't know what to do anymore or I'm going to kill myself."
    assert clf.analyze(text).risk.level == "ideation"


def test_a_clients_denial_in_a_note_is_a_denial() -> None:
    from classifiers.rules.risk import denial_hits

    clf = LexiconClassifier()
    for text in (
        "She has never self-harmed or attempted suicide. Worried about exams.",
        "I don't self harm or anything, I just feel really low.",
    ):
        assert denial_hits(text, clf.analyze(text).risk_hits), text


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("My client says she can't stop crying and has been thinking about ending her life.", True),
        ("Client reports low mood for 2 months, anhedonia, early waking. Hx of overdose.", True),
        ("He reports hearing voices telling him he is worthless.", True),
        ("Pt is a 19yo F presenting with binge eating and purging 4x/week.", True),
        ("15 year old student, teachers concerned, has been cutting her arms.", True),
        # a person writing about themselves, or someone else in their own story
        ("I'm a 15 year old girl and I hate myself.", False),
        ("20 year old male here, I can't sleep and my head won't stop.", False),
        ("He denies it but I know he cheated.", False),
        ("My student loans are crushing me.", False),
        ("I'm presenting with a textbook case of MS, the neurologist said.", False),
        ("My brother has bipolar and I can't cope.", False),
    ],
)
def test_a_practitioners_case_note_is_recognised(text: str, note: bool) -> None:
    from classifiers.rules.context import case_note

    assert case_note(text) is note


def test_in_a_case_note_the_clients_words_count_and_relatives_stay_others(
    clf: LexiconClassifier,
) -> None:
    note = (
        "15 year old student, teachers concerned, has been cutting her arms and told a friend "
        "she wants to die."
    )
    analysis = clf.analyze(note)
    assert analysis.risk.level == "behavior"
    assert {h.text for h in analysis.risk_hits if h.counted} == {"cutting her arms", "wants to die"}
    voices = clf.analyze("He reports hearing voices telling him he is worthless.")
    assert [la.label for la in voices.labels if la.counted_hits] == ["psychosis"] or any(
        la.label == "psychosis" and la.counted_hits for la in voices.labels
    )
    # a relative in the note is still someone else
    family = clf.analyze("Client reports low mood. Her mother has bipolar disorder.")
    assert not any(la.label == "bipolar" and la.counted_hits for la in family.labels)
    # outside a note, someone else's act named as theirs stays theirs
    for text in (
        "My sister has been cutting her arms and I don't know how to help.",
        "What is the cheapest gun that can kill himself instantly? Asking for research.",
    ):
        assert clf.analyze(text).risk.level == "none", text


def test_a_dated_previous_attempt_is_an_attempt_in_the_past(clf: LexiconClassifier) -> None:
    hits = clf.analyze("PHQ-9 score 22. Previous attempt 2 years ago.").risk_hits
    assert [(h.text, h.effective_level, h.flags.past) for h in hits if h.counted] == [
        ("Previous attempt", "attempt", True)
    ]
    hits = clf.analyze("Hx of overdose in 2019.").risk_hits
    assert [(h.effective_level, h.flags.past) for h in hits if h.counted] == [("attempt", True)]
    # an attempt at something else is none
    assert clf.analyze("Previous attempts at dieting never worked.").risk.level == "none"


@pytest.mark.parametrize(
    ("text", "label", "level"),
    [
        ("PHQ-9 score 22, GAD-7 6.", "depression", "severe"),
        ("Client reports low mood. PHQ-9: 12.", "depression", "moderate"),
        ("I scored 24 on the PHQ-9 at my GP today.", "depression", "severe"),
        ("My GAD-7 is 17.", "anxiety", "severe"),
        ("GAD-7 = 11 at intake.", "anxiety", "moderate"),
    ],
)
def test_a_screening_score_is_evidence_and_grades_severity(
    clf: LexiconClassifier, text: str, label: str, level: str
) -> None:
    analysis = clf.analyze(text)
    hits = [h for la in analysis.labels if la.label == label for h in la.counted_hits]
    assert [h.cue for h in hits if h.kind == "screening"] == ["screening_score"]
    assert analysis.severity_features.screening == level
    assert analysis.severity.level == level


@pytest.mark.parametrize(
    "text",
    [
        "PHQ-9 score 6, GAD-7 4.",  # below the moderate bands: no evidence
        "PHQ-9 item 9 = 2.",
        "I scored 14/30 on the quiz and the PHQ-9 leaflet was in the waiting room.",
    ],
)
def test_low_or_other_numbers_are_no_screening_evidence(clf: LexiconClassifier, text: str) -> None:
    analysis = clf.analyze(text)
    assert not any(h.kind == "screening" for la in analysis.labels for h in la.hits)
    assert analysis.severity_features.screening == "minimal"


def test_case_insensitive_cues_read_the_lower_cased_text_with_the_same_offsets(
    clf: LexiconClassifier,
) -> None:
    from classifiers.rules.patterns import lowercase_pattern

    # letters lower-cased, escapes kept: \S is not \s, \W is not \w
    assert lowercase_pattern(r"GAD\S+\W(?:PANIC|Panic)\b") == r"gad\S+\W(?:panic|panic)\b"
    text = "I have CRIPPLING ANXIETY and PANIC ATTACKS every day."
    hits = [h for la in clf.analyze(text).labels for h in la.hits if la.label == "anxiety"]
    assert hits and all(text[h.start : h.end] == h.text for h in hits)
    assert {h.text for h in hits} >= {"CRIPPLING ANXIETY"}
    # "İ" lower-cases to two characters: the cues then read the original text, offsets intact
    turkish = "İstanbul. I have crippling anxiety and panic attacks every day."
    assert len(turkish.lower()) != len(turkish)
    hits = [h for la in clf.analyze(turkish).labels for h in la.hits if la.label == "anxiety"]
    assert hits and all(turkish[h.start : h.end] == h.text for h in hits)
    assert {h.text for h in hits} >= {"crippling anxiety"}


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # a practitioner's shorthand
        ("No current SI. OD of 30 x paracetamol 2/7 ago, did not present to hospital.", "attempt"),
        ("She disclosed that she took 15 sertraline last week and didn't tell anyone.", "attempt"),
        ("Client reports passive SI most days, no plan or intent.", "ideation"),
        ("SI: passive, no plan, no intent. HI: denies.", "ideation"),
        ("SI: denies. HI: denies. Mood low.", "none"),
        ("SI/HI - nil. Sleeping better.", "none"),
        (
            "Denies SI. However reports DSH last night - superficial lacerations to thighs.",
            "behavior",
        ),
        ("cut deeper than usual last night, probably needed stitches", "behavior"),
        # passive ideation of an older adult; a perinatal referral
        (
            "I've been thinking they'd be better off if I went to sleep and didn't wake up.",
            "ideation",
        ),
        (
            "Referral: 34yo F, 3/52 postpartum, intrusive thoughts that the baby would be better "
            "off without her and that she should walk into the sea.",
            "ideation",
        ),
        # hyperbole stays out; someone else's "better off without him" is theirs
        ("if I see one more form I'm going to throw myself off the garden shed lol", "none"),
        ("My mum would be better off without him, he's useless.", "none"),
    ],
)
def test_clinical_shorthand_and_other_forms_of_risk(
    clf: LexiconClassifier, text: str, level: str
) -> None:
    assert clf.analyze(text).risk.level == level


def test_a_single_voice_giving_orders_is_a_hallucination(clf: LexiconClassifier) -> None:
    analysis = clf.analyze("the voice keeps telling me to kill my neighbour")
    assert any(la.label == "psychosis" and la.counted_hits for la in analysis.labels)


def test_reckless_giving_in_mania_is_no_suicide_preparation(clf: LexiconClassifier) -> None:
    analysis = clf.analyze(
        "I'm the messiah, I haven't slept for a week and I gave all my savings to strangers on "
        "the street"
    )
    assert analysis.risk.level == "none"
    bipolar = next(la for la in analysis.labels if la.label == "bipolar")
    assert {h.cue for h in bipolar.counted_hits} >= {"grandiosity", "risky_behaviour"}
    # giving everything away with no such context is still a preparation cue
    assert clf.analyze("I gave all my savings away this week.").risk.level == "behavior"


@pytest.mark.parametrize(
    ("text", "absent", "present"),
    [
        (
            "No evidence of psychosis, mania or eating disorder. Mood low.",
            {"psychosis", "bipolar", "eating_disorder"},
            set(),
        ),
        (
            "Client denies low mood, anxiety or panic attacks but reports flashbacks and "
            "nightmares since the assault.",
            {"depression", "anxiety"},
            {"ptsd"},
        ),
    ],
)
def test_a_clinical_negation_heads_a_list_to_the_end_of_its_sentence(
    clf: LexiconClassifier, text: str, absent: set[str], present: set[str]
) -> None:
    counted = {la.label for la in clf.analyze(text).labels if la.counted_hits}
    assert not counted & absent and present <= counted
    # outside a note "denied" is an everyday word: the rest of the sentence stays the writer's
    everyday = "The doctors denied me pain medicine and I've been having panic attacks since."
    assert any(la.label == "anxiety" and la.counted_hits for la in clf.analyze(everyday).labels)


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("Pt is a 19yo F with anorexia, BMI 13.2, HR 38, dizzy on standing.", "severe"),
        ("I've been skipping my insulin to lose weight, I'm terrified of gaining.", "severe"),
        # a measurement without an eating-disorder cue beside it is no such risk
        ("my resting HR is 42, I'm a marathon runner and I eat loads.", "minimal"),
    ],
)
def test_an_eating_disorders_medical_risk_is_severe(
    clf: LexiconClassifier, text: str, severity: str
) -> None:
    assert clf.analyze(text).severity_features.screening == severity


def test_checking_the_door_lock_for_fear_of_fire_is_ocd(clf: LexiconClassifier) -> None:
    text = (
        "I check the door lock 40 times before leaving and if I don't the house will burn "
        "down. I know it's irrational."
    )
    ocd = next(la for la in clf.analyze(text).labels if la.label == "ocd")
    assert {h.cue for h in ocd.counted_hits} >= {"repeated_checking", "compulsion"}


def test_a_professionals_question_about_their_work_is_a_reported_frame() -> None:
    from classifiers.rules.context import reported_frame

    assert reported_frame(
        "I'm a nurse; how do I ask a patient directly about suicidal thoughts without putting "
        "ideas in their head?"
    )
    assert not reported_frame("How do I ask my mum for help, I want to die")


def test_cues_in_a_professionals_question_are_about_people_in_general(
    clf: LexiconClassifier,
) -> None:
    """ "What's the best way to screen my clients for self-harm risk?" was suicidal behaviour."""
    analysis = clf.analyze("What's the best way to screen my clients for self-harm risk?")
    assert analysis.risk.level == "none"
    assert [h.flags.reasons for h in analysis.risk_hits] == [("generic",)]
    # the writer's own words around it still count
    own = clf.analyze("I'm a nurse and I want to kill myself, how do I ask my patients anything")
    assert own.risk.level == "ideation"


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        (
            "Day 3 off the booze, shaking badly and I keep seeing bugs crawling on the walls",
            "severe",
        ),
        ("I had a seizure yesterday after stopping drinking, now I'm seeing things", "severe"),
        ("Ran out of my xanax 4 days ago and I had a fit this morning", "severe"),
        ("I think I had the DTs last night, I was so confused", "severe"),
        # no substance stopped: no withdrawal
        ("Had a seizure last year, epilepsy is under control now", "minimal"),
        ("I'm so confused about whether I should quit drinking", "minimal"),
        # someone else's
        ("My dad had a seizure after he stopped drinking", "minimal"),
    ],
)
def test_dangerous_withdrawal_is_a_medical_risk(
    clf: LexiconClassifier, text: str, severity: str
) -> None:
    assert clf.analyze(text).severity_features.screening == severity


def test_a_terse_veterans_note_reads_ptsd(clf: LexiconClassifier) -> None:
    text = (
        "Vet, 2 tours Afghanistan, nightmares most nights, jumps at loud noises, avoids "
        "crowds, drinks to sleep."
    )
    ptsd = next(la for la in clf.analyze(text).labels if la.label == "ptsd")
    assert {h.cue for h in ptsd.counted_hits} >= {"trauma_exposure", "nightmares", "hypervigilance"}


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("My dad killed himself when I was 12.", ["My dad killed himself"]),
        ("I lost my brother to suicide in March.", ["lost my brother to suicide"]),
        ("It's the anniversary of my mum's suicide.", ["my mum's suicide"]),
        ("My best friend took her own life last year.", ["My best friend took her own life"]),
        # a case note's family history
        (
            "Pt 34F. FHx: father completed suicide 2010. Denies SI.",
            ["FHx: father completed suicide"],
        ),
        ("Family history of suicide (maternal uncle).", ["Family history of suicide"]),
        ("Hx: brother suicide 2019.", ["brother suicide 2019"]),
        ("Suicide prevention week starts Monday.", []),
        ("I want to kill myself.", []),
        ("He killed it at the gig last night.", []),
    ],
)
def test_someone_elses_death_by_suicide_is_found(text: str, spans: list[str]) -> None:
    from classifiers.rules.context import bereavement_spans

    assert [text[a:b] for a, b in bereavement_spans(text)] == spans


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        (
            "if i leave he'll kill himself and it'll be my fault.",
            ["if i leave he'll kill himself"],
        ),
        (
            "My boyfriend says he'll kill himself if I break up with him.",
            ["My boyfriend says he'll kill himself if I break up with him"],
        ),
        (
            "He threatens suicide every time I try to leave.",
            ["He threatens suicide every time I try to leave"],
        ),
        (
            "she told me she’d kill herself if i ever left her",
            ["she told me she’d kill herself if i ever left her"],
        ),
        # a carer's report with no condition on the writer, and everyday words
        ("my son said he wants to kill himself last night.", []),
        ("He'd kill himself if he knew what I did", []),
        ("My mum will kill me if I fail.", []),
    ],
)
def test_someone_elses_suicide_threat_used_as_pressure_is_found(
    text: str, spans: list[str]
) -> None:
    from classifiers.rules.context import coercion_spans

    assert [text[a:b] for a, b in coercion_spans(text)] == spans


@pytest.mark.parametrize(
    "text",
    [
        "Nil SI.",
        "Low mood x 3/12. Nil SI/SH.",
        "Mood low, nil SI, sleeping poorly",
        "Nil SI or thoughts of self-harm. Sleep poor.",
    ],
)
def test_nil_in_a_note_negates(clf: LexiconClassifier, text: str) -> None:
    """ "Nil SI", the standard UK negative, was read as suicidal ideation."""
    assert clf.analyze(text).risk.level == "none"


def test_nil_elsewhere_is_no_negation(clf: LexiconClassifier) -> None:
    assert clf.analyze("We lost three nil and honestly I want to kill myself").risk.level == (
        "ideation"
    )


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("mia buddy needed, purged 3x today, throat is killing me", "binge_purge"),
        ("Since the baby was born I feel so low and tearful and not sleeping", "crying"),
        ("I can't bond with my baby and I feel like a terrible mum", "perinatal_bonding"),
        ("drinking to blackout most nights now", "heavy_use"),
    ],
)
def test_more_everyday_forms_of_symptoms(clf: LexiconClassifier, text: str, cue: str) -> None:
    assert cue in {h.cue for la in clf.analyze(text).labels for h in la.counted_hits}


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        (
            "Day 3 without a drink after a litre of vodka a day. Hands shaking so bad, and I keep "
            "seeing spiders crawling on the ceiling.",
            "severe",
        ),
        (
            "Had a fit this morning. I stopped drinking 2 days ago, normally 3 bottles a day.",
            "severe",
        ),
        (
            "been on 30mg diazepam a day for years, doc just cut me off last week. feel like im "
            "going mad and twitching all over",
            "severe",
        ),
        ("Impression: Alcohol use disorder, severe. CIWA-Ar 22. Plan: admit.", "severe"),
        ("Anorexia. HR 38. BMI 14.", "severe"),
        ("CIWA-Ar 8, mild withdrawal, home detox", "minimal"),
    ],
)
def test_withdrawal_and_medical_risk_in_other_word_orders(
    clf: LexiconClassifier, text: str, severity: str
) -> None:
    assert clf.analyze(text).severity_features.screening == severity


def test_the_emergency_department_is_no_eating_disorder(clf: LexiconClassifier) -> None:
    def ed(text: str) -> bool:
        return any(
            la.label == "eating_disorder" and la.counted_hits for la in clf.analyze(text).labels
        )

    assert not ed("29yo male presented to ED via police after threatening to jump.")
    assert not ed("Went to ED last night after a panic attack")
    assert ed("when it comes to ED thoughts I struggle every weekend")
    assert ed("I have an ED and I'm scared")


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Ligature found in room this am, removed by staff.", "behavior"),
        (
            "29yo male presented to ED after threatening to jump from Story Bridge.",
            "ideation",
        ),
        ("Last night I sat in the car in the garage with the engine running.", "attempt"),
        ("drinking to blackout, woke up in A&E last week with no idea how I got there", "none"),
        ("What are the signs of a fentanyl overdose?", "none"),
        ("Should we remove posts that describe self-harm methods in detail?", "none"),
        ("My dad killed himself when I was 12 and I want to kill myself too.", "ideation"),
    ],
)
def test_notes_aborted_attempts_and_generic_questions(
    clf: LexiconClassifier, text: str, level: str
) -> None:
    assert clf.analyze(text).risk.level == level


def test_a_chapter_of_fiction_or_a_research_text_is_someone_elses_words(
    clf: LexiconClassifier,
) -> None:
    from classifiers.rules.context import strong_frame

    fiction = (
        "Chapter 12. Ellen stood on the bridge, the river black beneath her. She thought of the "
        "pills in her coat pocket."
    )
    research = (
        "Abstract: We conducted a retrospective cohort study of 12,430 adults on unemployment "
        "and suicide mortality. Hazard ratios were estimated."
    )
    assert strong_frame(fiction) and strong_frame(research)
    assert not strong_frame("I stood on the bridge last night. Results: nothing.")
    assert clf.analyze(fiction).risk.level == "indicator"


def test_the_voices_in_a_sentence_the_writer_speaks_are_the_writers(
    clf: LexiconClassifier,
) -> None:
    own = clf.analyze("I'm going to smother the baby, the voices say he is evil.")
    assert any(la.label == "psychosis" and la.counted_hits for la in own.labels)
    other = clf.analyze("My son hears voices, the voices tell him he is evil.")
    assert not any(la.label == "psychosis" and la.counted_hits for la in other.labels)


def test_a_notes_quote_of_the_client_is_the_clients_words(clf: LexiconClassifier) -> None:
    """ "Says 'I'll be joining Mary soon enough'": a cue right after an opening quote was never
    found, and a note's quotes are the client's own words."""
    note = (
        "Pt is a 67 yo retired farmer, recently widowed, drinking heavily. Says 'I'll be joining "
        "Mary soon enough'."
    )
    assert clf.analyze(note).risk.level == "ideation"
    # contractions still do not start a cue
    assert clf.analyze("I don't think so").risk.level == "none"


def test_clinical_words_for_mania_and_screening_scales(clf: LexiconClassifier) -> None:
    mania = clf.analyze("58 y/o, currently elated, pressure of speech, flight of ideas.")
    bipolar = next(la for la in mania.labels if la.label == "bipolar")
    assert {h.cue for h in bipolar.counted_hits} >= {"elevated_mood", "racing_thoughts"}
    epds = clf.analyze("Postnatal 6/52. EPDS 21. Plan: perinatal MH same-day.")
    assert epds.severity_features.screening == "moderate"
    assert clf.analyze("EPDS 8 today, much better").severity_features.screening == "minimal"


def test_a_sobriety_milestone_is_recovery_not_severity(clf: LexiconClassifier) -> None:
    from classifiers.rules.context import resolved_past

    assert resolved_past("1 year sober today!!! never thought I'd get here, AA saved my life")
    assert not resolved_past("1 year sober today but I relapsed last night")


@pytest.mark.parametrize(
    "text",
    [
        "I stopped drinking three years ago and I'm seeing things so much more clearly now.",
        "Three months since I quit booze and I'm really confused about how to date sober.",
        "Diazepam was stopped by my GP after a 2-week course and I'm confused why.",
    ],
)
def test_a_recovery_or_a_question_is_no_withdrawal_risk(clf: LexiconClassifier, text: str) -> None:
    assert clf.analyze(text).severity_features.screening == "minimal"


@pytest.mark.parametrize(
    "text",
    [
        "No personal hx of self-harm.",
        "No previous history of overdose or self-harm.",
        "No known history of suicide attempts.",
    ],
)
def test_a_notes_negated_history_with_a_qualifier_is_no_risk(text: str) -> None:
    """ "Family history of suicide (maternal uncle). No personal hx of self-harm." was
    behaviour, URGENT: "no" reached only two words, and the history negation did not allow
    "personal" or "previous" before "history"."""
    from classifiers.rules import LexiconClassifier

    assert LexiconClassifier().analyze(text).risk.level == "none"


@pytest.mark.parametrize(
    "text",
    [
        "I check the door locks 30 times before bed and if I don't I can't sleep.",
        "I have to check the oven is off 20 times before I leave the house.",
    ],
)
def test_checking_a_stated_number_of_times_is_a_compulsion_strong_enough_alone(
    clf: LexiconClassifier, text: str
) -> None:
    """Checking the locks 30 times is the compulsion itself; as a habit-weight cue (0.45) it
    scored 0.49 alone, under the 0.6 a rule needs to add a label, and the post had no label."""
    ocd = next(la for la in clf.analyze(text).labels if la.label == "ocd")
    assert ocd.score >= 0.6


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        (
            "My flatmate thinks the neighbours are putting cameras in the walls and he hasn't "
            "left his room for a week.",
            ["psychosis"],
        ),
        ("My husband drinks a bottle of whisky a night and gets angry.", ["substance_use"]),
        # the writer's own, a negation and a passing word are nobody else's signals
        ("I drink a bottle of whisky a night.", []),
        ("My brother doesn't drink at all.", []),
        ("My sister is a nurse.", []),
    ],
)
def test_conditions_seen_in_someone_the_writer_describes(
    clf: LexiconClassifier, text: str, labels: list[str]
) -> None:
    found = clf.analyze(text).about_others()
    assert [lab.label for lab in found] == labels
    for lab in found:
        assert lab.sources == ("rules",) and all(e.text in text for e in lab.evidence)


@pytest.mark.parametrize(
    "text",
    [
        "Dad's convinced the neighbours have put cameras in his light fittings.",
        "Girlfriend disappears to the bathroom straight after every meal with the tap running.",
        "Mum keeps saying she hears voices telling her to hide.",
    ],
)
def test_a_relative_named_without_my_is_someone_else(clf: LexiconClassifier, text: str) -> None:
    """ "Dad's convinced the neighbours have put cameras ..." counted as the writer's own
    paranoia: a kin word alone, or a relation noun opening the sentence, names someone else."""
    analysis = clf.analyze(text)
    hits = [h for la in analysis.labels for h in la.hits]
    assert hits and all(h.flags.third_person and not h.counted for h in hits)
    assert analysis.about_others()


@pytest.mark.parametrize(
    ("text", "substance"),
    [
        ("Reports low mood, early morning waking and withdrawal from church activities.", False),
        ("Social withdrawal from friends for months, stays in his room.", False),
        ("The withdrawals from heroin are the worst part.", True),
        ("I'm in withdrawal, day 3.", True),
    ],
)
def test_social_withdrawal_is_not_a_substance_withdrawal(
    clf: LexiconClassifier, text: str, substance: bool
) -> None:
    """A widow's "withdrawal from church activities" was substance withdrawal."""
    hits = [h for la in clf.analyze(text).labels if la.label == "substance_use" for h in la.hits]
    assert any(h.cue == "withdrawal" for h in hits) is substance
