"""Batch input: every readable row becomes a record, every bad row an error row, in order."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.batch_io import (
    BatchInputError,
    Record,
    RowError,
    batched,
    classify_batch,
    read_records,
)
from classifiers.base import (
    Classification,
    InvalidTextError,
    LabelScore,
    RiskResult,
    SeverityResult,
)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_csv_quoted_multiline_cells_bom_and_id_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "in.csv",
        b'\xef\xbb\xbfid,text\np1,"first line\nsecond line, with comma"\np2,"she said ""hi"""\n',
    )
    rows = list(read_records(path, "text"))
    assert rows == [
        Record(id="p1", text="first line\nsecond line, with comma", row=0, line=3),
        Record(id="p2", text='she said "hi"', row=1, line=4),
    ]


def test_csv_without_id_column_uses_row_index(tmp_path: Path) -> None:
    path = _write(tmp_path, "in.csv", b"post\nhello\nworld\n")
    rows = list(read_records(path, "post"))
    assert [(r.id, r.text) for r in rows if isinstance(r, Record)] == [(0, "hello"), (1, "world")]


def test_csv_bad_rows_become_errors_and_reading_goes_on(tmp_path: Path) -> None:
    data = (
        b"id,text\n"
        b"a,fine one\n"
        b"b,too,many,fields\n"
        b'c,"bad"quote\n'
        b"d,caf\xe9 latin-1 byte\n"
        b"e,fine two\n"
    )
    rows = list(read_records(_write(tmp_path, "in.csv", data), "text"))
    assert [type(r).__name__ for r in rows] == [
        "Record",
        "RowError",
        "RowError",
        "RowError",
        "Record",
    ]
    ragged, quote, encoding = rows[1], rows[2], rows[3]
    assert isinstance(ragged, RowError) and "line 3" in ragged.error and ragged.id == "b"
    assert isinstance(quote, RowError) and "malformed CSV" in quote.error
    assert isinstance(encoding, RowError) and "--encoding" in encoding.error
    assert isinstance(rows[4], Record) and rows[4].text == "fine two"


def test_csv_other_encoding_when_asked(tmp_path: Path) -> None:
    path = _write(tmp_path, "in.csv", "text\ncafé\n".encode("latin-1"))
    (record,) = read_records(path, "text", encoding="latin-1")
    assert isinstance(record, Record) and record.text == "café"


def test_missing_file_and_columns_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError, match="not found"):
        list(read_records(tmp_path / "nope.csv", "text"))
    path = _write(tmp_path, "in.csv", b"body\nx\n")
    with pytest.raises(BatchInputError, match=r"no column 'text'.*body"):
        list(read_records(path, "text"))
    path = _write(tmp_path, "ok.csv", b"text\nx\n")
    with pytest.raises(BatchInputError, match="no id column 'uid'"):
        list(read_records(path, "text", "uid"))
    with pytest.raises(BatchInputError, match="empty"):
        list(read_records(_write(tmp_path, "empty.csv", b""), "text"))


def test_binary_and_utf16_files_are_named_as_such(tmp_path: Path) -> None:
    binary = _write(tmp_path, "dump.csv", bytes(range(256)) * 4)
    with pytest.raises(BatchInputError, match="binary file"):
        list(read_records(binary))
    # an image's first line has no NUL, but its header is no text either
    png = _write(tmp_path, "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(256))
    with pytest.raises(BatchInputError, match="header row is not valid utf-8"):
        list(read_records(png))
    utf16 = _write(tmp_path, "excel.csv", "id,text\n1,I feel low\n".encode("utf-16"))
    with pytest.raises(BatchInputError, match="--encoding utf-16"):
        list(read_records(utf16))
    [record] = list(read_records(utf16, encoding="utf-16"))
    assert isinstance(record, Record) and record.text == "I feel low"


def test_a_header_that_is_not_text_or_too_wide_gives_a_short_error(tmp_path: Path) -> None:
    latin = _write(tmp_path, "latin.csv", b"caf\xe9,b\n1,2\n")
    with pytest.raises(BatchInputError, match="header row is not valid utf-8"):
        list(read_records(latin))
    wide = _write(tmp_path, "wide.csv", (",".join(f"c{i}" for i in range(50)) + "\n").encode())
    with pytest.raises(BatchInputError, match=r"c11, \.\.\. \(50 in all\)") as info:
        list(read_records(wide))
    assert "c12" not in str(info.value)


def test_jsonl_bad_lines_become_errors(tmp_path: Path) -> None:
    data = (
        b'{"id": 7, "text": "good"}\n'
        b"{not json\n"
        b"\n"
        b'["a list"]\n'
        b'{"id": 9, "text": null}\n'
        b'{"id": 10, "text": "bad \xff byte"}\n'
        b'{"id": 11, "text": "also good"}\n'
    )
    rows = list(read_records(_write(tmp_path, "in.jsonl", data), "text"))
    assert [type(r).__name__ for r in rows] == [
        "Record",
        "RowError",
        "RowError",
        "RowError",
        "RowError",
        "Record",
    ]
    assert rows[0] == Record(id=7, text="good", row=0, line=1)
    assert isinstance(rows[1], RowError) and "line 2" in rows[1].error
    assert isinstance(rows[3], RowError) and rows[3].id == 9
    assert rows[5] == Record(id=11, text="also good", row=5, line=7)


def test_records_say_whether_their_id_is_their_own_or_the_row_index(tmp_path: Path) -> None:
    """An id of 0 on the first row is the row's own, though it equals the index."""
    jsonl = b'{"id": 0, "text": "a"}\n{"text": "b"}\n{"id": null, "text": "c"}\n{"id": 3, "text": "d"}\n'
    rows = list(read_records(_write(tmp_path, "in.jsonl", jsonl), "text"))
    assert [(r.id, r.fallback_id) for r in rows if isinstance(r, Record)] == [
        (0, False),
        (1, True),
        (2, True),
        (3, False),
    ]
    csv_data = b'id,text\nx,a\n,b\n"a","b","c"\n3,d\n'
    rows = list(read_records(_write(tmp_path, "in.csv", csv_data), "text"))
    assert [(r.id, r.fallback_id) for r in rows if isinstance(r, Record)] == [
        ("x", False),
        (1, True),
        ("3", False),
    ]
    (no_ids,) = read_records(_write(tmp_path, "plain.csv", b"text\na\n"), "text")
    assert isinstance(no_ids, Record) and no_ids.fallback_id


def test_jsonl_missing_text_field_in_first_row_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError, match="no field 'text'"):
        list(read_records(_write(tmp_path, "in.jsonl", b'{"body": "x"}\n'), "text"))


