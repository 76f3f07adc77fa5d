"""The rule-based classifier: transparent lexicons with context scoping.

:class:`LexiconClassifier` produces the full output contract on its own (conditions with
evidence, severity, suicide risk, relevance) and is one label source of the hybrid classifier.
:meth:`LexiconClassifier.analyze` returns every hit, including the negated, hypothetical,
third-person, past and quoted ones with the reason they were discounted, so fusion can veto.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from classifiers.base import Classification, Evidence, LabelScore, RiskResult, SeverityResult
from classifiers.labels import CONDITIONS, risk_rank
from classifiers.rules.context import (
    FIRST_PERSON_WORD_RE,
    NAMES_SOMEONE_ELSE_RE,
    ContextFlags,
    TextContext,
    addressed_to_reader,
    reported_frame,
    resolved_past,
)
from classifiers.rules.patterns import (
    NON_SYMPTOM_KINDS,
    CueSet,
    CueSpec,
    LexiconError,
    TriggerScan,
    read_yaml,
    specs_from_entries,
)
from classifiers.rules.risk import (
    RiskHit,
    effective_level,
    load_construct_tracker_cues,
    score_risk,
)
from classifiers.rules.severity import SeverityFeatures, score_severity, screening_level
from classifiers.text_checks import validate_text

logger = logging.getLogger(__name__)

SOURCE = "rules"
# How much of a hit's weight survives each context. Negated and third-person hits are not
# about the writer at all; the others are weaker evidence but still evidence.
CONTEXT_FACTORS = {
    "negated": 0.0,
    "third_person": 0.0,
    "hypothetical": 0.35,
    "past": 0.5,
    "quoted": 0.3,
    "figurative": 0.0,
    "generic": 0.0,
}
# Label confidence: 1 - exp(-SCALE * evidence). One strong cue (weight 0.8) gives ~0.7, two
# medium cues of different criteria (0.4 + 0.4) the same; a single weak cue stays below the
# threshold. Further hits of an already-seen criterion add little.
LABEL_SCALE = 1.5
#: The least rule score of a condition seen in someone the writer describes
#: (:meth:`RuleAnalysis.about_others`): one cue of weight 0.3 or more (a paranoid belief, a
#: nightly quantity of drink, hopelessness), not a passing word.
OTHERS_MIN_SCORE = 0.35
LABEL_THRESHOLD = 0.5
REPEAT_FACTOR = 0.25
REPEAT_CAP = 0.3
RELEVANCE_THRESHOLD = 0.5
_MAX_EVIDENCE = 6


@dataclass(frozen=True)
class Hit:
    """One cue match, with its context and how much it counts for the writer."""

    lexicon: str
    cue: str
    kind: str
    start: int
    end: int
    text: str
    weight: float
    flags: ContextFlags
    factor: float

    @property
    def counted(self) -> bool:
        """True when the hit adds evidence about the writer (not negated or third person)."""
        return self.factor > 0.0

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the hit was discounted (empty for a plain first-person present hit)."""
        return self.flags.reasons

    def to_dict(self) -> dict[str, Any]:
        return {
            "cue": self.cue,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "weight": self.weight,
            "factor": round(self.factor, 3),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class LabelAnalysis:
    """All hits of one condition and the rule confidence they add up to."""

    label: str
    score: float
    evidence_strength: float
    hits: tuple[Hit, ...]

    @property
    def counted_hits(self) -> tuple[Hit, ...]:
        return tuple(h for h in self.hits if h.counted)

    @property
    def cue_count(self) -> int:
        """Distinct criteria with at least one counted hit."""
        return len({h.cue for h in self.hits if h.counted})

    @property
    def vetoed(self) -> bool:
        """True when the label was mentioned but every mention was negated or about others."""
        return bool(self.hits) and not self.counted_hits

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "score": round(self.score, 4),
            "evidence_strength": round(self.evidence_strength, 3),
            "cue_count": self.cue_count,
            "vetoed": self.vetoed,
            "hits": [h.to_dict() for h in self.hits],
        }


