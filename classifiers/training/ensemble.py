"""Fit the learned members beside the student and choose their blend, on validation.

Called by :func:`classifiers.training.train.train_student` after the student is exported and
calibrated, and usable alone on an existing artifact (``fit_ensemble``): it needs the artifact's
``split.json`` and its ONNX student, and writes ``ngram.npz`` plus an ``ensemble`` block into
``config.json``:

``p(label) = (1 - ngram_weight) * p_student(label) + ngram_weight * p_ngram(label)``, with
per-label thresholds tuned for F1 on the validation split (the test split is never seen).

Given each post's source label (``sources``: the subreddit, or the ``--data`` label string), it
also fits the two stacked multiclass members on the train split (``stack.npz``, see
:mod:`classifiers.stacking`) and searches a small grid of weights over all four members (student,
n-gram, pooled-embedding and TF-IDF multiclass) on validation, the two-part blends included and
tried first, so the four-member blend is kept (``ensemble.stacked``) only when it scores higher
on validation than the best two-part blend.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.labels import CONDITIONS
from classifiers.ngram import NGRAM_FILE, NgramModel, fit_ngram_model
from classifiers.stacking import (
    MEMBERS,
    STACK_FILE,
    MulticlassStacker,
    blend,
    fit_stacker,
    label_weights,
    weights_from_config,
    weights_to_config,
)
from classifiers.training import calibration as cal
from classifiers.training.data import DISTANT_WEIGHT, Targets, distant_label
from classifiers.training.train import condition_f1s, macro

logger = logging.getLogger(__name__)

#: Blend weights tried on validation.
WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)
#: Four-member weights are multiples of ``1 / STACK_STEPS`` summing to one (84 points at 6).
STACK_STEPS = 6
#: Members that score each label on its own (sigmoids), so several labels can be high at once.
MULTILABEL = frozenset({"student", "ngram"})
#: The least total weight on the multi-label members (student and n-gram). The multiclass members
#: are softmaxes over single-label sources: a post showing two conditions splits their
#: probability, which single-label gold cannot measure (on validation alone they win: depression
#: co-occurring with anxiety would be lost). A product decision made before looking at test.
MIN_MULTILABEL_WEIGHT = 1 / 3


def stacked_candidates(steps: int = STACK_STEPS) -> list[dict[str, float]]:
    """Member weights tried on validation: the two-part blends of :data:`WEIGHTS` first (ties
    keep them), then the rest of the ``1/steps`` grid over the four members that keeps at least
    :data:`MIN_MULTILABEL_WEIGHT` on the multi-label members."""
    out = [{"student": 1.0 - w, "ngram": w} for w in WEIGHTS]
    seen: set[tuple[float, ...]] = {(round(1.0 - w, 6), round(w, 6), 0.0, 0.0) for w in WEIGHTS}
    for head in itertools.product(range(steps + 1), repeat=len(MEMBERS) - 1):
        if sum(head) > steps:
            continue
        point = tuple(round(k / steps, 6) for k in (*head, steps - sum(head)))
        multilabel = sum(w for m, w in zip(MEMBERS, point, strict=True) if m in MULTILABEL)
        if multilabel < MIN_MULTILABEL_WEIGHT - 1e-9:
            continue
        if point not in seen:
            seen.add(point)
            out.append({m: w for m, w in zip(MEMBERS, point, strict=True) if w > 0})
    return out


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
    sources: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Fit ``ngram.npz`` (and ``stack.npz``) on the train split, choose the blend on validation.

    Args:
        out_dir: The artifact directory (student already exported and calibrated).
        texts: All corpus texts; ``idx`` holds the train/validation/test row indices.
        targets: Training targets (distant + rules + teacher); positives where weight > 0.
        distant: Subreddit-only targets: the evaluation truth.
        threads: ONNX Runtime threads for the student's passes.
        say: Progress messages.
        sources: The source label of every text (subreddit or ``--data`` label string), the
            classes of the stacked members; None fits the two-part blend only.

    Returns:
        Metrics on validation and test: each member alone, the two-part blend (``ensemble_*``,
        as before) and the four-member blend (``stacked_*``).
    """
    from classifiers.transformer import TransformerClassifier

    tr = targets.subset(idx["train"])
    train_texts = [texts[i] for i in idx["train"]]
    report = fit_ngram_model(
        train_texts,
        (tr.conditions >= 0.5).astype(int),
        tr.conditions_w > 0,
        out_dir / NGRAM_FILE,
    )
    say(f"n-gram lexicon: {report.vocabulary} n-grams, {len(report.labels)} labels")
    ngram = NgramModel(out_dir / NGRAM_FILE)
    student = TransformerClassifier(out_dir, threads=threads)
    stacker = None
    if sources is not None:
        stacker = _fit_stacker(
            out_dir / STACK_FILE,
            train_texts,
            [str(sources[i]) for i in idx["train"]],
            ngram,
            student,
            say,
        )
    parts: dict[str, tuple[dict[str, np.ndarray], Targets]] = {}
    for part in ("validation", "test"):
        if len(idx[part]) == 0:
            continue
        part_texts = [texts[i] for i in idx[part]]
        scores = student.predict_proba(part_texts)
        x = ngram.features(part_texts)
        members = {"student": scores.conditions, "ngram": ngram.predict_proba_features(x)}
        if stacker is not None and scores.pooled is not None:
            members["pooled_mc"] = stacker.predict_pooled(scores.pooled)
            members["tfidf_mc"] = stacker.predict_tfidf(x)
        parts[part] = (members, distant.subset(idx[part]))
    metrics: dict[str, Any] = {}
    if "validation" not in parts:
        (out_dir / STACK_FILE).unlink(missing_ok=True)
        return metrics
    m_val, t_val = parts["validation"]
    s_val, n_val = m_val["student"], m_val["ngram"]
    best = (-1.0, 0.0, np.full(len(CONDITIONS), 0.5))
    for w in WEIGHTS:
        mix = (1 - w) * s_val + w * n_val
        th = tune_thresholds(mix, t_val)
        score = macro(condition_f1s(mix, t_val, th))
        say(f"blend n-gram weight {w}: validation macro-F1 {score}")
        if score > best[0]:
            best = (score, w, th)
    score, weight, th = best
    metrics["ensemble_ngram_weight"] = weight
    metrics["ensemble_val_macro_f1"] = score
    own_th = {m: tune_thresholds(p, t_val) for m, p in m_val.items()}
    n_th = own_th["ngram"]
    for m in ("ngram", "pooled_mc", "tfidf_mc"):
        if m in m_val:
            metrics[f"{m}_val_macro_f1"] = macro(condition_f1s(m_val[m], t_val, own_th[m]))
    if "test" in parts:
        m_test, t_test = parts["test"]
        mix = (1 - weight) * m_test["student"] + weight * m_test["ngram"]
        metrics["ensemble_test_per_label_f1"] = condition_f1s(mix, t_test, th)
        metrics["ensemble_test_macro_f1"] = macro(metrics["ensemble_test_per_label_f1"])
        for m in ("ngram", "pooled_mc", "tfidf_mc"):
            if m in m_test:
                metrics[f"{m}_test_macro_f1"] = macro(condition_f1s(m_test[m], t_test, own_th[m]))
    covered = {"student": np.ones(len(CONDITIONS), dtype=bool)}
    covered["ngram"] = np.array([c in report.labels for c in CONDITIONS])
    if stacker is not None:
        covered["pooled_mc"] = covered["tfidf_mc"] = stacker.covered
    stacked_block = _choose_stacked(m_val, t_val, covered, score, say)
    if stacked_block is not None:
        metrics["stacked_weights"] = stacked_block["weights"]
        metrics["stacked_val_macro_f1"] = stacked_block["val_macro_f1"]
        if "test" in parts:
            # Scored exactly as served: the weights and thresholds as written to the config.
            m_test, t_test = parts["test"]
            st_th = np.array([stacked_block["thresholds"][c] for c in CONDITIONS])
            mix = blend(m_test, weights_from_config(stacked_block))
            metrics["stacked_test_per_label_f1"] = condition_f1s(mix, t_test, st_th)
            metrics["stacked_test_macro_f1"] = macro(metrics["stacked_test_per_label_f1"])
    else:
        (out_dir / STACK_FILE).unlink(missing_ok=True)
    metrics["shipped_blend"] = "stacked" if stacked_block is not None else "student+ngram"
    cfg_path = out_dir / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["ensemble"] = {
        "ngram_file": NGRAM_FILE,
        "ngram_weight": weight,
        "ngram_thresholds": {c: float(v) for c, v in zip(CONDITIONS, n_th, strict=True)},
        "thresholds": {c: float(v) for c, v in zip(CONDITIONS, th, strict=True)},
        "val_macro_f1": score,
    }
    if stacked_block is not None:
        cfg["ensemble"]["stacked"] = stacked_block
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True), encoding="utf-8")
    say(f"ensemble: n-gram weight {weight}, validation macro-F1 {score}")
    return metrics


