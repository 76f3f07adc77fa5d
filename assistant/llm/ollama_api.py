"""The HTTP face of :class:`~assistant.llm.embedded_server.EmbeddedLlamaServer`: Ollama's API.

Imported only when the embedded server starts (FastAPI is not needed to merely resolve a backend).
Errors are answered as Ollama does, ``{"error": "..."}`` with a 4xx/5xx status, so the ``ollama``
client raises ``ResponseError`` with the right ``status_code``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.responses import Response

from assistant.llm.embedded_server import (
    SERVER_VERSION,
    RequestError,
    format_to_llama,
    messages_to_openai,
    options_to_llama,
)

if TYPE_CHECKING:
    from assistant.llm.embedded_server import EmbeddedLlamaServer


def build_ollama_app(server: EmbeddedLlamaServer) -> FastAPI:
    """The FastAPI app answering Ollama's API for ``server``'s model."""
    app = FastAPI(
        title="MindSignal embedded LLM (Ollama API subset)",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    def error(message: str, status: int) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def read_json(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestError(f"invalid JSON body: {exc}") from exc
        if not isinstance(body, dict):
            raise RequestError("request body must be a JSON object")
        return body

    @app.exception_handler(RequestError)
    async def _on_request_error(_: Request, exc: RequestError) -> Response:
        return error(str(exc), exc.status)

    @app.get("/")
    @app.head("/")
    async def root() -> Response:
        return PlainTextResponse("Ollama is running")

    @app.get("/api/version")
    async def version() -> dict[str, str]:
        return {"version": SERVER_VERSION}

    @app.get("/api/tags")
    async def tags() -> dict[str, Any]:
        return {"models": [server._model_entry()]}

    @app.get("/api/ps")
    async def ps() -> dict[str, Any]:
        entry = server._model_entry()
        entry.pop("modified_at")
        expires = datetime.now(UTC) + timedelta(days=365)
        entry.update(
            expires_at=expires.isoformat().replace("+00:00", "Z"),
            size_vram=0,
            context_length=server.settings.context_size // server.settings.parallel,
        )
        return {"models": [entry]}

    @app.post("/api/show")
    async def show(request: Request) -> dict[str, Any]:
        body = await read_json(request)
        server._check_model(body.get("model") or body.get("name"))
        info = server.info
        model_info = {k: v for k, v in info.metadata.items() if not k.startswith("tokenizer.chat")}
        return {
            "license": str(info.metadata.get("general.license", "")),
            "modelfile": f"FROM {server.model_path}\n",
            "parameters": "",
            "template": str(info.metadata.get("tokenizer.chat_template", "")),
            "details": server._details(),
            "model_info": model_info,
            "capabilities": ["completion"],
            "modified_at": server._model_entry()["modified_at"],
        }

    async def respond(
        request: Request, kind: str, shape: str, body: dict[str, Any], model: str, stream: bool
    ) -> Response:
        cancel = threading.Event()
        chunks = server._ollama_stream(kind, shape, model, body, cancel)
        if stream:
            # Start generating before the 200 goes out, so a bad request still gets a 400.
            first = await anext(chunks)
            return StreamingResponse(
                _ndjson(request, first, chunks, cancel),
                media_type="application/x-ndjson",
            )
        watcher = asyncio.create_task(_watch_disconnect(request, cancel))
        try:
            parts: list[str] = []
            final: dict[str, Any] = {}
            async for part in chunks:
                if part["done"]:
                    final = part
                else:
                    parts.append(
                        part["message"]["content"] if shape == "chat" else part["response"]
                    )
            if shape == "chat":
                final["message"] = {"role": "assistant", "content": "".join(parts)}
            else:
                final["response"] = "".join(parts)
            return JSONResponse(final)
        finally:
            watcher.cancel()

    def load_response(shape: str, model: str) -> dict[str, Any]:
        # Ollama answers an empty prompt by (pre)loading the model.
        out = server._partial(shape, model, "")
        out.update(done=True, done_reason="load")
        return out

    @app.post("/api/chat")
    async def chat(request: Request) -> Response:
        body = await read_json(request)
        model = server._check_model(body.get("model"))
        messages = messages_to_openai(body.get("messages") or [])
        stream = body.get("stream") is not False
        if not messages:
            return JSONResponse(load_response("chat", model))
        llama_body = {
            "messages": messages,
            **options_to_llama(body.get("options")),
            **format_to_llama(body.get("format")),
        }
        return await respond(request, "chat", "chat", llama_body, model, stream)

    @app.post("/api/generate")
    async def generate(request: Request) -> Response:
        body = await read_json(request)
        model = server._check_model(body.get("model"))
        prompt = body.get("prompt") or ""
        system = body.get("system") or ""
        if not isinstance(prompt, str) or not isinstance(system, str):
            raise RequestError("prompt and system must be strings")
        stream = body.get("stream") is not False
        if not prompt:
            return JSONResponse(load_response("generate", model))
        sampling = {**options_to_llama(body.get("options")), **format_to_llama(body.get("format"))}
        if body.get("raw"):
            # raw: the prompt goes to the model as is, no chat template.
            return await respond(
                request, "completion", "generate", {"prompt": prompt, **sampling}, model, stream
            )
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": prompt}
        ]
        # Templated generate is a one-turn chat; the answer is reported as `response`.
        return await respond(
            request, "chat", "generate", {"messages": messages, **sampling}, model, stream
        )

    return app


async def _ndjson(
    request: Request,
    first: dict[str, Any],
    chunks: AsyncIterator[dict[str, Any]],
    cancel: threading.Event,
) -> AsyncIterator[bytes]:
    watcher = asyncio.create_task(_watch_disconnect(request, cancel))
    try:
        yield (json.dumps(first) + "\n").encode()
        try:
            async for part in chunks:
                yield (json.dumps(part) + "\n").encode()
        except RequestError as exc:
            # Headers are gone already; Ollama reports mid-stream failures as an error line.
            yield (json.dumps({"error": str(exc)}) + "\n").encode()
    finally:
        cancel.set()
        watcher.cancel()
        with contextlib.suppress(Exception):
            await chunks.aclose()  # type: ignore[attr-defined]


async def _watch_disconnect(request: Request, cancel: threading.Event) -> None:
    """Set ``cancel`` when the client hangs up, so llama.cpp stops and frees the slot."""
    with contextlib.suppress(Exception):
        while not cancel.is_set():
            message = await request.receive()
            if message.get("type") == "http.disconnect":
                cancel.set()
                return
