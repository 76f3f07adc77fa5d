"""Choosing the LLM backend: a real Ollama when usable, else the embedded server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


NOT_FOUND_PAGE = (
    b"<!DOCTYPE html>\n<html>\n<head><title>404 Not Found</title></head>\n<body>\n"
    b"<h1>Not Found</h1>\n<p>The requested URL /api/tags was not found on this server.</p>\n"
    + b"<p>"
    + b"padding " * 200
    + b"</p>\n"
    b"<hr><address>Apache/2.4.58 (Ubuntu) Server at 127.0.0.1</address>\n</body></html>\n"
)


@pytest.fixture
def web_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """A real web server (not Ollama) answering every path with ``request.param``'s status/body."""
    status, content_type, body = request.param

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("web_server", "expected"),
    [
        (
            (404, "text/html", NOT_FOUND_PAGE),
            "answered HTTP 404 with an HTML page titled '404 Not Found': not an Ollama server?",
        ),
        (
            (200, "text/html", NOT_FOUND_PAGE),
            "answered with an HTML page titled '404 Not Found' instead of Ollama's JSON: "
            "not an Ollama server?",
        ),
        (
            (502, "text/plain", b"Bad gateway\n\nupstream <unreachable>\n"),
            "answered HTTP 502 with 'Bad gateway upstream': not an Ollama server?",
        ),
    ],
    indirect=["web_server"],
    ids=["html-404", "html-200", "text-502"],
)
def test_probe_of_a_web_server_gives_one_short_line_without_markup(
    web_server: str, expected: str
) -> None:
    probe = probe_ollama(web_server, timeout_s=5)
    assert not probe.reachable and probe.answered
    assert probe.reason == expected
    assert probe.problem == f"{web_server} {expected}"
    assert len(probe.reason) <= 200 and "\n" not in probe.reason and "<" not in probe.reason


@pytest.mark.parametrize(
    "web_server", [(404, "text/html", NOT_FOUND_PAGE)], indirect=True, ids=["html-404"]
)
def test_provider_ollama_pointed_at_a_web_server_says_so(web_server: str) -> None:
    with pytest.raises(LLMUnavailableError) as err:
        resolve_llm_backend(LLMSettings(provider="ollama", host=web_server, probe_timeout_s=5))
    message = str(err.value)
    assert message.startswith(f"{web_server} answered HTTP 404 with an HTML page")
    assert "<" not in message and "\n" not in message
    assert "ollama serve" not in message and "OLLAMA_HOST" in message


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
