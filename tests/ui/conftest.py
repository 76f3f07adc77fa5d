"""One launched UI for the UI tests: the real app (rules classifier, real Chroma store on disk with
real knowledge-base passages, real embeddings, the session's embedded LLM) served in-process on a
free port."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.apps import running_app

if TYPE_CHECKING:
    from assistant.app import MindSignalApp

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TOPICS = ("depression", "anxiety", "suicide_risk")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def ui_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real knowledge-base passages (depression, anxiety, suicide risk) copied to a temp dir."""
    root = tmp_path_factory.mktemp("ui-passages")
    for topic in TOPICS:
        src = PROJECT_ROOT / "knowledge_base" / "passages" / topic
        if src.is_dir():
            shutil.copytree(src, root / topic)
    if not any(root.rglob("*.md")):
        pytest.skip("no knowledge-base passages in the repo yet")
    return root


@pytest.fixture(scope="session")
def ui_mind(
    tmp_path_factory: pytest.TempPathFactory, ui_corpus: Path, embedded_llm: Any, embeddings: Any
) -> Iterator[MindSignalApp]:
    """The app, its LLM pointed at the session's embedded server, its store ingested."""
    with running_app(
        tmp_path_factory.mktemp("ui-var"),
        ui_corpus,
        embedded_llm.base_url,
        embedded_llm.model_name,
        embeddings,
        num_predict=120,
    ) as mind:
        yield mind


@pytest.fixture(scope="session")
def ui_url(ui_mind: MindSignalApp) -> Iterator[str]:
    """URL of the launched UI (the real ``launch_ui`` path, without blocking)."""
    from ui.app import launch_ui

    port = free_port()
    demo = launch_ui(ui_mind, prevent_thread_lock=True, server_port=port, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
