"""Labeled files read row by row with the batch reader: rows keep their numbers, bad rows say why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.batch_io import BatchInputError
from assistant.commands.labeled_input import read_labeled_rows
from classifiers.training.data import BadRow, LabeledRow


def test_csv_rows_keep_their_numbers_around_bad_rows_and_carry_the_author(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_bytes(
        b"author,text,label\n"
        b"ann,I feel empty,depression\n"
        b'bob,"one","two","three"\n'  # a field too many
        b"\n"  # a blank line is not a row
        b"cy,caf\xe9 worries,anxiety\n"  # not UTF-8
        b"dee,tax question,\xff\n"  # the label is not UTF-8
        b",I cannot focus,adhd\n"
    )
    rows = list(read_labeled_rows(path, author_col="author"))
    assert rows[0] == LabeledRow(1, 2, "I feel empty", "depression", "ann")
    assert [type(r) for r in rows[1:4]] == [BadRow, BadRow, BadRow]
    assert [(r.row, r.line) for r in rows[1:4]] == [(2, 3), (3, 5), (4, 6)]
    assert rows[1].reason == "malformed CSV at line 3: 4 fields, header has 3"
    assert "not valid utf-8; re-run with --encoding" in rows[2].reason
    assert "not valid utf-8" in rows[3].reason  # found by the label's reader
    assert rows[4] == LabeledRow(5, 7, "I cannot focus", "adhd", "")
    assert not any("worries" in r.reason or "empty" in r.reason for r in rows[1:4])


def test_jsonl_rows_without_an_author_field_and_labels_as_lists(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    lines = [
        json.dumps({"text": "I feel empty", "label": "depression"}),
        "{broken",
        json.dumps({"text": "I worry", "label": ["anxiety", "depression"]}),
        json.dumps({"text": "tax question", "label": "none"}),
        json.dumps({"text": "I count", "label": ["ocd", 7]}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = list(read_labeled_rows(path, author_col="author"))
    assert rows[0] == LabeledRow(1, 1, "I feel empty", "depression", None)
    assert isinstance(rows[1], BadRow) and rows[1].reason.startswith("malformed JSON at line 2")
    # Several labels: a list of strings reads as "anxiety;depression", as a CSV writes them.
    assert rows[2] == LabeledRow(3, 3, "I worry", "anxiety;depression", None)
    assert rows[3] == LabeledRow(4, 4, "tax question", "none", None)
    assert (
        isinstance(rows[4], BadRow) and rows[4].reason == "line 5: field 'label' is list, not text"
    )


def test_a_missing_label_column_names_the_option_that_picks_it(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("text,tag\nI feel empty,depression\n", encoding="utf-8")
    with pytest.raises(
        BatchInputError, match=r"has no column 'label' \(columns: text, tag\); use --label-col"
    ):
        list(read_labeled_rows(path))
