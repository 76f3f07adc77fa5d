"""Settings: a wrong setting or settings file is named, not shown as a traceback; precedence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import load_settings, settings_file_path
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


def _run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from assistant.cli import main; main()", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_a_malformed_yaml_file_is_one_error_line_for_every_command(tmp_path: Path) -> None:
    (tmp_path / "mindsignal.yaml").write_text("llm:\n  provider: [oops\n", encoding="utf-8")
    env = {"MINDSIGNAL_DATA_DIR": str(tmp_path / "var"), "MINDSIGNAL_SETTINGS_FILE": ""}
    for command in (["kb", "stats"], ["doctor"]):
        done = _run_cli(*command, cwd=tmp_path, env=env)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("error: mindsignal.yaml line 3: expected ',' or ']'")
        assert "line 2" in done.stderr  # where the unclosed list starts
        assert len(done.stderr.strip().splitlines()) == 1


def test_a_named_settings_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "none.yaml"
    done = _run_cli(
        "kb",
        "stats",
        cwd=tmp_path,
        env={
            "MINDSIGNAL_DATA_DIR": str(tmp_path / "var"),
            "MINDSIGNAL_SETTINGS_FILE": str(missing),
        },
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"settings file {missing} (MINDSIGNAL_SETTINGS_FILE) does not exist" in done.stderr


def test_the_implicit_settings_file_stays_optional(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MINDSIGNAL_SETTINGS_FILE", raising=False)
    assert settings_file_path() is None
    assert load_settings().llm.model == "smollm2:135m"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://yaml-host:1"),
        ({"OLLAMA_HOST": "gpu-box:5"}, "http://gpu-box:5"),
        ({"OLLAMA_HOST": "gpu-box:5", "MINDSIGNAL_LLM__HOST": "http://other:7"}, "http://other:7"),
        ({"OLLAMA_HOST": " "}, "http://yaml-host:1"),  # empty: not set
    ],
)
def test_ollama_host_beats_the_yaml_file_and_loses_to_mindsignal_llm_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    yaml_file = tmp_path / "settings.yaml"
    yaml_file.write_text("llm:\n  host: http://yaml-host:1\n  model: from-yaml\n", encoding="utf-8")
    monkeypatch.setenv("MINDSIGNAL_SETTINGS_FILE", str(yaml_file))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.delenv("MINDSIGNAL_LLM__HOST", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.llm.host == expected
    assert settings.llm.model == "from-yaml"  # the rest of the YAML section still applies


def test_an_empty_variable_of_an_optional_setting_means_not_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "MINDSIGNAL_CLASSIFIER__MAX_TOKENS",
        "MINDSIGNAL_CLASSIFIER__THREADS",
        "MINDSIGNAL_LLM__EMBEDDED__MODEL_PATH",
        "MINDSIGNAL_LLM__SEED",
        "MINDSIGNAL_RETRIEVAL__STORE_PATH",
    ):
        monkeypatch.setenv(name, "")
    settings = load_settings(data_dir=tmp_path / "var")
    assert settings.classifier.max_tokens is None  # the artifact's fusion.json length
    assert settings.classifier.threads is None
    assert settings.llm.embedded.model_path is None  # the bundled GGUF, not "."
    assert settings.llm.seed is None
    assert settings.store_path == tmp_path / "var" / "chroma"  # not the working directory
