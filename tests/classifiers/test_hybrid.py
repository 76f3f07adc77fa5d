"""Hybrid fusion: rules add, veto and raise risk; the model's calls otherwise stand.

The rules are the real ``LexiconClassifier``; the student is the real artifact where it exists
and otherwise a deterministic fake that returns ``ModelScores`` chosen per test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from classifiers.base import Classification, Evidence, InvalidTextError, RiskResult, SeverityResult
from classifiers.hybrid import (
    BEREAVEMENT_CUE,
    COERCION_CUE,
    OVERRULED_SCORE_CAP,
    FusionConfig,
    HybridClassifier,
    ModelView,
    RuleHit,
    RulesView,
    fuse,
    rules_view,
)
from classifiers.labels import CONDITIONS, RISK_LEVELS, SEVERITY_LEVELS

ARTIFACT = Path(__file__).resolve().parents[2] / "classifiers" / "artifacts" / "minilm-mh"
CONFIG = {
    "version": "fake-student-1",
    "thresholds": dict.fromkeys(CONDITIONS, 0.5),
    "relevance_threshold": 0.5,
    "crisis_threshold": 0.4,
    "severity_cut_points": [0.25, 0.5, 0.75],
}


def _risk_probs(level: str, p: float = 0.9) -> list[float]:
    rest = (1 - p) / (len(RISK_LEVELS) - 1)
    return [p if lv == level else rest for lv in RISK_LEVELS]


class FakeStudent:
    """Deterministic stand-in for ``TransformerClassifier``: the same scores for every text."""

    version = "fake-student-1"
    config: Mapping[str, Any] = CONFIG

    def __init__(
        self,
        conditions: Mapping[str, float] | None = None,
        relevance: float = 0.9,
        severity_score: float = 0.4,
        risk: str = "none",
    ) -> None:
        self.conditions = conditions or {}
        self.relevance = relevance
        self.severity_score = severity_score
        self.risk = risk

    def predict_proba(self, texts: Sequence[str]) -> Any:
        from classifiers.transformer import ModelScores

        n = len(texts)
        cond = np.array([[self.conditions.get(c, 0.01) for c in CONDITIONS]] * n)
        risk = np.array([_risk_probs(self.risk)] * n)
        return ModelScores(
            conditions=cond,
            relevance=np.full(n, self.relevance),
            severity_probs=np.full((n, len(SEVERITY_LEVELS)), 0.25),
            severity_score=np.full(n, self.severity_score),
            risk=risk,
            crisis=risk[:, 2:].sum(axis=1),
        )


@pytest.fixture(scope="module")
def rules() -> Any:
    from classifiers.rules.lexicon import LexiconClassifier

    return LexiconClassifier()


def _hybrid(rules: Any, **student: Any) -> HybridClassifier:
    return HybridClassifier(rules=rules, model=FakeStudent(**student), fusion=FusionConfig())


def _label(result: Classification, name: str) -> Any:
    return next((lab for lab in result.labels if lab.label == name), None)


def _spans_index_text(text: str, evidence: Sequence[Evidence]) -> bool:
    return bool(evidence) and all(text[e.start : e.end] == e.text for e in evidence)


# ---- with the real rules --------------------------------------------------------------------
ED_TEXT = "I binge and purge almost every day and I'm terrified of gaining weight."
NEGATED_TEXT = "I'm not depressed at all. My brother is depressed, though, and I worry about him."
PLAN_TEXT = "I want to kill myself. I bought a rope and wrote a goodbye note to my mum."
FINANCE_TEXT = (
    "Should I move my ISA into index funds before the budget? Interest rates keep rising."
)


def test_rules_add_a_label_the_model_missed_with_evidence(rules: Any) -> None:
    (result,) = _hybrid(rules, conditions={"eating_disorder": 0.2}).predict([ED_TEXT])
    label = _label(result, "eating_disorder")
    assert label is not None, result.label_names()
    assert label.sources == ("rules",)
    assert _spans_index_text(ED_TEXT, label.evidence)


def test_rules_do_not_add_when_the_model_is_confidently_against(rules: Any) -> None:
    (result,) = _hybrid(rules, conditions={"eating_disorder": 0.001}).predict([ED_TEXT])
    assert _label(result, "eating_disorder") is None


def test_negated_and_third_person_mentions_veto_an_unsure_model(rules: Any) -> None:
    (unsure,) = _hybrid(rules, conditions={"depression": 0.6}).predict([NEGATED_TEXT])
    assert _label(unsure, "depression") is None
    (sure,) = _hybrid(rules, conditions={"depression": 0.95}).predict([NEGATED_TEXT])
    assert _label(sure, "depression") is not None
    assert _label(sure, "depression").sources == ("model",)


def test_agreement_boosts_the_score_and_names_both_sources(rules: Any) -> None:
    text = "I've been so depressed for months. I can't get out of bed and nothing brings me joy."
    (result,) = _hybrid(rules, conditions={"depression": 0.7}).predict([text])
    label = _label(result, "depression")
    assert label is not None and label.sources == ("model", "rules")
    assert label.score > 0.7
    assert _spans_index_text(text, label.evidence)


def test_model_cannot_lower_the_rules_risk(rules: Any) -> None:
    (result,) = _hybrid(rules, risk="none").predict([PLAN_TEXT])
    assert result.risk.crisis, result.risk
    assert "rules" in result.risk.sources
    assert _spans_index_text(PLAN_TEXT, result.risk.evidence)
    # Severity is floored by the crisis even though the model's severity score is low.
    assert result.severity.level in ("moderate", "severe")


def test_rules_cannot_lower_the_models_crisis_call(rules: Any) -> None:
    (result,) = _hybrid(rules, risk="ideation").predict(["Long week. Work was fine, I guess."])
    assert result.risk.level == "ideation" and result.risk.crisis
    assert result.relevant  # a crisis is never filtered out as off-topic


def test_off_topic_text_is_not_relevant_and_has_no_labels(rules: Any) -> None:
    (result,) = _hybrid(rules, relevance=0.1, conditions={"anxiety": 0.7}).predict([FINANCE_TEXT])
    assert result.relevant is False
    assert result.labels == ()
    assert result.severity.level == "minimal"
    assert result.risk.level == "none"


def test_relevance_filter_never_hides_risk(rules: Any) -> None:
    text = FINANCE_TEXT + " Honestly I want to kill myself over this debt."
    (result,) = _hybrid(rules, relevance=0.05).predict([text])
    assert result.risk.crisis
    assert result.relevant
    assert result.to_dict(1)["risk"]["crisis"] is True


def test_results_come_back_in_order_with_a_combined_version(rules: Any) -> None:
    clf = _hybrid(rules, conditions={"depression": 0.2})
    results = clf.predict([ED_TEXT, FINANCE_TEXT, PLAN_TEXT])
    assert [r.risk.crisis for r in results] == [False, False, True]
    assert clf.version == f"hybrid({rules.version}|fake-student-1|fusion-{clf.fusion.digest})"
    retuned = _hybrid(rules)
    retuned.fusion = retuned.fusion.with_overrides(crisis_threshold=0.2)
    assert retuned.version != clf.version  # other fusion numbers: another version
    assert all(r.model_version == clf.version for r in results)
    with pytest.raises(InvalidTextError):
        clf.predict(["ok text", "  "])


# ---- the fusion function on hand-built views ------------------------------------------------
def _model_view(p: Mapping[str, float], risk: str = "none", relevance: float = 0.9) -> ModelView:
    return ModelView(
        conditions={c: p.get(c, 0.0) for c in CONDITIONS},
        thresholds=dict.fromkeys(CONDITIONS, 0.5),
        relevance=relevance,
        relevance_threshold=0.5,
        severity_score=0.3,
        severity_cut_points=(0.25, 0.5, 0.75),
        risk=dict(zip(RISK_LEVELS, _risk_probs(risk), strict=True)),
        crisis_threshold=0.5,
    )


def _rules_view(hits: Mapping[str, RuleHit], risk: str = "none") -> RulesView:
    ev = (Evidence(0, 4, "rope", "means"),) if risk != "none" else ()
    return RulesView(hits, 0.8, False, RiskResult(risk, 0.8 if ev else 0.0, ev, ("rules",)))


def _crisis_view(p_crisis: float) -> ModelView:
    """A model view whose P(risk >= ideation) is ``p_crisis`` (all of it on ideation)."""
    rest = (1 - p_crisis) / 2
    risk = {"none": rest, "indicator": rest, "ideation": p_crisis, "behavior": 0.0, "attempt": 0.0}
    return ModelView(
        conditions=dict.fromkeys(CONDITIONS, 0.0),
        thresholds=dict.fromkeys(CONDITIONS, 0.5),
        relevance=0.9,
        relevance_threshold=0.5,
        severity_score=0.3,
        severity_cut_points=(0.25, 0.5, 0.75),
        risk=risk,
        crisis_threshold=0.5,
    )


@pytest.mark.parametrize(
    ("p_crisis", "cue", "crisis"),
    [
        (0.35, True, True),  # above the crisis threshold, with a rule cue to show
        (0.35, False, False),  # the same P with nothing in the text: below the unsupported bar
        (0.7, False, True),  # confident enough to stand without a cue
        (0.2, True, False),  # a cue alone at indicator level does not make a crisis
    ],
)
def test_a_model_only_crisis_call_needs_a_rule_cue_or_the_higher_bar(
    p_crisis: float, cue: bool, crisis: bool
) -> None:
    ev = (Evidence(0, 8, "hopeless", "hopelessness"),) if cue else ()
    rules = RulesView(
        {}, 0.8, False, RiskResult("indicator" if cue else "none", 0.4, ev, ("rules",))
    )
    config = FusionConfig(crisis_threshold=0.3, crisis_unsupported_threshold=0.6)
    result = fuse(rules, _crisis_view(p_crisis), config, "v")
    assert result.risk.crisis is crisis
    if crisis:
        assert result.risk.level == "ideation"
    # Without the setting, the crisis threshold alone decides (older fusion.json files).
    legacy = fuse(rules, _crisis_view(p_crisis), FusionConfig(crisis_threshold=0.3), "v")
    assert legacy.risk.crisis is (p_crisis >= 0.3)


@pytest.mark.parametrize(
    ("words", "cue", "crisis"),
    [
        (2, False, False),  # "Okay.": too few words for the model to call a crisis alone
        (7, False, False),
        (8, False, True),  # from the floor up, the bars decide as before
        (0, False, True),  # words not counted (an older caller): no floor
        (2, True, True),  # a rule cue in a few words ("I can't anymore."): the bar decides
    ],
)
def test_too_few_words_for_a_model_only_crisis(words: int, cue: bool, crisis: bool) -> None:
    ev = (Evidence(0, 8, "can't anymore", "entrapment"),) if cue else ()
    rules = RulesView(
        {}, 0.8, False, RiskResult("indicator" if cue else "none", 0.5, ev, ("rules",)), words
    )
    config = FusionConfig(crisis_threshold=0.3, crisis_min_words=8)
    result = fuse(rules, _crisis_view(0.9), config, "v")
    assert result.risk.crisis is crisis
    assert result.risk.level == ("ideation" if crisis else "indicator" if cue else "none")
    # without the setting (older fusion.json files) the model calls it, and the digest of
    # those settings is unchanged
    assert fuse(rules, _crisis_view(0.9), FusionConfig(crisis_threshold=0.3), "v").risk.crisis
    assert "crisis_min_words" not in FusionConfig(crisis_threshold=0.3).to_dict()
    assert FusionConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("words", "p_crisis", "crisis"),
    [
        (30, 0.6, True),  # short, no cue: the risk head alone suffices
        (30, 0.4, False),  # ... at or above the bar only
        (200, 0.6, False),  # a long post keeps the combined score
        (5, 0.9, False),  # too few words for any model-only call
    ],
)
def test_on_a_short_text_the_risk_head_can_call_a_crisis_alone(
    words: int, p_crisis: float, crisis: bool
) -> None:
    # the second opinion, trained on long Reddit posts, reads nothing in a few lines
    view = dataclasses.replace(_crisis_view(p_crisis), crisis_support=0.002)
    rules = RulesView({}, 0.8, False, RiskResult("none", 0.0), words=words)
    config = FusionConfig(
        crisis_threshold=0.04,
        crisis_support_weight=0.5,
        crisis_short_unsupported_threshold=0.05,
        crisis_short_model_alone=0.5,
        crisis_min_words=8,
    )
    assert fuse(rules, view, config, "v").risk.crisis is crisis
    # older settings: the combined score alone (sqrt(0.6 * 0.002) = 0.035 < 0.05)
    older = config.with_overrides(crisis_short_model_alone=None)
    assert not fuse(rules, view, older, "v").risk.crisis
    assert "crisis_short_model_alone" not in older.to_dict()


@pytest.mark.parametrize(
    ("rules_risk", "p_crisis", "severity"),
    [
        ("none", 0.9, "mild"),  # the model's crisis call alone keeps the model's severity
        ("ideation", 0.1, "moderate"),  # ideation in the writer's words: at least moderate
        ("ideation", 0.9, "moderate"),
        ("behavior", 0.1, "severe"),
    ],
)
def test_severity_is_floored_by_the_risk_the_rules_saw(
    rules_risk: str, p_crisis: float, severity: str
) -> None:
    ev = (Evidence(0, 4, "rope", "means"),) if rules_risk != "none" else ()
    rules = RulesView({}, 0.8, False, RiskResult(rules_risk, 0.8, ev, ("rules",)))
    result = fuse(rules, _crisis_view(p_crisis), FusionConfig(crisis_threshold=0.3), "v")
    assert result.risk.crisis is (p_crisis >= 0.3 or rules_risk != "none")
    assert result.severity.level == severity  # the model's own score (0.3) reads mild
    assert ("rules" in result.severity.sources) is (severity != "mild")


@pytest.mark.parametrize(
    ("p_crisis", "support", "weight", "crisis"),
    [
        (0.5, 0.5, 0.5, True),  # both lean towards a crisis: sqrt(0.25) = 0.5
        (0.5, 0.01, 0.5, False),  # the risk head alone (a post about cooking): 0.07
        (0.5, 0.01, 0.0, True),  # weight 0: the risk head decides alone
        (0.5, None, 0.5, True),  # no stacked member (older artifact): the risk head alone
        (0.1, 0.9, 0.5, False),  # the second opinion alone does not make a crisis: 0.3
    ],
)
def test_crisis_needs_the_risk_head_and_the_second_opinion_to_agree(
    p_crisis: float, support: float | None, weight: float, crisis: bool
) -> None:
    view = dataclasses.replace(_crisis_view(p_crisis), crisis_support=support)
    rules = RulesView({}, 0.8, False, RiskResult("none", 0.0, (), ("rules",)))
    config = FusionConfig(crisis_threshold=0.35, crisis_support_weight=weight)
    result = fuse(rules, view, config, "v")
    assert result.risk.crisis is crisis
    assert result.risk.score == pytest.approx(p_crisis)  # the reported score: the risk head's P
    assert FusionConfig.from_dict(config.to_dict()) == config
    # settings tuned before the second opinion (no key) keep deciding on the risk head alone
    legacy = {k: v for k, v in config.to_dict().items() if k != "crisis_support_weight"}
    assert FusionConfig.from_dict(legacy).crisis_support_weight == 0.0


def test_fuse_orders_labels_and_respects_each_rule() -> None:
    ev = (Evidence(0, 3, "sad", "low mood"),)
    rules = _rules_view(
        {
            "depression": RuleHit(0.9, ev, strong=True),
            "adhd": RuleHit(0.8, ev, strong=True),
            "ocd": RuleHit(0.0, (), vetoed=True),
            "ptsd": RuleHit(0.7, ev, strong=False),
        },
        risk="behavior",
    )
    model = _model_view({"depression": 0.6, "adhd": 0.3, "ocd": 0.7, "ptsd": 0.4, "bpd": 0.9})
    result = fuse(rules, model, FusionConfig(), "v")
    by_name = {lab.label: lab for lab in result.labels}
    assert set(by_name) == {"depression", "adhd", "bpd"}  # ocd vetoed, ptsd cue not plain
    assert by_name["depression"].sources == ("model", "rules")
    assert by_name["adhd"].sources == ("rules",) and by_name["adhd"].evidence == ev
    assert by_name["bpd"].sources == ("model",) and by_name["bpd"].evidence == ()
    assert [lab.score for lab in result.labels] == sorted(
        (lab.score for lab in result.labels), reverse=True
    )
    assert result.risk.level == "behavior" and result.severity.level == "severe"
    assert result.decided_by == ("model", "rules")


@pytest.mark.slow
def test_real_student_and_rules_together(rules: Any) -> None:
    if not (ARTIFACT / "config.json").is_file():
        pytest.skip(f"student artifact not built at {ARTIFACT} (run `mindsignal train`)")
    from classifiers.factory import load_classifier

    clf = load_classifier(ARTIFACT, mode="hybrid")
    # Served at the length the fusion numbers were tuned at, as the CLI and the app serve it.
    assert clf.fusion.max_length is not None
    assert clf.model.max_length == clf.fusion.max_length
    assert load_classifier(ARTIFACT, mode="hybrid", max_length=128).model.max_length == 128
    # A clear rule cue reaches the result with its evidence (the rules add the label when the
    # student misses it, as the 2026-11-26 fifth-session student did; the sixth agrees).
    purging = clf.predict(
        [
            "I'm 16 and I've been making myself sick after dinner for months. My parents don't "
            "know. I hate my body and some nights I think everyone would be better off without me."
        ]
    )[0]
    added = {s.label: s for s in purging.labels}.get("eating_disorder")
    assert added is not None and "rules" in added.sources and added.evidence
    results = clf.predict([PLAN_TEXT, FINANCE_TEXT, ED_TEXT])
    assert results[0].risk.crisis
    assert results[1].relevant is False and results[1].labels == ()
    assert "eating_disorder" in results[2].label_names()
    assert all(r.model_version == clf.version for r in results)
    # A few words give the student nothing to read: its crisis score on "Okay." (0.36) or a
    # reply like "Are you okay?" (0.61) is noise, so those are no crisis; a brief cue is one.
    replies = clf.predict(["Okay.", ":/", "Are you okay?", "I like the way you write"])
    assert not any(r.risk.crisis for r in replies)
    assert clf.fusion.crisis_min_words == 8
    brief = clf.predict(["I can't anymore.", "Nobody would even notice if I was gone"])
    assert all(r.risk.crisis and r.risk.evidence for r in brief)
    # Homework is not the writer's condition; the writer's own words in the same frame are.
    homework, own = clf.predict(
        [
            "Health class homework: 'Outline the symptoms of schizophrenia and one treatment.' "
            "Anyone got good sources?",
            "Writing a story where the main character has bulimia. I had bulimia for years "
            "myself and still make myself sick some nights.",
        ]
    )
    assert homework.labels == () and not homework.risk.crisis
    assert "eating_disorder" in own.label_names()


def test_fusion_digest_of_older_settings_is_unchanged_by_the_length_field() -> None:
    # Settings written before ``max_length`` existed keep their digest (and so the version).
    assert "max_length" not in FusionConfig().to_dict()
    assert FusionConfig(max_length=96).to_dict()["max_length"] == 96
    assert FusionConfig(max_length=96).digest != FusionConfig().digest
    assert FusionConfig.from_dict(FusionConfig(max_length=96).to_dict()).max_length == 96


def test_short_texts_need_a_higher_bar_for_a_model_only_crisis() -> None:
    """No rule cue: under ``short_text_words`` words the short bar applies, above it the usual."""
    config = FusionConfig(
        crisis_threshold=0.05,
        crisis_unsupported_threshold=0.1,
        crisis_short_unsupported_threshold=0.3,
        short_text_words=60,
    )
    no_cue = RiskResult("none", 0.0, (), ("rules",))
    short = RulesView({}, 0.8, False, no_cue, words=12)
    long = RulesView({}, 0.8, False, no_cue, words=200)
    assert not fuse(short, _crisis_view(0.2), config, "v").risk.crisis  # "I am dead. Bury me."
    assert fuse(long, _crisis_view(0.2), config, "v").risk.crisis
    assert fuse(short, _crisis_view(0.35), config, "v").risk.crisis  # a sure student still calls it
    # a rule cue lifts the short bar: the crisis threshold alone decides
    cue = RiskResult("indicator", 0.4, (Evidence(0, 8, "hopeless", "hopelessness"),), ("rules",))
    assert fuse(
        RulesView({}, 0.8, False, cue, words=12), _crisis_view(0.06), config, "v"
    ).risk.crisis


def test_on_short_texts_the_rules_veto_holds_whatever_the_model_says() -> None:
    """'I'm not depressed, just tired': every mention negated, the student sure of depression."""
    vetoed = {"depression": RuleHit(0.0, vetoed=True)}
    model = _model_view({"depression": 0.95})
    config = FusionConfig(veto_max=0.0, short_veto=True, short_text_words=60)
    short = RulesView(vetoed, 0.8, False, RiskResult("none", 0.0), words=9)
    long = RulesView(vetoed, 0.8, False, RiskResult("none", 0.0), words=180)
    assert fuse(short, model, config, "v").labels == ()
    assert [lab.label for lab in fuse(long, model, config, "v").labels] == ["depression"]
    # off (older settings): the model keeps the label on short texts too
    off = FusionConfig(veto_max=0.0)
    assert [lab.label for lab in fuse(short, model, off, "v").labels] == ["depression"]


