"""The practitioner workbench behind the UI: chat turns, per-session options, batch runs, exports.

Everything the Gradio shell (``ui/app.py``) does beyond layout lives here, so it is testable
without a browser:

- :class:`SessionOptions` - top-k, crisis-resource locale and grounding mode chosen in one browser
  session; :meth:`Workbench.pipeline_for` builds (and caches) a pipeline for them that shares the
  app's loaded components, so one session's choice never changes another's.
- :meth:`Workbench.chat` - one chat turn as a stream of :class:`ChatUpdate` s, one turn at a time
  per session (a message sent while its case is still being drafted gets a ``busy`` update);
  bad input and unexpected failures become a friendly message with a reference id, never a
  traceback, and the log line carries the id, never the text.
- :meth:`Workbench.run_batch` / :meth:`Workbench.export` - batch analysis and reviewed exports
  written to a private temporary folder.
- :func:`launch_auth` - refuses a shared or non-local launch without users.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
import traceback
import uuid
import weakref
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from assistant import views
from assistant.batch import BatchAnalyzer, BatchResult, ProgressCallback
from assistant.batch_io import InputAdvice
from assistant.draft import CareDraft
from assistant.export import ExportFiles, apply_review, write_exports
from assistant.pipeline import CarePipeline, InputError, check_input
from assistant.session import CaseBusyError, CaseSession
from assistant.settings import AppSettings

try:
    import fcntl
except ImportError:  # Windows: no flock; a run still removes its own folder at exit
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from assistant.app import MindSignalApp

logger = logging.getLogger(__name__)

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Largest text file accepted as a post upload in the chat.
MAX_POST_FILE_BYTES = 1_000_000
#: Pipelines kept for distinct option sets (each shares the app's components).
MAX_CACHED_PIPELINES = 32
#: Folder in the data dir holding each server run's private UI files (``run-*``).
UI_FILES_DIR = "ui-files"
_RUN_PREFIX = "run-"
_MAKING_PREFIX = ".making-run-"
_RUN_LOCK = ".run.lock"


class UnsafeLaunchError(RuntimeError):
    """The UI would be reachable by others without authentication."""


def launch_auth(settings: AppSettings) -> list[tuple[str, str]] | None:
    """The auth pairs to launch with, or ``None`` for a local-only launch without auth.

    Raises:
        UnsafeLaunchError: A share link or a non-localhost bind without auth users.
    """
    pairs = settings.auth_pairs()
    exposed = settings.ui.share or settings.ui.host.strip() not in LOCAL_HOSTS
    if exposed and not pairs:
        where = "a share link" if settings.ui.share else f"host {settings.ui.host!r}"
        raise UnsafeLaunchError(
            f"refusing to serve the UI on {where} without authentication: set "
            "MINDSIGNAL_UI__AUTH (or MINDSIGNAL_AUTH) to user:password pairs, or bind to "
            "127.0.0.1 for local use only"
        )
    return pairs or None


def auth_status_line(settings: AppSettings) -> str:
    """Whether authentication is on, for the banner."""
    if settings.auth_pairs():
        return f"Authentication is on ({len(settings.auth_pairs())} user(s))."
    return "Authentication is off: local use only."


@dataclass(frozen=True)
class SessionOptions:
    """What one browser session chose in the settings panel."""

    top_k: int
    locale: str
    grounding_mode: Literal["flag", "remove"]

    @classmethod
    def defaults(cls, settings: AppSettings) -> SessionOptions:
        """The app's configured values."""
        return cls(
            top_k=settings.retrieval.top_k,
            locale=settings.knowledge_base.locale,
            grounding_mode=settings.assistant.grounding_mode,
        )


@dataclass(frozen=True)
class ChatUpdate:
    """One step of a chat turn.

    Attributes:
        kind: ``started`` (the turn holds the session; nothing computed yet), ``analysis``
            (draft without LLM text), ``token`` (more text), ``final`` (verified draft),
            ``error`` (``message`` says what went wrong; no draft) or ``busy`` (the only update:
            another turn of the session is running, nothing was done; ``message`` says so).
        text: The LLM text streamed so far (``token``), else the draft's recommendation.
        draft: The draft for ``analysis`` and ``final``.
        message: The user-facing message for ``error`` and ``busy``.
    """

    kind: Literal["started", "analysis", "token", "final", "error", "busy"]
    text: str = ""
    draft: CareDraft | None = None
    message: str = ""


