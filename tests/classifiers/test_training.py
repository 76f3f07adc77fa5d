"""Training data, label fusion, calibration and a tiny end-to-end training run of the student."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classifiers.labels import CONDITIONS, RISK_LEVELS, SEVERITY_LEVELS
from classifiers.training import calibration as cal
from classifiers.training.data import (
    RULES_WEIGHT,
    SUBREDDIT_MAP,
    TEACHER_WEIGHT,
    CorpusError,
    SourceLabel,
    author_groups,
    build_targets,
    load_cssrs_dev,
    load_extra_reddit,
    load_labeled_csv,
    load_reddit_corpus,
    load_severity_dev,
    load_teacher_labels,
    parse_post_list,
    split_by_author,
    text_sha256,
)

C = {name: i for i, name in enumerate(CONDITIONS)}


def _frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["subreddit", "author", "text"])
    df["id"] = [f"p{i}" for i in range(len(df))]
    df["text_sha256"] = [text_sha256(t) for t in df["text"]]
    return df


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return load_reddit_corpus()


# ---- corpus and split ------------------------------------------------------------------------


def test_extra_reddit_keeps_known_subreddits_and_drops_posts_already_in_the_corpus(
    tmp_path: Path,
) -> None:
    csv = tmp_path / "extra.csv"
    pd.DataFrame(
        {
            "doc": [
                "Nothing feels fun any more, I stay in bed all weekend.",
                "My sergeant asked about the new duty roster.",  # a RallyPoint row
                "I can't stop checking the stove, twenty times a night.",
                "  ",
                "Same post as the corpus: I CAN'T sleep since the accident!!",
                "A post from a subreddit we do not map.",
                "Nothing feels fun any more -- I stay in bed all weekend",  # a repeat
            ],
            "source": [
                "reddit depression",
                "rallypoint Set 1",
                "reddit anxiety",
                "reddit ptsd",
                "reddit ptsd",
                "reddit cooking",
                "reddit depression",
            ],
            "label": [1, 0, 1, 1, 1, 1, 1],
        }
    ).to_csv(csv, index=False)

    extra = load_extra_reddit(
        exclude_texts=["same post as the corpus - I can't sleep since the accident"], paths=[csv]
    )

    assert extra["subreddit"].tolist() == ["depression", "anxiety"]
    assert extra["id"].str.startswith("rprmh-0-").all()
    assert set(extra["author"]) == {"[deleted]"}
    assert extra["text_sha256"].tolist() == [text_sha256(t) for t in extra["text"]]


def test_extra_reddit_posts_train_conditions_but_not_risk() -> None:
    df = _frame(
        [
            ("depression", "a", "Nothing is fun and I sleep all day."),
            ("depression", "[deleted]", "Nothing is fun and I sleep all day, every day."),
        ]
    )
    df.loc[1, "id"] = "rprmh-0-00001"
    rules = [SourceLabel(risk="ideation"), SourceLabel(risk="ideation")]

    t = build_targets(df, rules=rules)

    assert t.conditions[:, C["depression"]].tolist() == [1.0, 1.0]
    assert t.conditions_w[1, C["depression"]] > 0
    assert t.risk_w[0] > 0 and t.risk_w[1] == 0.0
    assert t.counts["risk_labels"]["ideation"] == 1  # the masked post is not counted


def test_extra_reddit_unreadable_file_is_a_corpus_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,1\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="extra corpus"):
        load_extra_reddit(paths=[bad])


def test_shipped_extra_reddit_posts_are_new_to_the_corpus(corpus: pd.DataFrame) -> None:
    extra = load_extra_reddit(exclude_texts=corpus["text"])
    assert len(extra) > 3500
    assert set(extra["subreddit"]) <= set(SUBREDDIT_MAP)
    assert not set(extra["text_sha256"]) & set(corpus["text_sha256"])


def test_corpus_has_every_subreddit_mapped(corpus: pd.DataFrame) -> None:
    assert len(corpus) > 7000
    assert set(corpus["subreddit"]) == set(SUBREDDIT_MAP)
    assert corpus["id"].is_unique
    assert (corpus["text"].str.strip() != "").all()


def test_split_keeps_each_author_in_one_part(corpus: pd.DataFrame) -> None:
    split = split_by_author(corpus, seed=13)
    ids = corpus["id"].to_numpy()
    groups = dict(zip(ids, author_groups(corpus), strict=True))
    parts = {
        name: {groups[i] for i in getattr(split, name)} for name in ("train", "validation", "test")
    }
    assert not parts["train"] & parts["test"]
    assert not parts["train"] & parts["validation"]
    assert not parts["validation"] & parts["test"]
    assert len(split.train) + len(split.validation) + len(split.test) == len(corpus)
    # Roughly 70/15/15 and every subreddit is represented in the test part.
    assert 0.6 < len(split.train) / len(corpus) < 0.8
    test_subs = set(corpus.set_index("id").loc[list(split.test), "subreddit"])
    assert test_subs == set(SUBREDDIT_MAP)


def test_split_is_reproducible_with_its_seed(corpus: pd.DataFrame) -> None:
    sample = corpus.sample(600, random_state=1)
    assert split_by_author(sample, seed=5) == split_by_author(sample, seed=5)
    assert split_by_author(sample, seed=5).test != split_by_author(sample, seed=6).test


def test_deleted_authors_do_not_pull_posts_together() -> None:
    df = _frame(
        [("depression", "[deleted]", f"post {i}") for i in range(4)]
        + [("adhd", "amy", "a"), ("adhd", "amy", "b")]
    )
    groups = author_groups(df)
    assert len(set(groups[:4])) == 4
    assert groups[4] == groups[5]
    split = split_by_author(df, seed=0)
    amy_parts = [
        name for name in ("train", "validation", "test") if {"p4", "p5"} & set(getattr(split, name))
    ]
    assert len(amy_parts) == 1


def test_too_few_posts_or_authors_to_split_is_a_corpus_error() -> None:
    three = _frame([("depression", "[deleted]", f"post {i}") for i in range(3)])
    with pytest.raises(CorpusError, match=r"3 posts by 3 author.* too few"):
        split_by_author(three)
    one_author = _frame([("depression", "amy", f"post {i}") for i in range(50)])
    with pytest.raises(CorpusError, match=r"50 posts by 1 author.* too few"):
        split_by_author(one_author)
    four = _frame([("depression", "[deleted]", f"post {i}") for i in range(4)])
    split = split_by_author(four)  # the smallest that works: one post in each part at least
    assert split.train and split.validation and split.test


def test_split_round_trips_through_json(tmp_path: Path, corpus: pd.DataFrame) -> None:
    split = split_by_author(corpus.head(200), seed=3)
    split.save(tmp_path / "split.json")
    assert type(split).load(tmp_path / "split.json") == split


# ---- label fusion ----------------------------------------------------------------------------


def test_distant_labels_follow_the_subreddit_recipe() -> None:
    df = _frame(
        [
            ("depression", "a", "I feel empty"),
            ("suicidewatch", "b", "I want to end it"),
            ("guns", "c", "Which rifle?"),
            ("divorce", "d", "Custody question"),
            ("mentalhealth", "e", "Rough week"),
        ]
    )
    t = build_targets(df)
    # r/depression: depression positive, other conditions negative, OCD unknown.
    assert t.conditions[0, C["depression"]] == 1 and t.conditions_w[0, C["depression"]] == 1
    assert t.conditions[0, C["anxiety"]] == 0 and t.conditions_w[0, C["anxiety"]] == 1
    assert t.conditions_w[0, C["ocd"]] == 0
    # r/SuicideWatch: relevant, crisis-level risk, conditions unknown.
    assert t.risk[1] == RISK_LEVELS.index("ideation") and t.risk_w[1] > 0
    assert t.conditions_w[1].sum() == 0 and t.relevance[1] == 1
    # Controls: not relevant, no condition (OCD included), no risk, minimal severity prior.
    assert t.relevance[2] == 0 and t.relevance_w[2] == 1
    assert t.conditions[2].sum() == 0 and t.conditions_w[2, C["ocd"]] == 1
    assert t.risk[2] == 0 and t.risk_w[2] > 0
    assert t.severity[2] == 0 and t.severity_w[2] > 0
    # Ambiguous and general subreddits leave heads masked.
    assert t.relevance_w[3] == 0
    assert t.conditions_w[4].sum() == 0 and t.relevance[4] == 1


def test_rules_and_teacher_add_weighted_labels() -> None:
    df = _frame(
        [
            ("depression", "a", "panic every day"),
            ("mentalhealth", "b", "I check the stove 40 times"),
        ]
    )
    rules = [
        SourceLabel(conditions=("anxiety",), severity="moderate", risk="indicator"),
        SourceLabel(conditions=(), severity=None, risk=None),
    ]
    teacher = {
        text_sha256("I check the stove 40 times"): SourceLabel(
            relevant=True, conditions=("ocd",), risk="none"
        )
    }
    t = build_targets(df, rules=rules, teacher=teacher)
    assert t.conditions[0, C["anxiety"]] == 1 and t.conditions_w[0, C["anxiety"]] == RULES_WEIGHT
    assert t.conditions[0, C["depression"]] == 1 and t.conditions_w[0, C["depression"]] == 1
    assert t.severity[0] == SEVERITY_LEVELS.index("moderate") and t.severity_w[0] == RULES_WEIGHT
    assert t.risk[0] == RISK_LEVELS.index("indicator")
    assert t.conditions[1, C["ocd"]] == 1 and t.conditions_w[1, C["ocd"]] == TEACHER_WEIGHT
    # The teacher's silence on other conditions is only a weak negative.
    assert t.conditions_w[1, C["bipolar"]] == TEACHER_WEIGHT and t.conditions[1, C["bipolar"]] == 0
    assert t.counts["teacher_rows_matched"] == 1 and t.counts["rule_condition_positives"] == 1

    # Risk and severity from the rules, conditions from the subreddit only.
    r = build_targets(df, rules=rules, teacher=teacher, rule_conditions=False)
    assert r.conditions[0, C["anxiety"]] == 0 and r.counts["rule_condition_positives"] == 0
    assert r.risk[0] == RISK_LEVELS.index("indicator") and r.risk_w[0] == RULES_WEIGHT
    assert r.severity[0] == SEVERITY_LEVELS.index("moderate")


def test_teacher_jsonl_skips_missing_and_malformed_rows(tmp_path: Path) -> None:
    path = tmp_path / "teacher.jsonl"
    rows = [
        {
            "id": 1,
            "text_sha256": "aa",
            "relevant": True,
            "conditions": ["depression", "made_up"],
            "severity": "severe",
            "risk": "ideation",
            "rationale": "...",
            "teacher_model": "smollm2",
        },
        {"id": 2, "text_sha256": "bb", "missing": True},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n\n", encoding="utf-8")
    labels = load_teacher_labels(path)
    assert set(labels) == {"aa"}
    assert labels["aa"].conditions == ("depression",)
    assert labels["aa"].severity == "severe" and labels["aa"].risk == "ideation"


def test_other_labeled_csv_is_read_and_bad_labels_are_named(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    pd.DataFrame(
        {
            "body": ["I can't stop drinking", "tax question", ""],
            "tag": ["substance_use", "none", "adhd"],
        }
    ).to_csv(good, index=False)
    df = load_labeled_csv(good, text_col="body", label_col="tag")
    assert len(df) == 2  # the empty text is dropped
    t = build_targets(df)
    assert t.conditions[0, C["substance_use"]] == 1 and t.relevance[1] == 0
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"text": ["x"], "label": ["hypochondria"]}).to_csv(bad, index=False)
    with pytest.raises(CorpusError, match="hypochondria"):
        load_labeled_csv(bad)
    with pytest.raises(CorpusError, match="lacks column"):
        load_labeled_csv(good, text_col="nope")


def test_malformed_post_list_falls_back_to_regex_split() -> None:
    assert parse_post_list("['one', 'two']") == ["one", "two"]
    broken = "['I can't go on', 'nobody would notice']"  # unescaped quote: literal_eval fails
    assert parse_post_list(broken) == ["I can't go on", "nobody would notice"]


def test_dev_sets_load_with_our_label_names(shared_data: Path) -> None:
    sev = load_severity_dev(shared_data / "dev" / "depression_severity_dev.csv")
    assert set(sev["level"]) == set(SEVERITY_LEVELS) and len(sev) == 400
    cssrs = load_cssrs_dev(shared_data / "dev" / "cssrs_users_dev.csv")
    assert set(cssrs["level"]) == set(RISK_LEVELS) and len(cssrs) == 100
    assert all(len(posts) >= 1 for posts in cssrs["posts"])


# ---- calibration -----------------------------------------------------------------------------


def test_temperature_softens_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000).astype(float)
    true_logit = np.where(y > 0, 1.0, -1.0) + rng.normal(0, 1.5, 2000)
    t = cal.fit_binary_temperature(true_logit * 5, y, np.ones_like(y))
    assert t > 2.0


def test_thresholds_fall_back_to_default_without_positives() -> None:
    probs = np.linspace(0, 1, 50)
    assert cal.tune_threshold(probs, np.zeros(50), default=0.7) == 0.7
    y = (probs > 0.3).astype(float)
    assert 0.25 <= cal.tune_threshold(probs, y) <= 0.32


def test_cut_points_recover_separable_levels_and_cv_is_reported() -> None:
    rng = np.random.default_rng(1)
    levels = np.repeat(np.arange(4), 50)
    scores = levels / 4 + rng.uniform(0, 0.2, 200)
    fit = cal.cross_validated_cut_points(scores, levels)
    assert fit.cv_balanced_accuracy > 0.95 and fit.in_sample_balanced_accuracy > 0.95
    assert fit.cut_points == sorted(fit.cut_points)
    noisy = cal.cross_validated_cut_points(rng.uniform(0, 1, 200), levels)
    assert noisy.cv_balanced_accuracy < noisy.in_sample_balanced_accuracy


# ---- end to end ------------------------------------------------------------------------------


@pytest.mark.slow
def test_tiny_training_run_produces_a_loadable_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app
    from classifiers.base import Classification
    from classifiers.transformer import TransformerClassifier

    monkeypatch.setenv("MINDSIGNAL_DATA_DIR", str(tmp_path / "var"))
    out = tmp_path / "artifact"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--max-posts",
            "40",
            "--epochs",
            "1",
            "--no-rules",
            "--source-head",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("model.onnx", "tokenizer.json", "config.json", "split.json", "MODEL_CARD.md"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    assert set(config["thresholds"]) == set(CONDITIONS)
    assert config["version"].startswith("minilm-mh-")
    split = json.loads((out / "split.json").read_text())
    assert len(split["train"]) + len(split["validation"]) + len(split["test"]) == 40
    assert "not a diagnosis" in (out / "MODEL_CARD.md").read_text()

    assert config["onnx_outputs"][-1] == "pooled"
    # The auxiliary source head trains the encoder but is not part of the exported graph.
    assert config["training"]["source_head"] == "True"
    assert len(config["onnx_outputs"]) == 5
    # stack.npz ships exactly when the four-member blend won on validation
    assert (out / "stack.npz").is_file() == ("stacked" in config.get("ensemble", {}))

    clf = TransformerClassifier(out, threads=1)
    assert clf.has_pooled
    results = clf.predict(
        ["I haven't eaten in three days and I still feel fat.", "What ISA should I open?"]
    )
    assert len(results) == 2
    for r in results:
        assert isinstance(r, Classification)
        row = r.to_dict(id="x")
        assert row["model_version"] == config["version"]
        assert row["severity"]["level"] in SEVERITY_LEVELS
        assert row["risk"]["level"] in RISK_LEVELS
        assert all(
            label["label"] in CONDITIONS and label["sources"] == ["model"]
            for label in row["labels"]
        )
        assert 0.0 <= row["relevance_score"] <= 1.0


def test_train_command_rejects_a_missing_teacher_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    result = CliRunner().invoke(
        app,
        [
            "train",
            "--teacher-labels",
            str(tmp_path / "nope.jsonl"),
            "--output",
            str(tmp_path / "a"),
        ],
    )
    assert result.exit_code == 2
    assert "not found" in result.output


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("text,label\n", "no posts with text in"),
        (
            "text,label\nI feel empty,depression\nI worry,anxiety\nTax question,none\n",
            "3 posts by 3 author(s) are too few to split",
        ),
    ],
    ids=["no-rows", "three-posts"],
)
def test_train_command_with_too_few_posts_exits_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str
) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("MINDSIGNAL_DATA_DIR", str(tmp_path / "var"))
    data = tmp_path / "posts.csv"
    data.write_text(body, encoding="utf-8")
    out = tmp_path / "artifact"
    result = CliRunner().invoke(app, ["train", "--data", str(data), "--output", str(out)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert message in result.stderr and result.stderr.startswith("error: ")
    assert not out.exists() and not (tmp_path / "var" / "checkpoints").exists()


def test_train_command_refuses_a_file_as_the_artifact_directory(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    data = tmp_path / "posts.csv"
    data.write_text("text,label\nI feel empty,depression\n", encoding="utf-8")
    taken = tmp_path / "notes.txt"
    taken.write_text("keep me\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "--data", str(data), "--output", str(taken)])
    assert result.exit_code == 2
    assert f"error: --output {taken} is a file" in result.stderr
    assert taken.read_text(encoding="utf-8") == "keep me\n"


def test_publishing_swaps_the_new_artifact_in_and_keeps_a_tuned_fusion(tmp_path: Path) -> None:
    from classifiers.training.train import publish_artifact, staging_dir

    final = tmp_path / "minilm-mh"
    final.mkdir()
    (final / "model.onnx").write_text("old model", encoding="utf-8")
    (final / "fusion.json").write_text('{"crisis_threshold": 0.05}', encoding="utf-8")
    (final / ".checkpoints").mkdir()
    (final / ".checkpoints" / "last-old.pt").write_text("stale", encoding="utf-8")
    stage = staging_dir(final)
    stage.mkdir()
    (stage / "model.onnx").write_text("new model", encoding="utf-8")
    (stage / ".checkpoints").mkdir()
    publish_artifact(stage, final)
    assert (final / "model.onnx").read_text(encoding="utf-8") == "new model"
    assert (final / "fusion.json").read_text(encoding="utf-8") == '{"crisis_threshold": 0.05}'
    assert not (final / ".checkpoints" / "last-old.pt").exists()  # old checkpoints stay behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minilm-mh"]  # no stage, no .previous
    # a first run has no artifact to replace
    fresh = tmp_path / "new-artifact"
    staging_dir(fresh).mkdir()
    (staging_dir(fresh) / "config.json").write_text("{}", encoding="utf-8")
    publish_artifact(staging_dir(fresh), fresh)
    assert (fresh / "config.json").is_file() and not staging_dir(fresh).exists()


def test_a_training_run_stopped_part_way_leaves_the_previous_artifact_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training writes into a staging folder: Ctrl-C after the first files are written must not
    leave the artifact (by default the shipped one) half old and half new."""
    from classifiers.training.data import Split
    from classifiers.training.train import TrainConfig, staging_dir, train_student

    final = tmp_path / "artifact"
    final.mkdir()
    (final / "split.json").write_text("old split", encoding="utf-8")
    data = tmp_path / "posts.csv"
    rows = [f"I feel hopeless and empty every day, week {i}" for i in range(20)]
    rows += [f"Does anyone know a good index fund for my ISA, part {i}" for i in range(20)]
    labels = ["depression"] * 20 + ["none"] * 20
    data.write_text(
        "text,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in zip(rows, labels, strict=True)),
        encoding="utf-8",
    )
    real_save = Split.save

    def save_then_stop(self: Split, path: Path) -> None:
        real_save(self, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(Split, "save", save_then_stop)
    config = TrainConfig(output_dir=final, data_csv=data, checkpoint_dir=tmp_path / "ckpt")
    with pytest.raises(KeyboardInterrupt):
        train_student(config)
    assert (final / "split.json").read_text(encoding="utf-8") == "old split"
    assert sorted(p.name for p in final.iterdir()) == ["split.json"]
    assert (staging_dir(final) / "split.json").is_file()  # the stopped run's work, set apart
    # the next run starts from a clean stage: nothing of the stopped run can be published
    (staging_dir(final) / "stack.npz").write_text("from the stopped run", encoding="utf-8")
    (staging_dir(final) / ".checkpoints").mkdir()
    with pytest.raises(KeyboardInterrupt):
        train_student(config)
    left = sorted(p.name for p in staging_dir(final).iterdir())
    assert left == [".checkpoints", "split.json"]


# ---- `train --data` with bad rows ------------------------------------------------------------

#: Text of the bad rows: sensitive, so it must never be echoed on the console.
SECRET = "Maria told me she keeps the pills in her coat"


def _labeled_file(path: Path, corpus: pd.DataFrame, good_rows: int = 24) -> Path:
    """A --data CSV of real posts (four from each of six subreddits, by distinct authors; the
    first ``good_rows`` of them) with five unusable rows among them (rows 3, 6, 9, 12 and 15
    of the full file)."""
    good = []
    per = 4
    for sub in ("depression", "anxiety", "adhd", "EDAnonymous", "personalfinance", "guns"):
        for i, text in enumerate(corpus[corpus["subreddit"] == sub]["text"].head(per)):
            words = " ".join(text.split()[:40]).replace('"', "'")
            good.append(f'"{words}",{sub},{sub}-{i}\n'.encode())
    broken = [
        f'"{SECRET}","depression","x","surplus field"\n'.encode(),  # malformed: 4 fields
        f'"{SECRET} caf\xe9",anxiety,y\n'.encode("cp1252"),  # not UTF-8
        b'"   ",adhd,z\n',  # empty text
        f'"{SECRET}",hypochondria,w\n'.encode(),  # unknown label
        f'"{SECRET}\x00\x00\x00",depression,v\n'.encode(),  # binary
    ]
    rows = good[:good_rows]
    for n, row in enumerate(broken):
        rows.insert(2 + 3 * n, row)
    path.write_bytes(b"text,label,author\n" + b"".join(rows))
    return path


@pytest.mark.slow
def test_train_skips_bad_rows_names_them_without_their_text_and_counts_them_in_the_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus: pd.DataFrame
) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("MINDSIGNAL_DATA_DIR", str(tmp_path / "var"))
    data = _labeled_file(tmp_path / "posts.csv", corpus)
    out = tmp_path / "artifact"
    # --max-posts above the row count: no sampling, and no dev-set checks (quick run).
    args = ["train", "--data", str(data), "--epochs", "1", "--max-posts", "100"]
    result = CliRunner().invoke(app, [*args, "--max-length", "32", "--output", str(out)])
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert f"5 row(s) of {data} skipped (the others train):" in err
    for line in (
        "row 3: malformed CSV at line 4: 4 fields, header has 3",
        "row 6: row at line 7 contains bytes that are not valid utf-8; re-run with --encoding",
        "row 9: line 10: empty text",
        "row 12: line 13: unknown label 'hypochondria'",
        "row 15: line 16: text contains NUL characters",
    ):
        assert line in err, line
    assert f"5 of 29 row(s) of {data} were skipped" in err  # said again after the long run
    assert SECRET not in result.output and "Maria" not in result.output

    split = json.loads((out / "split.json").read_text())
    assert len(split["train"]) + len(split["validation"]) + len(split["test"]) == 24
    rows = json.loads((out / "metrics.json").read_text())["data_rows"]
    assert (rows["rows_read"], rows["rows_used"], rows["rows_skipped"]) == (29, 24, 5)
    assert rows["skipped_by_kind"] == {
        "unreadable": 2,
        "empty_text": 1,
        "unknown_label": 1,
        "invalid_text": 1,
    }
    card = (out / "MODEL_CARD.md").read_text()
    assert "29 rows read, 24 used, **5 skipped**" in card
    assert SECRET not in card


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--strict"],
            "5 of 29 row(s) of {data} cannot be used: row 3: malformed CSV at line 4: "
            "4 fields, header has 3; row 6: row at line 7 contains bytes",
        ),
        ([], None),  # more than half bad: see the body
    ],
    ids=["strict", "mostly-bad"],
)
def test_train_with_strict_or_mostly_bad_data_exits_2_before_writing_anything(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    corpus: pd.DataFrame,
    extra: list[str],
    message: str | None,
) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("MINDSIGNAL_DATA_DIR", str(tmp_path / "var"))
    # The mostly-bad file: 5 bad rows and 4 good ones.
    data = _labeled_file(tmp_path / "posts.csv", corpus, good_rows=24 if extra else 4)
    out = tmp_path / "artifact"
    result = CliRunner().invoke(app, ["train", "--data", str(data), *extra, "--output", str(out)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    if message is not None:
        assert message.format(data=data) in result.stderr
        assert "(without --strict such rows are skipped)" in result.stderr
    else:
        assert f"5 of 9 row(s) of {data} cannot be used (more than 50%)" in result.stderr
        assert "--text-col, --label-col and --encoding" in result.stderr
    assert SECRET not in result.output
    assert not out.exists() and not (tmp_path / "var" / "checkpoints").exists()


def test_train_data_in_utf16_names_the_encoding_option_and_reads_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("MINDSIGNAL_DATA_DIR", str(tmp_path / "var"))
    data = tmp_path / "posts.csv"
    data.write_text(
        "text,label\nI feel empty,depression\nI worry,anxiety\nTax question,none\n",
        encoding="utf-16",  # Excel's "Unicode text"
    )
    out = tmp_path / "artifact"
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--data", str(data), "--output", str(out)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {data} is UTF-16 text (it starts with a UTF-16 byte-order mark, as Excel's "
        "'Unicode text' does); re-run with --encoding utf-16\n"
    )
    # Read with the option, its three rows are read (and are too few to train on).
    args = ["train", "--data", str(data), "--encoding", "utf-16", "--output", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "3 posts by 3 author(s) are too few to split" in result.stderr
    assert "skipped" not in result.stderr
    wrong = runner.invoke(app, ["train", "--strict", "--output", str(out)])
    assert wrong.exit_code == 2 and "--strict and --encoding apply to --data only" in wrong.stderr
    assert not out.exists()


def test_train_with_the_text_column_as_labels_fails_without_showing_a_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("MINDSIGNAL_DATA_DIR", str(tmp_path / "var"))
    data = tmp_path / "posts.csv"
    texts = ["I want to die", "so tired", "Help me", "I cut again"]
    data.write_text("text,label\n" + "".join(f"{t},depression\n" for t in texts), encoding="utf-8")
    args = ["train", "--data", str(data), "--label-col", "text"]
    result = CliRunner().invoke(app, [*args, "--output", str(tmp_path / "a")])
    assert result.exit_code == 2
    assert f"4 of 4 row(s) of {data} cannot be used (more than 50%)" in result.stderr
    assert (
        "row 1: line 2: an unknown label of 13 characters, not shown as it may be a text "
        "(names are one word; is --label-col the text column?)"
    ) in result.stderr
    assert not any(t in result.stderr for t in texts)


def test_the_data_digest_changes_with_any_text_label_or_split() -> None:
    from classifiers.training.data import build_targets, text_sha256
    from classifiers.training.train import data_digest

    df = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "subreddit": ["depression", "anxiety", "personalfinance"],
            "author": ["x", "y", "z"],
            "date": ["", "", ""],
            "text": ["I feel empty", "I worry all day", "Which ISA?"],
        }
    )
    df["text_sha256"] = [text_sha256(t) for t in df["text"]]
    train = np.array([0, 1])
    base = data_digest(df["text"].tolist(), build_targets(df), train)
    assert base == data_digest(df["text"].tolist(), build_targets(df), train.copy())
    relabeled = df.assign(subreddit=["depression", "adhd", "personalfinance"])
    assert data_digest(df["text"].tolist(), build_targets(relabeled), train) != base
    edited = df.assign(text=["I feel empty.", "I worry all day", "Which ISA?"])
    edited["text_sha256"] = [text_sha256(t) for t in edited["text"]]
    assert data_digest(edited["text"].tolist(), build_targets(edited), train) != base
    assert data_digest(df["text"].tolist(), build_targets(df), np.array([0, 2])) != base


