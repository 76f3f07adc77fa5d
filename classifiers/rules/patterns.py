"""Cue definitions and their compilation into one regex per lexicon.

Lexicon files are YAML (``lexicons/*.yaml``). Each entry names a criterion (reported as the
evidence ``cue``), a weight in 0-1 and a list of patterns::

    cues:
      - cue: anhedonia
        weight: 0.6
        patterns:
          - don't enjoy (?:anything|life) any ?more
          - lost (?:all )?interest in

Pattern syntax is Python regex with two conveniences, so the files stay readable: a space
matches any run of whitespace, and an apostrophe is optional and may be straight or curly
(``don't`` matches "don't", "don’t" and "dont"). Patterns are case-insensitive unless the entry
sets ``case_sensitive: true`` (for "ED", "OD", "FP"), must not contain capturing groups, and are
anchored at word edges. All cues of one lexicon compile into a single alternation so a text is
scanned once per lexicon.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # the parser behind re; public enough to lean on, private enough to guard
    import re._constants as _C
    import re._parser as _sre_parser
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as _C  # type: ignore[no-redef]
    import sre_parse as _sre_parser  # type: ignore[no-redef]

SYMPTOM = "symptom"
# Kinds that say a condition is present but nothing about how bad it is.
# A "screening" score (PHQ-9, GAD-7) grades severity through its own bands, not as a symptom.
NON_SYMPTOM_KINDS = frozenset({"diagnosis", "medication", "treatment", "community", "screening"})


class LexiconError(ValueError):
    """A lexicon file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class CueSpec:
    """One pattern of one criterion of one lexicon."""

    lexicon: str
    cue: str
    weight: float
    pattern: str
    kind: str = SYMPTOM
    level: str | None = None
    source: str = "rules"
    case_sensitive: bool = False


