"""What the practitioner UI shows, computed from a :class:`~assistant.draft.CareDraft`.

Pure functions from a draft to plain values (dicts, lists, Markdown, small HTML badges) so the
Gradio layer only places them on the page. Wording follows the project rule: signals are
"consistent with" a condition, never a diagnosis.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.draft import (
    DISCLAIMER,
    CareDraft,
    checked_draft,
    is_model_reading,
    ranked_evidence,
)
from assistant.grounding import UNSUPPORTED_MARKER
from assistant.language import language_name
from classifiers.labels import is_crisis

DISCLAIMER_BANNER = (
    "**Outputs are drafts for practitioner review - signals, not a diagnosis.** "
    "Not for emergencies: if someone is in immediate danger, call your local emergency number "
    "or a crisis line now."
)

_SEVERITY_COLOURS = {
    "minimal": "#2e7d32",
    "mild": "#9e9d24",
    "moderate": "#ef6c00",
    "severe": "#c62828",
}
_RISK_COLOURS = {
    "none": "#2e7d32",
    "indicator": "#ef6c00",
    "ideation": "#c62828",
    "behavior": "#8e0000",
    "attempt": "#8e0000",
}


def label_scores(draft: CareDraft | None) -> dict[str, float]:
    """Condition -> score, for a bar display (``gr.Label`` confidences)."""
    if draft is None:
        return {}
    return {
        str(lab["label"]): float(lab["score"]) for lab in draft.classification.get("labels", [])
    }


def _badge(title: str, value: str, colour: str) -> str:
    return (
        f'<span class="ms-badge" style="background:{colour};color:#fff;border-radius:6px;'
        f'padding:3px 9px;margin-right:6px;font-weight:600;display:inline-block">'
        f"{html.escape(title)}: {html.escape(value)}</span>"
    )


def badges_html(draft: CareDraft | None) -> str:
    """Severity, risk and relevance badges (small inline HTML)."""
    if draft is None:
        return "<div class='ms-badges'><em>No analysis yet.</em></div>"
    severity = draft.severity
    level = draft.gate.level
    parts = [
        _badge("Severity", severity, _SEVERITY_COLOURS.get(severity, "#555")),
        _badge("Suicide risk (C-SSRS)", level, _RISK_COLOURS.get(level, "#555")),
    ]
    if draft.gate.language:
        parts.insert(0, _badge("Not English", language_name(draft.gate.language), "#8e0000"))
    if draft.gate.urgent and not is_crisis(level):
        parts.append(_badge("URGENT", "emergency, not suicide risk", "#8e0000"))
    elif draft.gate.urgent:
        parts.append(_badge("URGENT", "same-day assessment", "#8e0000"))
    elif draft.gate.crisis:
        parts.append(_badge("Crisis gate", "open", "#c62828"))
    if not draft.classification.get("relevant", True):
        parts.append(_badge("Relevance", "low", "#555"))
    return f"<div class='ms-badges'>{''.join(parts)}</div>"


def highlighted_spans(draft: CareDraft | None) -> list[tuple[str, str | None]]:
    """The redacted post as ``(text, label)`` pieces, evidence spans labelled.

    Spans index the NFC form of the redacted text. Where spans overlap, the more important one
    is shown whole (:func:`~assistant.draft.ranked_evidence`: the risk call's cues before its
    denials and past thoughts, before condition spans; rule cues before the model's readings;
    longer before shorter) and the other keeps only the words outside it, or is dropped when
    none are left. A model's reading (a whole sentence its call rests on) is shown whole or not
    at all, and is labelled as such ("risk: ideation (model's reading)") so it is not taken for
    a cue the rules found. Every character is shown exactly once.
    """
    if draft is None:
        return []
    text = unicodedata.normalize("NFC", draft.redacted_text)
    marks: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for ev in ranked_evidence(draft.classification):
        start, end = _locate(text, ev)
        if start < 0:
            continue
        free = _uncovered(start, end, taken)
        if is_model_reading(ev) and free != [(start, end)]:
            continue
        taken.append((start, end))
        label = str(ev["label"]) + (MODEL_READING if is_model_reading(ev) else "")
        for piece_start, piece_end in free:
            piece = text[piece_start:piece_end]
            if not _WORD.search(piece):
                continue  # only spaces or punctuation left outside the span that won
            lead = len(piece) - len(piece.lstrip())
            marks.append((piece_start + lead, piece_start + len(piece.rstrip()), label))
    marks.sort()
    pieces: list[tuple[str, str | None]] = []
    cursor = 0
    for start, end, label in marks:
        if start > cursor:
            pieces.append((text[cursor:start], None))
        pieces.append((text[start:end], label))
        cursor = end
    if cursor < len(text):
        pieces.append((text[cursor:], None))
    return pieces


#: Appended to the label of a span that is the model's reading, not a rule cue.
MODEL_READING = " (model's reading)"

_WORD = re.compile(r"\w")


def _uncovered(start: int, end: int, taken: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``[start, end)`` outside every interval in ``taken``."""
    parts: list[tuple[int, int]] = []
    cursor = start
    for s, e in sorted(taken):
        if e <= cursor or s >= end:
            continue
        if s > cursor:
            parts.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        parts.append((cursor, end))
    return parts


