"""Run every benchmark and write its results under benchmarks/results/."""

from __future__ import annotations

import importlib
import sys

BENCHES = ("bench_llm", "bench_retrieval", "bench_classifier", "bench_pipeline")


def main() -> int:
    failed = []
    for name in BENCHES:
        print(f"== {name} ==", flush=True)
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception as exc:  # one broken bench must not hide the others' numbers
            print(f"{name} failed: {exc!r}", file=sys.stderr)
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
