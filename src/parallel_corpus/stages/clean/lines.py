"""Cleaning: decoded raw text in, typed blocks and an audit of removed lines out.

A line is kept verbatim (Unicode NFC and trimming only) or removed with a
reason code; a line that glues chrome to prose (a promo opening after the last
sentence, a "read also:" label between two sentences) is cut at that boundary
and each part is kept or removed whole. Rules are shapes of lines and of runs
of lines (punctuation only, a stub of "published/updated" labels, a repeated
line, a short line above the title, a parenthesised app/social promo, a list
of linked headlines) plus the per-language phrase lists of
`corpus/cleaning.yaml`, so they carry over to sites nobody listed.
`explain` gives the decision and reason for every line (a dry run).
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Optional

import datetime as dt

from ...caching import WORD_CACHE_SIZE
from ...config import load_yaml
from ...records import REMOVAL_REASONS
from . import pieces
from .boilerplate import Boilerplate
from .pieces import ShapeRules

BLOCK_TYPES = ("title", "subtitle", "heading", "dateline", "paragraph", "caption")
BLOCK_SEPARATOR = "\n\n"

# Sentence-final punctuation in the scripts we meet (Latin, Arabic, Devanagari
# danda, CJK) and closing quotes after it: a line ending so is prose, not a
# heading or a title.
_SENTENCE_END = re.compile(r"[.!?؟۔।॥。！？…:;؛\"'”’»)\]]\s*$")
# Arabic tatweel and vocalisation, and the Devanagari nukta (ज़/ज, फ़/फ are
# spelled both ways in the same outlet).
_ARABIC_MARKS = re.compile("[\u0640\u064b-\u065f\u0670\u06d6-\u06ed\u093c]")
_SEPARATOR_AFTER_PREFIX = re.compile(r"^\s*(?:$|[:：\-–—|»«.…,،>]|\()")

# A function that finds a full date at the very start of a line and returns
# where it ends and the date: supplied by `dates`, injected to keep this module
# free of calendar data.
LeadingDate = Callable[[str, Optional[str]], Optional[tuple[int, dt.date]]]


@dataclass(frozen=True)
class Block:
    type: str
    text: str
    line: int  # 1-based line of the decoded raw text


@dataclass(frozen=True)
class RemovedLine:
    line: int
    text: str
    reason: str
    # The rule's score where it has one (the word overlap of a headline
    # with its neighbours, the documents a recurring segment is in).
    score: Optional[float] = None


@dataclass
class Cleaned:
    blocks: list[Block]
    removed: list[RemovedLine]
    dateline_date: Optional[dt.date] = None

    @property
    def text(self) -> str:
        return BLOCK_SEPARATOR.join(b.text for b in self.blocks)

    def spans(self) -> list[tuple[int, int]]:
        """[start, end) of each block in `text`, as code-point offsets."""
        out, pos = [], 0
        for b in self.blocks:
            out.append((pos, pos + len(b.text)))
            pos += len(b.text) + len(BLOCK_SEPARATOR)
        return out

    def title(self) -> Optional[str]:
        return next((b.text for b in self.blocks if b.type == "title"), None)

    def dateline(self) -> Optional[str]:
        return next((b.text for b in self.blocks if b.type == "dateline"), None)


# Passes of the cleaner over its own output beyond one per block: a pass that
# changes anything removes or splits a line, so the loop ends long before.
_MAX_PASSES = 4


class EmptyDocument(ValueError):
    """Nothing is left of a document once its chrome is removed."""


def _fold_char(c: str) -> str:
    """What `fold` makes of one character after case folding: nothing (the
    Arabic marks and the nukta), a space (anything but a letter, a digit or a
    mark) or itself."""
    if _ARABIC_MARKS.match(c):
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
    patterns: tuple[tuple[re.Pattern[str], str], ...]
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
    def from_mapping(cls, data: dict, leading_date: Optional[LeadingDate] = None, weekdays: Iterable[str] = ()) -> "CleaningRules":
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
            patterns=_patterns(data.get("patterns") or []),
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
            shapes=ShapeRules.from_mapping(data, fold),
            weekdays=frozenset(fold(w) for w in weekdays if fold(w)),
            leading_date=leading_date,
        )

    @classmethod
    def load(cls, path: Path, leading_date: Optional[LeadingDate] = None, weekdays: Iterable[str] = ()) -> "CleaningRules":
        return cls.from_mapping(load_yaml(path) or {}, leading_date, weekdays)

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


def _patterns(entries: list) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The `patterns` of cleaning.yaml, each with a reason code of the registry."""
    out = []
    for n, entry in enumerate(entries, start=1):
        reason = entry.get("reason") if isinstance(entry, dict) else None
        if reason not in REMOVAL_REASONS:
            known = ", ".join(sorted(REMOVAL_REASONS))
            raise ValueError(f"cleaning.yaml: patterns[{n}]: reason {reason!r} is not a reason code (use one of: {known})")
        out.append((re.compile(entry["regex"]), reason))
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
        is_word = unicodedata.category(c)[0] in "LNM" and c != "\u0640"
        if is_word and not in_word:
            seen += 1
            if seen > words:
                return line[i:] if i else line
        if not is_word and in_word and seen == words:
            return line[i:]
        in_word = is_word
    return "" if seen == words else None


