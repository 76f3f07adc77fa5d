"""Stacked multiclass members of the learned ensemble, and the blend of all members.

The student and the n-gram lexicon score each condition on its own. The two stacked members
instead learn which *source* a post came from (for the Reddit corpus: its subreddit; for a user's
``--data`` CSV: its label string) with one multinomial logistic regression each:

* ``pooled_mc`` reads the student's mean-pooled sentence embedding (the ONNX graph's ``pooled``
  output), L2-normalised;
* ``tfidf_mc`` reads the n-gram lexicon's own TF-IDF features (one transform serves both).

A fixed 0/1 class -> condition matrix, taken from the distant labels (controls and ambiguous
sources map to no condition), turns the class probabilities into condition probabilities.

Stored next to the student as ``stack.npz``: coefficients, intercepts, the class names and the
matrix, all plain arrays (no pickles). Fitting needs scikit-learn (training only); inference is
numpy alone. :func:`blend` is the one formula the ensemble is fitted with and served with.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.labels import CONDITIONS

STACK_FILE = "stack.npz"
#: Members of the learned ensemble, in the order the weights are written.
MEMBERS = ("student", "ngram", "pooled_mc", "tfidf_mc")
#: Inverse regularisation of the two multinomial regressions (chosen offline on validation).
POOLED_C = 2.0
TFIDF_C = 16.0


class StackerError(RuntimeError):
    """The stacker file is missing, unreadable, or does not fit the rest of the artifact."""


@dataclass(frozen=True)
class StackFitReport:
    """What :func:`fit_stacker` trained on."""

    posts: int
    classes: tuple[str, ...]
    covered: tuple[str, ...]
    max_abs_proba_diff: float


def vocabulary_digest(vocabulary: Iterable[str]) -> str:
    """Fingerprint of a TF-IDF vocabulary (in column order): stacker and n-gram must share it."""
    return hashlib.sha256("\n".join(vocabulary).encode("utf-8")).hexdigest()


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _multinomial(clf: Any) -> tuple[np.ndarray, np.ndarray]:
    """A fitted ``LogisticRegression`` as softmax coefficients (the binary case made two-class)."""
    coef = np.asarray(clf.coef_, dtype=np.float64)
    intercept = np.asarray(clf.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # sigmoid(z) == softmax([-z/2, z/2])[1]
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.concatenate([-intercept / 2, intercept / 2])
    return coef, intercept


def fit_stacker(
    pooled: np.ndarray,
    tfidf: Any,
    sources: Sequence[str],
    class_conditions: Mapping[str, Sequence[str]],
    vocabulary_sha256: str,
    out_path: Path,
    *,
    pooled_c: float = POOLED_C,
    tfidf_c: float = TFIDF_C,
) -> StackFitReport:
    """Fit both multinomial regressions on the training rows and save ``stack.npz``.

    Args:
        pooled: ``(n, d)`` student embeddings of the training posts (normalised here).
        tfidf: ``(n, vocabulary)`` TF-IDF features of the same posts from the n-gram lexicon.
        sources: The source label (class) of each post.
        class_conditions: Conditions each class stands for (empty for controls/ambiguous).
        vocabulary_sha256: :func:`vocabulary_digest` of the n-gram vocabulary ``tfidf`` used.
        out_path: Where ``stack.npz`` goes.

    Raises:
        StackerError: Fewer than two classes, or the saved arrays do not reproduce
            scikit-learn's probabilities (checked on the training rows before saving).
    """
    from sklearn.linear_model import LogisticRegression

    sources = [str(s) for s in sources]
    classes = sorted(set(sources))
    if len(classes) < 2:
        raise StackerError(f"the stacker needs two or more source labels, got {classes}")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[s] for s in sources])
    matrix = np.zeros((len(classes), len(CONDITIONS)), dtype=np.float32)
    for i, name in enumerate(classes):
        for cond in class_conditions.get(name, ()):
            matrix[i, CONDITIONS.index(cond)] = 1.0
    x_pooled = l2_normalise(pooled)
    arrays: dict[str, Any] = {}
    diff = 0.0
    for name, x, c in (("pooled", x_pooled, pooled_c), ("tfidf", tfidf, tfidf_c)):
        clf = LogisticRegression(C=c, max_iter=3000)
        clf.fit(x, y)
        coef, intercept = _multinomial(clf)
        arrays[f"{name}_coef"] = coef.astype(np.float32)
        arrays[f"{name}_intercept"] = intercept.astype(np.float32)
        # What inference will compute from the stored (float32) arrays must be what sklearn says.
        rows = x[: min(256, x.shape[0])]
        ours = _class_proba(rows, arrays[f"{name}_coef"], arrays[f"{name}_intercept"])
        diff = max(diff, float(np.abs(ours - clf.predict_proba(rows)).max()))
    if diff > 1e-4:
        raise StackerError(f"stored stacker disagrees with scikit-learn by {diff:.2g}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        classes=np.asarray(classes, dtype=str),
        class_conditions=matrix,
        labels=np.asarray(CONDITIONS, dtype=str),
        vocabulary_sha256=np.asarray(vocabulary_sha256, dtype=str),
        **arrays,
    )
    tmp.replace(out_path)
    covered = tuple(c for j, c in enumerate(CONDITIONS) if matrix[:, j].any())
    return StackFitReport(
        posts=len(sources), classes=tuple(classes), covered=covered, max_abs_proba_diff=diff
    )


def _class_proba(x: Any, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    logits = np.asarray(x @ coef.T, dtype=np.float64) + intercept
    return _softmax(logits)


class MulticlassStacker:
    """The two stacked members from ``stack.npz``; loads lazily, numpy only, picklable by path."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._arrays: dict[str, np.ndarray] | None = None
        self._classes: tuple[str, ...] = ()
        self._digest = ""

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]

    def _loaded(self) -> dict[str, np.ndarray]:
        if self._arrays is not None:
            return self._arrays
        with self._lock:
            if self._arrays is None:
                self._arrays = self._read()
        return self._arrays

    def _read(self) -> dict[str, np.ndarray]:
        names = (
            "class_conditions",
            "pooled_coef",
            "pooled_intercept",
            "tfidf_coef",
            "tfidf_intercept",
        )
        try:
            with np.load(self.path, allow_pickle=False) as data:
                arrays = {k: data[k].astype(np.float64) for k in names}
                classes = tuple(str(v) for v in data["classes"])
                labels = tuple(str(v) for v in data["labels"])
                digest = str(data["vocabulary_sha256"])
        except (OSError, KeyError, ValueError) as exc:
            raise StackerError(f"stacker {self.path} unreadable: {exc}") from exc
        k = len(classes)
        shapes_ok = (
            arrays["class_conditions"].shape == (k, len(CONDITIONS))
            and arrays["pooled_coef"].shape[0] == k
            and arrays["pooled_intercept"].shape == (k,)
            and arrays["tfidf_coef"].shape[0] == k
            and arrays["tfidf_intercept"].shape == (k,)
        )
        if labels != CONDITIONS or not shapes_ok:
            raise StackerError(f"stacker {self.path} does not match the label set")
        self._classes, self._digest = classes, digest
        return arrays

    def warm_up(self) -> None:
        """Load the file now instead of on first use."""
        self._loaded()

    @property
    def classes(self) -> tuple[str, ...]:
        """The source labels the regressions choose between."""
        self._loaded()
        return self._classes

    @property
    def vocabulary_sha256(self) -> str:
        """Digest of the n-gram vocabulary the TF-IDF member was fitted on."""
        self._loaded()
        return self._digest

    @property
    def covered(self) -> np.ndarray:
        """``(len(CONDITIONS),)`` bool: conditions some class stands for (others always score 0)."""
        return np.asarray(self._loaded()["class_conditions"].any(axis=0), dtype=bool)

    def pooled_class_proba(self, pooled: np.ndarray) -> np.ndarray:
        """``(n, classes)`` probabilities from the student's pooled embeddings."""
        a = self._loaded()
        return _class_proba(l2_normalise(pooled), a["pooled_coef"], a["pooled_intercept"])

    def tfidf_class_proba(self, tfidf: Any) -> np.ndarray:
        """``(n, classes)`` probabilities from the n-gram lexicon's TF-IDF features."""
        a = self._loaded()
        if tfidf.shape[1] != a["tfidf_coef"].shape[1]:
            raise StackerError(
                f"TF-IDF features have {tfidf.shape[1]} columns; the stacker expects "
                f"{a['tfidf_coef'].shape[1]} (ngram.npz and stack.npz are from different fits)"
            )
        return _class_proba(tfidf, a["tfidf_coef"], a["tfidf_intercept"])

    def predict_pooled(self, pooled: np.ndarray) -> np.ndarray:
        """``(n, len(CONDITIONS))`` condition probabilities of the ``pooled_mc`` member."""
        return self.pooled_class_proba(pooled) @ self._loaded()["class_conditions"]

    def predict_tfidf(self, tfidf: Any) -> np.ndarray:
        """``(n, len(CONDITIONS))`` condition probabilities of the ``tfidf_mc`` member."""
        return self.conditions_from_classes(self.tfidf_class_proba(tfidf))

    def conditions_from_classes(self, class_proba: np.ndarray) -> np.ndarray:
        """Map ``(n, classes)`` source probabilities to ``(n, len(CONDITIONS))`` conditions."""
        return np.asarray(class_proba @ self._loaded()["class_conditions"])

    def source_column(self, class_proba: np.ndarray, source: str) -> np.ndarray | None:
        """``(n,)`` column of ``source`` (a class, case-insensitive) in ``(n, classes)``
        probabilities, or None when the stacker was not fitted with that class."""
        names = [c.lower() for c in self.classes]
        if source.lower() not in names:
            return None
        return np.asarray(class_proba[:, names.index(source.lower())])

    def pooled_source_proba(self, pooled: np.ndarray, source: str) -> np.ndarray | None:
        """``(n,)`` probability that each post came from ``source`` (a class, case-insensitive)
        by the ``pooled_mc`` member, or None when the stacker was not fitted with that class."""
        if source.lower() not in [c.lower() for c in self.classes]:
            return None
        return self.source_column(self.pooled_class_proba(pooled), source)


