"""Multi-turn case sessions: one current case (its draft) plus the follow-up history.

A message is a follow-up when there is a current case and the message is short, a question about
the case, an editing request ("make it shorter") or a fact about the person ("the person is 16");
a long new post starts a new case and resets the history. The history is bounded by
``max_history_turns`` (settings.assistant.max_history_turns); only redacted text is kept.

A session runs one chat turn at a time (:meth:`CaseSession.turn`): a second message sent while a
draft is still being written is refused at once with :data:`BUSY_MESSAGE`, not run beside it.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from assistant.draft import CareDraft

#: Up to this many characters a message is always treated as a follow-up when a case exists.
SHORT_MESSAGE_CHARS = 160
#: Characters of history put into one prompt (SmolLM2 has an 8k-token context).
MAX_HISTORY_CHARS = 6000
#: From this many characters a message is a new case unless it opens like a follow-up.
NEW_CASE_CHARS = 600

_FOLLOW_UP_RE = re.compile(
    r"^\s*(?:make it|make this|can you|could you|please|what about|what if|how about|and |also|"
    r"shorter|longer|simplify|rewrite|rephrase|translate|expand|explain|add |remove |focus|"
    r"the (?:person|client|patient|user|poster)|(?:he|she|they)(?:'s| is| are| has| have)|"
    r"(?:his|her|their) |why |which |is |are |does |should |would |now )",
    re.IGNORECASE,
)
#: A message in the first person that is not a request: a post, when nobody else is named.
_DISCLOSURE_RE = re.compile(
    r"^\s*(?:i|i'?m|im|i'?ve|ive|i'?ll|i\s+am|i\s+have)\b"
    r"(?!\s*(?:'d|would|want\s+you|need\s+you|wonder|think|thought|guess|mean|meant|was\s+"
    r"wondering|forgot|also\s+want|just\s+want(?:ed)?\s+(?:to\s+(?:add|ask|say|know|check)|you))\b)"
    r"[^?]*[.!]?\s*$",
    re.IGNORECASE,
)
#: Someone other than the writer: the practitioner speaking of the person.
_ABOUT_SOMEONE_RE = re.compile(
    r"\b(?:she|he|they|her|him|them|hers|his|their|the\s+(?:person|client|patient|user|poster)|"
    r"my\s+(?:client|patient|son|daughter|child|kid|wife|husband|partner|mum|mom|dad|friend|"
    r"brother|sister)|draft|answer|reply|recommendation|passage|plan)\b",
    re.IGNORECASE,
)
#: A practitioner announcing another case: "Next client: ...", "Pt 2: ...", "New post - ...".
_NEW_CASE_RE = re.compile(
    r"^\s*(?:(?:next|new|another|second|third|different)\s+(?:client|patient|pt|case|post|person|"
    r"referral|one)\b|(?:client|patient|pt|case|post|referral)\s*#?\s*\d+\s*[:\-–.)])",
    re.IGNORECASE,
)
_CASE_REF_RE = re.compile(
    r"\b(?:the draft|this draft|the recommendation|the plan|this case|the case|above|"
    r"your (?:answer|draft|suggestion)s?|the person|the client|the patient|the poster|years? old|"
    r"\bage\b|aged \d+)\b",
    re.IGNORECASE,
)


#: What a message gets while another message of the same case is still being answered.
BUSY_MESSAGE = (
    "A draft is still being written for this case; send your message again when it has finished."
)


class CaseBusyError(RuntimeError):
    """Another chat turn is still running on this case session."""


@dataclass(frozen=True)
class Turn:
    """One message of the follow-up conversation (redacted text only)."""

    role: Literal["user", "assistant"]
    content: str

    def to_message(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass
class CaseSession:
    """Per chat session: the current case draft and the follow-up history.

    Args:
        max_history_turns: Follow-up exchanges kept (a turn is one request and its answer).
    """

    max_history_turns: int = 8
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    #: The signed-in user the session belongs to (None without sign-in).
    owner: str | None = None
    draft: CareDraft | None = None
    case_llm_text: str = ""
    history: list[Turn] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    # A plain Lock, not an RLock: a streamed turn runs its steps on whichever worker thread is
    # free and is closed from another one (Gradio does both), so the releasing thread is often
    # not the one that acquired it.
    _turn: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def has_case(self) -> bool:
        return self.draft is not None

    @property
    def busy(self) -> bool:
        """Whether a chat turn is running on this session now."""
        return self._turn.locked()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the session for one chat turn (a new case or a follow-up) until the block ends.

        The session is released however the block ends: finished, failed, or closed early (a
        client that disconnects mid-stream).

        Raises:
            CaseBusyError: At once, without waiting, while another turn holds the session: its
                draft and history are being written, and a second turn would interleave with it.
        """
        if not self._turn.acquire(blocking=False):
            raise CaseBusyError(BUSY_MESSAGE)
        try:
            yield
        finally:
            self._turn.release()

    def is_follow_up(self, message: str) -> bool:
        """Whether ``message`` continues the current case rather than starting a new one."""
        if self.draft is None:
            return False
        text = message.strip()
        if not text:
            return False
        if _NEW_CASE_RE.match(text):
            return False  # "Next client: ...", "Pt 2: ...", "New post: ..."
        opens_like_follow_up = bool(_FOLLOW_UP_RE.match(text))
        if len(text) >= NEW_CASE_CHARS:
            return False
        if _DISCLOSURE_RE.match(text) and not _ABOUT_SOMEONE_RE.search(text):
            # "I keep hearing voices telling me I'm worthless": a person's own words, a new post,
            # not the practitioner's note on the case ("I think she's worse", "I'd like it
            # shorter").
            return False
        if len(text) <= SHORT_MESSAGE_CHARS:
            return True
        return opens_like_follow_up or bool(_CASE_REF_RE.search(text)) or text.endswith("?")

    def start_case(self, draft: CareDraft, llm_text: str = "") -> None:
        """Make ``draft`` the current case and clear the history."""
        with self._lock:
            self.draft = draft
            self.case_llm_text = llm_text
            self.history = []

    def update_draft(self, draft: CareDraft) -> None:
        """Replace the current case's draft (after a follow-up) without touching the history."""
        with self._lock:
            self.draft = draft

    def add_exchange(self, request: str, answer: str) -> None:
        """Record one follow-up request and its answer, dropping the oldest beyond the bound."""
        with self._lock:
            self.history += [Turn("user", request), Turn("assistant", answer)]
            limit = 2 * self.max_history_turns
            if len(self.history) > limit:
                self.history = self.history[len(self.history) - limit :] if limit else []

    def messages(self, max_chars: int = MAX_HISTORY_CHARS) -> list[dict[str, str]]:
        """History for the prompt: the case's original draft, then the follow-up turns.

        The oldest follow-up turns are left out beyond ``max_chars`` so the prompt fits a small
        model's context; the original draft and the latest exchange are always kept.
        """
        with self._lock:
            turns = [t.to_message() for t in self.history]
            first = (
                [{"role": "assistant", "content": self.case_llm_text}] if self.case_llm_text else []
            )
            budget = max_chars - sum(len(m["content"]) for m in first)
            kept: list[dict[str, str]] = []
            for i in range(len(turns) - 2, -1, -2):  # newest exchange first
                pair = turns[i : i + 2]
                size = sum(len(m["content"]) for m in pair)
                if kept and size > budget:
                    break
                kept = pair + kept
                budget -= size
            return first + kept

    def reset(self) -> None:
        """Forget the case and its history."""
        with self._lock:
            self.draft = None
            self.case_llm_text = ""
            self.history = []
