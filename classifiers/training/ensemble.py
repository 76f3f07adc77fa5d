"""Fit the learned n-gram lexicon beside the student and the blend of the two, on validation.

Called by :func:`classifiers.training.train.train_student` after the student is exported and
calibrated, and usable alone on an existing artifact (``fit_ensemble``): it needs the artifact's
``split.json`` and its ONNX student, and writes ``ngram.npz`` plus an ``ensemble`` block into
``config.json``:

``p(label) = (1 - ngram_weight) * p_student(label) + ngram_weight * p_ngram(label)``, with
per-label thresholds tuned for F1 on the validation split (the test split is never seen).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.labels import CONDITIONS
from classifiers.ngram import NGRAM_FILE, NgramModel, fit_ngram_model
from classifiers.training import calibration as cal
from classifiers.training.data import DISTANT_WEIGHT, Targets
from classifiers.training.train import condition_f1s, macro

logger = logging.getLogger(__name__)

#: Blend weights tried on validation.
WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)


def tune_thresholds(probs: np.ndarray, t: Targets) -> np.ndarray:
    """Per-label F1-optimal thresholds on rows whose distant label settles the label."""
    out = []
    for j, name in enumerate(CONDITIONS):
        rows = t.conditions_w[:, j] >= DISTANT_WEIGHT
        if name == "ocd" or t.conditions[rows, j].sum() == 0:
            out.append(0.7)  # no distant positives (OCD): a conservative default, not fitted noise
            continue
        out.append(cal.tune_threshold(probs[rows, j], t.conditions[rows, j], default=0.5))
    return np.asarray(out)


def fit_ensemble(
    out_dir: Path,
    texts: list[str],
    idx: dict[str, np.ndarray],
    targets: Targets,
    distant: Targets,
    threads: int,
    say: Callable[[str], None] = logger.info,
) -> dict[str, Any]:
    """Fit ``ngram.npz`` on the train split, choose the blend on validation, record it.

    Args:
        out_dir: The artifact directory (student already exported and calibrated).
        texts: All corpus texts; ``idx`` holds the train/validation/test row indices.
        targets: Training targets (distant + rules + teacher); positives where weight > 0.
        distant: Subreddit-only targets: the evaluation truth.
        threads: ONNX Runtime threads for the student's validation/test pass.

    Returns:
        Metrics: n-gram alone and blended, on validation and test.
    """
    from classifiers.transformer import TransformerClassifier

    tr = targets.subset(idx["train"])
    report = fit_ngram_model(
        [texts[i] for i in idx["train"]],
        (tr.conditions >= 0.5).astype(int),
        tr.conditions_w > 0,
        out_dir / NGRAM_FILE,
    )
    say(f"n-gram lexicon: {report.vocabulary} n-grams, {len(report.labels)} labels")
    ngram = NgramModel(out_dir / NGRAM_FILE)
    student = TransformerClassifier(out_dir, threads=threads)
    parts = {}
    for part in ("validation", "test"):
        if len(idx[part]) == 0:
            continue
        part_texts = [texts[i] for i in idx[part]]
        parts[part] = (
            student.predict_proba(part_texts).conditions,
            ngram.predict_proba(part_texts),
            distant.subset(idx[part]),
        )
    metrics: dict[str, Any] = {}
    if "validation" not in parts:
        return metrics
    s_val, n_val, t_val = parts["validation"]
    best = (-1.0, 0.0, np.full(len(CONDITIONS), 0.5))
    for w in WEIGHTS:
        blend = (1 - w) * s_val + w * n_val
        th = tune_thresholds(blend, t_val)
        score = macro(condition_f1s(blend, t_val, th))
        say(f"blend n-gram weight {w}: validation macro-F1 {score}")
        if score > best[0]:
            best = (score, w, th)
    score, weight, th = best
    metrics["ensemble_ngram_weight"] = weight
    metrics["ensemble_val_macro_f1"] = score
    n_th = tune_thresholds(n_val, t_val)
    metrics["ngram_val_macro_f1"] = macro(condition_f1s(n_val, t_val, n_th))
    if "test" in parts:
        s_test, n_test, t_test = parts["test"]
        blend = (1 - weight) * s_test + weight * n_test
        metrics["ensemble_test_per_label_f1"] = condition_f1s(blend, t_test, th)
        metrics["ensemble_test_macro_f1"] = macro(metrics["ensemble_test_per_label_f1"])
        metrics["ngram_test_macro_f1"] = macro(condition_f1s(n_test, t_test, n_th))
    cfg_path = out_dir / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["ensemble"] = {
        "ngram_file": NGRAM_FILE,
        "ngram_weight": weight,
        "ngram_thresholds": {c: float(v) for c, v in zip(CONDITIONS, n_th, strict=True)},
        "thresholds": {c: float(v) for c, v in zip(CONDITIONS, th, strict=True)},
        "val_macro_f1": score,
    }
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True), encoding="utf-8")
    say(f"ensemble: n-gram weight {weight}, validation macro-F1 {score}")
    return metrics
