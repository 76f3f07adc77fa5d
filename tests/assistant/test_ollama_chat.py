"""OllamaChat: the one chat code path, against the real embedded server."""

from __future__ import annotations

import re
import socket
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from assistant.llm.backend import LLMBackend
from assistant.llm.base import ChatModel, LLMOutputError, LLMUnavailableError
from assistant.llm.embedded_server import EmbeddedLlamaServer
from assistant.llm.ollama_chat import OllamaChat
from assistant.settings import LLMSettings


class Verdict(BaseModel):
    answer: Literal["yes", "no"]
    # The length limit becomes part of the grammar, so a rambling small model still closes the JSON.
    reason: str = Field(max_length=60)


class NeedsManyFields(BaseModel):
    a: str
    b: str
    c: str


def chat_for(server: EmbeddedLlamaServer, num_predict: int = 40) -> OllamaChat:
    backend = LLMBackend("ollama", server.base_url, server.model_name, "test")
    settings = LLMSettings(temperature=0, num_predict=num_predict, seed=7)
    return OllamaChat.from_backend(backend, settings)


@pytest.mark.integration
def test_invoke_and_stream_return_text(embedded_llm: EmbeddedLlamaServer) -> None:
    chat = chat_for(embedded_llm)
    assert isinstance(chat, ChatModel)
    assert chat.model == embedded_llm.model_name and chat.base_url == embedded_llm.base_url
    text = chat.invoke([("system", "Be brief."), ("human", "Say hello.")])
    assert isinstance(text, str) and text.strip()
    deltas = list(chat.stream([("human", "Name two animals.")]))
    assert len(deltas) >= 2 and all(isinstance(d, str) for d in deltas)


@pytest.mark.integration
def test_structured_output_is_a_validated_model(embedded_llm: EmbeddedLlamaServer) -> None:
    chat = chat_for(embedded_llm, num_predict=80)
    verdict = chat.structured([("human", "Is water wet? Answer yes or no with a reason.")], Verdict)
    assert isinstance(verdict, Verdict)
    assert verdict.answer in ("yes", "no")


@pytest.mark.integration
def test_cut_off_structured_output_is_an_output_error(embedded_llm: EmbeddedLlamaServer) -> None:
    chat = chat_for(embedded_llm, num_predict=16)
    chat.num_predict = 3  # too few tokens to close the JSON object
    with pytest.raises(LLMOutputError, match="NeedsManyFields"):
        chat.structured([("human", "Fill the fields.")], NeedsManyFields)


@pytest.mark.integration
def test_unknown_model_is_unavailable(embedded_llm: EmbeddedLlamaServer) -> None:
    chat = OllamaChat(embedded_llm.base_url, "llama3.1:8b")
    with pytest.raises(LLMUnavailableError, match=r"llama3\.1:8b"):
        chat.invoke([("human", "hi")])


def test_dead_server_is_unavailable_not_a_crash() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    chat = OllamaChat(url, "smollm2:135m", timeout_s=5)
    with pytest.raises(LLMUnavailableError, match=re.escape(url)):
        chat.invoke([("human", "hi")])
    with pytest.raises(LLMUnavailableError, match=re.escape(url)):
        list(chat.stream([("human", "hi")]))