def test_fusion_digest_of_older_settings_is_unchanged_by_the_short_text_fields() -> None:
    keys = {"crisis_short_unsupported_threshold", "short_text_words", "short_veto"}
    assert not keys & set(FusionConfig().to_dict())
    assert keys <= set(FusionConfig(short_veto=True).to_dict())
    assert FusionConfig(short_veto=True).digest != FusionConfig().digest
    tuned = FusionConfig(crisis_short_unsupported_threshold=0.2)
    assert FusionConfig.from_dict(tuned.to_dict()) == tuned


def test_a_short_text_framed_as_fiction_or_homework_keeps_only_the_writers_own_words() -> None:
    """'Psych homework: describe the symptoms of schizophrenia': the student reads psychosis."""
    ev = (Evidence(0, 5, "voices", "auditory_hallucinations"),)
    hits = {
        "psychosis": RuleHit(0.7, ev, strong=False),  # in the song, not the writer's
        "depression": RuleHit(0.6, ev, strong=True, own=True),  # "and honestly I've felt low"
    }
    model = _crisis_view(0.9)
    model = dataclasses.replace(
        model, conditions={**model.conditions, "psychosis": 0.9, "depression": 0.3}
    )
    config = FusionConfig(crisis_threshold=0.3, short_veto=True, reported_frame=True)
    cue = RiskResult("ideation", 0.7, (Evidence(0, 6, "want to die", "ideation"),), ("rules",))

    def view(reported: bool, words: int, risk: RiskResult | None = None) -> RulesView:
        risk = risk or RiskResult("none", 0.0)
        return RulesView(hits, 0.8, False, risk, words=words, reported=reported)

    framed = fuse(view(True, 30), model, config, "v")
    assert list(framed.label_names()) == ["depression"]  # added by the rules, with evidence
    assert not framed.risk.crisis  # the model's crisis reading of the song is not the writer's
    # the writer's own crisis cue stands, frame or not
    assert fuse(view(True, 30, cue), model, config, "v").risk.crisis
    # long posts, unframed texts and older settings are read as before
    for other in (
        fuse(view(True, 200), model, config, "v"),
        fuse(view(False, 30), model, config, "v"),
        fuse(view(True, 30), model, FusionConfig(crisis_threshold=0.3, short_veto=True), "v"),
    ):
        assert "psychosis" in other.label_names() and other.risk.crisis
    assert "reported_frame" not in FusionConfig().to_dict()
    assert FusionConfig.from_dict(config.to_dict()) == config


