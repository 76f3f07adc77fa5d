"""Batch analysis of an uploaded CSV/JSONL file of posts: one row per post plus summary counts.

Each post is checked, redacted, classified (in batches, with the classifier's own batching) and
passed through the deterministic safety gate, exactly as the single-post pipeline does, but
without retrieval or the LLM: a practitioner triaging a file wants the signals and the crisis
flags fast, and opens a post's full analysis only when needed. Rows that cannot be read or
analysed carry an ``error`` and never stop the run (:func:`assistant.batch_io.read_records`).
A post the gate finds not in English carries its ``language``: its crisis flag reads "unknown",
since neither the classifier nor the gate can read it.

Results download as JSONL (one ``Classification.to_dict`` row per post, plus the gate's decision)
and as CSV (a flat table). Only redacted text is kept in the results.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from assistant.batch_io import (
    CLI_ADVICE,
    DEFAULT_TEXT_COL,
    BatchInputError,
    InputAdvice,
    Record,
    RowError,
    batched,
    classify_batch,
    read_records,
)
from assistant.draft import CareDraft, SafetyDecision
from assistant.redact import redact_text
from assistant.safety import SafetyGate
from classifiers.base import Classifier, InvalidTextError
from classifiers.labels import CONDITIONS, RISK_LEVELS, SEVERITY_LEVELS
from classifiers.text_checks import validate_text

logger = logging.getLogger(__name__)

#: Rows analysed per upload in the UI; bigger files belong to ``mindsignal classify``.
DEFAULT_MAX_ROWS = 2000
#: Columns of the results table and CSV, in order.
TABLE_COLUMNS: tuple[str, ...] = (
    "id",
    "relevant",
    "top labels",
    "severity",
    "risk",
    "crisis",
    "language",
    "error",
)

#: ``progress(done, total)`` after each batch.
ProgressCallback = Callable[[int, int], None]

__all__ = [
    "DEFAULT_MAX_ROWS",
    "TABLE_COLUMNS",
    "BatchAnalyzer",
    "BatchInputError",
    "BatchResult",
    "BatchRow",
    "BatchSummary",
]


@dataclass(frozen=True)
class BatchRow:
    """One post's result (or error).

    Attributes:
        id: The id column's value, else the row index.
        classification: ``Classification.to_dict`` of the post (``None`` on error).
        crisis: Whether the safety gate opened (classifier risk or explicit cues).
        urgent: Behaviour or attempt: same-day assessment.
        risk: The gate's effective risk level.
        gate_reasons: Why the gate decided as it did.
        redacted_text: The redacted, normalised post the evidence spans index.
        language: Language code of a post not in English (``""``: English or unchecked).
        error: Why the row could not be analysed.
    """

    id: Any
    classification: dict[str, Any] | None = None
    crisis: bool = False
    urgent: bool = False
    risk: str | None = None
    gate_reasons: tuple[str, ...] = ()
    redacted_text: str = ""
    language: str = ""
    error: str | None = None
    decision: SafetyDecision | None = field(default=None, repr=False, compare=False)

    @property
    def labels(self) -> list[str]:
        """Detected conditions, best first."""
        if not self.classification:
            return []
        return [str(lab["label"]) for lab in self.classification.get("labels", [])]

    @property
    def severity(self) -> str | None:
        """Severity band, if analysed."""
        if not self.classification:
            return None
        return str(self.classification.get("severity", {}).get("level", ""))

    def as_draft(self) -> CareDraft | None:
        """The row as an analysis-only :class:`CareDraft` (no passages, no LLM text)."""
        if self.classification is None or self.decision is None:
            return None
        return CareDraft(
            case_id=f"batch-{self.id}",
            created_at=datetime.now(UTC),
            input_chars=len(self.redacted_text),
            redacted_text=self.redacted_text,
            classification=self.classification,
            gate=self.decision,
            recommendation=self.decision.block_markdown,
            classifier_version=str(self.classification.get("model_version", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSONL row: the classification contract plus the safety gate's decision."""
        if self.classification is None:
            return {"id": self.id, "error": self.error}
        return {
            **self.classification,
            "id": self.id,
            "safety": {
                "crisis": self.crisis,
                "urgent": self.urgent,
                "level": self.risk,
                "reasons": list(self.gate_reasons),
                "language": self.language,
            },
        }

    def table_row(self) -> list[Any]:
        """One row of the results table (:data:`TABLE_COLUMNS`)."""
        if self.classification is None:
            return [str(self.id), "", "", "", "", "", "", self.error or ""]
        top = ", ".join(
            f"{lab['label']} {float(lab['score']):.2f}"
            for lab in self.classification.get("labels", [])[:3]
        )
        relevant = "yes" if self.classification.get("relevant") else "no"
        crisis = "URGENT" if self.urgent else ("yes" if self.crisis else "no")
        if self.language and not self.crisis:
            crisis = "unknown"  # nothing here could read the post
        return [
            str(self.id),
            relevant,
            top,
            self.severity or "",
            self.risk or "",
            crisis,
            self.language,
            "",
        ]


