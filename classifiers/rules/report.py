"""Check the rules on labelled data: ``python -m classifiers.rules.report``.

Measures, for the rules alone: per-label precision/recall/F1 on construct-tracker's Reddit
sample (subreddits as distant labels), suicidality recall on r/SuicideWatch and the false-alarm
rate on control subreddits, relevance accuracy, throughput, and balanced accuracy on the
development severity and C-SSRS sets when ``../shared/data`` is present. Prints a JSON report;
logs only counts, never post text.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from classifiers.base import Classification, InvalidTextError
from classifiers.labels import CONDITIONS, risk_rank
from classifiers.rules.lexicon import LexiconClassifier

REDDIT_TEST = "datasets/reddit_27_subreddits/rmhd_27subreddits_260posts_test.csv"
SUBREDDIT_LABELS: dict[str, str | None] = {
    "depression": "depression",
    "anxiety": "anxiety",
    "healthanxiety": "anxiety",
    "socialanxiety": "anxiety",
    "bipolarreddit": "bipolar",
    "ptsd": "ptsd",
    "adhd": "adhd",
    "EDAnonymous": "eating_disorder",
    "schizophrenia": "psychosis",
    "autism": "autism",
    "bpd": "bpd",
    "addiction": "substance_use",
    "alcoholism": "substance_use",
    "suicidewatch": None,
    "mentalhealth": None,
    "lonely": None,
    "ForeverAlone": None,
}
CONTROL_SUBREDDITS = frozenset(
    {
        "UKPersonalFinance",
        "personalfinance",
        "conspiracy",
        "guns",
        "legaladvice",
        "teaching",
        "ukpolitics",
        "unitedkingdom",
    }
)
SEVERITY_MAP = {"minimum": "minimal", "mild": "mild", "moderate": "moderate", "severe": "severe"}
CSSRS_MAP = {
    "supportive": "none",
    "indicator": "indicator",
    "ideation": "ideation",
    "behavior": "behavior",
    "attempt": "attempt",
}


def balanced_accuracy(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Mean per-class recall over the classes present in ``y_true``."""
    classes = sorted(set(y_true))
    recalls = []
    for c in classes:
        idx = [i for i, y in enumerate(y_true) if y == c]
        recalls.append(sum(y_pred[i] == c for i in idx) / len(idx))
    return sum(recalls) / len(recalls)


