"""Average linkage in array rounds (`align.linkage`) against the textbook
greedy algorithm: merge the single most similar pair of clusters, again and
again, while their mean similarity reaches the threshold."""

from __future__ import annotations

import random

import numpy as np
import pytest

from parallel_corpus.align.linkage import average_link, mean_links, unique_links


def _greedy(n: int, links: dict[tuple[int, int], float], threshold: float, sizes: list[int]) -> list[list[int]]:
    """The textbook algorithm on a dense matrix of totals (missing links 0)."""
    clusters = {i: [i] for i in range(n)}
    size = {i: sizes[i] for i in range(n)}
    total = np.zeros((n, n))
    for (a, b), s in links.items():
        total[a, b] = total[b, a] = s
    while len(clusters) > 1:
        best, pair = -1.0, None
        for a in clusters:
            for b in clusters:
                if a < b:
                    mean = total[a, b] / (size[a] * size[b])
                    if mean > best:
                        best, pair = mean, (a, b)
        if pair is None or best < threshold:
            break
        a, b = pair
        clusters[a] = sorted(clusters[a] + clusters.pop(b))
        size[a] += size.pop(b)
        total[a, :] += total[b, :]
        total[:, a] += total[:, b]
        total[b, :] = total[:, b] = 0.0
    return sorted(clusters.values())


@pytest.mark.parametrize("seed", range(12))
def test_rounds_of_mutual_nearest_merges_give_the_greedy_clusters(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randrange(2, 40)
    sizes = [rng.randrange(1, 4) for _ in range(n)] if seed % 2 else [1] * n
    links: dict[tuple[int, int], float] = {}
    for _ in range(rng.randrange(1, 4 * n)):
        a, b = rng.sample(range(n), 2)
        # Totals of sizes[a] * sizes[b] document pairs, each in [0, 1].
        links[(min(a, b), max(a, b))] = rng.random() * sizes[a] * sizes[b]
    threshold = rng.choice([0.1, 0.3, 0.5])
    pairs = sorted(links)
    lo = np.array([a for a, _ in pairs], dtype=np.int64)
    hi = np.array([b for _, b in pairs], dtype=np.int64)
    total = np.array([links[p] for p in pairs])
    got = average_link(n, lo, hi, total, threshold, np.array(sizes))
    assert got == _greedy(n, links, threshold, sizes)
    assert sorted(x for group in got for x in group) == list(range(n))


def test_a_chain_of_weak_links_does_not_join_two_stories() -> None:
    """0-1 and 2-3 are two stories; 1-2 share one number. Single linkage
    would make one cluster; average linkage keeps them apart."""
    lo, hi, sims = unique_links(4, np.array([0, 1, 2, 1]), np.array([1, 2, 3, 0]), np.array([0.9, 0.2, 0.9, 0.9]))
    assert (lo.tolist(), hi.tolist()) == ([0, 1, 2], [1, 2, 3])
    groups = average_link(4, lo, hi, sims, 0.15)
    assert groups == [[0, 1], [2, 3]]
    assert mean_links(4, groups, lo, hi, sims) == [[0.9, 0.9], [0.9, 0.9]]


def test_no_links_leave_every_node_alone() -> None:
    empty = np.zeros(0, dtype=np.int64)
    assert average_link(3, empty, empty, np.zeros(0), 0.1) == [[0], [1], [2]]
    assert average_link(0, empty, empty, np.zeros(0), 0.1) == []