class Workbench:
    """The UI's service object; one per running app, shared by all sessions.

    Exports and batch results are written into one folder per request under ``export_root``;
    Gradio serves a copy of them, so the originals are only kept ``ui.temp_file_max_age_s``
    (older folders are removed whenever a new one is made), and the private temporary root is
    removed when the workbench is closed or the process exits.

    Args:
        mind: The app (settings and lazily built components).
        export_root: Folder for exports and batch results (default: a private temp folder).
    """

    def __init__(self, mind: MindSignalApp, export_root: Path | None = None) -> None:
        self.mind = mind
        self.settings = mind.settings
        self._export_root = export_root
        self._own_root: Path | None = None
        self._remove_own_root: weakref.finalize | None = None
        self._pipelines: dict[SessionOptions, CarePipeline] = {}
        # Sessions made for a client that has none stored yet, by (client session id, user);
        # weak: the client's stored state keeps a session alive, nothing here does.
        self._new_sessions: weakref.WeakValueDictionary[tuple[str, str | None], CaseSession] = (
            weakref.WeakValueDictionary()
        )
        self._lock = threading.Lock()

    # ---- options and pipelines -------------------------------------------------------------
    def default_options(self) -> SessionOptions:
        """The configured options."""
        return SessionOptions.defaults(self.settings)

    def options(
        self, top_k: Any = None, locale: Any = None, grounding_mode: Any = None
    ) -> SessionOptions:
        """Options from UI values, falling back to the configured ones for anything invalid."""
        base = self.default_options()
        try:
            k = int(top_k) if top_k is not None else base.top_k
        except (TypeError, ValueError):
            k = base.top_k
        k = min(max(k, 1), 20)
        loc = str(locale) if locale and str(locale) in self.locales() else base.locale
        mode = grounding_mode if grounding_mode in ("flag", "remove") else base.grounding_mode
        return SessionOptions(top_k=k, locale=loc, grounding_mode=mode)

    def locales(self) -> list[str]:
        """Crisis-resource locales available (one YAML file each)."""
        from knowledge_base.resources import available_locales

        return available_locales(self.settings.knowledge_base.resources_dir)

    def pipeline_for(self, options: SessionOptions | None = None) -> CarePipeline:
        """A pipeline with ``options``, sharing the app's classifier, retriever and LLM."""
        base: CarePipeline = self.mind.pipeline
        if options is None or options == self.default_options():
            return base
        with self._lock:
            cached = self._pipelines.get(options)
            if cached is not None:
                return cached
            pipeline = self._build_variant(base, options)
            if len(self._pipelines) >= MAX_CACHED_PIPELINES:
                self._pipelines.pop(next(iter(self._pipelines)))
            self._pipelines[options] = pipeline
            return pipeline

    def _build_variant(self, base: CarePipeline, options: SessionOptions) -> CarePipeline:
        from assistant.grounding import GroundingChecker
        from assistant.safety import SafetyGate
        from knowledge_base.resources import CrisisResourcesError, load_crisis_resources

        kb = self.settings.knowledge_base
        gate = base.gate
        if options.locale != kb.locale:
            try:
                gate = SafetyGate(
                    load_crisis_resources(
                        kb.resources_dir, options.locale, kb.extra_resources_file
                    ),
                    patterns=base.gate.patterns,
                    language=base.gate.language,
                )
            except CrisisResourcesError as exc:
                logger.error("crisis resources for %s unavailable: %s", options.locale, exc)
        grounding = base.grounding
        if options.grounding_mode != grounding.mode:
            grounding = GroundingChecker(
                grounding.encoder, grounding.threshold, options.grounding_mode
            )
        mind = self.mind
        return CarePipeline(
            classifier=lambda: mind.classifier,
            retriever=lambda: mind.retriever,
            gate=gate,
            grounding=grounding,
            chat=lambda: mind.chat,
            config=replace(base.config, top_k=options.top_k),
        )

    def new_session(self, owner: str | None = None) -> CaseSession:
        """A fresh chat session, belonging to the signed-in user ``owner`` (None: no sign-in)."""
        return CaseSession(max_history_turns=self.settings.assistant.max_history_turns, owner=owner)

    def session_for(
        self, state: CaseSession | None, user: str | None, client: str | None = None
    ) -> CaseSession:
        """The session a request of ``user`` works on: ``state`` when it is theirs, else a new one.

        Gradio keys session state by a random session id, not by the signed-in user: a request
        that came with someone else's session id must not see or continue their case.

        Args:
            state: The session stored for the client (None before its first message).
            user: The signed-in user (None without sign-in).
            client: The client's session id (Gradio's ``session_hash``). Requests that come
                before the client's session is stored (two messages sent at once from a new
                page) then get the same new session, and so take turns like later ones.
        """
        if state is not None and state.owner == user:
            return state
        if client is None:
            return self.new_session(owner=user)
        with self._lock:
            session = self._new_sessions.get((client, user))
            if session is None:
                session = self._new_sessions[(client, user)] = self.new_session(owner=user)
            return session

    def end_case(self, state: CaseSession | None, user: str | None) -> CaseSession:
        """The session to go on with after "New case": ``user``'s session, emptied.

        While a draft is still being written on it (the UI stops it, but that can take until
        the LLM's next token), a reset would be undone when the draft saves its case: the page
        gets a fresh session instead, and the draft ends on the old one.
        """
        session = self.session_for(state, user)
        try:
            with session.turn():
                session.reset()
        except CaseBusyError:
            return self.new_session(owner=user)
        return session

    def continues_case(
        self, session: CaseSession, history: Sequence[Mapping[str, Any]] | None
    ) -> bool:
        """Whether the conversation ``history`` (as the client shows it) is the session's case.

        A message may only be a follow-up on the case its own conversation shows. Two
        conversations can share one session (an API client running several cases, one after
        another): the session's case is then whichever finished last, and a follow-up sent with
        another conversation must not be answered from (and show) that case.
        """
        draft = session.draft
        return draft is not None and views.shown_case_id(history) == draft.case_id

    # ---- backend description ---------------------------------------------------------------
    def backend_line(self) -> str:
        """Which LLM answers, for the banner (starts the backend if it is not running yet)."""
        try:
            backend = self.mind.llm_backend
        except Exception as exc:  # the UI still works: drafts degrade to extractive ones
            logger.warning("LLM backend unavailable at start: %s", type(exc).__name__)
            return (
                f"LLM unavailable ({type(exc).__name__}); drafts are assembled from the "
                "retrieved passages (degraded mode)."
            )
        line = f"LLM: {backend.description}"
        if backend.provider == "embedded":
            line += (
                " - the small built-in fallback model is in use (no Ollama with "
                f"{self.settings.llm.model!r} was found); expect short, simple drafts."
            )
        return line

    # ---- chat -----------------------------------------------------------------------------
    def chat(
        self,
        session: CaseSession,
        message: Any,
        options: SessionOptions | None = None,
        conversation: Sequence[Mapping[str, Any]] | None = None,
    ) -> Generator[ChatUpdate, None, None]:
        """One chat turn: a new case or a follow-up on the session's case.

        A session takes one turn at a time. While another turn holds it, the stream is a single
        ``busy`` update and the session is left as it is; else it opens with ``started`` and the
        session is held until the stream ends, fails or is closed early.

        Args:
            session: The chat session (its case and follow-up history).
            message: The post or follow-up as typed.
            options: The session's settings (default: the configured ones).
            conversation: The conversation the message was sent from, as the client shows it.
                When given, the message may only follow up on the case that conversation shows
                (:meth:`continues_case`); otherwise it starts a new case.

        Never raises: bad input and failures end the stream with an ``error`` update.
        """
        try:
            with session.turn():
                # Under the turn: a reset must not pull the case from under a running turn.
                if conversation is not None and not self.continues_case(session, conversation):
                    session.reset()
                yield ChatUpdate("started")
                yield from self._chat_turn(session, message, options)
        except CaseBusyError as exc:
            logger.info("session %s: message refused, a turn is running", session.session_id)
            yield ChatUpdate("busy", message=str(exc))

    def _chat_turn(
        self, session: CaseSession, message: Any, options: SessionOptions | None
    ) -> Iterator[ChatUpdate]:
        ref = uuid.uuid4().hex[:8]
        pipeline = self.pipeline_for(options)
        try:
            text = check_input(message, pipeline.config.max_chars)
            if session.has_case:
                events = pipeline.follow_up(session, text)
            else:
                events = pipeline.stream(text, session)
            draft: CareDraft | None = None
            streamed = ""
            for event in events:
                if event.kind == "token":
                    streamed += event.text
                    yield ChatUpdate("token", streamed, draft)
                else:
                    draft = event.draft
                    yield ChatUpdate(event.kind, event.text, draft)
        except InputError as exc:
            logger.info("chat %s: input refused (%s)", ref, _first_words(str(exc)))
            yield ChatUpdate("error", message=f"⚠️ {exc}")
        except Exception as exc:  # the practitioner sees a message, never a traceback
            _log_failure("chat", ref, exc)
            yield ChatUpdate(
                "error",
                message=(
                    f"⚠️ Something went wrong while preparing this draft (reference {ref}). "
                    "Nothing was lost; please try again, and report the reference if it persists."
                ),
            )

    def read_post_file(self, path: str | Path) -> str:
        """A post uploaded as a text file.

        Raises:
            InputError: Too large, not UTF-8, binary, empty.
        """
        file = Path(path)
        try:
            size = file.stat().st_size
            if size > MAX_POST_FILE_BYTES:
                raise InputError(
                    f"The file is {size:,} bytes; the limit for one post is "
                    f"{MAX_POST_FILE_BYTES:,} bytes. Use the Batch tab for many posts."
                )
            data = file.read_bytes()
        except OSError as exc:
            raise InputError(
                f"The file could not be read ({exc.strerror or 'I/O error'})."
            ) from None
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"The file is not valid UTF-8 text (undecodable byte at position {exc.start}); "
                "save it as UTF-8 and upload it again."
            ) from None
        return check_input(text, self.settings.classifier.max_chars)

    # ---- API ------------------------------------------------------------------------------
    def analyze(self, text: Any, options: SessionOptions | None = None) -> CareDraft:
        """Analysis without the LLM. Raises :class:`InputError` on bad input."""
        return self.pipeline_for(options).analyze(check_input(text, self._max_chars()))

    def recommend(self, text: Any, options: SessionOptions | None = None) -> CareDraft:
        """Analysis and the verified draft. Raises :class:`InputError` on bad input."""
        return self.pipeline_for(options).recommend(check_input(text, self._max_chars()))

    def _max_chars(self) -> int:
        return self.settings.classifier.max_chars

    # ---- batch ----------------------------------------------------------------------------
    def run_batch(
        self,
        path: str | Path,
        text_col: str = "text",
        progress: ProgressCallback | None = None,
        max_rows: int | None = None,
        options: SessionOptions | None = None,
    ) -> BatchResult:
        """Analyse an uploaded CSV/JSONL file (raises ``BatchInputError`` when unusable).

        The session's crisis-resource locale applies to the gate's decisions.
        """
        pipeline = self.pipeline_for(options)
        cs = self.settings.classifier
        analyzer = BatchAnalyzer(
            self.mind.classifier,
            pipeline.gate,
            redact=self.settings.assistant.redact,
            max_chars=cs.max_chars,
            batch_size=cs.batch_size,
            **({"max_rows": max_rows} if max_rows else {}),
        )
        # The Batch tab has no --text-col or --encoding, and the file is a temporary copy:
        # messages name the upload and say what to do in the tab.
        advice = replace(UPLOAD_ADVICE, name=Path(path).name)
        return analyzer.run(path, text_col or "text", progress=progress, advice=advice)

    def write_batch_files(self, result: BatchResult) -> tuple[Path, Path]:
        """Write the results as JSONL and CSV into a fresh private folder."""
        folder = self._new_folder("batch")
        return (
            result.write_jsonl(folder / "mindsignal-batch.jsonl"),
            result.write_csv(folder / "mindsignal-batch.csv"),
        )

    # ---- review and export ----------------------------------------------------------------
    def export(
        self, draft: CareDraft, edited_text: str | None, reviewed: bool, notes: str = ""
    ) -> tuple[CareDraft, ExportFiles]:
        """Apply the review and write Markdown, JSON and PDF exports."""
        final = apply_review(draft, edited_text, reviewed, notes or "")
        return final, write_exports(final, self._new_folder("export"))

    def close(self) -> None:
        """Remove the private folder of exports and batch results (if this workbench made it)."""
        with self._lock:
            if self._remove_own_root is not None:
                self._remove_own_root()
            self._own_root = self._remove_own_root = None

    def _new_folder(self, kind: str) -> Path:
        root = self._files_root()
        self._remove_old_folders(root)
        # mkdtemp makes a folder only this user can read: exports hold sensitive text.
        return Path(tempfile.mkdtemp(prefix=f"mindsignal-{kind}-", dir=root))

    def _files_root(self) -> Path:
        with self._lock:
            if self._export_root is not None:
                self._export_root.mkdir(parents=True, exist_ok=True)
                return self._export_root
            if self._own_root is None:
                self._own_root = Path(tempfile.mkdtemp(prefix="mindsignal-files-"))
                # Also at interpreter exit: the files must not outlive the server.
                self._remove_own_root = weakref.finalize(
                    self, shutil.rmtree, self._own_root, ignore_errors=True
                )
            return self._own_root

    def _remove_old_folders(self, root: Path) -> None:
        """Delete this app's export and batch folders older than the temporary-file age."""
        cutoff = time.time() - self.settings.ui.temp_file_max_age_s
        for folder in (*root.glob("mindsignal-export-*"), *root.glob("mindsignal-batch-*")):
            try:
                if folder.is_dir() and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                continue


