"""Fixtures shared by the assistant tests."""

from __future__ import annotations

import pytest

from assistant.language import LangidLanguageDetector


@pytest.fixture(scope="session")
def language_detector() -> LangidLanguageDetector:
    """The real py3langid language check, loaded once."""
    detector = LangidLanguageDetector()
    detector.warm_up()
    return detector
