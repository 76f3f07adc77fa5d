"""The fine-tuned MiniLM student served with ONNX Runtime (int8) and the fast ``tokenizers``.

No torch or transformers import at inference: load time stays low. Texts are sorted by length
and batched to minimise padding; results come back in input order.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.base import (
    Classification,
    InvalidTextError,
    LabelScore,
    RiskResult,
    SeverityResult,
)
from classifiers.labels import CONDITIONS, CRISIS_FROM, RISK_LEVELS, SEVERITY_LEVELS

logger = logging.getLogger(__name__)

SOURCE = "model"
_CRISIS_INDEX = RISK_LEVELS.index(CRISIS_FROM)
#: Optional fifth ONNX output (artifacts from 2026-11-26 on): the mean-pooled embedding.
POOLED_OUTPUT = "pooled"
#: Optional sixth output (artifacts from 2026-12-07 on): the risk head applied to each token.
TOKEN_RISK_OUTPUT = "token_risk_logits"


class ArtifactNotFoundError(FileNotFoundError):
    """The student artifact directory is missing or incomplete; the message says how to build it."""


@dataclass(frozen=True)
class ModelScores:
    """Calibrated probabilities of every head for a batch of texts (rows in input order).

    Attributes:
        conditions: (N, 11) probability per condition, columns in ``CONDITIONS`` order.
        relevance: (N,) probability that the text is mental-health relevant.
        severity_probs: (N, 4) probability per severity level.
        severity_score: (N,) 0-1 ordinal score (mean of the cumulative probabilities).
        risk: (N, 5) probability per risk level, columns in ``RISK_LEVELS`` order.
        crisis: (N,) probability of risk >= ideation.
        pooled: (N, 384) mean-pooled sentence embedding the heads read, or None where the
            artifact's graph does not export it (older artifacts).
    """

    conditions: np.ndarray
    relevance: np.ndarray
    severity_probs: np.ndarray
    severity_score: np.ndarray
    risk: np.ndarray
    crisis: np.ndarray
    pooled: np.ndarray | None = None
    #: Per text, the risk head read token by token (:class:`TokenRisk`), where the graph
    #: exports ``TOKEN_RISK_OUTPUT``; None otherwise.
    token_risk: list[TokenRisk] | None = None


@dataclass(frozen=True)
class TokenRisk:
    """The risk head's reading of one text's tokens, for the evidence of a crisis call.

    The student mean-pools its last layer's token states and the risk head is affine, so the
    risk logits are exactly the mean of the head applied to each token (up to int8 rounding;
    the graph computes that per token, ``TOKEN_RISK_OUTPUT``). The head applied to one
    sentence's tokens is what the model reads in that sentence, in the context of the whole
    text, with no extra model pass.

    Attributes:
        text: The text as the model read it (offsets index it).
        logits: (tokens, 5) the risk head applied to each token state, in ``RISK_LEVELS``
            order; only the tokens the student read (truncation applies).
        offsets: (tokens, 2) character span of each token; special tokens are (0, 0).
        temperature: The calibrated risk temperature.
    """

    text: str
    logits: np.ndarray
    offsets: np.ndarray
    temperature: float

    def crisis(self, start: int | None = None, end: int | None = None) -> float | None:
        """P(risk >= ideation) read from the tokens inside ``[start, end)`` (all tokens, special
        ones included, when no span is given: the whole text's score); None when the student
        read no token there (beyond its window)."""
        found = self.read(start, end)
        return None if found is None else found[0]

    def read(self, start: int | None = None, end: int | None = None) -> tuple[float, int] | None:
        """``(P(crisis), tokens read)`` for the tokens inside ``[start, end)`` (see :meth:`crisis`)."""
        if start is None or end is None:
            rows = self.logits
        else:
            s, e = self.offsets[:, 0], self.offsets[:, 1]
            rows = self.logits[(e > s) & (s >= start) & (e <= end)]
        if not len(rows):
            return None
        logits = rows.mean(axis=0) / self.temperature
        return float(_softmax(logits[None, :])[0, _CRISIS_INDEX:].sum()), len(rows)


def pad_batch(seqs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad to the longest sequence in the batch; returns ids and attention mask (int64)."""
    width = max(len(s) for s in seqs)
    ids = np.zeros((len(seqs), width), dtype=np.int64)
    mask = np.zeros((len(seqs), width), dtype=np.int64)
    for row, s in enumerate(seqs):
        ids[row, : len(s)] = s
        mask[row, : len(s)] = 1
    return ids, mask


#: A batch is cut before a text that would make its padded size exceed the tokens it holds by
#: more than this factor (texts come sorted by length, so the newcomer sets the width).
MAX_PADDING = 1.25


def length_batches(lengths: Sequence[int], batch_size: int) -> list[range]:
    """Consecutive batches over texts sorted by ``lengths`` (ascending): at most ``batch_size``
    each, and cut where padding to the longest would waste more than ``MAX_PADDING`` allows.

    A mixed set (the sentences of a few posts, 5 to 96 tokens) padded as one batch cost twice
    the model time of the same texts in batches of similar length; scores do not depend on the
    batch (fixed activation scales), only the time does.
    """
    batches: list[range] = []
    start, tokens = 0, 0
    for i, length in enumerate(lengths):
        count = i - start
        if count and (
            count >= batch_size or (count + 1) * length > MAX_PADDING * (tokens + length)
        ):
            batches.append(range(start, i))
            start, tokens = i, 0
        tokens += length
    if start < len(lengths):
        batches.append(range(start, len(lengths)))
    return batches


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def validate_text(text: Any, max_chars: int) -> str:
    """Return the text if it can be classified, else raise :class:`InvalidTextError` saying why."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidTextError("text is not valid UTF-8") from exc
    if not isinstance(text, str):
        raise InvalidTextError(f"expected text, got {type(text).__name__}")
    if "\x00" in text:
        raise InvalidTextError("text contains NUL bytes (binary data?)")
    if not text.strip():
        raise InvalidTextError("text is empty")
    if len(text) > max_chars:
        raise InvalidTextError(f"text has {len(text)} characters; the limit is {max_chars}")
    return text


class TransformerClassifier:
    """The fine-tuned MiniLM student (ONNX, int8) with calibrated heads.

    Args:
        artifact_dir: Directory with ``model.onnx``, ``tokenizer.json`` and ``config.json``.
        threads: ONNX Runtime intra-op threads; None lets ONNX Runtime decide.
        batch_size: Texts per ONNX run.
        max_chars: Longest text accepted.
        model_file: Another ONNX file to run with this artifact's tokenizer and config (e.g. the
            fp32 export, for comparisons).
        max_length: Tokens read per text; default: the length the student was trained with.
            Fewer is faster and costs some accuracy (``make bench`` measures how much).
    """

    def __init__(
        self,
        artifact_dir: Path | str,
        threads: int | None = None,
        batch_size: int = 32,
        max_chars: int = 50_000,
        model_file: Path | str | None = None,
        max_length: int | None = None,
    ) -> None:
        self.artifact_dir = Path(artifact_dir)
        self.threads = threads
        self.batch_size = max(1, int(batch_size))
        self.max_chars = max_chars
        self.model_file = Path(model_file) if model_file else self.artifact_dir / "model.onnx"
        self.max_length = max_length
        self._config: dict[str, Any] | None = None
        self._session: Any = None
        self._tokenizer: Any = None
        self._outputs: list[str] = []
        self._token_risk = False
        self._lock = threading.Lock()

    # ---- loading ------------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """The artifact's ``config.json`` (labels, temperatures, thresholds, cut points)."""
        if self._config is None:
            path = self.artifact_dir / "config.json"
            if not path.is_file():
                raise ArtifactNotFoundError(
                    f"no student artifact at {self.artifact_dir} (config.json missing); "
                    "build one with `mindsignal train --output DIR`"
                )
            self._config = json.loads(path.read_text(encoding="utf-8"))
        return self._config

    @property
    def version(self) -> str:
        """The artifact's version string, recorded in every result."""
        return str(self.config["version"])

    def warm_up(self) -> None:
        """Load the ONNX session and the tokenizer now instead of on first use."""
        self._ensure_loaded()

    def _ensure_loaded(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            t0 = time.perf_counter()
            cfg = self.config
            for needed in (self.model_file, self.artifact_dir / "tokenizer.json"):
                if not needed.is_file():
                    raise ArtifactNotFoundError(
                        f"student artifact incomplete: {needed} missing; "
                        "rebuild with `mindsignal train --output DIR`"
                    )
            try:
                import onnxruntime as ort
                from tokenizers import Tokenizer
            except ImportError as exc:  # pragma: no cover - environment
                raise ImportError(
                    "the student needs onnxruntime and tokenizers: `pip install onnxruntime tokenizers`"
                ) from exc
            tok = Tokenizer.from_file(str(self.artifact_dir / "tokenizer.json"))
            tok.enable_truncation(max_length=int(self.max_length or cfg.get("max_length", 128)))
            tok.no_padding()
            opts = ort.SessionOptions()
            if self.threads:
                opts.intra_op_num_threads = int(self.threads)
                opts.inter_op_num_threads = 1
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # No busy-waiting between operators: in the hybrid the rules run in Python beside the
            # model, and ONNX Runtime's spinning threads took their CPU (hybrid posts per
            # CPU-second 40 -> 44, median of 4 interleaved runs, 2 cores, 2026-12-07).
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = ort.InferenceSession(
                str(self.model_file), sess_options=opts, providers=["CPUExecutionProvider"]
            )
            # The heads by position (as every artifact so far wrote them), the others by name.
            names = [o.name for o in session.get_outputs()]
            heads = [n for n in names if n not in (POOLED_OUTPUT, TOKEN_RISK_OUTPUT)][:4]
            self._outputs = [*heads, POOLED_OUTPUT] if POOLED_OUTPUT in names else heads
            self._token_risk = TOKEN_RISK_OUTPUT in names
            self._tokenizer = tok
            self._session = session
            logger.info("loaded student %s in %.2fs", self.version, time.perf_counter() - t0)

    # ---- pickling (Ray workers reload lazily) -------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_session"] = None
        state["_tokenizer"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # ---- inference ----------------------------------------------------------------------------
    @property
    def has_pooled(self) -> bool:
        """Whether the graph exports the pooled embedding (``ModelScores.pooled`` is set)."""
        self._ensure_loaded()
        return POOLED_OUTPUT in self._outputs

    def _logits(self, texts: list[str]) -> tuple[tuple[np.ndarray, ...], list[TokenRisk] | None]:
        """The heads' logits and, where the graph has it, the pooled embedding, in input order;
        and each text's :class:`TokenRisk` where the graph exports the per-token risk."""
        self._ensure_loaded()
        encodings = self._tokenizer.encode_batch(texts)
        seqs = [e.ids for e in encodings]
        order = np.argsort([len(s) for s in seqs], kind="stable")
        parts: list[list[np.ndarray]] = [[] for _ in self._outputs]
        head = self._token_risk
        outputs = [*self._outputs, TOKEN_RISK_OUTPUT] if head else self._outputs
        per_token: list[np.ndarray | None] = [None] * len(texts)
        for batch in length_batches([len(seqs[i]) for i in order], self.batch_size):
            rows = [int(order[i]) for i in batch]
            ids, mask = pad_batch([seqs[r] for r in rows])
            outs = self._session.run(outputs, {"input_ids": ids, "attention_mask": mask})
            for k in range(len(self._outputs)):
                parts[k].append(np.asarray(outs[k], dtype=np.float64))
            if head:
                tokens = np.asarray(outs[-1], dtype=np.float32)
                for j, r in enumerate(rows):
                    per_token[r] = tokens[j, : len(seqs[r])]
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        logits = tuple(np.concatenate(p)[inverse] for p in parts)
        if not head:
            return logits, None
        temperature = float(self.config.get("temperatures", {}).get("risk", 1.0))
        token_risk = [
            TokenRisk(
                text, contrib, np.asarray(enc.offsets, dtype=np.int32).reshape(-1, 2), temperature
            )
            for text, enc, contrib in zip(texts, encodings, per_token, strict=True)
            if contrib is not None
        ]
        return logits, token_risk

    def predict_proba(self, texts: Sequence[str]) -> ModelScores:
        """Calibrated probabilities of every head (temperature-scaled), rows in input order.

        Raises:
            InvalidTextError: A text is empty, binary, not UTF-8 or too long.
        """
        clean = [validate_text(t, self.max_chars) for t in texts]
        n = len(clean)
        if n == 0:
            return ModelScores(
                np.zeros((0, len(CONDITIONS))),
                np.zeros(0),
                np.zeros((0, len(SEVERITY_LEVELS))),
                np.zeros(0),
                np.zeros((0, len(RISK_LEVELS))),
                np.zeros(0),
            )
        (cond, rel, sev, risk, *pooled), token_risk = self._logits(clean)
        temps = self.config.get("temperatures", {})
        p_cond = _sigmoid(cond / float(temps.get("conditions", 1.0)))
        p_rel = _sigmoid(rel.reshape(n) / float(temps.get("relevance", 1.0)))
        # CORAL cumulative probabilities P(level > k); monotone by construction of the biases,
        # enforced anyway so level probabilities never go negative.
        cum = _sigmoid(sev / float(temps.get("severity", 1.0)))
        cum = np.minimum.accumulate(cum, axis=1)
        p_sev = np.concatenate([1 - cum[:, :1], cum[:, :-1] - cum[:, 1:], cum[:, -1:]], axis=1)
        p_risk = _softmax(risk / float(temps.get("risk", 1.0)))
        return ModelScores(
            conditions=p_cond,
            relevance=p_rel,
            severity_probs=p_sev,
            severity_score=cum.mean(axis=1),
            risk=p_risk,
            crisis=p_risk[:, _CRISIS_INDEX:].sum(axis=1),
            pooled=pooled[0] if pooled else None,
            token_risk=token_risk,
        )

    def predict(self, texts: Sequence[str]) -> list[Classification]:
        """Classify texts into contract results (``sources=("model",)``, no evidence spans).

        Raises:
            InvalidTextError: A text is empty, binary, not UTF-8 or too long.
        """
        scores = self.predict_proba(texts)
        return [self._classification(scores, i) for i in range(len(scores.relevance))]

    def _classification(self, s: ModelScores, i: int) -> Classification:
        cfg = self.config
        thresholds = cfg.get("thresholds", {})
        labels = [
            LabelScore(label=name, score=float(s.conditions[i, j]), sources=(SOURCE,))
            for j, name in enumerate(CONDITIONS)
            if s.conditions[i, j] >= float(thresholds.get(name, 0.5))
        ]
        labels.sort(key=lambda ls: -ls.score)
        cuts = np.asarray(cfg.get("severity_cut_points", [0.25, 0.5, 0.75]))
        sev_index = int(np.searchsorted(cuts, s.severity_score[i], side="right"))
        # Crisis decided on P(risk >= ideation) with its own (recall-leaning) threshold; the level
        # is then the most likely one on that side of the line.
        crisis = s.crisis[i] >= float(cfg.get("crisis_threshold", 0.5))
        side = s.risk[i, _CRISIS_INDEX:] if crisis else s.risk[i, :_CRISIS_INDEX]
        risk_index = int(np.argmax(side)) + (_CRISIS_INDEX if crisis else 0)
        return Classification(
            relevant=bool(s.relevance[i] >= float(cfg.get("relevance_threshold", 0.5))),
            relevance_score=float(s.relevance[i]),
            labels=tuple(labels),
            severity=SeverityResult(
                level=SEVERITY_LEVELS[sev_index],
                score=float(s.severity_score[i]),
                sources=(SOURCE,),
            ),
            risk=RiskResult(
                level=RISK_LEVELS[risk_index], score=float(s.crisis[i]), sources=(SOURCE,)
            ),
            model_version=self.version,
            decided_by=(SOURCE,),
        )
