"""Interfaces and errors of the LLM layer.

Everything that talks to a language model goes through :class:`ChatModel` (implemented by
:class:`assistant.llm.ollama_chat.OllamaChat`), and every failure to reach a model surfaces as
:class:`LLMUnavailableError`, so the pipeline has one thing to catch when it degrades.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound="BaseModel")

#: A chat message: a LangChain ``BaseMessage`` or a ``(role, content)`` tuple.
Message = Any


class LLMUnavailableError(RuntimeError):
    """The LLM could not be reached or did not answer in time; the message says where and why."""


class LLMOutputError(ValueError):
    """The LLM answered, but not with what was asked for (e.g. JSON that fails the schema)."""


@runtime_checkable
class ChatModel(Protocol):
    """A chat model the assistant can draft with."""

    model: str
    base_url: str

    def invoke(self, messages: Sequence[Message]) -> str:
        """The whole answer as one string."""
        ...

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        """The answer as text deltas, as they are generated."""
        ...

    def structured(self, messages: Sequence[Message], schema: type[ModelT]) -> ModelT:
        """An answer constrained to ``schema``'s JSON schema, parsed and validated."""
        ...


@runtime_checkable
class LLMBackendInfo(Protocol):
    """Where the chat model lives (a real Ollama or the embedded server)."""

    provider: str
    base_url: str
    model: str
    description: str

    def close(self) -> None:
        """Stop whatever this backend started."""
        ...
