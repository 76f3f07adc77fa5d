"""Retrieval metrics on hand-checked examples, and the report over a real fixture store."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from retrieval.chroma_store import ChromaStore
from retrieval.evaluation import (
    evaluate_store,
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
