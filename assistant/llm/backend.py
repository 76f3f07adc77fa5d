"""Pick the LLM: a real Ollama when one answers with the wanted model, else the embedded server.

``resolve_llm_backend(settings)`` returns an :class:`LLMBackend` saying where the model lives; the
chat adapter (:class:`assistant.llm.ollama_chat.OllamaChat`) only ever sees ``base_url`` and
``model``, so both providers share one code path.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import ValidationError

from assistant.llm.base import LLMUnavailableError
from assistant.settings import LLMSettings

if TYPE_CHECKING:
    from assistant.llm.embedded_server import EmbeddedLlamaServer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OllamaProbe:
    """What probing an Ollama host found.

    Attributes:
        host: The URL probed.
        reachable: Whether it answered Ollama's model list.
        models: The models it listed.
        error: Why it cannot be used, in a few words (empty when reachable).
        answered: Something answered over HTTP, but not as Ollama does (a web server, a proxy):
            starting Ollama there is not the fix, pointing the host elsewhere is.
    """

    host: str
    reachable: bool
    models: tuple[str, ...] = ()
    error: str = ""
    answered: bool = False

    def has_model(self, model: str) -> bool:
        """Whether ``model`` is listed (``name`` and ``name:latest`` are the same model)."""
        from assistant.llm.embedded_server import canonical_model_name

        wanted = canonical_model_name(model)
        return any(canonical_model_name(m) == wanted for m in self.models)

    @property
    def reason(self) -> str:
        """Why this host cannot be used, in a few words (empty when it answered)."""
        return "" if self.reachable else self.error

    @property
    def problem(self) -> str:
        """One line naming the host and why it cannot be used (empty when it answered).

        ``no Ollama at http://127.0.0.1:11434 (connection refused)``, or, when something else
        answered, ``http://127.0.0.1:8080 answered HTTP 404 with an HTML page: not an Ollama
        server?``.
        """
        if self.reachable:
            return ""
        if self.answered:
            return f"{self.host} {self.error}"
        return f"no Ollama at {self.host} ({self.error})"


_MAX_REASON = 200
_NOT_OLLAMA = ": not an Ollama server?"
_HTML_TAG = re.compile(r"<\s*(!doctype|html|head|body|title|h1|div|p|pre)\b", re.IGNORECASE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_ANY_TAG = re.compile(r"<[^>]*>")


def _one_line(text: str, limit: int) -> str:
    """``text`` with markup dropped and whitespace collapsed, cut to ``limit`` characters."""
    flat = " ".join(_ANY_TAG.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def _describe_body(body: str) -> str:
    """What kind of body a non-Ollama server sent: ``an HTML page titled 'Not Found'``, ..."""
    text = body.strip()
    if not text:
        return ""
    if _HTML_TAG.search(text) or text.startswith("<"):
        kind = "an XML document" if text.startswith("<?xml") else "an HTML page"
        title = _HTML_TITLE.search(text)
        name = _one_line(title.group(1), 60) if title else ""
        return f"{kind} titled {name!r}" if name else kind
    return repr(_one_line(text, 80))


def _describe_answer(status: int | None, body: str) -> str:
    """``answered HTTP 404 with an HTML page titled 'Not Found': not an Ollama server?``."""
    what = _describe_body(body)
    if status is not None:
        head = f"answered HTTP {status}" + (f" with {what}" if what else "")
    else:
        head = f"answered with {what or 'an empty body'} instead of Ollama's JSON"
    return head[: _MAX_REASON - len(_NOT_OLLAMA)] + _NOT_OLLAMA


def _describe_error(exc: BaseException) -> tuple[str, bool]:
    """Why a probe failed, in one short line without markup, and whether something answered."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status > 0:
        # The ollama client puts the whole response body here: a web server's page, say.
        return _describe_answer(status, str(getattr(exc, "error", "") or "")), True
    if isinstance(exc, json.JSONDecodeError):  # HTTP 200, but the body is not JSON
        return _describe_answer(None, exc.doc), True
    if isinstance(exc, UnicodeDecodeError):
        return f"answered with binary data instead of Ollama's JSON{_NOT_OLLAMA}", True
    if isinstance(exc, ValidationError):  # valid JSON, but not Ollama's model list
        return f"answered with JSON that is not Ollama's model list{_NOT_OLLAMA}", True
    # The ollama client replaces httpx's error with a generic "Failed to connect" message; the
    # specific cause (refused, timeout, DNS) is on the exception's context.
    chain: list[str] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 5:
        chain.append(str(cur))
        cur = cur.__cause__ or cur.__context__
    text = " ".join(chain).lower()
    if "refused" in text:
        return "connection refused", False
    if "timed out" in text or "timeout" in text:
        return "timed out", False
    if "name or service not known" in text or "nodename nor servname" in text:
        return "unknown host", False
    if "failed to connect" in text or "connect" in type(exc).__name__.lower():
        return "cannot connect", False
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (_one_line(first, _MAX_REASON) or type(exc).__name__), False