def _fit_stacker(
    path: Path,
    train_texts: list[str],
    train_sources: list[str],
    ngram: NgramModel,
    student: Any,
    say: Callable[[str], None],
) -> MulticlassStacker | None:
    """Fit ``stack.npz`` on the train split; None (said why) when it cannot be fitted."""
    classes = sorted(set(train_sources))
    if len(classes) < 2:
        say(f"stacked members skipped: one source label in the train split ({classes})")
        return None
    pooled = student.predict_proba(train_texts).pooled
    if pooled is None:
        say("stacked members skipped: the student graph has no pooled output")
        return None
    report = fit_stacker(
        pooled,
        ngram.features(train_texts),
        train_sources,
        {c: distant_label(c).conditions for c in classes},
        ngram.vocabulary_sha256,
        path,
    )
    say(
        f"stacked members: {len(report.classes)} source labels over {report.posts} posts, "
        f"conditions covered {len(report.covered)}, numpy vs sklearn max diff "
        f"{report.max_abs_proba_diff:.1e}"
    )
    return MulticlassStacker(path)


def _choose_stacked(
    m_val: Mapping[str, np.ndarray],
    t_val: Targets,
    covered: Mapping[str, np.ndarray],
    pair_score: float,
    say: Callable[[str], None],
) -> dict[str, Any] | None:
    """The best four-member blend on validation as an ``ensemble.stacked`` block, or None when
    the members are missing or no blend beats the best two-part blend (``pair_score``)."""
    if not {"pooled_mc", "tfidf_mc"} <= set(m_val):
        return None
    best: tuple[float, dict[str, float], dict[str, np.ndarray], np.ndarray] | None = None
    for weights in stacked_candidates():
        per_label = label_weights(weights, covered)
        mix = blend(m_val, per_label)
        th = tune_thresholds(mix, t_val)
        score = macro(condition_f1s(mix, t_val, th))
        if best is None or score > best[0]:
            best = (score, weights, per_label, th)
    assert best is not None
    score, weights, per_label, th = best
    plain = {m: round(float(weights.get(m, 0.0)), 4) for m in MEMBERS}
    say(f"four-member blend {plain}: validation macro-F1 {score} (two-part best {pair_score})")
    if score <= pair_score:
        return None
    return {
        "file": STACK_FILE,
        **weights_to_config(weights, per_label),
        "thresholds": {c: float(v) for c, v in zip(CONDITIONS, th, strict=True)},
        "val_macro_f1": score,
    }
