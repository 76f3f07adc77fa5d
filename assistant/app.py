"""The app factory: one place that turns settings into wired components.

``build_app(settings)`` returns a :class:`MindSignalApp` whose components are built on first use,
so constructing it is instant and nothing loads at import time. Each ``_build_*`` function is the
only place that knows how settings map onto a component's constructor.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from assistant.settings import AppSettings

if TYPE_CHECKING:
    from assistant.llm.backend import LLMBackend
    from assistant.llm.ollama_chat import OllamaChat
    from classifiers.base import Classifier
    from retrieval.base import Retriever
    from retrieval.embeddings import SentenceTransformerEmbeddings

logger = logging.getLogger(__name__)


class MindSignalApp:
    """Holds the settings and lazily built components of one running MindSignal."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self._lock = threading.RLock()

    # ---- components -------------------------------------------------------------------------
    @cached_property
    def embeddings(self) -> SentenceTransformerEmbeddings:
        from retrieval.embeddings import SentenceTransformerEmbeddings

        return SentenceTransformerEmbeddings(self.settings.retrieval.embedding_model_path)

    @cached_property
    def llm_backend(self) -> LLMBackend:
        with self._lock:
            return _build_llm_backend(self.settings)

    @cached_property
    def chat(self) -> OllamaChat:
        from assistant.llm.ollama_chat import OllamaChat

        return OllamaChat.from_backend(self.llm_backend, self.settings.llm)

    @cached_property
    def classifier(self) -> Classifier:
        with self._lock:
            return _build_classifier(self.settings)

    @cached_property
    def store(self) -> Any:
        with self._lock:
            return _build_store(self.settings, self.embeddings)

    @cached_property
    def retriever(self) -> Retriever:
        with self._lock:
            return _build_retriever(self.settings, self.store)

    @cached_property
    def pipeline(self) -> Any:
        with self._lock:
            return _build_pipeline(self)

    # ---- lifecycle --------------------------------------------------------------------------
    def prepare(self, progress: Callable[[str], None] | None = None) -> None:
        """First-start work: ingest the knowledge base if it changed. Idempotent and fast after."""
        from knowledge_base.ingest import ingest_knowledge_base

        say = progress or logger.info
        report = ingest_knowledge_base(self.store, self.settings.knowledge_base)
        say(f"knowledge base: {report.summary()}")

    def close(self) -> None:
        """Stop what this app started (the embedded LLM server, if any)."""
        backend = self.__dict__.get("llm_backend")
        if backend is not None:
            backend.close()


def build_app(settings: AppSettings) -> MindSignalApp:
    """Build the app from settings; components load on first use."""
    return MindSignalApp(settings)


def _build_llm_backend(settings: AppSettings) -> LLMBackend:
    from assistant.llm.backend import resolve_llm_backend

    return resolve_llm_backend(settings.llm)


def _build_classifier(settings: AppSettings) -> Classifier:
    from classifiers.factory import load_classifier

    cs = settings.classifier
    return load_classifier(
        artifact_dir=cs.artifact_dir,
        mode=cs.mode,
        threads=cs.threads,
        max_length=cs.max_tokens,
        explain=cs.explain_model_calls,
    )


def _build_store(settings: AppSettings, embeddings: SentenceTransformerEmbeddings) -> Any:
    from retrieval.chroma_store import ChromaStore

    rs = settings.retrieval
    return ChromaStore(
        path=settings.store_path,
        url=rs.store_url,
        collection=rs.collection,
        embeddings=embeddings,
    )


def _build_retriever(settings: AppSettings, store: Any) -> Retriever:
    from retrieval.hybrid import HybridRetriever

    rs = settings.retrieval
    return HybridRetriever(
        store=store,
        fetch_k=rs.fetch_k,
        use_lexical=rs.hybrid,
        lexical_weight=rs.lexical_weight,
        mmr_lambda=rs.mmr_lambda,
    )


def _build_pipeline(mind: MindSignalApp) -> Any:
    from assistant.pipeline import build_pipeline

    return build_pipeline(mind)
