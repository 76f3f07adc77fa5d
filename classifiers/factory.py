"""Build classifiers from a path and a mode: the one place that knows how the parts fit together."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from classifiers.base import Classifier

MODES = ("hybrid", "rules", "model")
DEFAULT_ARTIFACT_DIR = Path(__file__).resolve().parent / "artifacts" / "minilm-mh"
#: Tuned fusion numbers written next to the student by the tuning step (optional).
FUSION_FILE = "fusion.json"


class ClassifierLoadError(RuntimeError):
    """The classifier cannot be built (missing or corrupt artifact, unknown mode)."""


def _train_hint(path: Path) -> str:
    return f"student artifact at {path} is {{}}; run `mindsignal train` to build it"


def check_artifact(artifact_dir: Path) -> dict[str, Any]:
    """Check the student artifact is complete and return its ``config.json``.

    Raises:
        ClassifierLoadError: Naming the path and ``mindsignal train`` when something is missing
            or unreadable.
    """
    hint = _train_hint(artifact_dir)
    if not artifact_dir.is_dir():
        raise ClassifierLoadError(hint.format("missing"))
    config_path = artifact_dir / "config.json"
    if not config_path.is_file():
        raise ClassifierLoadError(hint.format("incomplete (no config.json)"))
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClassifierLoadError(hint.format(f"corrupt (config.json unreadable: {exc})")) from exc
    if not isinstance(config, dict):
        raise ClassifierLoadError(hint.format("corrupt (config.json is not an object)"))
    if not any(artifact_dir.glob("*.onnx")):
        raise ClassifierLoadError(hint.format("incomplete (no .onnx model)"))
    return config


def load_fusion_config(artifact_dir: Path) -> Any:
    """The tuned :class:`~classifiers.hybrid.FusionConfig` stored with the artifact, else defaults."""
    from classifiers.hybrid import FusionConfig

    path = artifact_dir / FUSION_FILE
    if not path.is_file():
        return FusionConfig()
    try:
        return FusionConfig.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise ClassifierLoadError(
            f"fusion settings {path} are corrupt ({exc}); delete the file or re-run the tuning"
        ) from exc


def load_classifier(
    artifact_dir: Path | str | None = None,
    mode: str = "hybrid",
    threads: int | None = None,
    batch_size: int = 32,
    max_length: int | None = None,
    explain: bool = True,
) -> Classifier:
    """Load a classifier: ``rules`` needs no artifact; ``model`` and ``hybrid`` load the student.

    Args:
        artifact_dir: Directory of the trained student; default: the artifact shipped in the repo.
        mode: ``hybrid`` (rules and student fused), ``rules`` or ``model``.
        threads: ONNX Runtime intra-op threads; ``None``: its default.
        batch_size: Texts per model batch.
        max_length: Tokens the student reads per text; default: the length the hybrid's fusion
            numbers were tuned at (``fusion.json``), else the student's training length.
        explain: Hybrid only: give the model's own calls that have no rule or n-gram evidence
            the sentences they rest on (``classifiers.attribution``; costs extra model passes
            for those texts, changes no decision).

    Raises:
        ClassifierLoadError: Unknown mode, or a missing/corrupt artifact (the message names the
            path and says to run ``mindsignal train``).
    """
    if mode not in MODES:
        raise ClassifierLoadError(
            f"unknown classifier mode {mode!r}: use one of {', '.join(MODES)}"
        )
    if mode == "rules":
        return _load_rules()
    path = Path(artifact_dir) if artifact_dir is not None else DEFAULT_ARTIFACT_DIR
    check_artifact(path)
    fusion = load_fusion_config(path) if mode == "hybrid" else None
    if max_length is None and fusion is not None:
        max_length = fusion.max_length
    try:
        from classifiers.transformer import TransformerClassifier

        model = TransformerClassifier(
            path, threads=threads, batch_size=batch_size, max_length=max_length
        )
        # Open the ONNX session now: a corrupt model must fail here with the hint, not as an
        # error on every row later.
        model.warm_up()
    except ClassifierLoadError:
        raise
    except Exception as exc:  # any failure to open the artifact is the same user-facing problem
        raise ClassifierLoadError(_train_hint(path).format(f"unusable ({exc})")) from exc
    if mode == "model":
        return model
    from classifiers.hybrid import HybridClassifier

    ngram = load_ngram(path, model.config)
    return HybridClassifier(
        rules=_load_rules(),
        model=model,
        fusion=fusion,
        ngram=ngram,
        stacker=load_stacker(path, model.config, ngram),
        explain=explain,
    )


def load_ngram(path: Path, config: dict[str, Any]) -> Any:
    """The learned n-gram lexicon of an artifact whose config has an ``ensemble`` block."""
    ensemble = config.get("ensemble")
    if not ensemble:
        return None
    from classifiers.ngram import NgramModel, NgramModelError

    ngram = NgramModel(path / str(ensemble.get("ngram_file", "ngram.npz")))
    try:
        ngram.warm_up()
    except NgramModelError as exc:
        raise ClassifierLoadError(_train_hint(path).format(f"incomplete ({exc})")) from exc
    return ngram


def load_stacker(path: Path, config: dict[str, Any], ngram: Any) -> Any:
    """The stacked multiclass members of an artifact whose ``ensemble`` block has ``stacked``.

    None without that block or without the n-gram lexicon (the TF-IDF member reads its
    features). Raises :class:`ClassifierLoadError` when ``stack.npz`` is missing, unreadable or
    fitted on another n-gram vocabulary than ``ngram.npz``.
    """
    stacked = (config.get("ensemble") or {}).get("stacked")
    if not stacked or ngram is None:
        return None
    from classifiers.stacking import STACK_FILE, MulticlassStacker, StackerError

    stacker = MulticlassStacker(path / str(stacked.get("file", STACK_FILE)))
    try:
        stacker.warm_up()
        if stacker.vocabulary_sha256 != ngram.vocabulary_sha256:
            raise StackerError(f"{stacker.path} was fitted on another n-gram vocabulary")
    except StackerError as exc:
        raise ClassifierLoadError(_train_hint(path).format(f"incomplete ({exc})")) from exc
    return stacker


def _load_rules() -> Any:
    from classifiers.rules.lexicon import LexiconClassifier

    try:
        return LexiconClassifier()
    except Exception as exc:  # a broken lexicon file must name itself, not crash the CLI
        raise ClassifierLoadError(f"rule lexicons cannot be loaded: {exc}") from exc
