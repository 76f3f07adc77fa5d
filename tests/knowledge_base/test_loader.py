"""Loading passages: good files load, each bad file is named with its bad field, the rest survive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from knowledge_base.loader import load_passages
from tests.retrieval.kb_fixtures import PASSAGES, passage_file, passage_markdown, write_corpus


def _errors_by_file(result) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in result.errors:
        out.setdefault(e.file, set()).add(e.field)
    return out


def test_valid_corpus_loads_every_passage(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "passages")
    result = load_passages([root], base=root)
    assert result.errors == []
    assert {p.id for p in result.passages} == {p.id for p in PASSAGES}
    assert result.files["anx-worry-time"] == "anxiety/anx-worry-time.md"
    worry = next(p for p in result.passages if p.id == "anx-worry-time")
    assert worry.title == "Worry time: postponing worries about the future"
    assert worry.text.startswith("Generalised anxiety often means worrying")


def test_bad_files_are_named_with_their_field_and_the_rest_still_load(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "passages")
    fixture = PASSAGES[0]
    bad = root / "broken"
    bad.mkdir()
    (bad / "yaml.md").write_text("---\nid: x-yaml\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    (bad / "condition.md").write_text(
        passage_markdown(fixture, id="x-condition", conditions="[sadness]"), encoding="utf-8"
    )
    (bad / "missing-title.md").write_text(
        passage_markdown(fixture, id="x-title").replace(f'title: "{fixture.title}"\n', ""),
        encoding="utf-8",
    )
    (bad / "short.md").write_text(
        passage_markdown(fixture, id="x-short").split("---\n")[0]
        + "---\n"
        + passage_markdown(fixture, id="x-short").split("---\n")[1]
        + "---\nToo short to be a passage.\n",
        encoding="utf-8",
    )
    (bad / "latin1.md").write_bytes(
        passage_markdown(fixture, id="x-latin").encode() + "café".encode("latin-1")
    )
    (bad / "binary.md").write_bytes(b"\x00\x01\x02 not text")
    (bad / "utf16.md").write_text(passage_markdown(fixture, id="x-utf16"), encoding="utf-16")
    (bad / "no-front-matter.md").write_text("Just a body, no metadata.\n", encoding="utf-8")
    copies = root / "zz-copies"  # sorts after the original, so the copy is the duplicate
    copies.mkdir()
    (copies / "duplicate.md").write_text(passage_markdown(fixture), encoding="utf-8")

    result = load_passages([root], base=root)

    assert {p.id for p in result.passages} == {p.id for p in PASSAGES}
    fields = _errors_by_file(result)
    assert fields == {
        "broken/yaml.md": {"front_matter"},
        "broken/condition.md": {"conditions"},
        "broken/missing-title.md": {"title"},
        "broken/short.md": {"text"},
        "broken/latin1.md": {"encoding"},
        "broken/binary.md": {"encoding"},
        "broken/utf16.md": {"encoding"},
        "broken/no-front-matter.md": {"front_matter"},
        "zz-copies/duplicate.md": {"id"},
    }
    messages = {e.file: e.message for e in result.errors}
    assert "sadness" in messages["broken/condition.md"]
    assert "words" in messages["broken/short.md"]
    # One line, at the line of the file (not of the front matter), without PyYAML's quote.
    assert messages["broken/yaml.md"].startswith("invalid YAML at line 3, column 17: expected")
    assert "\n" not in messages["broken/yaml.md"]
    assert messages["broken/binary.md"].startswith("binary file")
    assert messages["broken/utf16.md"].startswith("UTF-16 or UTF-32 text")
    # The duplicate's message points at the file that already holds the id.
    assert (
        passage_file(root, fixture.id).relative_to(root).as_posix()
        in messages["zz-copies/duplicate.md"]
    )


def test_content_hash_changes_with_content_not_with_whitespace(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "passages")
    path = passage_file(root, "anx-worry-time")
    before = next(p for p in load_passages([path]).passages).content_hash

    path.write_text(path.read_text(encoding="utf-8").replace("\n", "  \r\n"), encoding="utf-8")
    assert next(p for p in load_passages([path]).passages).content_hash == before

    path.write_text(
        path.read_text(encoding="utf-8").replace("twenty minute", "fifteen minute"),
        encoding="utf-8",
    )
    after_text = next(p for p in load_passages([path]).passages).content_hash
    assert after_text != before

    path.write_text(
        path.read_text(encoding="utf-8").replace("severity: [minimal,", "severity: [severe,"),
        encoding="utf-8",
    )
    assert next(p for p in load_passages([path]).passages).content_hash not in (before, after_text)


def test_missing_path_is_an_error_not_a_crash(tmp_path: Path) -> None:
    result = load_passages([tmp_path / "nope"])
    assert result.passages == []
    assert [(e.field, e.message) for e in result.errors] == [("file", "does not exist")]


#: Hash of the first fixture passage, pinned from the schema of 2026-11-26 (before the optional
#: ``population`` and ``after_treatment`` fields): passages that leave them out keep it.
FIXTURE_HASH = "dc5b1152af02c73125bde180dbdda9a630dfda1339f70f700a45ae94a371b57d"


def _load_with_extra(tmp_path: Path, extra: dict[str, dict[str, str]]) -> tuple[Any, dict]:
    """The fixture corpus plus ``extra/<name>.md`` copies of its first passage (id ``x-<name>``)
    with the given front-matter overrides; returns the load result and passages by id."""
    root = write_corpus(tmp_path / "passages")
    folder = root / "extra"
    folder.mkdir()
    for name, overrides in extra.items():
        (folder / f"{name}.md").write_text(
            passage_markdown(PASSAGES[0], id=f"x-{name}", **overrides), encoding="utf-8"
        )
    result = load_passages([root], base=root)
    return result, {p.id: p for p in result.passages}


def _as_fixture_hash(passage: Any) -> str:
    """The hash the passage would have under the first fixture passage's id."""
    return str(passage.model_copy(update={"id": PASSAGES[0].id}).content_hash)


