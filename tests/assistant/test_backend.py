"""Choosing the LLM backend: a real Ollama when usable, else the embedded server."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from assistant.llm.backend import probe_ollama, resolve_llm_backend
from assistant.llm.base import LLMUnavailableError
from assistant.llm.embedded_server import EmbeddedLlamaServer
from assistant.settings import LLMSettings


def dead_url() -> str:
    """A loopback URL where nothing listens (a port just freed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_probe_of_a_dead_port_says_connection_refused() -> None:
    url = dead_url()
    probe = probe_ollama(url, timeout_s=2)
    assert not probe.reachable
    assert probe.reason == "connection refused"


def test_provider_ollama_fails_clearly_when_nothing_listens() -> None:
    url = dead_url()
    with pytest.raises(LLMUnavailableError) as err:
        resolve_llm_backend(LLMSettings(provider="ollama", host=url, probe_timeout_s=2))
    message = str(err.value)
    assert url in message and "connection refused" in message


def test_provider_embedded_with_missing_model_fails_clearly(tmp_path: Path) -> None:
    settings = LLMSettings(provider="embedded", embedded={"model_path": tmp_path / "x.gguf"})
    with pytest.raises(LLMUnavailableError, match=r"x\.gguf"):
        resolve_llm_backend(settings)


@pytest.mark.integration
def test_provider_ollama_uses_a_host_that_lists_the_model(
    embedded_llm: EmbeddedLlamaServer,
) -> None:
    backend = resolve_llm_backend(
        LLMSettings(provider="ollama", host=embedded_llm.base_url, model=embedded_llm.model_name)
    )
    assert backend.provider == "ollama"
    assert backend.base_url == embedded_llm.base_url
    assert backend.model == embedded_llm.model_name
    assert embedded_llm.base_url in backend.description
    backend.close()  # must not stop a server it did not start
    assert embedded_llm.is_running


@pytest.mark.integration
def test_provider_ollama_names_the_missing_model(embedded_llm: EmbeddedLlamaServer) -> None:
    with pytest.raises(LLMUnavailableError) as err:
        resolve_llm_backend(
            LLMSettings(provider="ollama", host=embedded_llm.base_url, model="llama3.1:8b")
        )
    assert "llama3.1:8b" in str(err.value)
    assert embedded_llm.model_name in str(err.value)  # says what the host does have
    assert "ollama pull" in str(err.value)


@pytest.mark.integration
def test_auto_prefers_a_real_ollama_with_the_model(embedded_llm: EmbeddedLlamaServer) -> None:
    backend = resolve_llm_backend(
        LLMSettings(provider="auto", host=embedded_llm.base_url, model=embedded_llm.model_name)
    )
    assert backend.provider == "ollama"
    assert backend.server is None


@pytest.mark.integration
def test_auto_without_ollama_starts_the_embedded_server_and_close_stops_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = dead_url()
    settings = LLMSettings(
        provider="auto",
        host=url,
        probe_timeout_s=2,
        embedded={"parallel": 1, "context_size": 1024, "threads": 1},
    )
    with caplog.at_level("INFO", logger="assistant.llm.backend"):
        backend = resolve_llm_backend(settings)
    try:
        assert backend.provider == "embedded"
        assert backend.description.startswith(
            "embedded llama.cpp (SmolLM2-135M-Instruct Q4_1) at http://127.0.0.1:"
        )
        assert f"no Ollama at {url} (connection refused)" in caplog.text
        tags = httpx.get(backend.base_url + "/api/tags", timeout=30).json()
        assert tags["models"][0]["name"] == backend.model
    finally:
        backend.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(backend.base_url + "/api/tags", timeout=5)