class CueSet:
    """All cues of one lexicon, matched leftmost (then strongest, then longest) without overlaps.

    Python's ``re`` tries every branch of an alternation at every word start, which is slow
    for hundreds of cues. Each cue therefore gets a literal "trigger" (a piece of text every
    match must contain, found from the parsed pattern); a text is only searched with the cues
    whose trigger occurs in it, and only in the sentences where it occurs. The triggers of every
    lexicon are found in one pass over the text (:class:`TriggerScan`, an Aho-Corasick automaton).

    Args:
        name: Lexicon name (a condition label, ``risk``, ``relevance`` ...).
        specs: The cues.
    """

    def __init__(self, name: str, specs: Iterable[CueSpec]) -> None:
        self.name = name
        self.specs: tuple[CueSpec, ...] = tuple(specs)
        self._regexes: list[re.Pattern[str]] = []
        self._bodies: list[str] = []
        # lower-cased trigger -> (cue, whether every match starts a word with it); cues without
        # a usable trigger are always tried; case-sensitive triggers are looked up in the text.
        self._lower_index: dict[str, list[tuple[int, bool]]] = {}
        self._exact_triggers: dict[str, list[int]] = {}
        self._always: list[int] = []
        self._also_needed: dict[int, list[tuple[str, ...]]] = {}
        for i, spec in enumerate(self.specs):
            body = expand_pattern(spec.pattern)
            self._bodies.append(body)
            self._regexes.append(cue_regex(body, spec.case_sensitive))
            groups = required_literal_groups(body, spec.case_sensitive)
            if not groups:
                self._always.append(i)
                continue
            (key, word_start), rest = groups[0], groups[1:]
            for t in key:
                if spec.case_sensitive:
                    self._exact_triggers.setdefault(t, []).append(i)
                else:
                    self._lower_index.setdefault(t, []).append((i, word_start))
            if rest:
                self._also_needed[i] = [g for g, _ in rest]
        self._own_scan: TriggerScan | None = None

    def __len__(self) -> int:
        return len(self.specs)

    def literals(self) -> set[str]:
        """Every lower-cased literal :meth:`find` looks up (for a shared :class:`TriggerScan`)."""
        out = set(self._lower_index)
        for i, groups in self._also_needed.items():
            if not self.specs[i].case_sensitive:
                out.update(t for group in groups for t in group)
        return out

    def find(
        self,
        text: str,
        lowered: str | None = None,
        spans: Sequence[tuple[int, int]] | None = None,
        found: Mapping[str, Sequence[int]] | None = None,
    ) -> Iterator[tuple[CueSpec, int, int]]:
        """Yield ``(spec, start, end)`` for non-overlapping matches, left to right.

        Args:
            text: The text to search.
            lowered: ``text.lower()``, when the caller already has it (shared by lexicons).
            spans: Sentence ``(start, end)`` offsets, sorted. A cue is then only run over the
                sentences that contain its trigger, which is much faster on long texts; a
                match never crosses a sentence end.
            found: ``TriggerScan.scan(lowered)`` of a scan that holds this set's
                :meth:`literals`, when the caller already has it (shared by lexicons).
        """
        low = text.lower() if lowered is None else lowered
        if found is None:
            if self._own_scan is None:
                self._own_scan = TriggerScan([self])
            found = self._own_scan.scan(low)
        # cue index -> start offsets of its triggers (None: search the whole text)
        fired: dict[int, list[int] | None] = {i: None for i in self._always}
        # Only the literals of this set that occur (a C-level intersection of the two key sets).
        for t in self._lower_index.keys() & found.keys():
            positions = found[t]
            for i, word_start in self._lower_index[t]:
                # A trigger that starts a word in every match only counts where it does.
                hits = (
                    [p for p in positions if p == 0 or not low[p - 1].isalnum()]
                    if word_start
                    else positions
                )
                if hits:
                    at = fired.setdefault(i, [])
                    if at is not None:
                        at.extend(hits)
        for t, idxs in self._exact_triggers.items():
            pos = text.find(t)
            while pos >= 0:
                for i in idxs:
                    at = fired.setdefault(i, [])
                    if at is not None:
                        at.append(pos)
                pos = text.find(t, pos + 1)
        whole = {(0, len(text))}
        # Short texts are cheaper to scan whole than to split into windows.
        use_spans = bool(spans) and len(text) > _WINDOW_MIN_CHARS
        starts = [s for s, _ in spans] if spans and use_spans else []
        windows: dict[int, set[tuple[int, int]]] = {}
        found_keys = found.keys()
        for i, offsets in fired.items():
            needed = self._also_needed.get(i)
            if needed:
                if self.specs[i].case_sensitive:
                    if not all(any(t in text for t in group) for group in needed):
                        continue
                elif _misses_a_group(found_keys, needed):
                    continue
            if not offsets or not use_spans or spans is None:
                windows[i] = whole
                continue
            windows[i] = {spans[max(0, bisect.bisect_right(starts, p) - 1)] for p in offsets}
        matches: list[tuple[int, int, int]] = []
        # Case-insensitive cues read the lower-cased text, where its offsets are the text's.
        aligned = len(low) == len(text)
        for i, wins in windows.items():
            regex = self._regexes[i]
            haystack = text
            if not self.specs[i].case_sensitive:
                if aligned:
                    haystack = low
                else:
                    regex = cue_regex_ignorecase(self._bodies[i])
            for w_start, w_end in wins:
                for m in regex.finditer(haystack, w_start, w_end):
                    if m.end() > m.start():
                        matches.append((m.start(), -m.end(), i))
        # Leftmost first; where two cues start at the same place the stronger one wins, then
        # the longer ("my depression" as a diagnosis, not "my depression is" as small talk),
        # then the one listed first.
        matches.sort(key=lambda f: (f[0], -self.specs[f[2]].weight, f[1], f[2]))
        last_end = -1
        for start, neg_end, i in matches:
            if start >= last_end:
                last_end = -neg_end
                yield self.specs[i], start, -neg_end


def _misses_a_group(found: Any, groups: Sequence[tuple[str, ...]]) -> bool:
    """True when no literal of some group was found (a plain loop: this runs for every cue
    whose trigger occurs, and a generator per call cost more than the test)."""
    for group in groups:  # noqa: SIM110 - a generator per call cost more than the test
        if found.isdisjoint(group):
            return True
    return False