@dataclass
class _Line:
    number: int
    text: str
    kind: str = "body"  # body | caption
    dateline_split: Optional[tuple[int, dt.date]] = None
    # The line before it (blank lines aside) was a link stub ("Read also:"):
    # a headline right after one is the link's text.
    after_link_stub: bool = False


def normalize_lines(text: str) -> list[str]:
    """NFC and trimmed lines; only "\\n" (after CRLF/CR folding) splits lines,
    so a U+2028 or a form feed inside a line can never change the line count."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return [line.strip() for line in text.split("\n")]


def clean(text: str, rules: CleaningRules, language: Optional[str] = None, boilerplate: Optional[Boilerplate] = None) -> Cleaned:
    """Split a decoded article into typed blocks and an audit of removed lines.

    `language` (the declared one, if any) only helps the date parser; chrome
    rules of every language apply to every document. `boilerplate`, the
    corpus's counts of recurring segments (`boilerplate.Counter`), lets the
    segments that several documents print be removed as furniture.
    """
    blocks, removed, dateline_date = _clean_to_fixed_point(text, rules, language, boilerplate)
    if not blocks:
        raise EmptyDocument("nothing is left after cleaning")
    return Cleaned(blocks, removed, dateline_date)


@dataclass(frozen=True)
class LineDecision:
    """What the cleaner did with one line (or one part of a cut line)."""

    line: int  # 1-based line of the decoded raw text
    text: str
    kept: bool
    reason: Optional[str]  # the reason code when removed
    block_type: Optional[str]  # the block type when kept
    score: Optional[float] = None  # the removing rule's score, where it has one


def explain(text: str, rules: CleaningRules, language: Optional[str] = None, boilerplate: Optional[Boilerplate] = None) -> list[LineDecision]:
    """A dry run: every non-blank line of `text`, in order, with its decision
    and reason, so a user can see why a line was dropped before trusting the
    rules. Never raises EmptyDocument (every line is then removed)."""
    blocks, removed, _ = _clean_to_fixed_point(text, rules, language, boilerplate)
    decisions = [LineDecision(b.line, b.text, True, None, b.type) for b in blocks]
    decisions += [LineDecision(r.line, r.text, False, r.reason, None, r.score) for r in removed]
    order = {id(d): i for i, d in enumerate(decisions)}
    lines = normalize_lines(text)

    def position(d: LineDecision) -> tuple[int, int, int]:
        # Parts of one cut line in the order they stand in it.
        at = lines[d.line - 1].find(d.text) if 0 < d.line <= len(lines) else -1
        return (d.line, at, order[id(d)])

    return sorted(decisions, key=position)


class _LineFacts:
    """Answers to the cleaner's per-line questions, kept for one document.

    The same questions are asked of the same line many times: `_promo_cuts`
    and `_clean` both need a line's removal reason, and every pass to the
    fixed point sees the surviving lines again. Each answer depends only on
    the line's text, the rules and the document's language, so it is worked
    out once. The memo lives for one call of `clean`, so rules changed
    between calls are always seen."""

    __slots__ = ("rules", "tables", "language", "boilerplate", "_normalized", "_folded", "_reasons", "_segments", "_captions", "_dates", "_judged")

    def __init__(self, rules: CleaningRules, language: Optional[str], boilerplate: Optional[Boilerplate] = None):
        self.rules = rules
        self.tables = _tables(rules)
        self.language = language
        self.boilerplate = boilerplate
        self._normalized: dict[str, str] = {}
        self._folded: dict[str, str] = {}
        self._reasons: dict[str, Optional[str]] = {}
        self._segments: dict[tuple[str, Optional[int]], list[tuple[str, Optional[str]]]] = {}
        self._captions: dict[str, Optional[str]] = {}
        self._dates: dict[str, Optional[tuple[int, dt.date]]] = {}
        self._judged: dict[tuple[str, bool, bool], tuple[list[str], list[pieces.Removal]]] = {}

    def normalize_lines(self, text: str) -> list[str]:
        """`normalize_lines(text)`, one line at a time.

        NFC never composes or reorders across a line break or a whitespace
        character (each is a starter, stays one character and is part of no
        canonical decomposition), so normalizing the lines one by one gives
        the lines of the normalized text; and a line that is NFC and trimmed
        already stays as it is. So the lines of the next pass, which are
        mostly lines of this one, are not normalized again."""
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        known = self._normalized
        out = []
        for raw in text.split("\n"):
            line = known.get(raw)
            if line is None:
                line = known[raw] = unicodedata.normalize("NFC", raw).strip()
                known[line] = line
            out.append(line)
        return out

    def fold(self, text: str) -> str:
        """`fold(text)`, without normalizing again a line that
        `normalize_lines` returned (it is NFC: see there)."""
        try:
            return self._folded[text]
        except KeyError:
            pass
        folded = self._folded[text] = _fold_nfc(text) if self._normalized.get(text) == text else fold(text)
        return folded

    def removal_reason(self, line: str) -> Optional[str]:
        """`_removal_reason` of a line."""
        try:
            return self._reasons[line]
        except KeyError:
            reason = self._reasons[line] = _removal_reason(line, self.fold(line), self.rules, self.tables)
            return reason

    def segments(self, line: str, promo_at: Optional[int]) -> list[tuple[str, Optional[str]]]:
        """`_segments` of a line (not to be changed by the caller)."""
        try:
            return self._segments[line, promo_at]
        except KeyError:
            parts = self._segments[line, promo_at] = _segments(line, promo_at, self.rules)
            return parts

    def caption_text(self, line: str) -> Optional[str]:
        """`_caption_text` of a line."""
        try:
            return self._captions[line]
        except KeyError:
            caption = self._captions[line] = _caption_text(line, self.fold(line), self.tables)
            return caption

    def judge(self, line: str, opened: bool, title: bool) -> tuple[list[str], list[pieces.Removal]]:
        """`pieces.judge` of a line (not to be changed by the caller): every
        pass to the fixed point sees the surviving lines again."""
        key = (line, opened, title)
        try:
            return self._judged[key]
        except KeyError:
            found = self._judged[key] = pieces.judge(line, self.rules.shapes, self.fold, opened, self.recurring, title)
            return found

    def recurring(self, text: str) -> int:
        """How many documents of the corpus hold this segment."""
        return self.boilerplate.documents(self.fold(text)) if self.boilerplate else 0

    def leading_date(self, text: str) -> Optional[tuple[int, dt.date]]:
        """The rules' `leading_date` of a line in the document's language."""
        if self.rules.leading_date is None:
            return None
        try:
            return self._dates[text]
        except KeyError:
            found = self._dates[text] = self.rules.leading_date(text, self.language)
            return found


def _clean_to_fixed_point(
    text: str, rules: CleaningRules, language: Optional[str], boilerplate: Optional[Boilerplate] = None
) -> tuple[list[Block], list[RemovedLine], Optional[dt.date]]:
    facts = _LineFacts(rules, language, boilerplate)
    blocks, removed, dateline_date = _clean(text, facts)
    if not removed and [b.text for b in blocks] == [line for line in facts.normalize_lines(text) if line]:
        return blocks, removed, dateline_date  # nothing moved: the same lines give the same result
    # Rules look at a line's neighbours (the header above the first
    # paragraph, a line printed twice), so removing one line can expose
    # another. Cleaning again until nothing more goes makes the result a
    # fixed point: cleaning cleaned text removes nothing, whatever the rules.
    for _ in range(_MAX_PASSES + len(blocks)):
        if not blocks:
            break
        again, again_removed, again_date = _clean(BLOCK_SEPARATOR.join(b.text for b in blocks), facts)
        if not again_removed and [b.text for b in again] == [b.text for b in blocks]:
            break
        # Block i of the cleaned text stands on its line 2i + 1.
        def origin(line: int) -> Block:
            return blocks[(line - 1) // 2]

        removed = removed + [RemovedLine(origin(r.line).line, r.text, r.reason, r.score) for r in again_removed]
        blocks = [
            Block(origin(b.line).type if origin(b.line).text == b.text else b.type, b.text, origin(b.line).line)
            for b in again
        ]
        dateline_date = dateline_date or again_date
    removed.sort(key=lambda r: r.line)
    return blocks, removed, dateline_date


def _clean(text: str, facts: _LineFacts) -> tuple[list[Block], list[RemovedLine], Optional[dt.date]]:
    rules = facts.rules
    removed: list[RemovedLine] = []
    kept: list[_Line] = []
    seen: dict[str, int] = {}
    lines = facts.normalize_lines(text)
    promo_cuts = _promo_cuts(lines, facts)
    previous_reason: Optional[str] = None
    first_prose: Optional[int] = None  # index in `kept` of the first line of prose

    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        for segment, reason in facts.segments(line, promo_cuts.get(number - 1)):
            if reason is None:
                reason = facts.removal_reason(segment)
                # The first line of an article is its title, and a video's
                # title may open like a link stub ("Watch: ..."); a stub
                # with nothing after its label is chrome wherever it stands.
                if reason == "chrome_prefix" and not kept and not _removed_words_before(removed) and _stub_has_title(segment, rules):
                    reason = None
            if reason is not None:
                removed.append(RemovedLine(number, segment, reason))
                previous_reason = "open_paren" if segment == "(" else reason
                continue
            # What the page glued into the line: judged piece by piece.
            title = not kept and not _removed_words_before(removed)
            # A parenthesis the line before opened at its end ("... है.(")
            # or on a line of its own goes on here.
            left_open = bool(kept) and kept[-1].number < number and kept[-1].kind == "body" and kept[-1].text.endswith("(")
            runs, cut = facts.judge(segment, previous_reason == "open_paren" or left_open, title)
            if left_open and cut and segment.startswith(cut[0].text):
                cut = list(cut)
                # The parenthesis was removed: its "(" goes with it.
                kept[-1].text = kept[-1].text[:-1].rstrip()
                cut[0] = pieces.Removal("(" + cut[0].text, cut[0].reason, cut[0].score)
            removed.extend(RemovedLine(number, r.text, r.reason, r.score) for r in cut)
            if not runs:
                previous_reason = cut[-1].reason if cut else previous_reason
                continue
            after_link_stub = previous_reason == "chrome_prefix"
            previous_reason = None
            parts = []
            for run in runs:
                caption_text = facts.caption_text(run)
                if caption_text is not None:
                    parts.append(_Line(number, caption_text, "caption"))
                else:
                    parts.extend(_split_glued_dateline(_Line(number, run, after_link_stub=after_link_stub), facts))
            for part in parts:
                key = facts.fold(part.text)
                if key in seen:
                    first = kept[seen[key]]
                    # A short line printed twice in a row is a photo caption
                    # (the page shows it under the photo and again in the alt
                    # text). Above the first paragraph it is a title printed
                    # twice: a caption there would not survive a second
                    # cleaning, which sees it once and takes it for the header.
                    if (
                        seen[key] == len(kept) - 1
                        and first_prose is not None
                        and seen[key] > first_prose
                        and _words(part.text) <= rules.heading_max_words
                        and first.kind == "body"
                    ):
                        first.kind = "caption"
                    removed.append(RemovedLine(number, part.text, "repeated_line"))
                    continue
                kept.append(part)
                seen[key] = len(kept) - 1
                if first_prose is None and part.kind == "body" and _is_prose(part.text, rules):
                    first_prose = len(kept) - 1

    kept = _drop_related_links(kept, removed, facts)
    kept = _drop_trailing_leads(kept, removed, facts)
    blocks, dateline_date = _structure(kept, removed, facts)
    removed.sort(key=lambda r: r.line)
    return blocks, removed, dateline_date


def segments_of(text: str, shapes: ShapeRules) -> list[str]:
    """The folded segments of a text that the corpus-level boilerplate count
    keys: its lines, and the pieces of every line of several pieces, of the
    shape of furniture (`pieces.may_be_boilerplate`)."""
    from .boilerplate import segments

    found = segments(normalize_lines(text), lambda line: [line[p.start : p.end].strip() for p in pieces.split(line)])
    # The lines are NFC already, and so is every slice of them.
    return [_fold_nfc(s) for s in found if pieces.may_be_boilerplate(s, shapes)]


def _removed_words_before(removed: list[RemovedLine]) -> bool:
    """Whether a line with words was removed before anything was kept (the
    title, if any, was then removed as something else)."""
    return any(r.reason != "punctuation_only" for r in removed)


def _stub_has_title(line: str, rules: CleaningRules) -> bool:
    prefix = rules.starts_with(line, rules.prefixes)
    rest = _after_folded_prefix(line, prefix) if prefix else None
    return rest is not None and _words(fold(rest)) >= rules.related_link_min_words


# -- lines that glue chrome to prose -------------------------------------------

# ")" closing a line, perhaps after the sentence's full stop: "... कर सकते हैं.)".
_CLOSING_PAREN_AT_END = re.compile(r"\)[\s.।]*$")
_SENTENCE_BEFORE = re.compile(r"[.!?؟।॥\"'”’»]$")


# The scans below walk over the parentheses of a line only, found by a
# regular expression, instead of over every character.
_PAREN = re.compile(r"[()]")


def _paren_positions(line: str, end: int) -> list[int]:
    """Where "(" and ")" stand in line[:end], in order."""
    return [m.start() for m in _PAREN.finditer(line, 0, end)]


def _opening_of_final_paren(line: str) -> Optional[int]:
    """Where the "(" that the line's final ")" closes stands, if any."""
    found = _CLOSING_PAREN_AT_END.search(line)
    if not found:
        return None
    depth = 0
    for i in reversed(_paren_positions(line, found.start() + 1)):
        if line[i] == ")":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return i
    return None


