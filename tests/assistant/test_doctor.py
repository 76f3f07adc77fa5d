"""``mindsignal doctor``: one row per component, exit 0 only when all are usable.

The vector store and classifier are built by other work streams and may be unavailable while
they are; these tests assert on the LLM and settings rows, and on the exit code being consistent
with the rows (0 exactly when every row is OK).
"""

from __future__ import annotations

import functools
import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rich.console import Console

from assistant.doctor import COMPONENTS, run_checks, run_doctor
from assistant.llm.embedded_server import EmbeddedLlamaServer
from assistant.settings import load_settings


def captured() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=300, force_terminal=False, color_system=None), buf


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_dead_ollama_port_is_a_failure_naming_the_host(tmp_path: Path) -> None:
    url = dead_url()
    settings = load_settings(
        data_dir=tmp_path / "var", llm={"provider": "ollama", "host": url, "probe_timeout_s": 2}
    )
    console, buf = captured()
    code = run_doctor(settings, only=("settings", "llm"), console=console)
    out = buf.getvalue()
    assert code != 0
    assert url in out and "connection refused" in out
    assert "ollama serve" in out  # the fix is printed too
    llm = next(r for r in run_checks(settings, only=("llm",)))
    assert not llm.ok and url in llm.detail


def test_embedded_provider_with_missing_gguf_fails(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path / "var",
        llm={"provider": "embedded", "embedded": {"model_path": str(tmp_path / "gone.gguf")}},
    )
    [settings_row, llm] = run_checks(settings, only=("settings", "llm"))
    assert settings_row.ok
    assert not llm.ok and "gone.gguf" in llm.detail
    assert "MODEL_PATH" in llm.fix


