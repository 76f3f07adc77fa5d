"""Hybrid retrieval: dense (Chroma) + BM25, metadata filters, diversity and the risk rule.

How one query is answered:

1. **Query text.** Dense: the post, cut to its key sentences when it is longer than MiniLM
   reads (256 tokens); the detected labels only when there is no text (they act through the
   filters and the prior below). BM25: the whole post (no length limit) plus the labels as words
   ("condition: depression; severity: moderate"). Passages are indexed with their
   ``situations`` (how the people they fit describe things, in their own words): BM25 reads them
   beside the text, and each stored vector mixes their embedding in (``knowledge_base.ingest``).
2. **Filters, relaxed in order** until at least ``k`` passages qualify; passages that pass a
   stricter level always rank before those added by a looser one:

   a. condition (any detected condition, ``general_wellbeing``, and ``suicide_risk`` when risk is
      indicator or higher) + severity (the passage lists the level) + risk (the passage lists it);
   b. condition + severity;
   c. condition only;
   d. no filter.

   With no detected condition, the condition part admits ``general_wellbeing`` (and
   ``suicide_risk`` from an indicator up) until level d.
3. **Scoring** (score fusion): within the passages a filter level admits, the dense cosine and
   the BM25 score are each standardised (z-scores) and summed, BM25 weighted ``lexical_weight``
   (0.25: informal posts share few words with clinical passages), plus a **metadata prior** in
   the same units: ``condition_boost`` x the Jaccard overlap of the passage's conditions with
   the detected ones (suicide risk counts as detected from ideation up; cross-cutting passages
   and passages admitted only through their suicide-risk tag but written for another condition
   get 0), and ``severity_boost`` x 1 / the number of severity levels the passage lists (a
   passage written for exactly the detected level beats one for every level), minus
   ``population_penalty`` for a passage written for children and young people or for families
   and carers when the post is not about them (``retrieval.post_context``: a parent or partner
   writing about someone still gets them; an adult writing about themselves does not), and minus
   ``treatment_penalty`` for one that presupposes treatment (a review of treatment that is not
   working, stopping a medication, relapse prevention) when the post mentions none, and minus
   ``duration_penalty`` for one that presupposes difficulties of years (chronic depressive
   symptoms) when the post gives no such duration, and minus ``situation_penalty`` (3.0, near
   exclusion) for one written for a situation (``requires``: a bereavement, baby loss, the
   perinatal period, later life, a substance, a medicine's emergency, abuse) the post does not
   show. This replaced
   reciprocal rank fusion (k = 60), which over the 30-50 passages a level admits flattened the
   scores so much that BM25 noise decided the order.
4. **Diversity.** Maximal marginal relevance over the ``fetch_k`` best candidates (``mmr_lambda``;
   relevance is the min-max-scaled fused score, redundancy the cosine similarity of passage
   embeddings above ``redundancy_floor`` = 0.8, so only near-duplicates are pushed apart, not
   passages that merely share a topic), with quotas: at most two passages of one intervention
   type, and when ``k >= 4`` at least one self-help type (psychoeducation, behaviour change,
   guided self-help, social support) and one clinical type (psychological therapy, medication
   review, referral) if any qualify.
5. **Risk rule.** Risk at ideation or above always puts a safety-planning and a crisis-resources
   passage in the first two places (crisis resources first from behaviour up), whatever the text;
   each is the best-scored of its type among the passages the condition filter admits (those
   written for suicide risk in general or for a detected condition before those written for
   another condition and admitted through their suicide-risk tag), falling
   back to any passage of the type for the risk level, then to any of the type.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
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
    StoredDocument,
    StoreError,
    StoreSnapshot,
    flag_key,
    split_list,
)
from retrieval.lexical import BM25Index
from retrieval.post_context import (
    POPULATIONS,
    detect_population,
    detect_situations,
    mentions_long_duration,
    mentions_treatment,
)

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "lexical"]

SAFETY_TYPES: tuple[str, ...] = ("safety_planning", "crisis_resources")
#: Conditions the filter admits for every post (they are about no one condition).
CROSS_CUTTING: frozenset[str] = frozenset({"general_wellbeing", "suicide_risk"})
SELF_HELP_TYPES: frozenset[str] = frozenset(
    {"psychoeducation", "behaviour_change", "guided_self_help", "social_support"}
)
CLINICAL_TYPES: frozenset[str] = frozenset(
    {"psychological_therapy", "medication_review", "referral"}
)
MAX_PER_TYPE = 2
#: Fusion defaults, chosen on knowledge_base/eval/queries_B1 (queries_B2 held out).
LEXICAL_WEIGHT = 0.25
CONDITION_BOOST = 1.5
SEVERITY_BOOST = 1.5
REDUNDANCY_FLOOR = 0.8
#: Subtracted from passages written for children or for carers when the post is not about them.
POPULATION_PENALTY = 1.0
#: Subtracted from passages that presuppose treatment when the post mentions none.
TREATMENT_PENALTY = 1.0
#: The same for passages that presuppose difficulties of years when the post gives no such
#: duration; the treatment penalty's value, not tuned.
DURATION_PENALTY = 1.0
#: The same for passages written for a situation (``requires``: a bereavement, the perinatal
#: period, later life, a substance, a medicine's emergency, abuse) the post does not show. Such a
#: passage is wrong, not less apt (postpartum psychosis for a widower of 72, alcohol withdrawal
#: for a cannabis user), so the penalty all but excludes it (1.0 left them in the top five); not
#: tuned on the evaluation queries.
SITUATION_PENALTY = 3.0
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
        self._blas: Any = None  # threadpoolctl controller, made on first dense query
        self.position = {d.id: i for i, d in enumerate(self.docs)}
        emb = snapshot.embeddings
        if emb.size:
            norms = np.linalg.norm(emb, axis=1, keepdims=True)
            emb = emb / np.maximum(norms, 1e-12)
        self.embeddings = emb
        self.bm25 = BM25Index([d.id for d in self.docs], [lexical_text(d) for d in self.docs])
        self.types = np.array([str(d.metadata.get("intervention_type", "")) for d in self.docs])
        # The situations each passage is written for (``requires``; empty: any post).
        self.requires = [frozenset(split_list(d.metadata, "requires")) for d in self.docs]
        # How many conditions / severity levels each passage lists (for the targeting prior).
        self.n_conditions = np.array(
            [max(len(split_list(d.metadata, "conditions")), 1) for d in self.docs], dtype=np.float32
        )
        self.n_specific = np.array(
            [
                sum(c not in CROSS_CUTTING for c in split_list(d.metadata, "conditions"))
                for d in self.docs
            ],
            dtype=np.float32,
        )
        self.n_severity = np.array(
            [max(len(split_list(d.metadata, "severity")), 1) for d in self.docs], dtype=np.float32
        )
        self._flags: dict[str, np.ndarray] = {}
        empty = np.zeros(0, dtype=np.float32)
        # One-entry caches: the filter levels and the risk rule of one query share these.
        self._last: tuple[Any, np.ndarray] = (None, empty)
        self._last_lex: tuple[Any, np.ndarray] = (None, empty)

    def _single_threaded_blas(self) -> Any:
        """A context in which OpenBLAS runs on one thread.

        One matrix-vector product over 10,000 passages takes about a millisecond on one core; on
        several, OpenBLAS's worker threads keep spinning after it returns and starve the next
        query's embedding (measured: query p95 at 10,000 passages 128 ms multi-threaded, 31 ms
        single-threaded).
        """
        if self._blas is None:
            from threadpoolctl import ThreadpoolController

            self._blas = ThreadpoolController()
        return self._blas.limit(limits=1, user_api="blas")

    def dense_scores(self, qvec: Sequence[float]) -> np.ndarray:
        """Cosine similarity of every passage to the query vector (last query cached)."""
        key = tuple(qvec)
        last = self._last  # read once: another thread may replace it (no lock needed)
        if last[0] == key:
            return last[1]
        q = np.asarray(qvec, dtype=np.float32)
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        with self._single_threaded_blas():
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

    def foreign(self, conditions: Iterable[str]) -> np.ndarray:
        """Passages written for specific conditions, none of them among ``conditions`` (e.g. an
        eating-disorder crisis plan the filter admits for a depression post through its
        suicide-risk tag)."""
        hits = np.zeros(len(self.docs), dtype=np.float32)
        for c in set(conditions) - CROSS_CUTTING:
            hits += self.flag(flag_key("conditions", c))
        return (self.n_specific > 0) & (hits == 0)

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

    def without(self, mask: np.ndarray, ids: set[str]) -> np.ndarray:
        """``mask`` with the given passages switched off (a copy when any is)."""
        drop = [self.position[i] for i in ids if i in self.position]
        if not drop:
            return mask
        mask = mask.copy()
        mask[drop] = False
        return mask


def lexical_text(doc: StoredDocument) -> str:
    """What BM25 indexes for a record: its text plus its ``situations`` (posters' own words)."""
    situations = split_list(doc.metadata, "situations")
    return doc.text if not situations else doc.text + "\n" + "\n".join(situations)


def _zscore(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scores standardised over the passages inside the mask (zero spread: all zero).

    NaN marks a passage the score does not cover (dense hits from Chroma): it gets the lowest
    standardised score of the covered ones.
    """
    out = np.zeros(scores.shape, dtype=np.float32)
    inside = mask & ~np.isnan(scores)
    if not inside.any():
        return out
    sub = scores[inside]
    std = float(sub.std())
    if std > 1e-9:
        out[inside] = (sub - float(sub.mean())) / std
        out[mask & np.isnan(scores)] = float(out[inside].min())
    return out


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
        fetch_k: Candidates kept per filter level for diversity selection.
        use_lexical: Fuse BM25 with dense search (False: dense only).
        mmr_lambda: Relevance/diversity trade-off for MMR (1 = relevance only).
        mode: Overrides ``use_lexical``: ``hybrid``, ``dense`` or ``lexical`` (for evaluation).
        use_filters: Apply the condition/severity/risk filter ladder.
        diversify: Apply MMR and the type quotas.
        dense_weight: Weight of the standardised dense similarity in the fused score.
        lexical_weight: Weight of the standardised BM25 score in hybrid mode (BM25 is the weaker
            ranker on informal posts; in lexical mode it is the only signal and weighs 1).
        condition_boost: Weight of the condition match (Jaccard overlap of the passage's
            conditions with the detected ones) in the fused score, in standard deviations.
        severity_boost: Weight of the severity fit (1 / number of levels the passage lists, when
            it lists the detected one) in the fused score, in standard deviations.
        max_per_type: Most passages of one intervention type in the results.
        require_groups: From k >= 4, include a self-help and a clinical type when any qualify.
        redundancy_floor: MMR only counts passage similarity above this cosine as redundancy,
            so it separates near-duplicates rather than passages on the same topic.
        population_penalty: Prior subtracted from passages written for children or for carers
            when the post is not about them (0: off).
        treatment_penalty: Prior subtracted from passages that presuppose treatment already
            started when the post mentions none (0: off).
        duration_penalty: Prior subtracted from passages that presuppose difficulties of years
            when the post gives no such duration (0: off).
        situation_penalty: Prior subtracted from passages written for situations
            (``requires``) the post shows none of (0: off).
    """

    def __init__(
        self,
        store: ChromaStore,
        fetch_k: int = 30,
        use_lexical: bool = True,
        mmr_lambda: float = 0.7,
        mode: Mode | None = None,
        use_filters: bool = True,
        diversify: bool = True,
        dense_weight: float = 1.0,
        lexical_weight: float = LEXICAL_WEIGHT,
        condition_boost: float = CONDITION_BOOST,
        severity_boost: float = SEVERITY_BOOST,
        max_per_type: int = MAX_PER_TYPE,
        require_groups: bool = True,
        redundancy_floor: float = REDUNDANCY_FLOOR,
        population_penalty: float = POPULATION_PENALTY,
        treatment_penalty: float = TREATMENT_PENALTY,
        duration_penalty: float = DURATION_PENALTY,
        situation_penalty: float = SITUATION_PENALTY,
    ) -> None:
        self.store = store
        self.fetch_k = fetch_k
        self.mmr_lambda = mmr_lambda
        self.mode: Mode = mode or ("hybrid" if use_lexical else "dense")
        self.use_filters = use_filters
        self.diversify = diversify
        self.dense_weight = dense_weight
        self.lexical_weight = lexical_weight
        self.condition_boost = condition_boost
        self.severity_boost = severity_boost
        self.max_per_type = max_per_type
        self.require_groups = require_groups
        self.redundancy_floor = redundancy_floor
        self.population_penalty = population_penalty
        self.treatment_penalty = treatment_penalty
        self.duration_penalty = duration_penalty
        self.situation_penalty = situation_penalty
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
        """(dense query text, lexical query text).

        The dense text is the post alone: the labels act through the filters and the metadata
        prior, and as words they pull every post of a condition towards the same generic passages
        (measured on queries_B1). A query without text embeds the labels.
        """
        labels = self.label_words(query)
        dense = self.key_text(query.text) if query.text.strip() else labels
        lexical = " ".join(p for p in (query.text[:MAX_LEXICAL_CHARS], labels) if p)
        return dense, lexical

    @staticmethod
    def filter_ladder(query: RetrievalQuery) -> list[_Filter]:
        """The filter levels, strictest first (see the module docstring)."""
        # With no condition detected, general-wellbeing passages first (and suicide risk's from
        # an indicator up): a widower's quiet days are not a reason for ADHD passages, which an
        # unfiltered search found for such a post; every passage stays reachable at the last level.
        extra = ["general_wellbeing"]
        if query.risk and risk_rank(query.risk) >= 1:
            extra.append("suicide_risk")
        conds: tuple[str, ...] = tuple(dict.fromkeys([*query.conditions, *extra]))
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

    @staticmethod
    def targeted_conditions(query: RetrievalQuery) -> frozenset[str]:
        """The conditions a passage should be written for: the detected ones, plus suicide risk
        when the risk is at ideation or above."""
        conds = set(query.conditions)
        if conds and query.risk and risk_rank(query.risk) >= risk_rank("ideation"):
            conds.add("suicide_risk")
        return frozenset(conds)

    def metadata_prior(self, query: RetrievalQuery, index: _Index) -> np.ndarray:
        """How well each passage is targeted at the detected labels, added to the fused score.

        * condition match: Jaccard overlap of the passage's conditions with
          :meth:`targeted_conditions` (1 for a passage written for exactly the detected condition,
          less for one that also covers others, 0 for cross-cutting general-wellbeing passages
          the filter admits, and 0 for a passage written for another condition that the filter
          admits only through its suicide-risk tag, e.g. an eating-disorder safety passage for a
          depression post);
        * severity fit: 1 / the number of severity levels the passage lists, when it lists the
          detected one (a passage written for "severe" beats one for "any severity");
        * population: ``-population_penalty`` for a passage written for children and young
          people or for families and carers (its ``population`` field) when the post is about
          none of its populations (:meth:`query_population`);
        * treatment: ``-treatment_penalty`` for a passage that presupposes treatment already
          started (``after_treatment``) when the post mentions none (:meth:`query_treated`);
        * duration: ``-duration_penalty`` for a passage that presupposes difficulties of years
          (``long_standing``) when the post gives no such duration (:meth:`query_long_standing`);
        * situation: ``-situation_penalty`` for a passage written for situations (``requires``)
          the post shows none of (:meth:`query_situations`).
        """
        n = len(index.docs)
        prior = np.zeros(n, dtype=np.float32)
        conds = self.targeted_conditions(query)
        if conds and self.condition_boost:
            inter = np.zeros(n, dtype=np.float32)
            for c in conds:
                inter += index.flag(flag_key("conditions", c))
            union = index.n_conditions + len(conds) - inter
            foreign = index.foreign(conds)
            prior += self.condition_boost * np.where(foreign, 0.0, inter / union)
        if query.severity in SEVERITY_LEVELS and self.severity_boost:
            fits = index.flag(flag_key("severity", str(query.severity)))
            prior += self.severity_boost * fits / index.n_severity
        if self.population_penalty:
            about = self.query_population(query)
            tagged = np.zeros(n, dtype=bool)
            matched = np.zeros(n, dtype=bool)
            for pop in POPULATIONS:
                flags = index.flag(flag_key("population", pop))
                tagged |= flags
                if pop in about:
                    matched |= flags
            prior -= self.population_penalty * (tagged & ~matched)
        if self.treatment_penalty and not self.query_treated(query):
            prior -= self.treatment_penalty * index.flag("after_treatment")
        if self.duration_penalty and not self.query_long_standing(query):
            prior -= self.duration_penalty * index.flag("long_standing")
        if self.situation_penalty:
            shown = self.query_situations(query)
            unmet = np.array(
                [bool(req) and not (req & shown) for req in index.requires], dtype=bool
            )
            prior -= self.situation_penalty * unmet
        return prior

    @staticmethod
    def query_population(query: RetrievalQuery) -> frozenset[str]:
        """Whom the post is about: as given, else read from its text
        (:mod:`retrieval.post_context`)."""
        if query.population is not None:
            return frozenset(query.population)
        return detect_population(query.text[:MAX_LEXICAL_CHARS]) if query.text else frozenset()

    @staticmethod
    def query_situations(query: RetrievalQuery) -> frozenset[str]:
        """The situations the post shows: as given, else read from its text."""
        if query.situations is not None:
            return frozenset(query.situations)
        return detect_situations(query.text[:MAX_LEXICAL_CHARS]) if query.text else frozenset()

    @staticmethod
    def query_long_standing(query: RetrievalQuery) -> bool:
        """Whether the difficulties have lasted years: as given, else read from the text."""
        if query.long_standing is not None:
            return query.long_standing
        return mentions_long_duration(query.text[:MAX_LEXICAL_CHARS]) if query.text else False

    @staticmethod
    def query_treated(query: RetrievalQuery) -> bool:
        """Whether treatment has started: as given, else read from the text."""
        if query.treated is not None:
            return query.treated
        return mentions_treatment(query.text[:MAX_LEXICAL_CHARS]) if query.text else False

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
        prior = self.metadata_prior(query, index)
        chosen: list[_Candidate] = []
        taken: set[str] = set()

        if query.risk and risk_rank(query.risk) >= risk_rank("ideation"):
            chosen.extend(self._safety_first(query, index, qvec, lexical_text, prior))
            taken.update(c.id for c in chosen)

        ladder = (
            self.filter_ladder(query) if self.use_filters else [_Filter("none", None, None, None)]
        )
        # At a crisis the suicide-risk tag admits every condition's crisis passages: an
        # eating-disorder or bipolar plan for an overdose post with no such signal. The ladder
        # is first walked without passages written only for conditions not detected (all
        # condition-specific ones when none is), then, if that leaves slots, with them.
        foreign: set[str] = set()
        if self.use_filters and query.risk and risk_rank(query.risk) >= risk_rank("ideation"):
            flags = index.foreign(query.conditions)
            foreign = {d.id for d, f in zip(index.docs, flags, strict=True) if f}
        for skip in [foreign, set()] if foreign else [set()]:
            for n_level, level in enumerate(ladder):
                if len(chosen) >= query.k:
                    break
                cands = self._candidates(
                    level, index, qvec, lexical_text, exclude=taken | skip, prior=prior
                )
                picked = self._select(cands, index, query.k - len(chosen), already=chosen)
                for c in picked:
                    c.scores["filter_level"] = float(n_level)
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
        prior: np.ndarray | None = None,
    ) -> list[_Candidate]:
        """Fused candidates of one filter level, best first."""
        fetch = fetch_k or self.fetch_k
        mask = index.without(index.mask(level), exclude)
        if not mask.any():
            return []
        use_dense = self.mode in ("hybrid", "dense") and qvec is not None
        use_lexical = self.mode in ("hybrid", "lexical")
        dense: np.ndarray | None = None
        bm25: np.ndarray | None = None
        if use_dense:
            assert qvec is not None
            if index.embeddings.size:
                # Exact cosine over the snapshot of Chroma's own vectors: one matrix product per
                # query (cached across filter levels), where Chroma's filtered HNSW search costs a
                # round trip per level (see benchmarks/results/retrieval.md).
                dense = index.dense_scores(qvec)
            else:
                dense = self._dense_from_store(level, index, qvec, int(mask.sum()) + len(exclude))
        if use_lexical:
            bm25 = index.lexical_scores(lexical_text)
            if not use_dense:
                # BM25 alone: a passage sharing no query term is no candidate.
                mask = mask & (bm25 > 0)
                if not mask.any():
                    return []

        # Score fusion: each signal standardised over the passages this level admits, so a weight
        # means the same whatever the score scale (cosine, BM25) or the corpus.
        fused = np.zeros(len(index.docs), dtype=np.float32)
        if dense is not None:
            fused += self.dense_weight * _zscore(dense, mask)
        if bm25 is not None:
            fused += (self.lexical_weight if dense is not None else 1.0) * _zscore(bm25, mask)
        if prior is not None:
            fused += prior
        top = [pos for pos, _ in _top_masked(fused, mask, fetch)]

        ranked = []
        for pos in top:
            doc = index.docs[pos]
            c = _Candidate(doc.id, doc.text, doc.metadata)
            c.score = float(fused[pos])
            if dense is not None and not np.isnan(dense[pos]):
                c.scores["dense"] = float(dense[pos])
            if bm25 is not None:
                c.scores["bm25"] = float(bm25[pos])
            if prior is not None:
                c.scores["prior"] = float(prior[pos])
            c.scores["fused"] = c.score
            ranked.append(c)
        return ranked

    def _dense_from_store(
        self, level: _Filter, index: _Index, qvec: list[float], k: int
    ) -> np.ndarray:
        """Dense similarities from Chroma's own search (snapshot without vectors); NaN elsewhere."""
        sims = np.full(len(index.docs), np.nan, dtype=np.float32)
        for hit in self.store.query(embedding=qvec, k=k, where=level.where()):
            pos = index.position.get(hit.id)
            if pos is not None:
                sims[pos] = hit.similarity
        return sims

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
        fused = np.array([c.score for c in cands], dtype=np.float32)
        span = float(fused.max() - fused.min())
        rel = (fused - fused.min()) / span if span > 0 else np.ones_like(fused)
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
        self,
        query: RetrievalQuery,
        index: _Index,
        qvec: list[float] | None,
        lexical_text: str,
        prior: np.ndarray | None = None,
    ) -> list[_Candidate]:
        """The risk rule: the best safety-planning and crisis-resources passages, in rule order.

        Each is looked for first among the passages the condition filter admits for this query
        (the detected conditions, suicide risk, general wellbeing) that list the risk level, then
        among any that list the level, then among all of the type: an eating-disorder post gets
        the suicide-risk crisis passage before a substance-use one.
        """
        assert query.risk is not None
        order = (
            ("crisis_resources", "safety_planning")
            if risk_rank(query.risk) >= risk_rank("behavior")
            else ("safety_planning", "crisis_resources")
        )
        ladder = self.filter_ladder(query) if self.use_filters else []
        conds = ladder[0].conditions if ladder else None
        picked: list[_Candidate] = []
        for kind in order:
            levels = [
                _Filter("risk-rule", None, None, query.risk, (kind,)),
                _Filter("risk-rule-any", None, None, None, (kind,)),
            ]
            if conds:
                levels.insert(0, _Filter("risk-rule-condition", conds, None, query.risk, (kind,)))
            for level in levels:
                cands = self._candidates(
                    level,
                    index,
                    qvec,
                    lexical_text,
                    exclude={c.id for c in picked},
                    fetch_k=10,
                    prior=prior,
                )
                if cands and level.name == "risk-rule-condition":
                    # A crisis passage written for another condition (bipolar's crisis plan for
                    # an anxiety post) passes the filter through its suicide-risk tag; one for
                    # suicide risk in general, or for a detected condition, fits better.
                    foreign = index.foreign(query.conditions)
                    fits = [
                        c
                        for c in cands
                        if (pos := index.position.get(c.id)) is None or not foreign[pos]
                    ]
                    cands = fits or cands
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
                level,
                index,
                qvec,
                lexical_text,
                exclude={c.id for c in picked},
                fetch_k=5,
                prior=prior,
            )
            for c in extra[: 2 - len(picked)]:
                c.scores["risk_rule"] = 1.0
                picked.append(c)
        return picked[: query.k]

    # ---- LangChain -------------------------------------------------------------------------
    def passages_by_id(self, ids: Sequence[str]) -> dict[str, RetrievedPassage]:
        """The stored passages with these ids, as results without scores (unknown ids: left out)."""
        wanted = set(ids)
        return {
            doc.id: _Candidate.from_store(doc.id, doc.text, doc.metadata).to_passage()
            for doc in self._current_index().docs
            if doc.id in wanted
        }

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

    __slots__ = ("id", "metadata", "score", "scores", "text", "type")

    def __init__(self, id: str, text: str, metadata: Mapping[str, Any]) -> None:
        self.id = id
        self.text = text
        self.metadata = metadata
        self.type = str(metadata.get("intervention_type", ""))
        self.score = 0.0
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
            score=self.score,
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
