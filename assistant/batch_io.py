"""Robust batch input and the pure per-batch classification step.

:func:`read_records` streams rows from a CSV file, a JSONL file or stdin (``-``: one text, or rows
in the format given) and yields a :class:`Record` for every usable row and a :class:`RowError` for
every row that cannot be read, so one bad row never stops a run of millions. Memory stays
bounded: rows are read one at a time and nothing is kept.

Encoding policy (documented choice): input is decoded as UTF-8 (a leading BOM is dropped). A row
whose bytes are not valid UTF-8 becomes a :class:`RowError` that names the row and suggests
``--encoding``; its neighbours are still classified. Silently replacing bytes with U+FFFD would
change the text a practitioner reviews, so the caller must ask for another encoding explicitly
(``encoding="latin-1"``, ``"cp1252"`` ...), which then applies to the whole file.

:func:`classify_batch` turns a batch of records into output rows (``Classification.to_dict`` or
``{"id": ..., "error": ...}``). It does no I/O and keeps no state, so it can run as a Ray Data
``map_batches`` function later.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from classifiers.base import Classifier, InvalidTextError

logger = logging.getLogger(__name__)

STDIN = "-"
DEFAULT_TEXT_COL = "text"
DEFAULT_ID_COL = "id"
#: Largest CSV cell read at all; bigger cells (often an unclosed quote) become a row error.
MAX_FIELD_CHARS = 10_000_000
_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
_CSV_SUFFIXES = {".csv", ".tsv", ".txt"}


class BatchInputError(Exception):
    """The input as a whole is unusable (missing file, missing column); the message says why."""


@dataclass(frozen=True)
class InputAdvice:
    """What the reader's messages tell the user to do, in the words of the front end they use.

    Attributes:
        encoding: For bytes that are not valid in the encoding read.
        utf16: For a file that is UTF-16 text.
        text_col: For a missing text column.
        id_col: For a missing id column.
        name: How the file is named in messages (None: its path).
    """

    encoding: str = "re-run with --encoding (e.g. latin-1) if the file uses another encoding"
    utf16: str = "re-run with --encoding utf-16"
    text_col: str = "use --text-col"
    id_col: str = "use --id-col"
    name: str | None = None

    def where(self, path: Path) -> str:
        return self.name if self.name is not None else str(path)


#: The command line's advice (``mindsignal classify``).
CLI_ADVICE = InputAdvice()


@dataclass(frozen=True)
class Record:
    """One readable input row.

    Attributes:
        id: The id column's value, else the 0-based row index.
        text: The text to classify (not yet validated for length or content).
        row: 0-based index of the row among data rows.
        line: 1-based line in the file where the row ends (CSV) or sits (JSONL).
        fallback_id: The row has no id of its own and ``id`` is its row index (a JSONL id
            may equal the index, so the value alone cannot tell). Not compared.
    """

    id: Any
    text: str
    row: int
    line: int = 0
    fallback_id: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class RowError:
    """A row that could not be read or classified; the run goes on without it."""

    id: Any
    error: str
    row: int
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The output row for this failure."""
        return {"id": self.id, "error": self.error}


