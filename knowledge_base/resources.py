"""Crisis resources as configuration: one YAML file per locale, plus an optional clinic file.

Phone numbers never live in passages or prompts; they come from ``knowledge_base/resources/
<locale>.yaml`` so a deployment can check and change them without touching the corpus. A clinic
can add its own resources (its duty line, an on-call team) in a file with the same schema; those
are listed first.

Example file ``knowledge_base/resources/en-GB.yaml``::

    locale: en-GB
    name: United Kingdom
    emergency_number: "999"
    resources:
      - name: Samaritans
        contact: call 116 123
        kind: phone
        hours: 24/7
        description: Free, confidential listening support.
        url: https://www.samaritans.org
    reviewed: 2026-11-25
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from knowledge_base.loader import yaml_problem

logger = logging.getLogger(__name__)

#: Locale files are small; anything bigger is not a resources file and is refused unread.
MAX_FILE_BYTES = 256 * 1024


class CrisisResourcesError(ValueError):
    """A crisis-resources file or locale could not be loaded; the message says which and why."""


class CrisisResource(BaseModel):
    """One place a person in crisis can reach (a line, a text service, a directory)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, description="Service name, e.g. 'Samaritans'.")
    contact: str = Field(min_length=1, description="How to reach it, e.g. 'call 116 123'.")
    kind: Literal["phone", "text", "web", "chat"] = Field(description="Channel of contact.")
    hours: str = Field(min_length=1, description="When it answers, e.g. '24/7'.")
    description: str = Field("", description="One sentence on who it is for.")
    url: HttpUrl | None = Field(None, description="Official web page, if any.")

    def to_line(self) -> str:
        """``name - contact (hours)``."""
        return f"{self.name} - {self.contact} ({self.hours})"


class CrisisResources(BaseModel):
    """The crisis resources shown for one locale, clinic resources first."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    locale: str = Field(min_length=2, description="Locale code, e.g. 'en-GB', or 'intl'.")
    name: str = Field(min_length=1, description="Region name shown to people.")
    emergency_number: str = Field(min_length=1, description="Emergency number, e.g. '999'.")
    resources: list[CrisisResource] = Field(min_length=1)
    reviewed: dt.date = Field(description="When the numbers were last checked by a person.")

    def to_markdown(self) -> str:
        """A short Markdown list, one ``name - contact (hours)`` line per resource."""
        lines = [f"- {r.to_line()}" for r in self.resources]
        if not any(self.emergency_number in r.contact for r in self.resources):
            # Every block must end in a way to reach emergency help, even if a file forgot it.
            lines.append(f"- Emergency services - {self.emergency_number} (24/7)")
        return "\n".join(lines)


def available_locales(resources_dir: Path) -> list[str]:
    """Locales that have a ``<locale>.yaml`` file in ``resources_dir``, sorted."""
    if not resources_dir.is_dir():
        return []
    return sorted(p.stem for p in resources_dir.glob("*.yaml") if p.is_file())


def load_crisis_resources(
    resources_dir: Path, locale: str, extra_file: Path | None = None
) -> CrisisResources:
    """Load the crisis resources for ``locale``, with a clinic's own file merged in front.

    Args:
        resources_dir: Folder holding one ``<locale>.yaml`` per locale.
        locale: Locale to load, e.g. ``"en-GB"``; ``"intl"`` is the international fallback.
        extra_file: A clinic's own resources (same schema). Its resources are listed first; the
            locale's emergency number and name are kept.

    Returns:
        The validated resources.

    Raises:
        CrisisResourcesError: Unknown locale (the message lists the available ones), or a file
            that is missing, unreadable, not YAML, or fails validation (the message names the
            file and the field).
    """
    path = resources_dir / f"{locale}.yaml"
    if not path.exists():  # something there that is not a file gets _load_file's clear error
        available = available_locales(resources_dir)
        raise CrisisResourcesError(
            f"no crisis resources for locale {locale!r} in {resources_dir}; "
            f"available locales: {', '.join(available) if available else '(none)'}"
        )
    base = _load_file(path)
    if extra_file is None:
        return base
    extra = _load_file(extra_file)
    if extra.locale.casefold() != locale.casefold():
        logger.warning(
            "clinic crisis resources %s are for locale %s, shown with %s's emergency number",
            extra_file,
            extra.locale,
            locale,
        )
    seen = {(r.name.casefold(), r.contact.casefold()) for r in extra.resources}
    merged = list(extra.resources) + [
        r for r in base.resources if (r.name.casefold(), r.contact.casefold()) not in seen
    ]
    return base.model_copy(
        update={"resources": merged, "reviewed": min(base.reviewed, extra.reviewed)}
    )


@dataclass(frozen=True)
class CrisisResourcesCheck:
    """What :func:`check_crisis_resources` found; an empty error means that part is usable."""

    locale_error: str = ""
    extra_error: str = ""
    resources: CrisisResources | None = None
    #: Usable, but off: the clinic file names another locale than the configured one, so its
    #: lines are shown beside that locale's emergency number (a file meant for another site).
    warning: str = ""

    @property
    def ok(self) -> bool:
        """True when the locale's file and the clinic file (if any) both load."""
        return not self.locale_error and not self.extra_error


