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

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Optional

import datetime as dt

from .config import load_yaml

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


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """The form chrome is matched in: case, marks of Arabic vocalisation,
    punctuation and spacing do not make a line a different phrase."""
    text = _ARABIC_MARKS.sub("", unicodedata.normalize("NFC", text).casefold())
    chars = [c if unicodedata.category(c)[0] in "LNM" else " " for c in text]
    return " ".join("".join(chars).split())


def _has_letters_or_digits(text: str) -> bool:
    return any(unicodedata.category(c)[0] in "LN" for c in text)


def _words(text: str) -> int:
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
    leading_date: Optional[LeadingDate] = field(default=None, repr=False)

    @classmethod
    def from_mapping(cls, data: dict, leading_date: Optional[LeadingDate] = None) -> "CleaningRules":
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
            patterns=tuple((re.compile(p["regex"]), p["reason"]) for p in data.get("patterns") or []),
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
            leading_date=leading_date,
        )

    @classmethod
    def load(cls, path: Path, leading_date: Optional[LeadingDate] = None) -> "CleaningRules":
        return cls.from_mapping(load_yaml(path) or {}, leading_date)

    # -- line tests -------------------------------------------------------

    def is_phrase_sequence(self, folded: str) -> bool:
        """Whether a folded line is one or more chrome phrases and nothing else."""
        tokens = folded.split()
        if not tokens or not self.phrases:
            return False
        reachable = [True] + [False] * len(tokens)
        for i in range(len(tokens)):
            if not reachable[i]:
                continue
            for n in range(1, min(self.max_phrase_len, len(tokens) - i) + 1):
                if tuple(tokens[i : i + n]) in self.phrases:
                    reachable[i + n] = True
        return reachable[-1]

    def starts_with(self, line: str, prefixes: Iterable[str]) -> Optional[str]:
        """The prefix a line opens with, if it is followed by a separator or
        nothing: "Read more: X" is a stub, "Reading is ..." is not."""
        folded_line = fold(line)
        for prefix in prefixes:
            if folded_line == prefix:
                return prefix
            if folded_line.startswith(prefix + " "):
                rest = _after_folded_prefix(line, prefix)
                if rest is not None and _SEPARATOR_AFTER_PREFIX.match(rest):
                    return prefix
        return None

    def ends_with(self, line: str, suffixes: Iterable[str]) -> Optional[str]:
        """The "click here" anchor a line closes with, if any."""
        folded_line = fold(line)
        for suffix in suffixes:
            if folded_line == suffix or folded_line.endswith(" " + suffix):
                return suffix
        return None

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
        found = _contains(tokens, self.promo_platforms) and _contains(tokens, self.promo_calls)
        return found and (enclosed or _contains(tokens, self.promo_addresses))

    def names_promo_term(self, text: str) -> bool:
        tokens = fold(text).split()
        return _contains(tokens, self.promo_platforms) or _contains(tokens, self.promo_calls)

    def metadata_kind(self, line: str) -> Optional[str]:
        """`metadata_stub` for a line of labels only ("Published: Updated:"),
        `metadata_line` for labels with a short value (a date, a byline)."""
        folded_line = fold(line)
        rest = folded_line
        matched = False
        while True:
            for label in self.metadata_labels:
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


def _contains(tokens: list[str], terms: frozenset[tuple[str, ...]]) -> bool:
    """Whether any term (a tuple of folded words) occurs in tokens, whole words in a row."""
    if not terms:
        return False
    lengths = {len(t) for t in terms}
    return any(tuple(tokens[i : i + n]) in terms for n in lengths for i in range(len(tokens) - n + 1))


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


def clean(text: str, rules: CleaningRules, language: Optional[str] = None) -> Cleaned:
    """Split a decoded article into typed blocks and an audit of removed lines.

    `language` (the declared one, if any) only helps the date parser; chrome
    rules of every language apply to every document.
    """
    blocks, removed, dateline_date = _clean_to_fixed_point(text, rules, language)
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


def explain(text: str, rules: CleaningRules, language: Optional[str] = None) -> list[LineDecision]:
    """A dry run: every non-blank line of `text`, in order, with its decision
    and reason, so a user can see why a line was dropped before trusting the
    rules. Never raises EmptyDocument (every line is then removed)."""
    blocks, removed, _ = _clean_to_fixed_point(text, rules, language)
    decisions = [LineDecision(b.line, b.text, True, None, b.type) for b in blocks]
    decisions += [LineDecision(r.line, r.text, False, r.reason, None) for r in removed]
    order = {id(d): i for i, d in enumerate(decisions)}
    lines = normalize_lines(text)

    def position(d: LineDecision) -> tuple[int, int, int]:
        # Parts of one cut line in the order they stand in it.
        at = lines[d.line - 1].find(d.text) if 0 < d.line <= len(lines) else -1
        return (d.line, at, order[id(d)])

    return sorted(decisions, key=position)


