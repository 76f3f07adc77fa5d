"""The store as a Chroma server (``chromadb.HttpClient``), the way a clinic or a batch cluster
shares one: a real ``chroma run`` process from the installed chromadb, on a free local port.

Ingest, incremental re-ingest, an edit, filtered hybrid retrieval, a rebuild and the server's
own persistence across a restart, all through ``ChromaStore(url=...)``; and a server that goes
away mid-session is a clear error, not a hang.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from assistant.cli import app
from knowledge_base.ingest import ingest_knowledge_base
from retrieval.base import RetrievalQuery
from retrieval.chroma_store import ChromaStore, StoreError
from retrieval.hybrid import HybridRetriever
from tests.retrieval.kb_fixtures import PASSAGES, kb_settings, passage_file, write_corpus

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMA = Path(sys.executable).with_name("chroma")  # the CLI the chromadb wheel installs


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ChromaServer:
    """One ``chroma run`` process over a data folder; stop() and start() keep the folder."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert CHROMA.is_file(), f"chromadb's CLI is missing at {CHROMA}"
        command = [str(CHROMA), "run", "--path", str(self.data), "--host", "127.0.0.1"]
        with (self.data.parent / "chroma-server.log").open("ab") as log:
            self._proc = subprocess.Popen(
                [*command, "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self._proc.returncode}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("chroma run did not answer its heartbeat within 60 s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    srv = ChromaServer(tmp_path / "server-data")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_ingest_query_and_rebuild_against_a_chroma_server(
    tmp_path: Path, server: ChromaServer, embeddings
) -> None:
    corpus = write_corpus(tmp_path / "passages")
    store = ChromaStore(url=server.url, collection="interventions", embeddings=embeddings)
    first = ingest_knowledge_base(store, kb_settings(corpus))
    assert not first.errors and first.added == len(PASSAGES)
    assert not ingest_knowledge_base(store, kb_settings(corpus)).changed  # idempotent

    edited = passage_file(corpus, "sub-alcohol-reduction")
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("Talk it through", "Talk it over"),
        encoding="utf-8",
    )
    again = ingest_knowledge_base(store, kb_settings(corpus))
    assert (again.added, again.updated, again.removed) == (0, 1, 0)

    # A second client (another worker, another process) sees the same records and filters.
    other = ChromaStore(url=server.url, collection="interventions", embeddings=embeddings)
    assert other.count() == len(PASSAGES)
    found = HybridRetriever(other).retrieve(
        RetrievalQuery("I drink wine every night to cope", ("substance_use",), "mild", "none", k=3)
    )
    assert found[0].id == "sub-alcohol-reduction"
    assert "Talk it over" in found[0].text
    crisis = HybridRetriever(other).retrieve(
        RetrievalQuery(
            "I have been thinking about ending my life", ("depression",), "severe", "ideation", k=5
        )
    )
    assert crisis and all("suicide_risk" in r.metadata["conditions"] for r in crisis[:1])


def test_the_cli_ingests_rebuilds_and_queries_through_a_server(
    tmp_path: Path, server: ChromaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``retrieval.store_url`` in settings is all it takes: no on-disk store is made."""
    corpus = write_corpus(tmp_path / "passages")
    monkeypatch.setenv("MINDSIGNAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MINDSIGNAL_KNOWLEDGE_BASE__PASSAGES_DIR", str(corpus))
    monkeypatch.setenv("MINDSIGNAL_RETRIEVAL__STORE_URL", server.url)
    monkeypatch.setenv("MINDSIGNAL_LOG_LEVEL", "WARNING")
    runner = CliRunner()
    ingest = runner.invoke(app, ["kb", "ingest"])
    assert ingest.exit_code == 0, ingest.output
    assert f"{len(PASSAGES)} added" in ingest.output and f"store: {server.url}" in ingest.output
    rebuild = runner.invoke(app, ["kb", "ingest", "--rebuild"])
    assert rebuild.exit_code == 0, rebuild.output
    assert f"{len(PASSAGES)} added" in rebuild.output  # everything again, into a staging copy
    collections = httpx.get(
        f"{server.url}/api/v2/tenants/default_tenant/databases/default_database/collections",
        timeout=10,
    ).json()
    assert sorted(c["name"] for c in collections) == ["interventions"]  # staging swapped in
    query = runner.invoke(app, ["kb", "query", "panic attacks", "-c", "anxiety", "-k", "2"])
    assert query.exit_code == 0, query.output
    assert query.output.count("conditions anxiety") == 2
    assert not (tmp_path / "var" / "chroma").exists()


def test_the_server_keeps_the_store_across_a_restart_and_its_absence_is_clear(
    tmp_path: Path, server: ChromaServer, embeddings
) -> None:
    corpus = write_corpus(tmp_path / "passages")
    store = ChromaStore(url=server.url, collection="interventions", embeddings=embeddings)
    ingest_knowledge_base(store, kb_settings(corpus))

    server.stop()
    with pytest.raises(StoreError) as err:
        ChromaStore(url=server.url, embeddings=embeddings).count()
    assert "is unreachable" in str(err.value) and "start the Chroma server" in str(err.value)

    server.start()
    back = ChromaStore(url=server.url, collection="interventions", embeddings=embeddings)
    assert back.count() == len(PASSAGES)
    assert not ingest_knowledge_base(back, kb_settings(corpus)).changed
