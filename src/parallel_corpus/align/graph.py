"""The candidate graph: each document's most similar others, from sparse
matrix products over the weighted keys, never from all pairs.

The documents' unit vectors are the rows of a sparse matrix; the product of
a block of rows with the transposed matrix gives, in one call to SciPy's
compiled code, the cosine of every pair of documents that share a key (a
pair that shares none is never touched). Within one language the vectors
hold every weighted key; across languages only the keys that cross scripts,
and a link counts only from `across_min_shared` of them (see
`cluster._WeightedKeys`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from .cluster import ClusterParams, _WeightedKeys

__all__ = ["Edges", "candidate_graph", "within_days"]

# Documents whose candidates come from one product. Larger blocks pay the
# per-call cost less often; the products' memory grows with them (about
# 12 bytes per candidate, a thousand candidates a document at 100k).
_BLOCK = 512


@dataclass
class Edges:
    """The candidate graph as three arrays, document by document, each
    document's links best first: (i, j, s) stands for a link of similarity s
    between documents i and j. Arrays cost a few bytes a link where a dict
    of dicts costs a hundred."""

    i: np.ndarray
    j: np.ndarray
    s: np.ndarray


@dataclass
class _Language:
    """The products' right-hand sides for the documents of one language:
    its own documents' unit vectors (all keys), keys by documents; and the
    other languages' documents' vectors over the keys that cross scripts,
    with a twin of the same structure holding 1 a key, to count them."""

    mine: np.ndarray
    own_t: sparse.csr_matrix
    others: np.ndarray
    others_t: sparse.csr_matrix
    others_ones_t: sparse.csr_matrix


def candidate_graph(docs: Sequence[int], weighted: "_WeightedKeys", params: "ClusterParams") -> Edges:
    """Each document's `neighbours` best links to documents it shares a
    weighted key with (ties to the lower index); local indexes into `docs`.

    A link's similarity is an exact sum (the unit values are on a grid, see
    `cluster._WeightedKeys`), so both ends agree to the last bit on any
    processor, and the graph does not depend on how documents fall into
    blocks.
    """
    global_of = np.asarray(docs, dtype=np.int64)
    n = len(global_of)
    k = params.neighbours
    unit, across = weighted.matrices()
    if n != unit.shape[0] or not np.array_equal(global_of, np.arange(n)):
        unit, across = unit[global_of], across[global_of]
    ones = _ones(across)
    language = weighted.language[global_of]
    languages = []
    for code in np.unique(language).tolist():
        mine = np.flatnonzero(language == code)
        others = np.flatnonzero(language != code)
        others_t = across[others].T.tocsr()
        languages.append(_Language(mine, unit[mine].T.tocsr(), others, others_t, _ones(others_t)))
    # At most `neighbours` links a document: the arrays are made once, at
    # their largest, and filled in order.
    links_i = np.empty(n * k, dtype=np.int32)
    links_j = np.empty(n * k, dtype=np.int32)
    links_s = np.empty(n * k)
    made = 0
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        pieces = [_language_links(lang, unit, across, ones, lo, hi, params) for lang in languages]
        first = np.concatenate([p[0] for p in pieces])
        second = np.concatenate([p[1] for p in pieces])
        sims = np.concatenate([p[2] for p in pieces])
        # Each document's links, best first (ties: the lower index first),
        # and only its `neighbours` best.
        order = np.lexsort((second, -sims, first))
        first, second, sims = first[order], second[order], sims[order]
        rank = np.arange(len(first)) - np.searchsorted(first, first, side="left")
        best = rank < k
        kept = int(best.sum())
        links_i[made : made + kept] = first[best]
        links_j[made : made + kept] = second[best]
        links_s[made : made + kept] = sims[best]
        made += kept
    return Edges(links_i[:made], links_j[:made], links_s[:made])


def _ones(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """The same sparse structure (its arrays shared, not copied) with every
    value 1: its products count shared keys. float32 counts exactly to 16
    million, in half the memory."""
    return sparse.csr_matrix((np.ones(matrix.nnz, dtype=np.float32), matrix.indices, matrix.indptr), shape=matrix.shape, copy=False)


def _language_links(
    lang: _Language, unit: sparse.csr_matrix, across: sparse.csr_matrix, ones: sparse.csr_matrix, lo: int, hi: int, params: "ClusterParams"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The links of this language's documents among lo..hi-1 that can be
    among each one's `neighbours` best: (document, other, similarity)."""
    p0, p1 = np.searchsorted(lang.mine, [lo, hi])
    rows = lang.mine[p0:p1]
    if not len(rows):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    same = unit[rows] @ lang.own_t
    values = [same.data]
    columns = [lang.mine[same.indices]]
    lengths = [np.diff(same.indptr)]
    if len(lang.others):
        dots = across[rows] @ lang.others_t
        shared = ones[rows] @ lang.others_ones_t
        # The two products have one structure, so SciPy lists their entries
        # in one order; sort both where a SciPy version would not.
        if not np.array_equal(dots.indptr, shared.indptr) or not np.array_equal(dots.indices, shared.indices):
            dots.sort_indices()
            shared.sort_indices()
        # A link across languages counts from `across_min_shared` shared keys.
        values.append(np.where(shared.data >= params.across_min_shared, dots.data, -1.0))
        columns.append(lang.others[dots.indices])
        lengths.append(np.diff(dots.indptr))
    return _contenders(rows, values, columns, lengths, params.neighbours, params.threshold)