def parse_posts(raw: str) -> list[str]:
    """A C-SSRS ``Post`` cell (a Python list literal) as posts; falls back to quote splitting."""
    try:
        value = ast.literal_eval(raw)
        if isinstance(value, (list, tuple)):
            return [str(v) for v in value if str(v).strip()]
        return [str(value)]
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        # Rows with unbalanced quotes: pull out quoted items, else use the cell as one text.
        body = raw.strip().removeprefix("[").removesuffix("]")
        items = re.findall(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", body)
        posts = [a or b for a, b in items if (a or b).strip()]
        return posts or [body]


def reddit_report(clf: LexiconClassifier) -> dict[str, Any]:
    from importlib.resources import files

    import pandas as pd

    path = files("construct_tracker.data") / REDDIT_TEST
    with path.open("rb") as fh:
        df = pd.read_csv(fh, usecols=["subreddit", "author", "post"])
    df = df[df["post"].notna()]
    posts = df["post"].astype(str).tolist()
    subs = df["subreddit"].tolist()
    start = time.perf_counter()
    results: list[Classification | None] = []
    skipped = 0
    for text in posts:
        try:
            results.append(clf.predict([text])[0])
        except InvalidTextError:
            results.append(None)
            skipped += 1
    elapsed = time.perf_counter() - start
    per_label: dict[str, dict[str, float]] = {}
    for label in CONDITIONS:
        tp = fp = fn = 0
        for sub, res in zip(subs, results, strict=True):
            if res is None:
                continue
            gold = SUBREDDIT_LABELS.get(sub) == label
            pred = label in res.label_names()
            if sub not in SUBREDDIT_LABELS and sub not in CONTROL_SUBREDDITS:
                continue  # ambiguous subreddits (divorce, mindfulness) say nothing either way
            if pred and gold:
                tp += 1
            elif pred:
                fp += 1
            elif gold:
                fn += 1
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per_label[label] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f1, 3)}
    mh_subs = set(SUBREDDIT_LABELS)

    def rate(sub_filter: set[str] | frozenset[str], pred: Any) -> float:
        chosen = [res for sub, res in zip(subs, results, strict=True) if sub in sub_filter and res]
        return round(sum(bool(pred(r)) for r in chosen) / max(1, len(chosen)), 4)

    def crisis(r: Any) -> bool:
        return risk_rank(r.risk.level) >= risk_rank("ideation")

    # Macro-F1 over the labels that have a subreddit (OCD has none in this sample).
    scored = [v["f1"] for k, v in per_label.items() if k != "ocd"]
    return {
        "posts": len(posts),
        "invalid_posts": skipped,
        "posts_per_second": round(len(posts) / elapsed, 1),
        "per_label": per_label,
        "macro_f1_10_labels": round(sum(scored) / len(scored), 4),
        "suicidewatch_recall_ideation_plus": rate({"suicidewatch"}, crisis),
        "suicidewatch_recall_indicator_plus": rate(
            {"suicidewatch"}, lambda r: r.risk.level != "none"
        ),
        "depression_sub_ideation_plus": rate({"depression"}, crisis),
        "control_false_alarm_ideation_plus": rate(CONTROL_SUBREDDITS, crisis),
        "control_any_label": rate(CONTROL_SUBREDDITS, lambda r: bool(r.labels)),
        "relevance_recall_mh_subreddits": rate(mh_subs, lambda r: r.relevant),
        "relevance_false_positive_control": rate(CONTROL_SUBREDDITS, lambda r: r.relevant),
    }


def dev_report(clf: LexiconClassifier, data_dir: Path) -> dict[str, Any]:
    import pandas as pd

    out: dict[str, Any] = {}
    sev_path = data_dir / "dev" / "depression_severity_dev.csv"
    if sev_path.is_file():
        df = pd.read_csv(sev_path)
        gold, pred = [], []
        for text, label in zip(df["text"].astype(str), df["label"], strict=True):
            try:
                res = clf.predict([text])[0]
            except InvalidTextError:
                continue
            gold.append(SEVERITY_MAP[str(label).strip().lower()])
            pred.append(res.severity.level)
        out["severity_balanced_accuracy"] = round(balanced_accuracy(gold, pred), 4)
        out["severity_confusion"] = _confusion(gold, pred)
    cssrs_path = data_dir / "dev" / "cssrs_users_dev.csv"
    if cssrs_path.is_file():
        df = pd.read_csv(cssrs_path)
        gold, pred = [], []
        for raw, label in zip(df["Post"].astype(str), df["Label"], strict=True):
            levels = []
            for post in parse_posts(raw):
                try:
                    levels.append(clf.predict([post])[0].risk.level)
                except InvalidTextError:
                    continue
            gold.append(CSSRS_MAP[str(label).strip().lower()])
            pred.append(max(levels, key=risk_rank, default="none"))
        out["cssrs_balanced_accuracy"] = round(balanced_accuracy(gold, pred), 4)
        out["cssrs_confusion"] = _confusion(gold, pred)
    return out


def _confusion(gold: Sequence[str], pred: Sequence[str]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for g, p in zip(gold, pred, strict=True):
        table.setdefault(g, {}).setdefault(p, 0)
        table[g][p] += 1
    return table


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data"
    )
    parser.add_argument("--no-construct-tracker", action="store_true")
    parser.add_argument("--skip-reddit", action="store_true")
    args = parser.parse_args(argv)
    clf = LexiconClassifier(use_construct_tracker=not args.no_construct_tracker)
    report: dict[str, Any] = {"model_version": clf.version}
    if not args.skip_reddit:
        report["reddit"] = reddit_report(clf)
    report["dev"] = dev_report(clf, args.data_dir)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
