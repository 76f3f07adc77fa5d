"""The ``mindsignal`` command line. Each command group lives in ``assistant/commands/``.

Imports here stay light so ``mindsignal --help`` is instant; commands import what they need.
"""

from __future__ import annotations

import os

import typer

from assistant.commands import classify, kb, llm, recommend, system

app = typer.Typer(
    name="mindsignal",
    help="MindSignal: mental-health signal detection and grounded care drafts for practitioners.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

for module in (system, llm, classify, kb, recommend):
    module.register(app)


def main() -> None:
    """Console-script entry point."""
    # Never reach a model hub at run time; everything is local.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


if __name__ == "__main__":
    main()
