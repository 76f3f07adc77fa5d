"""The paper's loop in miniature: the embedded LLM labels posts, a student trains on them, eval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from typer.testing import CliRunner

from assistant.cli import app
from classifiers.training.data import load_reddit_corpus

if TYPE_CHECKING:
    from assistant.llm.embedded_server import EmbeddedLlamaServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SUBREDDITS = {
    "depression": "depression",
    "anxiety": "anxiety",
    "adhd": "adhd",
    "EDAnonymous": "eating_disorder",
    "personalfinance": "none",
    "guns": "none",
}


def _posts(path: Path, per: int = 4, words: int = 40) -> Path:
    corpus = load_reddit_corpus()
    rows = []
    for sub, label in SUBREDDITS.items():
        for i, text in enumerate(corpus[corpus["subreddit"] == sub]["text"].head(per)):
            rows.append(
                {"id": f"{sub}-{i}", "text": " ".join(text.split()[:words]), "label": label}
            )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_label_then_train_then_eval_with_the_embedded_llm(
    tmp_path: Path, teacher_env: EmbeddedLlamaServer
) -> None:
    posts = _posts(tmp_path / "posts.csv")
    runner = CliRunner()

    labels = tmp_path / "labels.jsonl"
    result = runner.invoke(app, ["label", str(posts), "--output", str(labels)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in labels.read_text().splitlines()]
    assert len(rows) == 24
    assert sum(not r.get("missing") for r in rows) >= 12  # SmolLM2-135M is weak, not useless

    out = tmp_path / "artifact"
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(posts),
            "--teacher-labels",
            str(labels),
            "--epochs",
            "1",
            "--max-posts",  # also skips the dev-set checks: this test is about the loop
            "24",
            "--max-length",
            "64",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    # the teacher's labels reached the training targets, matched by text hash
    assert metrics["label_counts"]["teacher_rows_matched"] >= 12
    assert "teacher" in (out / "MODEL_CARD.md").read_text().lower()

    report_dir = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "eval",
            "--data",
            str(posts),
            "--label-col",
            "label",
            "--mode",
            "all",
            "--artifact-dir",
            str(out),
            "--output",
            str(report_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((report_dir / "report.json").read_text())
    assert set(report["summary"]) == {"rules/macro_f1", "model/macro_f1", "hybrid/macro_f1"}
    assert all(0.0 <= v <= 1.0 for v in report["summary"].values())
    assert (report_dir / "report.md").is_file() and list(report_dir.glob("*.png"))
