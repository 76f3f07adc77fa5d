"""The stacked multiclass members: fit, save, load, score as sklearn does; and their blend.

The n-gram lexicon and the stacker are real (fitted here on a small corpus with source labels);
the student is the deterministic fake of ``test_hybrid``, given pooled embeddings that follow the
words of the text, or the tiny real ONNX graph of ``test_transformer``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from classifiers.hybrid import FusionConfig, HybridClassifier, model_views
from classifiers.labels import CONDITIONS
from classifiers.ngram import NgramModel, fit_ngram_model
from classifiers.stacking import (
    POOLED_C,
    TFIDF_C,
    MulticlassStacker,
    StackerError,
    fit_stacker,
    l2_normalise,
    label_weights,
    weights_from_config,
    weights_to_config,
)
from classifiers.transformer import ModelScores
from tests.classifiers.test_hybrid import CONFIG, FakeStudent
from tests.classifiers.test_transformer import write_tiny_artifact

DEP, ADHD = CONDITIONS.index("depression"), CONDITIONS.index("adhd")
FILLER = ["today", "work", "weekend", "friends", "city", "weather", "news", "train"]
TEMPLATES = {
    "depression": "I feel empty and hopeless, nothing matters {}",
    "adhd": "I cannot focus, always distracted and losing my keys {}",
    "personalfinance": "The mortgage rate and the budget for the {}",
    "suicidewatch": "I wrote a note and said goodbye, it all ends {}",
}
CLASS_CONDITIONS = {"depression": ("depression",), "adhd": ("adhd",)}
KEYWORDS = ("hopeless", "distracted", "budget", "goodbye")
HOPELESS = "Lately I feel so hopeless and empty, nothing matters at all."


def embed(text: str, width: int = 8) -> np.ndarray:
    """A fake pooled embedding: a direction per keyword group plus hash-seeded noise."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    v = np.random.default_rng(seed).normal(scale=0.3, size=width)
    for k, word in enumerate(KEYWORDS):
        v[k] += 2.0 * (word in text.lower())
    return v


@dataclasses.dataclass(frozen=True)
class Fitted:
    texts: list[str]
    sources: list[str]
    ngram: NgramModel
    stacker: MulticlassStacker
    path: Path


def _fit(tmp: Path, sources_of: dict[str, str]) -> Fitted:
    texts, sources = [], []
    for i in range(24):
        for source, template in sources_of.items():
            texts.append(template.format(FILLER[i % len(FILLER)]))
            sources.append(source)
    y = np.zeros((len(texts), len(CONDITIONS)), dtype=int)
    for i, s in enumerate(sources):
        for c in CLASS_CONDITIONS.get(s, ()):
            y[i, CONDITIONS.index(c)] = 1
    fit_ngram_model(texts, y, np.ones_like(y, dtype=bool), tmp / "ngram.npz", max_features=300)
    ngram = NgramModel(tmp / "ngram.npz")
    pooled = np.vstack([embed(t) for t in texts])
    fit_stacker(
        pooled,
        ngram.features(texts),
        sources,
        CLASS_CONDITIONS,
        ngram.vocabulary_sha256,
        tmp / "stack.npz",
    )
    return Fitted(texts, sources, ngram, MulticlassStacker(tmp / "stack.npz"), tmp / "stack.npz")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Fitted:
    return _fit(tmp_path_factory.mktemp("stack"), TEMPLATES)


def test_stacker_arrays_round_trip_without_pickles(fitted: Fitted) -> None:
    with np.load(fitted.path, allow_pickle=False) as data:  # plain arrays only
        assert all(data[k].dtype != object for k in data.files)
        matrix = data["class_conditions"]
    assert fitted.stacker.classes == ("adhd", "depression", "personalfinance", "suicidewatch")
    expected = np.zeros((4, len(CONDITIONS)))
    expected[0, ADHD] = expected[1, DEP] = 1.0  # control and suicidewatch: no condition
    np.testing.assert_array_equal(matrix, expected)
    assert fitted.stacker.covered.tolist() == [c in ("depression", "adhd") for c in CONDITIONS]
    assert fitted.stacker.vocabulary_sha256 == fitted.ngram.vocabulary_sha256
    reloaded = MulticlassStacker(fitted.path)
    x = fitted.ngram.features(fitted.texts[:5])
    np.testing.assert_array_equal(reloaded.predict_tfidf(x), fitted.stacker.predict_tfidf(x))


