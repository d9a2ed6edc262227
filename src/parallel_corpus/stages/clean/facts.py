"""The lines of one document as the cleaner sees them, and the answers to
its per-line questions, worked out once per line and document."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Optional

from parallel_corpus.stages.clean import pieces
from parallel_corpus.stages.clean.boilerplate import Boilerplate
from parallel_corpus.stages.clean.rules import (
    CleaningRules,
    _caption_text,
    _fold_nfc,
    _removal_reason,
    _segments,
    _tables,
    fold,
)


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