def _locate(text: str, ev: dict[str, Any]) -> tuple[int, int]:
    start, end, piece = int(ev.get("start", -1)), int(ev.get("end", -1)), str(ev["text"])
    if 0 <= start < end <= len(text) and text[start:end] == piece:
        return start, end
    found = text.find(piece)  # offsets from another normalisation: fall back to the text
    return (found, found + len(piece)) if found >= 0 else (-1, -1)


def sources_markdown(draft: CareDraft | None) -> str:
    """Numbered sources ``[1]..[k]`` with titles, guideline citations and links."""
    if draft is None:
        return "_Sources appear here after an analysis._"
    if not draft.passages:
        return "_No evidence passages were retrieved._"
    lines = ["**Sources**", ""]
    for i, passage in enumerate(draft.passages, start=1):
        title = str(passage.get("title", "")).replace("[", "(").replace("]", ")")
        citation = str(passage.get("citation", ""))
        meta = passage.get("metadata", {}) or {}
        url = meta.get("url") or _first_url(citation)
        shown = f"[{title}]({url})" if url else title
        lines.append(f"{i}. \\[{i}\\] {shown} - {citation}")
    return "\n".join(lines)


def _first_url(text: str) -> str | None:
    for token in text.split():
        if token.startswith(("http://", "https://")):
            return token.rstrip(").,;")
    return None


def grounding_markdown(draft: CareDraft | None) -> str:
    """Which sentences the grounding check could not support, and why."""
    if draft is None or not draft.sentences:
        return ""
    flagged = [s for s in draft.sentences if not s.supported]
    checked = checked_draft(draft)
    if not flagged and not draft.removed_count:
        count = len(draft.sentences)
        every = f"all {count} sentences are" if count > 1 else "its one sentence is"
        return f"Grounding check of {checked}: {every} supported."
    lines = [
        f"**Grounding check of {checked}:** {draft.unsupported_count} unsupported sentence(s) "
        f"flagged{f', {draft.removed_count} removed' if draft.removed_count else ''}; verify them.",
        "",
    ]
    # Small models repeat themselves; list each flagged sentence once, with its count.
    seen: dict[str, tuple[str, int]] = {}
    for sentence in flagged:
        text = sentence.text.replace(UNSUPPORTED_MARKER, "").strip()
        reason, count = seen.get(text, (sentence.reason or "no supporting passage", 0))
        seen[text] = (reason, count + 1)
    for text, (reason, count) in list(seen.items())[:10]:
        times = f" (x{count})" if count > 1 else ""
        lines.append(f"- ⚠ _{text}_{times} ({reason})")
    return "\n".join(lines)