def test_situations_are_optional_and_checked(tmp_path: Path) -> None:
    result, by_id = _load_with_extra(
        tmp_path,
        {
            "good": {
                "situations": '["I stay in bed till noon and skip   everything I used to enjoy"]'
            },
            "bad": {"situations": '["sad", "a fine situation here"]'},
            "pipe": {"situations": '["I feel low | and tired all day"]'},
        },
    )
    assert by_id["x-good"].situations == [
        "I stay in bed till noon and skip everything I used to enjoy"
    ]
    assert by_id[PASSAGES[0].id].situations == []
    assert _errors_by_file(result) == {
        "extra/bad.md": {"situations"},
        "extra/pipe.md": {"situations"},
    }
    messages = {e.file: e.message for e in result.errors}
    assert "3-30 words" in messages["extra/bad.md"]
    assert "'|'" in messages["extra/pipe.md"]


def test_population_is_optional_checked_and_keeps_old_hashes(tmp_path: Path) -> None:
    result, by_id = _load_with_extra(
        tmp_path,
        {
            "carers": {"population": "[families_carers]"},
            "empty": {"population": "[]"},
            "bad": {"population": "[teachers]"},
        },
    )
    assert by_id["x-carers"].population == ["families_carers"]
    assert by_id["x-empty"].population == [] == by_id[PASSAGES[0].id].population
    assert _errors_by_file(result) == {"extra/bad.md": {"population"}}
    assert "teachers" in next(e.message for e in result.errors)
    # Untagged passages hash exactly as before the field existed, written out empty or left
    # out, so adding it re-embedded only the 20 tagged passages.
    assert by_id[PASSAGES[0].id].content_hash == FIXTURE_HASH
    assert _as_fixture_hash(by_id["x-empty"]) == FIXTURE_HASH
    assert _as_fixture_hash(by_id["x-carers"]) != FIXTURE_HASH


def test_after_treatment_is_optional_and_keeps_old_hashes(tmp_path: Path) -> None:
    result, by_id = _load_with_extra(
        tmp_path,
        {
            "treated": {"after_treatment": "true"},
            "untreated": {"after_treatment": "false"},
            "bad": {"after_treatment": "sometimes"},
        },
    )
    assert by_id["x-treated"].after_treatment is True
    assert by_id["x-untreated"].after_treatment is False
    assert _errors_by_file(result) == {"extra/bad.md": {"after_treatment"}}
    # "false" written out is the default: the same hash as leaving it out.
    assert _as_fixture_hash(by_id["x-untreated"]) == FIXTURE_HASH
    assert _as_fixture_hash(by_id["x-treated"]) != FIXTURE_HASH
