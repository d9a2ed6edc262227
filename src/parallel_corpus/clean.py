"""Cleaning: decoded raw text in, typed blocks and an audit of removed lines out.

A line is kept verbatim (Unicode NFC and trimming only) or removed with a
reason code; nothing in between. Rules are shapes of lines (punctuation only,
a stub of "published/updated" labels, a repeated line, a short line above the
title) plus the per-language phrase lists of `corpus/cleaning.yaml`, so they
carry over to sites nobody listed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
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
_ARABIC_MARKS = re.compile("[\u0640\u064b-\u065f\u0670\u06d6-\u06ed]")
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


class EmptyDocument(ValueError):
    """Nothing is left of a document once its chrome is removed."""


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
        return cls(
            phrases=phrases,
            max_phrase_len=max((len(p) for p in phrases), default=0),
            # Longest first, so "last updated" wins over "updated".
            prefixes=tuple(sorted({p for p in per_language("chrome_prefixes") if p}, key=len, reverse=True)),
            metadata_labels=tuple(sorted({p for p in per_language("metadata_labels") if p}, key=len, reverse=True)),
            caption_prefixes=tuple(sorted({fold(p) for v in (captions.get("caption") or {}).values() for p in v}, key=len, reverse=True)),
            credit_prefixes=tuple(sorted({fold(p) for v in (captions.get("credit") or {}).values() for p in v}, key=len, reverse=True)),
            patterns=tuple((re.compile(p["regex"]), p["reason"]) for p in data.get("patterns") or []),
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
    removed: list[RemovedLine] = []
    kept: list[_Line] = []
    seen: dict[str, int] = {}

    for number, line in enumerate(normalize_lines(text), start=1):
        if not line:
            continue
        reason = _removal_reason(line, rules)
        if reason is not None:
            removed.append(RemovedLine(number, line, reason))
            continue
        caption_text = _caption_text(line, rules)
        if caption_text is not None:
            parts = [_Line(number, caption_text, "caption")]
        else:
            parts = _split_glued_dateline(_Line(number, line), rules, language)
        for part in parts:
            key = fold(part.text)
            if key in seen:
                first = kept[seen[key]]
                # A short line printed twice in a row is a photo caption
                # (the page shows it under the photo and again in the alt text).
                if seen[key] == len(kept) - 1 and _words(part.text) <= rules.heading_max_words and first.kind == "body":
                    first.kind = "caption"
                removed.append(RemovedLine(number, part.text, "repeated_line"))
                continue
            kept.append(part)
            seen[key] = len(kept) - 1

    blocks, dateline_date = _structure(kept, removed, rules, language)
    if not blocks:
        raise EmptyDocument("nothing is left after cleaning")
    removed.sort(key=lambda r: r.line)
    return Cleaned(blocks, removed, dateline_date)


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