def status_markdown(draft: CareDraft | None) -> str:
    """Not-English, crisis and degraded-mode banners, in that order; empty when none applies."""
    if draft is None:
        return ""
    lines: list[str] = []
    if draft.gate.language:
        lines.append(
            f"### ⚠ Text not in English ({language_name(draft.gate.language)})\n"
            "MindSignal could not read it: the analysis and risk level below do not apply. "
            "The notice and crisis resources are at the top of the draft."
        )
    if draft.gate.urgent and not is_crisis(draft.gate.level):
        # a medical or safeguarding emergency, or a threat to someone else: not a suicide risk
        lines.append(
            "### ⚠ URGENT: an emergency other than suicide risk\nThe safety gate opened "
            f"(suicide risk level **{draft.gate.level}**). What the text describes and the next "
            "step are at the top of the draft."
        )
    elif draft.gate.urgent:
        lines.append(
            "### ⚠ URGENT: crisis signals - same-day assessment\nThe safety gate opened "
            f"(risk level **{draft.gate.level}**). Crisis resources are at the top of the draft."
        )
    elif draft.gate.crisis:
        lines.append(
            "### ⚠ Crisis signals\nThe safety gate opened "
            f"(risk level **{draft.gate.level}**). Crisis resources are at the top of the draft."
        )
    if draft.degraded:
        # The reason may be about the LLM's draft ("0 of 12 sentences supported"), which is not
        # the one on screen: say which draft is shown and which one the grounding panel checks.
        checked = " (the grounding check below is of these excerpts)" if draft.sentences else ""
        lines.append(
            f"> **Degraded mode: no LLM draft shown.** The draft shown was assembled from "
            f"excerpts of the retrieved passages{checked}; the analysis is complete. Why the "
            f"LLM's draft is not shown: {draft.degraded_reason or 'the LLM was unavailable'}."
        )
    return "\n\n".join(lines)


def analysis_summary_markdown(draft: CareDraft | None) -> str:
    """One paragraph: signals consistent with..., gate reasons, redactions."""
    if draft is None:
        return ""
    labels = draft.labels
    signals = (
        "Signals consistent with: " + ", ".join(labels)
        if labels
        else "No condition signal above threshold"
    )
    lines = [signals + "."]
    if draft.others:
        about = ", ".join(str(o["label"]) for o in draft.others)
        lines.append(f"About someone the writer describes (not the writer): {about}.")
    if draft.gate.reasons:
        lines.append("Safety gate: " + "; ".join(draft.gate.reasons) + ".")
    if draft.redactions:
        lines.append(f"{len(draft.redactions)} identifier(s) redacted before analysis.")
    return "  \n".join(lines)


def answer_markdown(draft: CareDraft) -> str:
    """The chat answer for a final draft: the gate's block first, degraded note, draft, sources."""
    block, body = draft.split_recommendation()
    body = body or "_(no draft)_"
    parts: list[str] = []
    if block:
        # The gate's block always leads; everything else, notes included, comes after it.
        parts.append(block)
    if draft.degraded:
        parts.append(
            "> **Degraded mode: no LLM draft shown.** Draft assembled from excerpts of the "
            f"retrieved passages. Why: {draft.degraded_reason or 'the LLM was unavailable'}."
        )
    parts.append(body)
    parts.append(sources_markdown(draft))
    parts.append(f"{_CASE_LABEL} `{draft.case_id}`")
    parts.append(f"_{DISCLAIMER}_")
    return "\n\n".join(parts)


_CASE_LABEL = "Case"
_CASE_REF_RE = re.compile(rf"^{_CASE_LABEL} `([0-9A-Za-z_-]+)`$", re.MULTILINE)


def shown_case_id(history: Sequence[Mapping[str, Any]] | None) -> str | None:
    """The case id of the latest answer in a chat history (as :func:`answer_markdown` shows it).

    ``history`` holds ``{"role", "content"}`` messages; ``content`` is text or a list of parts
    with ``text`` (as Gradio's chat sends it back). Only the assistant's messages are read.
    """
    for message in reversed(list(history or [])):
        if not isinstance(message, Mapping) or message.get("role") != "assistant":
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(
                str(part.get("text", "")) for part in content if isinstance(part, Mapping)
            )
        found = _CASE_REF_RE.findall(content) if isinstance(content, str) else []
        if found:
            return str(found[-1])
    return None


def streaming_markdown(draft: CareDraft | None, streamed: str) -> str:
    """The chat answer while tokens arrive: the gate's block first, then the text so far."""
    block = draft.gate.block_markdown if draft is not None else ""
    body = streamed if streamed.strip() else "_Drafting recommendations..._"
    return f"{block}\n\n{body}".strip() if block else body
