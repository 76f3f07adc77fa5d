"""ChromaStore on a real on-disk Chroma: filters on flags, clear errors, the LangChain view."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.chroma_store import ChromaStore, StoreError, record_metadata
from retrieval.hybrid import HybridRetriever

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_missing_store_says_how_to_fix_it_and_creates_nothing(tmp_path: Path, embeddings) -> None:
    path = tmp_path / "never-ingested"
    store = ChromaStore(path=path, embeddings=embeddings)
    with pytest.raises(StoreError, match=r"is missing: run `mindsignal kb ingest`") as err:
        store.count()
    assert str(path) in str(err.value)
    assert not path.exists()
    health = store.health()
    assert not health.ok and "mindsignal kb ingest" in health.message


def test_corrupt_store_is_a_clear_store_error(tmp_path: Path, embeddings) -> None:
    path = tmp_path / "chroma"
    path.mkdir()
    (path / "chroma.sqlite3").write_bytes(b"this is not a sqlite database" * 100)
    store = ChromaStore(path=path, embeddings=embeddings)
    with pytest.raises(StoreError, match="corrupt") as err:
        store.count()
    assert "mindsignal kb ingest" in str(err.value)
    with pytest.raises(StoreError):
        HybridRetriever(store).warm_up()


def test_store_without_the_collection_is_missing(tmp_path: Path, embeddings) -> None:
    ChromaStore(path=tmp_path / "c", collection="other", embeddings=embeddings).ensure_collection()
    store = ChromaStore(path=tmp_path / "c", collection="interventions", embeddings=embeddings)
    with pytest.raises(StoreError, match="no collection 'interventions'"):
        store.get_hashes()


def test_upsert_query_filter_and_delete(tmp_path: Path, embeddings) -> None:
    store = ChromaStore(path=tmp_path / "chroma", embeddings=embeddings)
    store.upsert(
        ["sleep-1", "panic-1", "drink-1"],
        [
            "Keep regular sleep times to improve insomnia.",
            "Slow breathing helps you ride out a panic attack.",
            "Keep a drink diary to cut down on alcohol.",
        ],
        [
            record_metadata(
                ["general_wellbeing"], ["mild"], ["none"], content_hash="a", title="Sleep"
            ),
            record_metadata(["anxiety"], ["mild", "moderate"], ["none"], content_hash="b"),
            record_metadata(
                ["substance_use", "depression"], ["severe"], ["none"], content_hash="c"
            ),
        ],
    )
    assert store.count() == 3
    assert store.get_hashes() == {"sleep-1": "a", "panic-1": "b", "drink-1": "c"}

    # Cosine space: a text finds itself with similarity ~1.
    hit = store.query(text="Slow breathing helps you ride out a panic attack.", k=1)[0]
    assert hit.id == "panic-1" and hit.similarity > 0.99

    # Flags make list fields filterable.
    only_dep = store.query(text="panic attack", k=3, where={"cond_depression": True})
    assert [h.id for h in only_dep] == ["drink-1"]
    assert only_dep[0].metadata["conditions"] == "substance_use|depression"
    moderate = store.query(text="anything", k=3, where={"sev_moderate": True})
    assert [h.id for h in moderate] == ["panic-1"]

    store.delete(["panic-1"])
    assert set(store.get_hashes()) == {"sleep-1", "drink-1"}


def test_langchain_view_shares_collection_and_embeddings(fixture_store: ChromaStore) -> None:
    lc = fixture_store.as_langchain()
    docs = lc.similarity_search("keep a drink diary and set drink-free days", k=1)
    assert docs[0].id == "sub-alcohol-reduction"
    filtered = lc.similarity_search("breathing", k=5, filter={"cond_anxiety": True})
    assert filtered and all("anxiety" in d.metadata["conditions"] for d in filtered)


def test_health_and_size_of_a_populated_store(fixture_store: ChromaStore) -> None:
    health = fixture_store.health()
    assert health.ok and health.count == fixture_store.count() > 10
    assert (fixture_store.size_on_disk() or 0) > 100_000