def _unclosed_open(line: str) -> Optional[int]:
    """Where the last "(" that no ")" after it closes stands, if any."""
    depth = 0
    for i in reversed(_paren_positions(line, len(line))):
        if line[i] == ")":
            depth += 1
        else:
            if depth == 0:
                return i
            depth -= 1
    return None


def _closes_unopened(line: str) -> bool:
    """Whether the line ends with a ")" that no "(" of the line opens: the end
    of a parenthesis that began on an earlier line."""
    found = _CLOSING_PAREN_AT_END.search(line)
    if not found:
        return False
    depth = 0
    for i in _paren_positions(line, found.start()):
        if line[i] == "(":
            depth += 1
        else:
            depth = max(0, depth - 1)
    return depth == 0


def _promo_cuts(lines: list[str], facts: _LineFacts) -> dict[int, int]:
    """Parenthesised app/social promos ("(Click here for our Android app. You
    can follow us on Facebook and Twitter.)"), which the page often breaks over
    several lines and opens at the end of the article's last sentence. Returns,
    for each line index in a promo, where the promo starts in it (0: the whole
    line).

    A second cleaning must find no promo the first one missed, yet it no
    longer sees the lines the first removed. So lines that other rules remove
    anyway are transparent here: they lend their words to the
    test of a span but never stop it, hold its "(", or count against its
    length; and a promo found already is not there for the next one."""
    rules = facts.rules
    # Every promo span ends on a line that ends with ")": without one, there
    # is nothing to find (and the rounds below would find nothing).
    if not any(")" in line and _CLOSING_PAREN_AT_END.search(line) for line in lines):
        return {}
    first = next((k for k, line in enumerate(lines) if line), -1)
    removed_by_rule = {k for k, line in enumerate(lines) if line and k != first and facts.removal_reason(line) is not None}
    # Repeats are removed too, but which line repeats which depends on the
    # promos found: settle both together.
    # A span found in any round is a promo (removing it is what a second
    # cleaning would do).
    repeats: set[int] = set()
    cuts: dict[int, int] = {}
    for _ in range(4):
        for k, at in _promo_cuts_once(lines, rules, removed_by_rule | repeats).items():
            cuts[k] = min(at, cuts.get(k, at))
        seen: set[str] = set()
        found: set[int] = set()
        for k, line in enumerate(lines):
            text = lines[k][: cuts[k]].strip() if k in cuts else line
            if not text or k in removed_by_rule:
                continue
            folded = facts.fold(text)
            if folded in seen:
                found.add(k)
            seen.add(folded)
        if found == repeats:
            break
        repeats = found
    return cuts


