"""CLI commands: serve-llm (the embedded Ollama-compatible server) and label (LLM teacher)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
    app.command("serve-llm")(serve_llm)
    app.command("label")(label)


def serve_llm(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port (Ollama's is 11434; 0 picks a free one).")
    ] = 11434,
    model_path: Annotated[
        Path | None, typer.Option(help="GGUF to serve (default: the bundled SmolLM2-135M).")
    ] = None,
    model_name: Annotated[str | None, typer.Option(help="Name to list the model under.")] = None,
) -> None:
    """Serve a local GGUF over Ollama's API (foreground; Ctrl-C stops)."""
    from assistant.llm.embedded_server import EmbeddedLlamaServer, EmbeddedServerError
    from assistant.llm.gguf_info import GGUFError
    from assistant.logging_setup import configure_logging
    from assistant.settings import load_settings

    settings = load_settings()
    configure_logging(settings)
    update: dict[str, object] = {"host": host, "port": port}
    if model_path is not None:
        update["model_path"] = model_path
    if model_name:
        update["model_name"] = model_name
    embedded = settings.llm.embedded.model_copy(update=update)
    server = EmbeddedLlamaServer(embedded)
    try:
        server.start()
    except (EmbeddedServerError, GGUFError, OSError) as exc:  # GGUFError: not a model file
        typer.secho(f"cannot start: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{server.description} (model name: {server.model_name})")
    typer.echo(f"OLLAMA_HOST={server.base_url}  - Ctrl-C to stop")
    try:
        while server.is_running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def label(
    input: Annotated[Path, typer.Argument(help="Corpus to label (.csv, .tsv or .jsonl).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Labels JSONL to write.")],
    text_col: Annotated[str, typer.Option(help="Column/key holding the text.")] = "text",
    id_col: Annotated[
        str | None,
        typer.Option(
            help="Column/key holding the id (default: 'id' if present). A row without an id is "
            "row-N (its data row), in a .jsonl file line-N."
        ),
    ] = None,
    encoding: Annotated[
        str,
        typer.Option(
            "--encoding",
            help="Encoding of the corpus, as for classify (default utf-8; rows not decodable "
            "are skipped and listed).",
        ),
    ] = "utf-8",
    limit: Annotated[int | None, typer.Option(min=1, help="Label at most N rows.")] = None,
    model: Annotated[str | None, typer.Option(help="Teacher model (default: settings).")] = None,
    cache: Annotated[
        Path | None, typer.Option(help="Cache JSONL (default: next to the output).")
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=32, help="Posts in flight (match the LLM's parallel slots).")
    ] = 2,
) -> None:
    """Label a corpus with the LLM teacher (resumable; cached by text hash).

    The corpus is read as classify reads its input: a malformed or undecodable row, or one
    whose text is empty or binary, is skipped and listed on stderr by row number and reason
    (never its text), and the others are labelled.
    """
    import itertools

    from rich.console import Console

    from assistant.batch_io import same_file
    from assistant.commands.labeled_input import MAX_LISTED_ROWS
    from assistant.llm.backend import resolve_llm_backend
    from assistant.llm.base import LLMUnavailableError
    from assistant.llm.ollama_chat import OllamaChat
    from assistant.logging_setup import configure_logging
    from assistant.settings import load_settings
    from assistant.teacher import CorpusError, label_rows, read_corpus

    def fail(message: str, code: int = 2) -> typer.Exit:
        typer.echo(f"error: {message}", err=True)  # one line: a Console would wrap it
        return typer.Exit(code)

    console = Console(stderr=True)
    # Everything that can be checked is checked before an LLM starts or a post is sent.
    if not input.is_file():
        raise fail(f"cannot read corpus: {input} not found")
    cache_path = cache or output.with_name(output.name + ".cache.jsonl")
    for path, what in ((output, "--output"), (cache_path, "--cache")):
        if same_file(input, path):
            raise fail(f"{what} {path} is the corpus itself; write to another file")
        if path.is_dir():
            raise fail(f"{what} {path} is a directory; give a file name")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise fail(f"cannot write {what} {path}: {path.parent} is a file") from None
        except OSError as exc:
            raise fail(f"cannot write {what} {path}: {exc.strerror or exc}") from None
    skipped: list[str] = []
    try:
        # Read whole before the LLM starts (the rows are held anyway): a file that cannot be
        # read fails in seconds, and the skipped rows are listed before a long run.
        corpus = read_corpus(input, text_col, id_col, skipped.append, encoding=encoding)
        rows = list(itertools.islice(corpus, limit))
    except CorpusError as exc:
        raise fail(str(exc)) from None
    if skipped:
        typer.echo(f"{len(skipped)} row(s) of {input} skipped:", err=True)
        for message in skipped[:MAX_LISTED_ROWS]:
            typer.echo(f"  {message}", err=True)
        if len(skipped) > MAX_LISTED_ROWS:
            typer.echo(f"  ... and {len(skipped) - MAX_LISTED_ROWS} more", err=True)
    if not rows:
        raise fail(f"{input} has no row to label", 1)
    settings = load_settings()
    configure_logging(settings)
    llm_settings = settings.llm
    if model:
        llm_settings = llm_settings.model_copy(update={"model": model})
    try:
        backend = resolve_llm_backend(llm_settings)
    except LLMUnavailableError as exc:
        raise fail(f"LLM unavailable: {exc}") from None
    console.print(f"teacher: {backend.description}")
    try:
        chat = OllamaChat.from_backend(backend, llm_settings)
        report = label_rows(
            chat, rows, output, cache_path=cache_path, concurrency=concurrency, bad_rows=skipped
        )
    except LLMUnavailableError as exc:
        raise fail(
            f"LLM went away: {exc} (answers so far are cached; re-run to resume)", 3
        ) from None
    except OSError as exc:
        raise fail(
            f"cannot use {exc.filename or output}: {exc.strerror or exc} "
            "(answers so far are cached; re-run to resume)",
            1,
        ) from None
    except KeyboardInterrupt:
        raise fail(
            f"interrupted; answers so far are cached in {cache_path}: re-run to resume", 130
        ) from None
    finally:
        backend.close()
    console.print(f"{report.summary()} -> {output}")
