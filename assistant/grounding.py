"""Grounding check: is each sentence of the draft supported by the passage it cites?

The draft is split into lines and sentences; citations ``[n]`` are parsed; numbers outside
``1..k`` are stripped (the sentence then counts as uncited). Each sentence is scored against the
sentences of its cited passages (and, to say which passage would have fitted, all the others):
``score = cosine * (0.4 + 0.6 * lexical)``, where ``cosine`` is the best cosine similarity
(real sentence-transformers embeddings) between the sentence and the passage or one of its
sentences, and ``lexical`` the share of the sentence's content words found in the passage. The
product makes both necessary: a topical sentence that brings in its own claims ("prescribe
lithium and stop therapy") scores low although it is semantically close. A sentence with a
number that its passage does not contain (an invented dose, duration or phone number) is never
supported. Below the threshold, or uncited, a sentence is unsupported and is either flagged with
:data:`UNSUPPORTED_MARKER` (``mode="flag"``) or dropped (``mode="remove"``). Headings, short
connective lines and the caller's own notes (``notes``: placeholders such as "no passage was
retrieved", which are not claims) are passed through unchecked.

Known limit: embeddings and word overlap do not see negation, so a sentence that contradicts its
passage with the passage's own words ("asking about suicide increases risk") can pass; the draft
stays a draft for practitioner review.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from assistant.draft import SentenceCheck

UNSUPPORTED_MARKER = " ⚠ unsupported"
#: Passages whose embeddings are kept (the whole curated corpus fits).
PASSAGE_CACHE_SIZE = 1024
#: Share of the score that does not depend on word overlap (see the module docstring).
LEXICAL_FLOOR = 0.4
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?")
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}

_CITATION_RE = re.compile(r"\s*\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")
_SENTENCE_RE = re.compile(r"[^.!?]+(?:[.!?]+(?:\s*\[[\d,;\s]+\])*|$)")
_WORD_RE = re.compile(r"[a-z][a-z'-]+")
#: Lines with fewer words than this (after citations) are connective, not claims.
MIN_CHECK_WORDS = 4
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "you",
        "your",
        "we",
        "our",
        "i",
        "me",
        "my",
        "can",
        "could",
        "should",
        "would",
        "will",
        "may",
        "might",
        "must",
        "do",
        "does",
        "did",
        "done",
        "not",
        "no",
        "so",
        "than",
        "too",
        "very",
        "also",
        "just",
        "about",
        "into",
        "over",
        "under",
        "more",
        "most",
        "some",
        "any",
        "each",
        "other",
        "such",
        "only",
        "own",
        "same",
        "can't",
        "don't",
        "won't",
        "person",
        "people",
        "practitioner",
        "client",
        "patient",
        "steps",
        "step",
        "start",
        "try",
        "help",
    ]
)


class SentenceEncoder(Protocol):
    """What the check needs from an embedding model (``SentenceTransformerEmbeddings.encode``)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class GroundingReport:
    """The checked draft text and one verdict per checked sentence."""

    text: str
    sentences: tuple[SentenceCheck, ...]
    unsupported_count: int
    removed_count: int
    checked_count: int = field(default=0)


def content_words(text: str) -> set[str]:
    """Lower-cased words of 3+ letters that carry meaning."""
    return {w for w in _WORD_RE.findall(text.lower()) if len(w) > 2 and w not in _STOPWORDS}


def lexical_overlap(sentence: str, passage: str) -> float:
    """Share of the sentence's content words that also occur in the passage (prefix match)."""
    words = content_words(sentence)
    if not words:
        return 0.0
    passage_words = content_words(passage)
    stems = {w[:5] for w in passage_words}
    hits = sum(1 for w in words if w in passage_words or w[:5] in stems)
    return hits / len(words)


def passage_numbers(text: str) -> set[str]:
    """Numbers a passage states, in digits (number words up to twenty included)."""
    found = set(_NUMBER_RE.findall(text))
    found |= {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS}
    return found


