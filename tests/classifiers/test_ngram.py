"""The learned n-gram lexicon: fit, save, load, score, explain; and its place in the hybrid."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from classifiers.hybrid import FusionConfig, HybridClassifier
from classifiers.labels import CONDITIONS
from classifiers.ngram import NgramModel, NgramModelError, fit_ngram_model
from tests.classifiers.test_hybrid import CONFIG, FakeStudent

DEP, ADHD = CONDITIONS.index("depression"), CONDITIONS.index("adhd")
FILLER = ["today", "work", "weekend", "friends", "city", "weather", "news", "train"]


def _corpus() -> tuple[list[str], np.ndarray, np.ndarray]:
    texts, rows = [], []
    for i in range(30):
        f = FILLER[i % len(FILLER)]
        texts.append(f"I feel empty and hopeless, nothing matters {f}")
        rows.append(DEP)
        texts.append(f"I cannot focus, always distracted and losing my keys {f}")
        rows.append(ADHD)
        texts.append(f"The mortgage rate and the budget for the {f}")
        rows.append(-1)
    y = np.zeros((len(texts), len(CONDITIONS)), dtype=int)
    for i, j in enumerate(rows):
        if j >= 0:
            y[i, j] = 1
    return texts, y, np.ones_like(y, dtype=bool)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts, y, known = _corpus()
    path = tmp_path_factory.mktemp("ngram") / "ngram.npz"
    report = fit_ngram_model(texts, y, known, path, max_features=500)
    assert set(report.labels) == {"depression", "adhd"}  # labels without positives stay unfit
    return path


def test_scores_follow_the_learned_words(model_path: Path) -> None:
    model = NgramModel(model_path)
    p = model.predict_proba(
        ["so hopeless and empty lately", "distracted again, lost my keys", "the budget rate"]
    )
    assert p.shape == (3, len(CONDITIONS))
    assert p[0, DEP] > 0.5 > p[0, ADHD]
    assert p[1, ADHD] > 0.5 > p[1, DEP]
    assert p[2, DEP] < 0.5 and p[2, ADHD] < 0.5
    assert p[:, CONDITIONS.index("ocd")].max() < 0.01  # never fit: never fires


def test_evidence_points_at_the_ngrams_in_the_text(model_path: Path) -> None:
    model = NgramModel(model_path)
    text = "Honestly I feel Hopeless. Nothing matters."
    evidence = model.evidence(text, "depression")
    assert evidence
    for ev in evidence:
        assert text[ev.start : ev.end] == ev.text
        assert ev.cue.startswith("learned n-gram")
    assert any("hopeless" in ev.text.lower() for ev in evidence)
    assert model.evidence("the budget for the city", "depression") == ()


def test_pickles_by_path_for_worker_processes(model_path: Path) -> None:
    model = NgramModel(model_path)
    model.warm_up()
    clone = pickle.loads(pickle.dumps(model))
    texts = ["empty and hopeless", "distracted"]
    assert np.allclose(clone.predict_proba(texts), model.predict_proba(texts))


def test_a_tiny_corpus_without_shared_ngrams_still_fits(tmp_path: Path) -> None:
    """`mindsignal train` on a handful of posts: no n-gram is in two of them."""
    texts = ["I feel empty and hopeless", "cannot focus, losing keys"]
    y = np.zeros((2, len(CONDITIONS)), dtype=int)
    y[0, DEP], y[1, ADHD] = 1, 1
    report = fit_ngram_model(texts, y, np.ones_like(y, dtype=bool), tmp_path / "ngram.npz")
    assert report.vocabulary > 0 and set(report.labels) == {"depression", "adhd"}
    scores = NgramModel(tmp_path / "ngram.npz").predict_proba(["hopeless again", "my keys"])
    assert scores[0][DEP] > scores[0][ADHD] and scores[1][ADHD] > scores[1][DEP]


def test_corrupt_or_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "ngram.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(NgramModelError, match="unreadable"):
        NgramModel(bad).warm_up()
    with pytest.raises(NgramModelError, match="unreadable"):
        NgramModel(tmp_path / "absent.npz").predict_proba(["x"])


def test_hybrid_blends_the_lexicon_and_shows_its_ngrams(model_path: Path) -> None:
    config = dict(CONFIG)
    config["ensemble"] = {
        "ngram_weight": 0.5,
        "thresholds": dict.fromkeys(CONDITIONS, 0.5),
        "ngram_thresholds": dict.fromkeys(CONDITIONS, 0.5),
    }

    class Student(FakeStudent):
        pass

    Student.config = config
    from classifiers.rules.lexicon import LexiconClassifier

    hybrid = HybridClassifier(
        rules=LexiconClassifier(),
        model=Student(conditions={"depression": 0.45}),
        fusion=FusionConfig(),
        ngram=NgramModel(model_path),
    )
    text = "Work was fine but I feel empty and hopeless, nothing matters."
    (result,) = hybrid.predict([text])
    dep = next(lab for lab in result.labels if lab.label == "depression")
    # the student alone (0.45) is below its threshold; the blend with the lexicon is above it
    assert set(dep.sources) <= {"model", "rules"} and "model" in dep.sources
    assert dep.evidence and all(text[e.start : e.end] == e.text for e in dep.evidence)
    without = HybridClassifier(
        rules=LexiconClassifier(), model=Student(conditions={"depression": 0.45})
    )
    (plain,) = without.predict([text])
    assert "depression" not in plain.label_names() or all(
        not e.cue.startswith("learned n-gram") for lab in plain.labels for e in lab.evidence
    )
