"""Evaluation of classifiers: metrics, label mapping, reports (JSON, Markdown, confusion PNGs).

Three tasks:

* ``conditions`` (multi-label): per-label precision/recall/F1, macro and weighted F1 over the
  labels that occur in the gold data, and the expected calibration error (ECE) of the emitted
  label scores (a label's score against whether the label is in the gold set; labels a classifier
  does not emit have no score in the output contract, so they do not enter the ECE).
* ``severity`` and ``risk`` (ordinal, one level per text): accuracy, balanced accuracy,
  macro-F1, within-one accuracy, confusion matrix; for risk also crisis recall/precision
  (ideation and up) and the ECE of the risk score read as P(crisis). The severity score is an
  ordinal position, not a probability, so severity has no ECE.

:func:`run_reddit_preset` is the built-in comparison (rules vs student vs hybrid on the untouched
author-split test split, suicidality recall, and the two development sets when present).
Nothing is read or loaded at import time; matplotlib is imported with the Agg backend on use.
"""

from __future__ import annotations

import ast
import copy
import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.base import Classification, Classifier
from classifiers.labels import CONDITIONS, RISK_LEVELS, SEVERITY_LEVELS, risk_rank

logger = logging.getLogger(__name__)

TASKS = ("conditions", "severity", "risk")
#: Default label spellings of common datasets, applied after the user's own map.
DEFAULT_LABEL_MAP: dict[str, str] = {
    "minimum": "minimal",
    "supportive": "none",
    "eating disorder": "eating_disorder",
    "eating-disorder": "eating_disorder",
    "substance use": "substance_use",
    "control": "none",
}


class EvaluationError(ValueError):
    """The evaluation data or arguments are unusable; the message says why."""