def _promo_cuts_once(lines: list[str], rules: CleaningRules, transparent: set[int]) -> dict[int, int]:
    cuts: dict[int, int] = {}

    def visible(k: int) -> str:
        return lines[k][: cuts[k]].strip() if k in cuts else lines[k]

    for j, line in enumerate(lines):
        if not line or j in cuts or j in transparent or not _CLOSING_PAREN_AT_END.search(line):
            continue
        if not _closes_unopened(line):
            # The whole parenthesis is on this line, alone or glued to the
            # end of the last sentence.
            at = _opening_of_final_paren(line)
            if at is not None and rules.is_promo(line[at:], enclosed=at == 0):
                cuts[j] = at
            continue
        span, words, opened = [j], _words(line), None
        k = j - 1
        while k >= 0:
            previous = visible(k)
            if previous and k in transparent:
                span.append(k)
            elif previous:
                at = _unclosed_open(previous)
                if at is not None:
                    if words + _words(previous[at:]) <= rules.promo_max_words:
                        opened = (k, at)
                    break
                words += _words(previous)
                if words > rules.promo_max_words:
                    break
                span.append(k)
            k -= 1
        if opened is not None:
            k, at = opened
            text = " ".join([visible(k)[at:], *(visible(i) for i in reversed(span))])
            if rules.is_promo(text, enclosed=at == 0, limit_length=False):
                cuts.update({i: 0 for i in span})
                cuts[k] = at
            continue
        # The "(" was lost with the link it stood in: take the lines next to
        # the closing one that each name a platform or a call.
        run = []
        for i in span:
            if i not in transparent and not rules.names_promo_term(visible(i)):
                break
            run.append(i)
        text = " ".join(visible(i) for i in reversed(run))
        if run and _words(" ".join(visible(i) for i in run if i not in transparent)) <= rules.promo_max_words and rules.is_promo(text, enclosed=False, limit_length=False):
            cuts.update({i: 0 for i in run})
    return cuts


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


