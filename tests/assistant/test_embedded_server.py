"""The embedded llama.cpp server, driven by the official ``ollama`` client and ``ChatOllama``."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import httpx
import pytest
from pydantic import BaseModel

from assistant.llm.embedded_server import (
    DEFAULT_NUM_PREDICT,
    EmbeddedLlamaServer,
    EmbeddedServerError,
    RequestError,
    canonical_model_name,
    default_model_path,
    format_to_llama,
    options_to_llama,
)
from assistant.llm.gguf_info import GGUFError, read_gguf_info
from assistant.settings import EmbeddedLLMSettings

if TYPE_CHECKING:
    import ollama


class Mood(BaseModel):
    mood: Literal["calm", "anxious", "low"]
    confidence: int


# ---- request translation and model metadata (no server) -----------------------------------------


def test_options_map_onto_llama_sampling_parameters() -> None:
    params = options_to_llama(
        {
            "num_predict": 7,
            "temperature": 0.1,
            "top_p": 0.9,
            "top_k": 5,
            "seed": 3,
            "stop": "END",
            "num_ctx": 9999,
            "num_thread": 4,
        }
    )
    assert params == {
        "max_tokens": 7,
        "temperature": 0.1,
        "top_p": 0.9,
        "top_k": 5,
        "seed": 3,
        "stop": ["END"],
    }


def test_unbounded_num_predict_gets_the_default_cap() -> None:
    assert options_to_llama({"num_predict": -1})["max_tokens"] == DEFAULT_NUM_PREDICT
    assert options_to_llama(None)["max_tokens"] == DEFAULT_NUM_PREDICT


def test_format_json_and_schema_and_garbage() -> None:
    assert format_to_llama("json") == {"response_format": {"type": "json_object"}}
    assert format_to_llama({"type": "object"}) == {"json_schema": {"type": "object"}}
    assert format_to_llama("") == {}
    with pytest.raises(RequestError, match="invalid format"):
        format_to_llama("yaml")


def test_model_names_without_tag_mean_latest() -> None:
    assert canonical_model_name("smollm2") == "smollm2:latest"
    assert canonical_model_name("smollm2:135m") == "smollm2:135m"
    assert canonical_model_name("registry.io/ns/model") == "registry.io/ns/model:latest"


def test_gguf_header_of_the_bundled_model() -> None:
    info = read_gguf_info(default_model_path())
    assert info.architecture == "llama"
    assert info.quantization == "Q4_1"
    assert info.parameter_size == "135M"
    assert info.label == "SmolLM2-135M-Instruct Q4_1"
    assert info.context_length == 8192


def test_non_gguf_file_is_refused_clearly(tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"not a model at all")
    with pytest.raises(GGUFError, match="not a GGUF"):
        read_gguf_info(bogus)


def test_missing_model_file_fails_start_with_the_path(tmp_path: Path) -> None:
    server = EmbeddedLlamaServer(EmbeddedLLMSettings(model_path=tmp_path / "nope.gguf"))
    with pytest.raises(EmbeddedServerError, match=r"nope\.gguf"):
        server.start()
    assert not server.is_running


# ---- the running server -------------------------------------------------------------------------


@pytest.fixture
def client(embedded_llm: EmbeddedLlamaServer) -> ollama.Client:
    import ollama

    return ollama.Client(host=embedded_llm.base_url, timeout=300)


@pytest.mark.integration
def test_root_version_and_model_listing(
    embedded_llm: EmbeddedLlamaServer, client: ollama.Client
) -> None:
    assert httpx.get(embedded_llm.base_url + "/").text == "Ollama is running"
    assert httpx.get(embedded_llm.base_url + "/api/version").json()["version"]
    models = client.list().models
    assert [m.model for m in models] == [embedded_llm.model_name]
    assert models[0].details is not None
    assert models[0].details.quantization_level == "Q4_1"
    assert models[0].size and models[0].size > 50_000_000
    shown = client.show(embedded_llm.model_name)
    assert shown.details is not None and shown.details.family == "llama"
    assert client.ps().models[0].model == embedded_llm.model_name


@pytest.mark.integration
def test_chat_non_streaming_reports_ollama_fields(
    embedded_llm: EmbeddedLlamaServer, client: ollama.Client
) -> None:
    r = client.chat(
        model=embedded_llm.model_name,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello."},
        ],
        options={"num_predict": 12, "temperature": 0},
        stream=False,
    )
    assert r.done is True
    assert r.done_reason in ("stop", "length")
    assert r.message.role == "assistant"
    assert r.message.content.strip()
    assert r.prompt_eval_count and r.prompt_eval_count > 5
    assert r.eval_count is not None and 0 < r.eval_count <= 12
    assert r.total_duration and r.total_duration > 0
    assert r.created_at and r.created_at.endswith("Z")


@pytest.mark.integration
def test_chat_streaming_yields_deltas_then_a_final_summary(
    embedded_llm: EmbeddedLlamaServer, client: ollama.Client
) -> None:
    parts = list(
        client.chat(
            model=embedded_llm.model_name,
            messages=[{"role": "user", "content": "Name three fruits."}],
            options={"num_predict": 20, "temperature": 0},
            stream=True,
        )
    )
    assert len(parts) >= 3
    assert all(p.done is False for p in parts[:-1])
    assert parts[-1].done is True and parts[-1].eval_count is not None
    assert "".join(p.message.content or "" for p in parts).strip()


@pytest.mark.integration
def test_num_predict_is_respected(embedded_llm: EmbeddedLlamaServer, client: ollama.Client) -> None:
    r = client.generate(
        model=embedded_llm.model_name,
        prompt="Write a long story about the sea.",
        options={"num_predict": 5, "temperature": 0},
    )
    assert r.eval_count is not None and r.eval_count <= 5
    assert r.done_reason == "length"


@pytest.mark.integration
def test_schema_constrained_json_validates(
    embedded_llm: EmbeddedLlamaServer, client: ollama.Client
) -> None:
    r = client.chat(
        model=embedded_llm.model_name,
        messages=[{"role": "user", "content": "I keep worrying about everything. Rate my mood."}],
        format=Mood.model_json_schema(),
        options={"num_predict": 60, "temperature": 0},
        stream=False,
    )
    mood = Mood.model_validate_json(r.message.content)
    assert mood.mood in ("calm", "anxious", "low")


@pytest.mark.integration
def test_format_json_gives_json(embedded_llm: EmbeddedLlamaServer, client: ollama.Client) -> None:
    r = client.generate(
        model=embedded_llm.model_name,
        prompt="Return a JSON object with a key 'color'.",
        format="json",
        options={"num_predict": 40, "temperature": 0},
    )
    if r.done_reason == "stop":  # cut off by num_predict would be legitimately partial
        assert isinstance(json.loads(r.response), dict)
    else:
        assert r.response.lstrip().startswith("{")


@pytest.mark.integration
def test_unknown_model_is_a_404_response_error(
    embedded_llm: EmbeddedLlamaServer, client: ollama.Client
) -> None:
    import ollama

    with pytest.raises(ollama.ResponseError) as chat_err:
        client.chat(model="llama3.1:8b", messages=[{"role": "user", "content": "hi"}])
    assert chat_err.value.status_code == 404
    assert "llama3.1:8b" in chat_err.value.error
    with pytest.raises(ollama.ResponseError) as gen_err:
        client.generate(model="nope", prompt="hi", stream=False)
    assert gen_err.value.status_code == 404
    with pytest.raises(ollama.ResponseError) as show_err:
        client.show("nope")
    assert show_err.value.status_code == 404


@pytest.mark.integration
def test_bad_requests_get_clear_400s(embedded_llm: EmbeddedLlamaServer) -> None:
    url = embedded_llm.base_url
    r = httpx.post(url + "/api/chat", content=b"{not json", timeout=30)
    assert r.status_code == 400 and "invalid JSON" in r.json()["error"]
    r = httpx.post(
        url + "/api/chat", json={"model": embedded_llm.model_name, "messages": "hi"}, timeout=30
    )
    assert r.status_code == 400 and "messages" in r.json()["error"]
    r = httpx.post(
        url + "/api/chat",
        json={
            "model": embedded_llm.model_name,
            "messages": [{"role": "user", "content": "x"}],
            "format": {"type": "nonsense"},
            "stream": False,
        },
        timeout=60,
    )
    assert r.status_code == 400 and "schema" in r.json()["error"].lower()
    r = httpx.post(url + "/api/generate", json={"prompt": "hi"}, timeout=30)
    assert r.status_code == 400 and "model" in r.json()["error"]


@pytest.mark.integration
def test_generate_streaming_raw_and_system(
    embedded_llm: EmbeddedLlamaServer, client: ollama.Client
) -> None:
    parts = list(
        client.generate(
            model=embedded_llm.model_name,
            prompt="The capital of France is",
            raw=True,
            options={"num_predict": 6, "temperature": 0},
            stream=True,
        )
    )
    assert parts[-1].done is True
    assert "".join(p.response or "" for p in parts).strip()
    templated = client.generate(
        model=embedded_llm.model_name,
        prompt="Name a colour.",
        system="Answer with one word.",
        options={"num_predict": 8, "temperature": 0},
    )
    assert templated.response.strip()
    # Ollama's "load the model" call: an empty prompt answers done_reason=load, no generation.
    loaded = client.generate(model=embedded_llm.model_name, prompt="")
    assert loaded.done_reason == "load"


@pytest.mark.integration
def test_stop_sequence_is_honoured(
    embedded_llm: EmbeddedLlamaServer, client: ollama.Client
) -> None:
    r = client.generate(
        model=embedded_llm.model_name,
        prompt="1, 2, 3, 4, 5, 6,",
        raw=True,
        options={"num_predict": 40, "temperature": 0, "stop": ["9"]},
    )
    assert "9" not in r.response
    assert r.done_reason == "stop"
    assert r.eval_count is not None and r.eval_count < 40


@pytest.mark.integration
def test_two_concurrent_clients_are_both_served(
    embedded_llm: EmbeddedLlamaServer, client: ollama.Client
) -> None:
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def ask(i: int) -> None:
        try:
            r = client.chat(
                model=embedded_llm.model_name,
                messages=[{"role": "user", "content": f"Say the number {i}."}],
                options={"num_predict": 10, "temperature": 0},
                stream=False,
            )
            results[i] = r.message.content
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors
    assert sorted(results) == [1, 2, 3]
    assert all(text.strip() for text in results.values())


@pytest.mark.integration
def test_dropped_streams_free_their_slots(embedded_llm: EmbeddedLlamaServer) -> None:
    body = {
        "model": embedded_llm.model_name,
        "messages": [{"role": "user", "content": "Write a very long essay about rivers."}],
        "options": {"num_predict": 3000, "temperature": 0.8},
    }
    # Fill both slots with long generations and hang up after two lines each.
    for _ in range(2):
        with httpx.stream("POST", embedded_llm.base_url + "/api/chat", json=body, timeout=120) as r:
            lines = r.iter_lines()
            assert json.loads(next(lines))["done"] is False
            assert json.loads(next(lines))["done"] is False
    # The generations stop (the slot is free) instead of running to 3000 tokens.
    deadline = time.monotonic() + 120
    while embedded_llm.busy_generations and time.monotonic() < deadline:
        time.sleep(0.1)
    assert embedded_llm.busy_generations == 0
    # And new requests on both slots are answered.
    import ollama

    client = ollama.Client(host=embedded_llm.base_url, timeout=120)
    done: list[str] = []

    def ask() -> None:
        r = client.chat(
            model=embedded_llm.model_name,
            messages=[{"role": "user", "content": "Hi"}],
            options={"num_predict": 5},
            stream=False,
        )
        done.append(r.done_reason or "")

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=150)
    assert len(done) == 2


@pytest.mark.integration
def test_chat_ollama_invoke_and_stream(embedded_llm: EmbeddedLlamaServer) -> None:
    from langchain_ollama import ChatOllama

    llm = ChatOllama(
        base_url=embedded_llm.base_url,
        model=embedded_llm.model_name,
        temperature=0,
        num_predict=12,
        validate_model_on_init=True,
    )
    answer = llm.invoke([("system", "Be brief."), ("human", "Say hello.")])
    assert isinstance(answer.content, str) and answer.content.strip()
    assert answer.usage_metadata is not None and answer.usage_metadata["output_tokens"] <= 12
    chunks = [c.content for c in llm.stream("Name a fruit.")]
    assert len(chunks) >= 2 and "".join(map(str, chunks)).strip()


@pytest.mark.integration
def test_server_stops_and_its_port_closes(tmp_path: Path) -> None:
    # The 8-bit KV cache (the memory-saving setting) is exercised here too.
    server = EmbeddedLlamaServer(
        EmbeddedLLMSettings(port=0, parallel=1, context_size=1024, threads=1, kv_cache_type="q8_0")
    )
    server.start()
    url = server.base_url
    assert httpx.get(url + "/api/tags").status_code == 200
    reply = httpx.post(
        url + "/api/chat",
        json={
            "model": server.model_name,
            "messages": [{"role": "user", "content": "Say hi."}],
            "stream": False,
            "options": {"num_predict": 4},
        },
        timeout=60,
    )
    assert reply.status_code == 200 and reply.json()["message"]["content"].strip()
    server.stop()
    assert not server.is_running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/api/tags", timeout=5)
    server.stop()  # idempotent
