"""Corpus-level boilerplate: segments that recur verbatim across documents.

A line or a sentence that several documents of a corpus print word for word
is the site's furniture (a promo, a "most read" box, a newsletter call),
whatever its words and whatever its language: the method C4, RefinedWeb and
Dolma use at web scale. Before the per-document stages run, the build counts,
for every segment key (a 64-bit hash of the folded text of a line and of each
piece of a line), how many documents hold it; the cleaner then removes a
segment whose count reaches `shapes.boilerplate_min_documents`.

The count is over hashes, not texts, and a document counts a key once, so
the result does not depend on the order of the documents, on the worker
count or on the engine: workers may list each document's keys, the driver
sums them, and only the keys that recur are kept for the stages.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Iterable, Iterator, Optional

import numpy as np

# Keys are merged into the running count every this many keys, so memory
# holds the distinct keys seen so far (16 bytes each) plus one block.
_BLOCK_KEYS = 1 << 18


def segment_key(folded: str) -> int:
    """A stable 64-bit key of a folded segment (Python's `hash` changes
    with every process)."""
    return int.from_bytes(hashlib.blake2b(folded.encode("utf-8"), digest_size=8).digest(), "little")


def segments(lines: Iterable[str], split: Callable[[str], Iterable[str]]) -> Iterator[str]:
    """The lines of a text and the pieces of each line of several pieces."""
    for line in lines:
        if not line:
            continue
        yield line
        parts = list(split(line))
        if len(parts) > 1:
            yield from parts


class Boilerplate:
    """The number of documents that hold each recurring segment key."""

    def __init__(self, counts: Optional[dict[int, int]] = None):
        self.counts: dict[int, int] = counts or {}

    def documents(self, folded: str) -> int:
        """How many documents of the corpus hold this folded segment (0 for
        one that recurs in fewer than two)."""
        if not self.counts or not folded:
            return 0
        return self.counts.get(segment_key(folded), 0)


def document_keys(folded_segments: Iterable[str]) -> list[int]:
    """The distinct keys of one document's segments: a document counts a
    segment once, however often it prints it."""
    return sorted({segment_key(s) for s in folded_segments if s})


class Counter:
    """Counts segment keys per document, exactly, in bounded blocks."""

    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.uint64)
        self._counts = np.empty(0, dtype=np.int64)
        self._block: list[int] = []

    def add_document(self, folded_segments: Iterable[str]) -> None:
        self.add_keys(document_keys(folded_segments))

    def add_keys(self, keys: Iterable[int]) -> None:
        """Keys of documents counted elsewhere (`document_keys` of each, as a
        worker sends them): the sum does not depend on who counted what."""
        self._block.extend(keys)
        if len(self._block) >= _BLOCK_KEYS:
            self._merge()

    def _merge(self) -> None:
        if not self._block:
            return
        keys = np.concatenate([self._keys, np.array(self._block, dtype=np.uint64)])
        counts = np.concatenate([self._counts, np.ones(len(self._block), dtype=np.int64)])
        self._block = []
        order = np.argsort(keys, kind="stable")
        keys, counts = keys[order], counts[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        self._keys = keys[starts]
        self._counts = np.add.reduceat(counts, starts) if len(keys) else counts

    def result(self, min_documents: int = 2) -> Boilerplate:
        """The keys held by at least `min_documents` documents."""
        self._merge()
        keep = self._counts >= max(2, min_documents)
        return Boilerplate({int(k): int(c) for k, c in zip(self._keys[keep], self._counts[keep])})
