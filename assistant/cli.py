"""The ``mindsignal`` command line. Each command group lives in ``assistant/commands/``.

Imports here stay light so ``mindsignal --help`` is instant; commands import what they need.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from pydantic import ValidationError

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
    from pydantic import ValidationError

    try:
        app()
    except ValidationError as exc:
        if exc.title != "AppSettings":
            raise
        # Settings are validated when a command builds them; say which one is wrong, no trace.
        typer.secho(settings_error_message(exc), err=True, fg=typer.colors.RED)
        raise SystemExit(2) from None
    except ValueError as exc:
        from assistant.settings import SettingsFileError  # only now: keeps --help instant

        if not isinstance(exc, SettingsFileError):
            raise
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise SystemExit(2) from None


def settings_error_message(exc: ValidationError) -> str:
    """One line per invalid setting, with the environment variable that sets it."""
    lines = [f"invalid settings ({exc.error_count()}):"]
    for err in exc.errors():
        dotted = ".".join(str(part) for part in err["loc"])
        env = "MINDSIGNAL_" + "__".join(str(part).upper() for part in err["loc"])
        value = err.get("input")
        shown = f" (got {value!r})" if isinstance(value, (str, int, float)) else ""
        lines.append(f"  {dotted}: {err['msg']}{shown} [env {env}]")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