def read_records(
    path_or_stdin: str | Path,
    text_col: str = DEFAULT_TEXT_COL,
    id_col: str | None = None,
    *,
    encoding: str = "utf-8",
    fmt: str | None = None,
    stdin: IO[bytes] | None = None,
    advice: InputAdvice = CLI_ADVICE,
    join_lists: str | None = None,
) -> Iterator[Record | RowError]:
    """Stream records from a CSV or JSONL file, or from stdin.

    Args:
        path_or_stdin: A file path, or ``-`` for stdin: exactly one text, or with ``fmt`` rows in
            that format.
        text_col: Column (CSV) or key (JSONL) holding the text.
        id_col: Column holding the id. ``None``: use ``id`` when present, else the row index; a
            named column that is absent is an error.
        encoding: Encoding of the whole input; rows not decodable with it become row errors.
        fmt: ``csv``, ``tsv`` or ``jsonl``; ``None`` guesses from the suffix, then the content
            (and reads stdin as one text).
        stdin: Binary stream used for ``-`` (default: ``sys.stdin.buffer``).
        advice: What messages tell the user to do, and how they name the file (default: the
            command line's options and the path).
        join_lists: In JSONL, a list of strings in ``text_col`` is read as its items joined
            with this (labels: ``["anxiety", "ocd"]`` -> ``"anxiety;ocd"``); None: a row error.

    Yields:
        A :class:`Record` or :class:`RowError` per input row, in input order.

    Raises:
        BatchInputError: The file is missing or unreadable, a required column is absent, or the
            encoding or format is unknown.
    """
    try:
        io.TextIOWrapper(io.BytesIO(), encoding=encoding)  # also refuses base64, rot13 ...
    except LookupError:
        raise BatchInputError(
            f"unknown text encoding {encoding!r}: use e.g. utf-8, latin-1, cp1252 or utf-16"
        ) from None
    if fmt is not None and fmt not in ("csv", "tsv", "jsonl"):
        raise BatchInputError(f"unknown input format {fmt!r}: use csv, tsv or jsonl")
    if str(path_or_stdin) == STDIN:
        if stdin is None and sys.stdin is None:  # started with standard input closed (<&-)
            raise BatchInputError(
                "standard input is closed: give a file, or pipe the text in ('-' reads stdin)"
            )
        stream = stdin if stdin is not None else sys.stdin.buffer
        if fmt is None:
            yield _stdin_record(stream.read(), encoding, advice)
        else:
            # Rows streamed as from a file (not sniffed: stdin cannot be rewound).
            yield from _read_rows(
                stream, fmt, text_col, id_col, encoding, Path("<stdin>"), advice, join_lists
            )
        return
    path = Path(path_or_stdin)
    if not path.is_file():
        raise BatchInputError(f"input file not found: {advice.where(path)}")
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise BatchInputError(f"cannot read {advice.where(path)}: {exc.strerror or exc}") from exc
    with handle:
        head = handle.read(_SNIFF_BYTES)
        _check_text(path, head, encoding, advice)
        handle.seek(0)
        kind = fmt or _guess_format(path, head)
        yield from _read_rows(handle, kind, text_col, id_col, encoding, path, advice, join_lists)


def _read_rows(
    handle: IO[bytes],
    kind: str,
    text_col: str,
    id_col: str | None,
    encoding: str,
    path: Path,
    advice: InputAdvice,
    join_lists: str | None = None,
) -> Iterator[Record | RowError]:
    if kind == "jsonl":
        yield from _read_jsonl(handle, text_col, id_col, encoding, path, advice, join_lists)
    else:
        yield from _read_csv(handle, text_col, id_col, encoding, path, kind == "tsv", advice)


#: How much of an input file is read to tell text from binary.
_SNIFF_BYTES = 8192
#: Columns named in the error for a missing text column.
_SHOWN_COLUMNS = 12


def _check_text(path: Path, head: bytes, encoding: str, advice: InputAdvice) -> None:
    """Refuse a file that is not text in ``encoding``, judged from its first bytes ``head``."""
    wide = encoding.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32"))
    if wide:
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BatchInputError(
            f"{advice.where(path)} is UTF-16 text (it starts with a UTF-16 byte-order mark, as "
            f"Excel's 'Unicode text' does); {advice.utf16}"
        )
    # NUL bytes in the first line: binary, not text (a NUL further down is one bad row).
    if b"\x00" in head.split(b"\n", 1)[0]:
        raise BatchInputError(
            f"{advice.where(path)} looks like a binary file (NUL bytes in its first line), not "
            "CSV or JSONL text"
        )


def _guess_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix in _JSONL_SUFFIXES:
        return "jsonl"
    if suffix == ".tsv":
        return "tsv"
    if suffix in _CSV_SUFFIXES:
        return "csv"
    return "jsonl" if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


def _stdin_record(data: bytes, encoding: str, advice: InputAdvice) -> Record | RowError:
    try:
        text = _decode(data, encoding)
    except UnicodeDecodeError as exc:
        return RowError(0, _encoding_message(exc, encoding, advice), row=0, line=1)
    return Record(id=0, text=text, row=0, line=1, fallback_id=True)


def _decode(data: bytes, encoding: str) -> str:
    if encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig"):
        encoding = "utf-8-sig"  # a BOM is never part of the text
    return data.decode(encoding)


def _encoding_message(exc: UnicodeDecodeError, encoding: str, advice: InputAdvice) -> str:
    return (
        f"row contains bytes that are not valid {encoding} (at byte {exc.start}); {advice.encoding}"
    )


def _has_undecodable(value: str) -> bool:
    # surrogateescape maps every undecodable byte to U+DC80..U+DCFF; real text never has them.
    return any("\udc80" <= ch <= "\udcff" for ch in value)