def test_a_reply_addressed_to_someone_else_gets_no_model_only_crisis() -> None:
    """'Please talk to someone. You are not alone': the student reads the reader's crisis."""
    model = _crisis_view(0.9)
    config = FusionConfig(crisis_threshold=0.3, addressed_reply=True)
    cue = RiskResult("ideation", 0.7, (Evidence(0, 6, "want to die", "ideation"),), ("rules",))
    # a cue said to the reader ("if you're thinking about suicide") counts as an indicator
    hint = RiskResult("indicator", 0.4, (Evidence(0, 6, "suicide", "ideation"),), ("rules",))

    def view(addressed: bool, risk: RiskResult | None = None) -> RulesView:
        risk = risk or RiskResult("none", 0.0)
        return RulesView({}, 0.8, False, risk, words=120, addressed=addressed)

    assert not fuse(view(True), model, config, "v").risk.crisis
    said_to_reader = fuse(view(True, hint), model, config, "v").risk
    assert not said_to_reader.crisis and said_to_reader.level == "indicator"
    # the rules' own crisis call stands
    assert fuse(view(True, cue), model, config, "v").risk.crisis
    # a text about its writer, and older settings, are read as before
    assert fuse(view(False), model, config, "v").risk.crisis
    assert fuse(view(True), model, FusionConfig(crisis_threshold=0.3), "v").risk.crisis
    assert "addressed_reply" not in FusionConfig().to_dict()
    assert FusionConfig.from_dict(config.to_dict()) == config


