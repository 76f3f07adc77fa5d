"""Incremental, interrupt-safe ingestion of the curated passages and clinic protocols into Chroma.

Every record carries the content hash of what it was embedded from (and the embedding model's
name and the vector recipe), so a re-run embeds only new or edited passages and removes the ones
whose files are gone.

Why an interrupted run leaves a usable store: records are embedded batch by batch and each batch
is written in one Chroma upsert only after its embeddings exist, so a crash (or Ctrl-C) between
batches leaves every record either in its old or in its new version, never half-written; removals
run last, after every upsert succeeded. The stored hashes are the manifest: the next run sees
what is still stale and finishes the job.

Clinic protocols are read when named (``mindsignal kb ingest PATH`` or
``knowledge_base.extra_paths``); the records of a clinic file not named in a run stay as they
were unless the file is gone, and a rebuild reads every stored clinic file again
(:func:`stored_clinic_files`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge_base.loader import PassageError, iter_passage_files, load_passages
from knowledge_base.protocols import chunk_metadata, load_protocols
from knowledge_base.schema import Passage
from retrieval.chroma_store import record_metadata

if TYPE_CHECKING:
    from assistant.settings import KnowledgeBaseSettings
    from retrieval.chroma_store import ChromaStore

logger = logging.getLogger(__name__)

BATCH_SIZE = 64
#: Share of a passage's stored vector that comes from its ``situations`` (see
#: :func:`record_vectors`); part of ``VECTOR_RECIPE``, so changing it re-embeds everything.
#: Chosen on knowledge_base/eval/queries_B1 (B2 held out), 2026-11-26: hybrid recall@5 on B1
#: 0.767 (no situations) -> 0.817 / 0.808 / 0.831 at 0.3 / 0.5 / 0.7; B2 0.661 -> 0.652.
SITUATION_WEIGHT = 0.7
#: Recorded on every record; a store written with another recipe is re-embedded on ingest.
VECTOR_RECIPE = f"text+situations:{SITUATION_WEIGHT}"


class KnowledgeBaseError(RuntimeError):
    """The knowledge base cannot be ingested at all (e.g. its folder is missing)."""


@dataclass(frozen=True)
class IngestRecord:
    """One record to store: id, text to embed and Chroma-ready metadata."""

    id: str
    text: str
    metadata: Mapping[str, Any]
    #: Text embedded beside ``text`` (title plus the passage's ``situations``), or "".
    situation_text: str = ""

    @property
    def content_hash(self) -> str:
        return str(self.metadata["content_hash"])


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run changed."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    errors: list[PassageError] = field(default_factory=list)
    seconds: float = 0.0
    total: int = 0
    #: Records of clinic files not named this run, left as they were.
    kept_not_read: int = 0
    #: Records whose file failed to load this run, kept at their last good version.
    kept_with_errors: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    @property
    def kept(self) -> int:
        """Stored records this run did not read; with added, updated and unchanged: the total."""
        return self.kept_not_read + self.kept_with_errors

    def summary(self) -> str:
        """One line for logs and the CLI."""
        line = (
            f"{self.total} records: {self.added} added, {self.updated} updated, "
            f"{self.removed} removed, {self.unchanged} unchanged"
        )
        if self.kept_not_read:
            line += f", {self.kept_not_read} kept (clinic files not named this run)"
        if self.kept_with_errors:
            line += f", {self.kept_with_errors} kept (last good version; its file has errors)"
        if self.errors:
            line += f"; {len(self.errors)} error(s) in {len({e.file for e in self.errors})} file(s)"
        return f"{line} ({self.seconds:.1f} s)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "kept_not_read": self.kept_not_read,
            "kept_with_errors": self.kept_with_errors,
            "total": self.total,
            "seconds": round(self.seconds, 3),
            "errors": [e.to_dict() for e in self.errors],
        }


def passage_record(passage: Passage, file: str, embedding_model: str = "") -> IngestRecord:
    """The store record of a curated passage."""
    e = passage.evidence
    meta = record_metadata(
        passage.conditions,
        passage.severity,
        passage.risk,
        passage.population,
        title=passage.title,
        intervention_type=passage.intervention_type,
        audience=passage.audience,
        guideline=e.guideline,
        section=e.section,
        year=e.year,
        url=str(e.url),
        citation=passage.citation,
        reviewed=passage.reviewed.isoformat(),
        source="curated",
        file=file,
        content_hash=passage.content_hash,
        embedding_model=embedding_model,
        situations="|".join(passage.situations) or None,
        after_treatment=passage.after_treatment or None,
        long_standing=passage.long_standing or None,
        requires="|".join(passage.requires) or None,
        vector_recipe=VECTOR_RECIPE,
    )
    return IngestRecord(
        passage.id,
        embedding_text(passage.title, passage.text),
        meta,
        situation_text=situation_text(passage.title, passage.situations),
    )


def situation_text(title: str, situations: Sequence[str]) -> str:
    """The second text a passage is embedded from: how the people it fits describe things."""
    return f"{title}: " + "; ".join(situations) if situations else ""


def record_vectors(
    embed: Callable[[list[str]], list[list[float]]], records: Sequence[IngestRecord]
) -> list[list[float]]:
    """Stored vector per record: a weighted unit mean of its text's and its situations' embeddings.

    Posts are informal and passages clinical; the situations, written in the posters' own
    words, pull each passage's vector towards the posts it suits, in the one vector Chroma
    keeps per record (so a Chroma server's own search sees it too). Records without
    situations keep their text embedding.
    """
    main = np.asarray(embed([r.text for r in records]), dtype=np.float32)
    with_sit = [i for i, r in enumerate(records) if r.situation_text]
    if with_sit:
        extra = np.asarray(
            embed([records[i].situation_text for i in with_sit]),
            dtype=np.float32,
        )
        mixed = (1.0 - SITUATION_WEIGHT) * _unit(main[with_sit]) + SITUATION_WEIGHT * _unit(extra)
        main[with_sit] = _unit(mixed)
    return main.tolist()


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def embedding_text(title: str, text: str) -> str:
    """What gets embedded and indexed: the title carries the gist, so it leads."""
    return f"{title}\n\n{text.strip()}"


def collect_records(
    kb_settings: KnowledgeBaseSettings,
    extra_paths: Iterable[Path | str] | None = None,
    embedding_model: str = "",
) -> tuple[list[IngestRecord], list[PassageError], set[str], set[str]]:
    """Load everything to ingest.

    Returns:
        Records, errors, the files whose records must be kept as they are (they failed to load
        this time, so their last good version stays), and the clinic files seen.
    """
    passages_dir = Path(kb_settings.passages_dir)
    if not passages_dir.is_dir():
        raise KnowledgeBaseError(
            f"knowledge-base folder {passages_dir} does not exist; set knowledge_base.passages_dir"
        )
    if not iter_passage_files(passages_dir):
        # An empty folder (a share not mounted, a wrong path) would otherwise remove every
        # curated passage from the store.
        raise KnowledgeBaseError(
            f"knowledge-base folder {passages_dir} holds no passage files (*.md); nothing was "
            "ingested and the store was left as it is; check knowledge_base.passages_dir"
        )
    loaded = load_passages([passages_dir], base=passages_dir)
    records = [passage_record(p, loaded.files[p.id], embedding_model) for p in loaded.passages]
    errors = list(loaded.errors)
    keep_files = set(loaded.failed_files)

    protocol_paths = [*kb_settings.extra_paths, *(extra_paths or [])]
    clinic_files: set[str] = set()
    if protocol_paths:
        protocols = load_protocols(protocol_paths)
        clinic_files = set(protocols.files)
        errors.extend(protocols.errors)
        # A file that failed to read keeps its last good records; one that is gone loses them
        # (a deleted protocol must not go on being recommended).
        keep_files |= {e.file for e in protocols.errors if Path(e.file).exists()}
        seen = {r.id for r in records}
        for chunk in protocols.chunks:
            if chunk.id in seen:
                continue
            seen.add(chunk.id)
            meta = record_metadata(
                chunk.conditions,
                chunk.severity,
                chunk.risk,
                **chunk_metadata(chunk),
                embedding_model=embedding_model,
            )
            records.append(IngestRecord(chunk.id, embedding_text(chunk.title, chunk.text), meta))
    return records, errors, keep_files, clinic_files


def missing_extra_paths(kb_settings: KnowledgeBaseSettings) -> list[Path]:
    """The configured ``extra_paths`` that do not exist; ingestion skips them and goes on."""
    return [Path(p) for p in kb_settings.extra_paths if not Path(p).exists()]


def stored_clinic_files(store: ChromaStore) -> tuple[list[Path], dict[str, int]]:
    """The clinic protocol files a store's records came from, to read again on a rebuild.

    Returns:
        The files still on disk (in name order), and each file that is gone with the number of
        records it left in the store.
    """
    counts = Counter(
        str(meta.get("file", ""))
        for meta in store.get_metadatas().values()
        if meta.get("source") == "clinic"
    )
    present = [Path(f) for f in sorted(counts) if f and Path(f).is_file()]
    gone = {f: n for f, n in sorted(counts.items()) if not (f and Path(f).is_file())}
    return present, gone


def ingest_knowledge_base(
    store: ChromaStore,
    kb_settings: KnowledgeBaseSettings,
    extra_paths: Iterable[Path | str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestReport:
    """Bring the store in line with the passages folder and clinic protocols.

    Args:
        store: The vector store to update.
        kb_settings: Where the passages (and configured clinic protocols) are.
        extra_paths: More clinic protocol files or folders (e.g. from ``mindsignal kb ingest``).
        progress: Called with (records written, records to write) after each batch.
        batch_size: Records embedded and written per step.

    Returns:
        Counts of added, updated, removed and unchanged records, and per-file errors.
    """
    start = time.perf_counter()
    model_name = str(getattr(store.embeddings, "name", "") or "")
    records, errors, keep_files, clinic_files = collect_records(
        kb_settings, extra_paths, model_name
    )
    store.ensure_collection()
    existing = store.get_metadatas()

    added: list[IngestRecord] = []
    updated: list[IngestRecord] = []
    unchanged = 0
    for rec in records:
        old = existing.get(rec.id)
        if old is None:
            added.append(rec)
        elif (
            old.get("content_hash") != rec.content_hash
            or old.get("embedding_model", "") != model_name
            or old.get("file") != rec.metadata.get("file")
            or old.get("vector_recipe", "") != rec.metadata.get("vector_recipe", "")
        ):
            updated.append(rec)
        else:
            unchanged += 1

    wanted = {r.id for r in records}
    stale: list[str] = []
    kept_not_read = kept_with_errors = 0
    for doc_id, meta in existing.items():
        if doc_id in wanted:
            continue
        if meta.get("file") in keep_files:
            kept_with_errors += 1
            continue
        if meta.get("source") == "clinic":
            file = str(meta.get("file", ""))
            # A clinic file not passed this time is kept unless it was deleted; one that was
            # re-read keeps only its current chunks.
            if file not in clinic_files and Path(file).exists():
                kept_not_read += 1
                continue
        stale.append(doc_id)

    todo = updated + added
    for i in range(0, len(todo), batch_size):
        batch = todo[i : i + batch_size]
        store.upsert(
            [r.id for r in batch],
            [r.text for r in batch],
            [r.metadata for r in batch],
            vectors=record_vectors(store.embed_documents, batch),
        )
        if progress is not None:
            progress(min(i + batch_size, len(todo)), len(todo))
    if stale:
        store.delete(stale)
    if todo or stale:
        store.mark_changed()

    report = IngestReport(
        added=len(added),
        updated=len(updated),
        removed=len(stale),
        unchanged=unchanged,
        errors=errors,
        seconds=time.perf_counter() - start,
        total=store.count(),
        kept_not_read=kept_not_read,
        kept_with_errors=kept_with_errors,
    )
    logger.info("ingest: %s", report.summary())
    for err in errors:
        # File names and field names only: never passage or protocol text.
        logger.warning("knowledge-base file skipped: %s: %s", err.file, err.field)
    return report