def check_crisis_resources(
    resources_dir: Path, locale: str, extra_file: Path | None = None
) -> CrisisResourcesCheck:
    """Check the configured crisis resources without raising, for a deployment check.

    Unlike :func:`load_crisis_resources`, which stops at the first problem, this checks the
    locale's file and the clinic file each on its own, so both problems are reported at once.

    Returns:
        The problems found, and the merged resources when there are none.
    """
    locale_error = extra_error = ""
    try:
        load_crisis_resources(resources_dir, locale)
    except (CrisisResourcesError, OSError) as exc:
        locale_error = str(exc)
    if extra_file is not None:
        try:
            _load_file(extra_file)
        except (CrisisResourcesError, OSError) as exc:  # OSError: a file we may not read
            extra_error = str(exc)
    if locale_error or extra_error:
        return CrisisResourcesCheck(locale_error, extra_error)
    warning = ""
    if extra_file is not None:
        theirs = _load_file(extra_file).locale
        if theirs.casefold() != locale.casefold():
            warning = (
                f"clinic file {extra_file} is for locale {theirs!r}, but the configured locale "
                f"is {locale!r}: its lines are shown with {locale}'s emergency number"
            )
    return CrisisResourcesCheck(
        resources=load_crisis_resources(resources_dir, locale, extra_file), warning=warning
    )


def _load_file(path: Path) -> CrisisResources:
    """Read and validate one resources file, turning every failure into a message naming it."""
    raw = _read_text(path)
    try:
        data: Any = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise CrisisResourcesError(f"{path}: not valid YAML{yaml_problem(exc)}") from exc
    if not isinstance(data, dict):
        raise CrisisResourcesError(
            f"{path}: expected a mapping with locale, name, emergency_number, resources, "
            f"reviewed; got {type(data).__name__}"
        )
    try:
        return CrisisResources.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in err['loc'])}': {err['msg']}" for err in exc.errors()
        )
        raise CrisisResourcesError(f"{path}: {problems}") from exc


def _read_text(path: Path) -> str:
    """The file's text; a missing, unreadable, oversized or non-UTF-8 file raises, naming it."""
    if path.is_dir():
        raise CrisisResourcesError(f"{path}: is a directory, not a crisis resources file")
    if not path.exists():
        raise CrisisResourcesError(f"{path}: crisis resources file not found")
    if not path.is_file():  # a FIFO or device would block or never end
        raise CrisisResourcesError(f"{path}: not a regular file")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CrisisResourcesError(
                f"{path}: {size} bytes is too large for a crisis resources file "
                f"(limit {MAX_FILE_BYTES})"
            )
        data = path.read_bytes()
    except OSError as exc:  # permission denied, I/O error, removed while being read
        reason = (exc.strerror or type(exc).__name__).lower()
        raise CrisisResourcesError(f"{path}: cannot be read ({reason})") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CrisisResourcesError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from exc