def test_a_short_text_about_a_resolved_past_gets_no_condition() -> None:
    """'Panic attacks at uni, therapy helped, doing great now': the student still reads anxiety."""
    hit = {"anxiety": RuleHit(0.6, (Evidence(0, 13, "panic attacks", "panic"),), strong=True)}
    model = _model_view({"anxiety": 0.9})
    config = FusionConfig(veto_max=0.0, short_veto=True, short_text_words=60)
    cue = RiskResult("ideation", 0.7, (Evidence(0, 9, "end it all", "ideation"),), ("rules",))
    no_risk = RiskResult("none", 0.0)

    def view(resolved: bool, words: int, risk: RiskResult = no_risk) -> RulesView:
        return RulesView(hit, 0.8, False, risk, words=words, resolved=resolved)

    over = fuse(view(True, 30), model, config, "v")
    assert (over.labels, over.severity.level) == ((), "minimal")
    assert [lab.label for lab in fuse(view(False, 30), model, config, "v").labels] == ["anxiety"]
    # long posts and older settings (no short veto) keep the labels
    assert fuse(view(True, 200), model, config, "v").labels
    assert fuse(view(True, 30), model, FusionConfig(veto_max=0.0), "v").labels
    # risk is fused on its own and never lowered by it, nor is the severity of a crisis
    assert fuse(view(True, 30, cue), model, config, "v").risk.crisis
    assert fuse(view(True, 30, cue), model, config, "v").severity.level != "minimal"
    # recovery from substance use is living with it now: "quit drinking two years ago and
    # never looked back" keeps substance_use, from the rules
    sober = {"substance_use": RuleHit(0.6, (Evidence(0, 13, "quit drinking", "recovery"),), True)}
    kept = fuse(RulesView(sober, 0.8, False, no_risk, words=9, resolved=True), model, config, "v")
    assert [(lab.label, lab.sources) for lab in kept.labels] == [("substance_use", ("rules",))]


@pytest.mark.parametrize(
    ("cues", "strong", "vetoed", "relevant"),
    [
        (("decreased_sleep_need", "risky_behaviour", "grandiosity"), True, False, True),
        (("decreased_sleep_need", "grandiosity"), True, False, True),
        (("diagnosis",), True, False, False),  # one cue: "my brain is far too ADHD for it"
        (("decreased_sleep_need", "decreased_sleep_need"), True, False, False),  # one criterion
        (("decreased_sleep_need", "grandiosity"), False, False, False),  # not plain
        (("decreased_sleep_need", "grandiosity"), True, True, False),  # negated / someone else
    ],
)
def test_distinct_criteria_of_one_condition_make_a_text_relevant(
    cues: tuple[str, ...], strong: bool, vetoed: bool, relevant: bool
) -> None:
    ev = tuple(Evidence(10 * i, 10 * i + 5, "x" * 5, cue) for i, cue in enumerate(cues))
    hit = RuleHit(0.87, ev, strong=strong, vetoed=vetoed)
    rules = RulesView({"bipolar": hit}, 0.3, False, RiskResult("none", 0.0, (), ("rules",)), 30)
    model = dataclasses.replace(_crisis_view(0.0), relevance=0.1)
    config = FusionConfig(rules_criteria_relevant=2, model_against=0.0)
    result = fuse(rules, model, config, "v")
    assert result.relevant is relevant
    if relevant:
        assert result.relevance_score == model.relevance_threshold
        assert [(lab.label, lab.sources) for lab in result.labels] == [("bipolar", ("rules",))]
    # off (older fusion.json files): the relevance head decides, and the digest is unchanged
    assert not fuse(rules, model, config.with_overrides(rules_criteria_relevant=None), "v").relevant
    assert "rules_criteria_relevant" not in FusionConfig().to_dict()


def _predict_dicts(clf: Any, texts: list[str]) -> list[dict[str, Any]]:
    """Run in a worker process: what a batch job (Ray Data, multiprocessing) does with a
    classifier it was shipped."""
    return [r.to_dict() for r in clf.predict(texts)]