# -- runs of linked headlines ----------------------------------------------------

_LIST_MARKER = re.compile(r"^(?:\d{1,3}\s*[-.)]|[-•*·▪►–—])")
# A sentence ending inside the line: a full stop (not of "..", "3.5"), danda
# or question mark followed by more words.
_INNER_SENTENCE_END = re.compile(r"(?<![.\d])[.।॥!?؟](?![.\d])[\"'”’»)]*\s*(?=\w)")
# A headline does not end like a sentence, a clause or a label, even inside
# its closing quotes.
_NOT_HEADLINE_END = re.compile(r"[.।॥:;؛,،\-–—…][\"'”’»)\]]*\s*$")


def _quotes_balanced(text: str) -> bool:
    """A line that opens a quotation it does not close (or the reverse) is a
    piece of reported speech, not a headline."""
    return text.count('"') % 2 == 0 and text.count("“") == text.count("”") and text.count("«") == text.count("»")


def _is_headline(line: _Line, rules: CleaningRules) -> bool:
    # The cheapest tests first (a paragraph is longer than a headline); the
    # order of tests without side effects does not change the answer.
    text = line.text
    return (
        line.kind == "body"
        and len(text) <= rules.title_max_chars
        and rules.related_link_min_words <= _words(text) <= rules.related_link_max_words
        and not _LIST_MARKER.match(text)
        and not _NOT_HEADLINE_END.search(text)
        and not _INNER_SENTENCE_END.search(text)
        and _quotes_balanced(text)
    )