class TriggerScan:
    """Finds the trigger literals of one or more :class:`CueSet` s in one pass over a text.

    An Aho-Corasick automaton (pyahocorasick) over every lower-cased literal the cue sets look
    up; picklable, so a classifier holding one can be shipped to worker processes.
    """

    def __init__(self, cuesets: Iterable[CueSet]) -> None:
        import ahocorasick

        words = set().union(*(cs.literals() for cs in cuesets))
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_LENGTH)
        for word in sorted(words):
            self._automaton.add_word(word)
        self._empty = not words
        if words:
            self._automaton.make_automaton()

    def scan(self, lowered: str) -> dict[str, list[int]]:
        """Literal -> the start offsets of its occurrences in ``lowered`` (overlaps included)."""
        found: dict[str, list[int]] = {}
        if self._empty:
            return found
        for end, length in self._automaton.iter(lowered):
            start = end - length + 1
            found.setdefault(lowered[start : end + 1], []).append(start)
        return found


_WINDOW_MIN_CHARS = 400
_COMMON_WORDS = frozenset(
    [
        "the",
        "and",
        "you",
        "that",
        "was",
        "for",
        "are",
        "with",
        "his",
        "they",
        "this",
        "have",
        "from",
        "one",
        "had",
        "but",
        "not",
        "what",
        "all",
        "were",
        "when",
        "your",
        "can",
        "said",
        "there",
        "each",
        "which",
        "she",
        "how",
        "their",
        "will",
        "other",
        "about",
        "out",
        "many",
        "then",
        "them",
        "these",
        "some",
        "her",
        "would",
        "make",
        "like",
        "him",
        "into",
        "time",
        "has",
        "look",
        "more",
        "see",
        "way",
        "could",
        "people",
        "than",
        "first",
        "been",
        "who",
        "its",
        "now",
        "long",
        "down",
        "day",
        "did",
        "get",
        "got",
        "come",
        "made",
        "may",
        "part",
        "over",
        "just",
        "want",
        "know",
        "feel",
        "don",
        "really",
        "because",
        "even",
        "much",
        "life",
        "going",
        "think",
        "never",
        "anything",
        "things",
        "thing",
        "still",
        "only",
        "back",
        "off",
        "being",
        "something",
        "anymore",
        "any",
        "every",
        "also",
        "why",
        "too",
        "very",
        "myself",
        "own",
        "always",
        "everything",
        "anyone",
        "everyone",
        "need",
        "right",
        "good",
        "better",
        "end",
        "take",
        "tell",
        "keep",
        "help",
        "try",
        "away",
        "here",
        "year",
        "years",
    ]
)


def required_literals(pattern: str, case_sensitive: bool = False) -> tuple[str, ...] | None:
    """Literal strings of which every match of ``pattern`` contains at least one.

    Returns ``None`` when no useful set exists (the cue is then tried on every text).
    """
    groups = required_literal_groups(pattern, case_sensitive)
    return groups[0][0] if groups else None


def required_literal_groups(
    pattern: str, case_sensitive: bool = False
) -> list[tuple[tuple[str, ...], bool]]:
    """All literal groups a match must contain (one string of each group), best first.

    Each group comes with a flag that is true when its strings always start a word in the
    match, so a text can be pre-screened by the first letters of its words.
    "(?:want|wanna) to die" gives ``[(("die",), True), (("wan",), True)]``: a text is only
    searched with that cue when it contains both.
    """
    try:
        parsed = _sre_parser.parse(pattern, 0 if case_sensitive else re.IGNORECASE)
    except re.error:
        return []
    min_len = 2 if case_sensitive else 3
    groups: dict[tuple[str, ...], bool] = {}
    for found, word_start in _required(list(parsed), True)[0]:
        if not case_sensitive:
            found = {s.lower() for s in found}
        if found and min(len(s) for s in found) >= min_len:
            key = tuple(sorted(found))
            groups[key] = groups.get(key, False) or word_start
    # Rarer literals first: they make the best index key. Words found in most posts ("want",
    # "never") screen out nothing, so they go last whatever their length.
    return sorted(
        groups.items(),
        key=lambda g: (
            all(s in _COMMON_WORDS for s in g[0]),
            -min(len(s) for s in g[0]),
            len(g[0]),
        ),
    )


