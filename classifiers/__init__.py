"""Detection of mental-health signals: rules, transformer student, hybrid fusion, training, evaluation."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from classifiers.base import Classifier


def load_default(artifact_dir: Path | str | None = None, mode: str = "hybrid") -> Classifier:
    """Load the shipped hybrid classifier (rules + ONNX student) from ``artifact_dir``.

    Args:
        artifact_dir: Directory of the trained student; default: the artifact shipped in the repo.
        mode: ``hybrid``, ``rules`` or ``model``.
    """
    from classifiers.factory import load_classifier

    return load_classifier(artifact_dir=artifact_dir, mode=mode)
