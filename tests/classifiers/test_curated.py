"""Curated training texts: loading, the labels each row teaches, and the train-split join."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.labels import CONDITIONS, RISK_LEVELS
from classifiers.training.data import (
    CURATED_ID_PREFIX,
    CURATED_TRAPS_PATH,
    CorpusError,
    Split,
    build_targets,
    distant_label,
    load_curated,
    with_curated,
)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [
    {
        "id": "p1a",
        "text": "Night shift done, bed by ten.",
        "relevant": False,
        "conditions": [],
        "crisis": False,
    },
    {
        "id": "p1b",
        "text": "Every shift my heart races and I think I'm dying.",
        "relevant": True,
        "conditions": ["anxiety"],
        "crisis": False,
    },
    {
        "id": "p2b",
        "text": "I've been saving my tablets for when I'm ready.",
        "relevant": True,
        "conditions": [],
        "crisis": True,
    },
    {
        "id": "p3b",
        "text": "Everything feels too much lately.",
        "relevant": True,
        "conditions": [],
        "crisis": False,
    },
]


def test_each_row_teaches_what_its_writer_labelled(tmp_path: Path) -> None:
    df = load_curated(_write(tmp_path / "c.jsonl", ROWS))
    assert df["subreddit"].tolist() == [
        "everyday",
        "label:anxiety",
        "label:crisis",
        "label:relevant",
    ]
    assert df["id"].str.startswith(CURATED_ID_PREFIX).all()
    t = build_targets(df)
    ci = {c: i for i, c in enumerate(CONDITIONS)}
    # everyday: not relevant, no condition, risk none, minimal severity
    assert t.relevance[0] == 0 and t.relevance_w[0] > 0
    assert t.conditions[0].sum() == 0 and t.conditions_w[0, ci["depression"]] > 0
    assert RISK_LEVELS[t.risk[0]] == "none" and t.risk_w[0] > 0
    # a disclosure: relevant, its condition positive, the others absent, risk not taught
    assert t.relevance[1] == 1 and t.conditions[1, ci["anxiety"]] == 1
    assert t.conditions_w[1, ci["depression"]] > 0 and t.conditions[1, ci["depression"]] == 0
    # a crisis: relevant, risk at least ideation, conditions unknown
    assert RISK_LEVELS[t.risk[2]] in ("ideation", "behavior", "attempt") and t.risk_w[2] > 0
    assert t.conditions_w[2].sum() == 0
    # relevant, no condition named: relevant, conditions unknown
    assert t.relevance[3] == 1 and t.conditions_w[3].sum() == 0
    assert distant_label("label:anxiety;crisis").conditions == ("anxiety",)


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "x", "text": "fine", "relevant": False, "conditions": ["anxiety"], "crisis": False},
        {"id": "x", "text": "fine", "relevant": True, "conditions": ["sadness"], "crisis": False},
        {"id": "x", "text": " ", "relevant": False, "conditions": [], "crisis": False},
        {"id": "x", "relevant": False},
        {"id": "x", "text": "fine", "relevant": "false", "conditions": [], "crisis": False},
        {"id": "x", "text": "fine", "relevant": None, "conditions": [], "crisis": False},
        {
            "id": "x",
            "text": "my brother has bipolar",
            "writer_signals": False,
            "relevant": None,
            "conditions": ["bipolar"],
            "crisis": False,
        },
        {"id": "x", "text": "fine", "writer_signals": "no", "relevant": None, "conditions": []},
    ],
)
def test_a_malformed_row_names_its_file_and_line(tmp_path: Path, bad: dict) -> None:
    path = _write(tmp_path / "c.jsonl", [ROWS[0], bad])
    with pytest.raises(CorpusError, match=r"c\.jsonl:2: malformed curated text"):
        load_curated(path)
    with pytest.raises(CorpusError, match="cannot read"):
        load_curated(tmp_path / "missing.jsonl")


def test_a_trap_without_writer_signals_teaches_no_condition_and_no_risk(tmp_path: Path) -> None:
    """'My dad keeps saying he wants to die': nothing of the writer's own, relevance untaught."""
    rows = [
        {
            "id": "t1a",
            "text": "My dad keeps saying he wants to die, how do I help him?",
            "writer_signals": False,
            "relevant": None,
            "conditions": [],
            "crisis": False,
        },
        {
            "id": "t2a",
            "text": "Had panic attacks at uni, CBT sorted it, none in five years.",
            "writer_signals": False,
            "relevant": True,
            "conditions": [],
            "crisis": False,
        },
    ]
    df = load_curated(_write(tmp_path / "t.jsonl", rows))
    assert df["subreddit"].tolist() == ["label:none", "label:none"]
    t = build_targets(df)
    ci = {c: i for i, c in enumerate(CONDITIONS)}
    for i in range(2):
        assert t.relevance_w[i] == 0  # relevance not taught
        assert t.conditions[i].sum() == 0  # the conditions are taught absent
        assert t.conditions_w[i, ci["depression"]] > 0 and t.conditions_w[i, ci["anxiety"]] > 0
        assert RISK_LEVELS[t.risk[i]] == "none" and t.risk_w[i] > 0


