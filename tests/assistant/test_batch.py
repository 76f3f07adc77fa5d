"""Batch analysis of uploaded files: rows, summary counts, progress, downloads, limits.

Real rules classifier and real safety gate with real crisis resources; no LLM, no store.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from assistant.batch import TABLE_COLUMNS, BatchAnalyzer, BatchInputError, peek_columns
from assistant.language import LanguageDetector
from assistant.safety import LANGUAGE_HEADING, SafetyGate
from classifiers.factory import load_classifier
from knowledge_base.resources import load_crisis_resources

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPRESSED = "I feel hopeless and worthless, I can't get out of bed and I stopped seeing friends."
CRISIS = "I'm going to kill myself tonight, I bought a rope."
ANXIOUS = "I worry all the time and panic in crowds; my heart races and I feel anxious."


@pytest.fixture(scope="module")
def analyzer() -> BatchAnalyzer:
    gate = SafetyGate(load_crisis_resources(PROJECT_ROOT / "knowledge_base" / "resources", "en-US"))
    return BatchAnalyzer(load_classifier(mode="rules"), gate, batch_size=2, max_rows=50)


def _jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_rows_summary_and_progress(analyzer: BatchAnalyzer, tmp_path: Path) -> None:
    posts = _jsonl(
        tmp_path / "posts.jsonl",
        [
            {"id": "a", "text": DEPRESSED},
            {"id": "b", "text": CRISIS},
            {"id": "c", "text": None},
            {"id": "d", "text": ANXIOUS},
            {"id": "e", "text": "Contact me at jane.doe@example.com, I feel hopeless."},
        ],
    )
    seen: list[tuple[int, int]] = []
    result = analyzer.run(posts, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen), "progress only moves forward"
    by_id = {row.id: row for row in result.rows}
    assert "depression" in by_id["a"].labels
    assert by_id["b"].crisis and by_id["b"].urgent and by_id["b"].risk in ("behavior", "attempt")
    assert "not text" in (by_id["c"].error or "")
    assert "anxiety" in by_id["d"].labels
    assert "jane.doe" not in by_id["e"].redacted_text, "only redacted text is kept"
    s = result.summary
    assert (s.total, s.analysed, s.errors, s.crisis, s.urgent) == (5, 4, 1, 1, 1)
    assert s.conditions["depression"] >= 1 and s.conditions["anxiety"] >= 1
    assert s.conditions == {
        c: n for c in s.conditions if (n := sum(c in r.labels for r in result.rows))
    }
    assert sum(s.severity.values()) == 4 and sum(s.risk.values()) == 4


def test_downloads_hold_every_row(analyzer: BatchAnalyzer, tmp_path: Path) -> None:
    posts = tmp_path / "posts.csv"
    posts.write_text(f'id,text\n1,"{DEPRESSED}"\n2,\n3,"{CRISIS}"\n', encoding="utf-8")
    result = analyzer.run(posts)
    lines = [
        json.loads(x) for x in result.write_jsonl(tmp_path / "r.jsonl").read_text().splitlines()
    ]
    assert [str(x["id"]) for x in lines] == ["1", "2", "3"]
    assert lines[0]["labels"] and lines[0]["safety"]["crisis"] is False
    assert "empty" in lines[1]["error"]
    assert lines[2]["safety"]["crisis"] is True
    with result.write_csv(tmp_path / "r.csv").open(encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert table[0] == list(TABLE_COLUMNS)
    assert table[3][TABLE_COLUMNS.index("crisis")] == "URGENT"
    assert "empty" in table[2][TABLE_COLUMNS.index("error")]


def test_a_row_opens_as_an_analysis_draft(analyzer: BatchAnalyzer, tmp_path: Path) -> None:
    result = analyzer.run(_jsonl(tmp_path / "p.jsonl", [{"id": 7, "text": CRISIS}]))
    draft = result.rows[0].as_draft()
    assert draft is not None and draft.gate.crisis
    assert draft.recommendation.startswith("## Safety first") and "988" in draft.recommendation


def test_big_files_are_cut_at_max_rows(tmp_path: Path) -> None:
    gate = SafetyGate(None)
    small = BatchAnalyzer(load_classifier(mode="rules"), gate, max_rows=3)
    posts = _jsonl(tmp_path / "p.jsonl", [{"text": ANXIOUS} for _ in range(5)])
    result = small.run(posts)
    assert len(result.rows) == 3 and result.summary.truncated
    assert "mindsignal classify" in result.summary.to_markdown()


def test_unusable_files_get_a_clear_error(analyzer: BatchAnalyzer, tmp_path: Path) -> None:
    header_only = tmp_path / "empty.csv"
    header_only.write_text("id,text\n", encoding="utf-8")
    with pytest.raises(BatchInputError, match="no rows"):
        analyzer.run(header_only)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,body\n1,hi\n", encoding="utf-8")
    with pytest.raises(BatchInputError, match="no column 'text'"):
        analyzer.run(wrong)
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    with pytest.raises(BatchInputError):
        analyzer.run(binary)


def test_peek_columns_for_the_column_chooser(tmp_path: Path) -> None:
    csv_file = tmp_path / "a.csv"
    csv_file.write_text("\ufeffpost_id,body,subreddit\n1,hi,x\n", encoding="utf-8")
    assert peek_columns(csv_file) == ["post_id", "body", "subreddit"]
    jsonl = _jsonl(tmp_path / "b.jsonl", [{"uid": 1, "selftext": "hi"}])
    assert peek_columns(jsonl) == ["uid", "selftext"]
    assert peek_columns(tmp_path / "missing.csv") == []


def test_posts_not_in_english_are_marked_and_their_crisis_flag_is_unknown(
    tmp_path: Path, language_detector: LanguageDetector
) -> None:
    gate = SafetyGate(
        load_crisis_resources(PROJECT_ROOT / "knowledge_base" / "resources", "en-US"),
        language=language_detector,
    )
    checked = BatchAnalyzer(load_classifier(mode="rules"), gate, batch_size=2)
    posts = _jsonl(
        tmp_path / "p.jsonl",
        [
            {"id": "es", "text": "No quiero vivir más. Tengo las pastillas preparadas."},
            {"id": "en", "text": DEPRESSED},
        ],
    )
    result = checked.run(posts)
    spanish, english = result.rows
    assert spanish.language == "es" and english.language == ""
    row = spanish.table_row()
    assert row[TABLE_COLUMNS.index("crisis")] == "unknown"
    assert row[TABLE_COLUMNS.index("language")] == "es"
    assert english.table_row()[TABLE_COLUMNS.index("crisis")] == "no"
    assert spanish.to_dict()["safety"]["language"] == "es"
    assert result.summary.not_english == 1 and "not in English" in result.summary.to_markdown()
    draft = spanish.as_draft()
    assert draft is not None and draft.recommendation.startswith(f"## {LANGUAGE_HEADING}")
