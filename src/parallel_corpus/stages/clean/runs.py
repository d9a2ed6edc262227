"""Rules about runs of lines: a promo parenthesis broken over lines or glued
to the end of the last sentence, linked headlines (in a row, after a link
stub, or alone between paragraphs and sharing few words with what follows),
and other stories' leads appended after the article."""

from __future__ import annotations

import re
from typing import Optional

from parallel_corpus.stages.clean import pieces
from parallel_corpus.stages.clean.cleaned import RemovedLine
from parallel_corpus.stages.clean.facts import _Line, _LineFacts
from parallel_corpus.stages.clean.rules import CleaningRules, _is_prose, _is_short_line_or_title, _words

# -- lines that glue chrome to prose -------------------------------------------

# ")" closing a line, perhaps after the sentence's full stop: "... कर सकते हैं.)".
_CLOSING_PAREN_AT_END = re.compile(r"\)[\s.।]*$")


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
            # A full headline (actors and what happened) may share more
            # words with the story than an article's own short subheading.
            limit = shapes.lone_headline_long_max_overlap if _words(kept[i].text) >= shapes.lone_headline_long_words else shapes.lone_headline_max_overlap
            if score <= limit:
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