@dataclass(frozen=True)
class RuleAnalysis:
    """Everything the rules found in one text: per-label hits, risk hits, severity features."""

    labels: tuple[LabelAnalysis, ...]
    risk_hits: tuple[RiskHit, ...]
    risk: RiskResult
    severity_features: SeverityFeatures
    severity: SeverityResult
    relevance_hits: tuple[Hit, ...]
    off_topic_hits: tuple[Hit, ...]
    relevance_score: float
    relevant: bool
    model_version: str
    #: The writer says a difficulty is over and nothing says it is back
    #: (:func:`classifiers.rules.context.resolved_past`); fusion reads it on short texts.
    resolved: bool = False
    #: The text frames its content as fiction, media, study or a hypothetical
    #: (:func:`classifiers.rules.context.reported_frame`); fusion reads it on short texts.
    reported: bool = False
    #: The whole text is a chapter of fiction or a research text
    #: (:func:`classifiers.rules.context.strong_frame`): every hit is someone else's words.
    framed: bool = False
    #: ``(start, end)`` of the figures of speech on killing or dying
    #: (:func:`classifiers.rules.context.figurative_spans`); None where not computed.
    figures: tuple[tuple[int, int], ...] | None = None
    #: The text speaks to someone else, not about its writer
    #: (:func:`classifiers.rules.context.addressed_to_reader`); fusion reads it for crisis calls.
    addressed: bool = False

    def label(self, name: str) -> LabelAnalysis:
        """The analysis of one condition."""
        for la in self.labels:
            if la.label == name:
                return la
        raise KeyError(name)

    def detected(self, threshold: float = LABEL_THRESHOLD) -> tuple[LabelAnalysis, ...]:
        """Conditions at or above ``threshold``, strongest first."""
        found = [la for la in self.labels if la.score >= threshold]
        return tuple(sorted(found, key=lambda la: -la.score))

    def to_classification(self, threshold: float = LABEL_THRESHOLD) -> Classification:
        """The output-contract view of this analysis."""
        labels = tuple(
            LabelScore(
                label=la.label,
                score=la.score,
                sources=(SOURCE,),
                evidence=_evidence(la.counted_hits),
            )
            for la in self.detected(threshold)
        )
        return Classification(
            relevant=self.relevant,
            relevance_score=self.relevance_score,
            labels=labels,
            severity=self.severity,
            risk=self.risk,
            model_version=self.model_version,
            decided_by=(SOURCE,),
        )

    def about_others(self, min_score: float = OTHERS_MIN_SCORE) -> tuple[LabelScore, ...]:
        """Conditions the rules see in someone the writer describes, not in the writer: hits
        discounted only because they are about a third person ("my flatmate thinks the
        neighbours are putting cameras in the walls", "my husband drinks a bottle of whisky a
        night"), scored as the writer's own would be, at or above ``min_score``, strongest
        first. They are not the writer's labels; a carer's case draws on them for its
        passages (``assistant.pipeline``)."""
        out: list[LabelScore] = []
        for la in self.labels:
            hits = [h for h in la.hits if h.reasons == ("third_person",)]
            if not hits:
                continue
            strength = _evidence_strength([replace(h, factor=1.0) for h in hits])
            score = 1.0 - math.exp(-LABEL_SCALE * strength)
            if score >= min_score:
                out.append(LabelScore(la.label, round(score, 4), (SOURCE,), _evidence(hits)))
        return tuple(sorted(out, key=lambda lab: -lab.score))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dump, for debugging and the fusion's audit trail."""
        return {
            "relevant": self.relevant,
            "relevance_score": round(self.relevance_score, 4),
            "labels": [la.to_dict() for la in self.labels if la.hits],
            "risk": self.risk.to_dict(),
            "risk_hits": [
                {
                    "cue": h.cue,
                    "level": h.level,
                    "effective_level": h.effective_level,
                    "start": h.start,
                    "end": h.end,
                    "text": h.text,
                    "source": h.source,
                    "reasons": list(h.flags.reasons),
                }
                for h in self.risk_hits
            ],
            "severity": self.severity.to_dict(),
            "severity_features": self.severity_features.to_dict(),
            "relevance_hits": [h.to_dict() for h in self.relevance_hits],
            "off_topic_hits": [h.to_dict() for h in self.off_topic_hits],
            "model_version": self.model_version,
        }


def default_lexicon_dir() -> Path:
    """The lexicon files shipped with the package."""
    return Path(str(files("classifiers.rules") / "lexicons"))


