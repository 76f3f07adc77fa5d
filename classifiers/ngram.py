"""A learned lexicon: TF-IDF word n-grams with one logistic regression per condition.

The third, transparent part of the hybrid. Where the hand-written rules say *which cue* fired and
the transformer reads the whole post, this model learns from the training split which words and
word pairs separate the conditions, and can show them: every positive score comes with the
n-grams in the text that pushed it up (character spans, like the rules' evidence).

Stored next to the student as ``ngram.npz`` (vocabulary, idf, coefficients, intercepts; plain
arrays, no pickles) so an artifact directory stays one self-contained, shippable folder.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.base import Evidence
from classifiers.labels import CONDITIONS
from classifiers.stacking import vocabulary_digest

NGRAM_FILE = "ngram.npz"
# sklearn's default token pattern: words of two or more word characters.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


class NgramModelError(RuntimeError):
    """The n-gram model file is missing or unreadable."""


@dataclass(frozen=True)
class NgramFitReport:
    """What :func:`fit_ngram_model` trained on."""

    posts: int
    vocabulary: int
    labels: tuple[str, ...]


def _vectorizer(**kwargs: Any) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        strip_accents="unicode",
        lowercase=True,
        dtype=np.float32,
        **kwargs,
    )


def fit_ngram_model(
    texts: Sequence[str],
    targets: np.ndarray,
    known: np.ndarray,
    out_path: Path,
    *,
    max_features: int = 40_000,
    c: float = 10.0,
) -> NgramFitReport:
    """Fit and save the model.

    Args:
        texts: Training posts.
        targets: ``(n, len(CONDITIONS))`` 0/1 condition labels.
        known: ``(n, len(CONDITIONS))`` bool, where the label of a post is known (masked otherwise).
        out_path: Where ``ngram.npz`` goes.
        max_features: Vocabulary size (most frequent n-grams seen in >= 2 posts).
        c: Inverse regularisation strength of the logistic regressions.
    """
    from sklearn.linear_model import LogisticRegression

    vec = _vectorizer(min_df=2, max_features=max_features)
    try:
        x = vec.fit_transform(list(texts))
    except ValueError:  # a tiny corpus where no n-gram is in two posts: keep them all
        vec = _vectorizer(min_df=1, max_features=max_features)
        x = vec.fit_transform(list(texts))
    vocab = vec.get_feature_names_out()
    coef = np.zeros((len(CONDITIONS), len(vocab)), dtype=np.float32)
    intercept = np.full(len(CONDITIONS), -10.0, dtype=np.float32)  # never fires without data
    fitted = []
    for j, label in enumerate(CONDITIONS):
        rows = np.flatnonzero(known[:, j])
        y = targets[rows, j]
        if len(rows) == 0 or y.min() == y.max():
            continue
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        clf.fit(x[rows], y)
        coef[j] = clf.coef_[0]
        intercept[j] = clf.intercept_[0]
        fitted.append(label)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        vocabulary=np.asarray(vocab, dtype=str),
        idf=vec.idf_.astype(np.float32),
        coef=coef.astype(np.float16),
        intercept=intercept,
        labels=np.asarray(CONDITIONS, dtype=str),
        fitted=np.asarray(fitted, dtype=str),
    )
    tmp.replace(out_path)
    return NgramFitReport(posts=len(texts), vocabulary=len(vocab), labels=tuple(fitted))


class NgramModel:
    """Load ``ngram.npz`` lazily; thread-safe; picklable (workers reload from the path)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._vec: Any = None
        self._coef: np.ndarray | None = None
        self._intercept: np.ndarray | None = None
        self._vocab: dict[str, int] = {}
        self._digest = ""

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]

    def _ensure_loaded(self) -> None:
        if self._vec is not None:
            return
        with self._lock:
            if self._vec is not None:
                return
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    vocab = [str(v) for v in data["vocabulary"]]
                    idf = data["idf"].astype(np.float64)
                    coef = data["coef"].astype(np.float32)
                    intercept = data["intercept"].astype(np.float32)
                    labels = tuple(str(v) for v in data["labels"])
            except (OSError, KeyError, ValueError) as exc:
                raise NgramModelError(f"n-gram model {self.path} unreadable: {exc}") from exc
            if labels != CONDITIONS or coef.shape != (len(CONDITIONS), len(vocab)):
                raise NgramModelError(f"n-gram model {self.path} does not match the label set")
            self._vocab = {term: i for i, term in enumerate(vocab)}
            self._digest = vocabulary_digest(vocab)
            vec = _vectorizer(vocabulary=self._vocab)
            vec.idf_ = idf
            self._coef = coef
            self._intercept = intercept
            self._vec = vec

    def warm_up(self) -> None:
        """Load the file now instead of on first use."""
        self._ensure_loaded()

    @property
    def vocabulary_sha256(self) -> str:
        """Digest of the vocabulary in column order (the stacked TF-IDF member must match it)."""
        self._ensure_loaded()
        return self._digest

    def features(self, texts: Sequence[str]) -> Any:
        """``(n, vocabulary)`` sparse TF-IDF rows: computed once, read by every TF-IDF member."""
        self._ensure_loaded()
        return self._vec.transform(list(texts))

    def predict_proba_features(self, x: Any) -> np.ndarray:
        """``(n, len(CONDITIONS))`` probabilities from :meth:`features` rows."""
        self._ensure_loaded()
        assert self._coef is not None and self._intercept is not None
        logits = np.asarray(x @ self._coef.T, dtype=np.float64) + self._intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, len(CONDITIONS))`` probabilities."""
        if not texts:
            self._ensure_loaded()
            return np.zeros((0, len(CONDITIONS)))
        return self.predict_proba_features(self.features(texts))

    def evidence(self, text: str, label: str, k: int = 4) -> tuple[Evidence, ...]:
        """The ``k`` n-grams of ``text`` that raise ``label`` most, as character spans."""
        self._ensure_loaded()
        assert self._coef is not None
        j = CONDITIONS.index(label)
        # Only n-grams that carry real weight: a fifth of the label's strongest n-gram or more.
        floor = max(float(self._coef[j].max()) * 0.2, 1e-6)
        tokens = [(m.group(0).lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
        best: dict[str, tuple[float, int, int]] = {}
        grams = [(t, s, e) for t, s, e in tokens]
        grams += [(f"{a[0]} {b[0]}", a[1], b[2]) for a, b in itertools.pairwise(tokens)]
        for term, start, end in grams:
            col = self._vocab.get(term)
            if col is None:
                continue
            weight = float(self._coef[j, col])
            if weight >= floor and (term not in best or best[term][0] < weight):
                best[term] = (weight, start, end)
        top = sorted(best.items(), key=lambda kv: -kv[1][0])[:k]
        return tuple(
            Evidence(start=s, end=e, text=text[s:e], cue=f"learned n-gram '{term}'")
            for term, (_, s, e) in sorted(top, key=lambda kv: kv[1][1])
        )
