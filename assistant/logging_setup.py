"""Logging configuration. Logs carry ids and timings, never user text unless a debug setting is on."""

from __future__ import annotations

import logging

from assistant.settings import AppSettings


def configure_logging(settings: AppSettings) -> None:
    """Set the root level and quieten chatty third-party loggers."""
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "chromadb", "urllib3", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