@pytest.mark.slow
def test_shipped_hybrid_runs_in_a_fresh_worker_process_and_agrees() -> None:
    """Batch classification ships the classifier to worker processes: it must pickle without
    its loaded sessions, load lazily from its path in a fresh interpreter (spawn, as Ray
    workers start) and give the same results, evidence included."""
    import multiprocessing
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    if not (ARTIFACT / "config.json").is_file():
        pytest.skip(f"student artifact not built at {ARTIFACT} (run `mindsignal train`)")
    from classifiers.factory import load_classifier

    clf = load_classifier(ARTIFACT, mode="hybrid")
    texts = [
        "I haven't enjoyed anything in months and I sleep all day. I keep thinking everyone "
        "would be better off without me.",
        "Does anyone know a good tracker for index funds? Thinking of moving my ISA.",
        "My brother has bipolar and I'm worried about him. I'm fine myself.",
    ]
    here = _predict_dicts(clf, texts)
    blob = pickle.dumps(clf)
    assert len(blob) < 5_000_000  # paths and the rules (about 1 MB), not the 23 MB ONNX graph
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        there = pool.submit(_predict_dicts, clf, texts).result(timeout=300)
    assert there == here
    assert here[0]["risk"]["crisis"] and not here[1]["relevant"]


def test_a_denial_keeps_the_model_alone_from_calling_a_crisis() -> None:
    """The risk head reads "want to die" in "I don't want to die or anything": with
    ``denial_veto`` the writer's own denial, and no ideation cue of theirs, veto the model's
    crisis call. The level is the model's most likely below a crisis; an indicator shows the
    denial as evidence. Both decided by model and rules."""
    text = "I don't want to die or anything, I just feel empty and tired all the time."
    from classifiers.rules import LexiconClassifier

    analysis = LexiconClassifier().analyze(text)
    rules = rules_view(analysis, words=len(text.split()), text=text)
    assert rules.denied and rules.denials[0].cue.startswith("denied: ")
    leaning = {"none": 0.02, "indicator": 0.06, "ideation": 0.92, "behavior": 0.0, "attempt": 0.0}
    model = dataclasses.replace(_crisis_view(0.92), risk=leaning)
    base = FusionConfig(crisis_threshold=0.3)
    assert fuse(rules, model, base, "v").risk.crisis  # without the rule: the model's crisis
    on = base.with_overrides(denial_veto=True)
    risk = fuse(rules, model, on, "v").risk
    assert (risk.level, risk.crisis, risk.sources) == ("indicator", False, ("model", "rules"))
    assert [text[e.start : e.end] for e in risk.evidence] == ["I don't want to die"]
    # the model leaning to none below a crisis ("I found a lump, I don't want to die"): none
    leaning = {"none": 0.06, "indicator": 0.02, "ideation": 0.92, "behavior": 0.0, "attempt": 0.0}
    risk = fuse(rules, dataclasses.replace(model, risk=leaning), on, "v").risk
    assert (risk.level, risk.crisis, risk.evidence) == ("none", False, ())
    # no crisis call to veto: the denial changes nothing
    calm = dataclasses.replace(_crisis_view(0.05), risk=leaning | {"none": 0.93, "ideation": 0.05})
    assert fuse(rules, calm, on, "v").risk == fuse(rules, calm, base, "v").risk
    assert "denial_veto" not in FusionConfig().to_dict()  # older digests are kept
    assert FusionConfig.from_dict(on.to_dict()) == on
    # the severity head read the same words: its severe reading goes with the vetoed crisis
    grave = dataclasses.replace(model, severity_score=0.9)
    assert fuse(rules, grave, base, "v").severity.level == "severe"
    assert fuse(rules, grave, on, "v").severity.level == "moderate"


@pytest.mark.slow
def test_shipped_hybrid_reads_denials_and_keeps_ambivalence_a_crisis() -> None:
    if not (ARTIFACT / "config.json").is_file():
        pytest.skip(f"student artifact not built at {ARTIFACT} (run `mindsignal train`)")
    from classifiers.factory import load_classifier

    clf = load_classifier(ARTIFACT, mode="hybrid")
    assert clf.fusion.denial_veto
    denied, passive, ambivalent = clf.predict(
        [
            "I've been feeling really low for about two months. I can't get out of bed some "
            "days and I barely see my friends. I don't want to die or anything, I just feel "
            "empty and tired all the time.",
            "I'm not suicidal but sometimes I wish I wouldn't wake up.",
            "I don't want to die, but the pain of living gets stronger every day.",
        ]
    )
    assert denied.risk.level == "indicator" and "depression" in denied.label_names()
    assert passive.risk.crisis and ambivalent.risk.crisis
    assert clf.fusion.past_veto
    past, back = clf.predict(
        [
            "Three years ago I was suicidal and spent a week in hospital. Therapy helped a lot "
            "and these days I'm doing well, just wanted to share that it gets better.",
            "Three years ago I was suicidal and spent a week in hospital. Therapy helped a lot, "
            "but lately those thoughts are coming back.",
        ]
    )
    assert (past.risk.level, past.risk.crisis) == ("indicator", False)
    assert (past.labels, past.severity.level) == ((), "minimal")  # it is over
    assert back.risk.crisis


def test_resolved_past_thoughts_keep_the_model_alone_from_calling_a_crisis() -> None:
    """The risk head reads "suicidal" in "Three years ago I was suicidal ... doing well now":
    with ``past_veto`` history in a text that says it is over vetoes the model's crisis call.
    The level is the model's below a crisis or the rules' indicator, which shows the past
    thoughts as evidence marked ``past:``."""
    from classifiers.rules import LexiconClassifier

    text = (
        "Three years ago I was suicidal and spent a week in hospital. Therapy helped a lot and "
        "I'm doing well now, just wanted to share that it gets better."
    )
    rules = rules_view(LexiconClassifier().analyze(text), words=len(text.split()), text=text)
    assert [e.cue.split(":")[0] for e in rules.past_only] == ["past"]
    leaning = {"none": 0.06, "indicator": 0.02, "ideation": 0.92, "behavior": 0.0, "attempt": 0.0}
    model = dataclasses.replace(_crisis_view(0.92), risk=leaning)
    base = FusionConfig(crisis_threshold=0.3)
    assert fuse(rules, model, base, "v").risk.crisis  # without the rule: the model's crisis
    on = base.with_overrides(past_veto=True)
    risk = fuse(rules, model, on, "v").risk
    # the model leans to none below a crisis, but the rules' indicator is the floor
    assert (risk.level, risk.crisis, risk.sources) == ("indicator", False, ("model", "rules"))
    assert [(text[e.start : e.end], e.cue.startswith("past: ")) for e in risk.evidence] == [
        ("suicidal", True)
    ]
    assert "past_veto" not in FusionConfig().to_dict()  # older digests are kept
    assert FusionConfig.from_dict(on.to_dict()) == on
    # it is back, or it was never said to be over: the model's crisis stands
    for other in (
        "Three years ago I was suicidal. Therapy helped and I'm doing well now, but lately the "
        "thoughts are coming back.",
        "Three years ago I was suicidal and spent a week in hospital.",
        # history beside a present cue of the writer's
        "Years ago I was suicidal. I'm doing well now, though I want to die tonight.",
    ):
        view = rules_view(LexiconClassifier().analyze(other), len(other.split()), other)
        assert not view.past_only, other
        assert fuse(view, model, on, "v").risk.crisis, other


