"""The shipped ONNX student: contract, calibrated scores, input checks, pickling."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from classifiers.base import Classification, Classifier, InvalidTextError
from classifiers.labels import CONDITIONS, RISK_LEVELS, SEVERITY_LEVELS
from classifiers.transformer import ArtifactNotFoundError, TransformerClassifier

SHIPPED = Path(__file__).resolve().parents[2] / "classifiers" / "artifacts" / "minilm-mh"

EATING = (
    "I ate 400 calories today and I still feel disgusting. I purged after dinner again and "
    "weighed myself three times. I just want to be thin enough that I stop hating my body."
)
FINANCE = (
    "Should I put my savings into a stocks and shares ISA or pay off the mortgage early? "
    "The fixed rate ends next year and the bank offered a remortgage at 4.1 percent."
)
SUICIDAL = (
    "I can't do this anymore. I wrote a note last night and I keep thinking everyone would be "
    "better off if I was dead. I don't want to wake up tomorrow."
)
DRINKING = (
    "Day 3 without a drink. The shakes are bad and I keep thinking about the bottle in the "
    "cupboard. I relapsed last month after 60 days sober and my AA sponsor is worried."
)


@pytest.fixture(scope="module")
def student() -> TransformerClassifier:
    if not (SHIPPED / "config.json").is_file() or not (SHIPPED / "model.onnx").is_file():
        pytest.skip(f"no shipped student artifact at {SHIPPED} yet (run `mindsignal train`)")
    clf = TransformerClassifier(SHIPPED, threads=2)
    clf.warm_up()
    return clf


def test_student_satisfies_the_classifier_protocol(student: TransformerClassifier) -> None:
    assert isinstance(student, Classifier)
    assert student.version.startswith("minilm-mh-")


def test_clear_posts_get_the_expected_signals(student: TransformerClassifier) -> None:
    eating, finance, suicidal, drinking = student.predict([EATING, FINANCE, SUICIDAL, DRINKING])
    assert "eating_disorder" in eating.label_names()
    assert "substance_use" in drinking.label_names()
    assert not finance.relevant and finance.labels == ()
    assert finance.risk.level == "none"
    assert suicidal.risk.crisis and suicidal.relevant
    assert suicidal.severity.score > finance.severity.score


def test_results_follow_the_output_contract(student: TransformerClassifier) -> None:
    results = student.predict([EATING, SUICIDAL])
    for r in results:
        assert isinstance(r, Classification)
        row = r.to_dict(id=7)
        assert row["id"] == 7 and row["model_version"] == student.version
        assert row["severity"]["level"] in SEVERITY_LEVELS
        assert row["risk"]["level"] in RISK_LEVELS
        assert row["risk"]["crisis"] == (RISK_LEVELS.index(row["risk"]["level"]) >= 2)
        for label in row["labels"]:
            assert label["label"] in CONDITIONS and 0 <= label["score"] <= 1
            assert label["sources"] == ["model"] and label["evidence"] == []
        scores = [label["score"] for label in row["labels"]]
        assert scores == sorted(scores, reverse=True)


def test_probabilities_are_well_formed(student: TransformerClassifier) -> None:
    s = student.predict_proba([EATING, FINANCE, SUICIDAL])
    assert s.conditions.shape == (3, len(CONDITIONS))
    assert s.risk.shape == (3, len(RISK_LEVELS))
    np.testing.assert_allclose(s.risk.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(s.severity_probs.sum(axis=1), 1.0, atol=1e-6)
    assert (s.severity_probs >= 0).all()
    assert ((s.conditions >= 0) & (s.conditions <= 1)).all()
    np.testing.assert_allclose(s.crisis, s.risk[:, 2:].sum(axis=1))


def test_batching_by_length_keeps_input_order(student: TransformerClassifier) -> None:
    texts = [EATING * 3, "ok", FINANCE, SUICIDAL + " " + EATING, DRINKING]
    together = student.predict_proba(texts).conditions
    alone = np.vstack([student.predict_proba([t]).conditions for t in texts])
    # Dynamic int8 quantizes activations per batch, so scores move slightly with the batch
    # company; each row must still be its own text's result, not a neighbour's.
    np.testing.assert_allclose(together, alone, atol=0.06)
    distances = np.abs(together[:, None, :] - alone[None, :, :]).sum(-1)
    assert (distances.argmin(axis=1) == np.arange(len(texts))).all()


def test_bad_texts_get_clear_errors(student: TransformerClassifier) -> None:
    with pytest.raises(InvalidTextError, match="empty"):
        student.predict(["   "])
    with pytest.raises(InvalidTextError, match="NUL"):
        student.predict(["abc\x00def"])
    with pytest.raises(InvalidTextError, match="UTF-8"):
        student.predict([b"\xff\xfe\x00bad"])  # type: ignore[list-item]
    small = TransformerClassifier(SHIPPED, max_chars=100)
    with pytest.raises(InvalidTextError, match="limit is 100"):
        small.predict(["x" * 101])
    assert student.predict([]) == []


def test_pickled_classifier_reloads_lazily_and_agrees(student: TransformerClassifier) -> None:
    blob = pickle.dumps(student)
    assert len(blob) < 100_000  # the ONNX session is not shipped to workers
    clone = pickle.loads(blob)
    assert clone._session is None
    np.testing.assert_allclose(
        clone.predict_proba([SUICIDAL]).risk, student.predict_proba([SUICIDAL]).risk, atol=1e-6
    )


def test_missing_artifact_says_how_to_build_it(tmp_path: Path) -> None:
    clf = TransformerClassifier(tmp_path / "nowhere")
    with pytest.raises(ArtifactNotFoundError, match="mindsignal train"):
        clf.predict(["hello"])
