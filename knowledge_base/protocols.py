"""A clinic's own protocols (Markdown or PDF) cut into retrievable chunks.

Chunks carry ``source="clinic"``. A Markdown or text protocol may open with YAML front matter::

    ---
    title: Call-backs after referral     # default: from the file name
    conditions: [depression]             # default: [general_wellbeing]
    severity: [moderate, severe]         # default: every severity level
    risk: [none, indicator]              # default: every risk level
    ---

An invalid value of these fields (or a near-miss of their names, such as ``severty``) is an error
naming the file and the field, and that file is skipped; other fields are the clinic's own and
are left alone. Without front matter a protocol can surface for any post. PDF text is extracted
with pypdf.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from classifiers.labels import RISK_LEVELS, SEVERITY_LEVELS
from knowledge_base.loader import (
    WIDE_UNICODE_BOMS,
    WIDE_UNICODE_MESSAGE,
    PassageError,
    split_front_matter,
    yaml_problem,
)
from knowledge_base.schema import vocabulary_error

logger = logging.getLogger(__name__)

PROTOCOL_SUFFIXES = (".md", ".markdown", ".txt", ".pdf")
CHUNK_SIZE = 800
CHUNK_OVERLAP = 100
MAX_PROTOCOL_BYTES = 50 * 1024 * 1024
#: Front-matter fields a protocol may set; the list fields share the passages' vocabularies.
PROTOCOL_FIELDS = ("title", "conditions", "severity", "risk")
MAX_TITLE_CHARS = 160
#: Every PDF opens with this within its first 1024 bytes (readers accept a short prefix).
PDF_MAGIC = b"%PDF-"
_PDF_HEADER_WINDOW = 1024


@dataclass(frozen=True)
class ProtocolChunk:
    """One chunk of a clinic protocol, ready for the store."""

    id: str
    title: str
    text: str
    file: str
    part: int
    parts: int
    conditions: tuple[str, ...]
    content_hash: str
    intervention_type: str = "clinic_protocol"
    audience: str = "practitioner"
    severity: tuple[str, ...] = SEVERITY_LEVELS
    risk: tuple[str, ...] = RISK_LEVELS

    @property
    def citation(self) -> str:
        return f"{self.title} (clinic protocol), part {self.part} of {self.parts}. {self.file}"


@dataclass(frozen=True)
class ProtocolFrontMatter:
    """What a protocol's front matter set (the defaults where it set nothing)."""

    title: str | None = None
    conditions: tuple[str, ...] = ("general_wellbeing",)
    severity: tuple[str, ...] = SEVERITY_LEVELS
    risk: tuple[str, ...] = RISK_LEVELS


class ProtocolFieldError(ValueError):
    """One front-matter field (or the front matter as a whole) of a protocol is invalid."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class ProtocolLoadResult:
    """Chunks of every readable protocol, plus errors naming the files that were not."""

    chunks: list[ProtocolChunk] = field(default_factory=list)
    errors: list[PassageError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Every protocol file that was found (readable or not), as named in chunk metadata."""


def title_from_filename(path: Path) -> str:
    """``crisis_protocol-v2.pdf`` -> ``Crisis protocol v2``."""
    words = re.sub(r"[_\-.]+", " ", path.stem).strip()
    return (words[:1].upper() + words[1:]) if words else path.name


def iter_protocol_files(paths: Iterable[Path | str]) -> list[Path]:
    """Protocol files named directly or found (recursively) in the given directories, each once."""
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files = sorted(
                f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in PROTOCOL_SUFFIXES
            )
        else:
            files = [p]
        for f in files:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                found.append(f)
    return found


def protocol_path_problems(paths: Iterable[Path | str]) -> list[str]:
    """Why each path named for ingestion cannot be read as protocols; empty when all can.

    A missing path, a file of an unsupported type or a folder without a single protocol file is
    almost always a typo, so the command line refuses it before ingesting anything.
    """
    problems: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            if not iter_protocol_files([p]):
                problems.append(f"{p} holds no protocol files ({', '.join(PROTOCOL_SUFFIXES)})")
        elif not p.exists():
            problems.append(f"{p} does not exist")
        elif not p.is_file():
            problems.append(f"{p} is not a file or folder")
        elif p.suffix.lower() not in PROTOCOL_SUFFIXES:
            problems.append(f"{p}: unsupported type; use one of {', '.join(PROTOCOL_SUFFIXES)}")
    return problems