def test_numpy_inference_equals_sklearn_predict_proba(fitted: Fitted) -> None:
    from sklearn.linear_model import LogisticRegression

    y = np.array([fitted.stacker.classes.index(s) for s in fitted.sources])
    pooled = np.vstack([embed(t) for t in fitted.texts])
    x = fitted.ngram.features(fitted.texts)
    for ours, features, c in (
        (fitted.stacker.pooled_class_proba(pooled), l2_normalise(pooled), POOLED_C),
        (fitted.stacker.tfidf_class_proba(x), x, TFIDF_C),
    ):
        theirs = LogisticRegression(C=c, max_iter=3000).fit(features, y).predict_proba(features)
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    # condition probabilities: the class probabilities summed through the class->condition map
    p = fitted.stacker.predict_pooled(pooled[:3])
    cls = fitted.stacker.pooled_class_proba(pooled[:3])
    np.testing.assert_allclose(p[:, DEP], cls[:, 1])
    assert p[:, CONDITIONS.index("ocd")].max() == 0.0


def test_pooled_source_proba_is_one_class_column(fitted: Fitted) -> None:
    pooled = np.vstack([embed(t) for t in fitted.texts[:4]])
    cls = fitted.stacker.pooled_class_proba(pooled)
    sw = fitted.stacker.pooled_source_proba(pooled, "SuicideWatch")  # case-insensitive
    assert sw is not None
    np.testing.assert_allclose(sw, cls[:, fitted.stacker.classes.index("suicidewatch")])
    assert fitted.stacker.pooled_source_proba(pooled, "no-such-subreddit") is None


