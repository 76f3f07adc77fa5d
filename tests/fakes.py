"""Deterministic fakes for tests that are about something else than the faked part.

- :class:`FakeChat` - a chat model (the ``assistant.llm.base.ChatModel`` shape) that answers
  from a script, records what it was sent, and can fail or stall like a real server.
- :class:`FakeRetriever` - returns fixed passages (first ``k``) and records the queries.
- :class:`FakeClassifier` - keyword rules producing real ``Classification`` objects.
- :func:`make_passage` - a ``RetrievedPassage`` with knowledge-base-like metadata.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from classifiers.base import (
    Classification,
    Evidence,
    LabelScore,
    RiskResult,
    SeverityResult,
)
from retrieval.base import RetrievalQuery, RetrievedPassage


class FakeChat:
    """A scripted chat model.

    Args:
        reply: The answer, or a function of the messages returning it.
        error: Raised by ``stream``/``invoke`` instead of answering.
        first_token_delay_s: Wait this long before the first piece (to exercise timeouts).
        model: Name reported as ``model``.
    """

    def __init__(
        self,
        reply: str | Callable[[Sequence[Any]], str] = "",
        error: Exception | None = None,
        first_token_delay_s: float = 0.0,
        model: str = "fake-chat",
    ) -> None:
        self.reply = reply
        self.error = error
        self.first_token_delay_s = first_token_delay_s
        self.model = model
        self.base_url = "http://fake"
        self.calls: list[list[Any]] = []
        self._release = threading.Event()

    def release(self) -> None:
        """Let a stalled stream finish early (tests clean up after a timeout)."""
        self._release.set()

    def _answer(self, messages: Sequence[Any]) -> str:
        self.calls.append(list(messages))
        if self.error is not None:
            raise self.error
        return self.reply(messages) if callable(self.reply) else self.reply

    def invoke(self, messages: Sequence[Any]) -> str:
        return self._answer(messages)

    def stream(self, messages: Sequence[Any]) -> Iterator[str]:
        answer = self._answer(messages)
        if self.first_token_delay_s:
            self._release.wait(self.first_token_delay_s)
        # Word-sized pieces with their spacing, like a real token stream.
        start = 0
        for i, char in enumerate(answer):
            if char == " " and i > start:
                yield answer[start:i]
                start = i
        if start < len(answer):
            yield answer[start:]

    def structured(self, messages: Sequence[Any], schema: Any) -> Any:
        return schema.model_validate_json(self._answer(messages))


def make_passage(
    n: int,
    text: str,
    title: str | None = None,
    intervention_type: str = "behaviour_change",
    audience: str = "person",
    conditions: Sequence[str] = ("depression",),
) -> RetrievedPassage:
    """A retrieved passage with the metadata the knowledge base stores."""
    return RetrievedPassage(
        id=f"test-passage-{n}",
        title=title or f"Test passage {n}",
        text=text,
        metadata={
            "intervention_type": intervention_type,
            "audience": audience,
            "conditions": "|".join(conditions),
        },
        score=1.0 / n,
        citation=f"NICE NG222 (2022), test section {n}. https://www.nice.org.uk/guidance/ng222",
    )


class FakeRetriever:
    """Returns the first ``k`` of a fixed passage list; records every query."""

    def __init__(self, passages: Sequence[RetrievedPassage], error: Exception | None = None):
        self.passages = list(passages)
        self.error = error
        self.queries: list[RetrievalQuery] = []

    def retrieve(self, query: RetrievalQuery) -> list[RetrievedPassage]:
        self.queries.append(query)
        if self.error is not None:
            raise self.error
        return self.passages[: query.k]


#: Keyword -> condition for :class:`FakeClassifier`.
DEFAULT_KEYWORDS: Mapping[str, str] = {
    "depress": "depression",
    "hopeless": "depression",
    "panic": "anxiety",
    "anxious": "anxiety",
    "worry": "anxiety",
    "flashback": "ptsd",
    "drinking": "substance_use",
}
#: Phrase -> risk level for :class:`FakeClassifier`, strongest first.
DEFAULT_RISK: tuple[tuple[str, str], ...] = (
    ("tried to kill myself", "attempt"),
    ("kill myself", "ideation"),
    ("want to die", "ideation"),
    ("better off without me", "indicator"),
)


class FakeClassifier:
    """Keyword rules returning real :class:`Classification` objects (deterministic)."""

    def __init__(
        self,
        keywords: Mapping[str, str] = DEFAULT_KEYWORDS,
        risk_phrases: Sequence[tuple[str, str]] = DEFAULT_RISK,
        version: str = "fake-classifier-1",
    ) -> None:
        self.keywords = keywords
        self.risk_phrases = risk_phrases
        self._version = version
        self.seen: list[str] = []

    @property
    def version(self) -> str:
        return self._version

    def predict(self, texts: Sequence[str]) -> list[Classification]:
        out = []
        for text in texts:
            self.seen.append(text)
            lower = text.lower()
            labels: dict[str, list[Evidence]] = {}
            for key, label in self.keywords.items():
                pos = lower.find(key)
                if pos >= 0:
                    labels.setdefault(label, []).append(
                        Evidence(pos, pos + len(key), text[pos : pos + len(key)], key)
                    )
            risk = "none"
            risk_ev: tuple[Evidence, ...] = ()
            for phrase, level in self.risk_phrases:
                pos = lower.find(phrase)
                if pos >= 0:
                    risk = level
                    risk_ev = (Evidence(pos, pos + len(phrase), phrase, phrase),)
                    break
            severity = "moderate" if len(labels) >= 2 else ("mild" if labels else "minimal")
            if risk in ("behavior", "attempt"):
                severity = "severe"
            out.append(
                Classification(
                    relevant=bool(labels) or risk != "none",
                    relevance_score=0.9 if labels else 0.1,
                    labels=tuple(
                        LabelScore(name, 0.8, ("fake",), tuple(ev)) for name, ev in labels.items()
                    ),
                    severity=SeverityResult(severity, 0.5),
                    risk=RiskResult(risk, 0.9 if risk != "none" else 0.05, risk_ev),
                    model_version=self._version,
                )
            )
        return out


class FakeEncoder:
    """Hash-seeded bag-of-words embeddings: same words, same direction; unit length."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = "fake-encoder"

    def encode(self, texts: Sequence[str]) -> Any:
        import zlib

        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                word = word.strip(".,;:!?[]()\"'")
                if word:
                    out[row, zlib.crc32(word.encode()) % self.dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out