def _drop_related_links(kept: list[_Line], removed: list[RemovedLine], facts: _LineFacts) -> list[_Line]:
    """Links to other stories printed inside an article: two or more
    headline-shaped lines in a row between paragraphs (a sub-heading is
    followed by its paragraph, not by another heading), one right after a
    "Read also:" stub, or one of a headline's length that shares few words
    with the paragraphs after it (an article's own subheading announces
    them). Lines above the first paragraph are the header."""
    rules = facts.rules
    shapes = rules.shapes
    first = next(
        (i for i, l in enumerate(kept) if l.kind != "caption" and (l.kind == "dateline" or (_is_prose(l.text, rules) and not _is_short_line_or_title(l.text, rules)))),
        None,
    )
    if first is None:
        return kept
    out = kept[: first + 1]
    i = first + 1
    while i < len(kept):
        j = i
        while j < len(kept) and _is_headline(kept[j], rules):
            j += 1
        if j - i >= 2 or (j > i and kept[i].after_link_stub):
            removed.extend(RemovedLine(l.number, l.text, "related_link") for l in kept[i:j])
            i = j
        elif j == i + 1 and j < len(kept) and _is_lone_headline(kept[i].text, facts):
            after = [l.text for l in kept[j : j + shapes.lone_headline_context_lines]]
            score = pieces.overlap(kept[i].text, after, facts.fold)
            if score <= shapes.lone_headline_max_overlap:
                removed.append(RemovedLine(kept[i].number, kept[i].text, "related_link", round(score, 3)))
            else:
                out.append(kept[i])
            i = j
        elif j > i:
            out.extend(kept[i:j])
            i = j
        else:
            out.append(kept[i])
            i += 1
    return out