def test_a_crisis_read_in_a_figure_of_speech_is_checked_without_it() -> None:
    """ "I'd kill for a proper fry-up" read as ideation to the risk head: with
    ``figurative_veto`` the crisis call is checked on the text without the figure's words
    (``ModelView.literal``), and where that reads no crisis, the literal reading stands, its
    relevance too."""
    from classifiers.rules import LexiconClassifier

    text = "I'd kill for a proper fry-up right now."
    rules = rules_view(LexiconClassifier().analyze(text), words=len(text.split()), text=text)
    assert [e.text for e in rules.figurative] == ["I'd kill for a proper fry-up right"]
    calm = dataclasses.replace(_crisis_view(0.05), relevance=0.1)
    model = dataclasses.replace(_crisis_view(0.92), literal=calm)
    base = FusionConfig(crisis_threshold=0.3, relevance_threshold=0.5)
    assert fuse(rules, model, base, "v").risk.crisis  # without the rule: the model's crisis
    on = base.with_overrides(figurative_veto=True)
    res = fuse(rules, model, on, "v")
    assert (res.risk.level, res.risk.crisis, res.relevant) == ("none", False, False)
    assert res.risk.score == pytest.approx(0.05)  # the literal reading's P(crisis)
    assert "figurative_veto" not in FusionConfig().to_dict()  # older digests are kept
    assert FusionConfig.from_dict(on.to_dict()) == on
    # what is left still reads as a crisis: the call stands
    grave = dataclasses.replace(model, literal=_crisis_view(0.9))
    assert fuse(rules, grave, on, "v").risk.crisis
    # no literal reading (no figure found): nothing to check against
    assert fuse(rules, dataclasses.replace(model, literal=None), on, "v").risk.crisis
    # a rule cue at ideation outside the figure keeps the crisis whatever the literal reading
    other = "This job is killing me and honestly I want to kill myself."
    view = rules_view(LexiconClassifier().analyze(other), len(other.split()), other)
    assert view.figurative and view.risk.level == "ideation"
    assert fuse(view, model, on, "v").risk.crisis


def test_harm_obsessions_keep_the_model_alone_from_calling_a_crisis() -> None:
    """Intrusive thoughts of harming someone, with what the writer does about them, are OCD's
    fear, not an intent: with ``obsession_veto`` the model's crisis call on them is vetoed, and
    the obsession's spans are the evidence."""
    from classifiers.rules import LexiconClassifier

    text = (
        "Since my son was born I keep getting horrible thoughts of hurting him, like dropping "
        "him down the stairs. I would never do it, it makes me sick, and I avoid being alone "
        "with him and keep checking the stair gate."
    )
    rules = rules_view(LexiconClassifier().analyze(text), words=len(text.split()), text=text)
    assert [e.cue for e in rules.harm_obsession] == [
        "obsession: intrusive_thoughts",
        "obsession: neutralising",
        "obsession: checking",
    ]
    leaning = {"none": 0.2, "indicator": 0.05, "ideation": 0.05, "behavior": 0.7, "attempt": 0.0}
    model = dataclasses.replace(_crisis_view(0.75), risk=leaning)
    base = FusionConfig(crisis_threshold=0.3)
    assert fuse(rules, model, base, "v").risk.level == "behavior"
    on = base.with_overrides(obsession_veto=True)
    assert (fuse(rules, model, on, "v").risk.level, fuse(rules, model, on, "v").risk.crisis) == (
        "none",
        False,
    )
    assert "obsession_veto" not in FusionConfig().to_dict()  # older digests are kept
    assert FusionConfig.from_dict(on.to_dict()) == on
    for other in (
        # no response to the thought: not enough to read it as an obsession
        "I keep getting horrible thoughts of hurting him.",
        # psychotic content beside it
        "I keep getting thoughts of hurting him and I've hidden the knives. I've been hearing "
        "that he is evil.",
        # the writer's own suicide risk
        "I have intrusive thoughts about hurting my baby and I've hidden the knives. I want to "
        "kill myself.",
    ):
        view = rules_view(LexiconClassifier().analyze(other), len(other.split()), other)
        assert fuse(view, model, on, "v").risk.crisis, other


def test_a_crisis_read_in_someone_elses_suicide_is_checked_without_it() -> None:
    """ "My dad killed himself when I was 12" was an attempt, a crisis: the risk head reads the
    father's act as the writer's. With ``bereavement_veto`` the crisis call is checked on the
    text without the bereavement's words; where that reads none, the level is an indicator (a
    risk factor) with the bereavement as evidence; where it is still a crisis, its level is the
    literal reading's."""
    from classifiers.rules import LexiconClassifier

    text = "My dad killed himself when I was 12. I still think about him every day."
    rules = rules_view(LexiconClassifier().analyze(text), words=len(text.split()), text=text)
    assert [(e.text, e.cue) for e in rules.bereavement] == [
        ("My dad killed himself", BEREAVEMENT_CUE)
    ]
    attempt = {"none": 0.1, "indicator": 0.05, "ideation": 0.05, "behavior": 0.1, "attempt": 0.7}
    model = dataclasses.replace(_crisis_view(0.86), risk=attempt, literal=_crisis_view(0.03))
    base = FusionConfig(crisis_threshold=0.3)
    assert fuse(rules, model, base, "v").risk.level == "attempt"  # without the rule
    on = base.with_overrides(bereavement_veto=True)
    risk = fuse(rules, model, on, "v").risk
    assert (risk.level, risk.crisis) == ("indicator", False)
    assert risk.score == pytest.approx(0.03)
    assert [e.cue for e in risk.evidence] == [BEREAVEMENT_CUE]
    assert "bereavement_veto" not in FusionConfig().to_dict()  # older digests are kept
    assert FusionConfig.from_dict(on.to_dict()) == on
    # the writer's own thoughts are left once the father's death is out: their level stands
    ideation = {"none": 0.1, "indicator": 0.1, "ideation": 0.6, "behavior": 0.1, "attempt": 0.1}
    own = dataclasses.replace(model, literal=dataclasses.replace(_crisis_view(0.7), risk=ideation))
    risk = fuse(rules, own, on, "v").risk
    assert (risk.level, risk.crisis) == ("ideation", True)
    # a rule cue of the writer's own at ideation keeps the model's call
    other = "My dad killed himself when I was 12 and I want to kill myself too."
    view = rules_view(LexiconClassifier().analyze(other), len(other.split()), other)
    assert view.bereavement and view.risk.level == "ideation"
    assert fuse(view, model, on, "v").risk.level == "attempt"


def test_someone_elses_suicide_threat_used_as_pressure_is_not_the_writers_crisis() -> None:
    """ "if i leave he'll kill himself and it'll be my fault" was the writer's ideation: the risk
    head reads the partner's threatened act as the writer's. With ``coercion_veto`` it is an
    indicator with the threat as evidence (the safety gate opens for the person who threatens);
    the writer's own ideation cue beside it keeps the crisis."""
    from classifiers.rules import LexiconClassifier

    text = "if i leave he'll kill himself and it'll be my fault. he says it every time i try to go"
    rules = rules_view(LexiconClassifier().analyze(text), words=len(text.split()), text=text)
    assert [(e.text, e.cue) for e in rules.coercion] == [
        ("if i leave he'll kill himself", COERCION_CUE)
    ]
    model = _crisis_view(0.9)
    base = FusionConfig(crisis_threshold=0.3)
    assert fuse(rules, model, base, "v").risk.crisis  # without the rule
    on = base.with_overrides(coercion_veto=True)
    risk = fuse(rules, model, on, "v").risk
    assert (risk.level, risk.crisis) == ("indicator", False)
    assert risk.score <= OVERRULED_SCORE_CAP
    assert [e.cue for e in risk.evidence][-1] == COERCION_CUE
    assert "coercion_veto" not in FusionConfig().to_dict()  # older digests are kept
    assert FusionConfig.from_dict(on.to_dict()) == on
    own = "He says he'll kill himself if I leave. Honestly I want to kill myself too."
    view = rules_view(LexiconClassifier().analyze(own), len(own.split()), own)
    assert view.coercion and view.risk.level == "ideation"
    assert fuse(view, model, on, "v").risk.crisis


