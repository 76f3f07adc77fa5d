"""Benchmark the embedded LLM server: load time, time to first token, tokens/s, server RSS.

The server runs in a child process (``python -m benchmarks.bench_llm --child``) so its memory can
be measured on its own: peak RSS is the child's ``VmHWM`` from ``/proc`` (psutil's RSS where that
is unavailable). The parent talks to it over HTTP with streaming ``/api/chat`` requests, as the app
does. Each run uses a ~300-token prompt with a different first sentence (so llama.cpp's prompt
cache cannot hide prompt processing) and asks for 200 tokens.

Writes ``benchmarks/results/llm.json`` and ``benchmarks/results/llm.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import machine

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"first_token_s": 0.5, "tokens_per_s": 80.0, "server_rss_mb": 400.0}
RUNS = 5
ANSWER_TOKENS = 200

CONTEXT = (
    "A counsellor is preparing notes for a client who reports several weeks of poor sleep, "
    "difficulty concentrating at work, loss of interest in hobbies and frequent worry about "
    "finances and family. The client describes feeling tired most mornings, skipping meals, "
    "and withdrawing from friends. They have no history of hospitalisation, drink alcohol on "
    "weekends, and say they want practical steps they can start this week. "
)


def build_prompt(run: int) -> str:
    """About 300 tokens; the first sentence differs per run to defeat prompt caching."""
    return (
        f"Case {run}: session number {run * 7 + 3}. "
        + CONTEXT * 3
        + "Write a detailed, structured plan with at least eight numbered steps, each explained "
        "in two or three sentences, covering sleep, activity scheduling, worry time, social "
        "contact and when to seek further help."
    )


# ---- child: the server under test ---------------------------------------------------------------


def child(threads: int | None) -> None:
    """Start the embedded server, print its URL and load time, serve until stdin closes."""
    from assistant.llm.embedded_server import EmbeddedLlamaServer
    from assistant.settings import EmbeddedLLMSettings

    server = EmbeddedLlamaServer(EmbeddedLLMSettings(port=0, threads=threads))
    server.start()
    print(
        json.dumps(
            {"url": server.base_url, "model": server.model_name, "load_s": server.load_seconds}
        ),
        flush=True,
    )
    sys.stdin.read()
    server.stop()


# ---- parent: measurements ---------------------------------------------------------------------------


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size of a process (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil

    return psutil.Process(pid).memory_info().rss / 1e6


def one_run(url: str, model: str, run: int) -> dict[str, float]:
    """Stream one answer; time to first token (client side) and the server's token counts."""
    import httpx

    body = {
        "model": model,
        "messages": [{"role": "user", "content": build_prompt(run)}],
        "options": {"num_predict": ANSWER_TOKENS, "temperature": 0.7, "seed": run},
        "stream": True,
    }
    started = time.perf_counter()
    first: float | None = None
    final: dict[str, Any] = {}
    with httpx.stream("POST", url + "/api/chat", json=body, timeout=600) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line:
                continue
            part = json.loads(line)
            if part.get("done"):
                final = part
            elif first is None and part["message"]["content"]:
                first = time.perf_counter() - started
    total = time.perf_counter() - started
    eval_count = final.get("eval_count", 0)
    eval_s = final.get("eval_duration", 0) / 1e9
    return {
        "first_token_s": first if first is not None else total,
        "total_s": total,
        "prompt_tokens": final.get("prompt_eval_count", 0),
        "prompt_tokens_per_s": final.get("prompt_eval_count", 0)
        / max(final.get("prompt_eval_duration", 1) / 1e9, 1e-9),
        "answer_tokens": eval_count,
        "tokens_per_s": eval_count / eval_s if eval_s else 0.0,
    }