def test_curated_files_join_one_after_another_and_an_id_twice_is_refused(tmp_path: Path) -> None:
    import pandas as pd

    df = pd.DataFrame(
        {"id": ["r1"], "subreddit": ["anxiety"], "author": ["a"], "date": [""], "text": ["x"]}
    )
    split = Split(train=("r1",), validation=(), test=(), seed=1)
    first = _write(tmp_path / "a.jsonl", ROWS[:2])
    second = _write(tmp_path / "b.jsonl", ROWS[2:])
    out, new = with_curated(df, split, first, copies=2)
    out, new = with_curated(out, new, second, copies=2)
    assert len(out) == 1 + 2 * len(ROWS) and len(new.train) == 1 + 2 * len(ROWS)
    with pytest.raises(CorpusError, match="twice"):
        with_curated(out, new, first)


def test_curated_texts_join_the_train_split_only(tmp_path: Path) -> None:
    import pandas as pd

    df = pd.DataFrame(
        {
            "id": ["r1", "r2"],
            "subreddit": ["anxiety", "guns"],
            "author": ["a", "b"],
            "date": ["", ""],
            "text": ["x", "y"],
            "text_sha256": ["1", "2"],
        }
    )
    split = Split(train=("r1",), validation=("r2",), test=(), seed=1)
    out, new = with_curated(df, split, _write(tmp_path / "c.jsonl", ROWS))
    assert len(out) == 6 and new.validation == ("r2",) and new.test == ()
    assert set(new.train) == {"r1", *(f"{CURATED_ID_PREFIX}{r['id']}" for r in ROWS)}
    # repeated: each text several times, ids kept unique
    out, new = with_curated(df, split, tmp_path / "c.jsonl", copies=3)
    assert len(out) == 2 + 3 * len(ROWS) and len(set(out["id"])) == len(out)
    assert len(new.train) == 1 + 3 * len(ROWS)


def test_the_shipped_curated_file_loads() -> None:
    df = load_curated()
    assert len(df) == 480
    assert (df["subreddit"] == "everyday").sum() == 240


def test_the_shipped_trap_pairs_load() -> None:
    """Half traps (nothing real, or nothing of the writer's own), half genuine disclosures."""
    df = load_curated(CURATED_TRAPS_PATH)
    assert len(df) == 480
    traps = df["subreddit"].isin(["everyday", "label:none"])
    assert traps.sum() == 240
    assert df.loc[~traps, "subreddit"].str.startswith("label:").all()


def test_older_training_settings_keep_their_fingerprint() -> None:
    from classifiers.training.train import TrainConfig

    assert TrainConfig(output_dir=Path("x")).fingerprint() == "17fce4c737c8"
    curated = TrainConfig(output_dir=Path("x"), curated=True)
    assert curated.fingerprint() != "17fce4c737c8"
    assert TrainConfig(output_dir=Path("x"), curated=True, curated_copies=4).fingerprint() not in (
        curated.fingerprint(),
        "17fce4c737c8",
    )
    traps = TrainConfig(output_dir=Path("x"), curated=True, curated_traps=2)
    assert traps.fingerprint() != curated.fingerprint()
    assert TrainConfig(output_dir=Path("x"), curated=True, curated_traps=0).fingerprint() == (
        curated.fingerprint()
    )
    # without --curated the traps setting changes nothing
    assert TrainConfig(output_dir=Path("x"), curated_traps=2).fingerprint() == "17fce4c737c8"