# ---- the blend ------------------------------------------------------------------------------
def label_weights(
    weights: Mapping[str, float], covered: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Per-label member weights: a member that was never fitted for a label gives its share to
    the members that were (renormalised); a label no weighted member covers goes to the student.

    Args:
        weights: One weight per member (those absent weigh 0).
        covered: Per member, ``(len(CONDITIONS),)`` bool of the labels it was fitted for;
            members absent here cover every label.
    """
    names = [m for m in MEMBERS if float(weights.get(m, 0.0)) > 0]
    w = np.zeros((len(MEMBERS), len(CONDITIONS)))
    for i, m in enumerate(MEMBERS):
        if m in names:
            cov = np.asarray(covered.get(m, np.ones(len(CONDITIONS), dtype=bool)), dtype=bool)
            w[i] = float(weights[m]) * cov
    total = w.sum(axis=0)
    orphan = total <= 0
    w[:, ~orphan] /= total[~orphan]
    w[MEMBERS.index("student"), orphan] = 1.0
    return {m: w[i] for i, m in enumerate(MEMBERS) if w[i].any()}


def blend(members: Mapping[str, np.ndarray], weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """``p[:, j] = sum_m weights[m][j] * members[m][:, j]`` over the weighted members.

    Raises:
        KeyError: A weighted member's probabilities are missing.
    """
    out: np.ndarray | None = None
    for name, w in weights.items():
        term = np.asarray(members[name], dtype=np.float64) * np.asarray(w, dtype=np.float64)
        out = term if out is None else out + term
    if out is None:
        raise KeyError("no weighted member")
    return out


def weights_from_config(stacked: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per-label member weights from the ``ensemble.stacked`` block of ``config.json``.

    ``weights`` gives one weight per member; ``label_weights`` overrides them for the labels
    where some member was not fitted (written at fit time by :func:`label_weights`).
    """
    base = {m: float(w) for m, w in dict(stacked.get("weights", {})).items() if m in MEMBERS}
    out = {m: np.full(len(CONDITIONS), w) for m, w in base.items()}
    for label, row in dict(stacked.get("label_weights", {})).items():
        if label not in CONDITIONS:
            continue
        j = CONDITIONS.index(label)
        for m in set(out) | set(row):
            if m in MEMBERS:
                out.setdefault(m, np.zeros(len(CONDITIONS)))[j] = float(row.get(m, 0.0))
    return {m: w for m, w in out.items() if w.any()}


def weights_to_config(
    weights: Mapping[str, float], per_label: Mapping[str, np.ndarray]
) -> dict[str, Any]:
    """The ``weights`` and ``label_weights`` entries of the ``ensemble.stacked`` block."""
    plain = {m: round(float(weights.get(m, 0.0)), 4) for m in MEMBERS}
    overrides: dict[str, dict[str, float]] = {}
    for j, label in enumerate(CONDITIONS):
        row = {m: round(float(per_label[m][j]), 4) if m in per_label else 0.0 for m in MEMBERS}
        if any(abs(row[m] - plain[m]) > 1e-9 for m in MEMBERS):
            overrides[label] = row
    return {"weights": plain, "label_weights": overrides}