def test_an_overruled_crisis_call_keeps_no_crisis_score() -> None:
    """A score of 0.85 beside level "none" told a caller the opposite of the level: where a
    rule overrules the model's crisis call (here a denial), the score is capped."""
    from classifiers.rules import LexiconClassifier

    text = "I'm not suicidal or anything, I just feel really flat lately."
    rules = rules_view(LexiconClassifier().analyze(text), words=len(text.split()), text=text)
    assert rules.denied
    on = FusionConfig(crisis_threshold=0.3, denial_veto=True)
    risk = fuse(rules, _crisis_view(0.9), on, "v").risk
    assert not risk.crisis and risk.score <= OVERRULED_SCORE_CAP
    # too few words for a model-only crisis: the same cap
    few = "Not okay."
    view = rules_view(LexiconClassifier().analyze(few), words=2, text=few)
    risk = fuse(
        view, _crisis_view(0.9), FusionConfig(crisis_threshold=0.3, crisis_min_words=8), "v"
    ).risk
    assert not risk.crisis and risk.score <= OVERRULED_SCORE_CAP


@pytest.fixture(scope="module")
def shipped() -> HybridClassifier:
    """The shipped hybrid (skips where the student artifact is not built)."""
    if not (ARTIFACT / "config.json").is_file():
        pytest.skip(f"student artifact not built at {ARTIFACT} (run `mindsignal train`)")
    from classifiers.factory import load_classifier

    clf = load_classifier(ARTIFACT, mode="hybrid")
    assert isinstance(clf, HybridClassifier)
    return clf


@pytest.mark.slow
def test_shipped_hybrid_reads_figures_of_speech_and_harm_obsessions_as_no_crisis(
    shipped: HybridClassifier,
) -> None:
    clf = shipped
    assert clf.fusion.figurative_veto
    results = clf.predict(
        [
            "I'd kill for a proper fry-up right now.",
            "I could murder a pint after the week I've had.",
            "I'm going to kill myself laughing at this show tonight.",
            "I was so embarrassed I could have died.",
            # the rest of the text is still read
            "This pain is killing me and I keep thinking about the pills in the cupboard.",
            "Work's killing me, might literally be the thing that does it. Nah but seriously. I "
            "drive home past the bridge every night and think about how easy it'd be to pull "
            "over and jump. Did pull over twice last week, sat there twenty minutes.",
        ]
    )
    assert [r.risk.crisis for r in results] == [False, False, False, False, True, True]
    assert not results[0].relevant
    assert clf.fusion.obsession_veto
    harm_ocd, psychotic = clf.predict(
        [
            "Since my son was born I keep getting horrible thoughts of hurting him, like "
            "dropping him down the stairs. I would never do it, it makes me sick, and I avoid "
            "being alone with him and keep checking the stair gate.",
            "I'm scared I might hurt my baby. I've been hearing that he is evil and needs to be "
            "saved.",
        ]
    )
    assert harm_ocd.label_names() == ["ocd"] and not harm_ocd.risk.crisis
    assert "psychosis" in psychotic.label_names()


@pytest.mark.slow
def test_shipped_hybrid_reads_suicide_bereavement_and_professional_questions(
    shipped: HybridClassifier,
) -> None:
    """Someone else's suicide was the writer's attempt or ideation, a crisis; a professional's
    question about screening was suicidal behaviour, URGENT."""
    clf = shipped
    assert clf.fusion.bereavement_veto
    results = clf.predict(
        [
            "My dad killed himself when I was 12. I still think about him every day.",
            "I lost my brother to suicide in March and I can't stop crying at work.",
            "My best friend took her own life last year. Some days I'm angry at her, some days "
            "I just miss her.",
            "What's the best way to screen my clients for self-harm risk?",
            # the writer's own thoughts beside the loss stay a crisis
            "My dad killed himself when I was 12 and lately I think about doing the same.",
            "My dad killed himself when I was 12 and I want to kill myself too.",
        ]
    )
    assert [r.risk.crisis for r in results] == [False, False, False, False, True, True]
    assert [r.risk.level for r in results[:3]] == ["indicator"] * 3
    assert results[0].risk.evidence[-1].text == "My dad killed himself"
    assert results[3].risk.level == "none" and results[3].risk.score <= OVERRULED_SCORE_CAP


@pytest.mark.slow
def test_shipped_hybrid_reads_a_notes_family_history_of_suicide_as_no_crisis(
    shipped: HybridClassifier,
) -> None:
    """A family history of suicide in a case note was the client's behaviour (URGENT) or
    ideation."""
    results = shipped.predict(
        [
            "Pt 34F, low mood 3/12. FHx: father completed suicide 2010. Denies SI. Sleep poor.",
            "Family history of suicide (maternal uncle). No personal hx of self-harm. Mood low, "
            "anhedonia.",
            "Hx: brother suicide 2019. Pt tearful, low mood, denies plans or intent.",
        ]
    )
    assert [r.risk.level for r in results] == ["indicator"] * 3


@pytest.mark.slow
def test_shipped_hybrid_reads_a_partners_suicide_threat_as_pressure_not_the_writers_crisis(
    shipped: HybridClassifier,
) -> None:
    assert shipped.fusion.coercion_veto
    results = shipped.predict(
        [
            "if i leave he'll kill himself and it'll be my fault. he says it every time i try "
            "to go",
            "My boyfriend says he'll kill himself if I break up with him. I feel trapped.",
            # a carer's report and the writer's own thoughts stay a crisis
            "my son said he wants to kill himself last night. he's 15. what do i do",
            "He says he'll kill himself if I leave. Honestly I want to kill myself too.",
        ]
    )
    assert [r.risk.crisis for r in results] == [False, False, True, True]
    assert [r.risk.level for r in results[:2]] == ["indicator"] * 2
    assert results[0].risk.evidence[-1].text == "if i leave he'll kill himself"


@pytest.mark.slow
def test_shipped_hybrid_reads_a_bad_day_fiction_and_research_as_no_crisis(
    shipped: HybridClassifier,
) -> None:
    clf = shipped
    results = clf.predict(
        [
            "Worst day ever. Missed the bus, spilled coffee on my laptop, and it's raining. "
            "Just want this day to end.",
            "lowkey wanna disappear but like not in a sad way i just want a holiday",
            "Chapter 12. Ellen stood on the bridge, the river black beneath her. She thought of "
            "her mother, of the pills in her coat pocket, and stepped up onto the railing.",
            "Abstract: We conducted a retrospective cohort study of 12,430 adults to examine the "
            "association between unemployment and suicide mortality. Hazard ratios were "
            "estimated with Cox regression.",
            "I'm writing a dissertation on the Werther effect and media reporting of suicide.",
            # the writer's own words stay a crisis
            "I want it all to end. I can't do this anymore.",
            "I\u200bwant to\u200bkill\u200bmyself tonight",
        ]
    )
    assert [r.risk.crisis for r in results] == [False] * 5 + [True, True]


