"""Cleaning: decoded raw text in, typed blocks and an audit of removed lines out.

`lines` holds the rules about lines and runs of lines and the block typing;
`pieces` the rules about the pieces a line is cut into (sentences glued
together, parentheses, labels); `boilerplate` the corpus-level count of
segments that recur across documents; `rules` reads all their data from
`corpus/cleaning.yaml`. Every removal carries a reason code of
`parallel_corpus.records.REMOVAL_REASONS`.
"""

from .lines import (
    BLOCK_SEPARATOR,
    BLOCK_TYPES,
    Block,
    Cleaned,
    CleaningRules,
    EmptyDocument,
    LineDecision,
    RemovedLine,
    clean,
    explain,
    fold,
    normalize_lines,
)

__all__ = [
    "BLOCK_SEPARATOR",
    "BLOCK_TYPES",
    "Block",
    "Cleaned",
    "CleaningRules",
    "EmptyDocument",
    "LineDecision",
    "RemovedLine",
    "clean",
    "explain",
    "fold",
    "normalize_lines",
]
