"""Labeled files (``train --data``, ``eval --data``) read with the batch reader of ``classify``.

:func:`read_labeled_rows` reads a text column, a label column and optionally an author column
through :func:`assistant.batch_io.read_records`, one reader per column advanced in step over the
same file, so a labeled file gets exactly the treatment ``classify`` gives its input: the same
encoding policy and ``--encoding`` advice, the same refusal of UTF-16 and binary files, and a
malformed or undecodable row becomes one bad row instead of failing the file. Every reader
yields one item per data row, in order, whichever column it reads: that keeps them in step.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.batch_io import (
    CLI_ADVICE,
    BatchInputError,
    InputAdvice,
    Record,
    RowError,
    read_records,
)

if TYPE_CHECKING:
    from classifiers.training.data import BadRow, LabeledRow

#: A missing label column names the option that picks it.
_LABEL_ADVICE = InputAdvice(text_col="use --label-col")
#: Several labels of one row: "anxiety;ocd" in CSV, also read from a JSONL list of strings.
LABEL_SEPARATOR = ";"
#: Most skipped rows listed one per line on the console; the count is always given.
MAX_LISTED_ROWS = 50


def read_labeled_rows(
    path: Path,
    text_col: str = "text",
    label_col: str = "label",
    *,
    author_col: str | None = None,
    encoding: str = "utf-8",
) -> Iterator[LabeledRow | BadRow]:
    """Stream the rows of a labeled CSV, TSV or JSONL file.

    Args:
        path: The file.
        text_col: Column holding the text.
        label_col: Column holding the label: several as ``a;b``, or in JSONL a list of
            strings.
        author_col: Column holding the author, if the file has it (a file without it, or a row
            without a readable author, gives ``author=None``).
        encoding: Encoding of the whole file, as ``classify --encoding``.

    Yields:
        A :class:`~classifiers.training.data.LabeledRow` per readable row, a
        :class:`~classifiers.training.data.BadRow` per row that is not (its reason never holds
        the row's text), in file order.

    Raises:
        BatchInputError: The file as a whole is unusable (missing, UTF-16 without
            ``--encoding``, binary, no such column, unknown encoding); the message says why.
    """
    from classifiers.training.data import BadRow, LabeledRow

    authors = _optional_column(path, author_col, encoding) if author_col else None
    texts = read_records(path, text_col, encoding=encoding, advice=CLI_ADVICE)
    labels = read_records(
        path, label_col, encoding=encoding, advice=_LABEL_ADVICE, join_lists=LABEL_SEPARATOR
    )
    for text, label in zip(texts, labels, strict=True):
        author: Record | RowError | None = None
        if authors is not None:
            try:
                author = next(authors, None)
            except BatchInputError:  # JSONL whose first object had the field: no authors then
                authors = None
        row, line = text.row + 1, text.line or label.line
        if isinstance(text, RowError):
            yield BadRow(row, line, text.error)
        elif isinstance(label, RowError):
            yield BadRow(row, line, label.error)
        else:
            who = author.text if isinstance(author, Record) else None
            yield LabeledRow(row, line, text.text, label.text, who)


def _optional_column(path: Path, column: str, encoding: str) -> Iterator[Record | RowError] | None:
    """A reader of ``column``, or None when the file has no such column (or cannot be read at
    all: the text column's reader then says why)."""
    rows = read_records(path, column, encoding=encoding)
    try:
        first = next(rows, None)
    except BatchInputError:
        return None
    return itertools.chain([first] if first is not None else [], rows)


def describe_skipped(bad: Sequence[BadRow], header: str) -> list[str]:
    """Console lines for skipped rows: ``header``, then one line per row (its number and the
    reason, never its text), at most :data:`MAX_LISTED_ROWS` of them."""
    lines = [header]
    lines += [f"  {b.describe()}" for b in bad[:MAX_LISTED_ROWS]]
    if len(bad) > MAX_LISTED_ROWS:
        lines.append(f"  ... and {len(bad) - MAX_LISTED_ROWS} more")
    return lines
