"""`mindsignal classify` and `mindsignal eval` through the real CLI.

The contract tests use ``--mode rules`` (the real lexicon rules, no artifact needed); the
hybrid path runs where the student artifact has been built and skips with a reason otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from classifiers.labels import CONDITIONS, RISK_LEVELS, SEVERITY_LEVELS

ARTIFACT = Path(__file__).resolve().parents[2] / "classifiers" / "artifacts" / "minilm-mh"
runner = CliRunner()

POSTS = [
    "I've been so depressed for months, I can't get out of bed and nothing brings me joy.",
    "I want to kill myself. I bought a rope and wrote a goodbye note.",
    "Should I move my ISA into index funds before the budget? Interest rates keep rising.",
]


def _rows(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _assert_contract(row: dict[str, Any]) -> None:
    """Every key and type of one successful output row."""
    assert set(row) == {
        "id",
        "relevant",
        "relevance_score",
        "labels",
        "severity",
        "risk",
        "model_version",
    }
    assert isinstance(row["relevant"], bool)
    assert isinstance(row["relevance_score"], float) and 0 <= row["relevance_score"] <= 1
    assert isinstance(row["model_version"], str) and row["model_version"]
    for label in row["labels"]:
        assert set(label) == {"label", "score", "sources", "evidence"}
        assert label["label"] in CONDITIONS
        assert isinstance(label["score"], float) and 0 <= label["score"] <= 1
        assert label["sources"] and set(label["sources"]) <= {"model", "rules"}
        for ev in label["evidence"]:
            assert set(ev) == {"start", "end", "text", "cue"}
            assert isinstance(ev["start"], int) and isinstance(ev["end"], int)
            assert isinstance(ev["text"], str) and isinstance(ev["cue"], str)
    assert set(row["severity"]) == {"level", "score"}
    assert row["severity"]["level"] in SEVERITY_LEVELS
    assert isinstance(row["severity"]["score"], float)
    assert set(row["risk"]) == {"level", "score", "crisis", "evidence"}
    assert row["risk"]["level"] in RISK_LEVELS
    assert isinstance(row["risk"]["crisis"], bool) and isinstance(row["risk"]["score"], float)


def _csv(tmp_path: Path, body: bytes, name: str = "posts.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def test_csv_contract_order_and_ids(tmp_path: Path) -> None:
    lines = "id,text\n" + "".join(f'p{i},"{t}"\n' for i, t in enumerate(POSTS))
    path = _csv(tmp_path, lines.encode())
    result = runner.invoke(app, ["classify", str(path), "--mode", "rules", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert [r["id"] for r in rows] == ["p0", "p1", "p2"]
    for row in rows:
        _assert_contract(row)
    assert "depression" in [lab["label"] for lab in rows[0]["labels"]]
    assert rows[1]["risk"]["crisis"] is True
    assert rows[2]["relevant"] is False and rows[2]["labels"] == []
    text = POSTS[0]
    for ev in rows[0]["labels"][0]["evidence"]:
        assert text[ev["start"] : ev["end"]] == ev["text"]


def test_bad_rows_get_error_rows_and_exit_1(tmp_path: Path) -> None:
    body = (
        b"id,text\n"
        b'a,"' + POSTS[0].encode() + b'"\n'
        b"b,\n"
        b"c,nul \x00 inside\n"
        b"d,one,too,many\n"
        b"e,caf\xe9 not utf-8\n"
        b'f,"' + POSTS[1].encode() + b'"\n'
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["classify", str(_csv(tmp_path, body)), "--mode", "rules", "--output", str(out)]
    )
    assert result.exit_code == 1
    assert "6 rows: 2 classified, 4 failed in" in result.stderr and str(out) in result.stderr
    assert "rows classified" not in result.stderr
    rows = _rows(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in rows] == ["a", "b", "c", "d", "e", "f"]
    assert [("error" in r) for r in rows] == [False, True, True, True, True, False]
    for bad in rows[1:5]:
        assert set(bad) == {"id", "error"} and bad["error"]
    _assert_contract(rows[0])
    _assert_contract(rows[5])


def test_jsonl_with_a_broken_line(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text(
        json.dumps({"uid": 10, "body": POSTS[0]})
        + "\n{broken\n"
        + json.dumps({"uid": 12, "body": POSTS[2]})
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        ["classify", str(path), "--mode", "rules", "--text-col", "body", "--id-col", "uid"],
    )
    assert result.exit_code == 1
    assert "3 rows: 2 classified, 1 failed" in result.stderr
    rows = _rows(result.stdout)
    assert [r["id"] for r in rows] == [10, 1, 12]
    assert rows[1]["error"] == (
        "malformed JSON at line 2: Expecting property name enclosed in double quotes at column 2"
    )


def test_a_raw_control_character_in_jsonl_is_named_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(b'{"id": 1, "text": "tab\there"}\n')
    result = runner.invoke(app, ["classify", str(path), "--mode", "rules"])
    assert result.exit_code == 1
    (row,) = _rows(result.stdout)
    assert row["error"] == (
        "malformed JSON at line 1: Invalid control character U+0009 at column 23"
    )


def test_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path: Path) -> None:
    body = b"id,text\na," + POSTS[0].encode() + b"\n"
    path = _csv(tmp_path, body)
    (tmp_path / "link.csv").symlink_to(path)
    for out in (str(path), str(tmp_path / "sub" / ".." / "posts.csv"), str(tmp_path / "link.csv")):
        result = runner.invoke(app, ["classify", str(path), "--mode", "rules", "-o", out])
        assert result.exit_code == 2
        assert "is the input file" in result.stderr
    assert path.read_bytes() == body


def test_unknown_encoding_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    path = _csv(tmp_path, b"id,text\n1,caf\xe9\n")
    for encoding in ("nonsense", "base64"):
        result = runner.invoke(app, ["classify", str(path), "--encoding", encoding])
        assert result.exit_code == 2
        assert isinstance(result.exception, SystemExit)
        assert f"error: unknown text encoding {encoding!r}" in result.stderr


@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("jsonl", "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(POSTS))),
        ("csv", "id,text\n" + "".join(f'{i},"{t}"\n' for i, t in enumerate(POSTS))),
    ],
)
def test_stdin_with_a_format_is_read_as_rows(fmt: str, body: str) -> None:
    result = runner.invoke(app, ["classify", "-", "--format", fmt, "--mode", "rules"], input=body)
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert [str(r["id"]) for r in rows] == ["0", "1", "2"]
    assert [r["risk"]["crisis"] for r in rows] == [False, True, False]


def test_text_of_zero_width_characters_is_an_empty_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,text\nz,\u200b\u200b\u2060\nok,hello there\n".encode())
    result = runner.invoke(app, ["classify", str(path), "--mode", "rules"])
    assert result.exit_code == 1
    rows = _rows(result.stdout)
    assert set(rows[0]) == {"id", "error"} and "empty" in rows[0]["error"]
    assert "error" not in rows[1]


def test_stdin_dash_is_one_text() -> None:
    result = runner.invoke(app, ["classify", "-", "--mode", "rules"], input=POSTS[1] + "\n")
    assert result.exit_code == 0, result.output
    (row,) = _rows(result.stdout)
    assert row["id"] == 0 and row["risk"]["crisis"] is True


def test_missing_file_or_column_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["classify", str(tmp_path / "nope.csv"), "--mode", "rules"])
    assert result.exit_code == 2 and "not found" in result.stderr
    path = _csv(tmp_path, b"body\nhello\n")
    result = runner.invoke(app, ["classify", str(path), "--mode", "rules"])
    assert result.exit_code == 2
    assert "no column 'text'" in result.stderr and "--text-col" in result.stderr


def test_missing_artifact_says_to_train(tmp_path: Path) -> None:
    path = _csv(tmp_path, b"text\nhello there\n")
    result = runner.invoke(
        app, ["classify", str(path), "--mode", "hybrid", "--artifact-dir", str(tmp_path / "none")]
    )
    assert result.exit_code == 2
    assert str(tmp_path / "none") in result.stderr and "mindsignal train" in result.stderr


def test_corrupt_artifact_says_to_train(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    path = _csv(tmp_path, b"text\nhello there\n")
    result = runner.invoke(
        app, ["classify", str(path), "--mode", "model", "--artifact-dir", str(broken)]
    )
    assert result.exit_code == 2
    assert "corrupt" in result.stderr and "mindsignal train" in result.stderr


@pytest.mark.slow
def test_hybrid_classify_with_the_real_student(tmp_path: Path) -> None:
    if not (ARTIFACT / "config.json").is_file():
        pytest.skip(f"student artifact not built at {ARTIFACT} (run `mindsignal train`)")
    lines = "text\n" + "".join(f'"{t}"\n' for t in POSTS)
    result = runner.invoke(
        app,
        [
            "classify",
            str(_csv(tmp_path, lines.encode())),
            "--mode",
            "hybrid",
            "--artifact-dir",
            str(ARTIFACT),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert [r["id"] for r in rows] == [0, 1, 2]
    for row in rows:
        _assert_contract(row)
        assert row["model_version"].startswith("hybrid(")
    assert rows[1]["risk"]["crisis"] is True
    assert rows[2]["relevant"] is False


def test_eval_command_writes_the_report(tmp_path: Path) -> None:
    data = tmp_path / "labeled.csv"
    data.write_text(
        "post,tag\n"
        f'"{POSTS[0]}",Depressed\n'
        f'"{POSTS[2]}",control\n'
        '"I have panic attacks every morning and I worry constantly about everything.",anxiety\n',
        encoding="utf-8",
    )
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "eval",
            "--data",
            str(data),
            "--text-col",
            "post",
            "--label-col",
            "tag",
            "--map",
            '{"Depressed": "depression"}',
            "--mode",
            "rules",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "rules/macro_f1" in result.stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["sections"][0]["metrics"]["per_label"]["depression"]["support"] == 1
    assert (out / "report.md").is_file()
    assert (out / report["sections"][0]["confusion_png"]).stat().st_size > 0


def test_eval_unknown_labels_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "labeled.csv"
    data.write_text("text,label\nhello,Sadness\n", encoding="utf-8")
    result = runner.invoke(
        app, ["eval", "--data", str(data), "--mode", "rules", "--output", str(tmp_path)]
    )
    assert result.exit_code == 2 and "--map" in result.stderr


def test_eval_goes_past_a_malformed_row_and_says_what_it_left_out(tmp_path: Path) -> None:
    data = tmp_path / "labeled.csv"
    data.write_text(
        "text,label\n"
        f'"{POSTS[0]}",depression\n'
        '"a","b","c","d"\n'  # fields too many
        ",anxiety\n"  # no text: cannot be classified
        f'"{POSTS[2]}",none\n',
        encoding="utf-8",
    )
    out = tmp_path / "report"
    result = runner.invoke(
        app, ["eval", "--data", str(data), "--mode", "rules", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "1 malformed row(s) of" in result.stderr
    assert "labeled (rules): 1 of 3 row(s) could not be classified" in result.stderr
    assert "rules/macro_f1" in result.stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert (report["rows"], report["skipped_rows"]) == (3, 1)
    assert report["sections"][0]["metrics"]["per_label"]["depression"]["support"] == 1


def test_eval_of_a_file_without_rows_exits_2(tmp_path: Path) -> None:
    data = tmp_path / "labeled.csv"
    data.write_text("text,label\n", encoding="utf-8")
    result = runner.invoke(
        app, ["eval", "--data", str(data), "--mode", "rules", "--output", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {data} has no rows to evaluate"


def test_eval_tuning_options_need_tuning(tmp_path: Path) -> None:
    judged = tmp_path / "judged.jsonl"
    judged.write_text('{"id": "x", "conditions": []}\n', encoding="utf-8")
    alone = runner.invoke(app, ["eval", "--reddit-test", "--judged-labels", str(judged)])
    assert alone.exit_code == 2 and "only apply with --tune-fusion" in alone.stderr
    limit = runner.invoke(app, ["eval", "--tune-fusion", "--distant-tolerance", "0.01"])
    assert limit.exit_code == 2 and "needs --judged-labels" in limit.stderr


def test_eval_behaviour_cases_report_pass_rates_and_name_a_bad_file(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    rows = [
        {
            "id": "n1",
            "category": "negation",
            "text": "I'm not depressed at all, just busy.",
            "crisis": False,
            "absent": ["depression"],
        },
        {
            "id": "g1",
            "category": "genuine_brief",
            "text": "I want to kill myself tonight.",
            "crisis": True,
        },
    ]
    cases.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "report"
    result = runner.invoke(
        app, ["eval", "--behaviour", str(cases), "--mode", "rules", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "rules/pass_rate: 1.000" in result.stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["behaviour"]["modes"]["rules"]["categories"]["negation"]["pass_rate"] == 1.0
    assert "| negation | 1 | 1.00 |" in (out / "report.md").read_text(encoding="utf-8")
    cases.write_text('{"id": "x", "category": "sarcasm"}\n', encoding="utf-8")
    bad = runner.invoke(app, ["eval", "--behaviour", str(cases), "--mode", "rules"])
    assert bad.exit_code == 2 and "cases.jsonl:1" in bad.stderr
    both = runner.invoke(app, ["eval", "--behaviour", str(cases), "--reddit-test"])
    assert both.exit_code == 2 and "one of --data, --behaviour and --reddit-test" in both.stderr


def test_an_interrupted_run_leaves_no_output_that_looks_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C part way: OUT keeps what it held, the rows done are in OUT.partial, and it says so."""
    import assistant.batch_io

    real = assistant.batch_io.classify_batch
    calls = []

    def interrupted_on_the_second_batch(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(assistant.batch_io, "classify_batch", interrupted_on_the_second_batch)
    body = b"id,text\n" + b"".join(f'{i},"{POSTS[i % 3]}"\n'.encode() for i in range(5))
    out = tmp_path / "out.jsonl"
    out.write_text("results of an earlier run\n", encoding="utf-8")
    args = ["classify", str(_csv(tmp_path, body)), "--mode", "rules", "--batch-size", "2"]
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 130
    assert "interrupted after 2 rows" in result.stderr
    assert f"{out} was not written" in result.stderr and f"{out}.partial" in result.stderr
    assert out.read_text(encoding="utf-8") == "results of an earlier run\n"
    assert [r["id"] for r in _rows((tmp_path / "out.jsonl.partial").read_text("utf-8"))] == [
        "0",
        "1",
    ]

    monkeypatch.setattr(assistant.batch_io, "classify_batch", real)
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(_rows(out.read_text(encoding="utf-8"))) == 5
    assert not (tmp_path / "out.jsonl.partial").exists()


@pytest.mark.parametrize(
    ("closed", "args", "message"),
    [
        (0, ["-"], "standard input is closed"),
        (0, ["-", "--format", "csv"], "standard input is closed"),
        (1, ["POSTS"], "standard output is closed: write the results with --output FILE"),
    ],
    ids=["stdin-one-text", "stdin-rows", "stdout"],
)
def test_a_closed_standard_stream_is_a_message_not_a_traceback(
    tmp_path: Path, closed: int, args: list[str], message: str
) -> None:
    """Started from a service or script with stdin or stdout closed (<&-, >&-)."""
    import os
    import subprocess
    import sys

    posts = _csv(tmp_path, b"id,text\na," + POSTS[0].encode() + b"\n")
    args = [str(posts) if a == "POSTS" else a for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "classify", *args, "--mode", "rules"],
        stdin=subprocess.PIPE if closed != 0 else None,
        stdout=subprocess.PIPE if closed != 1 else None,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(closed),
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
        check=False,
    )
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert message in err and "Traceback" not in err


