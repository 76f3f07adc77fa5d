"""Experiment (not shipped): document expansion with example posts written for each passage.

Seven LLM helper agents wrote three short posts for each of the 270 passages, from the passage
alone (``knowledge_base/eval/example_posts.jsonl``; brief in ``EXAMPLE_POSTS.md``). They never
saw the evaluation queries. This script measures doc2query-style expansion with them: each
stored vector becomes the unit mean of the passage text's embedding (``--text``), its
situations' (``--situations``) and the mean of its posts' (``--posts``); ``--lexical`` lets
BM25 read the posts too. Each variant is ingested into a temporary store and scored on the
first query file (development), the second (held out), both, and the pooled judgments.

    python -m benchmarks.retrieval_expansion --variant 0.3,0.7,0,0 --variant 0.1,0.3,0.6,0

Writes ``benchmarks/results/retrieval_expansion.json``. Results are in the README.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import knowledge_base.ingest as ingest
import retrieval.hybrid as hybrid
from assistant.settings import PROJECT_ROOT, KnowledgeBaseSettings
from retrieval.chroma_store import ChromaStore, StoredDocument
from retrieval.embeddings import SentenceTransformerEmbeddings
from retrieval.evaluation import evaluate_store, load_judgments, load_queries

EVAL_DIR = PROJECT_ROOT / "knowledge_base" / "eval"
POSTS_FILE = EVAL_DIR / "example_posts.jsonl"
RESULTS = Path(__file__).resolve().parent / "results" / "retrieval_expansion.json"


def load_posts(path: Path = POSTS_FILE) -> dict[str, list[str]]:
    """Passage id -> its example posts."""
    posts: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            posts.setdefault(row["passage_id"], []).append(row["post"])
    return posts


def vector_recipe(
    posts: dict[str, list[str]], w_text: float, w_situations: float, w_posts: float
) -> Callable[..., list[list[float]]]:
    """A ``record_vectors`` replacement mixing text, situations and posts embeddings."""

    def record_vectors(
        embed: Callable[[list[str]], list[list[float]]],
        records: Sequence[ingest.IngestRecord],
    ) -> list[list[float]]:
        unit = ingest._unit
        text = unit(np.asarray(embed([r.text for r in records]), dtype=np.float32))
        sit = unit(
            np.asarray(embed([r.situation_text or r.text for r in records]), dtype=np.float32)
        )
        mixed = w_text * text + w_situations * sit
        flat = [(i, p) for i, r in enumerate(records) for p in posts.get(r.id, [])]
        if flat and w_posts:
            each = unit(np.asarray(embed([p for _, p in flat]), dtype=np.float32))
            mean = np.zeros_like(text)
            for (i, _), e in zip(flat, each, strict=True):
                mean[i] += e
            mixed += w_posts * unit(mean)
        return unit(mixed).tolist()

    return record_vectors


def run_variant(
    posts: dict[str, list[str]], weights: tuple[float, float, float], lexical: bool, root: Path
) -> dict[str, Any]:
    """Ingest one variant into a fresh store and score it."""
    plain_lexical_text = hybrid.lexical_text
    plain_vectors, plain_recipe = ingest.record_vectors, ingest.VECTOR_RECIPE

    def expanded(doc: StoredDocument) -> str:
        return plain_lexical_text(doc) + "\n" + "\n".join(posts.get(doc.id, []))

    ingest.record_vectors = vector_recipe(posts, *weights)  # type: ignore[assignment]
    ingest.VECTOR_RECIPE = "expansion:" + ":".join(map(str, weights))
    hybrid.lexical_text = expanded if lexical else plain_lexical_text  # type: ignore[assignment]
    try:
        store = ChromaStore(
            path=root / "_".join(map(str, weights)),
            collection="interventions",
            embeddings=SentenceTransformerEmbeddings(),
        )
        ingest.ingest_knowledge_base(store, KnowledgeBaseSettings())
        judgments = load_judgments([EVAL_DIR / "judgments_pooled.jsonl"])
        out: dict[str, Any] = {"weights": weights, "lexical_posts": lexical}
        for name, files in (
            ("B1", ["queries_B1.jsonl"]),
            ("B2", ["queries_B2.jsonl"]),
            ("all", ["queries_B1.jsonl", "queries_B2.jsonl"]),
        ):
            queries = load_queries([EVAL_DIR / f for f in files])
            report = evaluate_store(store, queries, judgments if name == "all" else None)
            out[name] = {m: round(r.recall_at_5, 4) for m, r in report.modes.items()}
            if name == "all":
                pooled = report.modes["hybrid"].pooled or {}
                out["pooled_recall@5"] = round(float(pooled.get("recall@5", 0.0)), 4)
        return out
    finally:
        hybrid.lexical_text = plain_lexical_text  # type: ignore[assignment]
        ingest.record_vectors, ingest.VECTOR_RECIPE = plain_vectors, plain_recipe


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--variant",
        action="append",
        default=None,
        help="text,situations,posts,lexical (e.g. 0.1,0.3,0.6,0); repeatable",
    )
    args = parser.parse_args(argv)
    posts = load_posts()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.variant or ["0.3,0.7,0,0", "0.1,0.3,0.6,0", "0.2,0.4,0.4,1"]:
            wt, ws, wp, lex = spec.split(",")
            row = run_variant(posts, (float(wt), float(ws), float(wp)), lex == "1", Path(tmp))
            print(json.dumps(row), flush=True)
            rows.append(row)
    RESULTS.write_text(
        json.dumps(
            {"created": datetime.now(UTC).isoformat(timespec="seconds"), "variants": rows},
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
