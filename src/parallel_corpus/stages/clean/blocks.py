"""Block typing: kept lines become title, subtitle, heading, dateline,
paragraph or caption blocks by their position and shape."""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from parallel_corpus.stages.clean.cleaned import Block, RemovedLine
from parallel_corpus.stages.clean.facts import _Line, _LineFacts
from parallel_corpus.stages.clean.rules import CleaningRules, _is_prose, _is_short_line, _words


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
