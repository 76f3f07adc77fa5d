"""Evidence for the model's own calls: which sentences the decision rests on.

A label or a crisis call that the student decided alone often has no rule span behind it (on the
validation posts, 100 of 238 crisis calls and 39 of 610 labels), and a practitioner shown
"ideation, crisis" with nothing highlighted cannot check it. Such calls get the sentences the
model reads them in, with the numbers in the cue, and no decision changes:

* **A crisis call** starts from the risk head's reading of each sentence in context, at no
  extra cost: the student mean-pools its token states and the risk head is affine, so the
  artifact exports the head applied to each token (``classifiers.transformer.TokenRisk``), and
  a sentence's share of the push is its token count times how far its log-odds of a crisis sit
  above the whole text's. Attention lets context colour every token, so a filler sentence
  ("Ok so.", "Email me at [EMAIL].") can read high in context; the ``CONTEXT_CANDIDATES`` that
  push most are therefore scored alone as well (a few short pieces), and the best alone is the
  evidence ("model: P(crisis) 0.20 for this sentence alone, 0.64 in context, 0.51 for the whole
  text").
* **A label** blends the student with n-gram members that read the whole post, so each sentence
  is scored alone on the model side (one extra pass over the sentences; "model: P(adhd) 0.71
  for this sentence alone, 0.62 for the whole text"). So is a crisis call where the artifact has
  no per-token output.

Leaving each sentence out in turn (occlusion) is the more usual reading, but every variant is
a near-full-length text: 4.4 times the cost of scoring the sentences alone. On the 93
validation crisis calls without evidence, this reading picked occlusion's top sentence in 67%
and one of its top two in 86% (the in-context share alone: 56% / 77%; every sentence alone:
60% / 75%).

Bounds: at most ``max_units`` units per text (longer texts are cut into that many runs of
sentences); a crisis call only counts sentences inside the student's reading window. A text of
one sentence is its own evidence. Pure functions over the scores, so the evidence does not
depend on the batch a text came in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from classifiers.base import Classification, Evidence
from classifiers.rules.context import split_sentences

#: Units (sentences, or runs of them in a long text) scored per text at most.
MAX_UNITS = 10
#: The best sentence is evidence, and the next when its score alone is at least this share of
#: the best's (``MAX_SPANS`` at most); when even the best scores under ``WHOLE_SHARE`` of the
#: whole text, the whole text is the span (the call rests on no one sentence).
MIN_SHARE = 0.5
MAX_SPANS = 2
WHOLE_SHARE = 0.1
#: For a crisis call with the per-token reading, the units that push it most in context are
#: the candidates scored alone: cheap (a few short pieces), and a filler sentence ("Ok so.",
#: "Email me at [EMAIL].") that context makes read high in context reads low alone.
CONTEXT_CANDIDATES = 3
#: A sentence of fewer words is evidence only when no longer one was read: the student's score
#: on a few words is noise ("Ok so." alone 0.23, in context 0.92 beside a crisis), as it is for
#: a whole text that short (``FusionConfig.crisis_min_words``).
MIN_WORDS = 4

RISK = "risk"


@dataclass(frozen=True)
class Job:
    """One text whose model-only calls need evidence."""

    index: int
    #: Label names, and ``RISK`` for a crisis call.
    targets: tuple[str, ...]
    units: tuple[tuple[int, int], ...]


def units(
    text: str, max_units: int = MAX_UNITS, max_words: int | None = None
) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` (whitespace trimmed), merged into at most ``max_units`` runs.

    ``max_words``: keep only the sentences that start within the first ``max_words`` words (the
    student's reading window; the first sentence is always kept).
    """
    spans: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        if end - trail > start + lead:
            spans.append((start + lead, end - trail))
    if max_words is not None and spans:
        kept = [spans[0]]
        for span in spans[1:]:
            if len(text[: span[0]].split()) >= max_words:
                break
            kept.append(span)
        spans = kept
    if len(spans) <= max_units:
        return spans
    size, extra = divmod(len(spans), max_units)
    merged, pos = [], 0
    for k in range(max_units):
        step = size + (1 if k < extra else 0)
        merged.append((spans[pos][0], spans[pos + step - 1][1]))
        pos += step
    return merged


def jobs_for(
    texts: Sequence[str], results: Sequence[Classification], window_words: int | None
) -> list[Job]:
    """The texts with a model-only label or a crisis call that have no evidence."""
    jobs = []
    for i, (text, res) in enumerate(zip(texts, results, strict=True)):
        targets = [
            lab.label for lab in res.labels if lab.sources == ("model",) and not lab.evidence
        ]
        if res.risk.crisis and not res.risk.evidence:
            # A model crisis call beside lower-level rule cues (hopelessness, a burden) shows
            # those; one with nothing at all to show gets the model's sentences.
            targets.append(RISK)
        if not targets:
            continue
        # Labels read the whole text (the n-gram members); a crisis alone only the window.
        limit = window_words if targets == [RISK] else None
        jobs.append(Job(i, tuple(targets), tuple(units(text, max_words=limit))))
    return jobs


