"""Cleaning: decoded raw text in, typed blocks and an audit of removed lines out.

A line is kept verbatim (Unicode NFC and trimming only) or removed with a
reason code; a line that glues chrome to prose (a promo opening after the last
sentence, a "read also:" label between two sentences, a pointer or another
story's headline glued between sentences) is cut at that boundary and each
part is kept or removed whole. Rules are shapes of lines (`rules`), of the
pieces of a line (`pieces`) and of runs of lines (`runs`), plus the
per-language lists of `corpus/cleaning.yaml` and the corpus's recurring
segments (`boilerplate`), so they carry over to sites nobody listed. Cleaning
runs to a fixed point, and `explain` gives the decision, reason and score for
every line (a dry run).
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from parallel_corpus.stages.clean import pieces
from parallel_corpus.stages.clean.blocks import _split_glued_dateline, _structure
from parallel_corpus.stages.clean.boilerplate import Boilerplate
from parallel_corpus.stages.clean.cleaned import (
    BLOCK_SEPARATOR,
    Block,
    Cleaned,
    EmptyDocument,
    LineDecision,
    RemovedLine,
)
from parallel_corpus.stages.clean.facts import _Line, _LineFacts, normalize_lines
from parallel_corpus.stages.clean.pieces import ShapeRules
from parallel_corpus.stages.clean.rules import (
    CleaningRules,
    _after_folded_prefix,
    _fold_nfc,
    _is_prose,
    _words,
    fold,
)
from parallel_corpus.stages.clean.runs import _drop_related_links, _drop_trailing_leads, _promo_cuts

# Passes of the cleaner over its own output beyond one per block: a pass that
# changes anything removes or splits a line, so the loop ends long before.
_MAX_PASSES = 4


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
            # The first line of an article is its title, and a video's title
            # may open like a link stub ("Watch: ..."); a stub with nothing
            # after its label is chrome wherever it stands.
            title = not kept and not _removed_words_before(removed)
            if reason is None:
                reason = facts.removal_reason(segment)
                if reason == "chrome_prefix" and title and _stub_has_title(segment, rules):
                    reason = None
            if reason is not None:
                removed.append(RemovedLine(number, segment, reason))
                previous_reason = "open_paren" if segment == "(" else reason
                continue
            # What the page glued into the line: judged piece by piece.
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
    from parallel_corpus.stages.clean.boilerplate import segments

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
