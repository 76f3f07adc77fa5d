"""A wrong setting is named with its environment variable, not shown as a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.chroma_store import ChromaStore

ROOT = Path(__file__).resolve().parents[2]


def test_invalid_settings_exit_2_with_the_setting_named(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MINDSIGNAL_DATA_DIR": str(tmp_path),
        "MINDSIGNAL_RETRIEVAL__COLLECTION": "x",
        "MINDSIGNAL_RETRIEVAL__FETCH_K": "-5",
    }
    done = subprocess.run(
        [sys.executable, "-c", "from assistant.cli import main; main()", "kb", "stats"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "invalid settings (2)" in done.stderr
    assert (
        "retrieval.collection" in done.stderr and "MINDSIGNAL_RETRIEVAL__COLLECTION" in done.stderr
    )
    assert "retrieval.fetch_k" in done.stderr and "(got '-5')" in done.stderr


def test_a_bad_collection_name_is_not_reported_as_a_corrupt_store(tmp_path: Path) -> None:
    # Chroma's own error would have said "corrupt or unreadable ... delete it".
    with pytest.raises(ValueError, match="invalid collection name 'i'"):
        ChromaStore(path=tmp_path / "chroma", collection="i")
    ChromaStore(path=tmp_path / "chroma", collection="clinic.protocols_v2")