def run_bench(threads: int | None = None, runs: int = RUNS) -> dict[str, Any]:
    """Start the child server, warm it up, measure ``runs`` answers, stop it."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "benchmarks.bench_llm", "--child"]
    if threads:
        cmd += ["--threads", str(threads)]
    info_machine = machine()
    spawned = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("embedded server child exited before reporting its URL")
        info = json.loads(line)
        ready_s = time.perf_counter() - spawned
        one_run(info["url"], info["model"], run=0)  # warm-up, not counted
        runs_out = [one_run(info["url"], info["model"], run=i) for i in range(1, runs + 1)]
        rss = peak_rss_mb(proc.pid)
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

    def median(key: str) -> float:
        return float(statistics.median(r[key] for r in runs_out))

    summary = {
        "model_load_s": info["load_s"],
        "process_ready_s": ready_s,
        "first_token_s": median("first_token_s"),
        "tokens_per_s": median("tokens_per_s"),
        "prompt_tokens": median("prompt_tokens"),
        "prompt_tokens_per_s": median("prompt_tokens_per_s"),
        "answer_tokens": median("answer_tokens"),
        "server_rss_mb": rss,
    }
    checks = {
        "first_token_s": summary["first_token_s"] <= TARGETS["first_token_s"],
        "tokens_per_s": summary["tokens_per_s"] >= TARGETS["tokens_per_s"],
        "server_rss_mb": summary["server_rss_mb"] <= TARGETS["server_rss_mb"],
    }
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info_machine,
        "model": info["model"],
        "threads": threads or os.cpu_count(),
        "runs": runs,
        "summary": summary,
        "targets": TARGETS,
        "meets_targets": checks,
        "runs_detail": runs_out,
        "rss_method": "VmHWM (peak RSS) of the server child process from /proc",
    }


def write_results(result: dict[str, Any], stem: str = "llm") -> None:
    """Write JSON and a Markdown table under benchmarks/results/."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    s, t, ok, m = result["summary"], result["targets"], result["meets_targets"], result["machine"]
    mark = {True: "yes", False: "NO"}
    lines = [
        "# Embedded LLM benchmark",
        "",
        f"- date: {result['date']}",
        f"- machine: {m['nproc']} CPUs, {m['cpu']}; 1-min load average at start "
        f"{m['loadavg_1m_at_start']:.1f}",
        f"- model: {result['model']} (SmolLM2-135M-Instruct Q4_1 unless configured), "
        f"{result['threads']} llama.cpp threads, median of {result['runs']} runs after one warm-up",
        f"- peak RSS: {result['rss_method']}",
        *(
            [
                "",
                f"**Note:** the machine was shared (load {m['loadavg_1m_at_start']:.1f} on "
                f"{m['nproc']} CPUs), so the speed numbers are far below what the same code gives "
                "on an idle machine; memory is not affected.",
            ]
            if m["loadavg_1m_at_start"] and m["nproc"] and m["loadavg_1m_at_start"] > m["nproc"]
            else []
        ),
        "",
        "| metric | value | target | met |",
        "|---|---|---|---|",
        f"| model load (llama.cpp) | {s['model_load_s']:.2f} s | | |",
        f"| child process ready (Python start + imports + load) | {s['process_ready_s']:.2f} s | | |",
        f"| time to first token (~{s['prompt_tokens']:.0f}-token prompt) | {s['first_token_s']:.3f} s "
        f"| <= {t['first_token_s']} s | {mark[ok['first_token_s']]} |",
        f"| generation speed ({s['answer_tokens']:.0f}-token answer) | {s['tokens_per_s']:.1f} tok/s "
        f"| >= {t['tokens_per_s']} | {mark[ok['tokens_per_s']]} |",
        f"| prompt processing | {s['prompt_tokens_per_s']:.0f} tok/s | | |",
        f"| server peak RSS | {s['server_rss_mb']:.0f} MB | <= {t['server_rss_mb']} MB "
        f"| {mark[ok['server_rss_mb']]} |",
        "",
    ]
    (RESULTS / f"{stem}.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (or, with ``--child``, be the server under test)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--stem", default="llm", help="results file name (without extension)")
    args = parser.parse_args(argv if argv is not None else [])
    if args.child:
        child(args.threads)
        return
    result = run_bench(threads=args.threads, runs=args.runs)
    write_results(result, stem=args.stem)
    print(json.dumps(result["summary"], indent=2))
    print("meets targets:", result["meets_targets"])


if __name__ == "__main__":
    main(sys.argv[1:])
