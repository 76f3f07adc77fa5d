"""ChromaStore on a real on-disk Chroma: filters on flags, clear errors, the LangChain view."""

from __future__ import annotations

import http.server
import re
import socket
import threading
from pathlib import Path

import pytest

from retrieval.base import RetrievalQuery
from retrieval.chroma_store import (
    ChromaStore,
    StoreError,
    StoreNotWritableError,
    record_metadata,
)
from retrieval.hybrid import HybridRetriever
from tests.retrieval.kb_fixtures import read_only_store

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


def test_a_read_only_store_is_not_called_corrupt(tmp_path: Path, embeddings) -> None:
    path = tmp_path / "chroma"
    ChromaStore(path=path, embeddings=embeddings).upsert(
        ["sleep-1"], ["Keep regular sleep times."], [record_metadata(["depression"], [], [])]
    )
    with read_only_store(path), pytest.raises(StoreNotWritableError) as err:
        ChromaStore(path=path, embeddings=embeddings).count()
    message = str(err.value)
    # A healthy store on a read-only mount must not be deleted on our advice.
    assert "cannot be written" in message and "write access" in message
    assert "corrupt" not in message and "delete" not in message
    assert ChromaStore(path=path, embeddings=embeddings).count() == 1


def test_a_file_in_place_of_the_store_folder_is_named(tmp_path: Path, embeddings) -> None:
    path = tmp_path / "chroma"
    path.write_text("notes", encoding="utf-8")
    store = ChromaStore(path=path, embeddings=embeddings)
    with pytest.raises(StoreError, match="is a file, not a folder"):
        store.ensure_collection()
    assert path.read_text(encoding="utf-8") == "notes"


class _EightDimensions:
    """Another embedding model: 8-dimensional vectors."""

    name = "eight-dims"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(len(t) % 7 + 1)] * 8 for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0] * 8


def test_a_store_built_with_another_model_says_to_rebuild(tmp_path: Path, embeddings) -> None:
    path = tmp_path / "chroma"
    ChromaStore(path=path, embeddings=_EightDimensions()).upsert(
        ["a", "b"],
        ["Keep regular sleep times.", "Slow breathing for panic."],
        [record_metadata(["depression"], ["mild"], ["none"])] * 2,
    )
    store = ChromaStore(path=path, embeddings=embeddings)
    hint = "another embedding model: run `mindsignal kb ingest --rebuild`"
    for mode in ("hybrid", "dense"):
        with pytest.raises(StoreError, match=re.escape(hint)):
            HybridRetriever(store, mode=mode).retrieve(RetrievalQuery("panic attack"))
    with pytest.raises(StoreError, match=re.escape(hint)):
        store.upsert(["c"], ["A drink diary."], [record_metadata(["substance_use"], [], [])])


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.HTTPServer:
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_url_that_is_not_a_chroma_server_is_one_short_line(tmp_path: Path) -> None:
    server = _serve(http.server.SimpleHTTPRequestHandler)  # any web server: 404 pages
    try:
        store = ChromaStore(url=f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(StoreError) as err:
            store.count()
    finally:
        server.shutdown()
    message = str(err.value)
    assert "is not a Chroma server" in message and "HTTP 404" in message
    assert "\n" not in message and "<html" not in message.lower()


def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts connections, never replies
    errors: list[BaseException] = []

    def count() -> None:
        try:
            ChromaStore(url=f"http://127.0.0.1:{listener.getsockname()[1]}").count()
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=count, daemon=True)
    try:
        worker.start()
        worker.join(timeout=30)
    finally:
        listener.close()
    assert not worker.is_alive(), "the store waited for ever on a silent server"
    assert isinstance(errors[0], StoreError) and "did not answer within 10 s" in str(errors[0])


def test_an_unreachable_server_says_to_start_it_not_to_ingest(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StoreError) as err:
        ChromaStore(url=f"http://127.0.0.1:{port}").count()
    message = str(err.value)
    assert "is unreachable" in message and "start the Chroma server" in message
    assert "kb ingest" not in message


def test_a_replaced_record_loses_the_filter_flags_its_new_tags_drop(
    tmp_path: Path, embeddings
) -> None:
    """Chroma's upsert merges metadata keys: a passage whose tags were narrowed kept matching
    the old condition and severity filters until a rebuild."""
    store = ChromaStore(path=tmp_path / "chroma", embeddings=embeddings)
    text = "Keep a drink diary to cut down on alcohol."
    wide = record_metadata(["substance_use", "general_wellbeing"], ["mild", "severe"], ["none"])
    store.upsert(["drink-1"], [text], [wide])
    assert [h.id for h in store.query(text=text, k=1, where={"sev_severe": True})] == ["drink-1"]

    narrow = record_metadata(["substance_use"], ["mild"], ["none"], content_hash="b")
    store.upsert(["drink-1"], [text], [narrow])
    assert store.query(text=text, k=1, where={"sev_severe": True}) == []
    assert store.query(text=text, k=1, where={"cond_general_wellbeing": True}) == []
    assert [h.id for h in store.query(text=text, k=1, where={"sev_mild": True})] == ["drink-1"]
