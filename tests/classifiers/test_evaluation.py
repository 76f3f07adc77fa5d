"""Evaluation metrics on tiny hand-made sets with known answers, and the written reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from classifiers.base import Classification, LabelScore, RiskResult, SeverityResult
from classifiers.evaluation import (
    EvaluationError,
    evaluate_file,
    expected_calibration_error,
    multilabel_metrics,
    normalise_gold,
    ordinal_metrics,
    parse_label_map,
    parse_post_list,
    split_labels,
    user_risk,
)


def test_multilabel_metrics_known_values() -> None:
    gold = [{"depression"}, {"anxiety"}, {"depression", "anxiety"}, set()]
    pred = [{"depression"}, {"depression"}, {"depression"}, set()]
    m = multilabel_metrics(gold, pred)
    dep, anx = m["per_label"]["depression"], m["per_label"]["anxiety"]
    assert dep["precision"] == pytest.approx(2 / 3) and dep["recall"] == 1.0
    assert dep["f1"] == pytest.approx(0.8)
    assert anx["f1"] == 0.0 and anx["support"] == 2
    # Only labels present in the gold data enter the macro average.
    assert m["labels_in_macro"] == ["depression", "anxiety"]
    assert m["macro_f1"] == pytest.approx(0.4)
    assert m["weighted_f1"] == pytest.approx(0.4)
    assert m["micro_f1"] == pytest.approx(4 / 7)


def test_ordinal_metrics_known_values() -> None:
    levels = ("minimal", "mild", "moderate", "severe")
    m = ordinal_metrics(
        ["minimal", "mild", "mild", "severe"], ["minimal", "mild", "moderate", "severe"], levels
    )
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["balanced_accuracy"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert m["within_one"] == 1.0
    assert m["confusion"][1] == [0, 1, 1, 0]


def test_expected_calibration_error_known_value() -> None:
    assert expected_calibration_error([0.9, 0.9, 0.1, 0.1], [True, False, False, False]) == (
        pytest.approx(0.25)
    )
    assert expected_calibration_error([1.0, 0.0], [True, False]) == pytest.approx(0.0)


def test_label_parsing_and_mapping(tmp_path: Path) -> None:
    assert split_labels("['r/depression', 'anxiety']") == ["r/depression", "anxiety"]
    assert split_labels('["ptsd"]') == ["ptsd"]
    assert split_labels("adhd; ocd") == ["adhd", "ocd"]
    assert split_labels(float("nan")) == []
    mapping = parse_label_map('{"Supportive": "none", "r/EDAnonymous": "eating_disorder"}')
    assert normalise_gold("risk", ["Supportive", "Ideation"], mapping) == ["none", "ideation"]
    assert normalise_gold("severity", ["minimum", "severe"], {}) == ["minimal", "severe"]
    assert normalise_gold("conditions", ["r/depression", "r/EDAnonymous;none"], mapping) == [
        ["depression"],
        ["eating_disorder"],
    ]
    map_file = tmp_path / "map.json"
    map_file.write_text('{"sad": "depression"}', encoding="utf-8")
    assert parse_label_map(str(map_file)) == {"sad": "depression"}
    with pytest.raises(EvaluationError, match="not mappable"):
        normalise_gold("risk", ["Suicidal-ish"], {})
    with pytest.raises(EvaluationError, match="neither inline JSON nor"):
        parse_label_map("no-such-file.json")
    # valid JSON that is not an object says so, not "neither JSON nor a file"
    for not_an_object in ("[1, 2]", '"depression"', "null"):
        with pytest.raises(EvaluationError, match="must be a JSON object"):
            parse_label_map(not_an_object)


def test_post_list_parsing_falls_back_without_losing_posts() -> None:
    assert parse_post_list("['one', 'two']") == ["one", "two"]
    broken = "['I can't go on', 'second post', 'third']"
    assert parse_post_list(broken) == ["I can't go on", "second post", "third"]
    assert parse_post_list("just text") == ["just text"]


def _result(
    labels: Sequence[str] = (), severity: str = "minimal", risk: str = "none"
) -> Classification:
    return Classification(
        relevant=bool(labels),
        relevance_score=0.9 if labels else 0.1,
        labels=tuple(LabelScore(lab, 0.8, ("model",)) for lab in labels),
        severity=SeverityResult(severity, 0.5),
        risk=RiskResult(risk, 0.7 if risk != "none" else 0.1),
        model_version="keyword-1",
    )


def test_user_risk_is_the_maximum_over_posts() -> None:
    worst = user_risk([_result(risk="indicator"), None, _result(risk="behavior"), _result()])
    assert worst is not None and worst.risk.level == "behavior"
    assert user_risk([None]) is None


class KeywordClassifier:
    """Deterministic fake: a label for each condition name that appears in the text."""

    version = "keyword-1"

    def predict(self, texts: Sequence[str]) -> list[Classification]:
        out = []
        for t in texts:
            labels = [c for c in ("depression", "anxiety") if c in t]
            risk = "ideation" if "die" in t else "none"
            out.append(_result(labels, "severe" if "die" in t else "mild", risk))
        return out


def test_evaluate_file_writes_json_markdown_and_confusion_png(tmp_path: Path) -> None:
    data = tmp_path / "labeled.csv"
    data.write_text(
        "text,label\n"
        "depression here,r/depression\n"
        "anxiety here,Anxious\n"
        "\"depression and anxiety\",\"['r/depression', 'Anxious']\"\n"
        "nothing,control\n",
        encoding="utf-8",
    )
    out = tmp_path / "report"
    report = evaluate_file(
        data,
        label_map='{"Anxious": "anxiety"}',
        task="conditions",
        modes=("hybrid",),
        out_dir=out,
        classifiers={"hybrid": KeywordClassifier()},
    )
    assert report["summary"]["hybrid/macro_f1"] == pytest.approx(1.0)
    saved = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert saved["sections"][0]["metrics"]["per_label"]["anxiety"]["support"] == 2
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| depression | 1.000 | 1.000 | 1.000 | 2 |" in md
    png = out / saved["sections"][0]["confusion_png"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000


def test_evaluate_file_risk_task_reports_balanced_accuracy_and_crisis_recall(
    tmp_path: Path,
) -> None:
    data = tmp_path / "risk.jsonl"
    rows = [
        {"text": "I want to die", "label": "Ideation"},
        {"text": "I want to die tonight", "label": "Behavior"},
        {"text": "a calm day", "label": "Supportive"},
        {"text": "rough week", "label": "Ideation"},
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    report = evaluate_file(
        data,
        task="risk",
        modes=("hybrid",),
        out_dir=tmp_path / "r",
        classifiers={"hybrid": KeywordClassifier()},
    )
    m = report["sections"][0]["metrics"]
    # none: 1/1, ideation: 1/2, behavior: 0/1 -> balanced accuracy 0.5
    assert m["balanced_accuracy"] == pytest.approx(0.5)
    assert m["crisis_recall"] == pytest.approx(2 / 3)
    assert (tmp_path / "r" / report["sections"][0]["confusion_png"]).stat().st_size > 0


def test_evaluate_file_names_missing_columns(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text("body,label\nhi,depression\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match="no column"):
        evaluate_file(data, out_dir=tmp_path / "o", classifiers={"hybrid": KeywordClassifier()})


@pytest.mark.parametrize(
    ("name", "body"),
    [
        # Fields too many in the second row: pandas' C parser fails the whole file, its
        # python parser without index_col=False shifts every row by a column.
        (
            "x.csv",
            'text,label\ndepression here,depression\n"a","b","c","d"\nanxiety here,anxiety\n',
        ),
        (
            "x.jsonl",
            '{"text": "depression here", "label": "depression"}\n{broken\n[1, 2]\n'
            '{"text": "anxiety here", "label": "anxiety"}\n',
        ),
    ],
    ids=["csv", "jsonl"],
)
def test_evaluate_file_skips_malformed_rows_and_counts_them(
    tmp_path: Path, name: str, body: str
) -> None:
    data = tmp_path / name
    data.write_text(body, encoding="utf-8")
    report = evaluate_file(
        data, out_dir=tmp_path / "o", classifiers={"hybrid": KeywordClassifier()}
    )
    assert report["rows"] == 2
    assert report["skipped_rows"] == (1 if name.endswith(".csv") else 2)
    per_label = report["sections"][0]["metrics"]["per_label"]
    assert per_label["depression"]["support"] == per_label["anxiety"]["support"] == 1
    assert report["summary"]["hybrid/macro_f1"] == pytest.approx(1.0)
    assert "skipped_rows" in (tmp_path / "o" / "report.md").read_text(encoding="utf-8")


def test_evaluate_file_without_rows_is_an_error_not_a_score_of_zero(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text("text,label\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match="no rows to evaluate"):
        evaluate_file(data, out_dir=tmp_path / "o", classifiers={"hybrid": KeywordClassifier()})
    assert not (tmp_path / "o" / "report.json").exists()


ARTIFACT = Path(__file__).resolve().parents[2] / "classifiers" / "artifacts" / "minilm-mh"


def _need_artifact() -> None:
    if not (ARTIFACT / "config.json").is_file() or not (ARTIFACT / "split.json").is_file():
        pytest.skip(f"student artifact not built at {ARTIFACT} (run `mindsignal train`)")


@pytest.mark.slow
def test_reddit_preset_compares_three_modes_and_scores_dev_sets(
    tmp_path: Path, shared_data: Path
) -> None:
    _need_artifact()
    from classifiers.evaluation import run_reddit_preset

    report = run_reddit_preset(
        artifact_dir=ARTIFACT, out_dir=tmp_path, shared_data=shared_data, limit=12
    )
    modes = [(s["name"], s["task"], s["mode"]) for s in report["sections"]]
    assert modes == [
        ("reddit-test", "conditions", "rules"),
        ("reddit-test", "conditions", "model"),
        ("reddit-test", "conditions", "hybrid"),
        # the same test posts against the shipped blind readings (classifiers/judged/test.jsonl)
        ("reddit-test-judged", "conditions", "rules"),
        ("reddit-test-judged", "conditions", "model"),
        ("reddit-test-judged", "conditions", "hybrid"),
        ("depression-severity-dev", "severity", "hybrid"),
        ("cssrs-users-dev", "risk", "hybrid"),
    ]
    assert report["sections"][-1]["aggregation"] == "max risk over a user's posts"
    # the held-out behavioural cases, for every mode
    assert report["behaviour"]["cases"] >= 150
    assert {"rules/behaviour_pass_rate", "hybrid/behaviour_pass_rate"} <= set(report["summary"])
    for section in report["sections"]:
        assert (tmp_path / section["confusion_png"]).stat().st_size > 0
    assert {"report.json", "report.md"} <= {p.name for p in tmp_path.iterdir()}


@pytest.mark.slow
def test_reddit_preset_skips_absent_dev_sets_with_a_note(tmp_path: Path) -> None:
    _need_artifact()
    from classifiers.evaluation import run_reddit_preset

    report = run_reddit_preset(
        artifact_dir=ARTIFACT, out_dir=tmp_path, shared_data=tmp_path / "absent", limit=6
    )
    assert len(report["sections"]) == 6  # three modes x (subreddit labels, judged labels)
    assert {"hybrid/macro_f1", "hybrid/judged_macro_f1"} <= set(report["summary"])
    assert any("severity dev set skipped" in n for n in report["notes"])
    assert any("C-SSRS dev set skipped" in n for n in report["notes"])


@pytest.mark.slow
def test_crisis_only_tuning_moves_only_the_crisis_numbers_and_meets_the_recall_goal() -> None:
    """On the shipped artifact's validation split (tuning never reads the test split)."""
    _need_artifact()
    import dataclasses

    from classifiers.evaluation import tune_fusion
    from classifiers.factory import load_classifier
    from classifiers.hybrid import CRISIS_SUPPORT_TFIDF_WEIGHT, CRISIS_SUPPORT_WEIGHT

    hybrid = load_classifier(ARTIFACT, mode="hybrid")
    start = hybrid.fusion.with_overrides(
        crisis_threshold=0.5,
        crisis_unsupported_threshold=None,
        crisis_support_weight=0.0,
        crisis_support_tfidf_weight=0.0,
        crisis_short_unsupported_threshold=None,
    )
    hybrid.fusion = start
    tuned, summary = tune_fusion(hybrid, ARTIFACT, conditions=False, say=lambda _: None)
    assert tuned.short_veto  # a product rule, set by every tuning
    assert summary["before"]["suicidality_recall"] < 0.94  # the deliberately bad start
    assert summary["after"]["suicidality_recall"] >= 0.94
    assert summary["after"]["macro_f1"] == summary["before"]["macro_f1"]
    assert tuned.crisis_threshold is not None and tuned.crisis_threshold < 0.5
    assert tuned.crisis_unsupported_threshold is not None
    assert tuned.crisis_unsupported_threshold >= tuned.crisis_threshold
    # the shipped artifact has the stacked members: the thresholds fit the combined score
    assert tuned.crisis_support_weight == CRISIS_SUPPORT_WEIGHT
    assert tuned.crisis_support_tfidf_weight == CRISIS_SUPPORT_TFIDF_WEIGHT
    assert hybrid.fusion == start  # the caller's classifier is left as it was
    assert tuned.max_length == hybrid.model.max_length  # the length the numbers hold at
    assert tuned.crisis_short_unsupported_threshold is not None
    assert tuned.crisis_short_unsupported_threshold >= tuned.crisis_unsupported_threshold
    unchanged = dataclasses.replace(
        tuned,
        crisis_threshold=0.5,
        crisis_unsupported_threshold=None,
        crisis_support_weight=0.0,
        crisis_support_tfidf_weight=0.0,
        crisis_short_unsupported_threshold=None,
        short_veto=start.short_veto,
    )
    assert unchanged == start