_Found = list[tuple[set[str], bool]]


def _is_space_repeat(op: Any, av: Any) -> bool:
    if op not in (_C.MAX_REPEAT, _C.MIN_REPEAT) or av[0] < 1:
        return False
    body = list(av[2])
    return len(body) == 1 and body[0][0] is _C.IN and (_C.CATEGORY, _C.CATEGORY_SPACE) in body[0][1]


def _required(items: list[tuple[Any, Any]], at_start: bool) -> tuple[_Found, bool]:
    """Literal sets every match contains, and whether the sequence ends at a word start.

    Returns the conjunction of ``(strings, starts_a_word)`` pairs, and whether the position
    after the sequence is a word start (given ``at_start`` for the position before it).
    """
    out: _Found = []
    run: list[str] = []
    run_start = False
    for op, av in items:
        if op is _C.LITERAL:
            if not run:
                run_start = at_start
            ch = chr(av)
            run.append(ch)
            at_start = not ch.isalnum()
            continue
        if run:
            # The parser factors common prefixes out of alternations ("want|wish" becomes
            # "w(?:ant|ish)"); glue the prefix back onto each alternative's leading literal.
            leads = _branch_leads(op, av)
            if leads:
                out.append(({"".join(run) + lead for lead in leads}, run_start))
            out.append(({"".join(run)}, run_start))
            run = []
        if op is _C.SUBPATTERN:
            inner, at_start = _required(list(av[3]), at_start)
            out.extend(inner)
        elif op is _C.BRANCH:
            bests = []
            ends = []
            for branch in av[1]:
                found, end = _required(list(branch), at_start)
                bests.append(_best(found))
                ends.append(end)
            if all(bests):
                strings = set().union(*[b[0] for b in bests if b])
                out.append((strings, all(b[1] for b in bests if b)))
            at_start = all(ends)
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
            if _is_space_repeat(op, av):
                at_start = True
                continue
            inner, end = _required(list(av[2]), at_start)
            if av[0] >= 1:
                out.extend(inner)
                at_start = end
            else:
                # Optional: after it we are at a word start only if we are either way.
                at_start = at_start and end
        elif op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
            continue  # zero-width: position unchanged
        else:
            at_start = False
    if run:
        out.append(({"".join(run)}, run_start))
    return out, at_start


def _branch_leads(op: Any, av: Any) -> list[str] | None:
    """The leading literal of every alternative of a branch (or a group holding one)."""
    if op is _C.SUBPATTERN:
        inner = list(av[3])
        if len(inner) != 1:
            return None
        op, av = inner[0]
    if op is not _C.BRANCH:
        return None
    leads = []
    for branch in av[1]:
        lead = []
        for item_op, item_av in branch:
            if item_op is not _C.LITERAL:
                break
            lead.append(chr(item_av))
        if not lead:
            return None
        leads.append("".join(lead))
    return leads


def _best(found: _Found) -> tuple[set[str], bool] | None:
    usable = [f for f in found if f[0]]
    if not usable:
        return None
    return max(usable, key=lambda f: (min(len(x) for x in f[0]), f[1], -len(f[0])))


def expand_pattern(pattern: str) -> str:
    """Apply the lexicon conveniences: spaces match whitespace runs (`` ?``: optional
    whitespace), apostrophes are optional and may be curly."""
    out = []
    escaped = False
    skip_next = False
    text = pattern.strip()
    for i, ch in enumerate(text):
        if skip_next:
            skip_next = False
            continue
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif ch == " " and text[i + 1 : i + 2] == "?":
            out.append(r"\s*")  # "any ?more": the space is optional
            skip_next = True
        elif ch == " ":
            out.append(r"\s+")
        elif ch in "'’":
            out.append("['’]?")
        else:
            out.append(ch)
    return "".join(out)


#: Where a cue may start: not inside a word, nor right after a word's apostrophe ("don't" has
#: no cue "t"), but after an opening quote ("Pt states 'I will find another way'").
_WORD_START = r"(?<![\w])(?<![\w]['’])"


