"""Retrieval evaluation: recall@5, MRR@5 and nDCG@5 for dense, lexical and hybrid retrieval.

Queries come from ``knowledge_base/eval/queries_*.jsonl``, one JSON object per line::

    {"id": "q-001", "text": "...", "conditions": ["depression"], "severity": "moderate",
     "risk": "none", "relevant_ids": ["dep-ba-001", "dep-gsh-002"]}

Definitions (binary relevance, top ``k`` = 5):

* recall@k = |relevant ∩ top k| / min(|relevant|, k)
* MRR@k = 1 / rank of the first relevant passage in the top k (0 if none)
* nDCG@k = DCG / ideal DCG with gain 1 per relevant passage and discount log2(rank + 1)
* safety@3 = share of queries with risk >= ideation that have a safety-planning passage in the
  top 3

The targets are measured on those ``relevant_ids``: written with the queries, before tuning, by
one annotator. Optional **pooled judgments** (``judgments_*.jsonl``, one object per query)::

    {"query_id": "q-001", "grades": {"dep-ba-001": 2, "dep-crisis-urgent-help": 1}, "judge": "..."}

grade every passage in a pool (the top 10 of each mode plus the original ids) 0 (not relevant),
1 (partially) or 2 (relevant), as in TREC-style pooling: they add, beside the pre-registered
numbers, recall@5 over the grade-2 passages, graded nDCG@5 (gain ``2 ** grade - 1``), the share
of the top 5 that was judged at all, and the judge's agreement with the original labels (Cohen's
kappa over the pooled pairs). Unjudged passages count as not relevant.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import logging
import math
import platform
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.labels import RISK_LEVELS, SEVERITY_LEVELS, risk_rank
from retrieval.base import RetrievalQuery, RetrievedPassage

logger = logging.getLogger(__name__)

K = 5
MODES: tuple[str, ...] = ("dense", "lexical", "hybrid")
TARGET_RECALL = 0.90
TARGET_SAFETY = 1.0


@dataclass(frozen=True)
class EvalQuery:
    """One labelled retrieval query."""

    id: str
    text: str
    conditions: tuple[str, ...]
    severity: str | None
    risk: str | None
    relevant_ids: tuple[str, ...]
    source: str = ""

    def to_query(self, k: int = K) -> RetrievalQuery:
        return RetrievalQuery(
            text=self.text,
            conditions=self.conditions,
            severity=self.severity,
            risk=self.risk,
            k=k,
        )

    @property
    def crisis(self) -> bool:
        return self.risk is not None and risk_rank(self.risk) >= risk_rank("ideation")


@dataclass(frozen=True)
class QueryFileError:
    """A query row that could not be used, and why."""

    file: str
    line: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message}


@dataclass(frozen=True)
class LoadedQueries:
    queries: list[EvalQuery] = field(default_factory=list)
    errors: list[QueryFileError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _jsonl_rows(
    pattern_or_paths: str | Iterable[Path | str], errors: list[QueryFileError]
) -> tuple[list[Path], Iterator[tuple[Path, int, Any]]]:
    """The files of a glob or path list, and their JSON rows as ``(path, line, row)``; an
    unreadable file or a line that is not JSON becomes an error in ``errors``."""
    if isinstance(pattern_or_paths, str):
        paths = [Path(p) for p in sorted(glob.glob(pattern_or_paths))]
    else:
        paths = [Path(p) for p in pattern_or_paths]

    def rows() -> Iterator[tuple[Path, int, Any]]:
        for path in paths:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(QueryFileError(str(path), 0, f"cannot read: {exc}"))
                continue
            for n, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    yield path, n, json.loads(line)
                except json.JSONDecodeError as exc:
                    errors.append(QueryFileError(str(path), n, str(exc)))

    return paths, rows()


def load_queries(pattern_or_paths: str | Iterable[Path | str]) -> LoadedQueries:
    """Read query files (a glob or paths); malformed rows become errors, the rest still load."""
    errors: list[QueryFileError] = []
    paths, rows = _jsonl_rows(pattern_or_paths, errors)
    out = LoadedQueries(errors=errors, files=[str(p) for p in paths])
    seen: set[str] = set()
    for path, n, row in rows:
        try:
            q = _parse_query(row, path.name)
        except (ValueError, TypeError, KeyError) as exc:
            errors.append(QueryFileError(str(path), n, str(exc)))
            continue
        if q.id in seen:
            errors.append(QueryFileError(str(path), n, f"duplicate query id {q.id!r}"))
            continue
        seen.add(q.id)
        out.queries.append(q)
    errors.sort(key=lambda e: (e.file, e.line))
    return out


def _parse_query(row: Any, source: str) -> EvalQuery:
    if not isinstance(row, dict):
        raise TypeError("a query row must be a JSON object")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'text' must be a non-empty string")
    relevant = row.get("relevant_ids")
    if not isinstance(relevant, list) or not relevant:
        raise ValueError("'relevant_ids' must be a non-empty list")
    severity = row.get("severity") or None
    if severity is not None and severity not in SEVERITY_LEVELS:
        raise ValueError(f"unknown severity {severity!r}")
    risk = row.get("risk") or None
    if risk is not None and risk not in RISK_LEVELS:
        raise ValueError(f"unknown risk {risk!r}")
    conditions = row.get("conditions") or []
    if isinstance(conditions, str):
        conditions = [conditions]
    return EvalQuery(
        id=str(row["id"]),
        text=text,
        conditions=tuple(str(c) for c in conditions),
        severity=severity,
        risk=risk,
        relevant_ids=tuple(str(r) for r in relevant),
        source=source,
    )


@dataclass(frozen=True)
class LoadedJudgments:
    """Pooled graded judgments: query id -> passage id -> grade (0, 1 or 2)."""

    grades: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[QueryFileError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    judges: tuple[str, ...] = ()


GRADES = (0, 1, 2)
RELEVANT_GRADE = 2


def load_judgments(pattern_or_paths: str | Iterable[Path | str]) -> LoadedJudgments:
    """Read judgment files (a glob or paths); malformed rows become errors, the rest still load."""
    errors: list[QueryFileError] = []
    paths, rows = _jsonl_rows(pattern_or_paths, errors)
    grades: dict[str, dict[str, int]] = {}
    judges: set[str] = set()
    for path, n, row in rows:
        try:
            qid, row_grades = _parse_judgment(row)
        except (ValueError, TypeError) as exc:
            errors.append(QueryFileError(str(path), n, str(exc)))
            continue
        if qid in grades:
            errors.append(QueryFileError(str(path), n, f"duplicate query id {qid!r}"))
            continue
        grades[qid] = row_grades
        if isinstance(row.get("judge"), str):
            judges.add(row["judge"])
    errors.sort(key=lambda e: (e.file, e.line))
    return LoadedJudgments(grades, errors, [str(p) for p in paths], tuple(sorted(judges)))


def _parse_judgment(row: Any) -> tuple[str, dict[str, int]]:
    if not isinstance(row, dict):
        raise TypeError("a judgment row must be a JSON object")
    qid = row.get("query_id")
    if not isinstance(qid, str) or not qid:
        raise ValueError("'query_id' must be a non-empty string")
    raw = row.get("grades")
    if not isinstance(raw, dict) or not raw:
        raise ValueError("'grades' must be a non-empty object of passage id -> 0, 1 or 2")
    out: dict[str, int] = {}
    for pid, grade in raw.items():
        if isinstance(grade, bool) or grade not in GRADES:
            raise ValueError(f"grade of {pid!r} must be 0, 1 or 2, not {grade!r}")
        out[str(pid)] = int(grade)
    return qid, out


# ---- metrics -------------------------------------------------------------------------------
def recall_at_k(retrieved: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    """|relevant ∩ top k| / min(|relevant|, k)."""
    rel = set(relevant)
    if not rel:
        return 0.0
    return len(rel & set(retrieved[:k])) / min(len(rel), k)


def mrr_at_k(retrieved: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    """Reciprocal rank of the first relevant id in the top k (0 if none)."""
    rel = set(relevant)
    for rank, doc_id in enumerate(retrieved[:k], start=1):
        if doc_id in rel:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(retrieved: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    """Binary-gain nDCG over the top k."""
    rel = set(relevant)
    if not rel:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(retrieved[:k]) if d in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), k)))
    return dcg / ideal


def graded_ndcg_at_k(retrieved: Sequence[str], grades: Mapping[str, int], k: int = K) -> float:
    """nDCG over the top k with gain ``2 ** grade - 1`` (unjudged: 0); ideal from all grades."""
    gains = sorted((2**g - 1 for g in grades.values() if g > 0), reverse=True)[:k]
    if not gains:
        return 0.0
    dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(retrieved[:k]))
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    return dcg / ideal


def judge_agreement(
    queries: Sequence[EvalQuery], judgments: Mapping[str, Mapping[str, int]]
) -> dict[str, Any]:
    """How the pooled judge's grade-2 calls agree with the original ``relevant_ids``.

    Over every judged (query, passage) pair of the queries both sources cover: Cohen's kappa of
    "original relevant" vs "judged 2", and the share of the original relevant ids the judge
    graded 2 and at least 1.
    """
    from sklearn.metrics import cohen_kappa_score

    original: list[int] = []
    judged: list[int] = []
    orig_grades: list[int] = []
    per_query_relevant: list[int] = []
    for q in queries:
        grades = judgments.get(q.id)
        if not grades:
            continue
        rel = set(q.relevant_ids)
        per_query_relevant.append(sum(g >= RELEVANT_GRADE for g in grades.values()))
        for pid, g in grades.items():
            original.append(int(pid in rel))
            judged.append(int(g >= RELEVANT_GRADE))
        orig_grades += [grades[r] for r in rel if r in grades]
    if not original:
        return {"queries": 0}
    kappa = float(cohen_kappa_score(original, judged)) if len(set(original + judged)) > 1 else 1.0
    return {
        "queries": len(per_query_relevant),
        "pairs": len(original),
        "cohen_kappa": round(kappa, 4),
        "original_relevant_judged_2": round(
            sum(g == 2 for g in orig_grades) / max(len(orig_grades), 1), 4
        ),
        "original_relevant_judged_1_or_2": round(
            sum(g >= 1 for g in orig_grades) / max(len(orig_grades), 1), 4
        ),
        "judged_relevant_per_query": round(sum(per_query_relevant) / len(per_query_relevant), 2),
    }


# ---- running -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModeResult:
    """Metrics of one retrieval mode."""

    mode: str
    recall_at_5: float
    mrr_at_5: float
    ndcg_at_5: float
    safety_at_3: float | None
    crisis_queries: int
    mean_ms: float
    per_query: list[dict[str, Any]]
    #: Means over the queries with pooled judgments (``None`` without judgments).
    pooled: dict[str, float] | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "recall@5": round(self.recall_at_5, 4),
            "mrr@5": round(self.mrr_at_5, 4),
            "ndcg@5": round(self.ndcg_at_5, 4),
            "safety_planning_top3": None
            if self.safety_at_3 is None
            else round(self.safety_at_3, 4),
            "crisis_queries": self.crisis_queries,
            "mean_ms": round(self.mean_ms, 2),
            **({"pooled": self.pooled} if self.pooled is not None else {}),
        }


def evaluate_mode(
    mode: str,
    retrieve: Callable[[RetrievalQuery], list[RetrievedPassage]],
    queries: Sequence[EvalQuery],
    k: int = K,
    judgments: Mapping[str, Mapping[str, int]] | None = None,
) -> ModeResult:
    """Run every query through one retriever and score it (also on ``judgments`` if given)."""
    recalls, mrrs, ndcgs, safety_hits, per_query = [], [], [], [], []
    pooled_rows: list[tuple[float, float, float]] = []
    elapsed = 0.0
    for q in queries:
        start = time.perf_counter()
        found = retrieve(q.to_query(k))
        elapsed += time.perf_counter() - start
        ids = [p.id for p in found]
        r, m, n = (
            recall_at_k(ids, q.relevant_ids, k),
            mrr_at_k(ids, q.relevant_ids, k),
            ndcg_at_k(ids, q.relevant_ids, k),
        )
        recalls.append(r)
        mrrs.append(m)
        ndcgs.append(n)
        row: dict[str, Any] = {
            "id": q.id,
            "recall@5": round(r, 4),
            "mrr@5": round(m, 4),
            "ndcg@5": round(n, 4),
            "retrieved": ids,
            "relevant": list(q.relevant_ids),
            "missed": [d for d in q.relevant_ids if d not in ids][:k],
        }
        grades = (judgments or {}).get(q.id)
        if grades:
            judged_relevant = [d for d, g in grades.items() if g >= RELEVANT_GRADE]
            pr = recall_at_k(ids, judged_relevant, k)
            pn = graded_ndcg_at_k(ids, grades, k)
            cover = sum(d in grades for d in ids[:k]) / max(len(ids[:k]), 1)
            pooled_rows.append((pr, pn, cover))
            row.update({"pooled_recall@5": round(pr, 4), "pooled_ndcg@5": round(pn, 4)})
        if q.crisis:
            top3_types = [str(p.metadata.get("intervention_type")) for p in found[:3]]
            ok = "safety_planning" in top3_types
            safety_hits.append(ok)
            row["safety_planning_top3"] = ok
        per_query.append(row)
    n_q = max(len(queries), 1)
    return ModeResult(
        mode=mode,
        recall_at_5=sum(recalls) / n_q,
        mrr_at_5=sum(mrrs) / n_q,
        ndcg_at_5=sum(ndcgs) / n_q,
        safety_at_3=(sum(safety_hits) / len(safety_hits)) if safety_hits else None,
        crisis_queries=len(safety_hits),
        mean_ms=elapsed / n_q * 1000,
        per_query=per_query,
        pooled=_pooled_means(pooled_rows) if judgments is not None else None,
    )


def _pooled_means(rows: Sequence[tuple[float, float, float]]) -> dict[str, float]:
    n = max(len(rows), 1)
    return {
        "queries": len(rows),
        "recall@5": round(sum(r[0] for r in rows) / n, 4),
        "ndcg@5": round(sum(r[1] for r in rows) / n, 4),
        "judged@5": round(sum(r[2] for r in rows) / n, 4),
    }


@dataclass(frozen=True)
class EvalReport:
    """Results of all modes plus what was evaluated."""

    modes: dict[str, ModeResult]
    queries: LoadedQueries
    corpus_size: int
    created: str
    unknown_relevant: list[str]
    judgments: LoadedJudgments | None = None
    agreement: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        hybrid = self.modes.get("hybrid")
        out = {
            "created": self.created,
            "machine": f"{platform.node()} ({platform.machine()}, {platform.system()})",
            "corpus_size": self.corpus_size,
            "query_files": self.queries.files,
            "queries": len(self.queries.queries),
            "query_errors": [e.to_dict() for e in self.queries.errors],
            "relevant_ids_not_in_store": self.unknown_relevant,
            "targets": {"hybrid_recall@5": TARGET_RECALL, "safety_planning_top3": TARGET_SAFETY},
            "targets_met": {
                "hybrid_recall@5": bool(hybrid and hybrid.recall_at_5 >= TARGET_RECALL),
                "safety_planning_top3": bool(
                    hybrid and (hybrid.safety_at_3 is None or hybrid.safety_at_3 >= TARGET_SAFETY)
                ),
            },
            "metrics": {name: r.summary() for name, r in self.modes.items()},
            "per_query": {name: r.per_query for name, r in self.modes.items()},
        }
        if self.judgments is not None:
            out["pooled_judgments"] = {
                "files": self.judgments.files,
                "judges": list(self.judgments.judges),
                "errors": [e.to_dict() for e in self.judgments.errors],
                "agreement_with_original_labels": self.agreement,
                "metrics": {name: r.pooled for name, r in self.modes.items()},
            }
        return out

    def to_markdown(self) -> str:
        d = self.to_dict()
        lines = [
            "# Retrieval evaluation",
            "",
            f"- Date: {self.created}",
            f"- Machine: {d['machine']}",
            f"- Corpus: {self.corpus_size} passages in the store",
            f"- Queries: {len(self.queries.queries)} from {len(self.queries.files)} file(s)"
            + (
                f"; {len(self.queries.errors)} malformed row(s) skipped"
                if self.queries.errors
                else ""
            ),
            "",
            "| mode | recall@5 | MRR@5 | nDCG@5 | safety-planning in top 3 (risk >= ideation) | mean ms |",
            "|---|---|---|---|---|---|",
        ]
        for name, r in self.modes.items():
            s = r.summary()
            safety = (
                "n/a"
                if s["safety_planning_top3"] is None
                else f"{s['safety_planning_top3']:.0%} of {r.crisis_queries}"
            )
            lines.append(
                f"| {name} | {s['recall@5']:.3f} | {s['mrr@5']:.3f} | {s['ndcg@5']:.3f} | {safety} | {s['mean_ms']:.1f} |"
            )
        met = d["targets_met"]
        lines += [
            "",
            f"Targets: hybrid recall@5 >= {TARGET_RECALL} ({'met' if met['hybrid_recall@5'] else 'NOT met'}); "
            f"safety planning in top 3 for every risk >= ideation query "
            f"({'met' if met['safety_planning_top3'] else 'NOT met'}).",
        ]
        lines += self._pooled_markdown()
        if self.unknown_relevant:
            lines += [
                "",
                f"Relevant ids not in the store ({len(self.unknown_relevant)}): "
                + ", ".join(self.unknown_relevant[:30]),
            ]
        hybrid = self.modes.get("hybrid")
        if hybrid:
            worst = sorted(hybrid.per_query, key=lambda r: (r["recall@5"], r["mrr@5"]))[:10]
            worst = [w for w in worst if w["recall@5"] < 1.0]
            if worst:
                lines += ["", "## Hybrid: queries with the lowest recall@5", ""]
                lines += ["| query | recall@5 | missed | retrieved |", "|---|---|---|---|"]
                for w in worst:
                    lines.append(
                        f"| {w['id']} | {w['recall@5']:.2f} | {', '.join(w['missed'])} | {', '.join(w['retrieved'])} |"
                    )
        if self.queries.errors:
            lines += ["", "## Malformed query rows", ""]
            lines += [f"- {e.file}:{e.line}: {e.message}" for e in self.queries.errors[:50]]
        return "\n".join(lines) + "\n"

    def _pooled_markdown(self) -> list[str]:
        if self.judgments is None:
            return []
        agree = self.agreement or {}
        lines = [
            "",
            "## Pooled judgments (second annotator)",
            "",
            f"{len(self.judgments.grades)} queries judged in "
            f"{', '.join(Path(f).name for f in self.judgments.files)}"
            + (f" by {', '.join(self.judgments.judges)}" if self.judgments.judges else "")
            + ": every passage in the pool (top 10 of each mode plus the original ids) graded "
            "0/1/2, blind to the system and to the original labels. Relevant = grade 2. The "
            "targets above stay measured on the original labels.",
            "",
            "| mode | recall@5 (grade 2) | graded nDCG@5 | judged share of top 5 |",
            "|---|---|---|---|",
        ]
        for name, r in self.modes.items():
            if r.pooled:
                lines.append(
                    f"| {name} | {r.pooled['recall@5']:.3f} | {r.pooled['ndcg@5']:.3f} "
                    f"| {r.pooled['judged@5']:.0%} |"
                )
        if agree.get("queries"):
            lines += [
                "",
                f"Agreement with the original labels over {agree['pairs']} pooled pairs: Cohen's "
                f"kappa {agree['cohen_kappa']:.2f}; the judge graded "
                f"{agree['original_relevant_judged_2']:.0%} of the original relevant ids 2 and "
                f"{agree['original_relevant_judged_1_or_2']:.0%} at least 1, and found "
                f"{agree['judged_relevant_per_query']:.1f} grade-2 passages per query "
                "(the original labels list about 3).",
            ]
        if self.judgments.errors:
            lines += [f"- {e.file}:{e.line}: {e.message}" for e in self.judgments.errors[:20]]
        return lines

    def write(self, output_dir: Path) -> tuple[Path, Path]:
        """Write ``retrieval_eval.json`` and ``retrieval_eval.md``; returns their paths."""
        output_dir.mkdir(parents=True, exist_ok=True)
        json_path = output_dir / "retrieval_eval.json"
        md_path = output_dir / "retrieval_eval.md"
        json_path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        md_path.write_text(self.to_markdown(), encoding="utf-8")
        return json_path, md_path


def run_evaluation(
    retrievers: Mapping[str, Callable[[RetrievalQuery], list[RetrievedPassage]]],
    queries: LoadedQueries,
    store_ids: set[str] | None = None,
    k: int = K,
    judgments: LoadedJudgments | None = None,
) -> EvalReport:
    """Evaluate each named retriever (e.g. dense, lexical, hybrid) on the queries, and on the
    pooled ``judgments`` when given."""
    if not queries.queries:
        raise ValueError(
            "no usable evaluation queries"
            + (f" ({len(queries.errors)} malformed rows)" if queries.errors else "")
        )
    grades = judgments.grades if judgments is not None else None
    modes = {
        name: evaluate_mode(name, fn, queries.queries, k, grades) for name, fn in retrievers.items()
    }
    unknown: list[str] = []
    if store_ids is not None:
        unknown = sorted({r for q in queries.queries for r in q.relevant_ids} - store_ids)
    return EvalReport(
        modes=modes,
        queries=queries,
        corpus_size=len(store_ids) if store_ids is not None else 0,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        unknown_relevant=unknown,
        judgments=judgments,
        agreement=judge_agreement(queries.queries, grades) if grades is not None else None,
    )


def evaluate_store(
    store: Any,
    queries: LoadedQueries,
    judgments: LoadedJudgments | None = None,
    **retriever_kwargs: Any,
) -> EvalReport:
    """Build dense, lexical and hybrid retrievers over one store and evaluate them."""
    from retrieval.hybrid import HybridRetriever

    retrievers = {
        mode: HybridRetriever(store, mode=mode, **retriever_kwargs).retrieve  # type: ignore[arg-type]
        for mode in MODES
    }
    return run_evaluation(
        retrievers, queries, store_ids=set(store.get_hashes()), judgments=judgments
    )
