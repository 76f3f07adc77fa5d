"""Hybrid retrieval: dense (Chroma) + BM25, metadata filters, diversity and the risk rule.

How one query is answered:

1. **Query text.** The post, cut to its key sentences when it is longer than MiniLM reads
   (256 tokens), plus the detected labels as words ("condition: depression; severity: moderate").
   BM25 gets the whole post (it has no length limit) plus the labels.
2. **Filters, relaxed in order** until at least ``k`` passages qualify; passages that pass a
   stricter level always rank before those added by a looser one:

   a. condition (any detected condition, ``general_wellbeing``, and ``suicide_risk`` when risk is
      indicator or higher) + severity (the passage lists the level) + risk (the passage lists it);
   b. condition + severity;
   c. condition only;
   d. no filter.

   With no detected condition the condition part is left out from the start.
3. **Candidates** from Chroma (cosine) and BM25 (``fetch_k`` each), fused by weighted reciprocal
   rank fusion (``weight / (rrf_k + rank)`` summed over the lists; BM25 weighs half as much as
   dense because informal posts share few words with clinical passages). Passages written for a
   detected condition get ``condition_boost`` first-rank units over cross-cutting ones
   (general wellbeing, suicide risk), which the filter also admits.
4. **Diversity.** Maximal marginal relevance over the fused candidates (``mmr_lambda``; relevance is
   the min-max-scaled fused score, redundancy the cosine similarity of passage embeddings), with
   quotas: at most two passages of one intervention type, and when ``k >= 4`` at least one
   self-help type (psychoeducation, behaviour change, guided self-help, social support) and one
   clinical type (psychological therapy, medication review, referral) if any qualify.
5. **Risk rule.** Risk at ideation or above always puts a safety-planning and a crisis-resources
   passage in the first two places (crisis resources first from behaviour up), whatever the text.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from classifiers.labels import RISK_LEVELS, SEVERITY_LEVELS, risk_rank
from retrieval.base import RetrievalQuery, RetrievedPassage
from retrieval.chroma_store import (
    FLAG_PREFIXES,
    INGEST_HINT,
    ChromaStore,
    StoreError,
    StoreSnapshot,
    flag_key,
)
from retrieval.lexical import BM25Index

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "lexical"]

SAFETY_TYPES: tuple[str, ...] = ("safety_planning", "crisis_resources")
SELF_HELP_TYPES: frozenset[str] = frozenset(
    {"psychoeducation", "behaviour_change", "guided_self_help", "social_support"}
)
CLINICAL_TYPES: frozenset[str] = frozenset(
    {"psychological_therapy", "medication_review", "referral"}
)
MAX_PER_TYPE = 2
#: MiniLM reads 256 word pieces; about 180 words of English fit.
MAX_DENSE_WORDS = 180
MAX_LEXICAL_CHARS = 6000
#: How often the retriever asks the store whether another process changed it.
STORE_CHECK_INTERVAL_S = 2.0

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")
# Words that mark the sentences of a long post worth keeping for the dense query: feelings,
# symptoms, help-seeking. Posts open with context and bury the point in the middle.
_KEY_WORDS = frozenset(
    [
        "feel",
        "feeling",
        "felt",
        "anxious",
        "anxiety",
        "panic",
        "worry",
        "worried",
        "scared",
        "afraid",
        "fear",
        "depressed",
        "depression",
        "sad",
        "hopeless",
        "empty",
        "numb",
        "worthless",
        "tired",
        "exhausted",
        "sleep",
        "insomnia",
        "nightmares",
        "flashbacks",
        "trauma",
        "alone",
        "lonely",
        "cry",
        "crying",
        "suicidal",
        "suicide",
        "die",
        "dying",
        "kill",
        "hurt",
        "cutting",
        "self-harm",
        "harm",
        "eat",
        "eating",
        "binge",
        "purge",
        "weight",
        "drink",
        "drinking",
        "alcohol",
        "drunk",
        "drugs",
        "high",
        "using",
        "relapse",
        "voices",
        "paranoid",
        "manic",
        "mania",
        "mood",
        "swings",
        "focus",
        "distracted",
        "adhd",
        "ocd",
        "intrusive",
        "compulsions",
        "checking",
        "autistic",
        "meltdown",
        "overwhelmed",
        "abandon",
        "angry",
        "rage",
        "help",
        "therapy",
        "therapist",
        "medication",
        "meds",
        "diagnosed",
        "can't",
        "cannot",
        "anymore",
    ]
)


@dataclass(frozen=True)
class _Filter:
    """One level of the filter ladder."""

    name: str
    conditions: tuple[str, ...] | None
    severity: str | None
    risk: str | None
    types: tuple[str, ...] | None = None

    def where(self) -> dict[str, Any] | None:
        parts: list[dict[str, Any]] = []
        if self.conditions:
            conds = [{flag_key("conditions", c): True} for c in self.conditions]
            parts.append(conds[0] if len(conds) == 1 else {"$or": conds})
        if self.severity:
            parts.append({flag_key("severity", self.severity): True})
        if self.risk:
            parts.append({flag_key("risk", self.risk): True})
        if self.types:
            parts.append({"intervention_type": {"$in": list(self.types)}})
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"$and": parts}


class _Index:
    """In-memory view of one store snapshot: BM25, embeddings, metadata masks."""

    def __init__(self, snapshot: StoreSnapshot) -> None:
        self.fingerprint = snapshot.fingerprint
        self.docs = snapshot.documents
        self.position = {d.id: i for i, d in enumerate(self.docs)}
        emb = snapshot.embeddings
        if emb.size:
            norms = np.linalg.norm(emb, axis=1, keepdims=True)
            emb = emb / np.maximum(norms, 1e-12)
        self.embeddings = emb
        self.bm25 = BM25Index([d.id for d in self.docs], [d.text for d in self.docs])
        self.types = np.array([str(d.metadata.get("intervention_type", "")) for d in self.docs])
        self._flags: dict[str, np.ndarray] = {}
        empty = np.zeros(0, dtype=np.float32)
        # One-entry caches: the filter levels and the risk rule of one query share these.
        self._last: tuple[Any, np.ndarray] = (None, empty)
        self._last_lex: tuple[Any, np.ndarray] = (None, empty)

    def dense_scores(self, qvec: Sequence[float]) -> np.ndarray:
        """Cosine similarity of every passage to the query vector (last query cached)."""
        key = tuple(qvec)
        last = self._last  # read once: another thread may replace it (no lock needed)
        if last[0] == key:
            return last[1]
        q = np.asarray(qvec, dtype=np.float32)
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        scores = self.embeddings @ q
        self._last = (key, scores)
        return scores

    def lexical_scores(self, text: str) -> np.ndarray:
        """BM25 score of every passage for the query text (last query cached)."""
        last = self._last_lex
        if last[0] == text:
            return last[1]
        scores = self.bm25.scores(text)
        self._last_lex = (text, scores)
        return scores

    def flag(self, key: str) -> np.ndarray:
        if key not in self._flags:
            self._flags[key] = np.array([bool(d.metadata.get(key)) for d in self.docs], dtype=bool)
        return self._flags[key]

    def mask(self, f: _Filter) -> np.ndarray:
        m = np.ones(len(self.docs), dtype=bool)
        if f.conditions:
            cond = np.zeros(len(self.docs), dtype=bool)
            for c in f.conditions:
                cond |= self.flag(flag_key("conditions", c))
            m &= cond
        if f.severity:
            m &= self.flag(flag_key("severity", f.severity))
        if f.risk:
            m &= self.flag(flag_key("risk", f.risk))
        if f.types:
            m &= np.isin(self.types, list(f.types))
        return m


def _top_masked(scores: np.ndarray, mask: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(position, score) of the k best scores inside the mask, best first."""
    candidates = np.flatnonzero(mask)
    if candidates.size == 0 or k <= 0:
        return []
    sub = scores[candidates]
    k = min(k, sub.size)
    top = np.argpartition(-sub, k - 1)[:k]
    top = top[np.argsort(-sub[top], kind="stable")]
    return [(int(candidates[i]), float(sub[i])) for i in top]


