"""Shared fixtures. Expensive real parts (embedding model, embedded LLM server) load once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

if TYPE_CHECKING:
    from assistant.llm.embedded_server import EmbeddedLlamaServer
    from assistant.settings import AppSettings
    from retrieval.embeddings import SentenceTransformerEmbeddings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (development data); tests using it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"development data not present at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Folder for screenshots and reports that tests leave behind for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def embeddings() -> SentenceTransformerEmbeddings:
    """The real all-MiniLM-L6-v2 embedding model, loaded once."""
    from retrieval.embeddings import SentenceTransformerEmbeddings

    model = SentenceTransformerEmbeddings()
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def embedded_llm() -> Iterator[EmbeddedLlamaServer]:
    """The real embedded llama.cpp server speaking Ollama's API, on a free loopback port."""
    from assistant.llm.embedded_server import EmbeddedLlamaServer
    from assistant.settings import EmbeddedLLMSettings

    server = EmbeddedLlamaServer(EmbeddedLLMSettings(port=0, parallel=2, context_size=8192))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def teacher_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedded_llm: EmbeddedLlamaServer
) -> EmbeddedLlamaServer:
    """The CLI's settings (a private data dir, through the environment) with the LLM teacher
    pointed at the session's embedded server, answering deterministically and briefly (the
    label JSON is short)."""
    monkeypatch.setenv("MINDSIGNAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MINDSIGNAL_LLM__PROVIDER", "ollama")
    monkeypatch.setenv("MINDSIGNAL_LLM__HOST", embedded_llm.base_url)
    monkeypatch.setenv("MINDSIGNAL_LLM__MODEL", embedded_llm.model_name)
    monkeypatch.setenv("MINDSIGNAL_LLM__TEMPERATURE", "0")
    monkeypatch.setenv("MINDSIGNAL_LLM__NUM_PREDICT", "160")
    return embedded_llm


@pytest.fixture
def app_settings(tmp_path: Path, embedded_llm: EmbeddedLlamaServer) -> AppSettings:
    """Settings with a private data dir, the LLM pointed at the session's embedded server."""
    from assistant.settings import load_settings

    return load_settings(
        data_dir=tmp_path / "var",
        llm={"provider": "ollama", "host": embedded_llm.base_url, "model": embedded_llm.model_name},
    )