@pytest.mark.slow
def test_shipped_hybrid_reads_dangerous_withdrawal_as_severe_substance_use(
    shipped: HybridClassifier,
) -> None:
    """Seizures or hallucinations coming off alcohol or benzodiazepines read as nothing at all;
    they are severe substance use with the medical risk as evidence."""
    clf = shipped
    results = clf.predict(
        [
            "Day 3 off the booze, shaking badly and I keep seeing bugs crawling on the walls",
            "I had a seizure yesterday after stopping drinking, now I'm sweating and seeing things",
            "Ran out of my xanax 4 days ago and I had a fit this morning",
            "Had a seizure last year, epilepsy is under control now",
        ]
    )
    for r in results[:3]:
        assert r.label_names() == ["substance_use"] and r.severity.level == "severe"
        assert "medical_risk" in {e.cue for lab in r.labels for e in lab.evidence}
    assert results[3].label_names() == [] and results[3].severity.level != "severe"


@pytest.mark.slow
def test_shipped_hybrid_reads_a_practitioners_negative_findings_as_no_crisis(
    shipped: HybridClassifier,
) -> None:
    """Notes list what was ruled out: "denied any thoughts of suicide or self-harm" was
    suicidal behaviour, URGENT (the negation stopped at "or" and the model read the words)."""
    clf = shipped
    results = clf.predict(
        [
            "Client denied any thoughts of suicide or self-harm. Mood low for 3 weeks, sleeping "
            "poorly.",
            "No thoughts of self-harm or suicide at present. Feels anxious most days.",
            "She has never self-harmed or attempted suicide. Worried about exams.",
            "I don't self harm or anything, I just feel really low.",
            # a denial with "but" after it stays the model's call
            "I'm not suicidal, but it would be no great loss if I didn't wake up.",
        ]
    )
    assert [r.risk.crisis for r in results] == [False, False, False, False, True]


@pytest.mark.slow
def test_shipped_hybrid_reads_a_case_note_as_about_the_client(shipped: HybridClassifier) -> None:
    """A practitioner's note about a client: its pronouns name the person assessed."""
    clf = shipped
    cutting, voices = clf.predict(
        [
            "15 year old student, teachers concerned, has been cutting her arms and told a "
            "friend she wants to die.",
            "He reports hearing voices telling him he is worthless, and believes the "
            "neighbours are poisoning his food.",
        ]
    )
    assert cutting.risk.level == "behavior"
    assert voices.relevant and "psychosis" in voices.label_names()


@pytest.mark.slow
def test_shipped_hybrid_reads_screening_scores(shipped: HybridClassifier) -> None:
    """The student cannot read "PHQ-9 score 22": the scale's band is the rules' evidence, makes
    the text relevant and grades severity without the rules' usual cap at moderate."""
    scored, noted = shipped.predict(
        ["I scored 24 on the PHQ-9 at my GP today.", "Client reports low mood. PHQ-9: 12."]
    )
    assert scored.relevant and scored.label_names() == ["depression"]
    assert scored.severity.level == "severe"
    assert noted.label_names() == ["depression"] and noted.severity.level == "moderate"


def test_past_attempts_are_not_history_for_the_past_veto() -> None:
    """C-SSRS counts lifetime attempts: "I tried to kill myself in 2015, I'm in a good place
    now" stays an attempt."""
    from classifiers.rules import LexiconClassifier

    text = "I tried to kill myself in 2015. Doing great now, I'm in a good place these days."
    rules = rules_view(LexiconClassifier().analyze(text), len(text.split()), text)
    assert rules.risk.level == "attempt" and not rules.past_only
    on = FusionConfig(crisis_threshold=0.3, past_veto=True)
    assert fuse(rules, _crisis_view(0.92), on, "v").risk.level == "attempt"


def test_model_and_rules_agreeing_on_a_label_make_the_text_relevant() -> None:
    """The relevance head learned r/conspiracy as off-topic: a paranoid post can read low there
    while the student's label and the rules agree on psychosis."""
    strong = RuleHit(0.64, (Evidence(0, 5, "my neighbours are watching me", "paranoia"),), True)
    rules = RulesView({"psychosis": strong}, 0.7, False, RiskResult("none", 0.0), words=20)
    model = _model_view({"psychosis": 0.91}, relevance=0.2)
    base = FusionConfig(relevance_threshold=0.5, rules_relevance_weight=0.6)
    assert not fuse(rules, model, base, "v").relevant
    on = base.with_overrides(agreement_relevant=True)
    result = fuse(rules, model, on, "v")
    assert result.relevant and result.label_names() == ["psychosis"]
    # either side alone is not enough: the model below its threshold, or the rules weak
    assert not fuse(rules, _model_view({"psychosis": 0.3}, relevance=0.2), on, "v").relevant
    weak = RulesView(
        {"psychosis": RuleHit(0.4, strong.evidence, True)},
        0.7,
        False,
        RiskResult("none", 0.0),
        words=20,
    )
    assert not fuse(weak, model, on, "v").relevant
    assert "agreement_relevant" not in FusionConfig().to_dict()
    assert FusionConfig.from_dict(on.to_dict()) == on


@pytest.mark.slow
def test_shipped_hybrid_reads_a_paranoid_post_as_relevant_but_not_a_conspiracy_one() -> None:
    if not (ARTIFACT / "config.json").is_file():
        pytest.skip(f"student artifact not built at {ARTIFACT} (run `mindsignal train`)")
    from classifiers.factory import load_classifier

    clf = load_classifier(ARTIFACT, mode="hybrid")
    voices, theirs = clf.predict(
        [
            "The voices have been telling me my neighbours are watching me through the TV. "
            "I covered all the cameras in my apartment.",
            "Wake up people. The government is watching us all through our smart TVs and "
            "phones. Cover your cameras.",
        ]
    )
    assert voices.relevant and voices.label_names() == ["psychosis"]
    assert not theirs.relevant


def test_the_rules_severity_is_a_floor_on_the_models() -> None:
    """As the rules' risk level floors risk, their severity (criteria, impairment, intensity)
    floors the severity head's, which reads short texts low, up to moderate."""
    rules = RulesView(
        {"depression": RuleHit(0.8, (Evidence(0, 5, "worthless", "worthlessness"),), True)},
        0.9,
        False,
        RiskResult("none", 0.0),
        words=27,
        severity=SeverityResult("severe", 0.75, ("rules",)),
    )
    model = _model_view({"depression": 0.9})  # severity score 0.3: mild at these cut points
    assert fuse(rules, model, FusionConfig(), "v").severity.level == "mild"
    on = FusionConfig(rules_severity_floor=True)
    severity = fuse(rules, model, on, "v").severity
    # raised to moderate at most: severe is the model's call, or a behaviour-level risk cue's
    assert (severity.level, severity.score, severity.sources) == (
        "moderate",
        0.5,
        ("model", "rules"),
    )
    # the rules never lower it
    calm = dataclasses.replace(rules, severity=SeverityResult("minimal", 0.0, ("rules",)))
    assert fuse(calm, model, on, "v").severity.level == "mild"
    assert "rules_severity_floor" not in FusionConfig().to_dict()
    assert FusionConfig.from_dict(on.to_dict()) == on


@pytest.mark.slow
def test_shipped_hybrid_reads_a_professionals_question_as_no_crisis(
    shipped: HybridClassifier,
) -> None:
    question, plea = shipped.predict(
        [
            "I'm a nurse; how do I ask a patient directly about suicidal thoughts without "
            "putting ideas in their head?",
            "How do I ask my mum for help, I want to die",
        ]
    )
    assert not question.risk.crisis and plea.risk.crisis
