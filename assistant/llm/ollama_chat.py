"""The one chat code path: LangChain's ``ChatOllama`` against a real Ollama or the embedded server.

:class:`OllamaChat` adds three things to ``ChatOllama``: plain-string results, schema-constrained
structured output parsed into a pydantic model, and one error type
(:class:`~assistant.llm.base.LLMUnavailableError`) for every way of not reaching the model, so the
pipeline can degrade instead of crashing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from assistant.llm.base import LLMOutputError, LLMUnavailableError, Message, ModelT
from assistant.settings import LLMSettings

if TYPE_CHECKING:
    from langchain_ollama import ChatOllama

    from assistant.llm.backend import LLMBackend


def _is_unavailable(exc: BaseException) -> bool:
    import httpx

    try:
        import ollama
    except ImportError:  # pragma: no cover - dependency of the project
        ollama = None  # type: ignore[assignment]
    if isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError):
        return True
    return ollama is not None and isinstance(exc, ollama.ResponseError)


def _unavailable(exc: BaseException, base_url: str, model: str) -> LLMUnavailableError:
    status = getattr(exc, "status_code", None)
    detail = getattr(exc, "error", None) or str(exc) or type(exc).__name__
    if status == 404:
        return LLMUnavailableError(f"LLM at {base_url} has no model {model!r}: {detail}")
    if "timed out" in str(exc).lower() or "timeout" in type(exc).__name__.lower():
        return LLMUnavailableError(f"LLM at {base_url} did not answer in time ({detail})")
    return LLMUnavailableError(f"LLM at {base_url} is unavailable: {detail}")


class OllamaChat:
    """Chat with an Ollama-compatible server through ``langchain_ollama.ChatOllama``.

    Args:
        base_url: Ollama base URL (a real Ollama or the embedded server).
        model: Model name.
        temperature: Sampling temperature.
        num_predict: Maximum answer tokens.
        num_ctx: Context window to request.
        seed: Sampling seed, for reproducible answers.
        repeat_penalty: Ollama's penalty on repeated tokens (small models loop without one).
        timeout_s: Give up on one request after this long.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        temperature: float = 0.2,
        num_predict: int = 512,
        num_ctx: int = 4096,
        seed: int | None = None,
        repeat_penalty: float | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.temperature = temperature
        self.num_predict = num_predict
        self.num_ctx = num_ctx
        self.seed = seed
        self.repeat_penalty = repeat_penalty
        self.timeout_s = timeout_s
        self._llm: ChatOllama | None = None

    @classmethod
    def from_backend(cls, backend: LLMBackend, settings: LLMSettings) -> OllamaChat:
        """Build from a resolved backend (where) and the LLM settings (how)."""
        return cls(
            backend.base_url,
            backend.model,
            temperature=settings.temperature,
            num_predict=settings.num_predict,
            num_ctx=settings.num_ctx,
            seed=settings.seed,
            repeat_penalty=settings.repeat_penalty,
            timeout_s=settings.request_timeout_s,
        )

    @property
    def llm(self) -> ChatOllama:
        """The underlying LangChain chat model (built on first use)."""
        if self._llm is None:
            from langchain_ollama import ChatOllama

            self._llm = ChatOllama(
                base_url=self.base_url,
                model=self.model,
                temperature=self.temperature,
                num_predict=self.num_predict,
                num_ctx=self.num_ctx,
                seed=self.seed,
                repeat_penalty=self.repeat_penalty,
                client_kwargs={"timeout": self.timeout_s},
            )
        return self._llm

    def invoke(self, messages: Sequence[Message], **kwargs: Any) -> str:
        """The whole answer as one string.

        Raises:
            LLMUnavailableError: The server is unreachable, too slow, or lacks the model.
        """
        try:
            result = self.llm.invoke(list(messages), **kwargs)
        except Exception as exc:
            if _is_unavailable(exc):
                raise _unavailable(exc, self.base_url, self.model) from exc
            raise
        return result.text if hasattr(result, "text") else str(result.content)

    def warm_up(self, messages: Sequence[Message]) -> None:
        """Have the server load the model and read ``messages`` (one answer token, discarded).

        The options other than the answer length are the drafts' own (a different ``num_ctx``
        would make Ollama reload the model), so the server's prompt cache then holds their prefix.

        Raises:
            LLMUnavailableError: The server is unreachable, too slow, or lacks the model.
        """
        options = {
            k: v
            for k, v in {
                "num_predict": 1,
                "num_ctx": self.num_ctx,
                "temperature": self.temperature,
                "seed": self.seed,
                "repeat_penalty": self.repeat_penalty,
            }.items()
            if v is not None
        }
        self.invoke(messages, options=options)

    def stream(self, messages: Sequence[Message], **kwargs: Any) -> Iterator[str]:
        """The answer as text deltas, as they arrive.

        Raises:
            LLMUnavailableError: The server is unreachable, too slow, or lacks the model.
        """
        try:
            for chunk in self.llm.stream(list(messages), **kwargs):
                text = chunk.content if isinstance(chunk.content, str) else chunk.text
                if text:
                    yield text
        except Exception as exc:
            if _is_unavailable(exc):
                raise _unavailable(exc, self.base_url, self.model) from exc
            raise

    def structured(self, messages: Sequence[Message], schema: type[ModelT]) -> ModelT:
        """An answer constrained to ``schema`` (Ollama ``format=<JSON schema>``), validated.

        Raises:
            LLMUnavailableError: The server is unreachable, too slow, or lacks the model.
            LLMOutputError: The answer is not valid JSON for ``schema`` (e.g. cut off by
                ``num_predict``).
        """
        text = self.invoke(messages, format=schema.model_json_schema())
        try:
            return schema.model_validate_json(text)
        except ValidationError as exc:
            # The output is not quoted: it may echo the (sensitive) input text.
            raise LLMOutputError(
                f"model output ({len(text)} chars) does not match {schema.__name__}: "
                f"{exc.error_count()} error(s), first: {exc.errors()[0]['type']}"
            ) from exc
