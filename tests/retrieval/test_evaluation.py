"""Retrieval metrics on hand-checked examples, and the report over a real fixture store."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from retrieval.chroma_store import ChromaStore
from retrieval.evaluation import (
    EvalQuery,
    evaluate_store,
    graded_ndcg_at_k,
    judge_agreement,
    load_judgments,
    load_queries,
    mrr_at_k,
    ndcg_at_k,
    recall_at_k,
)


def test_metrics_on_hand_checked_rankings() -> None:
    ranked = ["a", "x", "b", "y", "z", "c"]
    assert recall_at_k(ranked, ["a", "b", "c"]) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, ["a", "b", "c", "d", "e", "f", "g"]) == pytest.approx(2 / 5)
    assert mrr_at_k(ranked, ["b"]) == pytest.approx(1 / 3)
    assert mrr_at_k(ranked, ["c"]) == 0.0  # rank 6 is outside the top 5
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at_k(ranked, ["a", "b"]) == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert ndcg_at_k(["a", "b"], ["a", "b"]) == pytest.approx(1.0)


def test_graded_ndcg_on_hand_checked_rankings() -> None:
    grades = {"a": 2, "b": 1, "c": 2, "x": 0}
    ideal = 3 + 3 / math.log2(3) + 1 / math.log2(4)  # gains 2**g - 1: 3, 3, 1
    # a (3) at rank 1, x (0) at rank 2, b (1) at rank 3; "u" is unjudged and counts 0
    assert graded_ndcg_at_k(["a", "x", "b", "u"], grades) == pytest.approx(
        (3 + 1 / math.log2(4)) / ideal
    )
    assert graded_ndcg_at_k(["a", "c", "b"], grades) == pytest.approx(1.0)
    assert graded_ndcg_at_k(["a"], {"a": 0}) == 0.0


def test_judge_agreement_counts_pooled_pairs() -> None:
    q = EvalQuery("q1", "t", (), None, None, relevant_ids=("a", "b"))
    other = EvalQuery("q2", "t", (), None, None, relevant_ids=("z",))
    agree = judge_agreement([q, other], {"q1": {"a": 2, "b": 1, "c": 2, "d": 0}})
    assert agree["queries"] == 1 and agree["pairs"] == 4
    assert agree["original_relevant_judged_2"] == 0.5
    assert agree["original_relevant_judged_1_or_2"] == 1.0
    assert agree["judged_relevant_per_query"] == 2.0
    # original [1, 1, 0, 0] vs judged [1, 0, 1, 0]: observed 0.5, expected 0.5 -> kappa 0
    assert agree["cohen_kappa"] == pytest.approx(0.0)


def test_malformed_judgment_rows_are_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "judgments_x.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"query_id": "q1", "grades": {"a": 2, "b": 0}, "judge": "j"}),
                "[1, 2]",
                json.dumps({"query_id": "q2", "grades": {"a": 3}}),
                json.dumps({"query_id": "q3", "grades": {"a": True}}),
                json.dumps({"query_id": "q4", "grades": {}}),
                json.dumps({"query_id": "q1", "grades": {"a": 1}}),
            ]
        ),
        encoding="utf-8",
    )
    loaded = load_judgments(str(tmp_path / "judgments_*.jsonl"))
    assert loaded.grades == {"q1": {"a": 2, "b": 0}}
    assert [e.line for e in loaded.errors] == [2, 3, 4, 5, 6]
    assert "grade of 'a'" in loaded.errors[1].message
    assert loaded.judges == ("j",)


def test_malformed_query_rows_are_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "queries_x.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "id": "ok",
                        "text": "t",
                        "conditions": ["anxiety"],
                        "severity": "mild",
                        "risk": "none",
                        "relevant_ids": ["a"],
                    }
                ),
                "{not json",
                json.dumps({"id": "no-rel", "text": "t", "relevant_ids": []}),
                json.dumps({"id": "bad-risk", "text": "t", "risk": "high", "relevant_ids": ["a"]}),
                json.dumps({"id": "ok", "text": "dup", "relevant_ids": ["a"]}),
            ]
        ),
        encoding="utf-8",
    )
    loaded = load_queries(str(tmp_path / "queries_*.jsonl"))
    assert [q.id for q in loaded.queries] == ["ok"]
    assert [e.line for e in loaded.errors] == [2, 3, 4, 5]


@pytest.mark.integration
@pytest.mark.slow
def test_report_over_a_real_store(fixture_store: ChromaStore, tmp_path: Path) -> None:
    rows = [
        {
            "id": "q1",
            "text": "I drink wine every night to switch off",
            "conditions": ["substance_use"],
            "severity": "mild",
            "risk": "none",
            "relevant_ids": ["sub-alcohol-reduction"],
        },
        {
            "id": "q2",
            "text": "I want to die and have a plan",
            "conditions": ["depression"],
            "severity": "severe",
            "risk": "ideation",
            "relevant_ids": ["sr-safety-plan", "sr-crisis-lines"],
        },
        {
            "id": "q3",
            "text": "racing heart in the supermarket",
            "conditions": ["anxiety"],
            "severity": "mild",
            "risk": "none",
            "relevant_ids": ["anx-breathing-panic", "no-such-passage"],
        },
    ]
    qfile = tmp_path / "queries_t.jsonl"
    qfile.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    report = evaluate_store(fixture_store, load_queries([qfile]))
    data = report.to_dict()

    assert set(data["metrics"]) == {"dense", "lexical", "hybrid"}
    hybrid = data["metrics"]["hybrid"]
    assert hybrid["crisis_queries"] == 1 and hybrid["safety_planning_top3"] == 1.0
    assert hybrid["recall@5"] > 0.5
    assert data["relevant_ids_not_in_store"] == ["no-such-passage"]
    assert data["per_query"]["hybrid"][0]["retrieved"][0] == "sub-alcohol-reduction"

    json_path, md_path = report.write(tmp_path / "out")
    assert json.loads(json_path.read_text())["queries"] == 3
    md = md_path.read_text()
    assert "| hybrid |" in md and "recall@5" in md and "no-such-passage" in md
    assert "pooled_judgments" not in data and "Pooled judgments" not in md

    # Pooled judgments: q1's passage stays relevant, q2 gains a graded-2 crisis passage.
    jfile = tmp_path / "judgments_t.jsonl"
    jfile.write_text(
        "\n".join(
            json.dumps(r)
            for r in (
                {
                    "query_id": "q1",
                    "grades": {"sub-alcohol-reduction": 2, "anx-breathing-panic": 0},
                },
                {"query_id": "q2", "grades": {"sr-safety-plan": 2, "sr-crisis-lines": 1}},
            )
        ),
        encoding="utf-8",
    )
    graded = evaluate_store(fixture_store, load_queries([qfile]), judgments=load_judgments([jfile]))
    gdata = graded.to_dict()
    pooled = gdata["pooled_judgments"]["metrics"]["hybrid"]
    assert pooled["queries"] == 2
    assert pooled["recall@5"] == 1.0  # both grade-2 passages are in their top 5
    assert 0.0 < pooled["judged@5"] < 1.0  # most of each top 5 was never judged
    assert gdata["pooled_judgments"]["agreement_with_original_labels"]["pairs"] == 4
    assert gdata["metrics"]["hybrid"]["recall@5"] == hybrid["recall@5"]  # targets unchanged
    assert "## Pooled judgments" in graded.to_markdown()
