"""Benchmark of the care pipeline end to end on the embedded model.

Measures, on this machine:

* analysis latency (redact + classify + gate + retrieve, no LLM) over ~50 varied posts:
  p50 / p95 / max (target p95 <= 200 ms);
* time to first LLM token (target <= 1.5 s), full draft time and grounding-check time over a
  few posts drafted by the embedded llama.cpp server (SmolLM2-135M);
* how many drafts degraded and how many sentences the grounding check flagged.

The knowledge base is ingested into a temporary Chroma store first (not timed). The classifier is
the configured one (hybrid) when its artifact exists, else the rules. Writes
``benchmarks/results/pipeline.json`` and ``pipeline.md``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import machine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
N_ANALYSIS = 50
N_DRAFTS = 6
N_BATCH = 1000
TARGETS = {"analysis_p95_ms": 200.0, "first_token_p50_s": 1.5}

BASE_POSTS = (
    "For two months I have felt empty and hopeless. I can't get out of bed, I stopped seeing "
    "friends and nothing I used to enjoy interests me. I feel worthless at work.",
    "My heart races before every meeting and I keep worrying that something terrible will "
    "happen. I had two panic attacks this week and now I avoid the train.",
    "I haven't slept more than three hours in days, I started four businesses this week and "
    "spent all my savings. Everyone says I'm talking too fast.",
    "Since the accident I get flashbacks every night and I can't drive past that junction. "
    "Loud noises make me jump and I feel numb with my family.",
    "I check the stove and the locks twenty times before I can leave, and if I don't I'm sure "
    "something awful will happen to my kids. It takes me an hour to leave the house.",
    "I've been skipping meals for weeks and I feel disgusting after eating anything. I weigh "
    "myself five times a day and exercise until I'm dizzy.",
    "I've been drinking every night to get to sleep and now I need it in the morning too. "
    "I tried to stop last week and my hands were shaking.",
    "I can't focus on anything, I lose my keys every day, I interrupt people and I've missed "
    "deadlines at every job I've had since school.",
    "I can't do this anymore. I feel hopeless and sometimes I think everyone would be better "
    "off without me. I've been thinking about ending it.",
    "I'm going to kill myself tonight. I bought a rope yesterday and wrote a goodbye note.",
    "Work has been stressful lately but I'm managing. I go running twice a week and talk to "
    "my sister when things get too much.",
    "Hi, my name is Sam Carter (sam.carter@example.com, 555-201-3344). I feel low most days, "
    "I cry in the car before work and I can't remember the last time I laughed.",
)
FILLER = (
    " I don't know who else to tell. My partner tries to help but doesn't really understand, "
    "and my family think I should just get on with it."
)


def bench_posts(n: int = N_ANALYSIS) -> list[str]:
    """``n`` varied posts: the base posts at three lengths, cycled."""
    posts = []
    for i in range(n):
        base = BASE_POSTS[i % len(BASE_POSTS)]
        posts.append(base + FILLER * ((i // len(BASE_POSTS)) % 3 * 2))
    return posts


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[idx]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(_percentile(values, 50), 2),
        "p95": round(_percentile(values, 95), 2),
        "max": round(max(values), 2),
        "mean": round(statistics.fmean(values), 2),
    }


def _build_app(tmp: Path) -> Any:
    from assistant.app import build_app
    from assistant.settings import load_settings
    from classifiers.factory import ClassifierLoadError

    settings = load_settings(data_dir=tmp / "var", llm={"provider": "embedded", "seed": 7})
    mind = build_app(settings)
    try:
        mind.classifier  # noqa: B018 - load now so the first analysis is not the load
    except ClassifierLoadError:
        settings = settings.model_copy(
            update={"classifier": settings.classifier.model_copy(update={"mode": "rules"})}
        )
        mind = build_app(settings)
        mind.classifier  # noqa: B018
    return mind


def bench_batch(mind: Any, tmp: Path, posts: list[str], n: int = N_BATCH) -> dict[str, Any]:
    """The batch tab's analyser (redact + classify + gate per post) on ``n`` posts from a CSV."""
    import csv

    from assistant.batch import BatchAnalyzer

    path = tmp / "batch.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        for i in range(n):
            writer.writerow([f"b{i}", posts[i % len(posts)]])
    cs = mind.settings.classifier
    analyzer = BatchAnalyzer(
        mind.classifier, mind.pipeline.gate, max_chars=cs.max_chars, batch_size=cs.batch_size
    )
    t = time.perf_counter()
    result = analyzer.run(path, "text", "id")
    seconds = time.perf_counter() - t
    return {
        "posts": n,
        "seconds": round(seconds, 2),
        "posts_per_s": round(n / seconds, 1),
        "errors": result.summary.errors,
    }