@dataclass(frozen=True)
class BatchSummary:
    """Counts over a batch run."""

    total: int
    analysed: int
    errors: int
    crisis: int
    urgent: int
    not_english: int = 0
    conditions: dict[str, int] = field(default_factory=dict)
    severity: dict[str, int] = field(default_factory=dict)
    risk: dict[str, int] = field(default_factory=dict)
    truncated: bool = False
    max_rows: int = DEFAULT_MAX_ROWS
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counts."""
        return {
            "total": self.total,
            "analysed": self.analysed,
            "errors": self.errors,
            "crisis": self.crisis,
            "urgent": self.urgent,
            "not_english": self.not_english,
            "conditions": dict(self.conditions),
            "severity": dict(self.severity),
            "risk": dict(self.risk),
            "truncated": self.truncated,
            "max_rows": self.max_rows,
            "seconds": round(self.seconds, 2),
        }

    def to_markdown(self) -> str:
        """A short human summary for the UI."""
        lines = [
            f"**{self.total}** posts: **{self.analysed}** analysed, **{self.errors}** with errors, "
            f"**{self.crisis}** with the crisis gate open ({self.urgent} urgent)."
        ]
        if self.not_english:
            lines.append(
                f"**{self.not_english}** not in English: MindSignal could not read them, so "
                "their crisis flag is unknown. Read them yourself."
            )
        if self.truncated:
            lines.append(
                f"Only the first {self.max_rows:,} rows were analysed; use "
                "`mindsignal classify` for bigger files."
            )
        return "\n\n".join(lines)


@dataclass(frozen=True)
class BatchResult:
    """All rows of a run and their summary."""

    rows: list[BatchRow]
    summary: BatchSummary

    def write_jsonl(self, path: Path) -> Path:
        """Write one JSON object per post; returns ``path``."""
        with path.open("w", encoding="utf-8") as handle:
            for row in self.rows:
                handle.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
        return path

    def write_csv(self, path: Path) -> Path:
        """Write the results table as CSV; returns ``path``."""
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(TABLE_COLUMNS)
            for row in self.rows:
                writer.writerow(row.table_row())
        return path


class BatchAnalyzer:
    """Classifies and gates every post of a file.

    Args:
        classifier: Any classifier (the app's).
        gate: The safety gate (the pipeline's, so crisis decisions match single-post analysis).
        redact: Redact identifiers before classification, as the pipeline does.
        max_chars: Longest post accepted.
        batch_size: Posts per classifier call.
        max_rows: Rows analysed per run; more are counted as truncated.
    """

    def __init__(
        self,
        classifier: Classifier,
        gate: SafetyGate,
        *,
        redact: bool = True,
        max_chars: int = 50_000,
        batch_size: int = 32,
        max_rows: int = DEFAULT_MAX_ROWS,
    ) -> None:
        self.classifier = classifier
        self.gate = gate
        self.redact = redact
        self.max_chars = max_chars
        self.batch_size = batch_size
        self.max_rows = max_rows

    def run(
        self,
        path: str | Path,
        text_col: str = DEFAULT_TEXT_COL,
        id_col: str | None = None,
        progress: ProgressCallback | None = None,
        advice: InputAdvice = CLI_ADVICE,
    ) -> BatchResult:
        """Analyse the file's posts.

        Args:
            path: CSV, TSV or JSONL file.
            text_col: Column holding the post.
            id_col: Column holding the id (``None``: ``id`` if present, else the row index).
            progress: Called as ``progress(done, total)`` after every batch.
            advice: What the reader's messages tell the user to do, and how they name the file.

        Raises:
            BatchInputError: The file as a whole is unusable (missing, no such column, empty).
        """
        t0 = time.perf_counter()
        text_col = (text_col or DEFAULT_TEXT_COL).strip()
        records = read_records(path, text_col, id_col or None, advice=advice)
        items = list(islice(records, self.max_rows + 1))
        truncated = len(items) > self.max_rows
        items = items[: self.max_rows]
        if not items:
            raise BatchInputError("the file has a header but no rows to analyse")
        total = len(items)
        rows: list[BatchRow] = []
        if progress is not None:
            progress(0, total)
        for chunk in batched(items, self.batch_size):
            rows.extend(self._analyse_chunk(chunk))
            if progress is not None:
                progress(len(rows), total)
        summary = summarise(rows, truncated, self.max_rows, time.perf_counter() - t0)
        logger.info(
            "batch analysed: rows=%d errors=%d crisis=%d truncated=%s seconds=%.1f",
            summary.total,
            summary.errors,
            summary.crisis,
            truncated,
            summary.seconds,
        )
        return BatchResult(rows=rows, summary=summary)

    def _analyse_chunk(self, chunk: Sequence[Record | RowError]) -> list[BatchRow]:
        prepared: list[Record | RowError] = []
        texts: dict[int, str] = {}
        for item in chunk:
            if isinstance(item, RowError):
                prepared.append(item)
                continue
            try:
                text = validate_text(item.text, self.max_chars)
            except InvalidTextError as exc:
                prepared.append(RowError(item.id, str(exc), item.row, item.line))
                continue
            if self.redact:
                text = redact_text(text).text
            # The classifier's evidence spans index the NFC form of what it was given.
            texts[item.row] = validate_text(text, self.max_chars + 10 * len(text))
            prepared.append(Record(item.id, texts[item.row], item.row, item.line))
        outputs = classify_batch(self.classifier, prepared, max_chars=10 * self.max_chars)
        rows: list[BatchRow] = []
        for item, out in zip(prepared, outputs, strict=True):
            if "error" in out and "labels" not in out:
                rows.append(BatchRow(id=out.get("id", item.id), error=str(out["error"])))
                continue
            text = texts.get(item.row, "")
            decision = self.gate.decide(out, text)
            rows.append(
                BatchRow(
                    id=item.id,
                    classification=out,
                    crisis=decision.crisis,
                    urgent=decision.urgent,
                    risk=decision.level,
                    gate_reasons=tuple(decision.reasons),
                    redacted_text=text,
                    language=decision.language,
                    decision=decision,
                )
            )
        return rows


def summarise(
    rows: Sequence[BatchRow],
    truncated: bool = False,
    max_rows: int = DEFAULT_MAX_ROWS,
    seconds: float = 0.0,
) -> BatchSummary:
    """Counts per condition, severity band and risk level over analysed rows."""
    ok = [r for r in rows if r.classification is not None]
    conditions = Counter(label for r in ok for label in r.labels)
    severity = Counter(r.severity or "" for r in ok)
    risk = Counter(r.risk or "none" for r in ok)
    return BatchSummary(
        total=len(rows),
        analysed=len(ok),
        errors=len(rows) - len(ok),
        crisis=sum(r.crisis for r in ok),
        urgent=sum(r.urgent for r in ok),
        not_english=sum(bool(r.language) for r in ok),
        conditions={c: conditions[c] for c in CONDITIONS if conditions[c]},
        severity={s: severity[s] for s in SEVERITY_LEVELS},
        risk={level: risk[level] for level in RISK_LEVELS},
        truncated=truncated,
        max_rows=max_rows,
        seconds=seconds,
    )


def peek_columns(path: str | Path) -> list[str]:
    """Column names of a CSV/TSV header or the first JSONL object (empty if unreadable)."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError:
        return []
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    if file.suffix.lower() in (".jsonl", ".ndjson", ".json") or first.lstrip().startswith("{"):
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            return []
        return [str(k) for k in obj] if isinstance(obj, dict) else []
    delimiter = "\t" if file.suffix.lower() == ".tsv" else ","
    try:
        header = next(csv.reader([first], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return []
    return [h.strip() for h in header if h.strip()]
