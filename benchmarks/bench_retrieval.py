"""Benchmark of ingestion and retrieval (Chroma + BM25 + MMR) at the real corpus size and at 10,000.

Measures, on this machine:

* ingest time of the real corpus (``knowledge_base/passages``) into a fresh on-disk store;
* ingest time of N synthetic passages (default 10,000): sentences of the real passages shuffled
  into new 60-150 word texts, with valid metadata drawn from the real passages;
* warm query latency p50/p95 of ``HybridRetriever.retrieve`` (query embedding included, the model
  and BM25 index already loaded) at both sizes, over the evaluation queries' texts and labels;
* store size on disk at both sizes.

Writes ``benchmarks/results/retrieval.json`` and ``retrieval.md``. ``MINDSIGNAL_BENCH_N`` sets N.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.settings import PROJECT_ROOT, KnowledgeBaseSettings
from benchmarks.common import machine
from knowledge_base.ingest import IngestRecord, ingest_knowledge_base, passage_record
from knowledge_base.loader import load_passages
from retrieval.base import RetrievalQuery
from retrieval.chroma_store import ChromaStore
from retrieval.embeddings import SentenceTransformerEmbeddings
from retrieval.evaluation import load_queries
from retrieval.hybrid import HybridRetriever

RESULTS = Path(__file__).resolve().parent / "results"
PASSAGES = PROJECT_ROOT / "knowledge_base" / "passages"
QUERIES = str(PROJECT_ROOT / "knowledge_base" / "eval" / "queries_*.jsonl")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[idx]


def _queries(limit: int = 100) -> list[RetrievalQuery]:
    loaded = load_queries(QUERIES)
    qs = [q.to_query() for q in loaded.queries]
    if not qs:
        qs = [
            RetrievalQuery(
                "I can't sleep and I feel hopeless", ("depression",), "moderate", "none"
            ),
            RetrievalQuery("panic attacks on the train", ("anxiety",), "mild", "none"),
            RetrievalQuery("I want to end it all", ("depression",), "severe", "ideation"),
        ]
    return (qs * (limit // len(qs) + 1))[:limit]


def _latency(retriever: HybridRetriever, queries: list[RetrievalQuery]) -> dict[str, float]:
    retriever.warm_up()
    for q in queries[:5]:
        retriever.retrieve(q)  # warm caches (BM25 masks, tokenizer)
    times = []
    for q in queries:
        start = time.perf_counter()
        retriever.retrieve(q)
        times.append((time.perf_counter() - start) * 1000)
    return {
        "queries": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(_percentile(times, 95), 2),
        "max_ms": round(max(times), 2),
    }


def _latency_cached(retriever: HybridRetriever, queries: list[RetrievalQuery]) -> dict[str, float]:
    """Latency of everything but the query embedding (vectors computed beforehand)."""
    store = retriever.store
    cache = {}
    for q in queries:
        text = retriever.build_query_texts(q)[0]
        cache[text] = store.embed_query(text)
    original = store.embed_query
    store.embed_query = lambda text: cache.get(text) or original(text)  # type: ignore[method-assign]
    try:
        return _latency(retriever, queries)
    finally:
        store.embed_query = original  # type: ignore[method-assign]


def snap_docs(store: ChromaStore) -> list[Any]:
    return store.get_all(with_embeddings=True).documents


def snap_vecs(store: ChromaStore) -> Any:
    return store.get_all(with_embeddings=True).embeddings


def _embed_latency(
    embeddings: SentenceTransformerEmbeddings, queries: list[RetrievalQuery]
) -> float:
    times = []
    for q in queries:
        start = time.perf_counter()
        embeddings.embed_query(HybridRetriever.key_text(q.text))
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def synthetic_records(n: int, seed: int = 13) -> list[tuple[IngestRecord, str]]:
    """N varied passages built from the real corpus: shuffled sentence mixes, real metadata."""
    loaded = load_passages([PASSAGES], base=PASSAGES)
    if not loaded.passages:
        raise RuntimeError(f"no passages under {PASSAGES} to build synthetic ones from")
    rng = random.Random(seed)
    by_condition: dict[str, list[str]] = {}
    for p in loaded.passages:
        sents = [s.strip() for s in re.split(r"(?<=[.!?])\s+", p.text) if s.strip()]
        by_condition.setdefault(p.conditions[0], []).extend(sents)
    records = []
    for i in range(n):
        template = rng.choice(loaded.passages)
        pool = by_condition[template.conditions[0]]
        words: list[str] = []
        target = rng.randint(60, 150)
        while len(words) < target:
            words.extend(rng.choice(pool).split())
        text = " ".join(words[: target + 20])
        synth = template.model_copy(update={"id": f"syn-{i:05d}", "text": text})
        records.append(
            (passage_record(synth, f"synthetic/{i}.md", "all-MiniLM-L6-v2"), template.id)
        )
    return records


def main() -> dict[str, Any]:
    n_synth = int(os.environ.get("MINDSIGNAL_BENCH_N", "10000"))
    embeddings = SentenceTransformerEmbeddings()
    t = time.perf_counter()
    embeddings.warm_up()
    model_load_s = time.perf_counter() - t
    queries = _queries()
    out: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()}: {machine()['cpu'] or platform.machine()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "model_load_s": round(model_load_s, 2),
    }
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        # Real corpus.
        store = ChromaStore(path=Path(tmp) / "real", embeddings=embeddings)
        t = time.perf_counter()
        report = ingest_knowledge_base(store, KnowledgeBaseSettings(passages_dir=PASSAGES))
        real_ingest = time.perf_counter() - t
        t = time.perf_counter()
        again = ingest_knowledge_base(store, KnowledgeBaseSettings(passages_dir=PASSAGES))
        reingest = time.perf_counter() - t
        out["real"] = {
            "passages": store.count(),
            "ingest_s": round(real_ingest, 2),
            "passages_per_s": round(report.added / real_ingest, 1) if real_ingest else None,
            "reingest_unchanged_s": round(reingest, 3),
            "reingest_changed": again.changed,
            "size_bytes": store.size_on_disk(),
            "latency": _latency(HybridRetriever(store), queries),
            "latency_without_query_embedding": _latency_cached(HybridRetriever(store), queries),
            "query_embedding_p50_ms": _embed_latency(embeddings, queries),
        }
        print(f"real corpus: {json.dumps(out['real'])}", flush=True)
        _write(out)  # keep the real-corpus numbers even if the long synthetic run is cut short

        # Synthetic corpus. Embedding 10,000 passages on a shared 2-core machine takes most of
        # an hour, so by default a sample is embedded for real (its rate gives the embedding
        # time) and the rest get their template passage's vector plus noise: Chroma's HNSW and
        # BM25 costs depend on the number of passages, not on the exact vectors.
        # MINDSIGNAL_BENCH_EMBED_ALL=1 embeds all of them.
        real_vectors = {d.id: v for d, v in zip(snap_docs(store), snap_vecs(store), strict=True)}
        embed_all = os.environ.get("MINDSIGNAL_BENCH_EMBED_ALL") == "1"
        n_sample = (
            n_synth
            if embed_all
            else min(n_synth, int(os.environ.get("MINDSIGNAL_BENCH_SAMPLE", "256")))
        )
        pairs = synthetic_records(n_synth)
        records = [r for r, _ in pairs]
        t = time.perf_counter()
        sample_vectors = embeddings.embed_documents([r.text for r in records[:n_sample]])
        embed_s = time.perf_counter() - t
        rate = n_sample / embed_s
        rng = np.random.default_rng(7)
        vectors: list[Any] = list(sample_vectors)
        for _, template_id in pairs[n_sample:]:
            v = np.asarray(real_vectors[template_id]) + rng.normal(
                0, 0.02, len(real_vectors[template_id])
            )
            vectors.append((v / np.linalg.norm(v)).tolist())

        store = ChromaStore(path=Path(tmp) / "synthetic", embeddings=embeddings)
        store.ensure_collection()
        t = time.perf_counter()
        for i in range(0, len(records), 500):
            batch = records[i : i + 500]
            store.upsert(
                [r.id for r in batch],
                [r.text for r in batch],
                [r.metadata for r in batch],
                vectors=vectors[i : i + 500],
            )
        store.mark_changed()
        write_s = time.perf_counter() - t
        retriever = HybridRetriever(store)
        t = time.perf_counter()
        retriever.warm_up()
        index_build = time.perf_counter() - t
        out["synthetic"] = {
            "passages": store.count(),
            "embedded_for_real": n_sample,
            "embedding_passages_per_s": round(rate, 1),
            "chroma_write_s": round(write_s, 2),
            "ingest_s": round(n_synth / rate + write_s, 1)
            if not embed_all
            else round(embed_s + write_s, 1),
            "ingest_s_is_estimate": not embed_all,
            "passages_per_s": round(n_synth / (n_synth / rate + write_s), 1),
            "bm25_index_build_s": round(index_build, 2),
            "size_bytes": store.size_on_disk(),
            # Chroma compacts its log in the background after a large write; the first pass
            # right after 10,000 upserts is reported separately from the settled store.
            "latency_right_after_write": _latency(retriever, queries),
            "latency_without_query_embedding": _latency_cached(retriever, queries),
            "latency": _latency(retriever, queries),
        }
        print(f"synthetic corpus: {json.dumps(out['synthetic'])}", flush=True)

    _write(out)
    return out


def _write(out: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "retrieval.md").write_text(_markdown(out), encoding="utf-8")


def _markdown(out: dict[str, Any]) -> str:
    real = out["real"]
    syn = out.get("synthetic") or {
        "passages": "not run",
        "ingest_s": "-",
        "passages_per_s": "-",
        "size_bytes": 0,
        "bm25_index_build_s": "-",
        "latency": {"p50_ms": "-", "p95_ms": "-"},
    }
    rows = [
        "# Retrieval benchmark",
        "",
        f"- Date: {out['date']}",
        f"- Machine: {out['machine']}",
        f"- Embedding model load: {out['model_load_s']} s (excluded from latencies)",
        "",
        "| corpus | passages | ingest s | passages/s | size on disk MB | query p50 ms | query p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in (("real", real), ("synthetic", syn)):
        rows.append(
            f"| {name} | {r['passages']} | {r['ingest_s']} | {r['passages_per_s']} | "
            f"{(r['size_bytes'] or 0) / 1e6:.1f} | {r['latency']['p50_ms']} | {r['latency']['p95_ms']} |"
        )
    rows += [
        "",
        f"Re-ingest of the unchanged real corpus: {real['reingest_unchanged_s']} s "
        f"(changed anything: {real['reingest_changed']}).",
        f"Query embedding alone, p50: {real['query_embedding_p50_ms']} ms. "
        f"BM25 index build at {syn['passages']} passages: {syn['bm25_index_build_s']} s.",
        "",
        "| corpus | p50 ms without query embedding | p95 ms without query embedding |",
        "|---|---|---|",
        *(
            f"| {name} | {r.get('latency_without_query_embedding', {}).get('p50_ms', '-')} | "
            f"{r.get('latency_without_query_embedding', {}).get('p95_ms', '-')} |"
            for name, r in (("real", real), ("synthetic", syn))
        ),
        "",
        (
            "Right after writing the 10,000 passages (Chroma still compacting in the background): "
            f"p50 {syn['latency_right_after_write']['p50_ms']} ms, "
            f"p95 {syn['latency_right_after_write']['p95_ms']} ms; the table shows the settled store."
            if "latency_right_after_write" in syn
            else ""
        ),
        "",
        (
            f"Synthetic ingest time is an estimate: {syn.get('embedded_for_real')} passages were "
            f"embedded for real ({syn.get('embedding_passages_per_s')}/s), the rest reuse their "
            f"template's vector plus noise; the Chroma write of all of them took "
            f"{syn.get('chroma_write_s')} s."
            if syn.get("ingest_s_is_estimate")
            else "All synthetic passages were embedded for real."
        ),
        "",
        "Latency is the warm path of `HybridRetriever.retrieve` (embedding, cosine over Chroma's vectors, BM25,",
        "fusion, MMR), over the evaluation queries; the CPU is shared, so expect noise.",
    ]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    main()
