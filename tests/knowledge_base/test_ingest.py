"""Ingestion into a real on-disk Chroma with the real embedding model: incremental, interrupt-safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.ingest import KnowledgeBaseError, ingest_knowledge_base, missing_extra_paths
from retrieval.base import RetrievalQuery
from retrieval.chroma_store import ChromaStore
from retrieval.embeddings import SentenceTransformerEmbeddings
from retrieval.hybrid import HybridRetriever
from tests.retrieval.kb_fixtures import PASSAGES, kb_settings, make_pdf, passage_file, write_corpus

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class CrashingEmbeddings:
    """The real model, but raising on the n-th embedding call (a crash mid-ingest)."""

    def __init__(self, real: SentenceTransformerEmbeddings, fail_on_call: int) -> None:
        self.real = real
        self.name = real.name
        self.fail_on_call = fail_on_call
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise RuntimeError("simulated crash while embedding")
        return self.real.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.real.embed_query(text)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "passages")


def _store(tmp_path: Path, embeddings) -> ChromaStore:
    return ChromaStore(path=tmp_path / "chroma", collection="interventions", embeddings=embeddings)


def test_second_ingest_changes_nothing(tmp_path: Path, corpus: Path, embeddings) -> None:
    store = _store(tmp_path, embeddings)
    first = ingest_knowledge_base(store, kb_settings(corpus))
    assert (first.added, first.updated, first.removed) == (len(PASSAGES), 0, 0)
    assert store.count() == len(PASSAGES)

    second = ingest_knowledge_base(store, kb_settings(corpus))
    assert (second.added, second.updated, second.removed) == (0, 0, 0)
    assert second.unchanged == len(PASSAGES)
    assert "0 added, 0 updated, 0 removed" in second.summary()


def test_edited_passage_is_replaced_and_deleted_one_removed(
    tmp_path: Path, corpus: Path, embeddings
) -> None:
    store = _store(tmp_path, embeddings)
    ingest_knowledge_base(store, kb_settings(corpus))
    retriever = HybridRetriever(store, mode="lexical")

    edited = passage_file(corpus, "sub-alcohol-reduction")
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("drink diary", "kombucha diary"),
        encoding="utf-8",
    )
    passage_file(corpus, "anx-worry-time").unlink()

    report = ingest_knowledge_base(store, kb_settings(corpus))
    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    assert "anx-worry-time" not in store.get_hashes()

    found = retriever.retrieve(RetrievalQuery("kombucha diary", k=1))
    assert found[0].id == "sub-alcohol-reduction"
    assert "kombucha diary" in found[0].text


def test_a_passage_broken_by_an_edit_keeps_its_last_good_version(
    tmp_path: Path, corpus: Path, embeddings
) -> None:
    store = _store(tmp_path, embeddings)
    ingest_knowledge_base(store, kb_settings(corpus))
    before = store.get_hashes()["anx-worry-time"]

    path = passage_file(corpus, "anx-worry-time")
    path.write_text(
        path.read_text(encoding="utf-8").replace("audience: person", "audience: robots")
    )
    report = ingest_knowledge_base(store, kb_settings(corpus))

    assert report.removed == 0
    assert store.get_hashes()["anx-worry-time"] == before
    assert [(e.file, e.field) for e in report.errors] == [("anxiety/anx-worry-time.md", "audience")]


def test_interrupted_ingest_leaves_the_old_store_usable_and_a_rerun_completes(
    tmp_path: Path, corpus: Path, embeddings
) -> None:
    store = _store(tmp_path, embeddings)
    ingest_knowledge_base(store, kb_settings(corpus))
    old_hashes = store.get_hashes()

    # Edit every passage, then crash on the second batch of embeddings.
    for p in PASSAGES:
        path = passage_file(corpus, p.id)
        path.write_text(path.read_text(encoding="utf-8").replace("Talk it through", "Talk it over"))
    crashing = _store(tmp_path, CrashingEmbeddings(embeddings, fail_on_call=2))
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest_knowledge_base(crashing, kb_settings(corpus), batch_size=4)

    # A fresh process opening the store still finds every passage and can search it.
    reopened = _store(tmp_path, embeddings)
    assert reopened.count() == len(PASSAGES)
    hashes = reopened.get_hashes()
    assert sum(h != old_hashes[i] for i, h in hashes.items()) == 4  # only the first batch landed
    found = HybridRetriever(reopened).retrieve(
        RetrievalQuery("I drink wine every night to cope", ("substance_use",), "mild", "none", k=3)
    )
    assert found[0].id == "sub-alcohol-reduction"

    rerun = ingest_knowledge_base(reopened, kb_settings(corpus))
    assert (rerun.added, rerun.updated, rerun.removed) == (0, len(PASSAGES) - 4, 0)
    final = ingest_knowledge_base(reopened, kb_settings(corpus))
    assert not final.changed


def test_pdf_protocol_is_ingested_and_retrieved_by_its_content(
    tmp_path: Path, corpus: Path, embeddings
) -> None:
    pdf = make_pdf(
        tmp_path / "lithium_monitoring_protocol.pdf",
        [
            "Lithium monitoring protocol of the Riverside clinic.",
            "Check serum lithium levels every three months and kidney and thyroid function",
            "every six months. Patients must report vomiting, diarrhoea, coarse tremor or",
            "confusion the same day, because these can be signs of lithium toxicity.",
        ],
    )
    store = _store(tmp_path, embeddings)
    report = ingest_knowledge_base(store, kb_settings(corpus), extra_paths=[pdf])
    assert report.errors == []
    assert report.added == len(PASSAGES) + 1

    found = HybridRetriever(store).retrieve(
        RetrievalQuery("how often should lithium blood levels and kidney function be checked?", k=3)
    )
    top = found[0]
    assert top.metadata["source"] == "clinic"
    assert top.title == "Lithium monitoring protocol"
    assert "serum lithium levels" in top.text
    assert "lithium_monitoring_protocol.pdf" in top.citation

    # Deleting the protocol file removes its chunks on the next run.
    pdf.unlink()
    again = ingest_knowledge_base(store, kb_settings(corpus), extra_paths=[])
    assert again.removed == 1
    assert all(m.get("source") == "curated" for m in store.get_metadatas().values())


def test_unreadable_protocol_is_reported_and_the_rest_still_ingest(
    tmp_path: Path, corpus: Path, embeddings
) -> None:
    fake_pdf = tmp_path / "scan.pdf"
    fake_pdf.write_bytes(b"%PDF-1.4 this is not really a pdf")
    markdown = tmp_path / "crisis-team.md"
    markdown.write_text(
        "---\nconditions: [suicide_risk]\n---\n# Crisis team\n\nOur crisis team answers on "
        "extension 4242 around the clock; page the duty psychiatrist after 10 pm.\n",
        encoding="utf-8",
    )
    store = _store(tmp_path, embeddings)
    report = ingest_knowledge_base(store, kb_settings(corpus, extra_paths=[fake_pdf, markdown]))
    assert [e.field for e in report.errors] == ["file"]
    assert report.errors[0].file.endswith("scan.pdf")
    clinic = [m for m in store.get_metadatas().values() if m.get("source") == "clinic"]
    assert len(clinic) == 1
    assert clinic[0]["conditions"] == "suicide_risk"
    assert clinic[0]["title"] == "Crisis team"


def test_a_configured_protocol_path_that_is_gone_is_named_and_the_rest_ingests(
    tmp_path: Path, corpus: Path, embeddings
) -> None:
    present = tmp_path / "crisis-team.md"
    present.write_text("# Crisis team\n\nPage the duty psychiatrist after 10 pm.\n", "utf-8")
    gone_dir, gone_file = tmp_path / "unmounted-share", tmp_path / "old-leaflet.md"
    settings = kb_settings(corpus, extra_paths=[gone_dir, present, gone_file])

    assert missing_extra_paths(settings) == [gone_dir, gone_file]
    store = _store(tmp_path, embeddings)
    report = ingest_knowledge_base(store, settings)
    assert report.added == len(PASSAGES) + 1
    assert sorted(e.file for e in report.errors) == sorted([str(gone_dir), str(gone_file)])
    clinic = [m for m in store.get_metadatas().values() if m.get("source") == "clinic"]
    assert [m["title"] for m in clinic] == ["Crisis team"]


def test_a_configured_protocol_deleted_since_the_last_ingest_loses_its_records(
    tmp_path: Path, corpus: Path, embeddings
) -> None:
    kept = tmp_path / "crisis-team.md"
    kept.write_text("# Crisis team\n\nPage the duty psychiatrist after 10 pm.\n", "utf-8")
    leaflet = tmp_path / "old-leaflet.md"
    leaflet.write_text("# Old leaflet\n\nCall the day centre on extension 12.\n", "utf-8")
    settings = kb_settings(corpus, extra_paths=[kept, leaflet])
    store = _store(tmp_path, embeddings)
    ingest_knowledge_base(store, settings)
    titles = {m["title"] for m in store.get_metadatas().values() if m.get("source") == "clinic"}
    assert titles == {"Crisis team", "Old leaflet"}

    leaflet.unlink()  # still configured, but deleted
    report = ingest_knowledge_base(store, settings)
    assert report.removed == 1
    assert [e.file for e in report.errors] == [str(leaflet)]  # named, as before
    titles = {m["title"] for m in store.get_metadatas().values() if m.get("source") == "clinic"}
    assert titles == {"Crisis team"}


def test_missing_passages_folder_is_a_clear_error(tmp_path: Path, embeddings) -> None:
    store = _store(tmp_path, embeddings)
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        ingest_knowledge_base(store, kb_settings(tmp_path / "nowhere"))


def test_interrupted_rebuild_keeps_the_old_store_and_a_finished_one_swaps_in(
    tmp_path: Path, corpus: Path, embeddings
) -> None:
    store = _store(tmp_path, embeddings)
    ingest_knowledge_base(store, kb_settings(corpus))
    old_hashes = store.get_hashes()

    # The rebuild dies while embedding: the live collection is untouched.
    crashing = _store(tmp_path, CrashingEmbeddings(embeddings, fail_on_call=2))
    staged = crashing.staging()
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest_knowledge_base(staged, kb_settings(corpus), batch_size=4)
    reopened = _store(tmp_path, embeddings)
    assert reopened.get_hashes() == old_hashes

    # A rebuild that completes replaces the collection in one step.
    staged = reopened.staging()
    assert staged.count() == 0  # leftovers of the crashed rebuild are cleared first
    ingest_knowledge_base(staged, kb_settings(corpus))
    reopened.replace_with(staged)
    assert _store(tmp_path, embeddings).get_hashes() == old_hashes

    # Died between deleting the old collection and renaming the new one: the next open adopts it.
    staged = reopened.staging()
    ingest_knowledge_base(staged, kb_settings(corpus))
    reopened.drop()
    adopted = _store(tmp_path, embeddings)
    assert adopted.get_hashes() == old_hashes


def test_situations_shape_the_stored_vector_and_the_lexical_index(
    tmp_path: Path, corpus: Path, embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from knowledge_base import ingest as ingest_module
    from knowledge_base.ingest import SITUATION_WEIGHT, embedding_text, situation_text
    from tests.retrieval.kb_fixtures import passage_markdown

    fixture = next(p for p in PASSAGES if p.id == "anx-worry-time")
    situations = [
        "my brain keeps spinning about tomorrow like a rollercoaster at night",
        "I lie awake going over every possible thing that could go wrong",
    ]
    passage_file(corpus, fixture.id).write_text(
        passage_markdown(fixture, situations="[" + ", ".join(f'"{s}"' for s in situations) + "]"),
        encoding="utf-8",
    )
    store = _store(tmp_path, embeddings)
    ingest_knowledge_base(store, kb_settings(corpus))

    snap = store.get_all(with_embeddings=True)
    pos = [d.id for d in snap.documents].index(fixture.id)
    assert snap.documents[pos].metadata["situations"] == "|".join(situations)
    stored = snap.embeddings[pos]
    e_text = np.asarray(embeddings.embed_query(embedding_text(fixture.title, fixture.text)))
    e_sit = np.asarray(embeddings.embed_query(situation_text(fixture.title, situations)))
    mixed = (1 - SITUATION_WEIGHT) * e_text + SITUATION_WEIGHT * e_sit
    np.testing.assert_allclose(stored, mixed / np.linalg.norm(mixed), atol=1e-4)
    # Passages without situations keep their plain text embedding.
    other = next(p for p in PASSAGES if p.id != fixture.id)
    other_pos = [d.id for d in snap.documents].index(other.id)
    np.testing.assert_allclose(
        snap.embeddings[other_pos],
        embeddings.embed_query(embedding_text(other.title, other.text)),
        atol=1e-4,
    )

    # BM25 reads the situations too: words that are only there find the passage.
    found = HybridRetriever(store, mode="lexical").retrieve(
        RetrievalQuery("spinning rollercoaster", k=1)
    )
    assert found[0].id == fixture.id
    assert "rollercoaster" not in found[0].text  # the passage text shown is unchanged

    # A new vector recipe re-embeds every passage once; then nothing changes again.
    monkeypatch.setattr(ingest_module, "VECTOR_RECIPE", "text+situations:test")
    report = ingest_knowledge_base(store, kb_settings(corpus))
    assert report.updated == len(PASSAGES)
    assert ingest_knowledge_base(store, kb_settings(corpus)).changed is False


def _clinic_markdown(path: Path, text: str) -> Path:
    path.write_text(f"---\nconditions: [depression]\n---\n{text}\n", encoding="utf-8")
    return path


def test_the_summary_accounts_for_every_record_in_the_store(
    tmp_path: Path, corpus: Path, embeddings
) -> None:
    store = _store(tmp_path, embeddings)
    clinic = _clinic_markdown(
        tmp_path / "callbacks.md", "The duty nurse calls every new referral within 48 hours."
    )
    ingest_knowledge_base(store, kb_settings(corpus), extra_paths=[clinic])
    broken = passage_file(corpus, "anx-worry-time")
    broken.write_text(broken.read_text(encoding="utf-8").replace("audience: person", "audience: x"))

    # The clinic file is not named this time and one passage fails to load: both stay stored.
    report = ingest_knowledge_base(store, kb_settings(corpus))
    assert (report.kept_not_read, report.kept_with_errors) == (1, 1)
    assert report.total == store.count() == len(PASSAGES) + 1
    assert report.added + report.updated + report.unchanged + report.kept == report.total
    line = report.summary()
    assert f"{len(PASSAGES) - 1} unchanged" in line
    assert "1 kept (clinic files not named this run)" in line
    assert "1 kept (last good version; its file has errors)" in line
    assert report.to_dict()["kept_not_read"] == 1


def test_stored_clinic_files_lists_the_files_still_there_and_those_gone(
    tmp_path: Path, corpus: Path, embeddings
) -> None:
    from knowledge_base.ingest import stored_clinic_files

    store = _store(tmp_path, embeddings)
    kept = _clinic_markdown(tmp_path / "kept.md", "Call-backs within 48 hours of referral.")
    gone = _clinic_markdown(tmp_path / "gone.md", "Old leaflet about the waiting room.")
    ingest_knowledge_base(store, kb_settings(corpus), extra_paths=[kept, gone])
    gone.unlink()

    present, missing = stored_clinic_files(store)
    assert present == [kept.resolve()]
    assert missing == {str(gone.resolve()): 1}


def test_an_empty_passages_folder_leaves_the_store_as_it_was(
    tmp_path: Path, corpus: Path, embeddings
) -> None:
    store = _store(tmp_path, embeddings)
    ingest_knowledge_base(store, kb_settings(corpus))
    empty = tmp_path / "unmounted-share"  # an existing folder with nothing in it
    empty.mkdir()
    with pytest.raises(KnowledgeBaseError, match="holds no passage files"):
        ingest_knowledge_base(store, kb_settings(empty))
    assert store.count() == len(PASSAGES)
