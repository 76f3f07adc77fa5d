"""Exports of a practitioner-reviewed :class:`~assistant.draft.CareDraft`: Markdown, JSON and PDF.

:func:`apply_review` records the practitioner's edits (edited draft text, reviewed flag, notes) on
a copy of the draft; :func:`write_exports` writes the three files a practitioner downloads. Every
export holds the analysis, the draft, the sources with their guideline citations, the review
status and the disclaimer. The PDF is drawn with fpdf2 and the DejaVu Sans font that matplotlib
ships, so text in any script DejaVu covers (Latin, Greek, Cyrillic, Hebrew, Arabic, symbols) keeps
its characters instead of turning into ``?``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.draft import DISCLAIMER, CareDraft, checked_draft, evidence_lines
from classifiers.labels import is_crisis

if TYPE_CHECKING:
    from fpdf import FPDF

logger = logging.getLogger(__name__)

#: The ``notice`` of a JSON export: what the file is, in one line.
REVIEW_NOTICE = (
    "Draft for a practitioner to review; it reports signals consistent with a condition, "
    "not a diagnosis."
)
#: Longest edited draft accepted from the review editor (characters).
MAX_EDIT_CHARS = 100_000
_MD_LINK_RE = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_MD_EMPHASIS_RE = re.compile(r"(\*\*|__|\*|`)")


class ExportError(RuntimeError):
    """An export could not be written; the message says which and why."""


@dataclass(frozen=True)
class ExportFiles:
    """Paths of the files written by :func:`write_exports`."""

    markdown: Path
    json: Path
    pdf: Path

    def as_list(self) -> list[str]:
        """The three paths as strings (Markdown, JSON, PDF)."""
        return [str(self.markdown), str(self.json), str(self.pdf)]


def apply_review(
    draft: CareDraft, edited_text: str | None, reviewed: bool, notes: str = ""
) -> CareDraft:
    """A copy of ``draft`` carrying the practitioner's edits and review status.

    The gate's block (crisis resources, or the not-English notice) is part of the safety gate's
    decision, not of the LLM's prose: if an edit dropped it, it is put back in front so no export
    can lose it.

    Args:
        draft: The draft as the pipeline returned it.
        edited_text: The draft text from the editor (``None`` or blank: keep the pipeline's).
        reviewed: Whether the practitioner marked the draft as reviewed.
        notes: Reviewer notes.

    Raises:
        ValueError: The edited text or notes are longer than :data:`MAX_EDIT_CHARS`.
    """
    text = draft.recommendation if edited_text is None or not edited_text.strip() else edited_text
    if len(text) > MAX_EDIT_CHARS or len(notes) > MAX_EDIT_CHARS:
        raise ValueError(
            f"the edited draft or the notes are longer than {MAX_EDIT_CHARS:,} characters"
        )
    text = text.replace("\x00", "").strip()
    block = draft.gate.block_markdown.strip()
    if block and block not in text:
        text = f"{block}\n\n{text}".strip()
    return draft.model_copy(
        update={
            "recommendation": text,
            "reviewed": bool(reviewed),
            "reviewer_notes": notes.replace("\x00", "").strip(),
        }
    )


def export_markdown(draft: CareDraft) -> str:
    """The draft as Markdown (analysis, draft, sources, review status, disclaimer)."""
    return draft.to_markdown()


def export_json(draft: CareDraft) -> str:
    """The draft as JSON, with top-level fields saying what it is: ``draft_for_review`` (always
    true), a short ``notice`` and the ``disclaimer``. The rest is :meth:`CareDraft.to_json`."""
    import json

    data: dict[str, Any] = json.loads(draft.to_json())
    data["draft_for_review"] = True
    data["notice"] = REVIEW_NOTICE
    data["disclaimer"] = DISCLAIMER
    return json.dumps(data, indent=2, ensure_ascii=False)


def export_pdf(draft: CareDraft) -> bytes:
    """The draft as a PDF document (analysis, draft, sources, review status, disclaimer).

    Raises:
        ExportError: fpdf2 or the DejaVu font is not available.
    """
    pdf = _new_pdf()
    _pdf_heading(pdf, f"MindSignal care draft {draft.case_id}", size=15)
    _pdf_note(pdf, DISCLAIMER)
    if draft.gate.language:
        _pdf_banner(pdf, "Language check: text not in English, not analysed. Read it first.")
    if draft.gate.urgent and not is_crisis(draft.gate.level):
        _pdf_banner(pdf, "Safety gate: URGENT, an emergency other than suicide risk. See below.")
    elif draft.gate.crisis:
        _pdf_banner(pdf, f"Safety gate: crisis ({draft.gate.level}). Crisis resources come first.")
    if draft.degraded:
        _pdf_banner(pdf, f"Degraded mode: {draft.degraded_reason or 'LLM unavailable'}.")
    block, body = draft.split_recommendation()
    if block:
        _pdf_markdown(pdf, block)

    _pdf_heading(pdf, "Analysis")
    for line in draft.analysis_lines():
        _pdf_text(pdf, f"• {line}")
    evidence = evidence_lines(draft.classification)
    if evidence:
        _pdf_text(pdf, "Evidence spans (redacted text):", bold=True)
        for line in evidence:
            _pdf_text(pdf, f"• {line}")

    _pdf_heading(pdf, "Recommendation draft")
    _pdf_markdown(pdf, body or "(no draft)")
    if draft.unsupported_count or draft.removed_count:
        _pdf_note(
            pdf,
            f"Grounding check of {checked_draft(draft)}: {draft.unsupported_count} "
            "unsupported sentence(s) flagged, "
            f"{draft.removed_count} removed.",
        )

    _pdf_heading(pdf, "Sources")
    if not draft.passages:
        _pdf_text(pdf, "No evidence passages were retrieved.")
    for i, passage in enumerate(draft.passages, start=1):
        _pdf_text(pdf, f"[{i}] {passage.get('title', '')}", bold=True)
        _pdf_text(pdf, str(passage.get("citation", "")))

    _pdf_heading(pdf, "Review")
    _pdf_text(pdf, f"Reviewed by practitioner: {'yes' if draft.reviewed else 'no'}")
    if draft.reviewer_notes:
        _pdf_text(pdf, f"Notes: {draft.reviewer_notes}")
    versions = ", ".join(f"{k} {v}" for k, v in sorted(draft.versions.items()))
    if versions:
        _pdf_text(pdf, f"Versions: {versions}")
    pdf.ln(4)
    _pdf_note(pdf, DISCLAIMER)
    return bytes(pdf.output())


def write_exports(draft: CareDraft, out_dir: Path) -> ExportFiles:
    """Write ``mindsignal-<case>.md``, ``.json`` and ``.pdf`` into ``out_dir``.

    Raises:
        ExportError: A file could not be written (the message names it).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"mindsignal-{_safe_name(draft.case_id)}"
    files = ExportFiles(
        markdown=out_dir / f"{stem}.md",
        json=out_dir / f"{stem}.json",
        pdf=out_dir / f"{stem}.pdf",
    )
    try:
        files.markdown.write_text(export_markdown(draft), encoding="utf-8")
        files.json.write_text(export_json(draft), encoding="utf-8")
        files.pdf.write_bytes(export_pdf(draft))
    except OSError as exc:
        raise ExportError(f"could not write exports to {out_dir}: {exc.strerror or exc}") from exc
    logger.info("case %s exported: reviewed=%s formats=md,json,pdf", draft.case_id, draft.reviewed)
    return files


# ---- PDF helpers --------------------------------------------------------------------------------
def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _new_pdf() -> FPDF:
    try:
        from fpdf import FPDF
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ExportError("PDF export needs fpdf2: pip install fpdf2") from exc
    fonts = _font_dir()
    regular, bold = fonts / "DejaVuSans.ttf", fonts / "DejaVuSans-Bold.ttf"
    if not regular.is_file() or not bold.is_file():
        raise ExportError(f"PDF export needs the DejaVu Sans fonts from matplotlib ({fonts})")
    pdf = FPDF(format="A4")
    pdf.set_title("MindSignal care draft")
    pdf.set_creator("MindSignal")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    # Glyphs DejaVu lacks (CJK, emoji) are left out silently by fpdf2; they are logged, not fatal.
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    pdf.add_page()
    pdf.set_font("DejaVu", size=10)
    return pdf


def _pdf_text(pdf: FPDF, text: str, bold: bool = False, size: float = 10) -> None:
    pdf.set_font("DejaVu", "B" if bold else "", size)
    pdf.multi_cell(0, 5.2, _printable(text), new_x="LMARGIN", new_y="NEXT")


def _pdf_markdown(pdf: FPDF, markdown: str) -> None:
    """Markdown lines as plain text, headings in bold."""
    for line in markdown.splitlines():
        stripped = line.strip()
        if not stripped:
            pdf.ln(2)
        elif stripped.startswith("#"):
            _pdf_text(pdf, _plain(stripped.lstrip("#").strip()), bold=True)
        else:
            _pdf_text(pdf, _plain(stripped))


def _pdf_heading(pdf: FPDF, text: str, size: float = 12.5) -> None:
    pdf.ln(3)
    _pdf_text(pdf, text, bold=True, size=size)
    pdf.ln(1)


def _pdf_note(pdf: FPDF, text: str) -> None:
    pdf.set_text_color(90, 90, 90)
    _pdf_text(pdf, text, size=9)
    pdf.set_text_color(0, 0, 0)


def _pdf_banner(pdf: FPDF, text: str) -> None:
    pdf.set_text_color(160, 20, 20)
    _pdf_text(pdf, text, bold=True)
    pdf.set_text_color(0, 0, 0)


def _plain(markdown_line: str) -> str:
    """A Markdown line as plain text: links as ``text (url)``, emphasis marks dropped."""
    line = _MD_LINK_RE.sub(r"\1 (\2)", markdown_line)
    line = _MD_EMPHASIS_RE.sub("", line)
    if line.startswith(("- ", "* ")):
        line = "• " + line[2:]
    return line


def _printable(text: str) -> str:
    # Control characters other than newlines break fpdf2's line layout.
    return "".join(ch for ch in text if ch == "\n" or ch >= " ")


def _safe_name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", value)[:64] or "draft"
