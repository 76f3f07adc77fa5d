"""Evidence for the model's own calls: the sentences a model-only label or crisis rests on."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from classifiers.attribution import RISK, units

ARTIFACT = Path(__file__).resolve().parents[2] / "classifiers" / "artifacts" / "minilm-mh"

# Found by a QA pass: the student calls a crisis on these with no rule span behind it.
LETTERS = (
    "I gave my cat to my sister and wrote everyone letters. Tomorrow it will finally be quiet."
)


def test_units_are_trimmed_sentences_bounded_in_number_and_window() -> None:
    text = "  First one here.   Second one!  Third?  "
    spans = units(text)
    assert [text[a:b] for a, b in spans] == ["First one here.", "Second one!", "Third?"]
    many = " ".join(f"Sentence number {i}." for i in range(25))
    merged = units(many, max_units=10)
    assert len(merged) == 10
    # The runs cover the text in order, without gaps between sentences or overlaps.
    assert merged[0][0] == 0 and merged[-1][1] == len(many)
    assert all(a[1] < b[0] for a, b in pairwise(merged))
    # Only the sentences that start inside the reading window (the first is always kept).
    window = units(many, max_units=30, max_words=9)
    assert [many[a:b] for a, b in window] == [f"Sentence number {i}." for i in range(3)]
    assert units("one long sentence without an end", max_words=2) == [(0, 32)]


@pytest.fixture(scope="module")
def hybrid() -> Any:
    if not (ARTIFACT / "config.json").is_file():
        pytest.skip(f"student artifact not built at {ARTIFACT} (run `mindsignal train`)")
    from classifiers.factory import load_classifier

    return load_classifier(ARTIFACT, mode="hybrid")


@pytest.mark.slow
def test_model_only_calls_get_the_sentences_they_rest_on(hybrid: Any) -> None:
    texts = [
        LETTERS,
        "I just want to sleep and never wake up",
        "Work has been rough lately. My manager keeps piling things on. I gave away my guitar "
        "and my books last week. I wrote letters to my parents and my best friend.",
        "The budget meeting moved to Thursday. Please send the slides by noon.",
    ]
    explained = hybrid.predict(texts)
    hybrid.explain = False
    try:
        plain = hybrid.predict(texts)
    finally:
        hybrid.explain = True
    for text, with_ev, without_ev in zip(texts, explained, plain, strict=True):
        # Evidence changes no decision.
        assert with_ev.risk.level == without_ev.risk.level
        assert with_ev.label_names() == without_ev.label_names()
        assert with_ev.severity == without_ev.severity
        for ev in with_ev.risk.evidence + tuple(e for lab in with_ev.labels for e in lab.evidence):
            assert text[ev.start : ev.end] == ev.text
    letters = explained[0].risk
    assert letters.crisis and letters.sources == ("model",)
    assert plain[0].risk.evidence == ()
    assert letters.evidence and all(e.cue.startswith("model: P(crisis)") for e in letters.evidence)
    # A one-sentence text is its own evidence for a model-only label.
    sleep = {lab.label: lab for lab in explained[1].labels}["depression"]
    assert sleep.sources == ("model",)
    assert [e.text for e in sleep.evidence] == [texts[1]]
    # Every call of the model has something to show; rule spans are left as they were.
    for res in explained:
        assert all(lab.evidence for lab in res.labels)
        assert not res.risk.crisis or res.risk.evidence
    # Off-topic text: nothing to explain, nothing added.
    assert explained[3].labels == () and explained[3].risk.evidence == ()


@pytest.mark.slow
def test_evidence_is_the_same_alone_and_in_a_batch(hybrid: Any) -> None:
    texts = [LETTERS, "Just a normal day at the office.", "I just want to sleep and never wake up"]
    together = hybrid.predict(texts)
    for text, batched in zip(texts, together, strict=True):
        alone = hybrid.predict([text])[0]
        # Same calls and spans; scores may differ in the last bits (BLAS sums in another order).
        assert alone.risk.level == batched.risk.level
        assert alone.risk.evidence == batched.risk.evidence
        assert [(lab.label, lab.evidence) for lab in alone.labels] == [
            (lab.label, lab.evidence) for lab in batched.labels
        ]
        assert alone.risk.score == pytest.approx(batched.risk.score, abs=1e-6)


@pytest.mark.slow
def test_model_scores_read_as_the_fusion_reads(hybrid: Any) -> None:
    scores = hybrid.model_scores([LETTERS])[0]
    result = hybrid.predict([LETTERS])[0]
    assert scores[RISK] == pytest.approx(result.risk.score)
    assert set(scores) >= {"depression", "anxiety", RISK}
    assert hybrid.model_scores([]) == []


@pytest.mark.slow
def test_the_risk_head_read_per_token_adds_up_to_the_models_score(hybrid: Any) -> None:
    texts = [LETTERS, "I want to die. The weather is nice today.", "lol same " * 80]
    scores = hybrid.model.predict_proba(texts)
    assert scores.token_risk is not None
    for text, tokens, p in zip(texts, scores.token_risk, scores.crisis, strict=True):
        assert tokens.text == text
        # The head is affine on the mean-pooled states: the per-token reading averages back to
        # the model's own P(crisis) (up to the int8 rounding of the pooled vector).
        assert tokens.crisis() == pytest.approx(float(p), abs=0.01)
    die, weather = units(texts[1])
    assert scores.token_risk[1].crisis(*die) > scores.token_risk[1].crisis(*weather)
    # Beyond the student's window nothing was read.
    assert scores.token_risk[2].crisis(len(texts[2]) - 8, len(texts[2])) is None


@pytest.mark.slow
def test_the_export_adds_the_per_token_risk_and_changes_no_output(tmp_path: Path) -> None:
    import numpy as np
    import onnx

    from classifiers.training.export import TOKEN_RISK_OUTPUT, add_token_risk_output
    from classifiers.transformer import TransformerClassifier

    if not (ARTIFACT / "model.onnx").is_file():
        pytest.skip(f"student artifact not built at {ARTIFACT} (run `mindsignal train`)")
    # An artifact as exported before the output existed: the shipped graph without it.
    model = onnx.load(str(ARTIFACT / "model.onnx"))
    graph = model.graph
    kept_nodes = [n for n in graph.node if not any(o.startswith("token_risk") for o in n.output)]
    del graph.node[:]
    graph.node.extend(kept_nodes)
    outputs = [o for o in graph.output if o.name != TOKEN_RISK_OUTPUT]
    del graph.output[:]
    graph.output.extend(outputs)
    kept = [t for t in graph.initializer if not t.name.startswith("token_risk.")]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    for name in ("config.json", "tokenizer.json"):
        (tmp_path / name).write_bytes((ARTIFACT / name).read_bytes())
    onnx.save(model, str(tmp_path / "model.onnx"))
    texts = [LETTERS, "I have been anxious all week and cannot sleep."]
    before = TransformerClassifier(tmp_path).predict_proba(texts)
    assert before.token_risk is None
    assert add_token_risk_output(tmp_path / "model.onnx")
    assert add_token_risk_output(tmp_path / "model.onnx")  # idempotent
    after = TransformerClassifier(tmp_path).predict_proba(texts)
    assert np.array_equal(before.conditions, after.conditions)
    assert np.array_equal(before.risk, after.risk)
    assert after.token_risk is not None and len(after.token_risk) == 2


@pytest.mark.slow
def test_a_filler_sentence_is_not_the_evidence_and_spans_index_the_nfc_text(hybrid: Any) -> None:
    import unicodedata

    # Found by QA: "Ok so." read 0.92 in context beside the crisis and was the only evidence.
    filler = hybrid.predict([LETTERS + " Ok so."])[0].risk
    assert filler.crisis and filler.evidence
    assert "Ok so." not in {e.text for e in filler.evidence}
    assert "this sentence alone" in filler.evidence[0].cue
    # Decomposed accents: every span indexes the NFC text, as the rules' spans do.
    raw = (
        "Cafe\u0301 again. Please talk to somebody. Depression is really hard. But your life "
        "really can get better."
    )
    nfc = unicodedata.normalize("NFC", raw)
    result = hybrid.predict([raw])[0]
    spans = list(result.risk.evidence) + [e for lab in result.labels for e in lab.evidence]
    assert spans and all(nfc[e.start : e.end] == e.text for e in spans)
    # UTF-8 bytes are accepted as text, with evidence too.
    (as_bytes,) = hybrid.predict([LETTERS.encode("utf-8")])
    assert as_bytes.risk.evidence == hybrid.predict([LETTERS])[0].risk.evidence