def test_embedded_provider_checks_the_model_without_loading_it(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "var", llm={"provider": "embedded"})
    [llm] = run_checks(settings, only=("llm",))
    assert llm.ok
    assert "SmolLM2-135M-Instruct Q4_1" in llm.detail and "model not loaded" in llm.detail


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[str]:
    """A plain web server (a NAS page, say) that answers every API path with an HTML 404."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_web_server_that_is_not_ollama_gets_status_and_one_line(
    tmp_path: Path, web_server: str
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "var",
        llm={"provider": "ollama", "host": web_server, "probe_timeout_s": 5},
    )
    [llm] = run_checks(settings, only=("llm",))
    assert not llm.ok
    assert llm.detail == (
        f"{web_server} answered HTTP 404 with an HTML page titled 'Error response': "
        "not an Ollama server?"
    )
    assert "ollama serve" not in llm.fix and "OLLAMA_HOST" in llm.fix


class _ListsButNeverAnswers(BaseHTTPRequestHandler):
    """An "Ollama" that lists its model but whose chats hang (``/api/chat`` sleeps) or fail."""

    hang_s = 5.0
    chat_status = 0  # 0: hang; else answer the chat with this HTTP status and an error

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _json(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._json(200, {"models": [{"name": "llama3.1:8b", "model": "llama3.1:8b"}]})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.chat_status:
            self._json(self.chat_status, {"error": "llama runner process has terminated"})
        else:
            time.sleep(self.hang_s)


@pytest.fixture
def listing_server() -> Iterator[tuple[str, type[_ListsButNeverAnswers]]]:
    handler = type("Handler", (_ListsButNeverAnswers,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("provider", ["ollama", "auto"])
def test_an_ollama_that_lists_the_model_but_never_answers_fails(
    tmp_path: Path, listing_server: tuple[str, type[_ListsButNeverAnswers]], provider: str
) -> None:
    url, _ = listing_server
    settings = load_settings(
        data_dir=tmp_path / "var",
        llm={
            "provider": provider,
            "host": url,
            "model": "llama3.1:8b",
            "first_token_timeout_s": 0.5,
        },
    )
    [llm] = run_checks(settings, only=("llm",))
    assert not llm.ok
    assert llm.detail == (
        f"Ollama at {url} lists llama3.1:8b but a one-token chat failed: timed out"
    )
    assert "FIRST_TOKEN_TIMEOUT_S" in llm.fix


def test_an_ollama_whose_model_fails_to_load_says_what_it_answered(
    tmp_path: Path, listing_server: tuple[str, type[_ListsButNeverAnswers]]
) -> None:
    url, handler = listing_server
    handler.chat_status = 500
    settings = load_settings(
        data_dir=tmp_path / "var",
        llm={"provider": "ollama", "host": url, "model": "llama3.1:8b"},
    )
    [llm] = run_checks(settings, only=("llm",))
    assert not llm.ok
    assert llm.detail.endswith("chat failed: HTTP 500: llama runner process has terminated")


def test_a_locale_without_its_own_file_fails(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "var", knowledge_base={"locale": "fr-FR"})
    console, buf = captured()
    code = run_doctor(settings, only=("settings", "crisis resources"), console=console)
    [row] = run_checks(settings, only=("crisis resources",))
    assert code == 1 and "crisis resources" in buf.getvalue()
    assert not row.ok
    assert "'fr-FR'" in row.detail and "international list" in row.detail
    assert "MINDSIGNAL_KNOWLEDGE_BASE__LOCALE" in row.fix


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "crisis resources file not found"),
        (b"locale: [unclosed", "not valid YAML"),
        (b"locale: en-US\nname: Clinic\n", "field 'emergency_number'"),
    ],
)
def test_a_missing_or_invalid_clinic_resources_file_fails(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    clinic = tmp_path / "clinic.yaml"
    if content is not None:
        clinic.write_bytes(content)
    settings = load_settings(
        data_dir=tmp_path / "var", knowledge_base={"extra_resources_file": str(clinic)}
    )
    [row] = run_checks(settings, only=("crisis resources",))
    assert not row.ok
    assert str(clinic) in row.detail and expected in row.detail
    assert "EXTRA_RESOURCES_FILE" in row.fix


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.mkdir(), "is a directory, not a crisis resources file"),
        (lambda p: p.write_bytes(b"locale: en-US\nname: Cl\xednica\n"), "not UTF-8 text"),
    ],
    ids=["directory", "latin-1"],
)
def test_an_unreadable_clinic_resources_file_fails_with_its_reason(
    tmp_path: Path, make: Callable[[Path], object], expected: str
) -> None:
    clinic = tmp_path / "clinic.yaml"
    make(clinic)
    settings = load_settings(
        data_dir=tmp_path / "var", knowledge_base={"extra_resources_file": str(clinic)}
    )
    console, buf = captured()
    code = run_doctor(settings, only=("crisis resources",), console=console)
    [row] = run_checks(settings, only=("crisis resources",))
    assert code == 1 and "FAIL" in buf.getvalue() and "Traceback" not in buf.getvalue()
    assert not row.ok
    assert row.detail.startswith(f"{clinic}: {expected}")
    assert "EXTRA_RESOURCES_FILE" in row.fix


def test_the_shipped_crisis_resources_pass(tmp_path: Path) -> None:
    [row] = run_checks(load_settings(data_dir=tmp_path / "var"), only=("crisis resources",))
    assert row.ok and row.detail.startswith("en-US: ")


def test_a_configured_protocol_path_that_is_gone_is_a_warning_not_a_failure(
    tmp_path: Path,
) -> None:
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    gone = tmp_path / "unmounted-share"
    settings = load_settings(
        data_dir=tmp_path / "var", knowledge_base={"extra_paths": [str(clinic), str(gone)]}
    )
    console, buf = captured()
    code = run_doctor(settings, only=("clinic protocols",), console=console)
    [row] = run_checks(settings, only=("clinic protocols",))
    assert code == 0  # ingest skips the path and goes on; the app still works
    assert row.ok and row.warning and row.status == "WARN"
    assert str(gone) in row.detail and str(clinic) not in row.detail
    assert "EXTRA_PATHS" in row.fix
    out = buf.getvalue()
    assert "WARN" in out and "1 warning(s): clinic protocols" in out


def test_no_configured_protocol_paths_is_ok(tmp_path: Path) -> None:
    [row] = run_checks(load_settings(data_dir=tmp_path / "var"), only=("clinic protocols",))
    assert row.status == "OK" and "none configured" in row.detail


@pytest.mark.integration
@pytest.mark.slow
def test_full_doctor_with_a_healthy_llm(tmp_path: Path, embedded_llm: EmbeddedLlamaServer) -> None:
    settings = load_settings(
        data_dir=tmp_path / "var",
        llm={"provider": "ollama", "host": embedded_llm.base_url, "model": embedded_llm.model_name},
    )
    console, buf = captured()
    code = run_doctor(settings, console=console)
    results = run_checks(settings)
    assert [r.component for r in results] == list(COMPONENTS)
    by_name = {r.component: r for r in results}
    assert by_name["llm"].ok, by_name["llm"].detail
    assert embedded_llm.base_url in by_name["llm"].detail
    assert by_name["settings"].ok
    assert by_name["embeddings"].ok and "384-dim" in by_name["embeddings"].detail
    # Store and classifier may be unavailable while they are being built; each failing row
    # carries a fix, and the exit code is 0 exactly when every row is OK.
    for r in results:
        assert r.ok or r.fix
    assert (code == 0) == all(r.ok for r in results)
    assert "MindSignal doctor" in buf.getvalue()
    # An empty/missing store says how to fill it.
    if not by_name["vector store"].ok:
        assert "mindsignal kb ingest" in by_name["vector store"].fix


@pytest.mark.parametrize(("clinic_locale", "warns"), [("fr-FR", True), ("en-us", False)])
def test_a_clinic_resources_file_for_another_locale_is_a_warning(
    tmp_path: Path, clinic_locale: str, warns: bool
) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(
        f"locale: {clinic_locale}\nname: Clinic\nemergency_number: '112'\nreviewed: 2026-12-01\n"
        "resources:\n  - name: Clinic duty line\n    contact: call 01 23 45 67 89\n"
        "    kind: phone\n    hours: 24/7\n",
        encoding="utf-8",
    )
    settings = load_settings(
        data_dir=tmp_path / "var", knowledge_base={"extra_resources_file": str(clinic)}
    )
    [row] = run_checks(settings, only=("crisis resources",))
    assert row.ok and row.warning == warns
    if warns:
        assert "'fr-FR'" in row.detail and "'en-US'" in row.detail and "LOCALE" in row.fix