class LexiconClassifier:
    """Rule-based classifier over transparent YAML lexicons.

    Args:
        lexicon_dir: Folder of the lexicon YAML files; default: the shipped ``lexicons/``.
        use_construct_tracker: Add construct-tracker's Suicide Risk Lexicon to the risk cues
            when that package is installed (a warning is logged when it is not).
        max_chars: Longest text accepted by :meth:`predict`.
        threshold: Rule confidence from which a condition is reported.
    """

    def __init__(
        self,
        lexicon_dir: Path | None = None,
        use_construct_tracker: bool = True,
        max_chars: int = 50_000,
        threshold: float = LABEL_THRESHOLD,
    ) -> None:
        self.lexicon_dir = Path(lexicon_dir) if lexicon_dir is not None else default_lexicon_dir()
        self.use_construct_tracker = use_construct_tracker
        self.max_chars = max_chars
        self.threshold = threshold
        self._load()

    # ---- loading ----------------------------------------------------------------------------
    def _load(self) -> None:
        if not self.lexicon_dir.is_dir():
            raise LexiconError(f"lexicon folder {self.lexicon_dir} does not exist")
        digest = hashlib.sha256()
        label_specs: dict[str, list[CueSpec]] = {label: [] for label in CONDITIONS}
        risk_config: dict[str, Any] = {}
        risk_specs: list[CueSpec] = []
        aux: dict[str, list[CueSpec]] = {}
        paths = sorted(self.lexicon_dir.glob("*.yaml"))
        if not paths:
            raise LexiconError(f"no lexicon files (*.yaml) in {self.lexicon_dir}")
        for path in paths:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
            data = read_yaml(path)
            name = str(data.get("lexicon", path.stem))
            where = path.name
            if name in label_specs:
                label_specs[name].extend(specs_from_entries(name, data.get("cues", []), where))
            elif name == "risk":
                risk_config = data
                for level in ("indicator", "ideation", "behavior", "attempt"):
                    risk_specs.extend(
                        specs_from_entries("risk", data.get(level, []), f"{where}:{level}", level)
                    )
            else:
                for section, entries in data.items():
                    if isinstance(entries, list):
                        aux[section] = specs_from_entries(section, entries, f"{where}:{section}")
        missing = [label for label, specs in label_specs.items() if not specs]
        if missing:
            raise LexiconError(f"no cues for {', '.join(missing)} in {self.lexicon_dir}")
        ct_tag = ""
        if self.use_construct_tracker and risk_config.get("construct_tracker"):
            ct_specs, ct_tag = load_construct_tracker_cues(risk_config["construct_tracker"])
            risk_specs.extend(ct_specs)
        self._labels = {label: CueSet(label, specs) for label, specs in label_specs.items()}
        self._risk = CueSet("risk", risk_specs)
        self._aux = {name: CueSet(name, specs) for name, specs in aux.items()}
        self._scan = TriggerScan([*self._labels.values(), self._risk, *self._aux.values()])
        suffix = f"+{ct_tag}" if ct_tag else ""
        self._version = f"rules-{digest.hexdigest()[:12]}{suffix}"
        logger.debug(
            "lexicons loaded: %d label cues, %d risk cues (%s)",
            sum(len(c) for c in self._labels.values()),
            len(self._risk),
            self._version,
        )

    @property
    def version(self) -> str:
        """``rules-<hash of the lexicon files>``, plus ``+ct<n>`` with construct-tracker cues."""
        return self._version

    def cue_counts(self) -> dict[str, int]:
        """Number of patterns per lexicon (conditions, ``risk`` and auxiliary lists)."""
        counts = {label: len(cs) for label, cs in self._labels.items()}
        counts["risk"] = len(self._risk)
        counts.update({name: len(cs) for name, cs in self._aux.items()})
        return counts

    # ---- classification ---------------------------------------------------------------------
    def about_others(self, texts: Sequence[str]) -> list[tuple[LabelScore, ...]]:
        """:meth:`RuleAnalysis.about_others` of each text.

        Raises:
            InvalidTextError: A text cannot be classified (empty, binary, too long).
        """
        return [self.analyze(text).about_others() for text in texts]

    def predict(self, texts: Sequence[str]) -> list[Classification]:
        """Classify texts in order.

        Raises:
            InvalidTextError: A text is empty, binary-looking or too long (see
                :func:`classifiers.text_checks.validate_text`); the caller handles it per row.
        """
        return [self.analyze(text).to_classification(self.threshold) for text in texts]

    def analyze(self, text: str) -> RuleAnalysis:
        """Every hit in one text with its context, and the results they add up to.

        Spans index the validated text (NFC-normalised; identical to the input for ordinary
        text).
        """
        text = validate_text(text, self.max_chars)
        ctx = TextContext(text)
        lowered = text.lower()
        found = self._scan.scan(lowered)
        labels = tuple(
            self._analyze_label(label, cues, text, lowered, found, ctx)
            for label, cues in self._labels.items()
        )
        risk_hits = tuple(self._risk_hits(text, lowered, found, ctx))
        risk = score_risk(risk_hits)
        relevance_hits = tuple(self._aux_hits("relevance", text, lowered, found, ctx))
        off_topic_hits = tuple(self._aux_hits("off_topic", text, lowered, found, ctx))
        features = SeverityFeatures(
            symptom_criteria=len(
                {
                    (h.lexicon, h.cue)
                    for la in labels
                    for h in la.counted_hits
                    if h.kind not in NON_SYMPTOM_KINDS
                }
            ),
            symptom_weight=_symptom_weight(labels),
            labels=sum(1 for la in labels if la.score >= self.threshold),
            impairment=_distinct_counted(self._aux_hits("impairment", text, lowered, found, ctx)),
            intensity=_distinct_counted(
                self._aux_hits("intensity", text, lowered, found, ctx), by_text=True
            ),
            duration=_distinct_counted(self._aux_hits("duration", text, lowered, found, ctx)),
            mildness=_distinct_counted(self._aux_hits("mildness", text, lowered, found, ctx)),
            risk_level=risk.level,
            words=len(text.split()),
            screening=screening_level(
                [h.text for la in labels for h in la.counted_hits if h.kind == "screening"]
            )
            if not _medical_risk(labels)
            else "severe",
        )
        severity = score_severity(features)
        relevance_score = _relevance_score(labels, risk_hits, relevance_hits, off_topic_hits)
        detected = any(la.score >= self.threshold for la in labels)
        relevant = (
            relevance_score >= RELEVANCE_THRESHOLD
            or detected
            or risk_rank(risk.level) >= risk_rank("ideation")
        )
        if not relevant:
            # A text about nothing mental-health related has no severity to speak of.
            severity = SeverityResult(
                level="minimal", score=min(severity.score, 0.1), sources=(SOURCE,)
            )
        return RuleAnalysis(
            labels=labels,
            risk_hits=risk_hits,
            risk=risk,
            severity_features=features,
            severity=severity,
            relevance_hits=relevance_hits,
            off_topic_hits=off_topic_hits,
            relevance_score=relevance_score,
            relevant=relevant,
            model_version=self._version,
            resolved=resolved_past(text),
            reported=reported_frame(text),
            framed=ctx.framed,
            figures=tuple(ctx.figurative),
            addressed=addressed_to_reader(text),
        )

    def _analyze_label(
        self,
        label: str,
        cues: CueSet,
        text: str,
        lowered: str,
        found: Mapping[str, Sequence[int]],
        ctx: TextContext,
    ) -> LabelAnalysis:
        hits = tuple(
            _make_hit(spec, start, end, text, ctx)
            for spec, start, end in cues.find(text, lowered, ctx.sentences, found)
        )
        strength = _evidence_strength(hits)
        score = 1.0 - math.exp(-LABEL_SCALE * strength)
        return LabelAnalysis(
            label=label, score=round(score, 4), evidence_strength=strength, hits=hits
        )

    def _risk_hits(
        self, text: str, lowered: str, found: Mapping[str, Sequence[int]], ctx: TextContext
    ) -> list[RiskHit]:
        out = []
        for spec, start, end in self._risk.find(text, lowered, ctx.sentences, found):
            span = text[start:end]
            own = _names_writer(span)
            flags = ctx.flags_for(start, end, first_person_cue=own)
            level = spec.level or "indicator"
            if not ctx.note and NAMES_SOMEONE_ELSE_RE.search(span):
                # "can kill himself instantly", "my sister has been cutting her arms": another
                # person's act, unless the text is a case note about that person
                flags = dataclasses.replace(flags, third_person=True)
            if ctx.in_figure_of_speech(start, end):
                # "I'm going to kill myself laughing": an idiom, not the writer's risk.
                flags = dataclasses.replace(flags, figurative=True)
            if not own and ctx.is_said_to_reader(start, end):
                # "If you're thinking about suicide, call a hotline": the reader's risk, which
                # the writer raises; somebody else's words count as an indicator at most.
                flags = dataclasses.replace(flags, quoted=True)
            out.append(
                RiskHit(
                    start=start,
                    end=end,
                    text=span,
                    cue=spec.cue,
                    level=level,
                    effective_level=effective_level(level, flags),
                    weight=spec.weight,
                    flags=flags,
                    source=spec.source,
                )
            )
        return out

    def _aux_hits(
        self,
        name: str,
        text: str,
        lowered: str,
        found: Mapping[str, Sequence[int]],
        ctx: TextContext,
    ) -> list[Hit]:
        cues = self._aux.get(name)
        if cues is None:
            return []
        return [
            _make_hit(spec, start, end, text, ctx)
            for spec, start, end in cues.find(text, lowered, ctx.sentences, found)
        ]


