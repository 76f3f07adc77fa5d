"""Chroma vector store adapter: on-disk (``PersistentClient``) or a Chroma server (``HttpClient``).

Embeddings are always computed here with the injected local model and handed to Chroma, and the
collection is created without an embedding function, so Chroma can never fall back to its default
one (which would try to download a model). Metadata values are scalars: list fields are stored
both pipe-joined (``conditions: "depression|anxiety"``) and as one boolean flag per value
(``cond_depression: True``) so ``where`` filters can select on them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from retrieval.base import EmbeddingModel

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from langchain_chroma import Chroma

logger = logging.getLogger(__name__)

#: Prefixes of the boolean flag keys, by list field.
FLAG_PREFIXES: dict[str, str] = {
    "conditions": "cond_",
    "severity": "sev_",
    "risk": "risk_",
    "population": "pop_",
}
#: Collection-level metadata key that changes on every write (lets readers see the store changed).
STAMP_KEY = "mindsignal_stamp"
#: Suffix of the collection a `kb ingest --rebuild` fills before it is swapped in.
STAGING_SUFFIX = "__rebuild"
INGEST_HINT = "run `mindsignal kb ingest`"
REBUILD_HINT = "run `mindsignal kb ingest --rebuild`"
SERVER_HINT = "start the Chroma server or fix retrieval.store_url"
#: Chroma's rule for collection names (leaving room for the staging suffix).
COLLECTION_NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{1,400}[A-Za-z0-9])$"


#: Seconds a Chroma server may take to answer one request before the store gives up on it.
SERVER_TIMEOUT_S = 30.0
#: Longest piece of an underlying error quoted in a StoreError (a web page can be the "error").
MAX_CAUSE_CHARS = 200
#: What SQLite (through Chroma) says when the store may be read but not written.
_NOT_WRITABLE_SIGNS = (
    "readonly database",
    "read-only file system",
    "permission denied",
    "unable to open database file",
)


class StoreError(RuntimeError):
    """The vector store is missing, empty, corrupt or unreachable; the message says what to do."""


class StoreNotWritableError(StoreError):
    """The on-disk store is there but may not be written (permissions, a read-only mount).

    Not a corrupt store: it must be left where it is, not moved aside or deleted.
    """


def brief_cause(exc: BaseException) -> str:
    """``Type: message`` of an underlying error on one short line, for a StoreError."""
    text = " ".join(str(exc).split())
    if len(text) > MAX_CAUSE_CHARS:
        text = text[: MAX_CAUSE_CHARS - 3].rstrip() + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def flag_key(field_name: str, value: str) -> str:
    """Metadata key of the boolean flag for one list value, e.g. ``cond_depression``."""
    return FLAG_PREFIXES[field_name] + value


def record_metadata(
    conditions: Sequence[str],
    severity: Sequence[str],
    risk: Sequence[str],
    population: Sequence[str] = (),
    **scalars: str | int | float | bool | None,
) -> dict[str, str | int | float | bool]:
    """Chroma-ready metadata: pipe-joined lists, one True flag per list value, and scalars.

    ``None`` scalars are left out (Chroma rejects them), and so is an empty ``population``.
    """
    meta: dict[str, str | int | float | bool] = {
        "conditions": "|".join(conditions),
        "severity": "|".join(severity),
        "risk": "|".join(risk),
    }
    if population:
        meta["population"] = "|".join(population)
    lists = (
        ("conditions", conditions),
        ("severity", severity),
        ("risk", risk),
        ("population", population),
    )
    for name, values in lists:
        for value in values:
            meta[flag_key(name, value)] = True
    for key, scalar in scalars.items():
        if scalar is not None:
            meta[key] = scalar
    return meta


def split_list(meta: Mapping[str, Any], name: str) -> list[str]:
    """A pipe-joined list field back as a list."""
    raw = meta.get(name) or ""
    return [v for v in str(raw).split("|") if v]


@dataclass(frozen=True)
class StoredDocument:
    """One record as stored: id, text, metadata and (when asked for) its embedding."""

    id: str
    text: str
    metadata: Mapping[str, Any]


@dataclass(frozen=True)
class StoreHit:
    """One dense-search hit; ``similarity`` is cosine similarity (1 - cosine distance)."""

    id: str
    text: str
    metadata: Mapping[str, Any]
    similarity: float


@dataclass(frozen=True)
class StoreSnapshot:
    """Everything in the store at one moment, for the BM25 index and MMR."""

    fingerprint: str
    documents: list[StoredDocument]
    embeddings: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class StoreHealth:
    """What ``health()`` found."""

    ok: bool
    location: str
    count: int
    message: str


def _limit_server_wait(client: Any, timeout_s: float) -> None:
    """Give a Chroma ``HttpClient`` a time limit (Chroma builds its HTTP session with none)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
    else:  # a Chroma release that keeps its session elsewhere: the probe still ran
        logger.debug("could not set a time limit on the Chroma client")