# ---- labels ---------------------------------------------------------------------------------
def parse_label_map(value: str | Path | Mapping[str, str] | None) -> dict[str, str]:
    """A label map from a mapping, inline JSON or a JSON file path."""
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    text = str(value).strip()
    if text.startswith(("[", '"')) or text in ("null", "true", "false"):
        raise EvaluationError("--map must be a JSON object mapping dataset labels to ours")
    if not text.startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise EvaluationError(f"--map is neither inline JSON nor an existing file: {text}")
        text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvaluationError(f"--map is not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise EvaluationError("--map must be a JSON object mapping dataset labels to ours")
    return {str(k): str(v) for k, v in data.items()}


def split_labels(raw: Any) -> list[str]:
    """Labels of one row: a single label, a JSON/Python list literal, or ``;``/``|`` separated."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return []
    if isinstance(raw, (list, tuple, set)):
        return [str(x).strip() for x in raw if str(x).strip()]
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        for parse in (json.loads, ast.literal_eval):
            try:
                items = parse(text)
            except (ValueError, SyntaxError):
                continue
            if isinstance(items, (list, tuple)):
                return [str(x).strip() for x in items if str(x).strip()]
    return [part.strip() for part in re.split(r"[;|]", text) if part.strip()]


def map_label(raw: str, mapping: Mapping[str, str]) -> str:
    """Our name for a dataset label: the user's map first, then common spellings, then itself."""
    if raw in mapping:
        return mapping[raw]
    low = raw.strip().lower()
    lowered = {k.lower(): v for k, v in mapping.items()}
    if low in lowered:
        return lowered[low]
    if low.startswith("r/"):
        low = low[2:]
    return DEFAULT_LABEL_MAP.get(low, low.replace(" ", "_"))


# ---- metrics --------------------------------------------------------------------------------
def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def multilabel_metrics(
    gold: Sequence[Iterable[str]],
    pred: Sequence[Iterable[str]],
    labels: Sequence[str] = CONDITIONS,
) -> dict[str, Any]:
    """Per-label precision/recall/F1 and macro/weighted/micro F1 for multi-label predictions.

    Macro and weighted F1 average over the labels with gold support > 0 (a label the data never
    contains has no defined recall); labels without support are still listed per label.
    """
    if len(gold) != len(pred):
        raise EvaluationError(f"{len(gold)} gold rows but {len(pred)} predictions")
    gold_sets = [set(g) for g in gold]
    pred_sets = [set(p) for p in pred]
    per_label: dict[str, dict[str, float]] = {}
    total_tp = total_fp = total_fn = 0
    for label in labels:
        tp = sum(1 for g, p in zip(gold_sets, pred_sets, strict=True) if label in g and label in p)
        fp = sum(
            1 for g, p in zip(gold_sets, pred_sets, strict=True) if label not in g and label in p
        )
        fn = sum(
            1 for g, p in zip(gold_sets, pred_sets, strict=True) if label in g and label not in p
        )
        precision, recall, f1 = _prf(tp, fp, fn)
        per_label[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": tp + fn,
            "predicted": tp + fp,
        }
        total_tp, total_fp, total_fn = total_tp + tp, total_fp + fp, total_fn + fn
    supported = [lab for lab in labels if per_label[lab]["support"] > 0]
    support_sum = sum(per_label[lab]["support"] for lab in supported)
    macro = sum(per_label[lab]["f1"] for lab in supported) / len(supported) if supported else 0.0
    weighted = (
        sum(per_label[lab]["f1"] * per_label[lab]["support"] for lab in supported) / support_sum
        if support_sum
        else 0.0
    )
    return {
        "per_label": per_label,
        "macro_f1": macro,
        "weighted_f1": weighted,
        "micro_f1": _prf(total_tp, total_fp, total_fn)[2],
        "labels_in_macro": supported,
        "n": len(gold_sets),
    }


def confusion_matrix(
    gold: Sequence[str], pred: Sequence[str], levels: Sequence[str]
) -> list[list[int]]:
    """Counts ``matrix[gold_index][pred_index]``; unknown levels raise :class:`EvaluationError`."""
    index = {lv: i for i, lv in enumerate(levels)}
    matrix = [[0] * len(levels) for _ in levels]
    for g, p in zip(gold, pred, strict=True):
        if g not in index or p not in index:
            raise EvaluationError(f"level not in {list(levels)}: {g if g not in index else p!r}")
        matrix[index[g]][index[p]] += 1
    return matrix


def ordinal_metrics(
    gold: Sequence[str], pred: Sequence[str], levels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, balanced accuracy (mean recall over present levels), macro-F1, within-one, matrix."""
    if len(gold) != len(pred):
        raise EvaluationError(f"{len(gold)} gold rows but {len(pred)} predictions")
    matrix = confusion_matrix(gold, pred, levels)
    n = len(gold)
    per_level: dict[str, dict[str, float]] = {}
    recalls, f1s = [], []
    for i, level in enumerate(levels):
        tp = matrix[i][i]
        support = sum(matrix[i])
        predicted = sum(row[i] for row in matrix)
        precision, recall, f1 = _prf(tp, predicted - tp, support - tp)
        per_level[level] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
        if support:
            recalls.append(recall)
            f1s.append(f1)
    pos = {lv: i for i, lv in enumerate(levels)}
    return {
        "n": n,
        "accuracy": sum(matrix[i][i] for i in range(len(levels))) / n if n else 0.0,
        "balanced_accuracy": sum(recalls) / len(recalls) if recalls else 0.0,
        "macro_f1": sum(f1s) / len(f1s) if f1s else 0.0,
        "within_one": sum(1 for g, p in zip(gold, pred, strict=True) if abs(pos[g] - pos[p]) <= 1)
        / n
        if n
        else 0.0,
        "per_level": per_level,
        "levels": list(levels),
        "confusion": matrix,
    }


def expected_calibration_error(
    scores: Sequence[float], outcomes: Sequence[bool], n_bins: int = 10
) -> float:
    """ECE: the support-weighted gap between mean score and accuracy in equal-width score bins."""
    if len(scores) != len(outcomes):
        raise EvaluationError("scores and outcomes differ in length")
    if not scores:
        return 0.0
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(n_bins)]
    for s, o in zip(scores, outcomes, strict=True):
        idx = min(n_bins - 1, max(0, int(float(s) * n_bins)))
        bins[idx].append((float(s), bool(o)))
    total = len(scores)
    ece = 0.0
    for bucket in bins:
        if bucket:
            conf = sum(s for s, _ in bucket) / len(bucket)
            acc = sum(1 for _, o in bucket if o) / len(bucket)
            ece += len(bucket) / total * abs(conf - acc)
    return ece


def crisis_metrics(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """Recall and precision of the crisis call (risk ideation and up)."""
    crisis = risk_rank("ideation")
    tp = sum(
        1
        for g, p in zip(gold, pred, strict=True)
        if risk_rank(g) >= crisis and risk_rank(p) >= crisis
    )
    fn = sum(
        1
        for g, p in zip(gold, pred, strict=True)
        if risk_rank(g) >= crisis and risk_rank(p) < crisis
    )
    fp = sum(
        1
        for g, p in zip(gold, pred, strict=True)
        if risk_rank(g) < crisis and risk_rank(p) >= crisis
    )
    precision, recall, f1 = _prf(tp, fp, fn)
    return {"crisis_recall": recall, "crisis_precision": precision, "crisis_f1": f1}


# ---- running a classifier -------------------------------------------------------------------
def predict_all(
    classifier: Classifier,
    texts: Sequence[str],
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> list[Classification | None]:
    """Classify texts in batches; a text that cannot be classified gives ``None`` (counted)."""
    from classifiers.base import InvalidTextError

    out: list[Classification | None] = []
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        try:
            out.extend(classifier.predict(chunk))
        except InvalidTextError:
            for text in chunk:
                try:
                    out.append(classifier.predict([text])[0])
                except InvalidTextError:
                    out.append(None)
        if progress:
            progress(min(start + batch_size, len(texts)), len(texts))
    return out


@dataclass
class TaskReport:
    """Metrics of one classifier on one task and dataset."""

    name: str
    task: str
    mode: str
    metrics: dict[str, Any]
    failed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "mode": self.mode,
            "failed": self.failed,
            "metrics": self.metrics,
            **self.extra,
        }


def evaluate_predictions(
    task: str,
    gold: Sequence[Any],
    predictions: Sequence[Classification | None],
) -> tuple[dict[str, Any], int]:
    """Metrics of ``predictions`` against ``gold`` for a task; rows that failed are left out.

    ``gold`` holds label lists for ``conditions`` and level names for ``severity``/``risk``.
    Returns the metrics and the number of failed rows.
    """
    if task not in TASKS:
        raise EvaluationError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    pairs = [(g, p) for g, p in zip(gold, predictions, strict=True) if p is not None]
    failed = len(gold) - len(pairs)
    if task == "conditions":
        g_sets = [set(g) for g, _ in pairs]
        p_sets = [set(p.label_names()) for _, p in pairs]
        metrics = multilabel_metrics(g_sets, p_sets, CONDITIONS)
        scores, outcomes = [], []
        for g, p in pairs:
            for lab in p.labels:
                scores.append(lab.score)
                outcomes.append(lab.label in g)
        metrics["ece"] = expected_calibration_error(scores, outcomes)
        return metrics, failed
    levels = SEVERITY_LEVELS if task == "severity" else RISK_LEVELS
    golds = [str(g) for g, _ in pairs]
    preds = [p.severity.level if task == "severity" else p.risk.level for _, p in pairs]
    metrics = ordinal_metrics(golds, preds, levels)
    if task == "risk":
        metrics.update(crisis_metrics(golds, preds))
        # The risk score is a crisis probability (P(risk >= ideation)); calibrate it as one.
        metrics["crisis_ece"] = expected_calibration_error(
            [p.risk.score for _, p in pairs], [risk_rank(g) >= risk_rank("ideation") for g in golds]
        )
    # The severity score is an ordinal position, not a probability: no ECE for severity.
    return metrics, failed


def normalise_gold(task: str, raw_labels: Sequence[Any], mapping: Mapping[str, str]) -> list[Any]:
    """Map dataset labels to ours; raises :class:`EvaluationError` naming unknown labels."""
    out: list[Any] = []
    unknown: set[str] = set()
    for raw in raw_labels:
        names = [map_label(x, mapping) for x in split_labels(raw)]
        if task == "conditions":
            keep = [n for n in names if n in CONDITIONS]
            unknown.update(n for n in names if n not in CONDITIONS and n != "none")
            out.append(keep)
        else:
            levels = SEVERITY_LEVELS if task == "severity" else RISK_LEVELS
            if len(names) != 1 or names[0] not in levels:
                unknown.add(";".join(names) or "<empty>")
                out.append(None)
            else:
                out.append(names[0])
    if unknown:
        raise EvaluationError(
            f"labels not mappable for task {task!r}: {sorted(unknown)[:10]}; "
            'pass --map \'{"their label": "our label"}\''
        )
    return out


# ---- reports --------------------------------------------------------------------------------
def plot_confusion(
    matrix: Sequence[Sequence[int]], labels: Sequence[str], path: Path, title: str
) -> Path:
    """Write a confusion-matrix PNG (rows gold, columns predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = max(4.0, 0.6 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    try:
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels=list(labels), rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels=list(labels))
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(title, fontsize=9)
        peak = max((max(row) for row in matrix), default=0) or 1
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                ax.text(
                    j,
                    i,
                    str(value),
                    ha="center",
                    va="center",
                    color="white" if value > peak / 2 else "black",
                )
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path


def multilabel_confusion(
    gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]], labels: Sequence[str] = CONDITIONS
) -> tuple[list[list[int]], list[str]]:
    """Label-by-label co-occurrence of gold and predicted labels, plus a ``none`` row/column."""
    names = [*labels, "none"]
    index = {n: i for i, n in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for g, p in zip(gold, pred, strict=True):
        g_set = set(g) & set(labels) or {"none"}
        p_set = set(p) & set(labels) or {"none"}
        for gl in g_set:
            for pl in p_set:
                matrix[index[gl]][index[pl]] += 1
    return matrix, names


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def render_markdown(report: Mapping[str, Any]) -> str:
    """A readable Markdown version of a report produced by :func:`write_report`."""
    lines = [f"# {report.get('title', 'Classifier evaluation')}", ""]
    for key in ("created", "data", "rows", "skipped_rows", "model_versions", "notes"):
        if report.get(key):
            value = report[key]
            if isinstance(value, (list, dict)):
                value = json.dumps(value)
            lines.append(f"- **{key}**: {value}")
    lines.append("")
    summary = report.get("summary")
    if summary:
        lines += ["## Summary", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in summary.items()]
        lines.append("")
    for section in report.get("sections", []):
        m = section["metrics"]
        lines += [f"## {section['name']} ({section['task']}, {section['mode']})", ""]
        if section.get("failed"):
            lines.append(f"{section['failed']} row(s) could not be classified and are left out.\n")
        if section["task"] == "conditions":
            lines.append(
                f"macro-F1 {m['macro_f1']:.3f} · weighted-F1 {m['weighted_f1']:.3f} · "
                f"micro-F1 {m['micro_f1']:.3f} · ECE {m['ece']:.3f} · n {m['n']}"
            )
            lines += ["", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
            for label, v in m["per_label"].items():
                lines.append(
                    f"| {label} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
                )
        else:
            lines.append(
                f"accuracy {m['accuracy']:.3f} · balanced accuracy {m['balanced_accuracy']:.3f} · "
                f"macro-F1 {m['macro_f1']:.3f} · within-one {m['within_one']:.3f} · n {m['n']}"
            )
            if "crisis_recall" in m:
                lines.append(
                    f"\ncrisis (ideation+) recall {m['crisis_recall']:.3f} · "
                    f"precision {m['crisis_precision']:.3f} · crisis-score ECE {m['crisis_ece']:.3f}"
                )
        extras = [
            f"- {key}: {_fmt(value)}"
            for key, value in section.items()
            if key not in ("name", "task", "mode", "metrics", "failed", "confusion_png")
        ]
        if extras:
            lines += ["", *extras]
        if section.get("confusion_png"):
            lines.append(f"\n![confusion]({section['confusion_png']})")
        lines.append("")
    behaviour = report.get("behaviour")
    if behaviour:
        from classifiers.checklist import render_behaviour_markdown

        lines += ["## Behavioural cases", ""]
        lines += render_behaviour_markdown(behaviour, behaviour.get("source", "cases"))
        lines.append("")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.md`` into ``out_dir``; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    md_path = out_dir / "report.md"
    json_path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return json_path, md_path


def section_with_plot(
    report: TaskReport,
    gold: Sequence[Any],
    predictions: Sequence[Classification | None],
    out_dir: Path,
) -> dict[str, Any]:
    """The report section of one task run, with its confusion-matrix PNG written to ``out_dir``."""
    pairs = [(g, p) for g, p in zip(gold, predictions, strict=True) if p is not None]
    slug = re.sub(r"[^a-z0-9]+", "-", f"{report.name}-{report.task}-{report.mode}".lower()).strip(
        "-"
    )
    png = out_dir / f"confusion-{slug}.png"
    if report.task == "conditions":
        matrix, names = multilabel_confusion(
            [g for g, _ in pairs], [p.label_names() for _, p in pairs]
        )
    else:
        matrix, names = report.metrics["confusion"], report.metrics["levels"]
    plot_confusion(matrix, names, png, f"{report.name}: {report.task} ({report.mode})")
    section = report.to_dict()
    section["confusion_png"] = png.name
    return section


def evaluate_classifier(
    classifier: Classifier,
    texts: Sequence[str],
    gold: Sequence[Any],
    task: str,
    *,
    name: str,
    mode: str,
    out_dir: Path,
    batch_size: int = 64,
) -> dict[str, Any]:
    """Classify ``texts``, score them against ``gold`` and return a report section (PNG written)."""
    predictions = predict_all(classifier, texts, batch_size=batch_size)
    metrics, failed = evaluate_predictions(task, gold, predictions)
    return section_with_plot(
        TaskReport(name, task, mode, metrics, failed), gold, predictions, out_dir
    )


# ---- the dev sets ---------------------------------------------------------------------------
def parse_post_list(raw: Any) -> list[str]:
    """Posts of one C-SSRS user row: a Python list literal, with fall-backs for broken rows.

    Some rows do not parse with :func:`ast.literal_eval` (unescaped quotes inside posts). Then we
    split on the ``', '`` / ``", "`` separators between list items; if even that finds nothing the
    whole cell is one post. Nothing is dropped.
    """
    if not isinstance(raw, str):
        return [] if raw is None else [str(raw)]
    text = raw.strip()
    try:
        value = ast.literal_eval(text)
        if isinstance(value, (list, tuple)):
            return [str(v) for v in value if str(v).strip()]
        return [str(value)]
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        pass
    body = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    parts = re.split(r"""['"]\s*,\s*['"]""", body)
    posts = [p.strip().strip("'\"").strip() for p in parts]
    return [p for p in posts if p] or [text]


def user_risk(posts: Sequence[Classification | None]) -> Classification | None:
    """A user's risk is the maximum over their posts (C-SSRS rates the worst expressed state)."""
    done = [p for p in posts if p is not None]
    if not done:
        return None
    return max(done, key=lambda c: (risk_rank(c.risk.level), c.risk.score))


# ---- entry points of `mindsignal eval` --------------------------------------------------------
def _read_table(path: Path) -> tuple[Any, int]:
    """The rows of a CSV or JSONL file and how many malformed rows were skipped.

    A malformed row (a CSV line with too many fields, a JSONL line that is not a JSON object)
    is skipped and counted rather than failing the whole evaluation.
    """
    import csv

    import pandas as pd

    if not path.is_file():
        raise EvaluationError(f"data file not found: {path}")
    skipped = 0

    def bad_line(fields: list[str]) -> None:
        nonlocal skipped
        skipped += 1
        return None

    try:
        if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
            rows = []
            with path.open(encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:
                        row = None
                    if isinstance(row, dict):
                        rows.append(row)
                    else:
                        skipped += 1
            return pd.DataFrame(rows), skipped
        # Posts can exceed the csv module's default 128 KiB field limit.
        csv.field_size_limit(1 << 30)
        frame = pd.read_csv(
            path,
            encoding_errors="replace",
            on_bad_lines=bad_line,
            engine="python",
            index_col=False,  # a long row must not turn the first column into the index
        )
        return frame, skipped
    except (OSError, ValueError, csv.Error) as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from exc


def _now() -> str:
    from datetime import datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def evaluate_file(
    path: Path,
    *,
    text_col: str = "text",
    label_col: str = "label",
    label_map: str | Path | Mapping[str, str] | None = None,
    task: str = "conditions",
    modes: Sequence[str] = ("hybrid",),
    artifact_dir: Path | None = None,
    out_dir: Path,
    limit: int | None = None,
    classifiers: Mapping[str, Classifier] | None = None,
) -> dict[str, Any]:
    """Evaluate one or more classifier modes on a labeled file and write the report.

    Args:
        path: CSV or JSONL with a text and a label column (a label or a list of labels).
        label_map: Dataset labels to ours (mapping, inline JSON or a JSON file).
        task: ``conditions``, ``severity`` or ``risk``.
        modes: Classifier modes to compare (``rules``, ``model``, ``hybrid``).
        classifiers: Ready classifiers by mode (tests, callers that already loaded one).

    Returns:
        The report (also written as ``report.json``/``report.md`` with PNGs in ``out_dir``).
    """
    if task not in TASKS:
        raise EvaluationError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    df, skipped = _read_table(Path(path))
    missing = [c for c in (text_col, label_col) if c not in df.columns]
    if missing:
        raise EvaluationError(f"{path} has no column(s) {missing}; it has {list(df.columns)}")
    if limit:
        df = df.head(limit)
    return evaluate_rows(
        df[text_col].fillna("").astype(str).tolist(),
        df[label_col].tolist(),
        source=path,
        skipped=skipped,
        label_map=label_map,
        task=task,
        modes=modes,
        artifact_dir=artifact_dir,
        out_dir=out_dir,
        classifiers=classifiers,
    )


def evaluate_rows(
    texts: Sequence[str],
    labels: Sequence[Any],
    *,
    source: str | Path,
    skipped: int = 0,
    label_map: str | Path | Mapping[str, str] | None = None,
    task: str = "conditions",
    modes: Sequence[str] = ("hybrid",),
    artifact_dir: Path | None = None,
    out_dir: Path,
    classifiers: Mapping[str, Classifier] | None = None,
) -> dict[str, Any]:
    """Evaluate one or more classifier modes on labeled rows already read, and write the report.

    Args:
        texts: The texts, in file order.
        labels: Each text's label or list of labels.
        source: The file they come from (named in the report and in messages).
        skipped: Rows of the file that could not be read and are not in ``texts``.
        label_map, task, modes, artifact_dir, out_dir, classifiers: As :func:`evaluate_file`.

    Returns:
        The report (also written as ``report.json``/``report.md`` with PNGs in ``out_dir``).
    """
    if task not in TASKS:
        raise EvaluationError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    if len(texts) != len(labels):
        raise EvaluationError(f"{len(texts)} texts but {len(labels)} labels")
    path = Path(source)
    if not texts:
        # Metrics over no rows would read as a real score of 0.
        raise EvaluationError(
            f"{source} has no rows to evaluate"
            + (f" ({skipped} malformed row(s) skipped)" if skipped else "")
        )
    texts = list(texts)
    gold = normalise_gold(task, list(labels), parse_label_map(label_map))
    sections, summary, versions = [], {}, {}
    for mode in modes:
        classifier = (classifiers or {}).get(mode) or _load(mode, artifact_dir)
        versions[mode] = classifier.version
        section = evaluate_classifier(
            classifier, texts, gold, task, name=Path(path).stem, mode=mode, out_dir=out_dir
        )
        sections.append(section)
        key = "macro_f1" if task == "conditions" else "balanced_accuracy"
        summary[f"{mode}/{key}"] = section["metrics"][key]
    report = {
        "title": f"Classifier evaluation: {Path(path).name} ({task})",
        "created": _now(),
        "data": str(path),
        "rows": len(texts),
        "skipped_rows": skipped,
        "model_versions": versions,
        "summary": summary,
        "sections": sections,
    }
    write_report(report, out_dir)
    return report


def _load(mode: str, artifact_dir: Path | None) -> Classifier:
    from classifiers.factory import load_classifier

    return load_classifier(artifact_dir=artifact_dir, mode=mode)


def reddit_test_gold(artifact_dir: Path) -> tuple[Any, Any]:
    """The untouched test split of the corpus (``split.json`` of the artifact) and its gold labels.

    Returns the test frame and, per post, the gold condition list or ``None`` where the subreddit
    leaves the conditions unknown (r/SuicideWatch, r/mentalhealth, divorce, mindfulness): those
    posts are left out of the condition metrics but kept for suicidality recall.
    """
    from classifiers.training.data import Split, distant_label, load_reddit_corpus

    split_path = artifact_dir / "split.json"
    if not split_path.is_file():
        raise EvaluationError(f"no split.json in {artifact_dir}; run `mindsignal train` first")
    split = Split.load(split_path)
    corpus = load_reddit_corpus()
    test = corpus[corpus["id"].isin(set(split.test))].reset_index(drop=True)
    gold: list[list[str] | None] = []
    for sub in test["subreddit"]:
        dl = distant_label(sub)
        gold.append(
            list(dl.conditions) if dl.conditions_known and dl.relevant is not None else None
        )
    return test, gold


#: Blind readings of the validation and test splits (see classifiers/judged/README.md).
JUDGED_DIR = Path(__file__).resolve().parent / "judged"


def load_judged_labels(path: Path) -> dict[str, list[str]]:
    """Post id -> the conditions a blind reader found (``classifiers/judged/*.jsonl``).

    Raises:
        EvaluationError: The file is missing or unreadable, or a row is malformed (the message
            names the line): a gold standard with silently dropped rows would mislead.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"cannot read judged labels {path}: {exc}") from exc
    out: dict[str, list[str]] = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pid, conditions = str(row["id"]), row["conditions"]
            if not isinstance(conditions, list):
                raise TypeError("'conditions' must be a list")
            bad = [c for c in conditions if c not in CONDITIONS]
            if bad:
                raise ValueError(f"unknown condition(s) {bad}")
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise EvaluationError(f"{path}:{n}: malformed judged label ({exc})") from exc
        out[pid] = [str(c) for c in conditions]
    return out


def run_reddit_preset(
    *,
    artifact_dir: Path | None,
    out_dir: Path,
    shared_data: Path | None = None,
    limit: int | None = None,
    classifiers: Mapping[str, Classifier] | None = None,
    say: Callable[[str], None] = logger.info,
) -> dict[str, Any]:
    """Rules vs student vs hybrid on the author-split test split, plus the dev sets when present.

    * conditions: macro-F1 (labels with test support) on posts whose subreddit fixes the gold
      conditions (single-condition subreddits and the controls);
    * suicidality recall: share of r/SuicideWatch test posts with risk >= ideation, and the false
      crisis rate on control-subreddit posts;
    * severity on ``dev/depression_severity_dev.csv`` (``minimum`` -> ``minimal``);
    * risk on ``dev/cssrs_users_dev.csv``: each user's posts are classified one by one and the
      user's risk is the maximum over posts (see :func:`user_risk`).
    """
    import pandas as pd

    from classifiers.factory import DEFAULT_ARTIFACT_DIR
    from classifiers.training.data import SUBREDDIT_MAP

    artifact = Path(artifact_dir) if artifact_dir else DEFAULT_ARTIFACT_DIR
    shared = shared_data or Path(__file__).resolve().parents[2] / "shared" / "data"
    test, gold = reddit_test_gold(artifact)
    if limit:
        test, gold = test.head(limit), gold[:limit]
    texts = test["text"].tolist()
    subs = test["subreddit"].tolist()
    loaded = {
        m: (classifiers or {}).get(m) or _load(m, artifact) for m in ("rules", "model", "hybrid")
    }
    sections: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"test_posts": len(texts)}
    notes: list[str] = []
    control = {s for s, d in SUBREDDIT_MAP.items() if d.relevant is False}
    hybrid_preds: list[Classification | None] = []
    all_preds: dict[str, list[Classification | None]] = {}
    for mode, clf in loaded.items():
        say(f"reddit test split: {mode} on {len(texts)} posts")
        preds = predict_all(clf, texts)
        all_preds[mode] = preds
        if mode == "hybrid":
            hybrid_preds = preds
        idx = [i for i, g in enumerate(gold) if g is not None]
        g_cond = [gold[i] for i in idx]
        p_cond = [preds[i] for i in idx]
        metrics, failed = evaluate_predictions("conditions", g_cond, p_cond)
        sw = [
            p
            for s, p in zip(subs, preds, strict=True)
            if s.lower() == "suicidewatch" and p is not None
        ]
        ctl = [p for s, p in zip(subs, preds, strict=True) if s in control and p is not None]
        # Posts of the single-condition subreddits (r/adhd, r/anxiety, ...): most do not speak
        # of suicide, so a high crisis rate here means the gate would fire on ordinary posts.
        # (r/depression posts often do speak of it: reported apart.)
        topical = [
            (s, p)
            for s, p in zip(subs, preds, strict=True)
            if p is not None and s in SUBREDDIT_MAP and SUBREDDIT_MAP[s].conditions
        ]
        other = [p for s, p in topical if s != "depression"]
        dep = [p for s, p in topical if s == "depression"]
        rel_known = [
            (SUBREDDIT_MAP[s].relevant, p)
            for s, p in zip(subs, preds, strict=True)
            if p is not None and s in SUBREDDIT_MAP and SUBREDDIT_MAP[s].relevant is not None
        ]
        extra = {
            "suicidality_recall": sum(1 for p in sw if p.risk.crisis) / len(sw) if sw else None,
            "suicidewatch_posts": len(sw),
            "false_crisis_rate_controls": sum(1 for p in ctl if p.risk.crisis) / len(ctl)
            if ctl
            else 0.0,
            "relevance_accuracy": sum(1 for r, p in rel_known if r == p.relevant) / len(rel_known)
            if rel_known
            else 0.0,
            "crisis_rate_condition_subreddits_but_depression": (
                sum(1 for p in other if p.risk.crisis) / len(other) if other else None
            ),
            "crisis_rate_depression_subreddit": (
                sum(1 for p in dep if p.risk.crisis) / len(dep) if dep else None
            ),
        }
        section = section_with_plot(
            TaskReport("reddit-test", "conditions", mode, metrics, failed, extra),
            g_cond,
            p_cond,
            out_dir,
        )
        sections.append(section)
        summary[f"{mode}/macro_f1"] = metrics["macro_f1"]
        summary[f"{mode}/suicidality_recall"] = extra["suicidality_recall"]
        summary[f"{mode}/relevance_accuracy"] = extra["relevance_accuracy"]
        summary[f"{mode}/crisis_rate_other_condition_posts"] = extra[
            "crisis_rate_condition_subreddits_but_depression"
        ]
    judged_path = JUDGED_DIR / "test.jsonl"
    if judged_path.is_file():
        judged = load_judged_labels(judged_path)
        jidx = [i for i, pid in enumerate(test["id"]) if str(pid) in judged]
        j_gold = [judged[str(test["id"][i])] for i in jidx]
        for mode, preds in all_preds.items():
            metrics, failed = evaluate_predictions("conditions", j_gold, [preds[i] for i in jidx])
            sections.append(
                section_with_plot(
                    TaskReport("reddit-test-judged", "conditions", mode, metrics, failed),
                    j_gold,
                    [preds[i] for i in jidx],
                    out_dir,
                )
            )
            summary[f"{mode}/judged_macro_f1"] = metrics["macro_f1"]
    else:
        notes.append(f"judged test labels skipped: {judged_path} not present")
    del hybrid_preds
    behaviour = behaviour_section(loaded, BEHAVIOUR_TEST, say)
    for mode, result in behaviour["modes"].items():
        summary[f"{mode}/behaviour_pass_rate"] = result["pass_rate"]
    hybrid = loaded["hybrid"]
    sev_path = shared / "dev" / "depression_severity_dev.csv"
    if sev_path.is_file():
        say("severity dev set")
        df = pd.read_csv(sev_path)
        if limit:
            df = df.head(limit)
        g_sev = normalise_gold("severity", df["label"].tolist(), {})
        section = evaluate_classifier(
            hybrid,
            df["text"].fillna("").astype(str).tolist(),
            g_sev,
            "severity",
            name="depression-severity-dev",
            mode="hybrid",
            out_dir=out_dir,
        )
        sections.append(section)
        summary["hybrid/severity_balanced_accuracy"] = section["metrics"]["balanced_accuracy"]
    else:
        notes.append(f"severity dev set skipped: {sev_path} not present")
    risk_path = shared / "dev" / "cssrs_users_dev.csv"
    if risk_path.is_file():
        say("C-SSRS risk dev set")
        df = pd.read_csv(risk_path)
        if limit:
            df = df.head(limit)
        g_risk = normalise_gold("risk", df["Label"].tolist(), {})
        users = [parse_post_list(raw) for raw in df["Post"].tolist()]
        flat = [post for posts in users for post in posts]
        flat_preds = predict_all(hybrid, flat)
        per_user: list[Classification | None] = []
        pos = 0
        for posts in users:
            per_user.append(user_risk(flat_preds[pos : pos + len(posts)]))
            pos += len(posts)
        metrics, failed = evaluate_predictions("risk", g_risk, per_user)
        section = section_with_plot(
            TaskReport(
                "cssrs-users-dev",
                "risk",
                "hybrid",
                metrics,
                failed,
                {"aggregation": "max risk over a user's posts", "posts": len(flat)},
            ),
            g_risk,
            per_user,
            out_dir,
        )
        sections.append(section)
        summary["hybrid/risk_balanced_accuracy"] = metrics["balanced_accuracy"]
        summary["hybrid/risk_crisis_recall"] = metrics["crisis_recall"]
    else:
        notes.append(f"C-SSRS dev set skipped: {risk_path} not present")
    for note in notes:
        say(note)
    report = {
        "title": "Classifier evaluation: Reddit author-split test + dev sets",
        "created": _now(),
        "data": f"construct-tracker rmhd_27subreddits test split from {artifact / 'split.json'}",
        "model_versions": {m: c.version for m, c in loaded.items()},
        "notes": notes,
        "summary": summary,
        "sections": sections,
        "behaviour": behaviour,
    }
    write_report(report, out_dir)
    return report


#: The held-out behavioural cases (``classifiers/behaviour/test.jsonl``): evaluation only.
BEHAVIOUR_TEST = Path(__file__).resolve().parent / "behaviour" / "test.jsonl"


def behaviour_section(
    classifiers: Mapping[str, Classifier], path: Path, say: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Run the behavioural cases in ``path`` (see :mod:`classifiers.checklist`) on each mode."""
    from classifiers.checklist import CaseFileError, load_cases, run_behaviour

    try:
        cases = load_cases(path)
    except CaseFileError as exc:
        raise EvaluationError(str(exc)) from exc
    result = run_behaviour(classifiers, cases, say=say)
    result["source"] = path.name
    return result


# ---- fusion tuning (validation split only) -----------------------------------------------------
#: Coordinate-descent grid of the fusion numbers that change which labels are emitted.
TUNING_GRID: dict[str, tuple[float, ...]] = {
    "threshold_shift": (-0.15, -0.1, -0.05, 0.0, 0.05, 0.1, 0.15),
    "rules_add_min": (0.5, 0.6, 0.7, 0.8, 0.9, 1.01),
    "model_against": (0.0, 0.02, 0.05, 0.1, 0.2, 0.3),
    "veto_max": (0.0, 0.6, 0.7, 0.8, 0.9, 1.01),
    "rules_agree_min": (0.3, 0.5, 0.7),
    "rules_relevance_weight": (0.0, 0.6, 0.8, 1.0),
    "rules_detect_min": (0.5, 0.6, 0.7),
    "off_topic_cap": (0.2, 0.3, 0.45, 1.0),
}


#: The highest bar ``tune_fusion`` sets for a model-only crisis call on a short text.
SHORT_TEXT_CRISIS_CAP = 0.3


def tune_fusion(
    hybrid: Any,
    artifact_dir: Path,
    *,
    target_recall: float = 0.97,
    passes: int = 2,
    say: Callable[[str], None] = logger.info,
    conditions: bool = True,
    judged: Mapping[str, Sequence[str]] | None = None,
    distant_tolerance: float | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Tune the fusion numbers on the VALIDATION split (never the test split).

    The condition objective is macro-F1 against the subreddit labels, or, with ``judged`` (post
    id -> conditions, :func:`load_judged_labels` of ``classifiers/judged/validation.jsonl``),
    against a blind reader's labels on every validation post they cover; with
    ``distant_tolerance`` as well, only among the settings whose subreddit-label macro-F1 stays
    within that much of the starting fusion's.

    The views of every validation post are computed once; coordinate descent over
    :data:`TUNING_GRID` then maximises condition macro-F1. The crisis threshold is the highest
    one that keeps suicidality recall (r/SuicideWatch posts at ideation or above) at
    ``target_recall``, above the 0.90 goal so the test split has a margin (a missed crisis costs
    more than a false alarm a practitioner reviews); then ``crisis_unsupported_threshold``, the
    P(crisis) a model-only call needs when the rules saw no suicide-risk cue, is the highest that
    still keeps recall at ``target_recall``. With ``conditions=False`` only these two crisis
    numbers are tuned (the rest stays as configured): the shipped recipe tunes everything at the
    student's training length, then the crisis numbers again at the length it is served at,
    because the recall goal must hold where it runs.

    Returns:
        The tuned ``FusionConfig`` and a summary of validation metrics before and after.
    """
    from classifiers.hybrid import CRISIS_SUPPORT_TFIDF_WEIGHT, CRISIS_SUPPORT_WEIGHT, fuse
    from classifiers.training.data import Split, distant_label, load_reddit_corpus

    split_path = artifact_dir / "split.json"
    if not split_path.is_file():
        raise EvaluationError(f"no split.json in {artifact_dir}; run `mindsignal train` first")
    split = Split.load(split_path)
    corpus = load_reddit_corpus()
    val = corpus[corpus["id"].isin(set(split.validation))].reset_index(drop=True)
    texts = val["text"].tolist()
    subs = val["subreddit"].tolist()
    say(f"tuning fusion on {len(texts)} validation posts")
    # The views carry the crisis score's second opinion as the fusion mixes it, so the mix the
    # thresholds are fitted to is fixed before the views are computed.
    if getattr(hybrid, "stacker", None) is not None:
        hybrid = copy.copy(hybrid)
        hybrid.fusion = hybrid.fusion.with_overrides(
            crisis_support_tfidf_weight=CRISIS_SUPPORT_TFIDF_WEIGHT
        )
    views = []
    for start in range(0, len(texts), 64):
        views.extend(hybrid.views(texts[start : start + 64]))
    distant: list[list[str] | None] = []
    for sub in subs:
        dl = distant_label(sub)
        distant.append(
            list(dl.conditions) if dl.conditions_known and dl.relevant is not None else None
        )
    gold = distant
    if judged is not None:
        gold = [
            list(judged[str(pid)]) if str(pid) in judged else None for pid in val["id"].tolist()
        ]
        if not any(g is not None for g in gold):
            raise EvaluationError("the judged labels cover no validation post of this artifact")
    sw = [i for i, s in enumerate(subs) if s.lower() == "suicidewatch"]
    version = hybrid.version

    def macro_on(labels: Sequence[list[str] | None], cfg: Any) -> float:
        known = [(i, g) for i, g in enumerate(labels) if g is not None]
        preds = [fuse(views[i][0], views[i][1], cfg, version).label_names() for i, _ in known]
        return float(multilabel_metrics([g for _, g in known], preds)["macro_f1"])

    distant_floor = (
        macro_on(distant, hybrid.fusion) - distant_tolerance
        if judged is not None and distant_tolerance is not None
        else None
    )

    def macro(cfg: Any) -> float:
        """The objective; with judged labels, only among settings that keep the subreddit-label
        score within ``distant_tolerance`` of where tuning started."""
        if distant_floor is not None and macro_on(distant, cfg) < distant_floor - 1e-9:
            return -1.0
        return macro_on(gold, cfg)

    def recall(cfg: Any) -> float:
        if not sw:
            return 1.0
        return sum(fuse(views[i][0], views[i][1], cfg, version).risk.crisis for i in sw) / len(sw)

    # Not tuned: product rules. On short texts the rules' veto of a label they saw negated or
    # about someone else holds (development behaviour cases: 19 fewer wrong labels of 180;
    # validation macro-F1 0.35 points lower against the blind readings, 0.6 against the
    # subreddit labels); two distinct criteria of one condition in the writer's own words make
    # the text relevant (see FusionConfig.rules_criteria_relevant).
    config = hybrid.fusion.with_overrides(short_veto=True, rules_criteria_relevant=2)
    before = {"macro_f1": macro(hybrid.fusion), "suicidality_recall": recall(hybrid.fusion)}
    # Fine at the low end: the crisis score with the stacked member's second opinion (a
    # geometric mean of two probabilities) sits lower than the risk head's P alone.
    crisis_grid = np.unique(
        np.round(np.concatenate([np.arange(0.005, 0.1, 0.005), np.arange(0.1, 0.951, 0.025)]), 3)
    )
    # The thresholds are fitted to the combined crisis score where the stacked member's second
    # opinion is there (see classifiers.hybrid), to P(crisis) alone where it is not. The bar
    # with a rule cue first, with no separate bar for posts without one.
    has_support = any(view[1].crisis_support is not None for view in views)
    config = config.with_overrides(
        crisis_support_weight=CRISIS_SUPPORT_WEIGHT if has_support else 0.0,
        crisis_unsupported_threshold=None,
        crisis_short_unsupported_threshold=None,
    )
    ok = [
        float(t)
        for t in crisis_grid
        if recall(config.with_overrides(crisis_threshold=float(t))) >= target_recall
    ]
    if ok:
        config = config.with_overrides(crisis_threshold=max(ok))
        # Then the highest bar for a model-only crisis call with no rule cue in the text that
        # still keeps suicidality recall at the target (fewer false alarms, same recall goal).
        floor = float(config.crisis_threshold or 0.0)
        unsupported = [
            float(t)
            for t in crisis_grid
            if t >= floor
            and recall(config.with_overrides(crisis_unsupported_threshold=float(t)))
            >= target_recall
        ]
        config = config.with_overrides(crisis_unsupported_threshold=max(unsupported, default=None))
        # Then the bar for such a call on a short text, where the student has little to read;
        # capped, so a student that is sure of a short crisis ("I'm done. I can't anymore.")
        # still raises it without a rule cue.
        floor = float(config.crisis_unsupported_threshold or floor)
        short = [
            float(t)
            for t in crisis_grid
            if floor <= t <= SHORT_TEXT_CRISIS_CAP
            and recall(config.with_overrides(crisis_short_unsupported_threshold=float(t)))
            >= target_recall
        ]
        config = config.with_overrides(crisis_short_unsupported_threshold=max(short, default=None))
    best = macro(config)
    for _ in range(passes if conditions else 0):
        for name, values in TUNING_GRID.items():
            for value in values:
                trial = config.with_overrides(**{name: value})
                score = macro(trial)
                if score > best + 1e-6:
                    best, config = score, trial
    after = {"macro_f1": best, "suicidality_recall": recall(config)}
    if judged is not None:
        before["subreddit_macro_f1"] = macro_on(distant, hybrid.fusion)
        after["subreddit_macro_f1"] = macro_on(distant, config)
    say(f"validation macro-F1 {before['macro_f1']:.3f} -> {after['macro_f1']:.3f}")
    # The length these numbers hold at: what load_classifier serves when not told otherwise.
    length = getattr(getattr(hybrid, "model", None), "max_length", None)
    config = config.with_overrides(max_length=int(length) if length else None)
    return config, {
        "validation_posts": len(texts),
        "objective": "judged labels" if judged is not None else "subreddit labels",
        "before": before,
        "after": after,
    }
