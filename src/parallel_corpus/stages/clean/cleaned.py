"""What cleaning gives back: typed blocks, the audit of removed lines, and
the dry run's line decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

BLOCK_TYPES = ("title", "subtitle", "heading", "dateline", "paragraph", "caption")


BLOCK_SEPARATOR = "\n\n"


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


class EmptyDocument(ValueError):
    """Nothing is left of a document once its chrome is removed."""


@dataclass(frozen=True)
class LineDecision:
    """What the cleaner did with one line (or one part of a cut line)."""

    line: int  # 1-based line of the decoded raw text
    text: str
    kept: bool
    reason: Optional[str]  # the reason code when removed
    block_type: Optional[str]  # the block type when kept
    score: Optional[float] = None  # the removing rule's score, where it has one
