"""``mindsignal recommend``: what it prints, where, and how it labels the raw LLM stream.

The stream tests run the real pipeline (rules classifier, real gate and resources) with a fixed
retriever and a scripted chat model. The CLI tests run the real command on a text the language
check stops before retrieval and the LLM, so they need no store and no LLM server.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.commands.recommend import NO_TEXT_GIVEN, STREAM_HEADER, follow_stream
from assistant.grounding import GroundingChecker
from assistant.pipeline import CarePipeline, PipelineConfig
from assistant.prompts import PERSON_HEADING
from assistant.safety import LANGUAGE_HEADING, SafetyGate
from classifiers.factory import load_classifier
from knowledge_base.resources import load_crisis_resources
from tests.assistant.kb_samples import sample_passages
from tests.assistant.test_pipeline import DEPRESSED_POST, GOOD_REPLY, SPANISH_POST
from tests.fakes import FakeChat, FakeEncoder, FakeRetriever, make_passage

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _pipeline(chat: FakeChat) -> CarePipeline:
    passages = [make_passage(i, p.text, p.title) for i, p in enumerate(sample_passages(), 1)]
    return CarePipeline(
        classifier=load_classifier(mode="rules"),
        retriever=FakeRetriever(passages[:3]),
        gate=SafetyGate(
            load_crisis_resources(PROJECT_ROOT / "knowledge_base" / "resources", "en-US")
        ),
        grounding=GroundingChecker(FakeEncoder(), threshold=0.45),
        chat=chat,
        config=PipelineConfig(max_chars=5000, top_k=3),
    )


def test_the_streamed_llm_text_is_labelled_unverified_and_says_it_was_used() -> None:
    err = io.StringIO()
    final = follow_stream(_pipeline(FakeChat(GOOD_REPLY)).stream(DEPRESSED_POST), err)
    lines = err.getvalue().splitlines()
    assert lines[0] == STREAM_HEADER and "Unverified" in STREAM_HEADER
    assert GOOD_REPLY in err.getvalue()
    assert lines[-1] == "--- End of unverified LLM draft: used after the grounding check ---"
    assert final.llm_model == "fake-chat"


def test_a_discarded_stream_says_it_was_not_used_and_why() -> None:
    err = io.StringIO()
    chat = FakeChat("The weather is nice and football is fun to watch on Sundays.")
    final = follow_stream(_pipeline(chat).stream(DEPRESSED_POST), err)
    assert final.degraded and final.llm_model is None
    last = err.getvalue().splitlines()[-1]
    assert last.startswith("--- End of unverified LLM draft: NOT used (LLM draft not grounded")


def test_without_stream_nothing_is_written() -> None:
    final = follow_stream(_pipeline(FakeChat(GOOD_REPLY)).stream(DEPRESSED_POST), None)
    assert final.recommendation.startswith(f"## {PERSON_HEADING}")


@pytest.fixture
def offline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No knowledge base, no LLM: only a text that needs neither gets through whole."""
    monkeypatch.setenv("MINDSIGNAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MINDSIGNAL_KNOWLEDGE_BASE__PASSAGES_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("MINDSIGNAL_CLASSIFIER__MODE", "rules")
    monkeypatch.setenv("MINDSIGNAL_LLM__PROVIDER", "ollama")
    monkeypatch.setenv("MINDSIGNAL_LLM__HOST", "http://127.0.0.1:9")
    return tmp_path


def _cli_app() -> Any:
    from assistant.cli import app

    return app


def _run(*args: str) -> Any:
    return CliRunner().invoke(_cli_app(), ["recommend", *args])


def test_cli_markdown_of_a_text_not_in_english_leads_with_the_notice(offline_env: Path) -> None:
    result = _run("--stream", SPANISH_POST)
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert md.index(LANGUAGE_HEADING) < md.index("## Analysis") < md.index("No recommendations")
    assert "Spanish (es)" in md and "988" in md
    assert STREAM_HEADER not in result.stderr  # nothing was generated, nothing is labelled


def test_cli_json_marks_the_draft_and_carries_the_language(offline_env: Path) -> None:
    result = _run("--json", SPANISH_POST)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["draft_for_review"] is True and "not a diagnosis" in data["notice"]
    assert data["gate"]["language"] == "es" and data["no_draft_reason"]
    assert data["gate"]["block_markdown"].startswith(f"## {LANGUAGE_HEADING}")
    assert data["llm_model"] is None and "llm" not in data["versions"]


def test_cli_without_any_text_says_how_to_give_one(offline_env: Path) -> None:
    result = CliRunner().invoke(_cli_app(), ["recommend"], input="")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {NO_TEXT_GIVEN}"
    assert "--file PATH" in NO_TEXT_GIVEN and "'-'" in NO_TEXT_GIVEN
    assert result.stdout == ""


@pytest.mark.parametrize("text", ["", "   \n\t"], ids=["empty", "whitespace"])
def test_cli_with_an_explicitly_empty_text_says_it_is_empty(offline_env: Path, text: str) -> None:
    result = _run(text)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: Text is empty")
    assert "no text given" not in result.stderr


def test_cli_with_whitespace_piped_in_says_the_text_is_empty(offline_env: Path) -> None:
    result = CliRunner().invoke(_cli_app(), ["recommend"], input="  \n")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: Text is empty")


@pytest.mark.parametrize(
    ("closed", "args", "message"),
    [
        (0, ["-"], f"standard input is closed; {NO_TEXT_GIVEN}"),
        (0, [], NO_TEXT_GIVEN),
        (1, [SPANISH_POST], "standard output is closed"),
    ],
    ids=["stdin-dash", "stdin-no-argument", "stdout"],
)
def test_cli_with_a_closed_standard_stream_says_so(
    offline_env: Path, closed: int, args: list[str], message: str
) -> None:
    """Started from a service or script with stdin or stdout closed (<&-, >&-): no traceback,
    and no draft silently lost."""
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "recommend", *args],
        stdin=subprocess.PIPE if closed != 0 else None,
        stdout=subprocess.PIPE if closed != 1 else None,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(closed),
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert f"error: {message}" in err and "Traceback" not in err
