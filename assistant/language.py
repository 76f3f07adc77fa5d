"""Language guard: tells when a text is not in English, which nothing else in MindSignal reads.

The classifier, the safety gate's cues and the knowledge base are English only; a Spanish post
saying "I don't want to live any more, I have the pills ready" reads to them as no risk at all.
:class:`LangidLanguageDetector` (py3langid, a Naive Bayes model over byte n-grams, ~0.1 ms a text)
names the language of such a text so the gate can say that it could not read it. The model loads
on first use (~0.6 s), not at import time.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Protocol

#: A text is "not English" when it has at least MIN_WORDS words and py3langid's top language is
#: not English with at least MIN_PROBABILITY. Measured with normalised probabilities: Spanish
#: 0.96, French 0.99, German 1.0, Portuguese 0.98, Arabic 0.87 on one-sentence crisis texts;
#: short English slang gets a low-confidence other language ("kms fr fr": Icelandic 0.10) and
#: short plain English a low-confidence English ("I am anxious": 0.46), so neither is flagged.
MIN_WORDS = 3
MIN_PROBABILITY = 0.8

#: Names of the languages people most often write in; others are shown by their code.
LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic",
    "bn": "Bengali",
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "es": "Spanish",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "ms": "Malay",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "sw": "Swahili",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
}

# Redaction placeholders ("[NAME]") are ours, not the writer's language.
_PLACEHOLDER_RE = re.compile(r"\[[A-Z_]+\]")
# Words: runs of letters; each Chinese, Japanese or Thai character counts as one (no spaces).
_WORD_RE = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|[^\W\d_]+")


#: Hindi or Urdu written in Latin letters ("mujhe ab jeena nahi hai"), which py3langid has not
#: learned and reads as English or noise: its common function and feeling words. A text is
#: romanised Hindi when at least ``_ROMAN_HINDI_MIN`` distinct ones make at least a fifth of
#: its words (English never uses them; a stray "yaar" or "accha" in English stays English).
_ROMAN_HINDI = frozenset(
    [
        "nahi",
        "nahin",
        "hai",
        "hain",
        "hoon",
        "hun",
        "mujhe",
        "mera",
        "meri",
        "mere",
        "mujhse",
        "tum",
        "tumhe",
        "kya",
        "kyun",
        "kyu",
        "bahut",
        "bohot",
        "jeena",
        "jina",
        "zindagi",
        "marna",
        "marne",
        "chahta",
        "chahti",
        "chahiye",
        "accha",
        "acha",
        "theek",
        "thik",
        "raha",
        "rahi",
        "rahe",
        "gaya",
        "gayi",
        "karna",
        "karta",
        "karti",
        "kuch",
        "koi",
        "yaar",
        "bhi",
        "aur",
        "toh",
        "kabhi",
        "sab",
        "sabko",
        "pata",
        "dil",
        "dard",
        "akela",
        "akeli",
        "udaas",
        "pareshan",
        "ghar",
        "wala",
        "wali",
    ]
)
_ROMAN_HINDI_MIN = 3


def roman_hindi(text: str) -> bool:
    """True when ``text`` reads as Hindi or Urdu written in Latin letters."""
    words = [w.lower() for w in _WORD_RE.findall(text)]
    hits = [w for w in words if w in _ROMAN_HINDI]
    return len(set(hits)) >= _ROMAN_HINDI_MIN and len(hits) >= 0.2 * len(words)


def language_name(code: str) -> str:
    """A readable name for an ISO 639 code: ``"Spanish (es)"``, else the code itself."""
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else f"language code '{code}'"


def count_words(text: str) -> int:
    """Words in ``text`` (letter runs; each CJK or Thai character is one)."""
    return len(_WORD_RE.findall(text))


class LanguageDetector(Protocol):
    """What the safety gate needs: the language of a text when it is confidently not English."""

    def non_english(self, text: str) -> str:
        """The text's language code when it is confidently not English, else ``""``."""
        ...


class LangidLanguageDetector:
    """py3langid behind :class:`LanguageDetector`; the model loads on first use.

    Args:
        min_words: Shorter texts are never flagged (too little to tell).
        min_probability: Least probability of the top, non-English language to flag a text.
    """

    def __init__(
        self, min_words: int = MIN_WORDS, min_probability: float = MIN_PROBABILITY
    ) -> None:
        self.min_words = min_words
        self.min_probability = min_probability
        self._identifier: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model now instead of on the first text."""
        self._model()

    def detect(self, text: str) -> tuple[str, float]:
        """``(language code, probability)`` of the most likely language of ``text``."""
        code, probability = self._model().classify(_PLACEHOLDER_RE.sub(" ", text))
        return str(code), float(probability)

    def non_english(self, text: str) -> str:
        """The text's language code when it is confidently not English, else ``""``."""
        if count_words(_PLACEHOLDER_RE.sub(" ", text)) < self.min_words:
            return ""
        if roman_hindi(text):
            return "hi"
        code, probability = self.detect(text)
        # "zxx" is py3langid's "no linguistic content", not a language a reader could help with.
        flagged = code not in ("en", "zxx") and probability >= self.min_probability
        return code if flagged else ""

    def _model(self) -> Any:
        if self._identifier is None:
            with self._lock:
                if self._identifier is None:
                    try:
                        from py3langid.langid import MODEL_FILE, LanguageIdentifier
                    except ImportError as exc:  # pragma: no cover - a dependency of the project
                        raise RuntimeError(
                            "the language check needs py3langid: pip install py3langid==0.4.0 "
                            "(or set assistant.language_check: false)"
                        ) from exc
                    self._identifier = LanguageIdentifier.from_model_file(
                        MODEL_FILE, norm_probs=True
                    )
        return self._identifier
