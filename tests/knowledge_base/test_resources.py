"""Crisis resources load per locale, merge a clinic's file first, and fail with clear messages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge_base.resources import (
    CrisisResources,
    CrisisResourcesError,
    available_locales,
    check_crisis_resources,
    load_crisis_resources,
)

RESOURCES_DIR = Path(__file__).resolve().parents[2] / "knowledge_base" / "resources"

CLINIC_YAML = """\
locale: en-GB
name: Riverside Clinic
emergency_number: "999"
resources:
  - name: Riverside duty clinician
    contact: call the clinic switchboard and ask for the duty clinician
    kind: phone
    hours: Mon-Fri 9:00-17:00
    description: Same-day call back from the clinician on duty.
reviewed: 2026-11-20
"""


@pytest.mark.parametrize(
    ("locale", "emergency", "expected_contact"),
    [
        ("en-US", "911", "988"),
        ("en-GB", "999", "116 123"),
        ("en-IE", "112", "50808"),
        ("en-CA", "911", "988"),
        ("en-AU", "000", "13 11 14"),
        ("intl", "local emergency number", "findahelpline.com"),
    ],
)
def test_shipped_locales_load_with_their_crisis_lines(
    locale: str, emergency: str, expected_contact: str
) -> None:
    res = load_crisis_resources(RESOURCES_DIR, locale)

    assert res.locale == locale
    assert emergency in res.emergency_number
    assert any(expected_contact in r.contact for r in res.resources)
    markdown = res.to_markdown()
    assert expected_contact in markdown
    # The person must always see how to reach emergency help.
    assert emergency in markdown


def test_available_locales_lists_every_shipped_file() -> None:
    assert available_locales(RESOURCES_DIR) == ["en-AU", "en-CA", "en-GB", "en-IE", "en-US", "intl"]


def test_markdown_lines_read_name_contact_hours() -> None:
    res = load_crisis_resources(RESOURCES_DIR, "en-GB")

    lines = res.to_markdown().splitlines()

    assert "- Samaritans - call 116 123 (24/7)" in lines
    assert len(lines) == len(res.resources)


def test_clinic_file_is_merged_with_its_resources_first(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(CLINIC_YAML, encoding="utf-8")

    res = load_crisis_resources(RESOURCES_DIR, "en-GB", extra_file=clinic)

    names = [r.name for r in res.resources]
    assert names[0] == "Riverside duty clinician"
    assert "Samaritans" in names
    assert res.emergency_number == "999"
    assert res.to_markdown().splitlines()[0].startswith("- Riverside duty clinician - ")


def test_clinic_entry_with_same_name_and_contact_is_not_listed_twice(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(
        CLINIC_YAML.replace("Riverside duty clinician", "Samaritans").replace(
            "call the clinic switchboard and ask for the duty clinician", "call 116 123"
        ),
        encoding="utf-8",
    )

    res = load_crisis_resources(RESOURCES_DIR, "en-GB", extra_file=clinic)

    assert [r.name for r in res.resources].count("Samaritans") == 1


def test_unknown_locale_error_lists_available_locales() -> None:
    with pytest.raises(CrisisResourcesError) as info:
        load_crisis_resources(RESOURCES_DIR, "fr-FR")

    message = str(info.value)
    assert "fr-FR" in message
    assert "en-GB" in message and "intl" in message


def test_bad_clinic_file_error_names_file_and_field(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(CLINIC_YAML.replace("kind: phone", "kind: pigeon"), encoding="utf-8")

    with pytest.raises(CrisisResourcesError) as info:
        load_crisis_resources(RESOURCES_DIR, "en-GB", extra_file=clinic)

    message = str(info.value)
    assert str(clinic) in message
    assert "resources.0.kind" in message


def test_missing_required_field_is_named(tmp_path: Path) -> None:
    (tmp_path / "xx.yaml").write_text(
        CLINIC_YAML.replace('emergency_number: "999"\n', ""), encoding="utf-8"
    )

    with pytest.raises(CrisisResourcesError, match="emergency_number"):
        load_crisis_resources(tmp_path, "xx")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfe\x00binary\x00", "not UTF-8"),
        (b"locale: [unclosed", "not valid YAML"),
        (b"- just\n- a list\n", "expected a mapping"),
        (b"", "expected a mapping"),
    ],
)
def test_unreadable_files_get_a_clear_error(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "zz.yaml"
    path.write_bytes(content)

    with pytest.raises(CrisisResourcesError, match=expected) as info:
        load_crisis_resources(tmp_path, "zz")

    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)  # one line, without PyYAML's quote of the file


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("name: Riverside duty clinician", "name: '   '", "resources.0.name"),
        (
            "contact: call the clinic switchboard and ask for the duty clinician",
            'contact: " "',
            "resources.0.contact",
        ),
        ('emergency_number: "999"', 'emergency_number: "  "', "emergency_number"),
    ],
)
def test_a_blank_name_contact_or_emergency_number_is_refused(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(CLINIC_YAML.replace(old, new), encoding="utf-8")

    # A crisis block with an empty line where a number should be helps nobody.
    with pytest.raises(CrisisResourcesError, match=f"field '{field}'"):
        load_crisis_resources(RESOURCES_DIR, "en-GB", extra_file=clinic)


def test_a_directory_in_place_of_the_clinic_file_is_named(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.mkdir()

    with pytest.raises(CrisisResourcesError) as info:
        load_crisis_resources(RESOURCES_DIR, "en-GB", extra_file=clinic)

    assert str(info.value) == f"{clinic}: is a directory, not a crisis resources file"


def test_a_directory_in_place_of_a_locale_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "en-GB.yaml").mkdir()

    with pytest.raises(CrisisResourcesError, match="is a directory") as info:
        load_crisis_resources(tmp_path, "en-GB")

    assert str(tmp_path / "en-GB.yaml") in str(info.value)


def test_a_clinic_file_that_is_not_utf8_names_the_file_and_the_byte(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    good = CLINIC_YAML.encode()
    clinic.write_bytes(good + b"# \xe9t\xe9\n")  # "été" saved as Latin-1 by an editor

    with pytest.raises(CrisisResourcesError) as info:
        load_crisis_resources(RESOURCES_DIR, "en-GB", extra_file=clinic)

    message = str(info.value)
    assert message.startswith(f"{clinic}: not UTF-8 text (")
    assert f"at byte {len(good) + 2}" in message and "save it as UTF-8" in message


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file regardless"
)
def test_a_clinic_file_without_read_permission_is_a_clear_error(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(CLINIC_YAML, encoding="utf-8")
    clinic.chmod(0)
    try:
        with pytest.raises(CrisisResourcesError) as info:
            load_crisis_resources(RESOURCES_DIR, "en-GB", extra_file=clinic)
    finally:
        clinic.chmod(0o600)

    assert str(info.value) == f"{clinic}: cannot be read (permission denied)"


def test_missing_clinic_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CrisisResourcesError, match="not found"):
        load_crisis_resources(RESOURCES_DIR, "en-US", extra_file=tmp_path / "nope.yaml")


def test_emergency_line_is_added_when_a_file_forgets_it(tmp_path: Path) -> None:
    (tmp_path / "xx.yaml").write_text(CLINIC_YAML, encoding="utf-8")

    res: CrisisResources = load_crisis_resources(tmp_path, "xx")

    assert res.to_markdown().splitlines()[-1] == "- Emergency services - 999 (24/7)"


def test_check_reports_a_missing_locale_and_a_broken_clinic_file_together(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(CLINIC_YAML.replace("kind: phone", "kind: pigeon"), encoding="utf-8")

    found = check_crisis_resources(RESOURCES_DIR, "fr-FR", clinic)

    assert not found.ok and found.resources is None
    assert "'fr-FR'" in found.locale_error and "intl" in found.locale_error
    assert str(clinic) in found.extra_error and "resources.0.kind" in found.extra_error


def test_check_of_a_good_configuration_gives_the_merged_resources(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(CLINIC_YAML, encoding="utf-8")

    found = check_crisis_resources(RESOURCES_DIR, "en-GB", clinic)

    assert found.ok and found.resources is not None
    assert found.resources.resources[0].name == "Riverside duty clinician"
