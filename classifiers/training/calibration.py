"""Post-hoc calibration of the student's heads on the validation split.

Temperature scaling per head (grid search on weighted log-loss: robust and dependency-free),
per-label decision thresholds (maximise F1; a default where there are too few positives), a
crisis threshold on P(risk >= ideation), and ordinal cut points on the severity score fitted on
a labeled calibration set with a cross-validated estimate of their balanced accuracy.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TEMPERATURE_GRID = np.exp(np.linspace(np.log(0.25), np.log(8.0), 81))
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``."""
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _bce(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def fit_binary_temperature(logits: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> float:
    """Temperature T minimising weighted binary log-loss of ``sigmoid(logits / T)``."""
    w = weights.astype(np.float64)
    if w.sum() <= 0:
        return 1.0
    losses = [float((_bce(sigmoid(logits / t), targets) * w).sum()) for t in TEMPERATURE_GRID]
    return float(TEMPERATURE_GRID[int(np.argmin(losses))])


def fit_softmax_temperature(logits: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    """Temperature T minimising weighted cross-entropy of ``softmax(logits / T)``."""
    w = weights.astype(np.float64)
    if w.sum() <= 0:
        return 1.0
    rows = np.arange(len(labels))
    losses = []
    for t in TEMPERATURE_GRID:
        p = softmax(logits / t)[rows, labels]
        losses.append(float((-np.log(np.clip(p, 1e-7, 1)) * w).sum()))
    return float(TEMPERATURE_GRID[int(np.argmin(losses))])


def f1_at(probs: np.ndarray, targets: np.ndarray, threshold: float) -> float:
    """F1 of ``probs >= threshold`` against 0/1 targets (0 when there are no positives)."""
    pred = probs >= threshold
    tp = float((pred & (targets > 0)).sum())
    fp = float((pred & (targets <= 0)).sum())
    fn = float((~pred & (targets > 0)).sum())
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def tune_threshold(
    probs: np.ndarray,
    targets: np.ndarray,
    default: float = 0.5,
    min_positives: int = 5,
    beta: float = 1.0,
) -> float:
    """Threshold maximising F-beta on the given rows; ``default`` with too few positives.

    Ties go to the threshold closest to 0.5 so a flat optimum does not drift to an extreme.
    """
    if int((targets > 0).sum()) < min_positives:
        return default
    best, best_score = default, -1.0
    for t in THRESHOLD_GRID:
        pred = probs >= t
        tp = float((pred & (targets > 0)).sum())
        fp = float((pred & (targets <= 0)).sum())
        fn = float((~pred & (targets > 0)).sum())
        b2 = beta * beta
        score = 0.0 if tp == 0 else (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp)
        if score > best_score + 1e-9 or (
            abs(score - best_score) <= 1e-9 and abs(t - 0.5) < abs(best - 0.5)
        ):
            best, best_score = float(t), score
    return best


def balanced_accuracy(pred: np.ndarray, truth: np.ndarray, n_classes: int) -> float:
    """Mean per-class recall over the classes present in ``truth``."""
    recalls = [
        float((pred[truth == k] == k).mean()) for k in range(n_classes) if (truth == k).any()
    ]
    return float(np.mean(recalls)) if recalls else 0.0


def apply_cut_points(scores: np.ndarray, cut_points: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ordinal level index of each score: the number of cut points it reaches."""
    return np.searchsorted(np.asarray(cut_points), scores, side="right")


def fit_cut_points(
    scores: np.ndarray, levels: np.ndarray, n_levels: int = 4, grid: int = 30
) -> list[float]:
    """Increasing cut points on a 0-1 score that maximise balanced accuracy of the levels."""
    qs = np.unique(np.quantile(scores, np.linspace(0.02, 0.98, grid)))
    best: tuple[float, ...] = tuple(np.quantile(scores, np.linspace(0, 1, n_levels + 1)[1:-1]))
    best_ba = balanced_accuracy(apply_cut_points(scores, best), levels, n_levels)
    for combo in itertools.combinations(qs, n_levels - 1):
        ba = balanced_accuracy(apply_cut_points(scores, combo), levels, n_levels)
        if ba > best_ba:
            best, best_ba = combo, ba
    return [float(c) for c in best]


@dataclass(frozen=True)
class CutPointFit:
    """Cut points fitted on all rows, and their honest (cross-validated) balanced accuracy."""

    cut_points: list[float]
    cv_balanced_accuracy: float
    in_sample_balanced_accuracy: float
    n: int


def cross_validated_cut_points(
    scores: np.ndarray, levels: np.ndarray, n_levels: int = 4, folds: int = 5, seed: int = 0
) -> CutPointFit:
    """Fit cut points on all rows; estimate their accuracy by fitting on k-1 folds, scoring the rest."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(scores))
    pred = np.zeros(len(scores), dtype=int)
    for k in range(folds):
        held = order[k::folds]
        fit = np.setdiff1d(order, held)
        cuts = fit_cut_points(scores[fit], levels[fit], n_levels)
        pred[held] = apply_cut_points(scores[held], cuts)
    cuts = fit_cut_points(scores, levels, n_levels)
    return CutPointFit(
        cut_points=cuts,
        cv_balanced_accuracy=balanced_accuracy(pred, levels, n_levels),
        in_sample_balanced_accuracy=balanced_accuracy(
            apply_cut_points(scores, cuts), levels, n_levels
        ),
        n=len(scores),
    )
