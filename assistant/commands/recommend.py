"""CLI command: ``mindsignal recommend`` - analyse a text and print the verified care draft."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

#: Bytes read from --file at most; far above max_chars so the pipeline's message is the one seen.
MAX_FILE_BYTES = 8 * 1024 * 1024


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
    as_json: Annotated[bool, typer.Option("--json", help="Print the CareDraft as JSON.")] = False,
    stream: Annotated[
        bool, typer.Option("--stream", help="Print the LLM draft as it is generated (to stderr).")
    ] = False,
) -> None:
    """Draft grounded care recommendations for one text (Markdown by default).

    Exit codes: 0 ok, 2 bad input (the message says why).
    """
    from assistant.app import build_app
    from assistant.logging_setup import configure_logging
    from assistant.pipeline import InputError, check_input
    from assistant.settings import load_settings

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
        final = None
        for event in mind.pipeline.stream(checked):
            if event.kind == "token" and stream:
                sys.stderr.write(event.text)
                sys.stderr.flush()
            elif event.kind == "final":
                final = event.draft
        if stream:
            sys.stderr.write("\n")
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        mind.close()
    assert final is not None
    typer.echo(final.to_json() if as_json else final.to_markdown())


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
    if text == "-" or (text is None and not sys.stdin.isatty()):
        return sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    if text is None:
        typer.echo("error: give the text to analyse, or --file PATH", err=True)
        raise typer.Exit(2)
    return text
