"""Interfaces and result types of retrieval."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class RetrievalQuery:
    """What to look for: the post (or its key sentences) plus what the classifier detected."""

    text: str
    conditions: tuple[str, ...] = ()
    severity: str | None = None
    risk: str | None = None
    k: int = 5
    #: Whom the post is about (``retrieval.post_context``); ``None``: read from the text.
    population: frozenset[str] | None = None
    #: Whether treatment has already started (``retrieval.post_context``); ``None``: read from
    #: the text.
    treated: bool | None = None
    #: Whether the difficulties have lasted years (``retrieval.post_context``); ``None``: read
    #: from the text.
    long_standing: bool | None = None
    #: The situations the post shows (``retrieval.post_context.SITUATIONS``); ``None``: read
    #: from the text.
    situations: frozenset[str] | None = None


@dataclass(frozen=True)
class RetrievedPassage:
    """One passage found, with its metadata, scores and a citation string."""

    id: str
    title: str
    text: str
    metadata: Mapping[str, Any]
    score: float
    citation: str
    scores: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "metadata": dict(self.metadata),
            "score": round(float(self.score), 4),
            "scores": {k: round(float(v), 4) for k, v in self.scores.items()},
            "citation": self.citation,
        }


@runtime_checkable
class Retriever(Protocol):
    """Finds intervention passages for a query."""

    def retrieve(self, query: RetrievalQuery) -> list[RetrievedPassage]:
        """Best passages first, at most ``query.k``."""
        ...


@runtime_checkable
class EmbeddingModel(Protocol):
    """Text embeddings (the LangChain ``Embeddings`` method names)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...