def private_run_folder(settings: Any) -> Path:
    """A new folder, only this OS user may open, for one server run's UI files; gone at exit.

    Gradio's default (``/tmp/gradio``) is readable by every user of the host, and the UI's files
    hold uploaded posts and exported drafts: ``<data_dir>/ui-files/run-*``, mode 0700, instead.
    The folder is removed when the process exits (``launch_ui`` makes a SIGTERM exit that way
    too); a run that could not clean up (SIGKILL, a crash, a power cut) leaves it behind, and
    the next run in the same data dir removes it before making its own
    (:func:`remove_stale_run_folders`).
    """
    parent = Path(settings.data_dir).resolve() / UI_FILES_DIR
    parent.mkdir(parents=True, exist_ok=True)
    parent.chmod(0o700)
    remove_stale_run_folders(parent)
    # The folder only gets its run-* name once its lock is held: a sweep by another run
    # starting at the same moment never sees it unlocked.
    making = Path(tempfile.mkdtemp(prefix=_MAKING_PREFIX, dir=parent))
    lock_fd = os.open(making / _RUN_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    _try_lock(lock_fd)
    folder = parent / (_RUN_PREFIX + making.name.removeprefix(_MAKING_PREFIX))
    making.rename(folder)
    atexit.register(_remove_run_folder, folder, lock_fd)
    return folder


def remove_stale_run_folders(parent: Path, grace_s: float = 3600.0) -> list[Path]:
    """Remove the run folders under ``parent`` whose server is no longer running.

    A running server holds an exclusive lock on its folder's lock file, and the OS releases it
    when the process ends, however it ends: a folder whose lock can be taken is left over. This
    holds across PID namespaces and PID reuse, where a recorded process id would not. Without
    file locks (Windows) nothing is removed. A folder still being made is left for ``grace_s``.

    Returns:
        The folders removed.
    """
    removed: list[Path] = []
    for folder in sorted(parent.glob(_RUN_PREFIX + "*")):
        if folder.is_dir() and _remove_if_unlocked(folder):
            removed.append(folder)
    cutoff = time.time() - grace_s
    for folder in sorted(parent.glob(_MAKING_PREFIX + "*")):
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except OSError:
            continue
    for folder in removed:
        logger.info("removed UI files left by an earlier run: %s", folder.name)
    return removed


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock on ``fd`` without waiting; False when another process holds it."""
    if fcntl is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError: held by a running server
        return False
    return True


def _remove_if_unlocked(folder: Path) -> bool:
    try:
        fd = os.open(folder / _RUN_LOCK, os.O_RDWR)
    except FileNotFoundError:  # its run is removing it right now, or was killed doing so
        shutil.rmtree(folder, ignore_errors=True)
        return True
    except OSError:  # another user's, or unreadable: not ours to judge
        return False
    try:
        if not _try_lock(fd):
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True
    finally:
        os.close(fd)


def _remove_run_folder(folder: Path, lock_fd: int) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.close(lock_fd)


#: What the batch reader's messages tell a Batch-tab user to do (it has no CLI options).
UPLOAD_ADVICE = InputAdvice(
    encoding="save it as UTF-8 (in Excel: Save As 'CSV UTF-8') and upload it again",
    utf16="save it as UTF-8 (in Excel: Save As 'CSV UTF-8') and upload it again",
    text_col="choose it under 'Text column'",
    id_col="name the id column 'id'",
)


def _first_words(message: str) -> str:
    # Input-error messages are ours (no user text); keep the log line short anyway.
    return message[:80]


def _log_failure(where: str, ref: str, exc: BaseException) -> None:
    """Log the exception type and code locations only: messages may quote user text."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s %s failed: %s\n%s", where, ref, type(exc).__name__, frames)


def failure_message(where: str, exc: BaseException) -> str:
    """Log an unexpected failure and return the message to show (with a reference id)."""
    ref = uuid.uuid4().hex[:8]
    _log_failure(where, ref, exc)
    return (
        f"{where.capitalize()} failed unexpectedly (reference {ref}). Nothing was lost; "
        "please try again, and report the reference if it persists."
    )
