"""`mindsignal serve-llm` with a file that is not a model: a message, not a traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from assistant.cli import app

runner = CliRunner()


def test_serve_llm_with_a_csv_as_the_model_says_it_is_not_a_gguf(tmp_path: Path) -> None:
    csv = tmp_path / "some.csv"
    csv.write_text("id,text\n1,hello\n", encoding="utf-8")
    result = runner.invoke(app, ["serve-llm", "--port", "0", "--model-path", str(csv)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no GGUFError traceback
    assert f"cannot start: {csv} is not a GGUF model file" in result.stderr


def test_serve_llm_with_a_truncated_gguf_names_the_file(tmp_path: Path) -> None:
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(b"GGUF\x03\x00")
    result = runner.invoke(app, ["serve-llm", "--port", "0", "--model-path", str(truncated)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert f"cannot start: {truncated}: truncated GGUF header" in result.stderr
