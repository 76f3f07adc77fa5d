"""A fixture corpus ingested once per module into a real on-disk Chroma store."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.ingest import ingest_knowledge_base
from retrieval.chroma_store import ChromaStore
from tests.retrieval.kb_fixtures import kb_settings, write_corpus


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory, embeddings) -> ChromaStore:
    """The fixture corpus embedded with the real model into Chroma on disk (read-only in tests)."""
    root = tmp_path_factory.mktemp("kb")
    corpus = write_corpus(root / "passages")
    store = ChromaStore(
        path=Path(root) / "chroma", collection="interventions", embeddings=embeddings
    )
    report = ingest_knowledge_base(store, kb_settings(corpus))
    assert not report.errors
    return store