@functools.lru_cache(maxsize=8192)
def cue_regex(body: str, case_sensitive: bool = False) -> re.Pattern[str]:
    """A cue's expanded pattern, compiled to match whole words only.

    A case-insensitive cue is compiled for lower-cased text (:func:`lowercase_pattern`, no
    ``re.IGNORECASE``): CPython's ``re`` runs three times faster without the flag, and
    :meth:`CueSet.find` already has the lower-cased text. Search the original text with
    :func:`cue_regex_ignorecase` instead.

    Memoised: :func:`check_pattern` compiles each pattern when its file is read and
    :class:`CueSet` needs the same regex again; compiling the ~2,600 cues twice took a third of
    the rules' load time.
    """
    if not case_sensitive:
        body = lowercase_pattern(body)
    return re.compile(_WORD_START + r"(?:" + body + r")(?![\w])")


@functools.lru_cache(maxsize=8192)
def cue_regex_ignorecase(body: str) -> re.Pattern[str]:
    """A case-insensitive cue compiled for the original text (``re.IGNORECASE``): for the rare
    text whose lower-cased form is longer ("İ" lower-cases to two characters), so offsets in
    it would not index the original."""
    return re.compile(_WORD_START + r"(?:" + body + r")(?![\w])", re.IGNORECASE)


def lowercase_pattern(pattern: str) -> str:
    """``pattern`` for lower-cased text: its letters lower-cased, escapes (``\\S``, ``\\W``,
    ``\\B``) kept as written."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
        else:
            out.append(pattern[i].lower())
            i += 1
    return "".join(out)


def check_pattern(pattern: str, where: str, case_sensitive: bool = False) -> None:
    """Raise :class:`LexiconError` unless ``pattern`` compiles and has no capturing groups."""
    try:
        compiled = cue_regex(expand_pattern(pattern), case_sensitive)
    except re.error as exc:
        raise LexiconError(f"{where}: pattern {pattern!r} does not compile: {exc}") from None
    if compiled.groups:
        raise LexiconError(
            f"{where}: pattern {pattern!r} has a capturing group; use (?:...) instead"
        )
    if compiled.match(""):
        raise LexiconError(f"{where}: pattern {pattern!r} matches the empty string")


def specs_from_entries(
    lexicon: str,
    entries: Iterable[Mapping[str, Any]],
    where: str,
    level: str | None = None,
) -> list[CueSpec]:
    """Turn YAML cue entries (``cue``, ``weight``, ``patterns``, optional ``kind``) into specs."""
    specs = []
    for i, entry in enumerate(entries):
        here = f"{where}: entry {i}"
        if not isinstance(entry, Mapping) or "cue" not in entry or "patterns" not in entry:
            raise LexiconError(f"{here}: needs 'cue' and 'patterns'")
        weight = float(entry.get("weight", 0.5))
        if not 0.0 < weight <= 1.0:
            raise LexiconError(f"{here} ({entry['cue']}): weight {weight} is not in (0, 1]")
        patterns = entry["patterns"]
        if isinstance(patterns, str):
            patterns = [patterns]
        for pattern in patterns:
            check_pattern(
                str(pattern),
                f"{here} ({entry['cue']})",
                case_sensitive=bool(entry.get("case_sensitive", False)),
            )
            specs.append(
                CueSpec(
                    lexicon=lexicon,
                    cue=str(entry["cue"]),
                    weight=weight,
                    pattern=str(pattern),
                    kind=str(entry.get("kind", SYMPTOM)),
                    level=entry.get("level", level),
                    case_sensitive=bool(entry.get("case_sensitive", False)),
                )
            )
    return specs


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one lexicon file, with errors that name it."""
    try:
        # libyaml's loader where PyYAML was built with it (parsing the lexicons in pure Python
        # took a tenth of the rules' load time).
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"cannot read lexicon {path}: {exc}") from None
    if not isinstance(data, dict):
        raise LexiconError(f"lexicon {path} must be a mapping at the top level")
    return data
