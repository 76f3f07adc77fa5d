"""Behavioural tests of a classifier, CheckList-style (Ribeiro et al., ACL 2020).

A held-out Reddit split says how often the classifier matches a label; it does not say whether it
reads language the way a careful reader does. The cases in ``classifiers/behaviour/`` do: each is
a short text of one *category* (negation, someone else's condition, the resolved past, figures of
speech, ordinary life, fiction and reported speech, brief genuine disclosures) with what a
careful reader must see in it:

* ``crisis`` (always given): whether the text signals a suicide-risk crisis;
* ``relevant`` (or null): whether it is mental-health related at all;
* ``present`` / ``absent``: conditions that must / must not be reported.

A case passes when every expectation holds. The cases were written blind by independent writers
from ``classifiers/behaviour/GUIDELINES.md`` (see the README there): ``dev.jsonl`` may be used
for development, ``test.jsonl`` is for evaluation only.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.base import Classification, Classifier
from classifiers.labels import CONDITIONS

#: The shipped cases (``dev.jsonl``: development; ``test.jsonl``: evaluation only).
BEHAVIOUR_DIR = Path(__file__).resolve().parent / "behaviour"
CATEGORIES = (
    "negation",
    "third_person",
    "past_resolved",
    "figurative",
    "everyday",
    "reported",
    "genuine_brief",
)
#: The kinds of failure counted, in report order.
FAILURE_KINDS = (
    "false_crisis",
    "missed_crisis",
    "false_relevant",
    "missed_relevant",
    "missing_label",
    "wrong_label",
    "error",
)


class CaseFileError(ValueError):
    """A behaviour-case file that cannot be read; names the file and line."""


@dataclass(frozen=True)
class BehaviourCase:
    """One behavioural test: a text and what a careful reader must (not) see in it."""

    id: str
    category: str
    text: str
    crisis: bool
    relevant: bool | None = None
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> BehaviourCase:
        """Validate one JSON row (``ValueError`` naming the problem)."""
        case_id, category, text = row.get("id"), row.get("category"), row.get("text")
        if not isinstance(case_id, str) or not case_id:
            raise ValueError("'id' must be a non-empty string")
        if category not in CATEGORIES:
            raise ValueError(f"'category' must be one of {', '.join(CATEGORIES)}")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("'text' must be a non-empty string")
        crisis, relevant = row.get("crisis"), row.get("relevant")
        if not isinstance(crisis, bool):
            raise ValueError("'crisis' must be true or false")
        if relevant is not None and not isinstance(relevant, bool):
            raise ValueError("'relevant' must be true, false or null")
        present = _labels(row.get("present"), "present")
        absent = _labels(row.get("absent"), "absent")
        if set(present) & set(absent):
            raise ValueError(f"{sorted(set(present) & set(absent))} both present and absent")
        return cls(case_id, str(category), text, crisis, relevant, present, absent)


def _labels(raw: Any, field: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ValueError(f"'{field}' must be a list of condition names")
    bad = [x for x in raw if x not in CONDITIONS]
    if bad:
        raise ValueError(f"'{field}' has unknown condition(s) {bad}")
    return tuple(dict.fromkeys(raw))


def load_cases(path: Path) -> list[BehaviourCase]:
    """Read a JSONL case file; a malformed line or a repeated id raises :class:`CaseFileError`."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseFileError(f"cannot read behaviour cases {path}: {exc}") from exc
    cases: list[BehaviourCase] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("each line must be a JSON object")
            case = BehaviourCase.from_dict(row)
        except (json.JSONDecodeError, ValueError) as exc:
            raise CaseFileError(f"{path}:{n}: malformed behaviour case ({exc})") from exc
        if case.id in seen:
            raise CaseFileError(f"{path}:{n}: repeated case id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise CaseFileError(f"{path}: no behaviour cases")
    return cases


def check_case(case: BehaviourCase, pred: Classification | None) -> list[tuple[str, str]]:
    """The failed expectations of one prediction, as ``(kind, detail)`` pairs (empty: passed)."""
    if pred is None:
        return [("error", "the classifier returned no result")]
    failures: list[tuple[str, str]] = []
    if pred.risk.crisis != case.crisis:
        kind = "false_crisis" if pred.risk.crisis else "missed_crisis"
        failures.append((kind, f"risk {pred.risk.level} ({pred.risk.score:.2f})"))
    if case.relevant is not None and pred.relevant != case.relevant:
        kind = "false_relevant" if pred.relevant else "missed_relevant"
        failures.append((kind, f"relevance {pred.relevance_score:.2f}"))
    reported = {lab.label: lab for lab in pred.labels}
    for label in case.present:
        if label not in reported:
            failures.append(("missing_label", label))
    for label in case.absent:
        if label in reported:
            lab = reported[label]
            failures.append(("wrong_label", f"{label} ({'+'.join(lab.sources)} {lab.score:.2f})"))
    return failures


def run_behaviour(
    classifiers: Mapping[str, Classifier],
    cases: Sequence[BehaviourCase],
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run every case through every classifier; pass rates per category and failure counts.

    Returns ``{"cases": n, "modes": {mode: {"pass_rate", "categories": {category: {"cases",
    "pass_rate"}}, "failures": {kind: count}, "failed": [{"id", "category", "failures"}]}}}``.
    The failed list names case ids and what went wrong, never more of the text than the id.
    """
    from classifiers.evaluation import predict_all

    texts = [c.text for c in cases]
    out: dict[str, Any] = {"cases": len(cases), "modes": {}}
    for mode, clf in classifiers.items():
        if say:
            say(f"behaviour cases: {mode} on {len(cases)} texts")
        preds = predict_all(clf, texts)
        per_cat: dict[str, list[bool]] = defaultdict(list)
        kinds: Counter[str] = Counter()
        failed = []
        for case, pred in zip(cases, preds, strict=True):
            failures = check_case(case, pred)
            per_cat[case.category].append(not failures)
            kinds.update(kind for kind, _ in failures)
            if failures:
                failed.append(
                    {
                        "id": case.id,
                        "category": case.category,
                        "failures": [f"{kind}: {detail}" for kind, detail in failures],
                    }
                )
        passed = sum(ok for oks in per_cat.values() for ok in oks)
        out["modes"][mode] = {
            "pass_rate": passed / len(cases),
            "categories": {
                cat: {
                    "cases": len(per_cat[cat]),
                    "pass_rate": sum(per_cat[cat]) / len(per_cat[cat]),
                }
                for cat in CATEGORIES
                if per_cat.get(cat)
            },
            "failures": {kind: kinds.get(kind, 0) for kind in FAILURE_KINDS},
            "crisis_cases": sum(1 for c in cases if c.crisis),
            "failed": failed,
        }
    return out


def render_behaviour_markdown(result: Mapping[str, Any], source: str) -> list[str]:
    """Markdown lines of a :func:`run_behaviour` result (pass rates and failure counts)."""
    modes = list(result["modes"])
    lines = [
        f"Behavioural cases: {result['cases']} from {source} (written blind; see "
        "classifiers/behaviour/README.md). Pass rate per category:",
        "",
        "| category | cases | " + " | ".join(modes) + " |",
        "|---|---|" + "---|" * len(modes),
    ]
    first = result["modes"][modes[0]]["categories"]
    for cat in first:
        rates = [f"{result['modes'][m]['categories'][cat]['pass_rate']:.2f}" for m in modes]
        lines.append(f"| {cat} | {first[cat]['cases']} | " + " | ".join(rates) + " |")
    overall = [f"**{result['modes'][m]['pass_rate']:.2f}**" for m in modes]
    lines.append(f"| all | {result['cases']} | " + " | ".join(overall) + " |")
    lines += ["", "| failures | " + " | ".join(modes) + " |", "|---|" + "---|" * len(modes)]
    for kind in FAILURE_KINDS:
        counts = [str(result["modes"][m]["failures"][kind]) for m in modes]
        lines.append(f"| {kind.replace('_', ' ')} | " + " | ".join(counts) + " |")
    return lines