def _silence_pypdf_logs() -> None:
    """Keep pypdf's own log records out of the log, for good.

    pypdf logs what it repairs, quoting the bytes it found (``invalid pdf header: b'Patie'``):
    from a clinic's private document those bytes are its content. Its logger (and through it
    every ``pypdf.*`` logger without a level of its own) is raised above CRITICAL; nothing it
    says about a protocol is needed, since a file it cannot read is an ingest error anyway.
    """
    logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)


def extract_pdf_text(path: Path) -> str:
    """All text of a PDF, page by page.

    Raises:
        ProtocolFieldError: The file is not a PDF (no ``%PDF-`` header: checked before pypdf
            sees it) or is password-protected.
    """
    with path.open("rb") as handle:
        head = handle.read(_PDF_HEADER_WINDOW)
    if PDF_MAGIC not in head:
        raise ProtocolFieldError(
            "file",
            "not a PDF (it does not start with %PDF-); export it from its program as PDF, "
            "or save it as .md or .txt",
        )
    from pypdf import PdfReader

    _silence_pypdf_logs()
    reader = PdfReader(str(path))
    if reader.is_encrypted and not reader.decrypt(""):  # pypdf opens empty-password ones itself
        raise ProtocolFieldError(
            "file", "password-protected PDF; save a copy without the password and ingest that"
        )
    pages = [(page.extract_text() or "").strip() for page in reader.pages]
    return "\n\n".join(p for p in pages if p)


def _read_protocol(path: Path) -> tuple[str, ProtocolFrontMatter, list[tuple[str, str]]]:
    """Text, front matter and front-matter errors of one protocol file."""
    if path.suffix.lower() == ".pdf":
        return extract_pdf_text(path), ProtocolFrontMatter(), []
    data = path.read_bytes()
    if data.startswith(WIDE_UNICODE_BOMS):
        raise ProtocolFieldError("encoding", WIDE_UNICODE_MESSAGE)
    if b"\x00" in data:
        raise ValueError("binary file (contains NUL bytes), not Markdown or text")
    raw = data.decode("utf-8")
    # Only a first line of exactly '---' opens front matter (a '-----' rule is just text).
    if raw.lstrip("\ufeff").split("\n", 1)[0].strip() != "---":
        return raw, ProtocolFrontMatter(), []
    try:
        meta, body = split_front_matter(raw)
    except ValueError as exc:  # not closed, or not a mapping (yaml.YAMLError is not a ValueError)
        raise ProtocolFieldError("front_matter", str(exc)) from exc
    front, problems = parse_front_matter(meta)
    return body, front, problems


def parse_front_matter(meta: dict[Any, Any]) -> tuple[ProtocolFrontMatter, list[tuple[str, str]]]:
    """A protocol's front matter, and (field, message) for each invalid field in it."""
    problems: list[tuple[str, str]] = []
    for key in meta:
        if (near := _near_miss(str(key))) is not None:
            problems.append((str(key), f"unknown field; did you mean {near!r}?"))
    title = meta.get("title")
    if title is not None:
        title = title.strip() if isinstance(title, str) else ""
        if not title:
            problems.append(("title", "must be non-empty text (quote it if it holds [ or :)"))
        elif len(title) > MAX_TITLE_CHARS:
            problems.append(("title", f"longer than {MAX_TITLE_CHARS} characters"))
    values: dict[str, tuple[str, ...]] = {}
    for name in PROTOCOL_FIELDS[1:]:
        declared = meta.get(name)
        if declared is None or declared == []:  # absent or left blank: the default
            continue
        if isinstance(declared, str):
            declared = [declared]
        if not isinstance(declared, list) or not all(isinstance(v, str) for v in declared):
            problems.append((name, "must be a value or a list of values, e.g. [a, b]"))
        elif problem := vocabulary_error(name, declared):
            problems.append((name, problem))
        else:
            values[name] = tuple(dict.fromkeys(declared))
    return ProtocolFrontMatter(title=title or None, **values), problems


def _near_miss(key: str) -> str | None:
    """The protocol field ``key`` was probably meant to be (``Severty`` -> ``severity``), if any.

    Other keys belong to the clinic (``author``, ``version``, ``subtitle``) and are ignored.
    """
    if key in PROTOCOL_FIELDS:
        return None
    lowered = key.lower()
    # A longer word that holds a field's name (``subtitle``) is a field of its own.
    if any(f in lowered and lowered not in (f, f"{f}s") for f in PROTOCOL_FIELDS):
        return None
    near = difflib.get_close_matches(lowered, PROTOCOL_FIELDS, n=1, cutoff=0.75)
    return near[0] if near else None