def _names_writer(span: str, ctx: TextContext | None = None, start: int = 0) -> bool:
    """The cue names the writer: a first-person word in it, or "the voices" in a sentence the
    writer speaks in ("I'm going to smother the baby, the voices say he is evil": the baby is
    no hearer)."""
    if FIRST_PERSON_WORD_RE.search(span):
        return True
    if ctx is None or not span[:11].lower().startswith(("the voices", "voices ")):
        return False
    s_start, _ = ctx.sentence_of(start)
    return bool(FIRST_PERSON_WORD_RE.search(ctx.text[s_start:start]))


#: Cues whose past is the present state: "quit drinking two years ago" is recovery now.
_PAST_IS_PRESENT_CUES = frozenset({"recovery"})


def _make_hit(spec: CueSpec, start: int, end: int, text: str, ctx: TextContext) -> Hit:
    span = text[start:end]
    flags = ctx.flags_for(start, end, first_person_cue=_names_writer(span, ctx, start))
    if flags.past and spec.cue in _PAST_IS_PRESENT_CUES:
        flags = dataclasses.replace(flags, past=False)
    factor = 1.0
    for reason in flags.reasons:
        factor *= CONTEXT_FACTORS[reason]
    return Hit(
        lexicon=spec.lexicon,
        cue=spec.cue,
        kind=spec.kind,
        start=start,
        end=end,
        text=span,
        weight=spec.weight,
        flags=flags,
        factor=factor,
    )


