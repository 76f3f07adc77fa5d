"""`mindsignal kb ingest | stats | query | eval` end to end on a fixture corpus (real model, real Chroma)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from retrieval.chroma_store import StoreError
from tests.retrieval.kb_fixtures import PASSAGES, read_only_store, write_corpus

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def kb_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    corpus = write_corpus(tmp_path / "passages")
    monkeypatch.setenv("MINDSIGNAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MINDSIGNAL_KNOWLEDGE_BASE__PASSAGES_DIR", str(corpus))
    monkeypatch.setenv("MINDSIGNAL_LOG_LEVEL", "WARNING")
    return tmp_path


def test_kb_commands_end_to_end(kb_env: Path) -> None:
    runner = CliRunner()

    before = runner.invoke(app, ["kb", "query", "panic attacks"])
    assert before.exit_code == 1
    assert "run `mindsignal kb ingest`" in before.output

    ingest = runner.invoke(app, ["kb", "ingest"])
    assert ingest.exit_code == 0, ingest.output
    assert f"{len(PASSAGES)} added" in ingest.output
    again = runner.invoke(app, ["kb", "ingest"])
    assert "0 added, 0 updated, 0 removed" in again.output

    stats = runner.invoke(app, ["kb", "stats", "--json"])
    data = json.loads(stats.stdout)
    assert data["passages"] == len(PASSAGES)
    assert data["condition"]["anxiety"] == 3
    assert data["intervention_type"]["crisis_resources"] == 2
    assert data["source"] == {"curated": len(PASSAGES)}
    assert data["size_bytes"] > 0

    query = runner.invoke(
        app,
        [
            "kb",
            "query",
            "I want to end my life",
            "-c",
            "depression",
            "--risk",
            "ideation",
            "-k",
            "3",
            "--json",
        ],
    )
    assert query.exit_code == 0, query.output
    found = json.loads(query.stdout)
    assert found[0]["metadata"]["intervention_type"] == "safety_planning"
    assert all("citation" in p and "scores" in p for p in found)

    readable = runner.invoke(app, ["kb", "query", "drink diary", "-c", "substance_use"])
    assert "[1] Cutting down on drinking alcohol" in readable.output

    bad = runner.invoke(app, ["kb", "query", "x", "--severity", "extreme"])
    assert bad.exit_code == 2 and "unknown severity" in bad.output

    qfile = kb_env / "queries_cli.jsonl"
    qfile.write_text(
        json.dumps(
            {
                "id": "q1",
                "text": "wine every night",
                "conditions": ["substance_use"],
                "severity": "mild",
                "risk": "none",
                "relevant_ids": ["sub-alcohol-reduction"],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    out = kb_env / "report"
    ev = runner.invoke(app, ["kb", "eval", "--queries", str(qfile), "--output", str(out)])
    assert ev.exit_code == 0, ev.output
    assert "| hybrid |" in ev.output
    assert (out / "retrieval_eval.json").is_file() and (out / "retrieval_eval.md").is_file()
    assert "pooled_judgments" not in json.loads((out / "retrieval_eval.json").read_text())

    jfile = kb_env / "judgments_cli.jsonl"
    jfile.write_text(
        json.dumps({"query_id": "q1", "grades": {"sub-alcohol-reduction": 2}}) + "\n",
        encoding="utf-8",
    )
    args = ["kb", "eval", "--queries", str(qfile), "--output", str(out)]
    judged = runner.invoke(app, [*args, "--judgments", str(jfile)])
    assert judged.exit_code == 0, judged.output
    report = json.loads((out / "retrieval_eval.json").read_text())
    assert report["pooled_judgments"]["metrics"]["hybrid"]["queries"] == 1
    jfile.write_text("{broken\n", encoding="utf-8")
    broken = runner.invoke(app, [*args, "--judgments", str(jfile)])
    assert broken.exit_code == 1 and "no usable judgments" in broken.output


def test_ingest_of_a_path_that_does_not_exist_fails_and_ingests_nothing(kb_env: Path) -> None:
    runner = CliRunner()
    missing = kb_env / "qa" / "nonexistent_path"
    result = runner.invoke(app, ["kb", "ingest", str(missing)])
    assert result.exit_code == 2, result.output
    assert f"error: {missing} does not exist" in result.output
    assert "nothing was ingested" in result.output
    assert not (kb_env / "var" / "chroma").exists()


def test_ingest_warns_about_each_configured_path_that_is_gone_and_ingests_the_rest(
    kb_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = kb_env / "clinic"
    clinic.mkdir()
    (clinic / "callbacks.md").write_text("The duty nurse calls every referral.\n", "utf-8")
    gone = [kb_env / "unmounted-share", kb_env / "old-leaflet.md"]
    monkeypatch.setenv(
        "MINDSIGNAL_KNOWLEDGE_BASE__EXTRA_PATHS",
        json.dumps([str(gone[0]), str(clinic), str(gone[1])]),
    )
    result = CliRunner().invoke(app, ["kb", "ingest"])
    assert result.exit_code == 0, result.output
    assert f"{len(PASSAGES) + 1} added" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: clinic protocol path {path} (knowledge_base.extra_paths) does not exist; "
        "skipped it (records it left are removed), the rest was ingested"
        for path in gone
    ]
    assert "skipped " + str(gone[0]) not in result.stderr  # named once, as a warning


def test_rebuild_keeps_the_clinic_protocols_that_still_exist(kb_env: Path) -> None:
    runner = CliRunner()
    clinic = kb_env / "clinic"
    clinic.mkdir()
    (clinic / "callbacks.md").write_text(
        "---\ntitle: Call-backs after referral\nseverity: [severe]\n---\nThe duty nurse calls "
        "every new referral with severe symptoms within 48 hours.\n",
        encoding="utf-8",
    )
    leaflet = kb_env / "leaflet.md"
    leaflet.write_text("Our waiting room leaflet, replaced since.\n", encoding="utf-8")
    first = runner.invoke(app, ["kb", "ingest", str(clinic), str(leaflet)])
    assert first.exit_code == 0, first.output
    assert f"{len(PASSAGES) + 2} added" in first.output
    leaflet.unlink()

    rebuilt = runner.invoke(app, ["kb", "ingest", "--rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"{len(PASSAGES) + 1} records: {len(PASSAGES) + 1} added" in rebuilt.output
    assert f"warning: clinic protocol {leaflet.resolve()} no longer exists" in rebuilt.output

    stats = json.loads(runner.invoke(app, ["kb", "stats", "--json"]).stdout)
    assert stats["source"] == {"clinic": 1, "curated": len(PASSAGES)}
    found = json.loads(
        runner.invoke(app, ["kb", "query", "call back after referral", "--json"]).stdout
    )
    clinic_hit = next(p for p in found if p["metadata"]["source"] == "clinic")
    assert clinic_hit["title"] == "Call-backs after referral"
    assert clinic_hit["metadata"]["severity"] == "severe"


def test_query_errors_say_error_and_labels_ignore_case(kb_env: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["kb", "query", "x", "-c", "sadness"])
    assert bad.exit_code == 2 and bad.output.startswith("error: unknown condition")
    ingest = runner.invoke(app, ["kb", "ingest"])
    assert ingest.exit_code == 0, ingest.output
    args = ["kb", "query", "drink diary", "-k", "1", "--json"]
    upper = runner.invoke(app, [*args, "-c", "Substance-Use", "--severity", "Mild"])
    assert upper.exit_code == 0, upper.output
    assert json.loads(upper.stdout)[0]["id"] == "sub-alcohol-reduction"


def test_rebuild_against_a_server_that_is_not_there_is_one_error_line(
    kb_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MINDSIGNAL_RETRIEVAL__STORE_URL", f"http://127.0.0.1:{port}")
    result = CliRunner().invoke(app, ["kb", "ingest", "--rebuild"])
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, StoreError)  # handled, not a traceback
    assert result.stderr.startswith(
        f"error: vector store at http://127.0.0.1:{port} is unreachable"
    )
    assert len(result.stderr.splitlines()) == 1


def test_rebuild_leaves_a_read_only_store_where_it_is(kb_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["kb", "ingest"]).exit_code == 0
    store = kb_env / "var" / "chroma"
    with read_only_store(store):
        result = runner.invoke(app, ["kb", "ingest", "--rebuild"])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: vector store at {store} cannot be written")
    assert "moved the unreadable store aside" not in result.output
    assert sorted(p.name for p in store.parent.iterdir()) == ["chroma"]
    stats = json.loads(runner.invoke(app, ["kb", "stats", "--json"]).stdout)
    assert stats["passages"] == len(PASSAGES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("caf\udce9 and panic", "error: query text is not valid UTF-8"),  # undecodable argv bytes
        ("\x7fELF\x02\x01\x01\x00\x00", "error: query text contains NUL characters"),
        ("abc\x01\x02\x7f", "error: query text has 3 control characters"),
    ],
)
def test_query_text_that_is_not_text_is_refused(kb_env: Path, text: str, expected: str) -> None:
    result = CliRunner().invoke(app, ["kb", "query", text])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(expected)
