"""Pooled relevance judging for the retrieval test set (TREC-style pooling).

Sparse labels (three relevant passages per query, one annotator) under-count what a retriever
finds, so a second, blind judge grades a pool per query instead: the top ``depth`` of each mode
plus the originally labelled passages. This module writes the judging packets and reads the
judges' grades back; ``knowledge_base/eval/JUDGING.md`` has the procedure and the guidelines.

1. :func:`build_pools` runs every query through each retriever and unions the results.
2. :func:`write_packets` writes ``packet_<n>.txt`` files (the post, its assessment and each
   candidate's title, metadata and text under opaque labels C1, C2 ... in a seeded random
   order, so the judge cannot tell which mode found a passage or which ids were labelled)
   and ``keymap.json`` (opaque labels -> query and passage ids; never shown to a judge).
3. A judge writes ``out_<n>.jsonl``: ``{"query": "P1-Q01", "grades": {"C1": 2, "C2": 0}}``.
4. :func:`merge_packets` maps the grades back to ids; rows that miss or invent a candidate are
   errors, so a judgment file never holds a partly graded pool.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.base import RetrievalQuery, RetrievedPassage
from retrieval.evaluation import GRADES, EvalQuery

KEYMAP_FILE = "keymap.json"


@dataclass(frozen=True)
class Pools:
    """Candidate passage ids per query (judging order) and every candidate's passage."""

    candidates: dict[str, list[str]]
    passages: dict[str, RetrievedPassage]


def build_pools(
    retrievers: Mapping[str, Callable[[RetrievalQuery], list[RetrievedPassage]]],
    queries: Sequence[EvalQuery],
    depth: int = 10,
    lookup: Callable[[Sequence[str]], Mapping[str, RetrievedPassage]] | None = None,
) -> Pools:
    """Union of each retriever's top ``depth`` and the labelled ids, shuffled per query.

    Args:
        retrievers: Named retrieval functions (dense, lexical, hybrid ...).
        queries: The evaluation queries.
        depth: Passages taken from each retriever.
        lookup: Fetches passages by id, for labelled ids no retriever returned (without it,
            such ids are left out of the pool).
    """
    candidates: dict[str, list[str]] = {}
    passages: dict[str, RetrievedPassage] = {}
    for q in queries:
        pool: list[str] = []
        for retrieve in retrievers.values():
            for p in retrieve(q.to_query(depth)):
                passages.setdefault(p.id, p)
                if p.id not in pool:
                    pool.append(p.id)
        missing = [r for r in q.relevant_ids if r not in passages]
        if missing and lookup is not None:
            passages.update(lookup(missing))
        pool += [r for r in q.relevant_ids if r not in pool and r in passages]
        seed = int(hashlib.sha256(q.id.encode("utf-8")).hexdigest()[:8], 16)
        random.Random(seed).shuffle(pool)
        candidates[q.id] = pool
    return Pools(candidates, passages)


def write_packets(
    pools: Pools, queries: Sequence[EvalQuery], out_dir: Path, parts: int = 4
) -> list[Path]:
    """Write ``parts`` judging packets and ``keymap.json`` into ``out_dir``; returns the packets."""
    out_dir.mkdir(parents=True, exist_ok=True)
    by_id = {q.id: q for q in queries}
    order = sorted(pools.candidates)
    keymap: dict[str, dict[str, Any]] = {}
    paths: list[Path] = []
    for part in range(parts):
        lines: list[str] = []
        for j, qid in enumerate(order[part::parts], start=1):
            q = by_id[qid]
            key = f"P{part + 1}-Q{j:02d}"
            labels = {f"C{i}": pid for i, pid in enumerate(pools.candidates[qid], start=1)}
            keymap[key] = {"query_id": qid, "candidates": labels}
            lines += [
                f"=== QUERY {key} ===",
                f"Post: {q.text}",
                "Assessment given with the post: "
                f"conditions={', '.join(q.conditions) or 'none'}; severity={q.severity}; "
                f"suicide risk={q.risk}",
                "",
            ]
            for label, pid in labels.items():
                p = pools.passages[pid]
                m = p.metadata
                lines += [
                    f"--- {key} / {label} ---",
                    f"Title: {m.get('title')}",
                    f"Written for conditions: {m.get('conditions')}; severity levels: "
                    f"{m.get('severity')}; risk levels: {m.get('risk')}; intervention type: "
                    f"{m.get('intervention_type')}; audience: {m.get('audience')}",
                    f"Text: {p.text}",
                    "",
                ]
            lines.append("")
        path = out_dir / f"packet_{part + 1}.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
    (out_dir / KEYMAP_FILE).write_text(json.dumps(keymap, indent=1) + "\n", encoding="utf-8")
    return paths


@dataclass(frozen=True)
class MergedJudgments:
    """Grades by query id and passage id, and the judge rows that could not be used."""

    grades: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def to_jsonl(self, judge: str) -> str:
        return "".join(
            json.dumps({"query_id": qid, "judge": judge, "grades": dict(sorted(g.items()))}) + "\n"
            for qid, g in sorted(self.grades.items())
        )


def merge_packets(out_dir: Path) -> MergedJudgments:
    """Read the judges' ``out_*.jsonl`` in ``out_dir`` back into passage ids."""
    keymap = json.loads((out_dir / KEYMAP_FILE).read_text(encoding="utf-8"))
    merged = MergedJudgments()
    for path in sorted(out_dir.glob("out_*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            try:
                row = json.loads(line)
                key, grades = row["query"], row["grades"]
                entry = keymap[key]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                merged.errors.append(f"{where}: unreadable row or unknown query ({exc})")
                continue
            labels: dict[str, str] = entry["candidates"]
            if not isinstance(grades, dict) or set(grades) != set(labels):
                got = set(grades) if isinstance(grades, dict) else set()
                merged.errors.append(
                    f"{where}: {key} must grade exactly {len(labels)} candidates "
                    f"(missing {sorted(set(labels) - got)}, unknown {sorted(got - set(labels))})"
                )
                continue
            bad = {c: g for c, g in grades.items() if isinstance(g, bool) or g not in GRADES}
            if bad:
                merged.errors.append(f"{where}: {key} has grades outside 0/1/2: {bad}")
                continue
            qid = entry["query_id"]
            if qid in merged.grades:
                merged.errors.append(f"{where}: {key} graded twice")
                continue
            merged.grades[qid] = {labels[c]: int(g) for c, g in grades.items()}
    missing = sorted(
        k for k, e in keymap.items() if e["query_id"] not in merged.grades and e["candidates"]
    )
    if missing:
        merged.errors.append(f"not graded: {', '.join(missing[:20])}")
    return merged
