"""Parse and validate knowledge-base passages (YAML front matter + Markdown body, one per file).

A bad file never stops the others from loading: it becomes a :class:`PassageError` that names the
file and the field at fault, so the corpus writer knows exactly what to fix.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge_base.schema import Passage

logger = logging.getLogger(__name__)

#: Files larger than this are not passages (a passage is at most 200 words).
MAX_FILE_BYTES = 256 * 1024
#: Byte-order marks of UTF-16 and UTF-32 text (what some editors save as "Unicode"); such text
#: is full of NUL bytes, but it is text in the wrong encoding, not a binary file.
WIDE_UNICODE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
WIDE_UNICODE_MESSAGE = "UTF-16 or UTF-32 text (it opens with a byte-order mark); save as UTF-8"


@dataclass(frozen=True)
class PassageError:
    """Why one file (or one field of it) could not be loaded."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class LoadResult:
    """Valid passages (in file order) and the errors of the files that were not."""

    passages: list[Passage] = field(default_factory=list)
    errors: list[PassageError] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """Passage id -> file it was loaded from."""

    @property
    def failed_files(self) -> set[str]:
        return {e.file for e in self.errors}


def yaml_problem(exc: yaml.YAMLError, first_line: int = 1) -> str:
    """Where and what a YAML error is, on one line: `` at line 3, column 8: expected ...``.

    Args:
        exc: The error from ``yaml.safe_load``.
        first_line: Line of the file on which the parsed YAML starts (front matter: 2).
    """
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + first_line}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    # PyYAML's own text quotes the offending lines under a caret: many lines, and file content.
    what = " ".join(f"{problem} ({context})".split()) if context else " ".join(problem.split())
    return f"{where}: {what}"


def split_front_matter(raw: str) -> tuple[dict[str, Any], str]:
    """Split ``---``-delimited YAML front matter from the body.

    Raises:
        ValueError: no front matter, or it is not a YAML mapping.
        yaml.YAMLError: the front matter is not valid YAML.
    """
    text = raw.lstrip("\ufeff")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ValueError("file must start with a '---' line opening the YAML front matter")
    end = next((i for i, line in enumerate(lines) if i > 0 and line.strip() == "---"), None)
    if end is None:
        raise ValueError("front matter is not closed by a '---' line")
    meta = yaml.safe_load("\n".join(lines[1:end]))
    if not isinstance(meta, dict):
        raise ValueError("front matter must be a YAML mapping of field: value")
    body = "\n".join(lines[end + 1 :]).strip()
    return meta, body


def parse_passage_file(path: Path, display: str | None = None) -> Passage | list[PassageError]:
    """Read one passage file; returns the passage or the errors that name its bad fields."""
    name = display or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [PassageError(name, "file", f"cannot read: {exc.strerror or exc}")]
    if len(data) > MAX_FILE_BYTES:
        return [PassageError(name, "file", f"{len(data)} bytes is too large for a passage")]
    if data.startswith(WIDE_UNICODE_BOMS):
        return [PassageError(name, "encoding", WIDE_UNICODE_MESSAGE)]
    if b"\x00" in data:
        return [PassageError(name, "encoding", "binary file (contains NUL bytes), not Markdown")]
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [
            PassageError(name, "encoding", f"not valid UTF-8 (byte {exc.start}); save as UTF-8")
        ]
    try:
        meta, body = split_front_matter(raw)
    except yaml.YAMLError as exc:
        return [PassageError(name, "front_matter", f"invalid YAML{yaml_problem(exc, 2)}")]
    except ValueError as exc:
        return [PassageError(name, "front_matter", str(exc))]
    if "text" in meta:
        return [
            PassageError(name, "text", "the text is the Markdown body, not a front-matter field")
        ]
    try:
        return Passage(**meta, text=body)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            # Whole-passage checks (the word count) have no location: they are about the text.
            loc = ".".join(str(p) for p in err["loc"]) or (
                "text" if "words" in err["msg"] else "passage"
            )
            errors.append(PassageError(name, loc, err["msg"]))
        return errors
    except TypeError as exc:  # e.g. a non-string key in the front matter
        return [PassageError(name, "front_matter", str(exc))]


def iter_passage_files(root: Path) -> list[Path]:
    """Markdown files under ``root`` (sorted, so ids and errors come out in a stable order)."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.md") if p.is_file() and not p.name.startswith("."))


def load_passages(paths: Iterable[Path | str], base: Path | None = None) -> LoadResult:
    """Load passage files or directories of them.

    Args:
        paths: Files or directories (searched recursively for ``*.md``).
        base: Files are named relative to this directory in errors and metadata, if under it.

    Returns:
        The valid passages and one :class:`PassageError` per problem; a duplicate id keeps the
        first file's passage and reports the second.
    """
    result = LoadResult()
    first_file: dict[str, str] = {}
    for root in paths:
        root = Path(root)
        if not root.exists():
            result.errors.append(PassageError(str(root), "file", "does not exist"))
            continue
        for path in iter_passage_files(root):
            display = _display_name(path, base)
            loaded = parse_passage_file(path, display)
            if isinstance(loaded, list):
                result.errors.extend(loaded)
                continue
            if loaded.id in first_file:
                result.errors.append(
                    PassageError(
                        display,
                        "id",
                        f"duplicate id {loaded.id!r} (already in {first_file[loaded.id]})",
                    )
                )
                continue
            first_file[loaded.id] = display
            result.passages.append(loaded)
            result.files[loaded.id] = display
    logger.info("loaded %d passages, %d errors", len(result.passages), len(result.errors))
    return result


def _display_name(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)
