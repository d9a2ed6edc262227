"""Cleaning: decoded raw text in, typed blocks and an audit of removed lines out.

`rules` reads the data of `corpus/cleaning.yaml` (phrase lists, patterns,
thresholds) and tests one line against it; `pieces` judges the pieces a line
is cut into (sentences glued together, parentheses, labels); `runs` the runs
of lines (promos over lines, linked headlines, other stories' leads);
`boilerplate` counts the segments that recur across the corpus's documents;
`blocks` types the kept lines; `lines` runs them all over a document to a
fixed point; `cleaned` holds what comes out. Every removal carries a reason
code of `parallel_corpus.records.REMOVAL_REASONS`.
"""

from parallel_corpus.stages.clean.cleaned import (
    BLOCK_SEPARATOR,
    BLOCK_TYPES,
    Block,
    Cleaned,
    EmptyDocument,
    LineDecision,
    RemovedLine,
)
from parallel_corpus.stages.clean.facts import normalize_lines
from parallel_corpus.stages.clean.lines import clean, explain, segments_of
from parallel_corpus.stages.clean.rules import CleaningRules, fold

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
    "segments_of",
]