# ---- eval --encoding: the same reader, option and messages as classify ----------------------

LABELED = [
    (
        "Je suis déprimée depuis des mois, I can't get out of bed and nothing brings me joy.",
        "depression",
    ),
    ("I have panic attacks every morning and I worry constantly about everything.", "anxiety"),
    ("Should I move my ISA into index funds before the budget? Café prices keep rising.", "none"),
]


def _labeled_csv(path: Path, encoding: str) -> Path:
    rows = "".join(f'"{text}",{label}\n' for text, label in LABELED)
    path.write_text("text,label\n" + rows, encoding=encoding)
    return path


def _eval(data: Path, out: Path, *extra: str) -> Any:
    return runner.invoke(
        app, ["eval", "--data", str(data), "--mode", "rules", "--output", str(out), *extra]
    )


def test_eval_of_a_cp1252_file_lists_the_undecodable_rows_and_reads_them_with_encoding(
    tmp_path: Path,
) -> None:
    data = _labeled_csv(tmp_path / "labeled.csv", "cp1252")  # Excel's "CSV" on Windows
    result = _eval(data, tmp_path / "r1")
    # The rows with é are left out and named, with the option that reads them; the rest count.
    assert result.exit_code == 0, result.output
    assert f"2 malformed row(s) of {data} skipped:" in result.stderr
    for row, line in ((1, 2), (3, 4)):
        assert (
            f"  row {row}: row at line {line} contains bytes that are not valid utf-8; "
            "re-run with --encoding (e.g. latin-1) if the file uses another encoding"
        ) in result.stderr
    assert "déprimée" not in result.output and "Café" not in result.output
    report = json.loads((tmp_path / "r1" / "report.json").read_text(encoding="utf-8"))
    assert (report["rows"], report["skipped_rows"]) == (1, 2)

    result = _eval(data, tmp_path / "r2", "--encoding", "cp1252")
    assert result.exit_code == 0, result.output
    assert "skipped" not in result.stderr
    report = json.loads((tmp_path / "r2" / "report.json").read_text(encoding="utf-8"))
    assert (report["rows"], report["skipped_rows"]) == (3, 0)
    per_label = report["sections"][0]["metrics"]["per_label"]
    assert per_label["depression"]["support"] == per_label["anxiety"]["support"] == 1