def _contenders(
    rows: np.ndarray, values: list[np.ndarray], columns: list[np.ndarray], lengths: list[np.ndarray], k: int, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The links of `rows` (in pieces, each listing its links row by row)
    that can be among each row's `k` best: those at least as similar as its
    k-th best, ties included, as (row, other, similarity).

    A document shares some key with a thousand others and keeps 15. A row
    with `k` links at `floor` or above needs no link below it; the rest of
    its links are dropped in one comparison. One selection per row of a
    padded matrix then finds each k-th best among the links that are left,
    and only the few that reach it go on to be sorted. Whatever `floor`,
    the same links come out; it only saves work."""
    owner = np.concatenate([np.repeat(np.arange(len(rows)), length) for length in lengths])
    other = np.concatenate(columns)
    sims = np.minimum(1.0, np.concatenate(values))
    # A document is not its own neighbour; a link that fails the count across
    # languages is -1 too: neither is ever kept.
    sims[rows[owner] == other] = -1.0
    strong = sims >= floor
    enough = np.bincount(owner[strong], minlength=len(rows)) >= k
    left = np.flatnonzero(strong | ~enough[owner])
    owner, other, sims = owner[left], other[left], sims[left]
    # Each link's place in its row among those left: pieces list their rows
    # in order, so a stable sort by row keeps each row's links together.
    order = np.argsort(owner, kind="stable")
    owner, other, sims = owner[order], other[order], sims[order]
    width = np.bincount(owner, minlength=len(rows))
    longest = int(width.max()) if len(width) else 0
    if longest > k and len(rows) * longest <= 8 * len(sims):
        place = np.arange(len(owner)) - (np.cumsum(width) - width)[owner]
        padded = np.full((len(rows), longest), -1.0)
        padded[owner, place] = sims
        kth = np.partition(padded, longest - k, axis=1)[:, longest - k]
        keep = sims >= np.maximum(kth[owner], 0.0)
    else:
        keep = sims >= 0.0
    return rows[owner[keep]], other[keep], sims[keep]


def within_days(edges: Edges, published: np.ndarray, days: int) -> Edges:
    """The links of documents that may report one event: published at most
    `days` apart, or either of unknown date (0)."""
    a, b = published[edges.i], published[edges.j]
    keep = (a == 0) | (b == 0) | (np.abs(a - b) <= days)
    return Edges(edges.i[keep], edges.j[keep], edges.s[keep])