def test_judged_labels_load_and_a_malformed_row_names_its_line(tmp_path: Path) -> None:
    from classifiers.evaluation import EvaluationError, load_judged_labels

    good = tmp_path / "judged.jsonl"
    good.write_text(
        '{"id": "a", "conditions": ["depression", "anxiety"], "mental_health": true}\n'
        '{"id": "b", "conditions": [], "mental_health": false}\n',
        encoding="utf-8",
    )
    assert load_judged_labels(good) == {"a": ["depression", "anxiety"], "b": []}
    for n, bad_row in enumerate(('{"id": "c", "conditions": ["sadness"]}', "{oops"), start=2):
        bad = tmp_path / f"bad{n}.jsonl"
        bad.write_text(good.read_text() + bad_row + "\n", encoding="utf-8")
        with pytest.raises(EvaluationError, match=f"bad{n}.jsonl:3: malformed"):
            load_judged_labels(bad)
    with pytest.raises(EvaluationError, match="cannot read"):
        load_judged_labels(tmp_path / "missing.jsonl")
    # The shipped readings cover every validation and test post of the shipped artifact.
    from classifiers.evaluation import JUDGED_DIR

    assert len(load_judged_labels(JUDGED_DIR / "validation.jsonl")) == 1053
    assert len(load_judged_labels(JUDGED_DIR / "test.jsonl")) == 1053


