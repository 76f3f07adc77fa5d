"""Builders for a real, prepared app in tests (shared by the pipeline and UI suites)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def running_app(
    data_dir: Path, corpus: Path, llm_host: str, model: str, embeddings: Any, num_predict: int
) -> Iterator[Any]:
    """A prepared app (rules classifier, ``corpus`` ingested) whose LLM is at ``llm_host``.

    It shares the session's loaded embedding model instead of loading its own.
    """
    from assistant.app import build_app
    from assistant.settings import load_settings

    settings = load_settings(
        data_dir=data_dir,
        llm={
            "provider": "ollama",
            "host": llm_host,
            "model": model,
            "num_predict": num_predict,
            "seed": 7,
            "temperature": 0.0,
        },
        classifier={"mode": "rules"},
        knowledge_base={"passages_dir": corpus},
    )
    mind = build_app(settings)
    mind.__dict__["embeddings"] = embeddings
    mind.prepare()
    try:
        yield mind
    finally:
        mind.close()