def _evidence_strength(hits: Sequence[Hit]) -> float:
    """Sum over criteria of the best counted hit, plus a little for repeats of a criterion."""
    by_cue: dict[str, list[float]] = defaultdict(list)
    for h in hits:
        if h.counted:
            by_cue[h.cue].append(h.weight * h.factor)
    total = 0.0
    for values in by_cue.values():
        values.sort(reverse=True)
        total += values[0] + min(REPEAT_CAP, REPEAT_FACTOR * sum(values[1:]))
    return total


def _medical_risk(labels: Sequence[LabelAnalysis]) -> bool:
    """A medical risk in the writer's own words: severe. An eating disorder's (a BMI under 15,
    a heart rate under 45, insulin left out) only beside another eating-disorder cue ("my
    resting HR is 42, I'm a runner" is none); withdrawal's (seizures, hallucinations or
    confusion coming off alcohol or benzodiazepines) names the substance in its own span."""
    for la in labels:
        cues = {h.cue for h in la.counted_hits}
        if "medical_risk" in cues and (len(cues) > 1 or la.label in _SELF_CONTAINED_MEDICAL_RISK):
            return True
    return False


#: Labels whose ``medical_risk`` patterns carry their own context (the substance and the
#: stopping), so one hit is enough.
_SELF_CONTAINED_MEDICAL_RISK = frozenset({"substance_use"})


def _symptom_weight(labels: Sequence[LabelAnalysis]) -> float:
    best: dict[tuple[str, str], float] = {}
    for la in labels:
        for h in la.counted_hits:
            if h.kind in NON_SYMPTOM_KINDS:
                continue
            key = (la.label, h.cue)
            best[key] = max(best.get(key, 0.0), h.weight * h.factor)
    return sum(best.values())


def _distinct_counted(hits: Sequence[Hit], by_text: bool = False) -> int:
    keys = {(h.text.lower() if by_text else h.cue) for h in hits if h.counted}
    return len(keys)


def _relevance_score(
    labels: Sequence[LabelAnalysis],
    risk_hits: Sequence[RiskHit],
    relevance_hits: Sequence[Hit],
    off_topic_hits: Sequence[Hit],
) -> float:
    """How much the text is about mental health at all, whoever it is about.

    Hits about other people and negated mentions still make a text relevant ("my friend is
    suicidal", "I'm not depressed but my anxiety..."), at reduced weight; off-topic vocabulary
    (money, sport, politics) pulls the score down when mental-health words are scarce.
    """
    mh = 0.0
    for la in labels:
        mh += min(1.0, sum(h.weight * (1.0 if h.counted else 0.5) for h in la.hits))
    mh += min(1.5, sum(h.weight * (1.0 if h.counted else 0.5) for h in risk_hits))
    mh += min(1.5, sum(h.weight for h in relevance_hits))
    off = sum(h.weight for h in off_topic_hits)
    score = 1.0 - math.exp(-1.2 * mh)
    if off > mh:
        score *= math.exp(-0.5 * (off - mh))
    return round(score, 4)


def _evidence(hits: Sequence[Hit]) -> tuple[Evidence, ...]:
    ordered = sorted(hits, key=lambda h: (-h.weight * h.factor, h.start))[:_MAX_EVIDENCE]
    return tuple(
        Evidence(start=h.start, end=h.end, text=h.text, cue=h.cue)
        for h in sorted(ordered, key=lambda h: h.start)
    )
