"""The data of `corpus/cleaning.yaml`, compiled once per build, and the tests
of one line against it.

Matching is on a folded form of a line (`fold`: case, Arabic vocalisation and
the Devanagari nukta, punctuation and spacing do not make a line a different
phrase), and each list is indexed by the word an entry opens or closes with,
so a line is tried against the few entries its own words select. The shape
tests that every rule shares (prose, a short line) are here too.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import regex

from parallel_corpus.text.fold import FOLDED_MARKS, TATWEEL
from parallel_corpus.text.tables import WORD_CACHE_SIZE
from parallel_corpus.corpus import CorpusError, check_curated, load_yaml, yaml_line
from parallel_corpus.errors import Problem
from parallel_corpus.records import REMOVAL_REASONS
from parallel_corpus.schema import regex_problem
from parallel_corpus.stages.clean.pieces import ShapeRules

# Sentence-final punctuation in the scripts we meet (Latin, Arabic, Devanagari
# danda, CJK) and closing quotes after it: a line ending so is prose, not a
# heading or a title.
_SENTENCE_END = re.compile(r"[.!?؟۔।॥。！？…:;؛\"'”’»)\]]\s*$")


_SEPARATOR_AFTER_PREFIX = re.compile(r"^\s*(?:$|[:：\-–—|»«.…,،>]|\()")


# A function that finds a full date at the very start of a line and returns
# where it ends and the date: supplied by `dates`, injected to keep this module
# free of calendar data.
LeadingDate = Callable[[str, Optional[str]], Optional[tuple[int, dt.date]]]


def _fold_char(c: str) -> str:
    """What `fold` makes of one character after case folding: nothing (the
    Arabic marks and tatweel, the nukta: `text.fold.FOLDED_MARKS`), a space
    (anything but a letter, a digit or a mark) or itself."""
    if c in FOLDED_MARKS:
        return ""
    return c if unicodedata.category(c)[0] in "LNM" else " "


# `fold` maps each character on its own, so instead of a Python loop over
# every character it finds the few characters that change (punctuation,
# mostly) with one regular expression and replaces each everywhere at once.
# Below U+3000 (Latin, Arabic, Indic scripts, general punctuation) the
# characters that change are listed exactly, from `unicodedata`, once per
# process (about a millisecond; the plain space is left out, as it stays a
# space); every character above is a candidate and looked up.
_FOLD_TABLE_END = 0x3000


def _ranges_class(code_points: list[int], open_end: Optional[int] = None) -> str:
    """A regular expression character class of the code points, as ranges,
    and of every code point from `open_end` on."""
    parts = []
    i = 0
    while i < len(code_points):
        j = i
        while j + 1 < len(code_points) and code_points[j + 1] == code_points[j] + 1:
            j += 1
        lo, hi = chr(code_points[i]), chr(code_points[j])
        parts.append(re.escape(lo) if i == j else f"{re.escape(lo)}-{re.escape(hi)}")
        i = j + 1
    if open_end is not None:
        parts.append(f"{re.escape(chr(open_end))}-{re.escape(chr(0x10FFFF))}")
    return "[" + "".join(parts) + "]"


_FOLD_CANDIDATES = re.compile(
    _ranges_class([cp for cp in range(_FOLD_TABLE_END) if cp != 0x20 and _fold_char(chr(cp)) != chr(cp)], _FOLD_TABLE_END)
)


_FOLD_CHAR: dict[str, str] = {}


@lru_cache(maxsize=WORD_CACHE_SIZE)
def fold(text: str) -> str:
    """The form chrome is matched in: case, marks of Arabic vocalisation,
    punctuation and spacing do not make a line a different phrase."""
    return _fold_nfc(unicodedata.normalize("NFC", text))


def _fold_nfc(text: str) -> str:
    """`fold` of a text in NFC already (the cleaner's lines are)."""
    text = text.casefold()
    for c in set(_FOLD_CANDIDATES.findall(text)):
        replacement = _FOLD_CHAR.get(c)
        if replacement is None:
            replacement = _FOLD_CHAR[c] = _fold_char(c)
        if replacement != c:
            # " " or "": no replacement makes a character that another one
            # rewrites, so the order of the replacements does not matter.
            text = text.replace(c, replacement)
    # Every whitespace character but the space was replaced above, so
    # squeezing runs of spaces is `" ".join(text.split())`, only cheaper.
    while "  " in text:
        text = text.replace("  ", " ")
    return text.strip(" ")


def _has_letters_or_digits(text: str) -> bool:
    # `str.isalpha` is true exactly of the letters (general category L*):
    # most lines open with one.
    return text[:1].isalpha() or any(unicodedata.category(c)[0] in "LN" for c in text)


@lru_cache(maxsize=1 << 12)
def _words(text: str) -> int:
    """Whitespace-separated words; cached (for the lines of the document at
    hand: the size is small), as the shape tests of each pass ask it of the
    same lines again."""
    return len(text.split())


@dataclass
class CleaningRules:
    """The data of `cleaning.yaml`, compiled once per build."""

    phrases: frozenset[tuple[str, ...]]
    max_phrase_len: int
    prefixes: tuple[str, ...]
    metadata_labels: tuple[str, ...]
    caption_prefixes: tuple[str, ...]
    credit_prefixes: tuple[str, ...]
    patterns: tuple[tuple["BoundedPattern", str], ...]
    suffixes: tuple[str, ...] = ()
    # Inline "read also:" labels, as written (NFC), longest first: found
    # between two sentences of a one-line body, they are cut out.
    inline_labels: tuple[str, ...] = ()
    promo_platforms: frozenset[tuple[str, ...]] = frozenset()
    promo_calls: frozenset[tuple[str, ...]] = frozenset()
    promo_addresses: frozenset[tuple[str, ...]] = frozenset()
    promo_max_words: int = 45
    related_link_min_words: int = 3
    related_link_max_words: int = 14
    prefix_line_max_words: int = 14
    heading_max_words: int = 12
    heading_max_chars: int = 100
    title_max_chars: int = 200
    section_label_max_words: int = 4
    shapes: ShapeRules = field(default_factory=ShapeRules)
    # Folded weekday names of every language (from dates.yaml): a lead of
    # another story names its own day.
    weekdays: frozenset[str] = frozenset()
    leading_date: Optional[LeadingDate] = field(default=None, repr=False)

    @classmethod
    def from_mapping(
        cls, data: dict, leading_date: Optional[LeadingDate] = None, weekdays: Iterable[str] = (), path: Optional[Path] = None,
    ) -> "CleaningRules":
        """The rules of a parsed cleaning.yaml (`path`, if given, is where it
        was read: the lines about its patterns name it)."""

        def per_language(key: str) -> list[str]:
            return [fold(p) for items in (data.get(key) or {}).values() for p in items or []]

        phrases = frozenset(tuple(p.split()) for p in per_language("chrome_phrases") if p)
        captions = data.get("caption_prefixes") or {}
        promo = data.get("promo_terms") or {}

        def terms(kind: str) -> frozenset[tuple[str, ...]]:
            return frozenset(tuple(fold(t).split()) for v in (promo.get(kind) or {}).values() for t in v or [] if fold(t))

        def longest_first(items: Iterable[str]) -> tuple[str, ...]:
            # Longest first, so "last updated" wins over "updated".
            return tuple(sorted({p for p in items if p}, key=len, reverse=True))

        raw_prefixes = [unicodedata.normalize("NFC", p).strip() for v in (data.get("chrome_prefixes") or {}).values() for p in v or []]
        return cls(
            phrases=phrases,
            max_phrase_len=max((len(p) for p in phrases), default=0),
            prefixes=longest_first(per_language("chrome_prefixes")),
            metadata_labels=longest_first(per_language("metadata_labels")),
            caption_prefixes=longest_first(fold(p) for v in (captions.get("caption") or {}).values() for p in v),
            credit_prefixes=longest_first(fold(p) for v in (captions.get("credit") or {}).values() for p in v),
            patterns=_patterns(data.get("patterns") or [], path),
            suffixes=longest_first(per_language("chrome_suffixes")),
            # One-word labels ("Watch:") open quotes and sentences too often
            # to be cut out of the middle of a line.
            inline_labels=longest_first(p for p in raw_prefixes if len(fold(p).split()) >= 2),
            promo_platforms=terms("platform"),
            promo_calls=terms("call"),
            promo_addresses=terms("address"),
            promo_max_words=int(data.get("promo_max_words", 45)),
            related_link_min_words=int(data.get("related_link_min_words", 3)),
            related_link_max_words=int(data.get("related_link_max_words", 14)),
            prefix_line_max_words=int(data.get("prefix_line_max_words", 14)),
            heading_max_words=int(data.get("heading_max_words", 12)),
            heading_max_chars=int(data.get("heading_max_chars", 100)),
            title_max_chars=int(data.get("title_max_chars", 200)),
            section_label_max_words=int(data.get("section_label_max_words", 4)),
            shapes=ShapeRules.from_mapping(data, fold),
            weekdays=frozenset(fold(w) for w in weekdays if fold(w)),
            leading_date=leading_date,
        )

    @classmethod
    def load(cls, path: Path, leading_date: Optional[LeadingDate] = None, weekdays: Iterable[str] = ()) -> "CleaningRules":
        """The rules of a cleaning.yaml, checked against schemas/cleaning.schema.json
        first: a file that breaks it is one CorpusError line, as `validate` says."""
        data = load_yaml(path)
        check_curated(data, Path(path), "cleaning")
        return cls.from_mapping(data, leading_date, weekdays, Path(path))

    # -- line tests -------------------------------------------------------
    #
    # Each test folds the line and looks only at the entries its first (or
    # last) word selects, from the indexes of `_tables`; `_removal_reason`
    # calls the same `_match_*` functions with the line folded once.

    def is_phrase_sequence(self, folded: str) -> bool:
        """Whether a folded line is one or more chrome phrases and nothing else."""
        return _is_phrase_sequence(folded.split(), self, _tables(self))

    def starts_with(self, line: str, prefixes: Iterable[str]) -> Optional[str]:
        """The prefix a line opens with, if it is followed by a separator or
        nothing: "Read more: X" is a stub, "Reading is ..." is not."""
        folded_line = fold(line)
        tables = _tables(self)
        # The rules' own lists are indexed; any other is tried entry by entry.
        index: Optional[dict[str, tuple[str, ...]]] = None
        if prefixes is self.prefixes:
            index = tables.prefixes
        elif prefixes is self.credit_prefixes:
            index = tables.credits
        elif prefixes is self.caption_prefixes:
            index = tables.captions
        candidates = prefixes if index is None else index.get(_first_word(folded_line), ())
        return _match_prefix(line, folded_line, candidates)

    def ends_with(self, line: str, suffixes: Iterable[str]) -> Optional[str]:
        """The "click here" anchor a line closes with, if any."""
        folded_line = fold(line)
        candidates = _tables(self).suffixes.get(_last_word(folded_line), ()) if suffixes is self.suffixes else suffixes
        return _match_suffix(folded_line, candidates)

    def is_promo(self, text: str, enclosed: bool, limit_length: bool = True) -> bool:
        """Whether text is an app/social promo: it names a platform (app,
        Facebook, ...) and a call (click, follow, download, ...), and, unless
        the page set it apart as a parenthesis of its own (opening a line),
        addresses the reader ("you can ...", "follow us"). Reported speech
        about an app names a platform and perhaps a verb, but rarely all three;
        a parenthesis glued to a sentence is as likely an aside of the article."""
        tokens = fold(text).split()
        if not tokens or (limit_length and len(tokens) > self.promo_max_words):
            return False
        tables = _tables(self)
        found = _contains(tokens, tables.platforms) and _contains(tokens, tables.calls)
        return found and (enclosed or _contains(tokens, tables.addresses))

    def names_promo_term(self, text: str) -> bool:
        tokens = fold(text).split()
        tables = _tables(self)
        return _contains(tokens, tables.platforms) or _contains(tokens, tables.calls)

    def metadata_kind(self, line: str) -> Optional[str]:
        """`metadata_stub` for a line of labels only ("Published: Updated:"),
        `metadata_line` for labels with a short value (a date, a byline)."""
        return _metadata_kind(line, fold(line), _tables(self))


# The longest one `patterns` entry may take on one line. The seed corpus's
# patterns take microseconds a line; a pattern that backtracks
# catastrophically ("(a|a)+$" against a line of a's) would take years.
PATTERN_TIMEOUT_SECONDS = 1.0


class PatternTimeout(CorpusError):
    """A `patterns` entry that took longer than PATTERN_TIMEOUT_SECONDS on a
    line: the curated pattern is at fault, so the build stops (skipping the
    document instead would make the output depend on the machine's speed)."""

    def __init__(self, where: str, pattern: str, document: Optional[str] = None):
        on = f"a line of {document}" if document else "a line"
        super().__init__(Problem(
            f"{pattern!r} took more than {PATTERN_TIMEOUT_SECONDS:g} s on {on}: it backtracks catastrophically "
            f"(a repeated group whose text can be split several ways, as in (a|a)+ or (a+)+)",
            where, fix="rewrite it so each character is matched one way",
        ))
        # What a process pool pickles to raise it again in the driver.
        self.args = (where, pattern, document)

    def of_document(self, document: str) -> "PatternTimeout":
        return PatternTimeout(self.args[0], self.args[1], document)


class BoundedPattern:
    """A `patterns` entry compiled by `regex` (the syntax of Python's `re`),
    matched with a time bound: no curated pattern can hang a build."""

    __slots__ = ("compiled", "where")

    def __init__(self, compiled: Any, where: str):
        self.compiled = compiled
        self.where = where  # file:line:field of the entry

    @property
    def pattern(self) -> str:
        return self.compiled.pattern

    def match(self, line: str) -> Any:
        try:
            return self.compiled.match(line, timeout=PATTERN_TIMEOUT_SECONDS)
        except TimeoutError:
            raise PatternTimeout(self.where, self.compiled.pattern) from None


def _patterns(entries: list, path: Optional[Path] = None) -> tuple[tuple[BoundedPattern, str], ...]:
    """The `patterns` of cleaning.yaml, each with a reason code of the registry.
    The schema has checked both already when the file came through `load`;
    a mapping made otherwise gets the same lines."""
    name = str(path) if path is not None else "cleaning.yaml"

    def where(i: int, key: str) -> str:
        line = yaml_line(path, ["patterns", i, key]) if path is not None else None
        return f"{name}:{line or '-'}:patterns.{i}.{key}"

    out = []
    for i, entry in enumerate(entries):
        reason = entry.get("reason") if isinstance(entry, dict) else None
        if reason not in REMOVAL_REASONS:
            known = ", ".join(sorted(REMOVAL_REASONS))
            raise CorpusError(f"{where(i, 'reason')}: {reason!r} is not a reason code: use one of {known}")
        source = entry.get("regex")
        if not isinstance(source, str):
            raise CorpusError(f"{where(i, 'regex')}: {source!r} is not a string: write the regular expression in quotes")
        try:
            compiled = regex.compile(source)
        except regex.error as exc:
            raise CorpusError(f"{where(i, 'regex')}: {regex_problem(source, exc)}") from None
        out.append((BoundedPattern(compiled, where(i, "regex")), reason))
    return tuple(out)


def _is_phrase_sequence(tokens: list[str], rules: CleaningRules, tables: "_Tables") -> bool:
    """Whether the words of a folded line are one or more chrome phrases in a row."""
    if not tokens or not rules.phrases:
        return False
    # Prose fails at once: its first word opens no phrase, or one of its
    # words is in no phrase at all (both are needed for a match).
    if tokens[0] not in tables.phrase_starts or not tables.phrase_words.issuperset(tokens):
        return False
    reachable = [True] + [False] * len(tokens)
    for i in range(len(tokens)):
        if not reachable[i]:
            continue
        for n in range(1, min(rules.max_phrase_len, len(tokens) - i) + 1):
            if tuple(tokens[i : i + n]) in rules.phrases:
                reachable[i + n] = True
    return reachable[-1]


def _match_prefix(line: str, folded_line: str, prefixes: Iterable[str]) -> Optional[str]:
    """The first of `prefixes` that `line` (folded: `folded_line`) opens
    with, followed by a separator or nothing."""
    for prefix in prefixes:
        if folded_line == prefix:
            return prefix
        if folded_line.startswith(prefix + " "):
            rest = _after_folded_prefix(line, prefix)
            if rest is not None and _SEPARATOR_AFTER_PREFIX.match(rest):
                return prefix
    return None


def _match_suffix(folded_line: str, suffixes: Iterable[str]) -> Optional[str]:
    """The first of `suffixes` that a folded line ends with, as whole words."""
    for suffix in suffixes:
        if folded_line == suffix or folded_line.endswith(" " + suffix):
            return suffix
    return None


def _metadata_kind(line: str, folded_line: str, tables: "_Tables") -> Optional[str]:
    """`CleaningRules.metadata_kind` of `line`, folded: `folded_line`."""
    rest = folded_line
    matched = False
    while True:
        for label in tables.labels.get(_first_word(rest), ()):
            if rest == label or rest.startswith(label + " "):
                rest = rest[len(label) :].strip()
                matched = True
                break
        else:
            break
    if not matched:
        return None
    if not rest:
        return "metadata_stub"
    # "Published: 3 May 2022" is metadata; "Published reports say ..." is prose.
    if ":" in line and _words(rest) <= 8 and not _SENTENCE_END.search(line.rstrip(":").rstrip()):
        return "metadata_line"
    return None


# -- indexes of the phrase lists ----------------------------------------------
#
# A folded line can only equal or open with a folded prefix that has the same
# first word (its text up to the first space), and only equal or close with a
# suffix that has the same last word; a term can only occur where its first
# word does. So each list is indexed by that word, and a line is tested only
# against the few entries its own word selects, in their original order (the
# first match wins, so order matters).

# The lists of `CleaningRules` that `_Tables` indexes.
_TABLE_FIELDS = (
    "phrases", "metadata_labels", "prefixes", "credit_prefixes", "caption_prefixes",
    "suffixes", "promo_platforms", "promo_calls", "promo_addresses",
)


_table_sources = operator.attrgetter(*_TABLE_FIELDS)


def _first_word(text: str) -> str:
    return text.partition(" ")[0]


def _last_word(text: str) -> str:
    return text.rpartition(" ")[2]


def _group(items: Iterable[str], key: Callable[[str], str]) -> dict[str, tuple[str, ...]]:
    """Items by `key`, each group in the items' order."""
    groups: dict[str, list[str]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return {k: tuple(v) for k, v in groups.items()}


@dataclass(frozen=True)
class _Terms:
    """Promo terms (tuples of folded words) by their first word."""

    by_first: dict[str, tuple[tuple[str, ...], ...]]
    any_term: bool  # there is at least one term
    empty_term: bool  # the empty term, which occurs everywhere

    @classmethod
    def of(cls, terms: frozenset[tuple[str, ...]]) -> "_Terms":
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for term in terms:
            if term:
                by_first.setdefault(term[0], []).append(term)
        return cls({k: tuple(v) for k, v in by_first.items()}, bool(terms), () in terms)


class _Tables:
    """The lists of one `CleaningRules`, indexed for the line tests.

    Built on first use and kept on the rules object; rebuilt when any of the
    lists has been replaced since (a list that can change in place is never
    kept), so a test never sees an index of other rules."""

    def __init__(self, rules: CleaningRules):
        self.sources = _table_sources(rules)
        self.phrase_starts = frozenset(p[0] for p in rules.phrases if p)
        self.phrase_words = frozenset(w for p in rules.phrases for w in p)
        self.labels = _group(rules.metadata_labels, _first_word)
        self.prefixes = _group(rules.prefixes, _first_word)
        self.credits = _group(rules.credit_prefixes, _first_word)
        self.captions = _group(rules.caption_prefixes, _first_word)
        self.suffixes = _group(rules.suffixes, _last_word)
        self.platforms = _Terms.of(rules.promo_platforms)
        self.calls = _Terms.of(rules.promo_calls)
        self.addresses = _Terms.of(rules.promo_addresses)
        # A chrome phrase, a metadata label, a link prefix or a credit label
        # can only open a folded line whose first word opens one of them.
        self.openers = self.phrase_starts | self.labels.keys() | self.prefixes.keys() | self.credits.keys()


def _tables(rules: CleaningRules) -> _Tables:
    """The indexes of the rules' lists as they are now."""
    tables = rules.__dict__.get("_tables")
    # Equal immutable lists give equal indexes (`CleaningRules` holds tuples
    # and frozensets; lists that can change in place are indexed afresh).
    if tables is None or tables.sources != _table_sources(rules):
        tables = _Tables(rules)
        if all(isinstance(items, (tuple, frozenset)) for items in tables.sources):
            rules.__dict__["_tables"] = tables
    return tables


def _contains(tokens: list[str], terms: _Terms) -> bool:
    """Whether any term (a tuple of folded words) occurs in tokens, whole words in a row."""
    if not terms.any_term:
        return False
    if terms.empty_term:
        return True
    by_first = terms.by_first
    if by_first.keys().isdisjoint(tokens):
        return False
    for i, token in enumerate(tokens):
        for term in by_first.get(token, ()):
            if len(term) == 1 or tuple(tokens[i : i + len(term)]) == term:
                return True
    return False


def _after_folded_prefix(line: str, prefix: str) -> Optional[str]:
    """The part of the original line after the words of a folded prefix."""
    words = len(prefix.split())
    seen = 0
    in_word = False
    for i, c in enumerate(line):
        is_word = unicodedata.category(c)[0] in "LNM" and c != TATWEEL
        if is_word and not in_word:
            seen += 1
            if seen > words:
                return line[i:] if i else line
        if not is_word and in_word and seen == words:
            return line[i:]
        in_word = is_word
    return "" if seen == words else None


_SENTENCE_BEFORE = re.compile(r"[.!?؟।॥\"'”’»]$")


def _segments(line: str, promo_at: Optional[int], rules: CleaningRules) -> list[tuple[str, Optional[str]]]:
    """A line as parts that are each kept or removed whole: the parts glued
    together by a lost line break are cut apart at a sentence boundary."""
    if promo_at == 0:
        return [(line, "promo")]
    if promo_at is None and (":" not in line and "：" not in line):
        return [(line, None)] if line else []  # no promo, and no label (each ends with its colon)
    parts: list[tuple[str, Optional[str]]] = []
    tail: list[tuple[str, Optional[str]]] = []
    if promo_at is not None:
        tail = [(line[promo_at:].strip(), "promo")]
        line = line[:promo_at].strip()
    parts = _cut_inline_labels(line, rules) if line else []
    return [(t, r) for t, r in parts + tail if t]


def _cut_inline_labels(line: str, rules: CleaningRules) -> list[tuple[str, Optional[str]]]:
    """"... ni ya kusikitisha. Unaweza pia kusoma: Katika ..." is a body on one
    line with a "you may also read:" label whose links were lost: the label
    is cut out where it stands after a sentence (or closes the line), and
    the sentences around it are kept."""
    if not rules.inline_labels or (":" not in line and "：" not in line):
        return [(line, None)]  # every label is matched with its colon
    pattern = _inline_label_pattern(rules.inline_labels)
    out: list[tuple[str, Optional[str]]] = []
    pos = 0
    for found in pattern.finditer(line):
        start, end = found.span("label")
        before = line[:start].rstrip()
        at_end = not line[end:].strip()
        if start == 0 or not before or not (at_end or _SENTENCE_BEFORE.search(before)):
            continue
        if start < pos:
            continue
        out.append((line[pos:start].strip(), None))
        out.append((line[start:end].strip(), "chrome_prefix"))
        pos = end
    if not out:
        return [(line, None)]
    out.append((line[pos:].strip(), None))
    return [(t, r) for t, r in out if t]


_INLINE_PATTERNS: dict[tuple[str, ...], re.Pattern[str]] = {}


def _inline_label_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    pattern = _INLINE_PATTERNS.get(labels)
    if pattern is None:
        words = [r"\s+".join(re.escape(w) for w in label.rstrip(":： ").split()) for label in labels]
        pattern = re.compile(r"(?<!\S)(?P<label>(?:" + "|".join(words) + r")\s*[:：])(?=\s|$)", re.IGNORECASE)
        _INLINE_PATTERNS[labels] = pattern
    return pattern


def _is_short_line_or_title(text: str, rules: CleaningRules) -> bool:
    """A title that ends in "?" or "!" is prose by its punctuation, not by its length."""
    return len(text) <= rules.heading_max_chars and _words(text) <= rules.heading_max_words


def _removal_reason(line: str, folded_line: str, rules: CleaningRules, tables: _Tables) -> Optional[str]:
    """Why a line (folded: `folded_line`) is removed on its own, if it is:
    the line tests of `CleaningRules` in their order, with the line folded
    and split once."""
    if not _has_letters_or_digits(line):
        return "punctuation_only"
    for pattern, reason in rules.patterns:
        if pattern.match(line):
            return reason
    # `fold` leaves single spaces between words and none at the ends.
    words = folded_line.count(" ") + 1 if folded_line else 0
    first_word = _first_word(folded_line)
    # Most lines of prose skip these four tests at once (see `_Tables.openers`).
    if first_word in tables.openers:
        if _is_phrase_sequence(folded_line.split(), rules, tables):
            return "chrome_phrase"
        kind = _metadata_kind(line, folded_line, tables)
        if kind:
            return kind
        if words <= rules.prefix_line_max_words and _match_prefix(line, folded_line, tables.prefixes.get(first_word, ())):
            return "chrome_prefix"
        if _match_prefix(line, folded_line, tables.credits.get(first_word, ())):
            return "image_credit"
    if words <= rules.prefix_line_max_words and _match_suffix(folded_line, tables.suffixes.get(_last_word(folded_line), ())):
        return "chrome_suffix"
    # A line of more words than a promo may have is none.
    if 0 < words <= rules.promo_max_words:
        tokens = folded_line.split()
        if _contains(tokens, tables.platforms) and _contains(tokens, tables.calls) and _contains(tokens, tables.addresses):
            return "promo"
    return None


def _caption_text(line: str, folded_line: str, tables: _Tables) -> Optional[str]:
    """The caption of "Image caption, X": X verbatim, its label dropped."""
    prefix = _match_prefix(line, folded_line, tables.captions.get(_first_word(folded_line), ()))
    if prefix is None:
        return None
    rest = (_after_folded_prefix(line, prefix) or "").lstrip(" :：-–—|,،").strip()
    return rest if _has_letters_or_digits(rest) else None


# In the tests of shape below, the length in characters comes first: it is
# the cheapest, and the order of tests without side effects does not change
# the answer.


def _is_prose(text: str, rules: CleaningRules) -> bool:
    return len(text) > rules.title_max_chars or bool(_SENTENCE_END.search(text))


def _is_short_line(text: str, rules: CleaningRules) -> bool:
    return len(text) <= rules.heading_max_chars and _words(text) <= rules.heading_max_words and not _SENTENCE_END.search(text)
