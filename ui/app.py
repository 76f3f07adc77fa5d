"""The practitioner UI: a thin Gradio shell over :mod:`assistant.workbench`.

Layout and event wiring only; what is computed lives in ``assistant/`` (``workbench``, ``views``,
``batch``, ``export``). Named API endpoints for ``gradio_client``:

- ``/analyze`` (text -> CareDraft JSON without the LLM)
- ``/recommend`` (text -> CareDraft JSON with the verified draft)
- ``/batch`` (CSV/JSONL file, text column -> results JSONL file, summary counts)
- ``/chat`` (the chat event itself: message, history -> streamed chat and analysis panel)
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from assistant import views
from assistant.batch import TABLE_COLUMNS, BatchInputError, BatchResult, peek_columns
from assistant.batch_io import DEFAULT_TEXT_COL
from assistant.pipeline import InputError
from assistant.session import CaseSession
from assistant.workbench import (
    UnsafeLaunchError,
    Workbench,
    auth_status_line,
    failure_message,
    launch_auth,
    private_run_folder,
)
from classifiers.labels import RISK_LEVELS, SEVERITY_LEVELS

if TYPE_CHECKING:
    from assistant.app import MindSignalApp

logger = logging.getLogger(__name__)

#: Parallel jobs per event (each chat turn holds an LLM slot; more requests queue).
CONCURRENCY_LIMIT = 2
QUEUE_MAX_SIZE = 64
MAX_UPLOAD = "50mb"
#: Characters of a pasted post echoed back into the chat (the analysis sees all of it).
ECHO_CHARS = 3000
SEND_LABEL = "Analyse and draft"
#: The Send button while this page's draft is being written (it takes no second message).
SEND_BUSY_LABEL = "Writing the draft..."

CSS = """
.ms-banner {border-left: 6px solid #c62828; padding: 8px 14px; background: #fff4f4;}
.ms-banner p {margin: 2px 0;}
.ms-status h3 {color: #b71c1c;}
"""


def _echo(message: Any) -> str:
    """What the chat shows of the user's message: as typed, printable, short for huge pastes.

    The chat renders Markdown and HTML, so the post is escaped: a pasted ``<img src=...>`` or
    ``![](https://...)`` would otherwise make the practitioner's browser fetch it (telling a
    third party that the post is being read), and ``#`` or ``<b>`` would change how it reads.
    """
    text = message if isinstance(message, str) else ""
    text = text.replace("\x00", "\N{REPLACEMENT CHARACTER}")
    if not text.strip():
        return "_(empty message)_"
    if len(text) > ECHO_CHARS:
        return f"{_literal(text[:ECHO_CHARS])}… _({len(text):,} characters)_"
    return _literal(text)


#: Characters that can start Markdown, HTML or LaTeX markup; each is shown literally escaped.
_MARKUP_CHARS = re.compile(r"([\\`*_{}\[\]()<>#+\-!|~&=$])")
#: "1. " or "1) " at the start of a line (an ordered list).
_LIST_NUMBER = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)


#: Where the chat would turn a bare address into a link ("http://", "www."): the ":" or "."
#: is escaped too, so every character shows as typed (no backslash inside a link).
_AUTOLINK = re.compile(r"(?<=\w):(?=//)|(?<![\w.])www\.", re.IGNORECASE)


def _literal(text: str) -> str:
    """``text`` escaped so that Markdown shows it character for character (no markup, no HTML)."""
    text = _MARKUP_CHARS.sub(r"\\\1", text)
    text = _AUTOLINK.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], text)
    return _LIST_NUMBER.sub(r"\1\\\2", text)


def _panel(draft: Any) -> list[Any]:
    """Values of the analysis panel (status, badges, scores, summary, highlights, sources, grounding)."""
    scores = views.label_scores(draft)
    return [
        views.status_markdown(draft),
        views.badges_html(draft),
        scores or None,
        views.analysis_summary_markdown(draft),
        views.highlighted_spans(draft),
        views.sources_markdown(draft),
        views.grounding_markdown(draft),
    ]


def _bar_frame(counts: dict[str, int], key: str) -> pd.DataFrame:
    return pd.DataFrame({key: list(counts), "posts": list(counts.values())})


def build_ui(mind: MindSignalApp, workbench: Workbench | None = None) -> gr.Blocks:
    """Build the Blocks (nothing is launched).

    Args:
        mind: The app whose pipeline, classifier and LLM backend the UI uses.
        workbench: The service object (default: one built on ``mind``).
    """
    wb = workbench or Workbench(mind)
    settings = mind.settings
    defaults = wb.default_options()
    locales = wb.locales() or [defaults.locale]
    backend_line = wb.backend_line()

    # Gradio keeps every upload (a person's raw, unredacted post) and every download in its
    # temporary folder; without an age limit they would stay there for as long as it runs.
    age = int(settings.ui.temp_file_max_age_s)
    with gr.Blocks(title="MindSignal", delete_cache=(age, age)) as demo:
        gr.Markdown(
            f"{views.DISCLAIMER_BANNER}\n\n{backend_line}  \n{auth_status_line(settings)}",
            elem_classes="ms-banner",
            elem_id="ms-banner",
        )
        session = gr.State(None)
        batch_state = gr.State(None)

        with gr.Accordion("Settings (this session only)", open=False):
            gr.Markdown(
                f"**Backend:** {backend_line}  \n**Classifier mode:** "
                f"{settings.classifier.mode}  \n**Embeddings / store:** "
                f"{settings.retrieval.collection}"
            )
            with gr.Row():
                top_k = gr.Slider(
                    1, 20, value=defaults.top_k, step=1, label="Evidence passages (top-k)"
                )
                locale = gr.Dropdown(
                    choices=locales,
                    value=defaults.locale if defaults.locale in locales else locales[0],
                    label="Crisis-resources locale",
                )
                grounding_mode = gr.Radio(
                    ["flag", "remove"],
                    value=defaults.grounding_mode,
                    label="Unsupported sentences",
                    info="flag: keep them marked ⚠; remove: drop them from the draft",
                )

        with gr.Tabs():
            # ---- chat -------------------------------------------------------------------------
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="Case", height=560, elem_id="ms-chat")
                        message = gr.Textbox(
                            label="Post or follow-up question",
                            placeholder="Paste a post to analyse, or ask a follow-up about the case",
                            lines=4,
                            max_lines=12,
                            elem_id="ms-message",
                        )
                        with gr.Row():
                            send = gr.Button(SEND_LABEL, variant="primary", elem_id="ms-send")
                            upload = gr.UploadButton(
                                "Load a .txt file", file_types=[".txt", ".md"], size="md"
                            )
                            new_case = gr.Button("New case")
                    with gr.Column(scale=2):
                        status = gr.Markdown(
                            label="status", elem_classes="ms-status", elem_id="ms-status"
                        )
                        badges = gr.HTML(views.badges_html(None), label="badges")
                        scores = gr.Label(label="Condition signals", num_top_classes=11)
                        summary = gr.Markdown(label="summary")
                        highlighted = gr.HighlightedText(
                            label="Evidence in the post (redacted)",
                            combine_adjacent=False,
                            show_legend=True,
                            elem_id="ms-evidence",
                        )
                        sources = gr.Markdown(
                            views.sources_markdown(None), label="sources", elem_id="ms-sources"
                        )
                        grounding = gr.Markdown(label="grounding")
                with gr.Accordion("Review and export", open=True):
                    editor = gr.Textbox(
                        label="Draft (edit before export)",
                        lines=10,
                        max_lines=30,
                        elem_id="ms-editor",
                    )
                    with gr.Row():
                        reviewed = gr.Checkbox(label="I have reviewed this draft")
                        notes = gr.Textbox(label="Reviewer notes", lines=2, scale=3)
                    export = gr.Button("Export Markdown, JSON and PDF")
                    export_files = gr.File(label="Downloads", file_count="multiple")
                    export_message = gr.Markdown()

            # ---- batch ------------------------------------------------------------------------
            with gr.Tab("Batch", id="batch"):
                gr.Markdown(
                    "Upload a CSV or JSONL file of posts. Each post is redacted, classified and "
                    "checked by the safety gate (no LLM). Select a row to open its analysis."
                )
                with gr.Row():
                    batch_file = gr.File(
                        label="CSV or JSONL file",
                        elem_id="ms-batch-file",
                        file_types=[".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".txt"],
                        scale=3,
                    )
                    with gr.Column(scale=1):
                        text_col = gr.Dropdown(
                            choices=[DEFAULT_TEXT_COL],
                            value=DEFAULT_TEXT_COL,
                            allow_custom_value=True,
                            label="Text column",
                        )
                        run_batch = gr.Button("Analyse file", variant="primary")
                batch_summary = gr.Markdown(elem_id="ms-batch-summary")
                with gr.Row():
                    condition_plot = gr.BarPlot(
                        x="condition",
                        y="posts",
                        y_lim=[0, None],
                        title="Condition signals",
                        height=260,
                    )
                    severity_plot = gr.BarPlot(
                        x="severity",
                        y="posts",
                        y_lim=[0, None],
                        title="Severity",
                        height=260,
                        sort=list(SEVERITY_LEVELS),
                    )
                    risk_plot = gr.BarPlot(
                        x="risk",
                        y="posts",
                        y_lim=[0, None],
                        title="Suicide risk",
                        height=260,
                        sort=list(RISK_LEVELS),
                    )
                table = gr.DataFrame(
                    elem_id="ms-batch-table",
                    headers=list(TABLE_COLUMNS),
                    interactive=False,
                    wrap=True,
                    label="Posts",
                )
                batch_files = gr.File(label="Results (JSONL and CSV)", file_count="multiple")
                with gr.Accordion("Selected post", open=True):
                    row_status = gr.Markdown(elem_id="ms-row-status")
                    row_badges = gr.HTML()
                    row_scores = gr.Label(label="Condition signals", num_top_classes=11)
                    row_summary = gr.Markdown()
                    row_highlighted = gr.HighlightedText(
                        label="Evidence in the post (redacted)", combine_adjacent=False
                    )

        # ---- hidden components behind the /batch API --------------------------------------
        api_file = gr.File(label="file", visible=False)
        api_text_col = gr.Textbox(DEFAULT_TEXT_COL, label="text_col", visible=False)
        api_results = gr.File(label="results", visible=False)
        api_summary = gr.JSON(label="summary", visible=False)
        api_trigger = gr.Button(visible=False)

        panel = [status, badges, scores, summary, highlighted, sources, grounding]
        skip_panel = [gr.skip() for _ in panel]

        # ---- chat handlers ----------------------------------------------------------------
        def on_chat(
            text: Any,
            history: list[dict[str, Any]] | None,
            state: CaseSession | None,
            k: Any,
            loc: Any,
            mode: Any,
            request: gr.Request,
        ) -> Any:
            history = list(history or [])
            state = wb.session_for(state, _user(request), request.session_hash)
            options = wb.options(k, loc, mode)
            # Closed explicitly, so that a client that disconnects mid-stream frees the session
            # at once rather than whenever the abandoned stream is collected.
            with closing(wb.chat(state, text, options, conversation=history)) as updates:
                for update in updates:
                    if update.kind == "busy":
                        # Another message of this session is still being answered: the page
                        # sends one at a time, so this is an API client, and it gets an error
                        # it can catch and retry on (nothing was run or changed).
                        raise _user_error(update.message)
                    if update.kind == "started":
                        history.append({"role": "user", "content": _echo(text)})
                        history.append({"role": "assistant", "content": "_Analysing..._"})
                        # The session is stored once: later updates must not put it back
                        # after "New case" has given the page a fresh one.
                        yield [history, "", state, *skip_panel, gr.skip()]
                    elif update.kind == "error":
                        history[-1] = {"role": "assistant", "content": update.message}
                        yield [history, gr.skip(), gr.skip(), *skip_panel, gr.skip()]
                    elif update.kind == "token":
                        history[-1] = {
                            "role": "assistant",
                            "content": views.streaming_markdown(update.draft, update.text),
                        }
                        yield [history, gr.skip(), gr.skip(), *skip_panel, gr.skip()]
                    elif update.kind == "analysis":
                        history[-1] = {
                            "role": "assistant",
                            "content": views.streaming_markdown(update.draft, ""),
                        }
                        yield [history, gr.skip(), gr.skip(), *_panel(update.draft), gr.skip()]
                    else:
                        assert update.draft is not None
                        history[-1] = {
                            "role": "assistant",
                            "content": views.answer_markdown(update.draft),
                        }
                        yield [
                            history,
                            gr.skip(),
                            gr.skip(),
                            *_panel(update.draft),
                            update.draft.recommendation,
                        ]

        # Enter and Send are one event, run once at a time per page ("once"): a message sent
        # while the draft is still being written stays in the box, and the Send button says
        # why. Not "multiple": the browser would then lose track of the running draft when the
        # second run was refused, and New case could no longer stop it.
        gr.on(
            [send.click, message.submit],
            lambda: gr.Button(SEND_BUSY_LABEL, interactive=False),
            None,
            send,
            queue=False,
            api_visibility="private",
        )
        chat_event = gr.on(
            [send.click, message.submit],
            on_chat,
            [message, chatbot, session, top_k, locale, grounding_mode],
            [chatbot, message, session, *panel, editor],
            api_name="chat",
            trigger_mode="once",
        )
        # Also after a failure, or when New case stops the draft.
        chat_event.then(
            lambda: gr.Button(SEND_LABEL, interactive=True),
            None,
            send,
            queue=False,
            api_visibility="private",
        )

        def on_new_case(state: CaseSession | None, request: gr.Request) -> Any:
            state = wb.end_case(state, _user(request))
            return [[], state, *_panel(None), "", False, "", None, ""]

        case_outputs = [
            chatbot,
            session,
            *panel,
            editor,
            reviewed,
            notes,
            export_files,
            export_message,
        ]

        # Both stop a draft still being written: it belongs to the case being closed.
        new_case.click(
            on_new_case,
            [session],
            case_outputs,
            api_visibility="private",
            cancels=[chat_event],
        )
        # The chat's own Clear button empties the conversation, so it also ends the case: else
        # the next post (up to 160 characters) would be read as a follow-up on an unseen case,
        # and the panel and export would still show the previous person's analysis.
        chatbot.clear(
            on_new_case, [session], case_outputs, api_visibility="private", cancels=[chat_event]
        )

        def on_upload(file: Any, history: list[dict[str, Any]] | None) -> Any:
            history = list(history or [])
            try:
                return wb.read_post_file(file), history
            except InputError as exc:
                history.append({"role": "assistant", "content": f"⚠️ {exc}"})
                return gr.skip(), history

        upload.upload(on_upload, [upload, chatbot], [message, chatbot], api_visibility="private")

        def on_export(
            state: CaseSession | None, edited: str, done: bool, note: str, request: gr.Request
        ) -> Any:
            if state is None or state.owner != _user(request) or state.draft is None:
                return None, "⚠️ Analyse a post first; there is no draft to export."
            try:
                final, files = wb.export(state.draft, edited, done, note)
            except ValueError as exc:
                return None, f"⚠️ {exc}"
            except Exception as exc:
                return None, f"⚠️ {failure_message('export', exc)}"
            state.update_draft(final)
            status_line = "reviewed" if final.reviewed else "NOT marked as reviewed"
            return files.as_list(), f"Exported case `{final.case_id}` ({status_line})."

        export.click(
            on_export,
            [session, editor, reviewed, notes],
            [export_files, export_message],
            api_visibility="private",
        )

        # ---- batch handlers ---------------------------------------------------------------
        def on_batch_file(file: Any) -> Any:
            columns = peek_columns(file) if file else []
            value = DEFAULT_TEXT_COL if DEFAULT_TEXT_COL in columns or not columns else columns[0]
            return gr.update(choices=columns or [DEFAULT_TEXT_COL], value=value)

        batch_file.upload(on_batch_file, [batch_file], [text_col], api_visibility="private")

        def on_batch(
            file: Any,
            column: Any,
            k: Any,
            loc: Any,
            mode: Any,
            request: gr.Request,
            progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects it
        ) -> Any:
            empty = [None, None, None, None, None, None]
            if not file:
                return ["⚠️ Upload a CSV or JSONL file first.", *empty]

            def report(done: int, total: int) -> None:
                progress((done, total), desc="Analysing posts", unit="posts")

            try:
                result = wb.run_batch(
                    file,
                    str(column or DEFAULT_TEXT_COL),
                    progress=report,
                    options=wb.options(k, loc, mode),
                )
                jsonl, csv_path = wb.write_batch_files(result)
            except BatchInputError as exc:
                return [f"⚠️ {exc}", *empty]
            except Exception as exc:
                return [f"⚠️ {failure_message('batch analysis', exc)}", *empty]
            s = result.summary
            return [
                s.to_markdown(),
                _bar_frame(s.conditions, "condition"),
                _bar_frame(s.severity, "severity"),
                _bar_frame(s.risk, "risk"),
                pd.DataFrame([r.table_row() for r in result.rows], columns=list(TABLE_COLUMNS)),
                [str(jsonl), str(csv_path)],
                (_user(request), result),
            ]

        run_batch.click(
            on_batch,
            [batch_file, text_col, top_k, locale, grounding_mode],
            [
                batch_summary,
                condition_plot,
                severity_plot,
                risk_plot,
                table,
                batch_files,
                batch_state,
            ],
            api_visibility="private",
        )

        def on_row(
            owned: tuple[str | None, BatchResult] | None, evt: gr.SelectData, request: gr.Request
        ) -> Any:
            # The batch state holds (owner, result): someone else's session id shows nothing.
            result = owned[1] if owned is not None and owned[0] == _user(request) else None
            row_index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            if result is None or not isinstance(row_index, int) or row_index >= len(result.rows):
                return ["", views.badges_html(None), None, "", []]
            row = result.rows[row_index]
            draft = row.as_draft()
            if draft is None:
                return [f"⚠️ Row `{row.id}`: {row.error}", views.badges_html(None), None, "", []]
            status_md, badge, score, summ, spans, _, _ = _panel(draft)
            return [f"**Post `{row.id}`**\n\n{status_md}", badge, score, summ, spans]

        table.select(
            on_row,
            [batch_state],
            [row_status, row_badges, row_scores, row_summary, row_highlighted],
            api_visibility="private",
        )

        # ---- API endpoints ----------------------------------------------------------------
        def analyze(text: str) -> dict[str, Any]:
            """Analyse one post without the LLM: conditions, severity, risk, gate, passages."""
            return _draft_json(wb, "analysis", text, llm=False)

        def recommend(text: str) -> dict[str, Any]:
            """Analyse one post and draft grounded recommendations (the verified CareDraft)."""
            return _draft_json(wb, "recommendation", text, llm=True)

        gr.api(analyze, api_name="analyze")
        gr.api(recommend, api_name="recommend")

        def batch_api(file: Any, column: str) -> Any:
            if not file:
                raise _user_error("Upload a CSV or JSONL file.")
            try:
                result = wb.run_batch(file, column or DEFAULT_TEXT_COL)
                jsonl, _ = wb.write_batch_files(result)
            except BatchInputError as exc:
                raise _user_error(str(exc)) from None
            except Exception as exc:
                raise _user_error(failure_message("batch analysis", exc)) from None
            return str(jsonl), result.summary.to_dict()

        api_trigger.click(
            batch_api, [api_file, api_text_col], [api_results, api_summary], api_name="batch"
        )
    return demo


def _draft_json(wb: Workbench, what: str, text: Any, llm: bool) -> dict[str, Any]:
    try:
        draft = wb.recommend(text) if llm else wb.analyze(text)
    except InputError as exc:
        raise _user_error(str(exc)) from None
    except Exception as exc:
        raise _user_error(failure_message(what, exc)) from None
    data: dict[str, Any] = json.loads(draft.to_json())
    return data


def _user_error(message: str) -> gr.Error:
    """An API error shown to the caller and not printed to the server log.

    Gradio prints every raised error's traceback and message to stderr; these messages can quote
    the uploaded file (a header-less CSV's first post is its "column names"), and unexpected
    failures are already logged by :func:`failure_message` with a reference and no text.
    """
    return gr.Error(message, print_exception=False)


def _user(request: gr.Request | None) -> str | None:
    """The signed-in user of a request (None without sign-in)."""
    return getattr(request, "username", None) if request is not None else None


def launch_ui(mind: MindSignalApp, **launch_overrides: Any) -> gr.Blocks:
    """Launch the UI on ``settings.ui.host``/``port`` (blocks unless ``prevent_thread_lock``).

    A share link or a non-localhost bind needs auth users (``MINDSIGNAL_UI__AUTH``); without them
    the launch is refused with a clear message before anything loads.

    Args:
        mind: The prepared app (``mindsignal prepare`` has ingested the knowledge base).
        launch_overrides: Passed to ``Blocks.launch`` (tests: ``prevent_thread_lock``,
            ``server_port``).
    """
    ui = mind.settings.ui
    try:
        auth = launch_auth(mind.settings)
    except UnsafeLaunchError as exc:
        raise SystemExit(f"mindsignal run: {exc}") from None
    # This run's uploads, download copies, exports and batch results: a private folder that
    # goes at exit, and a SIGTERM is made an exit (below).
    files = private_run_folder(mind.settings)
    if not os.environ.get("GRADIO_TEMP_DIR"):  # an operator's own choice wins
        # Read by Gradio when the app is built and launched: uploads and download copies go
        # to the private folder, not the host-wide /tmp/gradio.
        os.environ["GRADIO_TEMP_DIR"] = str(files)
    demo = build_ui(mind, Workbench(mind, export_root=files / "exports"))
    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_MAX_SIZE)
    options: dict[str, Any] = {
        "server_name": ui.host,
        "server_port": ui.port,
        "share": ui.share,
        "auth": auth,
        "auth_message": "MindSignal: sign in with your practitioner account.",
        "show_error": False,
        "max_file_size": MAX_UPLOAD,
        "ssr_mode": False,
        "css": CSS,
        "theme": gr.themes.Soft(),
        "footer_links": ["api"],
    }
    options.update(launch_overrides)
    logger.info(
        "UI on %s:%s (auth=%s, share=%s)",
        options["server_name"],
        options["server_port"],
        bool(auth),
        ui.share,
    )
    with _sigterm_as_interrupt(blocking=not options.get("prevent_thread_lock")):
        demo.launch(**options)
    return demo


@contextmanager
def _sigterm_as_interrupt(blocking: bool) -> Iterator[None]:
    """While the UI serves, a SIGTERM (how a service manager stops it) acts as Ctrl+C does.

    Gradio runs uvicorn in a thread without signal handlers and waits in the main thread for a
    KeyboardInterrupt, on which it stops the server (which deletes Gradio's own temporary
    files); a SIGTERM would end the process on the spot, with no exit handlers, and leave
    posts and drafts on disk. Only a launch that blocks the main thread can take it over.
    """
    if not blocking or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