@pytest.mark.slow
def test_a_checkpoint_resumes_only_on_the_data_it_was_trained_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus: pd.DataFrame
) -> None:
    """The settings name the --data file, not its rows: a file fixed since the checkpoint
    trains afresh instead of resuming a model of its old rows."""
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("MINDSIGNAL_DATA_DIR", str(tmp_path / "var"))
    data = _labeled_file(tmp_path / "posts.csv", corpus)
    raw = data.read_bytes()
    data.write_bytes(b"\n".join(line for line in raw.split(b"\n") if SECRET.encode() not in line))
    out = tmp_path / "artifact"
    args = ["train", "--data", str(data), "--max-posts", "100", "--max-length", "32"]
    args += ["--output", str(out)]
    first = CliRunner().invoke(app, [*args, "--epochs", "1"])
    assert first.exit_code == 0, first.output
    resumed = CliRunner().invoke(app, [*args, "--epochs", "2"])
    assert resumed.exit_code == 0, resumed.output
    assert "resuming after epoch 1" in resumed.output
    data.write_bytes(data.read_bytes().replace(b",anxiety,", b",adhd,", 1))  # one label fixed
    fixed = CliRunner().invoke(app, [*args, "--epochs", "2"])
    assert fixed.exit_code == 0, fixed.output
    assert "the training data changed since the last checkpoint: starting afresh" in fixed.output
    assert "resuming" not in fixed.output