def test_eval_of_a_utf16_file_names_the_option_and_reads_with_it(tmp_path: Path) -> None:
    data = _labeled_csv(tmp_path / "labeled.csv", "utf-16")  # Excel's "Unicode text"
    result = _eval(data, tmp_path / "r1")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {data} is UTF-16 text (it starts with a UTF-16 byte-order mark, as Excel's "
        "'Unicode text' does); re-run with --encoding utf-16\n"
    )
    assert not (tmp_path / "r1").exists()

    result = _eval(data, tmp_path / "r2", "--encoding", "utf-16")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r2" / "report.json").read_text(encoding="utf-8"))
    assert (report["rows"], report["skipped_rows"]) == (3, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--encoding", "klingon"], "error: unknown text encoding 'klingon': use e.g. utf-8"),
        (["--label-col", "tag"], "has no column 'tag' (columns: text, label); use --label-col"),
        (["--text-col", "post"], "has no column 'post' (columns: text, label); use --text-col"),
    ],
    ids=["unknown-encoding", "no-label-column", "no-text-column"],
)
def test_eval_data_that_cannot_be_read_at_all_exits_2_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    data = _labeled_csv(tmp_path / "labeled.csv", "utf-8")
    result = _eval(data, tmp_path / "r", *args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.splitlines()) == 1


def test_eval_encoding_applies_to_data_only() -> None:
    result = runner.invoke(app, ["eval", "--reddit-test", "--encoding", "latin-1"])
    assert result.exit_code == 2
    assert "--encoding applies to --data only" in result.stderr


def test_eval_of_jsonl_reads_a_list_of_labels_as_several(tmp_path: Path) -> None:
    data = tmp_path / "labeled.jsonl"
    rows = [
        {"text": LABELED[0][0], "label": ["depression", "anxiety"]},
        {"text": LABELED[1][0], "label": "anxiety"},
        {"text": LABELED[2][0], "label": []},
        {"text": "I wash my hands until they bleed.", "label": [3]},  # not text: one bad row
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = _eval(data, tmp_path / "r")
    assert result.exit_code == 0, result.output
    assert "row 4: line 4: field 'label' is list, not text" in result.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert (report["rows"], report["skipped_rows"]) == (3, 1)
    per_label = report["sections"][0]["metrics"]["per_label"]
    assert (per_label["depression"]["support"], per_label["anxiety"]["support"]) == (1, 2)
