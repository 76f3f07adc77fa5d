"""CLI commands: run (launch the UI), prepare (first-start set-up), doctor (health check)."""

from __future__ import annotations

import threading

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
    app.command("run")(run)
    app.command("prepare")(prepare)
    app.command("doctor")(doctor)


def run() -> None:
    """Launch the Gradio UI (127.0.0.1:7860 by default)."""
    from assistant.app import build_app
    from assistant.logging_setup import configure_logging
    from assistant.settings import load_settings
    from ui.app import launch_ui

    settings = load_settings()
    configure_logging(settings)
    mind = build_app(settings)
    # Start the LLM and cache the fixed system prompt while the UI comes up.
    threading.Thread(target=mind.pipeline.warm_up, name="llm-warm-up", daemon=True).start()
    try:
        launch_ui(mind)
    finally:
        mind.close()  # the embedded LLM's server and model, once the UI has stopped


def prepare() -> None:
    """Prepare what the app needs on first start (vector store); fast when already done."""
    from assistant.app import build_app
    from assistant.logging_setup import configure_logging
    from assistant.settings import load_settings

    settings = load_settings()
    configure_logging(settings)
    build_app(settings).prepare()


def doctor() -> None:
    """Check every component; exit 0 only when all are usable."""
    from assistant.doctor import run_doctor
    from assistant.settings import load_settings

    raise typer.Exit(run_doctor(load_settings()))