def test_format_is_sniffed_without_a_known_suffix(tmp_path: Path) -> None:
    rows = list(read_records(_write(tmp_path, "data.dat", b'{"text": "hi"}\n'), "text"))
    assert rows == [Record(id=0, text="hi", row=0, line=1)]


def test_stdin_is_one_text() -> None:
    (record,) = read_records("-", "text", stdin=io.BytesIO(b"line one\nline two, with a comma\n"))
    assert record == Record(id=0, text="line one\nline two, with a comma\n", row=0, line=1)
    (bad,) = read_records("-", "text", stdin=io.BytesIO(b"\xff\xfe\x00bad"))
    assert isinstance(bad, RowError)


def test_stdin_with_a_format_streams_rows() -> None:
    rows = list(
        read_records(
            "-", "body", fmt="jsonl", stdin=io.BytesIO(b'{"id": "a", "body": "one"}\n{oops\n')
        )
    )
    assert rows[0] == Record(id="a", text="one", row=0, line=1)
    assert isinstance(rows[1], RowError) and "line 2" in rows[1].error
    with pytest.raises(BatchInputError, match="<stdin> has no column 'text'"):
        list(read_records("-", "text", fmt="csv", stdin=io.BytesIO(b"body\nx\n")))


def test_unknown_encoding_or_format_is_an_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "in.csv", b"text\nhello\n")
    with pytest.raises(BatchInputError, match="unknown text encoding 'nonsense'"):
        list(read_records(path, "text", encoding="nonsense"))
    with pytest.raises(BatchInputError, match="unknown input format 'xml'"):
        list(read_records("-", "text", fmt="xml", stdin=io.BytesIO(b"hello")))


def test_batched_keeps_order_and_sizes() -> None:
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError):
        list(batched([1], 0))


class EchoClassifier:
    """Deterministic fake: one 'depression' label scored by text length; fails on 'boom'."""

    version = "echo-1"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict(self, texts: Sequence[str]) -> list[Classification]:
        self.calls.append(len(texts))
        if any("boom" in t for t in texts):
            raise InvalidTextError("cannot classify this one")
        return [
            Classification(
                relevant=True,
                relevance_score=0.9,
                labels=(LabelScore("depression", min(1.0, len(t) / 100), ("model",)),),
                severity=SeverityResult("mild", 0.3),
                risk=RiskResult("none", 0.1),
                model_version=self.version,
            )
            for t in texts
        ]


def test_classify_batch_isolates_bad_rows_and_keeps_order() -> None:
    records = [
        Record(id="a", text="some text", row=0),
        RowError(id="b", error="malformed CSV at line 3", row=1),
        Record(id="c", text="   ", row=2),
        Record(id="d", text="has a NUL \x00 byte", row=3),
        Record(id="e", text="boom goes this row", row=4),
        {"id": "f", "text": "a mapping row, as Ray Data gives"},
    ]
    clf = EchoClassifier()
    rows = classify_batch(clf, records)
    assert [r["id"] for r in rows] == ["a", "b", "c", "d", "e", "f"]
    assert [("error" in r) for r in rows] == [False, True, True, True, True, False]
    assert "empty" in rows[2]["error"] and "NUL" in rows[3]["error"]
    assert rows[4]["error"] == "cannot classify this one"
    assert rows[0]["labels"][0]["label"] == "depression"
    assert json.loads(json.dumps(rows)) == rows  # every row is JSON-ready


def test_classify_batch_rejects_too_long_text() -> None:
    (row,) = classify_batch(EchoClassifier(), [Record(id=1, text="x" * 200, row=0)], max_chars=100)
    assert row["id"] == 1 and "limit" in row["error"]