def new_numbers(sentence: str, passage: str) -> list[str]:
    """Numbers in ``sentence`` (citations excluded) that ``passage`` does not state."""
    stated = passage_numbers(passage)
    return [n for n in _NUMBER_RE.findall(sentence) if n not in stated]


def parse_citations(sentence: str, k: int) -> tuple[str, list[int], int]:
    """``(sentence with invalid citations stripped, valid numbers, count of invalid ones)``."""
    valid: list[int] = []
    invalid = 0

    def _keep(match: re.Match[str]) -> str:
        nonlocal invalid
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        good = [n for n in numbers if 1 <= n <= k]
        invalid += len(numbers) - len(good)
        for n in good:
            if n not in valid:
                valid.append(n)
        if not good:
            return ""
        return " [" + ", ".join(str(n) for n in good) + "]"

    cleaned = _CITATION_RE.sub(_keep, sentence)
    return cleaned, valid, invalid


def split_sentences(line: str) -> list[str]:
    """Sentences of one line, each keeping its trailing citations."""
    parts = [m.group(0) for m in _SENTENCE_RE.finditer(line)]
    return [p for p in parts if p.strip()]


def _passage_sentences(text: str) -> list[str]:
    sents = [s.strip() for s in split_sentences(" ".join(text.split()))]
    return [s for s in sents if len(s.split()) >= 3] or [text]