def probe_ollama(host: str, timeout_s: float) -> OllamaProbe:
    """Ask ``host`` for its model list with the official client; never raises."""
    try:
        import ollama
    except ImportError:  # pragma: no cover - dependency of the project
        return OllamaProbe(
            host, False, error="the ollama client is not installed (pip install ollama)"
        )
    try:
        listing = ollama.Client(host=host, timeout=timeout_s).list()
    except Exception as exc:  # connection errors, HTTP errors, bad JSON: all mean "not usable"
        error, answered = _describe_error(exc)
        return OllamaProbe(host, False, error=error, answered=answered)
    names = tuple(m.model for m in listing.models if m.model)
    return OllamaProbe(host, True, models=names)


def probe_chat(host: str, model: str, timeout_s: float) -> str | None:
    """Ask ``model`` at ``host`` for one token; None when it answers, else why not (one line).

    A server can list a model and still never answer a chat (a model that cannot load, a
    wedged runner, a proxy that passes ``/api/tags`` only); only a real request shows it. The
    prompt is fixed, never user text. Never raises.
    """
    try:
        import ollama
    except ImportError:  # pragma: no cover - dependency of the project
        return "the ollama client is not installed (pip install ollama)"
    try:
        ollama.Client(host=host, timeout=timeout_s).chat(
            model=model,
            messages=[{"role": "user", "content": "Reply with OK."}],
            options={"num_predict": 1},
        )
    except Exception as exc:  # timeouts, HTTP errors, a model that fails to load: all "no"
        status = getattr(exc, "status_code", None)
        if isinstance(status, int) and status > 0:
            error = str(getattr(exc, "error", "") or exc)
            return _one_line(f"HTTP {status}: {error}", _MAX_REASON)
        return _describe_error(exc)[0]
    return None


@dataclass(frozen=True)
class LLMBackend:
    """Where chat requests go.

    Attributes:
        provider: ``"ollama"`` (a real Ollama) or ``"embedded"`` (the built-in llama.cpp server).
        base_url: Ollama-compatible base URL.
        model: Model name to request.
        description: One line for logs and the UI.
        server: The embedded server this backend started, if any (stopped by :meth:`close`).
    """

    provider: str
    base_url: str
    model: str
    description: str
    server: EmbeddedLlamaServer | None = field(default=None, repr=False, compare=False)

    def close(self) -> None:
        """Stop the embedded server this backend started (no-op for a real Ollama)."""
        if self.server is not None:
            self.server.stop()


def _start_embedded(settings: LLMSettings) -> LLMBackend:
    from assistant.llm.embedded_server import EmbeddedLlamaServer, EmbeddedServerError

    server = EmbeddedLlamaServer(settings.embedded)
    try:
        server.start()
    except EmbeddedServerError as exc:
        raise LLMUnavailableError(f"embedded LLM could not start: {exc}") from exc
    return LLMBackend(
        provider="embedded",
        base_url=server.base_url,
        model=server.model_name,
        description=server.description,
        server=server,
    )


def _ollama_backend(probe: OllamaProbe, model: str) -> LLMBackend:
    return LLMBackend(
        provider="ollama",
        base_url=probe.host,
        model=model,
        description=f"Ollama {model} at {probe.host}",
    )


def resolve_llm_backend(settings: LLMSettings) -> LLMBackend:
    """Choose and, for the embedded provider, start the LLM backend.

    Args:
        settings: ``provider`` auto (real Ollama if it lists ``model``, else embedded), ollama
            (fail when unusable) or embedded (always the built-in server).

    Raises:
        LLMUnavailableError: ``provider=ollama`` and the host is unreachable or lacks the model,
            or the embedded server cannot start.
    """
    if settings.provider == "embedded":
        backend = _start_embedded(settings)
        logger.info("LLM: %s", backend.description)
        return backend

    probe = probe_ollama(settings.host, settings.probe_timeout_s)
    if settings.provider == "ollama":
        if not probe.reachable:
            if probe.answered:  # something else answered there: starting Ollama is not the fix
                raise LLMUnavailableError(
                    f"{probe.problem} Point MINDSIGNAL_LLM__HOST / OLLAMA_HOST at an Ollama "
                    "server, or set MINDSIGNAL_LLM__PROVIDER=embedded"
                )
            raise LLMUnavailableError(
                f"{probe.problem}: start it with `ollama serve`, "
                "fix MINDSIGNAL_LLM__HOST / OLLAMA_HOST, or set MINDSIGNAL_LLM__PROVIDER=embedded"
            )
        if not probe.has_model(settings.model):
            listed = ", ".join(probe.models) or "none"
            raise LLMUnavailableError(
                f"Ollama at {settings.host} has no model {settings.model!r} (it has: {listed}): "
                f"run `ollama pull {settings.model}` or set MINDSIGNAL_LLM__MODEL"
            )
        backend = _ollama_backend(probe, settings.model)
        logger.info("LLM: %s", backend.description)
        return backend

    # auto
    if probe.reachable and probe.has_model(settings.model):
        backend = _ollama_backend(probe, settings.model)
        logger.info("LLM: %s", backend.description)
        return backend
    why = (
        probe.problem
        if not probe.reachable
        else f"Ollama at {settings.host} has no model {settings.model!r}"
    )
    backend = _start_embedded(settings)
    logger.info("%s; using %s", why, backend.description)
    return backend