def chunk_text(text: str, chunk_size: int = CHUNK_SIZE, overlap: int = CHUNK_OVERLAP) -> list[str]:
    """Split text on paragraph, line, sentence and word boundaries into overlapping chunks."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=overlap,
        separators=["\n\n", "\n", ". ", " ", ""],
    )
    return [c.strip() for c in splitter.split_text(text) if c.strip()]


def _slug(path: Path) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:40] or "protocol"
    # The path digest keeps two same-named files in different folders apart.
    digest = hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:8]
    return f"{base}-{digest}"


def load_protocols(paths: Iterable[Path | str]) -> ProtocolLoadResult:
    """Read and chunk clinic protocols; unreadable files become errors, the rest still load."""
    result = ProtocolLoadResult()
    for path in iter_protocol_files(paths):
        name = str(path.resolve()) if path.exists() else str(path)
        result.files.append(name)
        if not path.is_file():
            result.errors.append(PassageError(name, "file", "does not exist"))
            continue
        if path.suffix.lower() not in PROTOCOL_SUFFIXES:
            result.errors.append(
                PassageError(name, "file", f"unsupported type; use one of {PROTOCOL_SUFFIXES}")
            )
            continue
        if path.stat().st_size > MAX_PROTOCOL_BYTES:
            result.errors.append(PassageError(name, "file", "larger than 50 MB"))
            continue
        try:
            text, front, problems = _read_protocol(path)
        except UnicodeDecodeError as exc:
            result.errors.append(
                PassageError(name, "encoding", f"not valid UTF-8 (byte {exc.start}); save as UTF-8")
            )
            continue
        except yaml.YAMLError as exc:
            result.errors.append(
                PassageError(name, "front_matter", f"invalid YAML{yaml_problem(exc, 2)}")
            )
            continue
        except ProtocolFieldError as exc:
            result.errors.append(PassageError(name, exc.field, exc.message))
            continue
        except Exception as exc:  # pypdf raises many types for damaged files
            # pypdf's messages can quote the file's bytes ("Invalid Elementary Object starting
            # with b'...'"): for a PDF only the kind of failure is shown.
            message = (
                f"cannot read this PDF ({type(exc).__name__}); it may be damaged: open it and "
                "save it as PDF again"
                if path.suffix.lower() == ".pdf"
                else f"cannot read ({type(exc).__name__}: {exc})"
            )
            result.errors.append(PassageError(name, "file", message))
            continue
        if problems:
            result.errors.extend(PassageError(name, f, m) for f, m in problems)
            continue
        pieces = chunk_text(text)
        if not pieces:
            message = (
                "no extractable text (a scanned PDF needs OCR first)"
                if path.suffix.lower() == ".pdf"
                else "no text (the file is empty or holds only front matter)"
            )
            result.errors.append(PassageError(name, "text", message))
            continue
        title = front.title or title_from_filename(path)
        conds = front.conditions
        # Levels enter the hash only when set, so protocols without them keep their old hashes.
        levels = "".join(
            f"\n{field_name}:{'|'.join(chosen)}"
            for field_name, chosen, default in (
                ("severity", front.severity, SEVERITY_LEVELS),
                ("risk", front.risk, RISK_LEVELS),
            )
            if chosen != default
        )
        slug = _slug(path)
        for i, piece in enumerate(pieces, start=1):
            digest = hashlib.sha256(
                f"{title}\n{'|'.join(conds)}{levels}\n{i}/{len(pieces)}\n{piece}".encode()
            ).hexdigest()
            result.chunks.append(
                ProtocolChunk(
                    id=f"clinic-{slug}-{i:03d}",
                    title=title,
                    text=piece,
                    file=name,
                    part=i,
                    parts=len(pieces),
                    conditions=conds,
                    content_hash=digest,
                    severity=front.severity,
                    risk=front.risk,
                )
            )
        logger.info("protocol file chunked into %d chunks", len(pieces))
    return result


def chunk_metadata(chunk: ProtocolChunk) -> dict[str, Any]:
    """Scalar fields of a chunk for the store (list fields are added by the store helper)."""
    return {
        "title": chunk.title,
        "intervention_type": chunk.intervention_type,
        "audience": chunk.audience,
        "guideline": "Clinic protocol",
        "section": f"part {chunk.part} of {chunk.parts}",
        "url": chunk.file,
        "citation": chunk.citation,
        "source": "clinic",
        "file": chunk.file,
        "content_hash": chunk.content_hash,
    }