def _is_unchecked_line(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return True
    if stripped.startswith("#") or set(stripped) <= set("-*_=|> "):
        return True
    without = _CITATION_RE.sub("", stripped).strip(" -*:#>")
    return len(without.split()) < MIN_CHECK_WORDS and not _CITATION_RE.search(stripped)


class GroundingChecker:
    """Scores draft sentences against retrieved passages.

    Args:
        encoder: Embedding model with ``encode(texts) -> unit-length array``.
        threshold: Minimum score for a cited sentence to count as supported.
        mode: ``"flag"`` keeps unsupported sentences with a marker; ``"remove"`` drops them.
    """

    def __init__(
        self,
        encoder: SentenceEncoder,
        threshold: float = 0.45,
        mode: Literal["flag", "remove"] = "flag",
    ) -> None:
        self.encoder = encoder
        self.threshold = threshold
        self.mode = mode
        self._cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()

    def check(
        self,
        draft: str,
        passages: Sequence[Mapping[str, Any]],
        notes: Collection[str] = (),
    ) -> GroundingReport:
        """Verify every claim sentence of ``draft`` against ``passages`` (numbered from 1).

        Args:
            draft: The LLM's Markdown draft.
            passages: ``RetrievedPassage.to_dict()`` rows in citation order.
            notes: Lines that are the caller's own notes, not claims: kept as they are,
                neither checked nor counted.

        Returns:
            The draft with unsupported sentences flagged or removed, and per-sentence verdicts.
        """
        k = len(passages)
        # Pass 1: find the sentences to check, with their cleaned text and citations.
        lines = draft.splitlines()
        plan: list[list[tuple[str, list[int], int] | str]] = []
        to_score: list[str] = []
        for line in lines:
            if _is_unchecked_line(line) or line.strip() in notes:
                plan.append([line])
                continue
            prefix_match = re.match(r"^(\s*(?:[-*+]|\d+[.)])?\s*)", line)
            prefix = prefix_match.group(1) if prefix_match else ""
            items: list[tuple[str, list[int], int] | str] = [prefix]
            for raw in split_sentences(line[len(prefix) :]):
                cleaned, cites, invalid = parse_citations(raw, k)
                items.append((cleaned, cites, invalid))
                to_score.append(_CITATION_RE.sub("", cleaned).strip())
            plan.append(items)

        scores, best = self._score(to_score, passages)

        # Pass 2: rebuild the text and the verdicts.
        out_lines: list[str] = []
        checks: list[SentenceCheck] = []
        removed = unsupported = 0
        idx = 0
        for items in plan:
            if len(items) == 1 and isinstance(items[0], str):
                out_lines.append(items[0])
                continue
            prefix = str(items[0])
            pieces: list[str] = []
            for item in items[1:]:
                assert not isinstance(item, str)
                cleaned, cites, invalid = item
                plain = to_score[idx]
                sentence_scores = scores[idx]
                best_n = best[idx]
                idx += 1
                if len(plain.split()) < MIN_CHECK_WORDS and not cites:
                    pieces.append(cleaned)  # a fragment ("Also:"), not a claim
                    continue
                if cites:
                    top = max(cites, key=lambda n: sentence_scores[n - 1])
                    score = sentence_scores[top - 1]
                    invented = new_numbers(plain, str(passages[top - 1].get("text", "")))
                    supported = score >= self.threshold and not invented
                    if supported:
                        reason = f"supported by [{top}]"
                    elif invented:
                        reason = f"number(s) not in the cited passage: {', '.join(invented)}"
                    elif best_n is not None and sentence_scores[best_n - 1] >= self.threshold:
                        reason = f"cited passage does not support it; closest is [{best_n}]"
                    else:
                        reason = "not supported by the cited passage"
                else:
                    score = float(max(sentence_scores)) if sentence_scores else 0.0
                    supported = False
                    reason = "no valid citation" + (
                        f" ({invalid} citation(s) to passages that do not exist)" if invalid else ""
                    )
                checks.append(
                    SentenceCheck(
                        text=cleaned.strip(),
                        citations=cites,
                        supported=supported,
                        score=round(float(score), 4),
                        reason=reason,
                        best_passage=best_n,
                    )
                )
                if supported:
                    pieces.append(cleaned)
                elif self.mode == "remove":
                    removed += 1
                else:
                    unsupported += 1
                    pieces.append(cleaned.rstrip() + UNSUPPORTED_MARKER + " ")
            body = " ".join(p.strip() for p in pieces if p.strip())
            if body:
                out_lines.append(prefix + body)
        text = "\n".join(out_lines).strip("\n")
        text = re.sub(r"\n{3,}", "\n\n", text)
        return GroundingReport(
            text=text,
            sentences=tuple(checks),
            unsupported_count=unsupported + removed,
            removed_count=removed,
            checked_count=len(checks),
        )

    def _passage_vectors(self, text: str) -> np.ndarray:
        """Embeddings of a passage and its sentences, cached: the corpus repeats across cases."""
        cached = self._cache.get(text)
        if cached is None:
            chunks = [text, *_passage_sentences(text)]
            cached = np.asarray(self.encoder.encode(chunks), dtype=np.float32)
            with self._cache_lock:
                if len(self._cache) >= PASSAGE_CACHE_SIZE:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[text] = cached
        return cached

    def _score(
        self, sentences: Sequence[str], passages: Sequence[Mapping[str, Any]]
    ) -> tuple[list[list[float]], list[int | None]]:
        """Per sentence: its score against every passage, and the best passage number."""
        if not sentences or not passages:
            return [[] for _ in sentences], [None for _ in sentences]
        passage_texts = [str(p.get("text", "")) for p in passages]
        per_passage = [self._passage_vectors(text) for text in passage_texts]
        owner = [i for i, vecs in enumerate(per_passage) for _ in range(len(vecs))]
        chunk_vecs = np.concatenate(per_passage, axis=0)
        sent_vecs = np.asarray(self.encoder.encode(list(sentences)), dtype=np.float32)
        sims = sent_vecs @ chunk_vecs.T  # unit vectors: dot product is cosine
        owner_arr = np.asarray(owner)
        all_scores: list[list[float]] = []
        best: list[int | None] = []
        for s_idx, sentence in enumerate(sentences):
            row: list[float] = []
            for p_idx, text in enumerate(passage_texts):
                cosine = float(np.max(sims[s_idx][owner_arr == p_idx]))
                lexical = lexical_overlap(sentence, text)
                row.append(max(0.0, cosine * (LEXICAL_FLOOR + (1 - LEXICAL_FLOOR) * lexical)))
            all_scores.append(row)
            best.append(int(np.argmax(row)) + 1 if row else None)
        return all_scores, best