@pytest.mark.slow
def test_fusion_tuned_on_judged_labels_and_the_subreddit_label_limit() -> None:
    """Validation split only; the judged readings replace the subreddit labels as the goal."""
    _need_artifact()
    from classifiers.evaluation import JUDGED_DIR, load_judged_labels, tune_fusion
    from classifiers.factory import load_classifier

    judged = load_judged_labels(JUDGED_DIR / "validation.jsonl")
    hybrid = load_classifier(ARTIFACT, mode="hybrid")
    hybrid.fusion = hybrid.fusion.with_overrides(rules_add_min=1.01, threshold_shift=0.0)
    _, summary = tune_fusion(hybrid, ARTIFACT, judged=judged, say=lambda _: None)
    assert summary["objective"] == "judged labels"
    assert summary["after"]["macro_f1"] > summary["before"]["macro_f1"]
    assert summary["after"]["suicidality_recall"] >= 0.94
    _, limited = tune_fusion(
        hybrid, ARTIFACT, judged=judged, distant_tolerance=0.0, say=lambda _: None
    )
    before, after = limited["before"], limited["after"]
    assert after["subreddit_macro_f1"] >= before["subreddit_macro_f1"] - 1e-9
    assert after["macro_f1"] <= summary["after"]["macro_f1"] + 1e-9
