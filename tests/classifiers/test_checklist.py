"""Behavioural (CheckList-style) cases: loading, checking one prediction, running a classifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.base import Classification, LabelScore, RiskResult, SeverityResult
from classifiers.checklist import (
    BEHAVIOUR_DIR,
    CATEGORIES,
    BehaviourCase,
    CaseFileError,
    check_case,
    load_cases,
    run_behaviour,
)


def _pred(
    labels: tuple[str, ...] = (), risk: str = "none", relevant: bool = True
) -> Classification:
    return Classification(
        relevant=relevant,
        relevance_score=0.9 if relevant else 0.1,
        labels=tuple(LabelScore(lab, 0.8, ("model",)) for lab in labels),
        severity=SeverityResult("mild", 0.3),
        risk=RiskResult(risk, 0.7 if risk in ("ideation", "behavior", "attempt") else 0.1),
        model_version="test",
    )


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_check_case_names_each_kind_of_failure() -> None:
    case = BehaviourCase(
        "c1",
        "negation",
        "I'm not depressed, just tired.",
        crisis=False,
        relevant=False,
        present=("anxiety",),
        absent=("depression",),
    )
    assert check_case(case, _pred(("anxiety",), relevant=False)) == []
    kinds = [k for k, _ in check_case(case, _pred(("depression",), risk="ideation"))]
    assert kinds == ["false_crisis", "false_relevant", "missing_label", "wrong_label"]
    crisis = BehaviourCase("c2", "genuine_brief", "I keep thinking about ending it.", crisis=True)
    assert [k for k, _ in check_case(crisis, _pred(risk="indicator"))] == ["missed_crisis"]
    assert [k for k, _ in check_case(crisis, None)] == ["error"]
    # relevant null: either answer passes
    assert check_case(crisis, _pred(risk="ideation", relevant=False)) == []


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "x", "category": "sarcasm", "text": "t", "crisis": False}, "'category'"),
        ({"id": "x", "category": "negation", "text": " ", "crisis": False}, "'text'"),
        ({"id": "x", "category": "negation", "text": "t", "crisis": "no"}, "'crisis'"),
        (
            {"id": "x", "category": "negation", "text": "t", "crisis": False, "present": ["sad"]},
            "unknown condition",
        ),
        (
            {
                "id": "x",
                "category": "negation",
                "text": "t",
                "crisis": False,
                "present": ["ocd"],
                "absent": ["ocd"],
            },
            "both present and absent",
        ),
    ],
)
def test_a_malformed_case_names_its_file_line_and_problem(
    tmp_path: Path, row: dict, message: str
) -> None:
    good = {"id": "ok", "category": "everyday", "text": "Nice walk today.", "crisis": False}
    path = _write(tmp_path / "cases.jsonl", [good, row])
    with pytest.raises(CaseFileError, match=r"cases\.jsonl:2: .*" + message):
        load_cases(path)


def test_repeated_ids_empty_and_missing_files_are_errors(tmp_path: Path) -> None:
    row = {"id": "a", "category": "everyday", "text": "Nice walk.", "crisis": False}
    with pytest.raises(CaseFileError, match="repeated case id"):
        load_cases(_write(tmp_path / "dup.jsonl", [row, row]))
    with pytest.raises(CaseFileError, match="no behaviour cases"):
        load_cases(_write(tmp_path / "empty.jsonl", []))
    with pytest.raises(CaseFileError, match="cannot read"):
        load_cases(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("name", ["dev.jsonl", "test.jsonl", "fresh.jsonl"])
def test_shipped_case_files_load_and_cover_every_category(name: str) -> None:
    cases = load_cases(BEHAVIOUR_DIR / name)
    assert len(cases) >= 150
    assert {c.category for c in cases} == set(CATEGORIES)
    assert sum(c.crisis for c in cases) >= 20  # genuine crises guard against over-suppression


def test_rules_on_real_cases_pass_the_plain_ones_and_report_the_rest() -> None:
    from classifiers.factory import load_classifier

    rules = load_classifier(mode="rules")
    cases = [
        BehaviourCase(
            "n",
            "negation",
            "I'm not depressed at all, just busy with exams.",
            crisis=False,
            absent=("depression",),
        ),
        BehaviourCase(
            "t",
            "third_person",
            "My brother has bipolar and stopped sleeping again.",
            crisis=False,
            absent=("bipolar",),
        ),
        BehaviourCase("g", "genuine_brief", "I want to kill myself tonight.", crisis=True),
        # rules alone cannot see an eating disorder here: reported as a missing label
        BehaviourCase(
            "m",
            "genuine_brief",
            "dinner, then the bathroom, again. every night.",
            crisis=False,
            present=("eating_disorder",),
        ),
    ]
    result = run_behaviour({"rules": rules}, cases)["modes"]["rules"]
    assert result["pass_rate"] == pytest.approx(0.75)
    assert [f["id"] for f in result["failed"]] == ["m"]
    assert result["failures"]["missing_label"] == 1
    assert result["categories"]["genuine_brief"] == {"cases": 2, "pass_rate": 0.5}