# ---- CSV ------------------------------------------------------------------------------------
def _read_csv(
    handle: IO[bytes],
    text_col: str,
    id_col: str | None,
    encoding: str,
    path: Path,
    tab: bool,
    advice: InputAdvice,
) -> Iterator[Record | RowError]:
    enc = "utf-8-sig" if encoding.lower().replace("-", "").replace("_", "") == "utf8" else encoding
    text_stream = io.TextIOWrapper(handle, encoding=enc, errors="surrogateescape", newline="")
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(text_stream, delimiter="\t" if tab else ",", strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise BatchInputError(
            f"{advice.where(path)} is empty: expected a header row with {text_col!r}"
        ) from None
    except csv.Error as exc:
        raise BatchInputError(f"{advice.where(path)}: cannot read the header row: {exc}") from exc
    header = [h.strip() for h in header]
    if text_col not in header:
        if any(_has_undecodable(h) for h in header):
            raise BatchInputError(
                f"{advice.where(path)}: the header row is not valid {encoding} text; is it a "
                f"CSV file? ({advice.encoding})"
            )
        shown = [h if len(h) <= 40 else h[:37] + "..." for h in header[:_SHOWN_COLUMNS]]
        more = f", ... ({len(header)} in all)" if len(header) > _SHOWN_COLUMNS else ""
        raise BatchInputError(
            f"{advice.where(path)} has no column {text_col!r} (columns: {', '.join(shown)}{more}); "
            f"{advice.text_col}"
        )
    text_idx = header.index(text_col)
    id_idx = _id_index(header, id_col, advice.where(path), advice)
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader resets on the next call, so only this row is lost.
            yield RowError(
                row, f"malformed CSV at line {reader.line_num}: {exc}", row, reader.line_num
            )
            row += 1
            continue
        if not cells:  # blank line between rows
            continue
        line = reader.line_num
        rid: Any = row
        own_id = False
        if id_idx is not None and id_idx < len(cells) and cells[id_idx].strip():
            rid, own_id = cells[id_idx], True
        if len(cells) != len(header):
            yield RowError(
                rid,
                f"malformed CSV at line {line}: {len(cells)} fields, header has {len(header)}",
                row,
                line,
            )
        elif _has_undecodable(cells[text_idx]) or (
            id_idx is not None and _has_undecodable(cells[id_idx])
        ):
            if _has_undecodable(str(rid)):
                rid = row
            yield RowError(
                rid,
                f"row at line {line} contains bytes that are not valid {encoding}; "
                f"{advice.encoding}",
                row,
                line,
            )
        else:
            yield Record(id=rid, text=cells[text_idx], row=row, line=line, fallback_id=not own_id)
        row += 1


def _id_index(
    header: Sequence[str], id_col: str | None, where: str, advice: InputAdvice
) -> int | None:
    if id_col is None:
        return header.index(DEFAULT_ID_COL) if DEFAULT_ID_COL in header else None
    if id_col not in header:
        raise BatchInputError(
            f"{where} has no id column {id_col!r} (columns: {', '.join(header)}); {advice.id_col}"
        )
    return header.index(id_col)


# ---- JSONL ----------------------------------------------------------------------------------
def _read_jsonl(
    handle: IO[bytes],
    text_col: str,
    id_col: str | None,
    encoding: str,
    path: Path,
    advice: InputAdvice,
    join_lists: str | None = None,
) -> Iterator[Record | RowError]:
    row = 0
    checked_columns = False
    for line_no, raw in enumerate(handle, start=1):
        if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            yield RowError(
                row, f"line {line_no}: {_encoding_message(exc, encoding, advice)}", row, line_no
            )
            row += 1
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RowError(
                row, f"malformed JSON at line {line_no}: {_json_reason(exc)}", row, line_no
            )
            row += 1
            continue
        if not isinstance(obj, dict):
            yield RowError(row, f"line {line_no} is not a JSON object", row, line_no)
            row += 1
            continue
        if not checked_columns:
            # The first object decides whether the columns exist at all (exit 2), later rows
            # missing them are row errors.
            checked_columns = True
            if text_col not in obj:
                raise BatchInputError(
                    f"{advice.where(path)} has no field {text_col!r} "
                    f"(fields: {', '.join(map(str, obj))}); {advice.text_col}"
                )
            if id_col is not None and id_col not in obj:
                raise BatchInputError(
                    f"{advice.where(path)} has no id field {id_col!r} "
                    f"(fields: {', '.join(map(str, obj))}); {advice.id_col}"
                )
        key = id_col or DEFAULT_ID_COL
        rid = obj.get(key)
        own_id = rid is not None and not isinstance(rid, (dict, list))
        if not own_id:
            rid = row
        text = obj.get(text_col)
        if (
            join_lists is not None
            and isinstance(text, list)
            and all(isinstance(item, str) for item in text)
        ):
            text = join_lists.join(text)
        if text_col not in obj:
            yield RowError(rid, f"line {line_no} has no field {text_col!r}", row, line_no)
        elif not isinstance(text, str):
            kind = "null" if text is None else type(text).__name__
            yield RowError(
                rid, f"line {line_no}: field {text_col!r} is {kind}, not text", row, line_no
            )
        else:
            yield Record(id=rid, text=text, row=row, line=line_no, fallback_id=not own_id)
        row += 1


def _json_reason(exc: json.JSONDecodeError) -> str:
    """The decoder's reason with its column: ``Invalid control character U+0009 at column 12``."""
    reason = exc.msg.removesuffix(" at")  # "Invalid control character at" names no character
    if reason.startswith("Invalid control character") and exc.pos < len(exc.doc):
        reason += f" U+{ord(exc.doc[exc.pos]):04X}"
    return f"{reason} at column {exc.colno}"


# ---- classification -------------------------------------------------------------------------
def same_file(a: Path, b: Path) -> bool:
    """Whether writing ``b`` would overwrite the existing file ``a`` (links and ``..`` included)."""
    try:
        return a.is_file() and (a.resolve() == b.resolve() or (b.exists() and a.samefile(b)))
    except OSError:
        return False


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Split a stream into lists of at most ``size`` items without reading ahead further."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def classify_batch(
    classifier: Classifier,
    records: Sequence[Record | RowError | Mapping[str, Any]],
    *,
    max_chars: int = 50_000,
) -> list[dict[str, Any]]:
    """Classify one batch; pure: one output row per input record, in order, no I/O.

    Args:
        classifier: Any :class:`~classifiers.base.Classifier`.
        records: :class:`Record`/:class:`RowError` objects, or mappings with ``id`` and ``text``
            (the shape a Ray Data batch has).
        max_chars: Longest text accepted.

    Returns:
        ``Classification.to_dict(id)`` for each classifiable record, ``{"id", "error"}`` otherwise.
    """
    from classifiers.text_checks import validate_text

    out: list[dict[str, Any] | None] = [None] * len(records)
    todo: list[tuple[int, Any, str]] = []
    for i, rec in enumerate(records):
        if isinstance(rec, RowError):
            out[i] = rec.to_dict()
            continue
        rid: Any
        text: Any
        if isinstance(rec, Record):
            rid, text = rec.id, rec.text
        else:
            rid, text = rec.get("id", i), rec.get("text")
        if not isinstance(text, str):
            out[i] = {"id": rid, "error": "text is missing or not a string"}
            continue
        try:
            text = validate_text(text, max_chars)  # NFC: the evidence spans index this string
        except InvalidTextError as exc:
            out[i] = {"id": rid, "error": str(exc)}
            continue
        todo.append((i, rid, text))
    if todo:
        for (i, rid, _), result in zip(todo, _predict_isolating(classifier, todo), strict=True):
            out[i] = result if isinstance(result, dict) else result.to_dict(rid)
    return [row for row in out if row is not None]


def _predict_isolating(classifier: Classifier, todo: list[tuple[int, Any, str]]) -> list[Any]:
    """Predict the whole batch; if that fails, one text at a time so only the culprit fails."""
    texts = [text for _, _, text in todo]
    try:
        results: list[Any] = list(classifier.predict(texts))
        if len(results) == len(texts):
            return results
        logger.error("classifier returned %d results for %d texts", len(results), len(texts))
    except Exception as exc:  # isolate the failing row below instead of losing the batch
        logger.warning(
            "batch of %d failed (%s); retrying one by one", len(texts), type(exc).__name__
        )
    results = []
    for _, rid, text in todo:
        try:
            results.append(classifier.predict([text])[0])
        except InvalidTextError as exc:
            results.append({"id": rid, "error": str(exc)})
        except Exception as exc:  # one row's failure must not end the run
            logger.exception("classification failed for row id %r", rid)
            results.append(
                {"id": rid, "error": f"classification failed: {type(exc).__name__}: {exc}"}
            )
    return results
