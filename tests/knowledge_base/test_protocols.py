"""Clinic protocols: front matter is honoured or named as an error, and bad paths are refused."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from classifiers.labels import RISK_LEVELS, SEVERITY_LEVELS
from knowledge_base.protocols import load_protocols, protocol_path_problems
from tests.retrieval.kb_fixtures import make_pdf

BODY = (
    "Our clinic calls every patient with severe depression within 48 hours of referral; "
    "the duty nurse logs the call and books a review with the team.\n"
)


def _protocol(path: Path, front_matter: str, body: str = BODY) -> Path:
    path.write_text(f"---\n{front_matter}---\n{body}", encoding="utf-8")
    return path


def test_front_matter_sets_title_conditions_severity_and_risk(tmp_path: Path) -> None:
    path = _protocol(
        tmp_path / "good_practice.md",
        "title: Good practice\nconditions: [depression]\nseverity: [moderate, severe]\n"
        "risk: ideation\n",
    )
    result = load_protocols([path])
    assert result.errors == []
    [chunk] = result.chunks
    assert chunk.title == "Good practice"
    assert chunk.conditions == ("depression",)
    assert chunk.severity == ("moderate", "severe")
    assert chunk.risk == ("ideation",)
    assert chunk.citation.startswith("Good practice (clinic protocol), part 1 of 1.")


def test_without_front_matter_a_protocol_fits_every_level(tmp_path: Path) -> None:
    path = tmp_path / "crisis_protocol-v2.md"
    path.write_text(BODY, encoding="utf-8")
    [chunk] = load_protocols([path]).chunks
    assert chunk.title == "Crisis protocol v2"
    assert chunk.conditions == ("general_wellbeing",)
    assert (chunk.severity, chunk.risk) == (SEVERITY_LEVELS, RISK_LEVELS)


def test_editing_the_front_matter_changes_the_content_hash(tmp_path: Path) -> None:
    path = _protocol(tmp_path / "p.md", "conditions: [depression]\n")
    before = load_protocols([path]).chunks[0].content_hash
    _protocol(path, "conditions: [depression]\nseverity: [severe]\n")
    assert load_protocols([path]).chunks[0].content_hash != before


def test_invalid_front_matter_names_the_file_and_field_and_the_rest_still_load(
    tmp_path: Path,
) -> None:
    good = _protocol(tmp_path / "a-good.md", "title: Fine\n")
    cases = {
        "severity.md": ("severity: [extreme]\n", "severity", "extreme"),
        "risk.md": ("risk: [maybe]\n", "risk", "maybe"),
        "conditions.md": ("conditions: [sadness]\n", "conditions", "sadness"),
        "title.md": ("title: [not, text]\n", "title", "text"),
        "typo.md": ("severty: [severe]\n", "severty", "severity"),
        "case.md": ("Title: Call-backs\n", "Title", "title"),
        "unclosed.md": ("title: x\n", "front_matter", "not closed"),
    }
    for name, (front, _, _) in cases.items():
        _protocol(tmp_path / name, front)
    (tmp_path / "unclosed.md").write_text("---\ntitle: x\n" + BODY, encoding="utf-8")

    result = load_protocols([tmp_path])

    assert [c.file for c in result.chunks] == [str(good.resolve())]
    got = {Path(e.file).name: (e.field, e.message) for e in result.errors}
    assert set(got) == set(cases)
    for name, (_, field, hint) in cases.items():
        assert got[name][0] == field, name
        assert hint in got[name][1], (name, got[name][1])


def test_other_front_matter_fields_of_the_clinic_are_ignored(tmp_path: Path) -> None:
    path = _protocol(
        tmp_path / "p.md",
        "author: Dr Rivers\nversion: 3\nsubtitle: Team A\ntitle: Call-backs\nseverity: []\n",
    )
    result = load_protocols([path])
    assert result.errors == []
    assert result.chunks[0].title == "Call-backs"
    assert result.chunks[0].severity == SEVERITY_LEVELS  # left empty: every level


def test_an_empty_markdown_file_gets_a_hint_that_fits_markdown(tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("", encoding="utf-8")
    _protocol(tmp_path / "front-only.md", "title: Nothing below\n", body="")
    result = load_protocols([tmp_path])
    assert result.chunks == []
    assert {e.field for e in result.errors} == {"text"}
    for err in result.errors:
        assert "OCR" not in err.message and "PDF" not in err.message
        assert "empty" in err.message


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    path = _protocol(tmp_path / "p.md", "title: Once\n")
    result = load_protocols([path, tmp_path, str(path)])
    assert len(result.chunks) == 1 and result.files == [str(path.resolve())]


def test_path_problems_name_each_path_that_cannot_be_ingested(tmp_path: Path) -> None:
    good = _protocol(tmp_path / "p.md", "title: Fine\n")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    (empty_dir / "notes.docx").write_bytes(b"PK")
    word = tmp_path / "protocol.docx"
    word.write_bytes(b"PK")
    missing = tmp_path / "nonexistent_path"

    assert protocol_path_problems([good, tmp_path]) == []
    problems = protocol_path_problems([good, missing, word, empty_dir])
    assert len(problems) == 3
    assert str(missing) in problems[0] and "does not exist" in problems[0]
    assert str(word) in problems[1] and ".pdf" in problems[1]
    assert str(empty_dir) in problems[2] and "no protocol files" in problems[2]


def test_broken_yaml_front_matter_is_one_line_with_the_file_line(tmp_path: Path) -> None:
    path = _protocol(tmp_path / "p.md", "title: [Call-backs\nconditions: depression\n")
    [error] = load_protocols([path]).errors
    assert error.field == "front_matter"
    # Line 3 of the file (the front matter starts on line 2); no quote of the file under a caret.
    assert error.message.startswith("invalid YAML at line 3, column 11: expected ',' or ']'")
    assert "\n" not in error.message


def test_a_utf16_protocol_is_named_an_encoding_problem_not_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "callbacks.md"
    path.write_text(BODY, encoding="utf-16")  # what some editors save as "Unicode"
    [error] = load_protocols([path]).errors
    assert error.field == "encoding"
    assert "UTF-16" in error.message and "save as UTF-8" in error.message


def test_a_password_protected_pdf_says_so(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    plain = make_pdf(tmp_path / "plain.pdf", ["The duty nurse calls every referral."])
    writer = PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password="secret", owner_password="owner")
    locked = tmp_path / "locked.pdf"
    writer.write(str(locked))

    result = load_protocols([locked, plain])
    assert [(Path(e.file).name, e.field) for e in result.errors] == [("locked.pdf", "file")]
    assert "password-protected PDF" in result.errors[0].message
    assert [Path(c.file).name for c in result.chunks] == ["plain.pdf"]


# A clinic's private note: none of its bytes may reach the log or the error message.
PRIVATE = b"Jane Doe, born 1980, attempted suicide in March; call her husband first."


def _leaks(text: str) -> bool:
    """Whether ``text`` quotes any 5 consecutive bytes of the private note (pypdf quotes 5)."""
    note = PRIVATE.decode()
    return any(note[i : i + 5] in text for i in range(len(note) - 4))


@pytest.mark.parametrize(
    "damage",
    ["text-named-pdf", "text-before-the-header", "garbage-inside-an-object"],
)
def test_a_damaged_or_fake_pdf_never_puts_its_content_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    plain = make_pdf(tmp_path / "plain.pdf", ["The duty nurse calls every referral."])
    pdf = plain.read_bytes()
    obj = pdf.find(b" 0 obj") + len(b" 0 obj")
    body = {
        "text-named-pdf": PRIVATE + b"\n",
        # Readers accept a short prefix; pypdf reads it, logging "invalid pdf header: b'Jane '".
        "text-before-the-header": PRIVATE + b"\n" + pdf,
        # pypdf fails with "Invalid Elementary Object starting with b')' @24: b'...<the bytes>'".
        "garbage-inside-an-object": pdf[:obj] + b"\n)" + PRIVATE + b"( " + pdf[obj:],
    }[damage]
    protocol = tmp_path / "crisis-protocol.pdf"
    protocol.write_bytes(body)
    caplog.set_level(logging.DEBUG)

    result = load_protocols([protocol, plain])

    leaked = [r.getMessage() for r in caplog.records if _leaks(r.getMessage())]
    assert not leaked
    assert not any(_leaks(str(e)) for e in result.errors)
    names = sorted({Path(c.file).name for c in result.chunks})
    if damage == "text-before-the-header":
        assert names == ["crisis-protocol.pdf", "plain.pdf"] and not result.errors
        return
    # One error naming the file, and the other protocol still loads.
    [error] = result.errors
    assert (Path(error.file).name, error.field) == ("crisis-protocol.pdf", "file")
    expected = "not a PDF" if damage == "text-named-pdf" else "cannot read this PDF"
    assert expected in error.message
    assert names == ["plain.pdf"]
