"""CLI command: ``mindsignal recommend`` - analyse a text and print the verified care draft."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

if TYPE_CHECKING:
    from assistant.draft import CareDraft, DraftEvent

#: Bytes read from --file at most; far above max_chars so the pipeline's message is the one seen.
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Said when neither a text, --file nor standard input gives anything to analyse.
NO_TEXT_GIVEN = "no text given: pass it as an argument, with --file PATH, or '-' to read stdin"
#: Line before the streamed LLM text on stderr: it is raw and may be discarded.
STREAM_HEADER = (
    "--- Unverified LLM draft, as generated (not grounding-checked; the output on stdout is "
    "the draft to use) ---"
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
    app.command("recommend")(recommend)


def recommend(
    text: Annotated[
        str | None, typer.Argument(help="The text to analyse ('-' reads standard input).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Read the text from this UTF-8 file instead."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help=(
                "Print the CareDraft as JSON, with draft_for_review, notice and disclaimer "
                "fields; versions.llm is the model asked, llm_model the one whose text is shown."
            ),
        ),
    ] = False,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream",
            help="Print the raw, unverified LLM text to stderr as it is generated.",
        ),
    ] = False,
) -> None:
    """Draft grounded care recommendations for one text (Markdown by default).

    Exit codes: 0 ok, 2 bad input (the message says why).
    """
    from assistant.app import build_app
    from assistant.export import export_json
    from assistant.logging_setup import configure_logging
    from assistant.pipeline import InputError, check_input
    from assistant.settings import load_settings

    if sys.stdout is None:  # started with standard output closed (>&-): nowhere to print
        typer.echo("error: standard output is closed; redirect it to a file", err=True)
        raise typer.Exit(2)
    raw = _read_input(text, file)
    settings = load_settings()
    configure_logging(settings)
    try:
        checked = check_input(raw, settings.classifier.max_chars)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    mind = build_app(settings)
    try:
        try:
            # Idempotent and fast once done; a fresh install gets its knowledge base here.
            mind.prepare(progress=lambda msg: typer.echo(msg, err=True))
        except Exception as exc:  # the pipeline still analyses and says why it degraded
            typer.echo(f"warning: knowledge base not ready: {exc}", err=True)
        final = follow_stream(mind.pipeline.stream(checked), sys.stderr if stream else None)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        mind.close()
    typer.echo(export_json(final) if as_json else final.to_markdown())


def follow_stream(events: Iterable[DraftEvent], err: TextIO | None = None) -> CareDraft:
    """The final draft of ``events``; with ``err``, the LLM's raw text is written there as it
    arrives, between a header saying it is unverified and a line saying whether it was used."""
    final: CareDraft | None = None
    streamed = False
    for event in events:
        if event.kind == "token" and err is not None:
            if not streamed:
                err.write(STREAM_HEADER + "\n")
                streamed = True
            err.write(event.text)
            err.flush()
        elif event.kind == "final":
            final = event.draft
    assert final is not None, "the pipeline always ends with a final event"
    if streamed and err is not None:
        used = (
            "used after the grounding check"
            if final.llm_model
            else f"NOT used ({final.degraded_reason or 'no LLM text kept'})"
        )
        err.write(f"\n--- End of unverified LLM draft: {used} ---\n")
        err.flush()
    return final


def _read_input(text: str | None, file: Path | None) -> str | bytes:
    if file is not None and text:
        typer.echo("error: give the text or --file, not both", err=True)
        raise typer.Exit(2)
    if file is not None:
        try:
            with file.open("rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            typer.echo(f"error: cannot read {file}: {exc.strerror or exc}", err=True)
            raise typer.Exit(2) from None
        if len(data) > MAX_FILE_BYTES:
            typer.echo(
                f"error: {file} is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB", err=True
            )
            raise typer.Exit(2)
        return data
    if text == "-":
        if sys.stdin is None:  # started with standard input closed (<&-)
            typer.echo(f"error: standard input is closed; {NO_TEXT_GIVEN}", err=True)
            raise typer.Exit(2)
        return sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    if text is None:
        # No argument: read a pipe if one is attached. Nothing at all on it (a terminal, cron's
        # /dev/null, a closed stdin) means no text was given: a usage error, not an empty text.
        if sys.stdin is None or sys.stdin.isatty():
            data = b""
        else:
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        if not data:
            typer.echo(f"error: {NO_TEXT_GIVEN}", err=True)
            raise typer.Exit(2)
        return data
    return text