class ChromaStore:
    """The intervention corpus in Chroma, embedded with the injected local model.

    Args:
        path: On-disk store directory (used when ``url`` is empty).
        url: Chroma server URL, e.g. ``http://chroma:8000``; takes precedence over ``path``.
        collection: Collection name.
        embeddings: Local embedding model; Chroma's default embedding function is never used.
        timeout_s: Longest wait for one answer from a Chroma server.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        url: str | None = None,
        collection: str = "interventions",
        embeddings: EmbeddingModel | None = None,
        timeout_s: float = SERVER_TIMEOUT_S,
    ) -> None:
        if not url and path is None:
            raise ValueError("ChromaStore needs a path or a url")
        if not re.match(COLLECTION_NAME_PATTERN, collection):
            # Checked here: Chroma's own error would read as a corrupt store to be deleted.
            raise ValueError(
                f"invalid collection name {collection!r}: use 3-400 letters, digits, '.', '_' "
                "or '-', starting and ending with a letter or digit"
            )
        self.path = Path(path) if path is not None and not url else None
        self.url = url or None
        self.collection_name = collection
        self.embeddings = embeddings
        self.timeout_s = timeout_s
        self._client: ClientAPI | None = None
        self._collection: Collection | None = None
        self._lock = threading.RLock()
        self._local_writes = 0
        #: Width of the stored vectors, seen by the last :meth:`get_all` that read them.
        self._stored_dimension: int | None = None

    # ---- connection -------------------------------------------------------------------------
    @property
    def location(self) -> str:
        """Where the store lives, for messages."""
        return self.url or str(self.path)

    @property
    def local_version(self) -> int:
        """Counts this object's writes; cheap to read, unlike :meth:`fingerprint`."""
        return self._local_writes

    def _missing(self, what: str = "is missing") -> StoreError:
        return StoreError(f"vector store at {self.location} {what}: {INGEST_HINT}")

    def _get_client(self, create: bool) -> ClientAPI:
        if self._client is not None:
            return self._client
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        try:
            if self.url:
                parsed = urlparse(self.url if "://" in self.url else f"http://{self.url}")
                host = parsed.hostname or "localhost"
                port = parsed.port or (443 if parsed.scheme == "https" else 8000)
                ssl = parsed.scheme == "https"
                # Chroma's client waits for ever on a server that accepts and never answers, and
                # quotes a whole web page when the URL is not a Chroma server: ask first.
                self._probe_server(f"{'https' if ssl else 'http'}://{host}:{port}")
                client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
                _limit_server_wait(client, self.timeout_s)
                self._client = client
            else:
                assert self.path is not None
                if self.path.exists() and not self.path.is_dir():
                    raise StoreError(
                        f"vector store path {self.location} is a file, not a folder: move it "
                        "away or set retrieval.store_path to a folder"
                    )
                if not create and not (self.path / "chroma.sqlite3").is_file():
                    raise self._missing()
                self.path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(self.path), settings=settings)
        except StoreError:
            raise
        except Exception as exc:
            raise self._open_failure(exc) from exc
        return self._client

    def _probe_server(self, base: str) -> None:
        """Fail fast, with a short message, unless a Chroma server answers at ``base``."""
        import httpx

        url = f"{base}/api/v2/heartbeat"
        try:
            response = httpx.get(url, timeout=min(self.timeout_s, 10.0))
        except httpx.TimeoutException as exc:
            raise StoreError(
                f"vector store at {self.location} did not answer within "
                f"{min(self.timeout_s, 10.0):g} s: {SERVER_HINT}"
            ) from exc
        except httpx.HTTPError as exc:
            raise StoreError(
                f"vector store at {self.location} is unreachable ({brief_cause(exc)}): "
                f"{SERVER_HINT}"
            ) from exc
        try:
            ok = response.status_code == 200 and "nanosecond heartbeat" in response.json()
        except ValueError:  # not JSON: some other web server
            ok = False
        if not ok:
            raise StoreError(
                f"{self.location} is not a Chroma server (GET /api/v2/heartbeat answered "
                f"HTTP {response.status_code}): check retrieval.store_url"
            )

    def _open_failure(self, exc: BaseException) -> StoreError:
        """The StoreError for a store that could not be opened, saying what to do about it."""
        cause = brief_cause(exc)
        if self.url:
            return StoreError(
                f"vector store at {self.location} is unreachable ({cause}): {SERVER_HINT}"
            )
        if isinstance(exc, PermissionError) or any(
            sign in cause.lower() for sign in _NOT_WRITABLE_SIGNS
        ):
            return StoreNotWritableError(
                f"vector store at {self.location} cannot be written ({cause}): give MindSignal "
                "write access to it (Chroma writes even to read); the store was left as it is"
            )
        return StoreError(
            f"vector store at {self.location} is corrupt or unreadable ({cause}); "
            f"{REBUILD_HINT} (it moves the damaged store aside)"
        )

    def _get_collection(self, create: bool = False) -> Collection:
        with self._lock:
            if self._collection is not None:
                return self._collection
            client = self._get_client(create)
            try:
                if create:
                    self._collection = client.get_or_create_collection(
                        self.collection_name,
                        configuration={"hnsw": {"space": "cosine"}},
                        embedding_function=None,
                    )
                else:
                    self._collection = client.get_collection(
                        self.collection_name, embedding_function=None
                    )
            except Exception as exc:
                from chromadb.errors import NotFoundError

                if isinstance(exc, NotFoundError):
                    adopted = self._adopt_staged(client)
                    if adopted is not None:
                        self._collection = adopted
                        return adopted
                    raise self._missing(f"has no collection {self.collection_name!r}") from exc
                raise self._open_failure(exc) from exc
            return self._collection

    def _adopt_staged(self, client: ClientAPI) -> Collection | None:
        """A rebuild that died between deleting the old collection and renaming the new one."""
        try:
            staged = client.get_collection(
                f"{self.collection_name}{STAGING_SUFFIX}", embedding_function=None
            )
            if not (staged.metadata or {}).get(STAMP_KEY):
                return None  # never finished: an ingest marks the store changed at its end
            staged.modify(name=self.collection_name)
        except Exception:
            return None
        logger.warning("adopted the completed rebuild of collection %r", self.collection_name)
        return client.get_collection(self.collection_name, embedding_function=None)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a Chroma call, turning its failures into a StoreError that says what to do."""
        try:
            return fn(*args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            from chromadb.errors import NotFoundError

            if isinstance(exc, NotFoundError):
                self._collection = None
                raise self._missing(f"has no collection {self.collection_name!r}") from exc
            if "dimension" in str(exc).lower():  # Chroma's InvalidArgumentError, not a ValueError
                raise self._other_model() from exc
            raise StoreError(
                f"vector store at {self.location} failed to {what} ({brief_cause(exc)})"
            ) from exc

    def _other_model(self) -> StoreError:
        return StoreError(
            f"vector store at {self.location} was built with another embedding model: "
            f"{REBUILD_HINT}"
        )

    def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self.embeddings is None:
            raise StoreError("ChromaStore was built without an embedding model")
        return self.embeddings.embed_documents(list(texts))

    # ---- reads ------------------------------------------------------------------------------
    def exists(self) -> bool:
        """True when the collection exists (does not create anything)."""
        try:
            self._get_collection(create=False)
        except StoreError:
            return False
        return True

    def count(self) -> int:
        """Number of records; raises :class:`StoreError` when the store is missing."""
        col = self._get_collection()
        return int(self._call("count", col.count))

    def fingerprint(self) -> str:
        """Changes whenever the stored content changes (count plus a write stamp)."""
        col = self._get_collection()
        count = int(self._call("count", col.count))
        stamp = ""
        if self.url or self.path is not None:
            # Re-read the collection metadata: another process (``kb ingest``) may have written.
            client = self._get_client(create=False)
            fresh = self._call("read metadata", client.get_collection, self.collection_name)
            stamp = str((fresh.metadata or {}).get(STAMP_KEY, ""))
        return f"{count}:{stamp}:{self._local_writes}"

    def get_hashes(self) -> dict[str, str]:
        """``{id: content_hash}`` of every record."""
        return {
            doc_id: str(meta.get("content_hash", ""))
            for doc_id, meta in self.get_metadatas().items()
        }

    def get_metadatas(self) -> dict[str, Mapping[str, Any]]:
        """``{id: metadata}`` of every record, without texts or embeddings."""
        col = self._get_collection()
        out: dict[str, Mapping[str, Any]] = {}
        for batch in self._paged_get(col, include=["metadatas"]):
            for doc_id, meta in zip(batch["ids"], batch["metadatas"] or [], strict=False):
                out[doc_id] = meta or {}
        return out

    def get_all(self, with_embeddings: bool = False) -> StoreSnapshot:
        """Every record (and optionally its embedding), e.g. to build the BM25 index."""
        col = self._get_collection()
        fingerprint = self.fingerprint()
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        docs: list[StoredDocument] = []
        vectors: list[Any] = []
        for batch in self._paged_get(col, include=include):
            metas = batch["metadatas"] or []
            texts = batch["documents"] or []
            for i, doc_id in enumerate(batch["ids"]):
                docs.append(StoredDocument(doc_id, texts[i] or "", metas[i] or {}))
            if with_embeddings and batch.get("embeddings") is not None:
                vectors.extend(batch["embeddings"])
        matrix = (
            np.asarray(vectors, dtype=np.float32) if vectors else np.zeros((0, 0), dtype=np.float32)
        )
        if len(vectors):
            self._stored_dimension = int(matrix.shape[1])
        return StoreSnapshot(fingerprint=fingerprint, documents=docs, embeddings=matrix)

    def _paged_get(self, col: Collection, include: list[str], page: int = 2000) -> Iterable[Any]:
        # Chroma caps how many records one get() returns; page through them.
        offset = 0
        while True:
            batch = self._call("read", col.get, include=include, limit=page, offset=offset)
            if not batch["ids"]:
                return
            yield batch
            if len(batch["ids"]) < page:
                return
            offset += page

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Document embeddings from the store's model (e.g. to mix vectors before ``upsert``)."""
        return self._embed(texts)

    def embed_query(self, text: str) -> list[float]:
        """The query embedding, from the same model as the documents."""
        if self.embeddings is None:
            raise StoreError("ChromaStore was built without an embedding model")
        vector = self.embeddings.embed_query(text)
        if self._stored_dimension is not None and len(vector) != self._stored_dimension:
            # Compared here, as Chroma's own search would: the snapshot's vectors are compared
            # with this one in numpy, which would only fail on a shape mismatch deep inside.
            raise self._other_model()
        return vector

    def query(
        self,
        text: str | None = None,
        embedding: Sequence[float] | None = None,
        k: int = 10,
        where: Mapping[str, Any] | None = None,
    ) -> list[StoreHit]:
        """Nearest records to a text or an embedding, best first, optionally filtered by ``where``."""
        if embedding is None:
            if text is None:
                raise ValueError("query needs a text or an embedding")
            embedding = self.embed_query(text)
        col = self._get_collection()
        result = self._call(
            "query",
            col.query,
            query_embeddings=[list(embedding)],
            n_results=max(1, k),
            where=dict(where) if where else None,
            include=["documents", "metadatas", "distances"],
        )
        hits = []
        ids = result["ids"][0] if result["ids"] else []
        docs = (result.get("documents") or [[]])[0] or []
        metas = (result.get("metadatas") or [[]])[0] or []
        dists = (result.get("distances") or [[]])[0] or []
        for i, doc_id in enumerate(ids):
            hits.append(StoreHit(doc_id, docs[i] or "", metas[i] or {}, 1.0 - float(dists[i])))
        return hits

    def health(self) -> StoreHealth:
        """Whether the store answers, and how many records it holds; never raises."""
        try:
            n = self.count()
        except StoreError as exc:
            return StoreHealth(False, self.location, 0, str(exc))
        if n == 0:
            return StoreHealth(False, self.location, 0, f"vector store is empty: {INGEST_HINT}")
        return StoreHealth(True, self.location, n, f"{n} passages")

    def size_on_disk(self) -> int | None:
        """Bytes used by the on-disk store (None for a server)."""
        if self.path is None or not self.path.exists():
            return None
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    # ---- writes -----------------------------------------------------------------------------
    def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[Mapping[str, Any]],
        vectors: Sequence[Sequence[float]] | None = None,
    ) -> None:
        """Embed and insert-or-replace records (one Chroma write, after embedding succeeded).

        ``vectors`` skips embedding (precomputed with the same model, e.g. by a benchmark).
        A replaced record's metadata is replaced whole: Chroma's upsert merges metadata keys, so
        a passage whose tags were narrowed (``cond_general_wellbeing`` gone) kept the old filter
        flag; keys the new metadata lacks are written as ``None``, which removes them.
        """
        if not ids:
            return
        if not len(ids) == len(texts) == len(metadatas):
            raise ValueError("ids, texts and metadatas must have the same length")
        if vectors is None:
            vectors = self._embed(texts)
        elif len(vectors) != len(ids):
            raise ValueError("vectors must match ids in length")
        col = self._get_collection(create=True)
        new = [dict(m) for m in metadatas]
        old = self._call("read", col.get, ids=list(ids), include=["metadatas"])
        before = dict(zip(old.get("ids") or [], old.get("metadatas") or [], strict=False))
        for rid, meta in zip(ids, new, strict=True):
            for key in before.get(rid) or {}:
                meta.setdefault(key, None)
        self._call(
            "write",
            col.upsert,
            ids=list(ids),
            embeddings=[list(v) for v in vectors],
            documents=list(texts),
            metadatas=new,
        )
        self._local_writes += 1

    def delete(self, ids: Sequence[str]) -> None:
        """Remove records by id (unknown ids are ignored)."""
        if not ids:
            return
        col = self._get_collection(create=True)
        self._call("delete", col.delete, ids=list(ids))
        self._local_writes += 1

    def ensure_collection(self) -> None:
        """Create the store and collection if they do not exist yet."""
        self._get_collection(create=True)

    def mark_changed(self) -> None:
        """Record a write in the collection metadata so other processes see the store changed."""
        col = self._get_collection(create=True)
        stamp = f"{time.time():.6f}-{uuid.uuid4().hex[:8]}"
        meta = {k: v for k, v in (col.metadata or {}).items() if not k.startswith("hnsw:")}
        meta[STAMP_KEY] = stamp
        self._call("write metadata", col.modify, metadata=meta)
        self._local_writes += 1

    def staging(self) -> ChromaStore:
        """An empty sibling collection in the same store, to rebuild into before a swap."""
        staged = ChromaStore(
            path=self.path,
            url=self.url,
            collection=f"{self.collection_name}{STAGING_SUFFIX}",
            embeddings=self.embeddings,
        )
        staged._client = self._get_client(create=True)
        staged.drop()
        staged.ensure_collection()
        return staged

    def replace_with(self, staged: ChromaStore) -> None:
        """Make ``staged`` (from :meth:`staging`) this collection: delete ours, rename theirs.

        Until this call the old collection is untouched, so an interrupted rebuild leaves the
        previous store usable; if the process dies between the delete and the rename, the next
        open adopts the complete staged collection (see :meth:`_get_collection`).
        """
        col = staged._get_collection()
        self.drop()
        self._call("rename the rebuilt collection", col.modify, name=self.collection_name)
        staged._collection = None
        with self._lock:
            self._collection = None
        self._local_writes += 1

    def drop(self) -> None:
        """Delete the whole collection (for ``kb ingest --rebuild``)."""
        client = self._get_client(create=True)
        try:
            client.delete_collection(self.collection_name)
        except Exception as exc:
            from chromadb.errors import NotFoundError

            if not isinstance(exc, NotFoundError):
                raise StoreError(f"could not drop collection at {self.location}: {exc}") from exc
        self._collection = None
        self._local_writes += 1

    # ---- LangChain ---------------------------------------------------------------------------
    def as_langchain(self) -> Chroma:
        """A ``langchain_chroma.Chroma`` view of the same client, collection and embeddings."""
        from langchain_chroma import Chroma

        self._get_collection()  # fail with a StoreError now rather than inside LangChain
        return Chroma(
            client=self._get_client(create=False),
            collection_name=self.collection_name,
            embedding_function=self.embeddings,  # type: ignore[arg-type]
            create_collection_if_not_exists=False,
        )
