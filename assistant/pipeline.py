"""The care pipeline: redaction -> classification -> safety gate -> retrieval -> prompt ->
streamed LLM draft -> grounding check, returned as one typed :class:`~assistant.draft.CareDraft`.

The classifier decides what is detected, retrieval decides what evidence exists, a deterministic
gate decides what is a crisis, and the LLM only writes. API for front ends (the UI builds on it;
keep this shape)::

    pipeline = build_pipeline(mind)                 # mind: assistant.app.MindSignalApp
    draft = pipeline.analyze(text)                  # redact + classify + gate + retrieve, no LLM
    for event in pipeline.stream(text, session):    # DraftEvent(kind, text, draft)
        event.kind == "analysis"  # first: draft without LLM text; the gate's block (crisis, or
                                  #   not-English notice) already in draft.recommendation
        event.kind == "token"     # then: LLM text pieces in event.text (draft is None)
        event.kind == "final"     # last: the verified draft (crisis block first, then the draft)
    draft = pipeline.recommend(text, session)       # the same, returning only the final draft
    for event in pipeline.follow_up(session, msg):  # multi-turn: same events; a long new post
        ...                                         #   starts a new case instead

``session`` is an :class:`assistant.session.CaseSession` (one per chat). Bad input (empty,
whitespace, longer than ``settings.classifier.max_chars``, NUL bytes or binary-looking text)
raises :class:`InputError` with a message fit to show the user. When the LLM is down, slower than
``settings.llm.first_token_timeout_s`` to start or ``settings.llm.request_timeout_s`` to finish,
or answers nothing, the draft is assembled from the passages (``degraded=True`` and
``degraded_reason`` say why); the analysis is always returned.

Some texts get no draft at all: retrieval and the LLM are skipped, and the recommendation is the
gate's block (if any) and a note saying why (``no_draft_reason``). That is the case for a text the
language check finds not in English (advice drawn from a misread text is worse than none), and
for a text the classifier finds not mental-health related while the gate sees no risk.

Privacy: text is redacted before the classifier, the LLM or any log sees it; logs carry the case
id, counts and timings only, unless ``settings.assistant.log_text`` is on (then redacted text is
logged at DEBUG).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from assistant.draft import CareDraft, DraftEvent, SafetyDecision
from assistant.extractive import PLACEHOLDER_NOTES, extractive_draft
from assistant.grounding import GroundingChecker
from assistant.language import LangidLanguageDetector
from assistant.llm.base import ChatModel
from assistant.prompts import build_messages, system_message
from assistant.redact import RedactionResult, redact_text
from assistant.safety import SafetyGate
from assistant.session import CaseSession
from classifiers.base import Classification, Classifier, InvalidTextError
from classifiers.labels import risk_rank
from classifiers.text_checks import strip_hidden, validate_text
from retrieval.base import RetrievalQuery, Retriever
from retrieval.post_context import CARERS, detect_population

if TYPE_CHECKING:
    from assistant.app import MindSignalApp

logger = logging.getLogger(__name__)

PIPELINE_VERSION = "care-pipeline-1"


class InputError(ValueError):
    """Input that cannot be analysed; the message is meant for the user."""


T = TypeVar("T")


class _Lazy(Generic[T]):
    """A component given directly or as a zero-argument factory, resolved on first use.

    ``method`` names a method every real component has, telling a component from a factory.
    """

    def __init__(self, value: T | Callable[[], T] | None, method: str) -> None:
        self._value: T | None = None
        self._factory: Callable[[], T] | None = None
        self._lock = threading.Lock()
        if value is None:
            return
        if hasattr(value, method) or not callable(value):
            self._value = value  # type: ignore[assignment]
        else:
            self._factory = value

    @property
    def given(self) -> bool:
        return self._value is not None or self._factory is not None

    def get(self) -> T:
        if self._value is None:
            if self._factory is None:
                raise RuntimeError("component not configured")
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
        return self._value


@dataclass(frozen=True)
class PipelineConfig:
    """The settings the pipeline reads (built from :class:`~assistant.settings.AppSettings`)."""

    max_chars: int = 50_000
    top_k: int = 5
    redact: bool = True
    log_text: bool = False
    first_token_timeout_s: float = 30.0
    request_timeout_s: float = 120.0
    max_history_turns: int = 8
    prompt_passage_chars: int = 220
    prompt_post_chars: int = 1000
    versions: Mapping[str, str] = field(default_factory=dict)


#: The user turn of the warm-up request (no case text: nothing sensitive reaches the server).
WARM_UP_MESSAGE = {"role": "user", "content": "Reply with OK."}


@dataclass
class _LLMOutcome:
    text: str = ""
    error: str | None = None
    first_token_ms: float | None = None
    generate_ms: float = 0.0
    model: str | None = None


def check_input(text: Any, max_chars: int) -> str:
    """Return ``text`` if it can be analysed, else raise :class:`InputError` saying why.

    The checks are the classifier's (:func:`classifiers.text_checks.validate_text`); the text
    is returned as given, less the invisible characters that split words
    (:func:`classifiers.text_checks.strip_hidden`), so redaction offsets refer to what every
    later step reads.
    """
    try:
        validate_text(text, max_chars=max_chars)
    except InvalidTextError as exc:
        message = str(exc)
        raise InputError(message[:1].upper() + message[1:] + ".") from None
    if isinstance(text, (bytes, bytearray)):
        return strip_hidden(bytes(text).decode("utf-8"))
    return strip_hidden(str(text))


def as_chat_messages(messages: Sequence[Mapping[str, str]]) -> list[tuple[str, str]]:
    """``{"role", "content"}`` dicts as the ``(role, content)`` tuples :class:`ChatModel` takes."""
    return [(m["role"], m["content"]) for m in messages]


class CarePipeline:
    """Turns a person's text into a verified :class:`CareDraft` (see the module docstring).

    Args:
        classifier: Classifier (or zero-argument factory) for conditions, severity and risk.
        retriever: Passage retriever (or factory).
        gate: The deterministic safety gate.
        grounding: Sentence-level grounding checker.
        chat: Chat model (or factory; ``None``: always the extractive draft).
        config: Limits, timeouts and privacy switches.
    """

    def __init__(
        self,
        classifier: Classifier | Callable[[], Classifier],
        retriever: Retriever | Callable[[], Retriever],
        gate: SafetyGate,
        grounding: GroundingChecker,
        chat: ChatModel | Callable[[], ChatModel] | None = None,
        config: PipelineConfig | None = None,
    ) -> None:
        self._classifier: _Lazy[Classifier] = _Lazy(classifier, "predict")
        self._retriever: _Lazy[Retriever] = _Lazy(retriever, "retrieve")
        self._chat: _Lazy[ChatModel] = _Lazy(chat, "stream")
        self.gate = gate
        self.grounding = grounding
        self.config = config or PipelineConfig()

    # ---- public API -------------------------------------------------------------------------
    def new_session(self) -> CaseSession:
        """A fresh chat session bounded by the configured history length."""
        return CaseSession(max_history_turns=self.config.max_history_turns)

    def warm_up(self) -> bool:
        """Start the LLM and have it read the fixed system prompt once.

        llama.cpp and Ollama keep the last prompt's KV cache, so the first real draft then reads
        only its case (~380 tokens instead of ~540 on the embedded model). Never raises: an LLM
        that is down is reported (False, logged) and the drafts degrade as usual.
        """
        try:
            chat = self._chat.get() if self._chat.given else None
            warm = getattr(chat, "warm_up", None)  # optional: OllamaChat has it
            if warm is None:
                return False
            warm(as_chat_messages([system_message(), WARM_UP_MESSAGE]))
        except Exception as exc:
            logger.info("LLM warm-up skipped: %s", _describe(exc))
            return False
        return True

    def analyze(self, text: str) -> CareDraft:
        """Redact, classify, gate and retrieve; no LLM. Raises :class:`InputError` on bad input."""
        return self._analyze(text, time.perf_counter())

    def stream(self, text: str, session: CaseSession | None = None) -> Iterator[DraftEvent]:
        """Analysis event, then LLM tokens, then the verified final draft.

        Raises:
            InputError: Before any event, when the text cannot be analysed.
        """
        t0 = time.perf_counter()
        draft = self._analyze(text, t0)  # InputError surfaces before the first event
        return self._stream_draft(draft, t0, session)

    def recommend(self, text: str, session: CaseSession | None = None) -> CareDraft:
        """The final verified draft for ``text`` (the last event of :meth:`stream`)."""
        return _final(self.stream(text, session))

    def follow_up(self, session: CaseSession, message: str) -> Iterator[DraftEvent]:
        """Continue the session's case with ``message``, or start a new case if it is one.

        The gate is re-run on the message and can only raise the case's level; the classification
        and passages stay those of the case, except that passages are fetched again when the
        follow-up makes the case a crisis or a graver one ("she's been saving up her pills"), or
        makes a case that got no draft one to draft.

        Raises:
            InputError: Before any event, when the message cannot be used.
        """
        message = check_input(message, self.config.max_chars)
        if not session.is_follow_up(message):
            logger.info("session %s: message starts a new case", session.session_id)
            return self.stream(message, session)
        assert session.draft is not None
        return self._follow_up(session, session.draft, message)

    # ---- steps ------------------------------------------------------------------------------
    def _redact(self, text: str) -> RedactionResult:
        if not self.config.redact:
            return RedactionResult(text=text, redactions=())
        return redact_text(text)

    def _classify(self, text: str) -> Classification:
        try:
            return self._classifier.get().predict([text])[0]
        except InvalidTextError as exc:
            raise InputError(str(exc)) from exc

    def _analyze(self, text: str, t0: float) -> CareDraft:
        text = check_input(text, self.config.max_chars)
        timings: dict[str, float] = {}
        case_id = uuid.uuid4().hex[:12]

        t = time.perf_counter()
        redacted = self._redact(text)
        timings["redact"] = _ms(t)
        if self.config.log_text:
            logger.debug("case %s redacted text: %s", case_id, redacted.text)

        t = time.perf_counter()
        classification = self._classify(redacted.text)
        timings["classify"] = _ms(t)

        t = time.perf_counter()
        gate = self.gate.decide(classification, redacted.text)
        timings["gate"] = _ms(t)

        t = time.perf_counter()
        others = self._about_others(redacted.text, classification)
        no_draft = no_draft_reason(classification.relevant or bool(others), gate)
        passages: list[dict[str, Any]] = []
        retrieval_error = None
        if no_draft is None:
            passages, retrieval_error = self._retrieve(
                redacted.text,
                tuple(classification.label_names()),
                classification.severity.level,
                gate,
                others,
            )
        timings["retrieve"] = _ms(t)
        timings["total"] = _ms(t0)

        draft = CareDraft(
            case_id=case_id,
            created_at=datetime.now(UTC),
            input_chars=len(text),
            redacted_text=redacted.text,
            redactions=list(redacted.redactions),
            classification=classification.to_dict(id=case_id),
            gate=gate,
            passages=passages,
            others=others,
            recommendation=gate.block_markdown,
            degraded=retrieval_error is not None,
            degraded_reason=retrieval_error,
            no_draft_reason=no_draft,
            classifier_version=classification.model_version,
            versions=self._versions(classification.model_version),
            timings_ms=timings,
        )
        logger.info(
            "case %s analysed: chars=%d redactions=%d labels=%d severity=%s risk=%s crisis=%s "
            "language=%s draft=%s passages=%d ms=%.0f",
            case_id,
            len(text),
            len(redacted.redactions),
            len(classification.labels),
            classification.severity.level,
            gate.level,
            gate.crisis,
            gate.language or "en",  # the code only, never text
            "no" if no_draft else "yes",
            len(passages),
            timings["total"],
        )
        return draft

    def _about_others(self, text: str, classification: Classification) -> list[dict[str, Any]]:
        """Conditions the classifier's rules see in someone the writer describes, when the
        writer shows none of their own ("My flatmate thinks the neighbours are putting cameras
        in the walls"); empty otherwise, or where the classifier cannot tell."""
        if classification.labels:
            return []
        about = getattr(self._classifier.get(), "about_others", None)
        if about is None:
            return []
        try:
            found = about([text])[0]
        except InvalidTextError:
            return []
        return [label.to_dict() for label in found]

    def _retrieve(
        self,
        text: str,
        conditions: tuple[str, ...],
        severity: str,
        gate: SafetyDecision,
        others: Sequence[Mapping[str, Any]] = (),
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Passages for the case. Where the writer shows no condition of their own but describes
        someone close who does (``others``), the passages are for that person's conditions and
        for the people around them (population ``families_carers``), at :data:`OTHERS_SEVERITY`:
        the writer's severity is not theirs, and with no severity at all BM25 noise decided the
        order (psychotic depression first for a father "down since he retired")."""
        population = None
        if not conditions and others:
            conditions = tuple(str(o["label"]) for o in others)
            population = detect_population(text) | {CARERS}
            severity = OTHERS_SEVERITY
        query = RetrievalQuery(
            text=text,
            conditions=conditions,
            severity=severity or None,
            risk=gate.level,
            k=self.config.top_k,
            population=population,
        )
        try:
            found = self._retriever.get().retrieve(query)
        except Exception as exc:  # the analysis must survive a broken store
            logger.warning("retrieval failed: %s", type(exc).__name__)
            # Store errors name paths and the command to run, never the query text.
            return [], f"evidence retrieval failed ({_describe(exc)})"
        return [p.to_dict() for p in found[: self.config.top_k]], None

    def _stream_draft(
        self, draft: CareDraft, t0: float, session: CaseSession | None
    ) -> Iterator[DraftEvent]:
        yield DraftEvent("analysis", draft.recommendation, draft)
        if draft.no_draft_reason is not None:
            final = self._without_draft(draft, draft.no_draft_reason, dict(draft.timings_ms), t0)
            if session is not None:
                session.start_case(final, "")
            yield DraftEvent("final", final.recommendation, final)
            return
        t = time.perf_counter()
        messages = build_messages(
            draft.redacted_text,
            draft.classification,
            draft.passages,
            crisis=draft.gate.crisis,
            urgent=draft.gate.urgent,
            others=draft.others,
            passage_chars=self.config.prompt_passage_chars,
            post_chars=self.config.prompt_post_chars,
        )
        timings = dict(draft.timings_ms)
        timings["prompt"] = _ms(t)
        outcome = _LLMOutcome()
        if draft.passages:
            for token in self._generate(messages, outcome):
                yield DraftEvent("token", token, None)
        else:
            outcome.error = draft.degraded_reason or "no evidence passages were retrieved"
        final = self._finish(draft, outcome, timings, t0)
        if session is not None:
            session.start_case(final, outcome.text if outcome.error is None else "")
        yield DraftEvent("final", final.recommendation, final)

    def _follow_up(
        self, session: CaseSession, case: CareDraft, message: str
    ) -> Iterator[DraftEvent]:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        t = time.perf_counter()
        redacted = self._redact(message)
        timings["redact"] = _ms(t)
        t = time.perf_counter()
        classification = self._classify(redacted.text)
        timings["classify"] = _ms(t)
        t = time.perf_counter()
        # A follow-up is the practitioner reporting on a person brought to a mental-health
        # tool: means or preparations in it count without suicidal words ("Update: they told me
        # they bought a rope").
        gate = self.gate.combine(
            case.gate, self.gate.decide(classification, redacted.text, context=True)
        )
        timings["gate"] = _ms(t)
        t = time.perf_counter()
        relevant = bool(case.classification.get("relevant", True)) or bool(case.others)
        no_draft = no_draft_reason(relevant, gate)
        passages = case.passages
        retrieval_error = None
        # The follow-up raised the risk ("she's been saving up her pills"): the case's passages
        # were chosen for a lower one, so safety planning and crisis passages are fetched.
        escalated = gate.crisis and (
            risk_rank(gate.level) > risk_rank(case.gate.level) or gate.urgent > case.gate.urgent
        )
        if no_draft is None and (case.no_draft_reason is not None or escalated):
            # The case skipped retrieval, or the follow-up makes it a crisis or a graver one.
            passages, retrieval_error = self._retrieve(
                f"{case.redacted_text}\n{redacted.text}",
                tuple(case.labels),
                case.severity,
                gate,
                case.others,
            )
            if escalated and not passages and case.passages:
                passages = case.passages  # a broken store: the case's passages beat none
        timings["retrieve"] = _ms(t)
        draft = case.model_copy(
            update={
                "gate": gate,
                "passages": passages,
                "no_draft_reason": no_draft,
                "recommendation": gate.block_markdown,
                "sentences": [],
                "unsupported_count": 0,
                "removed_count": 0,
                "timings_ms": {**timings, "total": _ms(t0)},
                "reviewed": False,
            }
        )
        yield DraftEvent("analysis", draft.recommendation, draft)
        if no_draft is not None:
            final = self._without_draft(draft, no_draft, timings, t0)
            session.update_draft(final)
            session.add_exchange(redacted.text, "")
            yield DraftEvent("final", final.recommendation, final)
            return
        t = time.perf_counter()
        messages = build_messages(
            case.redacted_text,
            case.classification,
            passages,
            crisis=gate.crisis,
            urgent=gate.urgent,
            others=case.others,
            history=session.messages(),
            follow_up=redacted.text,
            passage_chars=self.config.prompt_passage_chars,
            post_chars=self.config.prompt_post_chars,
        )
        timings["prompt"] = _ms(t)
        outcome = _LLMOutcome()
        if passages:
            for token in self._generate(messages, outcome):
                yield DraftEvent("token", token, None)
        else:
            outcome.error = retrieval_error or "no evidence passages were retrieved"
        final = self._finish(draft, outcome, timings, t0)
        session.update_draft(final)
        session.add_exchange(redacted.text, outcome.text if outcome.error is None else "")
        logger.info(
            "session %s follow-up on case %s: turns=%d",
            session.session_id,
            case.case_id,
            len(session.history) // 2,
        )
        yield DraftEvent("final", final.recommendation, final)

    def _generate(self, messages: list[dict[str, str]], outcome: _LLMOutcome) -> Iterator[str]:
        """Stream tokens from the chat model; on failure or timeout set ``outcome.error``."""
        t_start = time.perf_counter()
        try:
            chat = self._chat.get() if self._chat.given else None
        except Exception as exc:  # the backend could not start: degrade, keep the analysis
            outcome.error = f"LLM unavailable ({_describe(exc)})"
            return
        if chat is None:
            outcome.error = "no LLM configured"
            return
        outcome.model = _model_name(chat)
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def worker() -> None:
            try:
                for piece in chat.stream(as_chat_messages(messages)):
                    if stop.is_set():
                        break
                    events.put(("token", piece))
                events.put(("done", None))
            except Exception as exc:
                events.put(("error", exc))

        threading.Thread(target=worker, name="care-draft-llm", daemon=True).start()
        pieces: list[str] = []
        timeout = self.config.first_token_timeout_s
        # The whole answer has request_timeout_s: a host that trickles tokens (each within the
        # gap allowed) must not hold the practitioner, or an LLM slot, for ever.
        deadline = t_start + self.config.request_timeout_s
        try:
            while True:
                left = deadline - time.perf_counter()
                try:
                    if left <= 0:
                        raise queue.Empty
                    kind, value = events.get(timeout=min(timeout, left))
                except queue.Empty:
                    if time.perf_counter() >= deadline:
                        limit = self.config.request_timeout_s
                        outcome.error = f"LLM too slow (answer not finished within {limit:g} s)"
                    else:
                        waited = "first token" if not pieces else "next token"
                        outcome.error = f"LLM too slow (no {waited} within {timeout:g} s)"
                    break
                if kind == "done":
                    break
                if kind == "error":
                    outcome.error = f"LLM unavailable ({_describe(value)})"
                    break
                if not value:
                    continue
                if not pieces:
                    outcome.first_token_ms = _ms(t_start)
                    timeout = self.config.request_timeout_s
                pieces.append(value)
                yield value
        finally:
            stop.set()  # a consumer that stops early (UI cancel) also ends the worker
            outcome.text = "".join(pieces)
            outcome.generate_ms = _ms(t_start)
        if outcome.error is None and not outcome.text.strip():
            outcome.error = "LLM returned an empty answer"

    def _finish(
        self, draft: CareDraft, outcome: _LLMOutcome, timings: dict[str, float], t0: float
    ) -> CareDraft:
        timings["first_token"] = outcome.first_token_ms or 0.0
        timings["generate"] = outcome.generate_ms
        degraded_reason = outcome.error
        body = outcome.text
        if degraded_reason is not None:
            body = extractive_draft(draft.passages, draft.redacted_text)
            logger.warning("case %s degraded: %s", draft.case_id, degraded_reason)
        t = time.perf_counter()
        report = self.grounding.check(body, draft.passages, notes=PLACEHOLDER_NOTES)
        if (
            degraded_reason is None
            and report.sentences
            and not any(s.supported for s in report.sentences)
        ):
            # Nothing the model wrote is backed by the evidence (small models often ramble or
            # skip citations): passage excerpts serve the practitioner better than noise.
            degraded_reason = (
                f"LLM draft not grounded: none of its {len(report.sentences)} sentences was "
                "supported by the passages, so it was replaced by excerpts from them"
            )
            logger.warning("case %s degraded: LLM draft not grounded", draft.case_id)
            body = extractive_draft(draft.passages, draft.redacted_text)
            report = self.grounding.check(body, draft.passages, notes=PLACEHOLDER_NOTES)
        timings["verify"] = _ms(t)
        recommendation = _after_block(draft.gate.block_markdown, report.text)
        timings["total"] = _ms(t0)
        versions = dict(draft.versions)
        if outcome.model:
            versions["llm"] = outcome.model
        final = draft.model_copy(
            update={
                "recommendation": recommendation,
                "sentences": list(report.sentences),
                "unsupported_count": report.unsupported_count,
                "removed_count": report.removed_count,
                "degraded": degraded_reason is not None,
                "degraded_reason": degraded_reason,
                "llm_model": outcome.model if degraded_reason is None else None,
                "versions": versions,
                "timings_ms": timings,
            }
        )
        logger.info(
            "case %s drafted: degraded=%s sentences=%d unsupported=%d removed=%d "
            "first_token_ms=%.0f total_ms=%.0f",
            draft.case_id,
            final.degraded,
            len(report.sentences),
            report.unsupported_count,
            report.removed_count,
            timings["first_token"],
            timings["total"],
        )
        return final

    def _without_draft(
        self, draft: CareDraft, reason: str, timings: dict[str, float], t0: float
    ) -> CareDraft:
        """The final draft of a text that gets no recommendations: the block and a note."""
        timings["total"] = _ms(t0)
        versions = {k: v for k, v in draft.versions.items() if k != "llm"}  # no model was asked
        logger.info("case %s: no draft (%s)", draft.case_id, _no_draft_kind(reason))
        return draft.model_copy(
            update={
                "recommendation": _after_block(
                    draft.gate.block_markdown, f"**No recommendations drafted.** {reason}"
                ),
                "sentences": [],
                "unsupported_count": 0,
                "removed_count": 0,
                "degraded": False,
                "degraded_reason": None,
                "llm_model": None,
                "versions": versions,
                "timings_ms": timings,
            }
        )

    def _versions(self, classifier_version: str) -> dict[str, str]:
        versions = {"pipeline": PIPELINE_VERSION, "classifier": classifier_version}
        versions.update(self.config.versions)
        return versions


#: Why a text gets no draft (:func:`no_draft_reason`), as shown after "No recommendations drafted."
NOT_ENGLISH_REASON = (
    "Evidence retrieval and the LLM draft were skipped because MindSignal cannot read this text: "
    "advice drawn from a misread text is worse than none."
)
NO_SIGNAL_REASON = (
    "No signals consistent with a mental-health difficulty were found in this text, so there is "
    "nothing to draft. If you have concerns about the person, assess them directly."
)


#: The severity a case's passages are chosen at when they are for someone the writer describes:
#: people write about someone close when it has become a worry, and "moderate" admits most
#: passages for support, referral and therapy.
OTHERS_SEVERITY = "moderate"


def no_draft_reason(relevant: bool, gate: SafetyDecision) -> str | None:
    """Why a text gets no retrieval and no LLM draft, or ``None`` when it gets a draft.

    A text not in English gets none, crisis or not (the gate's block still leads). A text the
    classifier finds not mental-health related gets none while the gate sees no risk at all.
    """
    if gate.language:
        return NOT_ENGLISH_REASON
    if not relevant and gate.level == "none" and not gate.crisis:
        return NO_SIGNAL_REASON
    return None


def _no_draft_kind(reason: str) -> str:
    return "not English" if reason == NOT_ENGLISH_REASON else "no mental-health signal"


def _after_block(block: str, text: str) -> str:
    """``text`` after the gate's block (which always leads when there is one)."""
    return f"{block}\n\n{text}".strip() if block else text


def _final(events: Iterator[DraftEvent]) -> CareDraft:
    final: CareDraft | None = None
    for event in events:
        if event.kind == "final":
            final = event.draft
    assert final is not None, "the pipeline always ends with a final event"
    return final


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


def _describe(exc: BaseException) -> str:
    # Exception text from HTTP clients names hosts and ports, never user text.
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message[:400]}" if message else type(exc).__name__


def _model_name(chat: Any) -> str | None:
    model = getattr(chat, "model", None)
    return str(model) if model else None


def build_pipeline(mind: MindSignalApp) -> CarePipeline:
    """Wire the pipeline from the app's settings and lazily built components."""
    settings = mind.settings
    kb = settings.knowledge_base
    resources = _load_resources(kb.resources_dir, kb.locale, kb.extra_resources_file)
    a = settings.assistant
    language = LangidLanguageDetector() if a.language_check else None
    return CarePipeline(
        classifier=lambda: mind.classifier,
        retriever=lambda: mind.retriever,
        gate=SafetyGate(resources, language=language),
        grounding=GroundingChecker(mind.embeddings, a.grounding_threshold, a.grounding_mode),
        chat=lambda: mind.chat,
        config=PipelineConfig(
            max_chars=settings.classifier.max_chars,
            top_k=settings.retrieval.top_k,
            redact=a.redact,
            log_text=a.log_text,
            first_token_timeout_s=settings.llm.first_token_timeout_s,
            request_timeout_s=settings.llm.request_timeout_s,
            max_history_turns=a.max_history_turns,
            prompt_passage_chars=settings.llm.prompt_passage_chars,
            prompt_post_chars=settings.llm.prompt_post_chars,
            versions={"embeddings": mind.embeddings.name},
        ),
    )


def _load_resources(resources_dir: Any, locale: str, extra_file: Any) -> Any:
    """The configured locale's crisis resources (with the clinic's file merged in front).

    A broken clinic file must not cost the locale's own lines: it falls back to the locale alone,
    and only then to the international list.
    """
    from knowledge_base.resources import CrisisResourcesError, load_crisis_resources

    try:
        return load_crisis_resources(resources_dir, locale, extra_file)
    except CrisisResourcesError as exc:
        logger.error("crisis resources for %s could not be loaded: %s", locale, exc)
    if extra_file is not None:
        try:
            return load_crisis_resources(resources_dir, locale)
        except CrisisResourcesError as exc:
            logger.error("crisis resources for %s alone could not be loaded: %s", locale, exc)
    try:
        return load_crisis_resources(resources_dir, "intl")
    except CrisisResourcesError as exc:
        logger.error("international crisis resources could not be loaded: %s", exc)
        return None


__all__: Sequence[str] = (
    "CarePipeline",
    "ChatModel",
    "InputError",
    "PipelineConfig",
    "build_pipeline",
    "check_input",
    "no_draft_reason",
)