def _is_lone_headline(text: str, facts: _LineFacts) -> bool:
    """A headline-shaped line alone between paragraphs that could be another
    story's: long enough to name one, closing with no mark at all (a
    question or an exclamation is a sentence of the article, and so is a
    line that goes on from the one before)."""
    return (
        _words(text) >= facts.rules.shapes.lone_headline_min_words
        and not _CLOSES_SPEECH.search(text)
        and not facts.rules.shapes.continues(facts.fold(text))
    )


_CLOSES_SPEECH = re.compile(r"[?!؟][\"'”’»)]*$")


def _drop_trailing_leads(kept: list[_Line], removed: list[RemovedLine], facts: _LineFacts) -> list[_Line]:
    """Other stories' first sentences appended after the article: a trailing
    run of one-sentence paragraphs that share few words with the article's
    title and first paragraph, of which several name a day of their own (a
    news lead's "X said on Sunday ..."). The run starts at its first
    paragraph that names a day, so the article's own last paragraphs stay."""
    shapes = facts.rules.shapes
    weekdays = facts.rules.weekdays
    if not weekdays or len(kept) < shapes.leads_min_run + 2:
        return kept
    head = [l.text for l in kept[:2]]
    start = len(kept)
    dated: list[int] = []
    scores: dict[int, float] = {}
    while start > 2:
        line = kept[start - 1]
        if line.kind != "body" or not _is_prose(line.text, facts.rules) or _INNER_SENTENCE_END.search(line.text):
            break
        if shapes.continues(facts.fold(line.text)):
            break
        score = pieces.overlap(line.text, head, facts.fold)
        if score > shapes.leads_max_overlap:
            break
        scores[start - 1] = score
        if not weekdays.isdisjoint(facts.fold(line.text).split()):
            dated.append(start - 1)
        start -= 1
    if len(dated) < shapes.leads_min_dated:
        return kept
    first = min(dated)
    if len(kept) - first < shapes.leads_min_run:
        return kept
    removed.extend(RemovedLine(l.number, l.text, "other_story_lead", round(scores[k], 3)) for k, l in enumerate(kept[first:], start=first))
    return kept[:first]