def _clean_to_fixed_point(text: str, rules: CleaningRules, language: Optional[str]) -> tuple[list[Block], list[RemovedLine], Optional[dt.date]]:
    blocks, removed, dateline_date = _clean(text, rules, language)
    if not removed and [b.text for b in blocks] == [line for line in normalize_lines(text) if line]:
        return blocks, removed, dateline_date  # nothing moved: the same lines give the same result
    # Rules look at a line's neighbours (the header above the first
    # paragraph, a line printed twice), so removing one line can expose
    # another. Cleaning again until nothing more goes makes the result a
    # fixed point: cleaning cleaned text removes nothing, whatever the rules.
    for _ in range(_MAX_PASSES + len(blocks)):
        if not blocks:
            break
        again, again_removed, again_date = _clean(BLOCK_SEPARATOR.join(b.text for b in blocks), rules, language)
        if not again_removed and [b.text for b in again] == [b.text for b in blocks]:
            break
        # Block i of the cleaned text stands on its line 2i + 1.
        def origin(line: int) -> Block:
            return blocks[(line - 1) // 2]

        removed = removed + [RemovedLine(origin(r.line).line, r.text, r.reason) for r in again_removed]
        blocks = [
            Block(origin(b.line).type if origin(b.line).text == b.text else b.type, b.text, origin(b.line).line)
            for b in again
        ]
        dateline_date = dateline_date or again_date
    removed.sort(key=lambda r: r.line)
    return blocks, removed, dateline_date


def _clean(text: str, rules: CleaningRules, language: Optional[str]) -> tuple[list[Block], list[RemovedLine], Optional[dt.date]]:
    removed: list[RemovedLine] = []
    kept: list[_Line] = []
    seen: dict[str, int] = {}
    lines = normalize_lines(text)
    promo_cuts = _promo_cuts(lines, rules)
    previous_reason: Optional[str] = None
    first_prose: Optional[int] = None  # index in `kept` of the first line of prose

    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        for segment, reason in _segments(line, promo_cuts.get(number - 1), rules):
            if reason is None:
                reason = _removal_reason(segment, rules)
                # The first line of an article is its title, and a video's
                # title may open like a link stub ("Watch: ..."); a stub
                # with nothing after its label is chrome wherever it stands.
                if reason == "chrome_prefix" and not kept and not _removed_words_before(removed) and _stub_has_title(segment, rules):
                    reason = None
            if reason is not None:
                removed.append(RemovedLine(number, segment, reason))
                previous_reason = reason
                continue
            after_link_stub = previous_reason == "chrome_prefix"
            previous_reason = None
            caption_text = _caption_text(segment, rules)
            if caption_text is not None:
                parts = [_Line(number, caption_text, "caption")]
            else:
                parts = _split_glued_dateline(_Line(number, segment, after_link_stub=after_link_stub), rules, language)
            for part in parts:
                key = fold(part.text)
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

    kept = _drop_related_links(kept, removed, rules)
    blocks, dateline_date = _structure(kept, removed, rules, language)
    removed.sort(key=lambda r: r.line)
    return blocks, removed, dateline_date


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


def _opening_of_final_paren(line: str) -> Optional[int]:
    """Where the "(" that the line's final ")" closes stands, if any."""
    found = _CLOSING_PAREN_AT_END.search(line)
    if not found:
        return None
    depth = 0
    for i in range(found.start(), -1, -1):
        if line[i] == ")":
            depth += 1
        elif line[i] == "(":
            depth -= 1
            if depth == 0:
                return i
    return None


def _unclosed_open(line: str) -> Optional[int]:
    """Where the last "(" that no ")" after it closes stands, if any."""
    depth = 0
    for i in range(len(line) - 1, -1, -1):
        if line[i] == ")":
            depth += 1
        elif line[i] == "(":
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
    for c in line[: found.start()]:
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
    return depth == 0


def _promo_cuts(lines: list[str], rules: CleaningRules) -> dict[int, int]:
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
    first = next((k for k, line in enumerate(lines) if line), -1)
    removed_by_rule = {k for k, line in enumerate(lines) if line and k != first and _removal_reason(line, rules) is not None}
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
            if fold(text) in seen:
                found.add(k)
            seen.add(fold(text))
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
    if not rules.inline_labels:
        return [(line, None)]
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
    text = line.text
    words = _words(text)
    return (
        line.kind == "body"
        and rules.related_link_min_words <= words <= rules.related_link_max_words
        and len(text) <= rules.title_max_chars
        and not _LIST_MARKER.match(text)
        and not _NOT_HEADLINE_END.search(text)
        and not _INNER_SENTENCE_END.search(text)
        and _quotes_balanced(text)
    )


def _drop_related_links(kept: list[_Line], removed: list[RemovedLine], rules: CleaningRules) -> list[_Line]:
    """Links to other stories printed inside an article: two or more
    headline-shaped lines in a row between paragraphs (a sub-heading is
    followed by its paragraph, not by another heading), or one right after a
    "Read also:" stub. Lines above the first paragraph are the header."""
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
        elif j > i:
            out.extend(kept[i:j])
            i = j
        else:
            out.append(kept[i])
            i += 1
    return out


def _is_short_line_or_title(text: str, rules: CleaningRules) -> bool:
    """A title that ends in "?" or "!" is prose by its punctuation, not by its length."""
    return _words(text) <= rules.heading_max_words and len(text) <= rules.heading_max_chars


def _split_glued_dateline(line: _Line, rules: CleaningRules, language: Optional[str]) -> list[_Line]:
    """"31 Desemba 2021Katika ..." is a dateline glued to the first sentence
    by a lost line break: a date followed by a letter with no space is never
    prose, wherever it stands, so it is split before anything else looks."""
    if rules.leading_date is None:
        return [line]
    found = rules.leading_date(line.text, language)
    if found is None:
        return [line]
    end, date = found
    rest = line.text[end:]
    if not rest[:1].isalpha():
        return [line]
    return [_Line(line.number, line.text[:end].strip(), "dateline", (end, date)), _Line(line.number, rest.strip())]


def _removal_reason(line: str, rules: CleaningRules) -> Optional[str]:
    if not _has_letters_or_digits(line):
        return "punctuation_only"
    for pattern, reason in rules.patterns:
        if pattern.match(line):
            return reason
    folded_line = fold(line)
    if rules.is_phrase_sequence(folded_line):
        return "chrome_phrase"
    kind = rules.metadata_kind(line)
    if kind:
        return kind
    if _words(folded_line) <= rules.prefix_line_max_words and rules.starts_with(line, rules.prefixes):
        return "chrome_prefix"
    if rules.starts_with(line, rules.credit_prefixes):
        return "image_credit"
    if _words(folded_line) <= rules.prefix_line_max_words and rules.ends_with(line, rules.suffixes):
        return "chrome_suffix"
    if rules.is_promo(line, enclosed=False):
        return "promo"
    return None


def _caption_text(line: str, rules: CleaningRules) -> Optional[str]:
    """The caption of "Image caption, X": X verbatim, its label dropped."""
    prefix = rules.starts_with(line, rules.caption_prefixes)
    if prefix is None:
        return None
    rest = (_after_folded_prefix(line, prefix) or "").lstrip(" :：-–—|,،").strip()
    return rest if _has_letters_or_digits(rest) else None


def _is_prose(text: str, rules: CleaningRules) -> bool:
    return bool(_SENTENCE_END.search(text)) or len(text) > rules.title_max_chars


def _is_short_line(text: str, rules: CleaningRules) -> bool:
    return _words(text) <= rules.heading_max_words and len(text) <= rules.heading_max_chars and not _SENTENCE_END.search(text)


def _leading_date(line: _Line, rules: CleaningRules, language: Optional[str]) -> Optional[tuple[int, dt.date]]:
    if rules.leading_date is None:
        return None
    found = rules.leading_date(line.text, language)
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


def _structure(
    kept: list[_Line], removed: list[RemovedLine], rules: CleaningRules, language: Optional[str]
) -> tuple[list[Block], Optional[dt.date]]:
    """Assign block types by position and shape."""
    blocks: list[Block] = []
    dateline_date: Optional[dt.date] = None

    # The header: lines above the first line of prose or the first dateline.
    header_end = 0
    while header_end < len(kept):
        line = kept[header_end]
        if line.kind != "body" or _is_prose(line.text, rules) or _leading_date(line, rules, language):
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
        found = _leading_date(line, rules, language) if i < 2 and dateline_date is None else None
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
