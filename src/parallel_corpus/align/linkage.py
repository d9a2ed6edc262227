"""Average linkage over a sparse similarity graph, in array rounds.

Clusters merge while the mean similarity over all their pairs of members
(a missing link counts 0) reaches a threshold. Average linkage resists the
chaining that joins two stories through one shared number, which single
linkage (connected components) does not.

The merges are made a round at a time, all at once: in each round every
cluster finds its nearest partner, and every two clusters that are each
other's nearest merge. Average linkage is *reducible* (the mean similarity
of A u B to C is at most the larger of A's and B's), so a pair of mutual
nearest clusters stays so whatever else merges, and merging them all in one
round gives the same clusters as merging the single best pair at a time.
Reducibility also says that a cluster whose best link falls below the
threshold can never merge again: it leaves the graph with its links, and
the rounds work on fewer links each time. Every round is a few NumPy passes
over the links that are left, with no Python object per document.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["average_link", "mean_links", "unique_links"]


def unique_links(n: int, i: np.ndarray, j: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each undirected link once, as (low, high, similarity) sorted by
    (low, high): a link may be listed from both of its ends (with the same
    similarity, which is symmetric to the last bit). Ends are 32-bit below
    2**31 nodes."""
    codes = np.minimum(i, j).astype(np.int64) * n + np.maximum(i, j)
    codes, first = np.unique(codes, return_index=True)
    ends = np.int32 if n < 2**31 else np.int64
    return (codes // n).astype(ends), (codes % n).astype(ends), s[first]


def average_link(
    n: int,
    lo: np.ndarray,
    hi: np.ndarray,
    total: np.ndarray,
    threshold: float,
    sizes: np.ndarray | None = None,
) -> list[list[int]]:
    """Average-linkage clusters of nodes 0..n-1, each a sorted list, ordered
    by first member.

    `lo[k] < hi[k]` are the ends of link k, each pair once; `total[k]` the
    sum of the similarities of the documents behind the two nodes. A node
    may stand for several documents already grouped (an event, when events
    are grouped into topics): `sizes` gives how many (1 each by default),
    and a mean is a total over the product of the sizes.

    Ties go to the smaller id, and the sums are made in the same order on
    every run, so the same graph gives the same clusters on every machine.
    """
    size = np.ones(n) if sizes is None else np.asarray(sizes, dtype=np.float64).copy()
    # A cluster is named by its smallest member; `parent` records the merges.
    parent = np.arange(n, dtype=np.int64)
    total = np.asarray(total, dtype=np.float64)
    while len(lo):
        mean = total / (size[lo] * size[hi])
        # Each cluster's best mean over its links, from either end, then the
        # smallest partner that reaches it.
        best = np.full(n, -np.inf)
        np.maximum.at(best, lo, mean)
        np.maximum.at(best, hi, mean)
        nearest = np.full(n, n, dtype=np.int64)
        tied = mean == best[lo]
        np.minimum.at(nearest, lo[tied], hi[tied])
        tied = mean == best[hi]
        np.minimum.at(nearest, hi[tied], lo[tied])
        del tied
        able = np.flatnonzero(best >= threshold)
        mutual = able[(nearest[nearest[able]] == able) & (able < nearest[able])]
        if not len(mutual):
            break
        partner = nearest[mutual]
        size[mutual] += size[partner]
        parent[partner] = mutual
        rename = np.arange(n, dtype=lo.dtype)
        rename[partner] = mutual
        # A cluster with no link at the threshold is final (reducibility): its
        # links go. The merged ones had one, so they stay.
        alive = best >= threshold
        keep = alive[lo] & alive[hi]
        a, b = rename[lo[keep]], rename[hi[keep]]
        inner = a != b
        a, b, t = np.minimum(a, b)[inner], np.maximum(a, b)[inner], total[keep][inner]
        codes, inverse = np.unique(a.astype(np.int64) * n + b, return_inverse=True)
        del a, b
        # bincount adds in the order of the links, the same on every run.
        total = np.bincount(inverse.ravel(), weights=t, minlength=len(codes))
        lo, hi = (codes // n).astype(lo.dtype), (codes % n).astype(lo.dtype)
    # Follow each node to its cluster's name (a merge names the smaller id).
    root = parent
    while True:
        up = root[root]
        if np.array_equal(up, root):
            break
        root = up
    order = np.argsort(root, kind="stable")
    starts = np.flatnonzero(np.r_[True, root[order][1:] != root[order][:-1]])
    return [group.tolist() for group in np.split(order, starts[1:])] if n else []


def mean_links(n: int, groups: Sequence[Sequence[int]], lo: np.ndarray, hi: np.ndarray, sims: np.ndarray) -> list[list[float]]:
    """Each member's mean similarity to the other members of its group
    (a missing link counts 0), rounded to 4 places, group by group; links
    as `unique_links` gives them."""
    group_of = np.empty(n, dtype=np.int64)
    for g, group in enumerate(groups):
        group_of[np.asarray(group, dtype=np.int64)] = g
    inside = group_of[lo] == group_of[hi]
    totals = np.zeros(n)
    np.add.at(totals, lo[inside], sims[inside])
    np.add.at(totals, hi[inside], sims[inside])
    return [[round(totals[k] / (len(group) - 1), 4) if len(group) > 1 else 0.0 for k in group] for group in groups]