def _is_short_line_or_title(text: str, rules: CleaningRules) -> bool:
    """A title that ends in "?" or "!" is prose by its punctuation, not by its length."""
    return len(text) <= rules.heading_max_chars and _words(text) <= rules.heading_max_words


def _split_glued_dateline(line: _Line, facts: _LineFacts) -> list[_Line]:
    """"31 Desemba 2021Katika ..." is a dateline glued to the first sentence
    by a lost line break: a date followed by a letter with no space is never
    prose, wherever it stands, so it is split before anything else looks."""
    found = facts.leading_date(line.text)
    if found is None:
        return [line]
    end, date = found
    rest = line.text[end:]
    if not rest[:1].isalpha():
        return [line]
    return [_Line(line.number, line.text[:end].strip(), "dateline", (end, date)), _Line(line.number, rest.strip())]


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


def _leading_date(line: _Line, facts: _LineFacts) -> Optional[tuple[int, dt.date]]:
    found = facts.leading_date(line.text)
    if found is None:
        return None
    end, date = found
    rest = line.text[end:]
    # The date alone, or set off by a dash: a dateline (glued ones were split
    # already). "31 Desemba 2021 ilikuwa ..." is a sentence.
    if not rest.strip() or re.match(r"^\s*[-–—|:]\s*\S", rest):
        return end, date
    return None


def _section_label(header: list[_Line], rules: CleaningRules) -> bool:
    """A kicker such as "Russia and Ukraine" above the title: the first of at
    least three header lines, at most a few words and shorter than the title.
    Only removed when the header that remains would not look the same, so
    cleaning twice removes nothing more."""

    def looks_labelled(lines: list[_Line]) -> bool:
        return (
            len(lines) >= 3
            and _words(lines[0].text) <= rules.section_label_max_words
            and _words(lines[0].text) < _words(lines[1].text)
            and lines[0].kind == "body"
        )

    return looks_labelled(header) and not looks_labelled(header[1:])


def _structure(kept: list[_Line], removed: list[RemovedLine], facts: _LineFacts) -> tuple[list[Block], Optional[dt.date]]:
    """Assign block types by position and shape."""
    rules = facts.rules
    blocks: list[Block] = []
    dateline_date: Optional[dt.date] = None

    # The header: lines above the first line of prose or the first dateline.
    header_end = 0
    while header_end < len(kept):
        line = kept[header_end]
        if line.kind != "body" or _is_prose(line.text, rules) or _leading_date(line, facts):
            break
        header_end += 1
    # A one-line "article" is a paragraph, not a title of nothing.
    if header_end == len(kept):
        header_end = 0
    header = kept[:header_end]
    if _section_label(header, rules):
        removed.append(RemovedLine(header[0].number, header[0].text, "section_label"))
        header = header[1:]
    for i, line in enumerate(header):
        kind = "title" if i == 0 else "subtitle" if i == 1 else "heading"
        blocks.append(Block(kind, line.text, line.number))

    body = kept[header_end:]
    for i, line in enumerate(body):
        if line.kind == "caption":
            blocks.append(Block("caption", line.text, line.number))
            continue
        if line.kind == "dateline":
            assert line.dateline_split is not None
            dateline_date = dateline_date or line.dateline_split[1]
            blocks.append(Block("dateline", line.text, line.number))
            continue
        found = _leading_date(line, facts) if i < 2 and dateline_date is None else None
        if found is not None:
            end, dateline_date = found
            blocks.append(Block("dateline", line.text[:end].strip(), line.number))
            rest = line.text[end:].lstrip(" -–—|:").strip()
            if rest:
                blocks.append(Block("paragraph", rest, line.number))
            continue
        next_line = body[i + 1] if i + 1 < len(body) else None
        if _is_short_line(line.text, rules) and next_line is not None and next_line.kind == "body":
            blocks.append(Block("heading", line.text, line.number))
        else:
            blocks.append(Block("paragraph", line.text, line.number))
    return blocks, dateline_date
