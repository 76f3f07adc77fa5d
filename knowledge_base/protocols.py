"""A clinic's own protocols (Markdown or PDF) cut into retrievable chunks.

Chunks carry ``source="clinic"``, a title from the file name, the conditions from optional front
matter (Markdown) or ``general_wellbeing``, and every severity and risk level, so they can surface
for any post. PDF text is extracted with pypdf.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from classifiers.labels import RISK_LEVELS, SEVERITY_LEVELS
from knowledge_base.loader import PassageError, split_front_matter
from knowledge_base.schema import PASSAGE_CONDITIONS

logger = logging.getLogger(__name__)

PROTOCOL_SUFFIXES = (".md", ".markdown", ".txt", ".pdf")
CHUNK_SIZE = 800
CHUNK_OVERLAP = 100
MAX_PROTOCOL_BYTES = 50 * 1024 * 1024


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
    """Protocol files named directly or found (recursively) in the given directories."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.extend(
                sorted(
                    f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in PROTOCOL_SUFFIXES
                )
            )
        else:
            found.append(p)
    return found


def extract_pdf_text(path: Path) -> str:
    """All text of a PDF, page by page."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    pages = [(page.extract_text() or "").strip() for page in reader.pages]
    return "\n\n".join(p for p in pages if p)


def _read_protocol(path: Path) -> tuple[str, list[str]]:
    """Text and declared conditions of one protocol file."""
    if path.suffix.lower() == ".pdf":
        return extract_pdf_text(path), []
    data = path.read_bytes()
    if b"\x00" in data:
        raise ValueError("binary file (contains NUL bytes), not Markdown or text")
    raw = data.decode("utf-8")
    conditions: list[str] = []
    if raw.lstrip("\ufeff").startswith("---"):
        meta, raw = split_front_matter(raw)
        declared = meta.get("conditions") or []
        if isinstance(declared, str):
            declared = [declared]
        bad = [c for c in declared if c not in PASSAGE_CONDITIONS]
        if bad:
            raise KeyError(f"unknown condition(s) {bad}; allowed: {list(PASSAGE_CONDITIONS)}")
        conditions = [str(c) for c in declared]
    return raw, conditions


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
            text, conditions = _read_protocol(path)
        except UnicodeDecodeError as exc:
            result.errors.append(
                PassageError(name, "encoding", f"not valid UTF-8 (byte {exc.start}); save as UTF-8")
            )
            continue
        except yaml.YAMLError as exc:
            result.errors.append(PassageError(name, "front_matter", f"invalid YAML: {exc}"))
            continue
        except KeyError as exc:
            result.errors.append(PassageError(name, "conditions", str(exc.args[0])))
            continue
        except Exception as exc:  # pypdf raises many types for damaged files
            result.errors.append(
                PassageError(name, "file", f"cannot read ({type(exc).__name__}: {exc})")
            )
            continue
        pieces = chunk_text(text)
        if not pieces:
            result.errors.append(
                PassageError(name, "text", "no extractable text (a scanned PDF needs OCR first)")
            )
            continue
        title = title_from_filename(path)
        conds = tuple(conditions) or ("general_wellbeing",)
        slug = _slug(path)
        for i, piece in enumerate(pieces, start=1):
            digest = hashlib.sha256(
                f"{title}\n{'|'.join(conds)}\n{i}/{len(pieces)}\n{piece}".encode()
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
