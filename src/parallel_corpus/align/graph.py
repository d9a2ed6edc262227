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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Sequence

import numpy as np
from scipy import sparse

from parallel_corpus.align.linkage import unique_links

if TYPE_CHECKING:
    from parallel_corpus.align.cluster import ClusterParams, _WeightedKeys

__all__ = ["Links", "candidate_graph", "within_days"]

# Documents whose candidates come from one product. Larger blocks pay the
# per-call cost less often; the products' memory grows with them (about
# 12 bytes per candidate, a thousand candidates a document at 100k).
_BLOCK = 512


@dataclass
class Links:
    """The candidate graph as three arrays, each link once: `lo[k] < hi[k]`
    are its documents and `s[k]` their similarity, sorted by (lo, hi).
    Arrays cost a few bytes a link where a dict of dicts costs a hundred."""

    lo: np.ndarray
    hi: np.ndarray
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


def candidate_graph(docs: Sequence[int], weighted: "_WeightedKeys", params: "ClusterParams", threads: int = 1) -> Links:
    """Each document's `neighbours` best links to documents it shares a
    weighted key with (ties to the lower index), each link once (a link may
    be among the best of both its documents); local indexes into `docs`.

    A link's similarity is an exact sum (the unit values are on a grid, see
    `cluster._WeightedKeys`), so both ends agree to the last bit on any
    processor, and the graph does not depend on how documents fall into
    blocks, nor on how many `threads` work on the blocks.
    """
    # The products' matrices are gone by the time the links are made unique.
    first, second, sims = _best_links(np.asarray(docs, dtype=np.int64), weighted, params, threads)
    lo, hi, sims = unique_links(len(docs), first, second, sims)
    return Links(lo, hi, sims)


def _best_links(global_of: np.ndarray, weighted: "_WeightedKeys", params: "ClusterParams", threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each document's `neighbours` best links as (document, other,
    similarity), language by language, each document's best first.

    A language's blocks of documents are worked on by `threads` threads and
    their links taken in block order: SciPy's products and NumPy's sorts
    let go of the interpreter, so two threads took the 99,000 documents'
    links from 3.5 s to about 2 s on two cores, with the same arrays."""
    n = len(global_of)
    k = params.neighbours
    unit, across = weighted.matrices()
    if n != unit.shape[0] or not np.array_equal(global_of, np.arange(n)):
        unit, across = unit[global_of], across[global_of]
    ones = _ones(across)
    language = weighted.language[global_of]
    # At most `neighbours` links a document: the arrays are made once, at
    # their largest, and filled in order.
    links_i = np.empty(n * k, dtype=np.int32)
    links_j = np.empty(n * k, dtype=np.int32)
    links_s = np.empty(n * k)
    made = 0
    pool = ThreadPoolExecutor(threads) if threads > 1 else None
    try:
        # A document's links all come from its own language's pass, so one
        # language's right-hand sides are held at a time.
        for code in np.unique(language).tolist():
            mine = np.flatnonzero(language == code)
            others = np.flatnonzero(language != code)
            others_t = across[others].T.tocsr()
            lang = _Language(mine, unit[mine].T.tocsr(), others, others_t, _ones(others_t))
            del others_t
            block = partial(_block_links, lang, unit, across, ones, params, k)
            starts = range(0, len(mine), _BLOCK)
            for first, second, sims in pool.map(block, starts) if pool is not None else map(block, starts):
                links_i[made : made + len(first)] = first
                links_j[made : made + len(first)] = second
                links_s[made : made + len(first)] = sims
                made += len(first)
            # Freed before the next language's are made, not when they replace them.
            del lang, block
    finally:
        if pool is not None:
            pool.shutdown()
    return links_i[:made], links_j[:made], links_s[:made]


def _block_links(lang: _Language, unit: sparse.csr_matrix, across: sparse.csr_matrix, ones: sparse.csr_matrix, params: "ClusterParams", k: int,
                 p0: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The `k` best links of each of this language's documents p0..p0 +
    _BLOCK - 1, each document's best first (ties: the lower index first)."""
    first, second, sims = _language_links(lang, unit, across, ones, p0, p0 + _BLOCK, params)
    order = np.lexsort((second, -sims, first))
    first, second, sims = first[order], second[order], sims[order]
    rank = np.arange(len(first)) - np.searchsorted(first, first, side="left")
    best = rank < k
    return first[best], second[best], sims[best]


