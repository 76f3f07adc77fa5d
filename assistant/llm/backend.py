"""Pick the LLM: a real Ollama when one answers with the wanted model, else the embedded server.

``resolve_llm_backend(settings)`` returns an :class:`LLMBackend` saying where the model lives; the
chat adapter (:class:`assistant.llm.ollama_chat.OllamaChat`) only ever sees ``base_url`` and
``model``, so both providers share one code path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.llm.base import LLMUnavailableError
from assistant.settings import LLMSettings

if TYPE_CHECKING:
    from assistant.llm.embedded_server import EmbeddedLlamaServer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OllamaProbe:
    """What probing an Ollama host found."""

    host: str
    reachable: bool
    models: tuple[str, ...] = ()
    error: str = ""

    def has_model(self, model: str) -> bool:
        """Whether ``model`` is listed (``name`` and ``name:latest`` are the same model)."""
        from assistant.llm.embedded_server import canonical_model_name

        wanted = canonical_model_name(model)
        return any(canonical_model_name(m) == wanted for m in self.models)

    @property
    def reason(self) -> str:
        """Why this host cannot be used, in a few words (empty when it answered)."""
        return "" if self.reachable else self.error


def _describe_error(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status > 0:
        detail = (getattr(exc, "error", "") or "").strip()
        return f"HTTP {status}" + (f": {detail[:150]}" if detail else "") + ", not an Ollama API"
    # The ollama client replaces httpx's error with a generic "Failed to connect" message; the
    # specific cause (refused, timeout, DNS) is on the exception's context.
    chain: list[str] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 5:
        chain.append(str(cur))
        cur = cur.__cause__ or cur.__context__
    text = " ".join(chain).lower()
    if "refused" in text:
        return "connection refused"
    if "timed out" in text or "timeout" in text:
        return "timed out"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    if "failed to connect" in text or "connect" in type(exc).__name__.lower():
        return "cannot connect"
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


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
        return OllamaProbe(host, False, error=_describe_error(exc))
    names = tuple(m.model for m in listing.models if m.model)
    return OllamaProbe(host, True, models=names)


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
            raise LLMUnavailableError(
                f"no Ollama at {settings.host} ({probe.reason}): start it with `ollama serve`, "
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
        f"no Ollama at {settings.host} ({probe.reason})"
        if not probe.reachable
        else f"Ollama at {settings.host} has no model {settings.model!r}"
    )
    backend = _start_embedded(settings)
    logger.info("%s; using %s", why, backend.description)
    return backend
