"""Pooled judging: pools over a real store, blind packets, and grades mapped back to ids."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from retrieval.chroma_store import ChromaStore
from retrieval.evaluation import EvalQuery, load_judgments
from retrieval.hybrid import HybridRetriever
from retrieval.pooling import KEYMAP_FILE, build_pools, merge_packets, write_packets

QUERIES = [
    EvalQuery(
        "q-wine",
        "I drink wine every night to switch off",
        ("substance_use",),
        "mild",
        "none",
        relevant_ids=("sub-alcohol-reduction", "ed-early-referral"),
    ),
    EvalQuery(
        "q-crisis",
        "I want to die and have a plan",
        ("depression",),
        "severe",
        "ideation",
        relevant_ids=("sr-safety-plan",),
    ),
]


def _judge(out_dir: Path, packet: Path, grade: int = 1) -> dict[str, list[str]]:
    """A stand-in judge: grades every candidate of the packet; returns the labels per query."""
    labels: dict[str, list[str]] = {}
    for key, label in re.findall(r"^--- (P\d+-Q\d+) / (C\d+) ---$", packet.read_text(), re.M):
        labels.setdefault(key, []).append(label)
    n = packet.stem.split("_")[1]
    rows = [{"query": k, "grades": {c: grade for c in cs}} for k, cs in labels.items()]
    (out_dir / f"out_{n}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return labels


@pytest.mark.integration
@pytest.mark.slow
def test_pool_packets_and_merge_round_trip(fixture_store: ChromaStore, tmp_path: Path) -> None:
    modes = {m: HybridRetriever(fixture_store, mode=m) for m in ("dense", "lexical", "hybrid")}
    pools = build_pools(
        {m: r.retrieve for m, r in modes.items()},
        QUERIES,
        depth=2,
        lookup=modes["hybrid"].passages_by_id,
    )
    # The labelled eating-disorder passage is no drink query's top 2, yet it is in the pool.
    assert "ed-early-referral" in pools.candidates["q-wine"]
    assert set(pools.candidates["q-crisis"]) >= {"sr-safety-plan"}
    assert all(len(set(c)) == len(c) for c in pools.candidates.values())
    again = build_pools({m: r.retrieve for m, r in modes.items()}, QUERIES, depth=2)
    assert again.candidates["q-crisis"] == pools.candidates["q-crisis"]  # seeded order
    assert "ed-early-referral" not in again.candidates["q-wine"]  # only the lookup added it

    packets = write_packets(pools, QUERIES, tmp_path, parts=2)
    text = packets[0].read_text() + packets[1].read_text()
    assert "I drink wine every night" in text and "suicide risk=ideation" in text
    # Blind: no passage id appears in a packet, only opaque labels.
    assert not any(pid in text for c in pools.candidates.values() for pid in c)

    for packet in packets:
        _judge(tmp_path, packet)
    merged = merge_packets(tmp_path)
    assert merged.errors == []
    assert merged.grades["q-wine"] == {pid: 1 for pid in pools.candidates["q-wine"]}
    jfile = tmp_path / "judgments_x.jsonl"
    jfile.write_text(merged.to_jsonl("test-judge"))
    assert load_judgments([jfile]).grades == merged.grades


def test_merge_refuses_partial_or_invalid_grades(tmp_path: Path) -> None:
    keymap = {
        "P1-Q01": {"query_id": "q1", "candidates": {"C1": "a", "C2": "b"}},
        "P1-Q02": {"query_id": "q2", "candidates": {"C1": "c"}},
        "P1-Q03": {"query_id": "q3", "candidates": {"C1": "d"}},
    }
    (tmp_path / KEYMAP_FILE).write_text(json.dumps(keymap))
    rows = [
        {"query": "P1-Q01", "grades": {"C1": 2}},  # C2 missing
        {"query": "P1-Q02", "grades": {"C1": 5}},
        {"query": "P9-Q99", "grades": {"C1": 1}},
        {"query": "P1-Q03", "grades": {"C1": 0}},
    ]
    (tmp_path / "out_1.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    merged = merge_packets(tmp_path)
    assert merged.grades == {"q3": {"d": 0}}
    joined = "\n".join(merged.errors)
    assert "missing ['C2']" in joined and "outside 0/1/2" in joined
    assert "unknown query" in joined and "not graded: P1-Q01, P1-Q02" in joined