class HybridRetriever:
    """Dense + BM25 retrieval over a :class:`ChromaStore` with filters, diversity and the risk rule.

    Args:
        store: The vector store (Chroma).
        fetch_k: Candidates taken from each retriever before fusion.
        use_lexical: Fuse BM25 with dense search (False: dense only).
        rrf_k: Reciprocal-rank-fusion constant.
        mmr_lambda: Relevance/diversity trade-off for MMR (1 = relevance only).
        mode: Overrides ``use_lexical``: ``hybrid``, ``dense`` or ``lexical`` (for evaluation).
        use_filters: Apply the condition/severity/risk filter ladder.
        diversify: Apply MMR and the type quotas.
        dense_weight: Weight of the dense list in the fusion.
        lexical_weight: Weight of the BM25 list (lower: BM25 is the weaker ranker on posts).
        condition_boost: Fused-score bonus, in units of a first rank, for passages written for a
            detected condition over cross-cutting ones (general wellbeing, suicide risk).
        max_per_type: Most passages of one intervention type in the results.
        require_groups: From k >= 4, include a self-help and a clinical type when any qualify.
    """

    def __init__(
        self,
        store: ChromaStore,
        fetch_k: int = 30,
        use_lexical: bool = True,
        rrf_k: int = 60,
        mmr_lambda: float = 0.7,
        mode: Mode | None = None,
        use_filters: bool = True,
        diversify: bool = True,
        dense_weight: float = 1.0,
        lexical_weight: float = 0.5,
        condition_boost: float = 1.0,
        max_per_type: int = MAX_PER_TYPE,
        require_groups: bool = True,
        redundancy_floor: float = 0.0,
    ) -> None:
        self.store = store
        self.fetch_k = fetch_k
        self.rrf_k = rrf_k
        self.mmr_lambda = mmr_lambda
        self.mode: Mode = mode or ("hybrid" if use_lexical else "dense")
        self.use_filters = use_filters
        self.diversify = diversify
        self.dense_weight = dense_weight
        self.lexical_weight = lexical_weight
        self.condition_boost = condition_boost
        self.max_per_type = max_per_type
        self.require_groups = require_groups
        self.redundancy_floor = redundancy_floor
        self._index: _Index | None = None
        self._checked_at = 0.0
        self._seen_local_version = -1
        self._lock = threading.Lock()

    # ---- index lifecycle -------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the embedding model and build the BM25 index now rather than on first query."""
        self._current_index()
        self.store.embed_query("warm up")

    def _current_index(self) -> _Index:
        now = time.monotonic()
        local = self.store.local_version
        if (
            self._index is not None
            and local == self._seen_local_version
            and now - self._checked_at < STORE_CHECK_INTERVAL_S
        ):
            return self._index
        with self._lock:
            fingerprint = self.store.fingerprint()
            if self._index is None or self._index.fingerprint != fingerprint:
                snapshot = self.store.get_all(with_embeddings=True)
                if not snapshot.documents:
                    raise StoreError(
                        f"vector store at {self.store.location} is empty: {INGEST_HINT}"
                    )
                started = time.perf_counter()
                self._index = _Index(snapshot)
                logger.info(
                    "BM25 index built over %d passages in %.2f s",
                    len(snapshot.documents),
                    time.perf_counter() - started,
                )
            self._checked_at = now
            self._seen_local_version = local
            return self._index

    # ---- query construction ----------------------------------------------------------------
    @staticmethod
    def label_words(query: RetrievalQuery) -> str:
        """The detected labels as words, e.g. ``condition: depression; severity: moderate``."""
        parts = []
        if query.conditions:
            parts.append("condition: " + ", ".join(c.replace("_", " ") for c in query.conditions))
        if query.severity:
            parts.append(f"severity: {query.severity}")
        if query.risk and risk_rank(query.risk) >= 1:
            parts.append(f"suicide risk: {query.risk}")
        return "; ".join(parts)

    @staticmethod
    def key_text(text: str, max_words: int = MAX_DENSE_WORDS) -> str:
        """The post itself when short; otherwise its opening plus its most telling sentences."""
        words = text.split()
        if len(words) <= max_words:
            return " ".join(words)
        sentences = [s.strip() for s in _SENTENCE_RE.split(text) if s.strip()]
        scored = []
        for i, sent in enumerate(sentences):
            toks = re.findall(r"[a-z'-]+", sent.lower())
            hits = sum(1 for t in toks if t in _KEY_WORDS)
            # The first sentence usually states the problem; the last often the ask.
            bonus = 2 if i == 0 else (1 if i == len(sentences) - 1 else 0)
            scored.append((hits + bonus, -i, i))
        chosen: list[int] = []
        budget = max_words
        for _, _, i in sorted(scored, reverse=True):
            n = len(sentences[i].split())
            if n > budget:
                if not chosen:  # one giant sentence: take its start
                    return " ".join(sentences[i].split()[:max_words])
                continue
            chosen.append(i)
            budget -= n
            if budget < 8:
                break
        return " ".join(sentences[i] for i in sorted(chosen))

    def build_query_texts(self, query: RetrievalQuery) -> tuple[str, str]:
        """(dense query text, lexical query text)."""
        labels = self.label_words(query)
        dense = " ".join(p for p in (self.key_text(query.text), labels) if p)
        lexical = " ".join(p for p in (query.text[:MAX_LEXICAL_CHARS], labels) if p)
        return dense, lexical

    @staticmethod
    def filter_ladder(query: RetrievalQuery) -> list[_Filter]:
        """The filter levels, strictest first (see the module docstring)."""
        conds: tuple[str, ...] | None = None
        if query.conditions:
            extra = ["general_wellbeing"]
            if query.risk and risk_rank(query.risk) >= 1:
                extra.append("suicide_risk")
            conds = tuple(dict.fromkeys([*query.conditions, *extra]))
        sev = query.severity if query.severity in SEVERITY_LEVELS else None
        risk = query.risk if query.risk in RISK_LEVELS else None
        levels = [
            _Filter("condition+severity+risk", conds, sev, risk),
            _Filter("condition+severity", conds, sev, None),
            _Filter("condition", conds, None, None),
            _Filter("none", None, None, None),
        ]
        unique: list[_Filter] = []
        for f in levels:
            if all(
                (f.conditions, f.severity, f.risk) != (u.conditions, u.severity, u.risk)
                for u in unique
            ):
                unique.append(f)
        return unique

    # ---- retrieval -------------------------------------------------------------------------
    def retrieve(self, query: RetrievalQuery) -> list[RetrievedPassage]:
        """Best passages first, at most ``query.k``.

        Raises:
            ValueError: the query has neither text nor labels, or ``k`` < 1.
            StoreError: the store is missing, empty or corrupt.
        """
        if query.k < 1:
            raise ValueError("k must be at least 1")
        if not query.text.strip() and not query.conditions:
            raise ValueError("empty query: give the post text or at least one condition")
        if query.severity is not None and query.severity not in SEVERITY_LEVELS:
            raise ValueError(f"unknown severity {query.severity!r}; use one of {SEVERITY_LEVELS}")
        if query.risk is not None and query.risk not in RISK_LEVELS:
            raise ValueError(f"unknown risk level {query.risk!r}; use one of {RISK_LEVELS}")

        started = time.perf_counter()
        index = self._current_index()
        dense_text, lexical_text = self.build_query_texts(query)
        qvec = self.store.embed_query(dense_text) if self.mode != "lexical" else None
        chosen: list[_Candidate] = []
        taken: set[str] = set()

        if query.risk and risk_rank(query.risk) >= risk_rank("ideation"):
            chosen.extend(self._safety_first(query, index, qvec, lexical_text))
            taken.update(c.id for c in chosen)

        ladder = (
            self.filter_ladder(query) if self.use_filters else [_Filter("none", None, None, None)]
        )
        for level in ladder:
            if len(chosen) >= query.k:
                break
            cands = self._candidates(
                level, index, qvec, lexical_text, exclude=taken, prefer=frozenset(query.conditions)
            )
            picked = self._select(cands, index, query.k - len(chosen), already=chosen)
            for c in picked:
                c.scores["filter_level"] = float(ladder.index(level))
            chosen.extend(picked)
            taken.update(c.id for c in picked)

        results = [c.to_passage() for c in chosen[: query.k]]
        logger.debug(
            "retrieved %d passages (mode=%s) in %.1f ms",
            len(results),
            self.mode,
            (time.perf_counter() - started) * 1000,
        )
        return results

    def _candidates(
        self,
        level: _Filter,
        index: _Index,
        qvec: list[float] | None,
        lexical_text: str,
        exclude: set[str],
        fetch_k: int | None = None,
        prefer: frozenset[str] = frozenset(),
    ) -> list[_Candidate]:
        """Fused candidates of one filter level, best first."""
        fetch = fetch_k or self.fetch_k
        mask = index.mask(level)
        n_ok = int(mask.sum())
        if n_ok == 0:
            return []
        fetch_n = min(fetch + len(exclude), n_ok)
        cands: dict[str, _Candidate] = {}

        if self.mode in ("hybrid", "dense") and qvec is not None:
            rank = 0
            if index.embeddings.size:
                # Exact cosine over the snapshot of Chroma's own vectors: one matrix product per
                # query (cached across filter levels), where Chroma's filtered HNSW search costs a
                # round trip per level (see benchmarks/results/retrieval.md).
                sims = index.dense_scores(qvec)
                for pos, sim in _top_masked(sims, mask, fetch_n):
                    doc = index.docs[pos]
                    if doc.id in exclude:
                        continue
                    rank += 1
                    c = cands.setdefault(doc.id, _Candidate(doc.id, doc.text, doc.metadata))
                    c.scores["dense"] = sim
                    c.rrf += self.dense_weight / (self.rrf_k + rank)
            else:
                for hit in self.store.query(embedding=qvec, k=fetch_n, where=level.where()):
                    if hit.id in exclude:
                        continue
                    rank += 1
                    c = cands.setdefault(hit.id, _Candidate(hit.id, hit.text, hit.metadata))
                    c.scores["dense"] = hit.similarity
                    c.rrf += self.dense_weight / (self.rrf_k + rank)
        if self.mode in ("hybrid", "lexical"):
            rank = 0
            bm25 = index.lexical_scores(lexical_text)
            for pos, score in _top_masked(bm25, mask & (bm25 > 0), fetch_n):
                doc = index.docs[pos]
                if doc.id in exclude:
                    continue
                rank += 1
                c = cands.setdefault(doc.id, _Candidate(doc.id, doc.text, doc.metadata))
                c.scores["bm25"] = score
                c.rrf += self.lexical_weight / (self.rrf_k + rank)
        if self.condition_boost and prefer:
            for c in cands.values():
                if prefer & set(str(c.metadata.get("conditions", "")).split("|")):
                    c.rrf += self.condition_boost / (self.rrf_k + 1)
        ranked = sorted(cands.values(), key=lambda c: (-c.rrf, c.id))
        for c in ranked:
            c.scores["rrf"] = c.rrf
        return ranked[:fetch]

    def _select(
        self,
        cands: list[_Candidate],
        index: _Index,
        n: int,
        already: Sequence[_Candidate],
    ) -> list[_Candidate]:
        """Pick ``n`` candidates by MMR under the type quotas (or by fused rank without diversity)."""
        if n <= 0 or not cands:
            return []
        if not self.diversify:
            return cands[:n]
        rrf = np.array([c.rrf for c in cands], dtype=np.float32)
        span = float(rrf.max() - rrf.min())
        rel = (rrf - rrf.min()) / span if span > 0 else np.ones_like(rrf)
        vecs = [self._vector(index, c.id) for c in cands]
        chosen_vecs = [v for v in (self._vector(index, c.id) for c in already) if v is not None]
        type_counts: dict[str, int] = {}
        for c in already:
            type_counts[c.type] = type_counts.get(c.type, 0) + 1
        total_k = n + len(already)
        groups = self.require_groups and total_k >= 4
        need_self_help = groups and not any(c.type in SELF_HELP_TYPES for c in already)
        need_clinical = groups and not any(c.type in CLINICAL_TYPES for c in already)
        has_self_help = any(c.type in SELF_HELP_TYPES for c in cands)
        has_clinical = any(c.type in CLINICAL_TYPES for c in cands)

        picked: list[_Candidate] = []
        remaining = list(range(len(cands)))
        while remaining and len(picked) < n:
            slots = n - len(picked)
            missing = []
            if need_self_help and has_self_help:
                missing.append(SELF_HELP_TYPES)
            if need_clinical and has_clinical:
                missing.append(CLINICAL_TYPES)
            allowed = [
                i for i in remaining if type_counts.get(cands[i].type, 0) < self.max_per_type
            ]
            if len(missing) >= slots:
                # The last slots go to the groups still missing.
                wanted = frozenset().union(*missing)
                allowed = [i for i in remaining if cands[i].type in wanted] or allowed
            if not allowed:
                allowed = remaining  # quotas cannot be met: fall back to pure MMR
            best_i, best_score = allowed[0], -np.inf
            for i in allowed:
                redundancy = 0.0
                v = vecs[i]
                if v is not None and chosen_vecs:
                    sim = float(max(float(v @ u) for u in chosen_vecs))
                    floor = self.redundancy_floor
                    redundancy = max(0.0, sim - floor) / (1.0 - floor) if floor < 1 else 0.0
                score = self.mmr_lambda * float(rel[i]) - (1 - self.mmr_lambda) * redundancy
                if score > best_score:
                    best_i, best_score = i, score
            c = cands[best_i]
            c.scores["mmr"] = best_score
            picked.append(c)
            remaining.remove(best_i)
            vec = vecs[best_i]
            if vec is not None:
                chosen_vecs.append(vec)
            type_counts[c.type] = type_counts.get(c.type, 0) + 1
            if c.type in SELF_HELP_TYPES:
                need_self_help = False
            if c.type in CLINICAL_TYPES:
                need_clinical = False
        return picked

    @staticmethod
    def _vector(index: _Index, doc_id: str) -> np.ndarray | None:
        pos = index.position.get(doc_id)
        if pos is None or not index.embeddings.size:
            return None
        return index.embeddings[pos]

    def _safety_first(
        self, query: RetrievalQuery, index: _Index, qvec: list[float] | None, lexical_text: str
    ) -> list[_Candidate]:
        """The risk rule: the best safety-planning and crisis-resources passages, in rule order."""
        assert query.risk is not None
        order = (
            ("crisis_resources", "safety_planning")
            if risk_rank(query.risk) >= risk_rank("behavior")
            else ("safety_planning", "crisis_resources")
        )
        picked: list[_Candidate] = []
        for kind in order:
            # Prefer passages written for this risk level; fall back to any of the type.
            for level in (
                _Filter("risk-rule", None, None, query.risk, (kind,)),
                _Filter("risk-rule-any", None, None, None, (kind,)),
            ):
                cands = self._candidates(
                    level,
                    index,
                    qvec,
                    lexical_text,
                    exclude={c.id for c in picked},
                    fetch_k=10,
                )
                if not cands:
                    # No query term or vector reached one (lexical mode, odd text): the rule holds
                    # regardless of the text, so take the first passage of the type.
                    taken = {c.id for c in picked}
                    cands = [
                        _Candidate(d.id, d.text, d.metadata)
                        for d, ok in zip(index.docs, index.mask(level), strict=True)
                        if ok and d.id not in taken
                    ][:1]
                if cands:
                    top = cands[0]
                    top.scores["risk_rule"] = 1.0
                    picked.append(top)
                    break
        if len(picked) < 2:
            # Only one of the two types exists: take a second of the same kind if there is one.
            level = _Filter("risk-rule-fill", None, None, None, SAFETY_TYPES)
            extra = self._candidates(
                level, index, qvec, lexical_text, exclude={c.id for c in picked}, fetch_k=5
            )
            for c in extra[: 2 - len(picked)]:
                c.scores["risk_rule"] = 1.0
                picked.append(c)
        return picked[: query.k]

    # ---- LangChain -------------------------------------------------------------------------
    def as_langchain_retriever(
        self,
        conditions: Sequence[str] = (),
        severity: str | None = None,
        risk: str | None = None,
        k: int = 5,
    ) -> LangChainHybridRetriever:
        """This retriever as a LangChain ``BaseRetriever`` (labels fixed, the text per call)."""
        return LangChainHybridRetriever(
            retriever=self, conditions=tuple(conditions), severity=severity, risk=risk, k=k
        )


