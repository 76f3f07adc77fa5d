"""The shipped ONNX student: contract, calibrated scores, input checks, pickling."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

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
    # each row is its own text's result, not a neighbour's
    distances = np.abs(together[:, None, :] - alone[None, :, :]).sum(-1)
    assert (distances.argmin(axis=1) == np.arange(len(texts))).all()


def test_a_text_scores_the_same_alone_and_in_any_batch(student: TransformerClassifier) -> None:
    """Fixed activation scales: a CSV run and a single pasted text give the same call."""
    texts = ["I am anxious", EATING, FINANCE, SUICIDAL, DRINKING, "ok", "lol same " * 60]
    together = student.predict_proba(texts)
    for i, text in enumerate(texts):
        alone = student.predict_proba([text])
        assert np.array_equal(alone.conditions[0], together.conditions[i])
        assert np.array_equal(alone.risk[0], together.risk[i])
        assert alone.relevance[0] == together.relevance[i]
    reordered = student.predict_proba(texts[::-1])
    assert np.array_equal(reordered.conditions[::-1], together.conditions)


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


# ---- graphs with and without the pooled embedding -------------------------------------------
def write_tiny_artifact(
    out: Path, pooled: bool, config: dict[str, Any] | None = None, width: int = 4
) -> Path:
    """A real (tiny) ONNX student: every output is a linear function of the token count.

    With ``pooled`` the graph also exports ``pooled`` (``width`` wide, the token count times
    ``1, 2, ...``), as artifacts from 2026-11-26 do; without it, it looks like older artifacts.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    tokenizer = SHIPPED / "tokenizer.json"
    if not tokenizer.is_file():
        pytest.skip(f"no tokenizer at {tokenizer}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokenizer.json").write_bytes(tokenizer.read_bytes())
    widths = {
        "condition_logits": len(CONDITIONS),
        "relevance_logit": 1,
        "severity_logits": 3,
        "risk_logits": len(RISK_LEVELS),
    }
    if pooled:
        widths["pooled"] = width
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["mask_f", "axes"], ["length"], keepdims=1),
    ]
    inits = [numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")]
    for name, w in widths.items():
        scale = np.arange(1, w + 1, dtype=np.float32)[None, :] * (1.0 if name == "pooled" else 0.1)
        inits.append(numpy_helper.from_array(scale - (0 if name == "pooled" else 2.0), f"{name}_w"))
        nodes.append(helper.make_node("MatMul", ["length", f"{name}_w"], [name]))
    graph = helper.make_graph(
        nodes,
        "tiny-student",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info(
                "attention_mask", TensorProto.INT64, ["batch", "sequence"]
            ),
        ],
        [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", w])
            for n, w in widths.items()
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(out / "model.onnx"))
    cfg = {
        "version": "minilm-mh-tiny",
        "max_length": 32,
        "thresholds": dict.fromkeys(CONDITIONS, 0.5),
        "relevance_threshold": 0.5,
        "crisis_threshold": 0.5,
        "severity_cut_points": [0.25, 0.5, 0.75],
        **(config or {}),
    }
    (out / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    return out


def test_artifact_without_pooled_output_still_loads_and_predicts(tmp_path: Path) -> None:
    clf = TransformerClassifier(write_tiny_artifact(tmp_path / "old", pooled=False), threads=1)
    assert not clf.has_pooled
    scores = clf.predict_proba([EATING, FINANCE])
    assert scores.pooled is None and scores.conditions.shape == (2, len(CONDITIONS))
    results = clf.predict([EATING, FINANCE])
    assert [r.model_version for r in results] == ["minilm-mh-tiny"] * 2


def test_pooled_output_comes_back_per_text_in_input_order(tmp_path: Path) -> None:
    clf = TransformerClassifier(write_tiny_artifact(tmp_path / "new", pooled=True), threads=1)
    assert clf.has_pooled
    texts = [EATING, "ok", FINANCE, "a bit longer than ok"]
    scores = clf.predict_proba(texts)
    assert scores.pooled is not None and scores.pooled.shape == (len(texts), 4)
    lengths = [len(e.ids) for e in clf._tokenizer.encode_batch(texts)]
    np.testing.assert_allclose(scores.pooled[:, 0], lengths)
    np.testing.assert_allclose(scores.pooled[:, 3], 4 * np.array(lengths))
    # The heads are unchanged by the extra output.
    old = TransformerClassifier(write_tiny_artifact(tmp_path / "old", pooled=False), threads=1)
    np.testing.assert_allclose(old.predict_proba(texts).conditions, scores.conditions)


def test_length_batches_cut_where_padding_would_waste_time() -> None:
    from classifiers.transformer import length_batches

    # Sorted lengths: similar ones share a batch, a much longer one starts a new batch, and no
    # batch exceeds the batch size; together they cover every text once, in order.
    lengths = [5, 5, 6, 6, 30, 31, 32, 96, 96, 96]
    batches = length_batches(lengths, batch_size=2)
    assert [list(b) for b in batches] == [[0, 1], [2, 3], [4, 5], [6], [7, 8], [9]]
    wide = length_batches(lengths, batch_size=32)
    assert [list(b) for b in wide] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert [i for b in wide for i in b] == list(range(len(lengths)))
    assert length_batches([], batch_size=4) == []
