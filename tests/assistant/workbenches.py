"""A workbench over the real pipeline with fake outside parts, and a chat model that can be held
mid-answer (shared by the workbench and UI tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.app import build_app
from assistant.grounding import GroundingChecker
from assistant.pipeline import CarePipeline, PipelineConfig
from assistant.safety import SafetyGate
from assistant.settings import load_settings
from assistant.workbench import Workbench
from classifiers.factory import load_classifier
from knowledge_base.resources import load_crisis_resources
from tests.assistant.kb_samples import sample_passages
from tests.fakes import FakeChat, FakeEncoder, FakeRetriever, make_passage

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class HeldChat(FakeChat):
    """A scripted chat model that stops after its first piece until :meth:`go` (or 60 s).

    ``answering`` is set once a draft is being written, so a test can act while it is.
    """

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.answering = threading.Event()
        self._go = threading.Event()

    def go(self) -> None:
        """Let every held answer finish (and later ones run straight through)."""
        self._go.set()

    def stream(self, messages: Sequence[Any]) -> Iterator[str]:
        for i, piece in enumerate(super().stream(messages)):
            if i == 1:
                self.answering.set()
                self._go.wait(60)
            yield piece


class FakeBackend:
    """What the banner shows of the LLM backend (nothing is started)."""

    description = "fake chat model"
    provider = "ollama"


def fake_workbench(tmp_path: Path, chat: Any) -> Workbench:
    """The real pipeline (rules classifier, real gate and crisis resources) with a fixed
    retriever, fake embeddings and ``chat``; exports go under ``tmp_path``."""
    mind = build_app(load_settings(data_dir=tmp_path, classifier={"mode": "rules"}))
    classifier = load_classifier(mode="rules")
    retriever = FakeRetriever(
        [make_passage(i, p.text, p.title) for i, p in enumerate(sample_passages(), 1)][:4]
    )
    # Components the variants share, as the app would provide them.
    mind.__dict__.update(classifier=classifier, retriever=retriever, chat=chat)
    mind.__dict__["llm_backend"] = FakeBackend()
    mind.__dict__["pipeline"] = CarePipeline(
        classifier=classifier,
        retriever=retriever,
        gate=SafetyGate(
            load_crisis_resources(PROJECT_ROOT / "knowledge_base" / "resources", "en-US")
        ),
        grounding=GroundingChecker(FakeEncoder(), threshold=0.45),
        chat=chat,
        config=PipelineConfig(max_chars=5000, top_k=4),
    )
    return Workbench(mind, export_root=tmp_path / "exports")