class _Candidate:
    """A passage while it is being ranked (mutable scores, frozen once it becomes a result)."""

    __slots__ = ("id", "metadata", "rrf", "scores", "text", "type")

    def __init__(self, id: str, text: str, metadata: Mapping[str, Any]) -> None:
        self.id = id
        self.text = text
        self.metadata = metadata
        self.type = str(metadata.get("intervention_type", ""))
        self.rrf = 0.0
        self.scores: dict[str, float] = {}

    @classmethod
    def from_store(cls, id: str, text: str, metadata: Mapping[str, Any]) -> _Candidate:
        return cls(id, text, metadata)

    def to_passage(self) -> RetrievedPassage:
        meta = public_metadata(self.metadata)
        title = str(meta.get("title", self.id))
        return RetrievedPassage(
            id=self.id,
            title=title,
            text=passage_body(self.text, title),
            metadata=meta,
            score=self.rrf,
            citation=citation_of(self.metadata),
            scores=dict(self.scores),
        )


def public_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Stored metadata without the per-value filter flags (lists stay pipe-joined strings)."""
    prefixes = tuple(FLAG_PREFIXES.values())
    return {k: v for k, v in meta.items() if not k.startswith(prefixes)}


def passage_body(stored_text: str, title: str) -> str:
    """The passage text without the title line that was prepended for embedding."""
    head = f"{title}\n\n"
    return stored_text[len(head) :] if stored_text.startswith(head) else stored_text


def citation_of(meta: Mapping[str, Any]) -> str:
    """``NICE NG222 (2022), <section>. <url>``."""
    if meta.get("citation"):
        return str(meta["citation"])
    parts = [str(meta.get("guideline", "")).strip()]
    if meta.get("year"):
        parts[0] += f" ({meta['year']})"
    if meta.get("section"):
        parts[0] += f", {meta['section']}"
    if meta.get("url"):
        parts.append(str(meta["url"]))
    return ". ".join(p for p in parts if p)


class LangChainHybridRetriever(BaseRetriever):
    """LangChain adapter: ``invoke(text)`` returns ``Document``s with id, score and citation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    conditions: tuple[str, ...] = ()
    severity: str | None = None
    risk: str | None = None
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        found = self.retriever.retrieve(
            RetrievalQuery(
                text=query,
                conditions=self.conditions,
                severity=self.severity,
                risk=self.risk,
                k=self.k,
            )
        )
        return [
            Document(
                id=p.id,
                page_content=p.text,
                metadata={
                    **p.metadata,
                    "id": p.id,
                    "title": p.title,
                    "score": p.score,
                    "citation": p.citation,
                },
            )
            for p in found
        ]