def explain(
    texts: Sequence[str],
    results: Sequence[Classification],
    score: Callable[[list[str]], list[dict[str, float]]],
    window_words: int | None = None,
    in_context: Sequence[Any] | None = None,
) -> list[Classification]:
    """``results`` with model evidence added to the model-only calls that lack it.

    Args:
        texts: The classified texts, as the classifier indexed them (NFC).
        results: Their classifications, in the same order.
        score: Scores texts on the model side: for each, a mapping of every label name and
            ``RISK`` (the risk head's P(risk >= ideation), the score the risk result shows) to
            its score.
        window_words: The student's reading window in words, an upper bound (``None``: the
            whole text).
        in_context: Per text, the risk head read token by token
            (``classifiers.transformer.TokenRisk``: ``text`` and ``read(start, end)``), or
            None; where given, only the ``CONTEXT_CANDIDATES`` sentences that push a crisis
            call most in context are scored alone.
    """
    out = list(results)
    jobs = jobs_for(texts, results, window_words)
    if not jobs:
        return out
    tokens = {
        job.index: tr
        for job in jobs
        if in_context is not None
        and (tr := in_context[job.index]) is not None
        and tr.text == texts[job.index]
    }
    # Which units of each text are scored alone: all of them for a label (or a crisis call
    # without the per-token reading), the in-context candidates for a crisis call.
    wanted: dict[int, list[int]] = {}
    pushes: dict[int, dict[int, tuple[float, float]]] = {}
    for job in jobs:
        if len(job.units) < 2:
            continue
        ks: set[int] = set()
        for target in job.targets:
            if target == RISK and job.index in tokens:
                pushes[job.index] = _pushes(job.units, tokens[job.index])
                read = _worded(text_units(texts[job.index], job.units), pushes[job.index])
                best = sorted(read, key=lambda k: -pushes[job.index][k][0])
                ks.update(best[:CONTEXT_CANDIDATES])
            else:
                ks.update(range(len(job.units)))
        wanted[job.index] = sorted(ks)
    pieces = [
        texts[job.index][job.units[k][0] : job.units[k][1]]
        for job in jobs
        for k in wanted.get(job.index, [])
    ]
    scored = iter(score(pieces) if pieces else [])
    for job in jobs:
        res, text = out[job.index], texts[job.index]
        alone = {k: next(scored) for k in wanted.get(job.index, [])}
        whole = {lab.label: lab.score for lab in res.labels}
        whole[RISK] = res.risk.score
        evidence = {}
        for target in job.targets:
            in_ctx = pushes.get(job.index) if target == RISK else None
            evidence[target] = _evidence(text, job.units, target, whole[target], alone, in_ctx)
        out[job.index] = _with_evidence(res, evidence)
    return out


def text_units(text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """The text of each unit."""
    return [text[a:b] for a, b in spans]


def _worded(pieces: Sequence[str], keys: Iterable[int]) -> list[int]:
    """The keys whose unit has at least ``MIN_WORDS`` words, or all of them when none has."""
    keys = list(keys)
    long = [k for k in keys if len(pieces[k].split()) >= MIN_WORDS]
    return long or keys


def _pushes(spans: Sequence[tuple[int, int]], tokens: Any) -> dict[int, tuple[float, float]]:
    """Per unit the risk head reads tokens in: ``(push, P(crisis) in context)``, the push being
    its token count times how far its log-odds of a crisis sit above the whole text's (its share
    of the pooled reading)."""
    whole = tokens.crisis()
    out: dict[int, tuple[float, float]] = {}
    if whole is None:
        return out
    for k, (a, b) in enumerate(spans):
        found = tokens.read(a, b)
        if found is not None:
            p, n = found
            out[k] = (n * (_log_odds(p) - _log_odds(whole)), p)
    return out


def _log_odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _evidence(
    text: str,
    spans: Sequence[tuple[int, int]],
    target: str,
    whole: float,
    alone: Mapping[int, dict[str, float]],
    in_context: Mapping[int, tuple[float, float]] | None = None,
) -> tuple[Evidence, ...]:
    """The best-scoring units alone among those scored (for a crisis call with the per-token
    reading: its in-context candidates), or the whole text when even the best says little."""
    what = "P(crisis)" if target == RISK else f"P({target})"
    if not spans:
        return ()
    if len(spans) == 1 or not alone:  # one sentence: the whole text is what was read
        start, end = spans[0][0], spans[-1][1]
        return (
            Evidence(start, end, text[start:end], f"model: {what} {whole:.2f}, the whole text"),
        )
    scores = {k: row[target] for k, row in alone.items() if in_context is None or k in in_context}
    scores = {k: scores[k] for k in _worded(text_units(text, spans), scores)}
    if not scores:
        return ()
    top = max(scores.values())
    if top < WHOLE_SHARE * whole:
        # No sentence alone says much: the call rests on the text as a whole.
        start, end = spans[0][0], spans[-1][1]
        cue = (
            f"model: {what} {whole:.2f} for the text as a whole, at most {top:.2f} for one sentence"
        )
        return (Evidence(start, end, text[start:end], cue),)
    chosen = sorted(scores, key=lambda k: -scores[k])[:MAX_SPANS]
    out = []
    for k in chosen:
        if scores[k] < MIN_SHARE * top:
            continue
        start, end = spans[k]
        context = f", {in_context[k][1]:.2f} in context" if in_context and k in in_context else ""
        cue = (
            f"model: {what} {scores[k]:.2f} for this sentence alone{context}, "
            f"{whole:.2f} for the whole text"
        )
        out.append(Evidence(start, end, text[start:end], cue))
    return tuple(out)


def _with_evidence(res: Classification, evidence: dict[str, tuple[Evidence, ...]]) -> Any:
    labels = tuple(
        replace(lab, evidence=evidence[lab.label]) if evidence.get(lab.label) else lab
        for lab in res.labels
    )
    risk = res.risk
    found = evidence.get(RISK)
    if found:
        risk = replace(risk, evidence=found + tuple(risk.evidence))
    return replace(res, labels=labels, risk=risk)