def test_two_source_labels_match_sklearns_binary_model(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    two = {k: TEMPLATES[k] for k in ("depression", "personalfinance")}
    fitted = _fit(tmp_path, two)
    pooled = np.vstack([embed(t) for t in fitted.texts])
    y = np.array([fitted.stacker.classes.index(s) for s in fitted.sources])
    features = l2_normalise(pooled)
    theirs = LogisticRegression(C=POOLED_C, max_iter=3000).fit(features, y).predict_proba(features)
    np.testing.assert_allclose(fitted.stacker.pooled_class_proba(pooled), theirs, atol=1e-5)


def test_inference_does_not_import_sklearn(fitted: Fitted) -> None:
    code = (
        "import sys, numpy as np\n"
        "from classifiers.stacking import MulticlassStacker\n"
        f"s = MulticlassStacker({str(fitted.path)!r})\n"
        "p = s.predict_pooled(np.ones((2, 8)))\n"
        "assert p.shape == (2, 11)\n"
        "print('sklearn' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert out.stdout.strip() == "False"


def test_corrupt_or_mismatched_stacker_is_a_clear_error(tmp_path: Path, fitted: Fitted) -> None:
    bad = tmp_path / "stack.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(StackerError, match="unreadable"):
        MulticlassStacker(bad).warm_up()
    with pytest.raises(StackerError, match="different fits"):
        fitted.stacker.predict_tfidf(np.zeros((1, 7)))
    with pytest.raises(StackerError, match="two or more"):
        fit_stacker(np.ones((3, 2)), np.ones((3, 2)), ["a"] * 3, {}, "x", tmp_path / "s.npz")


def test_unfitted_members_give_their_share_to_the_others() -> None:
    covered = {
        "ngram": np.array([c != "ocd" for c in CONDITIONS]),
        "pooled_mc": np.array([c not in ("ocd", "bpd") for c in CONDITIONS]),
    }
    weights = {"student": 0.5, "ngram": 0.25, "pooled_mc": 0.25}
    per_label = label_weights(weights, covered)
    ocd, bpd = CONDITIONS.index("ocd"), CONDITIONS.index("bpd")
    assert per_label["student"][ocd] == 1.0 and per_label["ngram"][ocd] == 0.0
    np.testing.assert_allclose(per_label["student"][bpd], 0.5 / 0.75)
    np.testing.assert_allclose(per_label["student"][DEP], 0.5)
    total = sum(per_label.values())
    np.testing.assert_allclose(total, 1.0)
    # The config form (weights + the labels that differ) gives back the same numbers.
    block = weights_to_config(weights, per_label)
    assert set(block["label_weights"]) == {"ocd", "bpd"}
    back = weights_from_config(block)
    for m, w in per_label.items():
        np.testing.assert_allclose(back[m], w, atol=1e-4)


# ---- in the hybrid --------------------------------------------------------------------------
def _scores(n: int, pooled: np.ndarray | None) -> ModelScores:
    scores = FakeStudent(conditions={"depression": 0.2}).predict_proba(["x"] * n)
    return dataclasses.replace(scores, pooled=pooled)


def _ensemble(stacked: bool) -> dict[str, Any]:
    block: dict[str, Any] = {
        "ngram_weight": 0.5,
        "thresholds": dict.fromkeys(CONDITIONS, 0.6),
        "ngram_thresholds": dict.fromkeys(CONDITIONS, 0.5),
    }
    if stacked:
        block["stacked"] = {
            "file": "stack.npz",
            "weights": {"student": 0.5, "ngram": 0.0, "pooled_mc": 0.25, "tfidf_mc": 0.25},
            "thresholds": dict.fromkeys(CONDITIONS, 0.37),
        }
    return {**CONFIG, "ensemble": block}


def test_config_with_only_ngram_weight_keeps_the_two_part_blend() -> None:
    ngram = np.full((1, len(CONDITIONS)), 0.8)
    (view,) = model_views(_scores(1, None), _ensemble(stacked=False), ngram)
    assert view.conditions["depression"] == pytest.approx(0.5 * 0.2 + 0.5 * 0.8)
    assert view.thresholds["depression"] == 0.6
    # the stacked members' probabilities are ignored without a stacked block
    extra = {"pooled_mc": np.ones((1, len(CONDITIONS))), "tfidf_mc": np.ones((1, 11))}
    (same,) = model_views(_scores(1, None), _ensemble(stacked=False), ngram, None, extra)
    assert same == view


def test_stacked_blend_applies_only_with_every_weighted_member() -> None:
    ngram = np.full((1, len(CONDITIONS)), 0.8)
    mc = {"pooled_mc": np.full((1, 11), 0.6), "tfidf_mc": np.full((1, 11), 1.0)}
    config = _ensemble(stacked=True)
    (view,) = model_views(_scores(1, None), config, ngram, None, mc)
    assert view.conditions["depression"] == pytest.approx(0.5 * 0.2 + 0.25 * 0.6 + 0.25 * 1.0)
    assert view.thresholds["depression"] == 0.37
    # pooled member missing (older graph): the two-part blend and its thresholds
    (fallback,) = model_views(_scores(1, None), config, ngram, None, {"tfidf_mc": mc["tfidf_mc"]})
    assert fallback.conditions["depression"] == pytest.approx(0.5)
    assert fallback.thresholds["depression"] == 0.6


class PooledStudent(FakeStudent):
    """The fake student, with pooled embeddings that follow the text (as the new graph gives)."""

    def predict_proba(self, texts: Sequence[str]) -> Any:
        scores = super().predict_proba(texts)
        return dataclasses.replace(scores, pooled=np.vstack([embed(t) for t in texts]))


def test_hybrid_uses_the_stacked_members_and_keeps_the_sources(fitted: Fitted) -> None:
    from classifiers.rules.lexicon import LexiconClassifier

    config = _ensemble(stacked=True)
    config["ensemble"]["stacked"]["weights"] = {"pooled_mc": 0.5, "tfidf_mc": 0.5}
    config["ensemble"]["ngram_weight"] = 0.0

    class Stacked(PooledStudent):
        pass

    class Old(FakeStudent):
        pass

    Stacked.config = Old.config = config
    rules = LexiconClassifier()
    parts = {"fusion": FusionConfig(), "ngram": fitted.ngram, "stacker": fitted.stacker}
    new = HybridClassifier(rules=rules, model=Stacked(), **parts)
    old = HybridClassifier(rules=rules, model=Old(), **parts)
    (r_new,) = new.predict([HOPELESS])
    (r_old,) = old.predict([HOPELESS])
    dep = next(lab for lab in r_new.labels if lab.label == "depression")
    # the student alone says 0.01; the stacked members carry the label, as part of the model
    assert "model" in dep.sources and set(dep.sources) <= {"model", "rules"}
    assert dep.evidence and all(HOPELESS[e.start : e.end] == e.text for e in dep.evidence)
    assert "adhd" not in r_new.label_names()
    # no pooled output: the two-part blend (student only here) decides, not the stacked one
    old_dep = next((lab for lab in r_old.labels if lab.label == "depression"), None)
    assert old_dep is None or "model" not in old_dep.sources
    for r in (r_new, r_old):
        assert {s for lab in r.labels for s in lab.sources} <= {"model", "rules"}


def test_factory_wires_the_stacker_and_old_graphs_fall_back(tmp_path: Path, fitted: Fitted) -> None:
    from classifiers.factory import ClassifierLoadError, load_classifier

    def artifact(name: str, pooled: bool) -> Path:
        config = _ensemble(stacked=True)
        out = write_tiny_artifact(tmp_path / name, pooled=pooled, config=config, width=8)
        for f in ("ngram.npz", "stack.npz"):
            (out / f).write_bytes((fitted.path.parent / f).read_bytes())
        return out

    new = load_classifier(artifact("new", pooled=True), mode="hybrid", threads=1)
    old = load_classifier(artifact("old", pooled=False), mode="hybrid", threads=1)
    assert isinstance(new, HybridClassifier) and isinstance(old, HybridClassifier)
    assert new.stacker is not None
    (_, v_new), (_, v_old) = new.views([HOPELESS]) + old.views([HOPELESS])
    assert v_new.thresholds["depression"] == 0.37  # the stacked blend
    assert v_old.thresholds["depression"] == 0.6  # the two-part blend: no pooled output
    # the crisis second opinion: the pooled member's P(r/SuicideWatch), none without the output
    assert v_new.crisis_support is not None and 0.0 <= v_new.crisis_support <= 1.0
    assert v_old.crisis_support is None
    # with a TF-IDF share x, the second opinion is P_pooled ** (1 - x) * P_tfidf ** x, where
    # P_tfidf is the TF-IDF member's P(r/SuicideWatch) of the same text
    assert new.stacker is not None and new.ngram is not None
    classes = new.stacker.tfidf_class_proba(new.ngram.features([HOPELESS]))
    p_tfidf = new.stacker.source_column(classes, "suicidewatch")
    assert p_tfidf is not None
    new.fusion = new.fusion.with_overrides(crisis_support_tfidf_weight=0.75)
    ((_, v_mixed),) = new.views([HOPELESS])
    assert v_mixed.crisis_support == pytest.approx(
        v_new.crisis_support**0.25 * float(p_tfidf[0]) ** 0.75
    )
    # older settings (no TF-IDF share) keep their digest
    assert "crisis_support_tfidf_weight" not in FusionConfig().to_dict()
    assert "crisis_support_tfidf_weight" in new.fusion.to_dict()
    # the mix changes no condition score (the TF-IDF source column is not a blend member)
    assert v_mixed.conditions == pytest.approx(v_new.conditions)
    assert len(old.predict([HOPELESS, "What ISA should I open?"])) == 2
    # a stack.npz from another n-gram fit is refused at load time, naming the fix
    other = _fit(tmp_path / "other", {k: TEMPLATES[k] for k in ("adhd", "personalfinance")})
    broken = artifact("broken", pooled=True)
    (broken / "stack.npz").write_bytes(other.path.read_bytes())
    with pytest.raises(ClassifierLoadError, match="mindsignal train"):
        load_classifier(broken, mode="hybrid", threads=1)
    assert json.loads((broken / "config.json").read_text())["ensemble"]["stacked"]