def run() -> dict[str, Any]:
    """Run the benchmark and return the results (also written to benchmarks/results/)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp_dir:
        mind = _build_app(Path(tmp_dir))
        try:
            t = time.perf_counter()
            mind.prepare(progress=lambda _msg: None)
            ingest_s = time.perf_counter() - t
            pipeline = mind.pipeline
            posts = bench_posts()
            for post in posts[:3]:  # warm-up: embedding model, BM25 index, caches
                pipeline.analyze(post)
            analysis_ms: list[float] = []
            steps: dict[str, list[float]] = {
                "redact": [],
                "classify": [],
                "gate": [],
                "retrieve": [],
            }
            for post in posts:
                t = time.perf_counter()
                draft = pipeline.analyze(post)
                analysis_ms.append((time.perf_counter() - t) * 1000)
                for step in steps:
                    steps[step].append(draft.timings_ms.get(step, 0.0))

            batch = bench_batch(mind, Path(tmp_dir), posts)

            t = time.perf_counter()
            # Start the embedded server and cache the fixed system prompt outside the timed
            # drafts, as `mindsignal run` does while the UI comes up.
            warmed = pipeline.warm_up()
            llm_start_s = time.perf_counter() - t
            first_token_s: list[float] = []
            draft_s: list[float] = []
            verify_ms: list[float] = []
            degraded = unsupported = checked = 0
            for post in BASE_POSTS[:N_DRAFTS]:
                t = time.perf_counter()
                first = None
                final = None
                for event in pipeline.stream(post):
                    if event.kind == "token" and first is None:
                        first = time.perf_counter() - t
                    if event.kind == "final":
                        final = event.draft
                assert final is not None
                draft_s.append(time.perf_counter() - t)
                if first is not None:
                    first_token_s.append(first)
                verify_ms.append(final.timings_ms.get("verify", 0.0))
                degraded += int(final.degraded)
                unsupported += final.unsupported_count
                checked += len(final.sentences)
            results: dict[str, Any] = {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "platform": platform.platform(),
                    "cpu": machine()["cpu"],
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
                },
                "classifier": mind.classifier.version,
                "llm": mind.chat.model,
                "num_predict": mind.settings.llm.num_predict,
                "ingest_s": round(ingest_s, 2),
                "llm_start_s": round(llm_start_s, 2),
                "llm_warmed_up": warmed,
                "analysis_ms": _summary(analysis_ms),
                "analysis_steps_ms_p50": {
                    k: round(_percentile(v, 50), 2) for k, v in steps.items()
                },
                "first_token_s": _summary(first_token_s) if first_token_s else None,
                "draft_s": _summary(draft_s),
                "verify_ms": _summary(verify_ms),
                "batch": batch,
                "drafts": N_DRAFTS,
                "degraded_drafts": degraded,
                "sentences_checked": checked,
                "sentences_unsupported": unsupported,
                "targets": TARGETS,
            }
        finally:
            mind.close()
    results["meets"] = {
        "analysis_p95_ms": results["analysis_ms"]["p95"] <= TARGETS["analysis_p95_ms"],
        "first_token_p50_s": bool(
            results["first_token_s"]
            and results["first_token_s"]["p50"] <= TARGETS["first_token_p50_s"]
        ),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pipeline.json").write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    (RESULTS / "pipeline.md").write_text(to_markdown(results), "utf-8")
    return results


def to_markdown(r: dict[str, Any]) -> str:
    """The results as a short Markdown report."""
    ft = r["first_token_s"] or {"p50": float("nan"), "p95": float("nan"), "n": 0}
    m = r["machine"]
    lines = [
        "# Care pipeline benchmark",
        "",
        f"- Date: {r['date']}",
        f"- Machine: {m['platform']}, {m.get('cpu', '')}, {m['cpus']} CPUs, Python {m['python']}, "
        f"1-min load average at the end {m['load_avg_1m_at_end']} (shared machine)",
        f"- Classifier: {r['classifier']}; LLM: {r['llm']} (embedded llama.cpp), "
        f"num_predict {r['num_predict']}",
        f"- Knowledge-base ingest (untimed set-up): {r['ingest_s']} s; LLM start and system-prompt warm-up: {r['llm_start_s']} s",
        "",
        "| measure | n | p50 | p95 | max | target |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| analysis (redact+classify+gate+retrieve), ms | {r['analysis_ms']['n']} | "
        f"{r['analysis_ms']['p50']} | {r['analysis_ms']['p95']} | {r['analysis_ms']['max']} | "
        f"p95 <= {TARGETS['analysis_p95_ms']:.0f} |",
        f"| time to first token, s | {ft['n']} | {ft['p50']} | {ft['p95']} | - | "
        f"<= {TARGETS['first_token_p50_s']} |",
        f"| full draft (analysis + LLM + grounding), s | {r['draft_s']['n']} | {r['draft_s']['p50']} | "
        f"{r['draft_s']['p95']} | {r['draft_s']['max']} | - |",
        f"| grounding check, ms | {r['verify_ms']['n']} | {r['verify_ms']['p50']} | "
        f"{r['verify_ms']['p95']} | {r['verify_ms']['max']} | - |",
        "",
        f"Batch tab (redact + classify + gate, no retrieval or LLM): {r['batch']['posts']} posts "
        f"in {r['batch']['seconds']} s = {r['batch']['posts_per_s']} posts/s "
        f"({r['batch']['errors']} row errors).",
        "",
        "Analysis steps, p50 ms: "
        + ", ".join(f"{k} {v}" for k, v in r["analysis_steps_ms_p50"].items()),
        "",
        f"Drafts: {r['drafts']}, degraded {r['degraded_drafts']}; sentences checked "
        f"{r['sentences_checked']}, flagged unsupported {r['sentences_unsupported']}.",
        "",
        f"Targets met: {', '.join(f'{k}={v}' for k, v in r['meets'].items())}",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run and print the Markdown report."""
    print(to_markdown(run()))


if __name__ == "__main__":
    main()
