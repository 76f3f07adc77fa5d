"""Degraded-mode draft: key sentences copied from the retrieved passages, each cited.

Used when the LLM is down, too slow to start, or returns nothing. Every sentence is taken
verbatim from a passage, so the draft is grounded by construction; passages for the person
(behaviour change, self-help, social support) go under "Steps the person can start", the rest
(therapy, referral, medication review, safety planning) under "For the practitioner".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assistant.grounding import content_words, split_sentences
from assistant.prompts import PERSON_HEADING, PRACTITIONER_HEADING

#: Notes shown in a section with no passage; notes, not claims, so never grounding-checked.
NO_PERSON_PASSAGE = "_No self-help passage was retrieved for this case._"
NO_PRACTITIONER_PASSAGE = "_No practitioner passage was retrieved for this case._"
PLACEHOLDER_NOTES = frozenset({NO_PERSON_PASSAGE, NO_PRACTITIONER_PASSAGE})

PERSON_TYPES = frozenset(
    {"behaviour_change", "guided_self_help", "social_support", "psychoeducation"}
)


def is_for_person(passage: Mapping[str, Any]) -> bool:
    """Whether a passage belongs under the person's steps (else the practitioner's section)."""
    meta = passage.get("metadata") or {}
    audience = meta.get("audience")
    if audience in ("person", "practitioner"):
        return bool(audience == "person")
    return meta.get("intervention_type") in PERSON_TYPES


def key_sentences(text: str, query: str, limit: int = 2) -> list[str]:
    """Up to ``limit`` sentences of ``text``: the first (passages lead with their point) and the
    one sharing most content words with ``query``, in passage order."""
    sentences = [s.strip() for s in split_sentences(" ".join(text.split()))]
    sentences = [s for s in sentences if len(s.split()) >= 5]
    if not sentences:
        return []
    query_words = content_words(query)
    chosen = {0}
    if limit > 1 and len(sentences) > 1:
        ranked = sorted(
            range(1, len(sentences)),
            key=lambda i: (-len(content_words(sentences[i]) & query_words), i),
        )
        chosen.update(ranked[: limit - 1])
    return [sentences[i] for i in sorted(chosen)]


def extractive_draft(
    passages: Sequence[Mapping[str, Any]], query: str = "", per_passage: int = 2
) -> str:
    """A two-section Markdown draft assembled from the passages, citations ``[n]`` from 1.

    Args:
        passages: ``RetrievedPassage.to_dict()`` rows in citation order.
        query: The redacted post; picks which sentences of each passage are most relevant.
        per_passage: Sentences taken from each passage (1-2).

    Returns:
        Markdown with both headings; a note in each section that has no passage.
    """
    person: list[str] = []
    practitioner: list[str] = []
    for n, passage in enumerate(passages, start=1):
        picked = key_sentences(str(passage.get("text", "")), query, per_passage)
        if not picked:
            continue
        line = "- " + " ".join(f"{_strip_end(s)} [{n}]." for s in picked)
        (person if is_for_person(passage) else practitioner).append(line)
    out = [f"## {PERSON_HEADING}", ""]
    out += person or [NO_PERSON_PASSAGE]
    out += ["", f"## {PRACTITIONER_HEADING}", ""]
    out += practitioner or [NO_PRACTITIONER_PASSAGE]
    return "\n".join(out)


def _strip_end(sentence: str) -> str:
    return sentence.rstrip().rstrip(".!?")