def _ones(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """The same sparse structure (its arrays shared, not copied) with every
    value 1: its products count shared keys. float32 counts exactly to 16
    million, in half the memory."""
    return sparse.csr_matrix((np.ones(matrix.nnz, dtype=np.float32), matrix.indices, matrix.indptr), shape=matrix.shape, copy=False)


def _language_links(
    lang: _Language, unit: sparse.csr_matrix, across: sparse.csr_matrix, ones: sparse.csr_matrix, p0: int, p1: int, params: "ClusterParams"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The links of this language's documents p0..p1-1 that can be among
    each one's `neighbours` best: (document, other, similarity)."""
    rows = lang.mine[p0:p1]
    if not len(rows):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    same = unit[rows] @ lang.own_t
    pieces = [(same.data, same.indices, np.diff(same.indptr), lang.mine)]
    if len(lang.others):
        dots = across[rows] @ lang.others_t
        shared = ones[rows] @ lang.others_ones_t
        # The two products have one structure, so SciPy lists their entries
        # in one order; sort both where a SciPy version would not.
        if not np.array_equal(dots.indptr, shared.indptr) or not np.array_equal(dots.indices, shared.indices):
            dots.sort_indices()
            shared.sort_indices()
        # A link across languages counts from `across_min_shared` shared keys.
        dots.data[shared.data < params.across_min_shared] = -1.0
        pieces.append((dots.data, dots.indices, np.diff(dots.indptr), lang.others))
    return _contenders(rows, pieces, params.neighbours, params.threshold)


def _contenders(
    rows: np.ndarray, pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], k: int, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The links of `rows` that can be among each row's `k` best: those at
    least as similar as its k-th best, ties included, as (row, other,
    similarity). Each piece lists links row by row: (similarities, columns,
    links per row, document of each column); a similarity of -1 is no link.

    A document shares some key with hundreds of others and keeps 15, so
    sorting them all would cost most of the alignment. The k-th best of any
    of a row's links is at most the k-th best of all of them: the first
    `4 k` links of each row in the first piece, in a small matrix, give
    each row such a bound by one selection, and so does `floor` for a row
    with `k` links at or above it. The links that reach their row's bound
    are few: a padded matrix of them gives each row's k-th best exactly, and
    only the links that reach it go on to be sorted. Whatever the bounds,
    the same links come out."""
    # A row's own document is among its links (the first piece holds it,
    # as similar as can be): the bounds are those of the k + 1 best, and
    # it is dropped from the few links left.
    k1 = k + 1
    owner = np.concatenate([np.repeat(np.arange(len(rows), dtype=np.int32), length) for _, _, length, _ in pieces])
    sims = np.concatenate([values for values, _, _, _ in pieces])
    np.minimum(sims, 1.0, out=sims)
    bound = np.zeros(len(rows))
    bound[np.bincount(owner[sims >= floor], minlength=len(rows)) >= k1] = floor
    # The first piece lists each row's links together, from the row's start:
    # its first `4 k` (fewer where the row has fewer) make a small matrix.
    sample = 4 * k1
    length = pieces[0][2]
    column = np.arange(sample)
    at = (np.cumsum(length) - length)[:, None] + column
    first = np.where(column < length[:, None], sims[np.minimum(at, max(len(sims) - 1, 0))] if len(sims) else -1.0, -1.0)
    bound = np.maximum(bound, np.partition(first, sample - k1, axis=1)[:, sample - k1])
    keep = np.flatnonzero(sims >= bound[owner])
    owner, sims = owner[keep], sims[keep]
    # The document behind each link left, looked up in its own piece.
    other = np.empty(len(keep), dtype=np.int64)
    start = 0
    for _, columns, length, document in pieces:
        end = start + len(columns)
        lo, hi = np.searchsorted(keep, [start, end])
        other[lo:hi] = document[columns[keep[lo:hi] - start]]
        start = end
    # The few links left, row by row (a stable sort keeps each piece's
    # order), in a padded matrix: one selection finds each row's k-th best.
    order = np.argsort(owner, kind="stable")
    owner, other, sims = owner[order], other[order], sims[order]
    width = np.bincount(owner, minlength=len(rows))
    longest = int(width.max()) if len(width) else 0
    # (A row far longer than the others, as when every link ties, would
    # make the matrix outgrow the links: those are all sorted instead.)
    if longest > k1 and len(rows) * longest <= 8 * len(sims):
        place = np.arange(len(owner)) - (np.cumsum(width) - width)[owner]
        padded = np.full((len(rows), longest), -1.0)
        padded[owner, place] = sims
        keep = np.flatnonzero(sims >= np.partition(padded, longest - k1, axis=1)[owner, longest - k1])
        owner, other, sims = owner[keep], other[keep], sims[keep]
    first = rows[owner]
    others = first != other
    return first[others], other[others], sims[others]


def within_days(links: Links, published: np.ndarray, days: int) -> Links:
    """The links of documents that may report one event: published at most
    `days` apart, or either of unknown date (0)."""
    a, b = published[links.lo], published[links.hi]
    keep = (a == 0) | (b == 0) | (np.abs(a - b) <= days)
    return Links(links.lo[keep], links.hi[keep], links.s[keep])
