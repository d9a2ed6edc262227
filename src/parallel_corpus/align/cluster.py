"""Clustering the documents no catalog topic takes: weighted keys, the
candidate graph from an inverted index (never all pairs), and average
linkage over it."""

from __future__ import annotations

import hashlib
import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..config import CorpusError, check_curated, load_yaml
from .store import SignatureStore

__all__ = ["ClusterParams", "weighted_keys", "similarities"]


@dataclass(frozen=True)
class ClusterParams:
    """Knobs of the clustering, read from YAML: the package's
    `align/clustering.yaml` (where each is explained, and how it was
    chosen), then a corpus's own `alignment.yaml`, which may set any of them.

    `ClusterParams.default()` is the package's; `ClusterParams.load(corpus)`
    a corpus's; `dataclasses.replace(params, threshold=...)` tries another.
    """

    threshold: float
    topic_threshold: float
    event_days: int
    across_min_shared: int
    max_df_fraction: float
    max_df: int
    min_df_limit: int
    neighbours: int
    entity_weight: float
    date_weight: float
    number_weight: float
    name_weight: float
    single_script_name_weight: float
    term_weight: float

    @classmethod
    def default(cls) -> "ClusterParams":
        """The package's parameters (`align/clustering.yaml`)."""
        return _default_params()

    @classmethod
    def load(cls, corpus_dir: str | Path) -> "ClusterParams":
        """The package's parameters with what the corpus's `alignment.yaml`
        sets (checked against schemas/alignment.schema.json)."""
        path = Path(corpus_dir) / "alignment.yaml"
        if not path.is_file():
            return cls.default()
        data = load_yaml(path) or {}
        check_curated(data, path, "alignment")
        return replace(cls.default(), **data)


@lru_cache(maxsize=1)
def _default_params() -> ClusterParams:
    path = Path(__file__).with_name("clustering.yaml")
    data = load_yaml(path)
    check_curated(data, path, "alignment")
    missing = sorted({f.name for f in fields(ClusterParams)} - set(data))
    if missing:
        raise CorpusError(f"{path}: the package's defaults lack {', '.join(missing)}: reinstall the package")
    return ClusterParams(**data)


def _key_weights(store: SignatureStore, params: ClusterParams) -> np.ndarray:
    """Inverse-document-frequency weight per key of the store's vocabulary, by
    key kind; 0 for a key that cannot weigh.

    Keys in one document say nothing about pairs and keys in too many say
    nothing about stories; both get no weight. A word ("t:") is weighed by
    its frequency among the documents of its own language. A name key met
    in one script only is more likely a common word of that language than
    a transliterated name: it weighs `single_script_name_weight` (the
    language's own words already say what it would).
    """
    n = len(store)
    per_language = Counter(str(language or "?") for language in store.languages)
    weights = np.zeros(len(store.keys))
    kind_weight = {"e:": params.entity_weight, "d:": params.date_weight, "n:": params.number_weight}
    for k, c in enumerate(store.df):
        if c < 2:
            continue
        key = store.keys[k]
        kind = key[:2]
        docs = per_language[key[2:].split(":", 1)[0]] if kind == "t:" else n
        # A small corpus keeps every shared key: "in most of 5 documents" is
        # still evidence there, while in 100k documents it is noise.
        if c > min(params.max_df, max(params.min_df_limit, int(params.max_df_fraction * docs))):
            continue
        if kind == "t:":
            w = params.term_weight
        else:
            w = kind_weight.get(kind)
            if w is None:
                w = params.name_weight if store.multi_script[k] else params.single_script_name_weight
        if w:
            # math.log, not NumPy's: its last bit does not depend on the processor.
            weights[k] = w * (math.log(docs / c) + 0.1)
    return weights


class _WeightedKeys:
    """Every document's weighted keys as one flat array (ascending key ids per
    document) with the weight of each (the key's weight times 1 + log of the
    document's count of it), and each document's norm: the vectors of the
    cosine similarity, in arrays, summed in key order so that a similarity
    is the same bits whichever document it is computed from."""

    def __init__(self, store: SignatureStore, weights: np.ndarray, across_min_shared: int = 1):
        self.across_min_shared = across_min_shared
        ids = np.frombuffer(store.key_ids, dtype=np.int32) if len(store.key_ids) else np.zeros(0, dtype=np.int32)
        counts = np.frombuffer(store.key_counts, dtype=np.uint16) if len(store.key_counts) else np.zeros(0, dtype=np.uint16)
        starts = np.frombuffer(store.key_start, dtype=np.int64)
        doc_of = np.repeat(np.arange(len(store), dtype=np.int32), np.diff(starts))
        keep = weights[ids] > 0
        # Stored order is entities, dates, rest; sort each document's keys by id.
        order = np.lexsort((ids[keep], doc_of[keep]))
        self.weights = weights
        self.keys = ids[keep][order]
        self.docs = doc_of[keep][order]
        counts = counts[keep][order]
        del ids, doc_of, keep, order
        # 1 + log(count) from a table made with math.log (the same bits on
        # every processor); a word said five times weighs 2.6 times one said once.
        top = int(counts.max()) if len(counts) else 1
        damped = np.array([0.0] + [1.0 + math.log(c) for c in range(1, top + 1)])
        self.occurrence = weights[self.keys] * damped[counts]
        del counts
        self.start = np.searchsorted(self.docs, np.arange(len(store) + 1))
        sums = np.zeros(len(store))
        np.add.at(sums, self.docs, self.occurrence**2)  # unbuffered: in order, one addition at a time
        self.norm = np.sqrt(sums)
        self.norm[self.norm == 0] = 1.0
        # Two documents of different languages share no word: their cosine
        # is taken over the keys that cross scripts alone (entities, dates,
        # numbers, names), or the words of each would drown what they share.
        is_word = np.array([key.startswith("t:") for key in store.keys], dtype=bool)
        crossing = ~is_word[self.keys]
        sums = np.zeros(len(store))
        np.add.at(sums, self.docs[crossing], self.occurrence[crossing] ** 2)
        self.norm_across = np.sqrt(sums)
        self.norm_across[self.norm_across == 0] = 1.0
        codes: dict[object, int] = {}
        self.language = np.array([codes.setdefault(language, len(codes)) for language in store.languages], dtype=np.int32)
        self.vocabulary = len(weights)

    def cosines(self, dots: np.ndarray, shared: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The cosine of documents a[i] and b[i] from their dot product and
        the number of keys they share: over all their keys in one language;
        over the keys that cross scripts between two, where it counts only
        from `across_min_shared` shared keys and is 0 below (a document has
        few such keys, and one entity in common, "the EU", would otherwise
        make two stories look alike)."""
        same = self.language[a] == self.language[b]
        norms = np.where(same, self.norm[a] * self.norm[b], self.norm_across[a] * self.norm_across[b])
        evidence = np.where(same | (shared >= self.across_min_shared), 1.0, 0.0)
        return np.minimum(1.0, dots / norms * evidence)


def similarities(weighted: _WeightedKeys, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of the weighted keys of documents a[i] and b[i],
    in [0, 1]; 0 where either has no weighted key."""
    out = np.zeros(len(a))
    for lo in range(0, len(a), 20_000):
        pa, pb = a[lo : lo + 20_000], b[lo : lo + 20_000]
        pair = np.arange(len(pa))
        la = weighted.start[pa + 1] - weighted.start[pa]
        lb = weighted.start[pb + 1] - weighted.start[pb]
        # Each pair's keys of both documents, as codes pair * V + key: a code
        # met twice is a key the two share.
        rows = np.concatenate([_ranges(weighted.start[pa], la), _ranges(weighted.start[pb], lb)])
        owner = np.concatenate([np.repeat(pair, la), np.repeat(pair, lb)])
        codes = owner * weighted.vocabulary + weighted.keys[rows].astype(np.int64)
        order = np.argsort(codes, kind="stable")
        codes, rows, owner = codes[order], rows[order], owner[order]
        twice = np.flatnonzero(codes[1:] == codes[:-1])
        dots = np.zeros(len(pa))
        occurrence = weighted.occurrence
        np.add.at(dots, owner[twice], occurrence[rows[twice]] * occurrence[rows[twice + 1]])
        shared = np.bincount(owner[twice], minlength=len(pa))
        sims = weighted.cosines(dots, shared, pa, pb)
        out[lo : lo + len(pa)] = np.minimum(1.0, sims)
    return out


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of range(starts[i], starts[i] + lengths[i])."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + offsets


# Documents whose candidates are gathered in one vector step.
_GRAPH_BLOCK = 128


@dataclass
class _Edges:
    """The candidate graph as three arrays, in the order its links were made
    (document by document, best first): (i, j, s) stands for graph[i][j] =
    graph[j][i] = s. Arrays cost a few bytes a link where a dict of dicts
    costs a hundred, and the order lets each connected part be rebuilt as
    the same dicts the whole graph would give."""

    i: np.ndarray
    j: np.ndarray
    s: np.ndarray


def _candidate_graph(store: SignatureStore, docs: Sequence[int], weighted: _WeightedKeys, params: ClusterParams) -> _Edges:
    """Similarities of documents that share a weighted key, each kept to its
    top neighbours; local indexes into `docs`.

    An inverted index (key -> documents, only keys of bounded frequency)
    gives each document its candidates; a document's similarities to all of
    them come from one vector sum, and only its `neighbours` best are kept,
    so memory stays at `neighbours` links a document.
    """
    if len(docs) == len(store):
        # Every document (no catalog): the store's arrays as they are.
        keys, owners, occurrence = weighted.keys, weighted.docs, weighted.occurrence
    else:
        local = np.full(len(store), -1, dtype=np.int32)
        local[np.asarray(docs, dtype=np.int64)] = np.arange(len(docs), dtype=np.int32)
        member = local[weighted.docs] >= 0
        keys, owners, occurrence = weighted.keys[member], local[weighted.docs[member]], weighted.occurrence[member]
    global_of = np.asarray(docs, dtype=np.int64)
    # Postings: for each key, its documents in ascending local order.
    order = np.lexsort((owners, keys))
    posting_docs = owners[order]
    posting_occurrence = occurrence[order]
    posting_start = np.searchsorted(keys[order], np.arange(weighted.vocabulary + 1))
    # Weighted keys come grouped by document, in document order.
    doc_start = np.searchsorted(owners, np.arange(len(docs) + 1))
    n = len(docs)
    # At most `neighbours` links a document: the arrays are made once, at
    # their largest, and filled in order (a list of pieces joined at the end
    # would hold every link twice at the peak).
    links_i = np.empty(n * params.neighbours, dtype=np.int32)
    links_j = np.empty(n * params.neighbours, dtype=np.int32)
    links_s = np.empty(n * params.neighbours)
    made = 0
    # Documents go a block at a time through the same vector steps, so the
    # per-call cost of NumPy is paid per block, not per document.
    for lo in range(0, n, _GRAPH_BLOCK):
        hi = min(n, lo + _GRAPH_BLOCK)
        mine = slice(doc_start[lo], doc_start[hi])
        my_keys = keys[mine]
        if not len(my_keys):
            continue
        lengths = posting_start[my_keys + 1] - posting_start[my_keys]
        postings = _ranges(posting_start[my_keys], lengths)
        candidates = posting_docs[postings].astype(np.int64)
        contributions = np.repeat(occurrence[mine], lengths) * posting_occurrence[postings]
        who = np.repeat(owners[mine].astype(np.int64), lengths)
        others = candidates != who
        # Codes relative to the block fit 32 bits for any corpus under 16
        # million documents, and sort about twice as fast as 64-bit ones.
        codes = (who[others] - lo) * n + candidates[others]
        if not len(codes):
            continue
        if (hi - lo) * n < 2**31:
            codes = codes.astype(np.int32)
        found, inverse = np.unique(codes, return_inverse=True)
        found = found.astype(np.int64) + lo * n
        # bincount adds in input order: for each pair, the shared keys in
        # ascending order, the same order whichever of the two documents it
        # is computed from, so both directions give the same bits.
        dots = np.bincount(inverse.ravel(), weights=contributions[others], minlength=len(found))
        shared = np.bincount(inverse.ravel(), minlength=len(found))
        first, second = found // n, found % n
        sims = weighted.cosines(dots, shared, global_of[first], global_of[second])
        first, second, sims = _contenders(first, second, sims, lo, hi, params.neighbours)
        # Each document's links, best first (ties: the lower index first),
        # and only its `neighbours` best.
        order = np.lexsort((second, -sims, first))
        first, second, sims = first[order], second[order], sims[order]
        rank = np.arange(len(first)) - np.searchsorted(first, first, side="left")
        best = rank < params.neighbours
        kept = int(best.sum())
        links_i[made : made + kept] = first[best]
        links_j[made : made + kept] = second[best]
        links_s[made : made + kept] = sims[best]
        made += kept
    return _Edges(links_i[:made], links_j[:made], links_s[:made])


def _contenders(first: np.ndarray, second: np.ndarray, sims: np.ndarray, lo: int, hi: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The links of documents lo..hi-1 (grouped by `first`, ascending) that
    can be among each one's `k` best: those at least as similar as its k-th
    best, ties included.

    In a large corpus a document shares some key with a thousand others and
    keeps 30: sorting all of them by similarity cost most of the alignment.
    One selection per row of a padded matrix finds each k-th best first, and
    only the few links that reach it are sorted."""
    row_start = np.searchsorted(first, np.arange(lo, hi + 1))
    longest = int(np.diff(row_start).max())
    # Padding must not outgrow the links themselves (one document with far
    # more candidates than its block's others): those blocks sort them all.
    if longest <= k or (hi - lo) * longest > 8 * len(first):
        return first, second, sims
    row = first - lo
    # Similarities are >= 0: the padding (-1) never reaches a k-th best.
    padded = np.full((hi - lo, longest), -1.0)
    padded[row, np.arange(len(first)) - row_start[row]] = sims
    kth = np.partition(padded, longest - k, axis=1)[:, longest - k]
    keep = np.flatnonzero(sims >= kth[row])
    return first[keep], second[keep], sims[keep]


def _components(n: int, edges: _Edges, threshold: float) -> np.ndarray:
    """The connected part of each node over the links of at least `threshold`
    (its smallest node): two clusters can only merge through such a link, so
    average linkage can run on each part alone."""
    strong = edges.s >= threshold
    a, b = edges.i[strong], edges.j[strong]
    label = np.arange(n)
    while True:
        low = np.minimum(label[a], label[b])
        before = label.copy()
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        label = label[label]  # follow to the root
        if np.array_equal(label, before):
            return label


def _clusters(n: int, edges: _Edges, threshold: float) -> list[tuple[list[int], list[float]]]:
    """Average-linkage clusters over the candidate graph, part by part, each
    with its members' scores (mean similarity to the other members), ordered
    by first member. Only one part's graph is ever held as dicts."""
    # int32 labels: the per-link arrays below are the step's largest.
    part = _components(n, edges, threshold).astype(np.int32)
    sizes = np.bincount(part, minlength=n)
    clusters: list[tuple[list[int], list[float]]] = [([i], [0.0]) for i in np.flatnonzero(sizes[part] == 1).tolist()]
    part_of_link = part[edges.i]
    inside = np.flatnonzero((part_of_link == part[edges.j]) & (sizes[part_of_link] > 1))
    part_of_link = part_of_link[inside]
    # A stable sort keeps each part's links in the order they were made, so
    # its dicts are filled as the whole graph's would be.
    by_part_order = np.argsort(part_of_link, kind="stable")
    order = inside[by_part_order]
    parts, starts = np.unique(part_of_link[by_part_order], return_index=True)
    del part_of_link, inside, by_part_order
    # Each part's nodes, ascending, from one sort of all nodes by part.
    by_part = np.argsort(part, kind="stable")
    node_start = np.searchsorted(part[by_part], np.arange(n + 1))
    local_of = np.empty(n, dtype=np.int64)
    for p, lo, hi in zip(parts.tolist(), starts.tolist(), [*starts[1:].tolist(), len(order)]):
        members = by_part[node_start[p] : node_start[p + 1]]
        nodes = members.tolist()
        local_of[members] = np.arange(len(nodes))
        sel = order[lo:hi]
        xs, ys, sims = local_of[edges.i[sel]].astype(np.int32), local_of[edges.j[sel]].astype(np.int32), edges.s[sel]
        graph: dict[int, dict[int, float]] = defaultdict(dict)
        for x, y, s in zip(xs.tolist(), ys.tolist(), sims.tolist()):
            graph[x][y] = s
            graph[y][x] = s
        # The linkage consumes the dicts (a part may be the whole corpus);
        # the scores come from the part's links.
        groups = _average_link(len(nodes), graph, threshold)
        del graph
        for group, scores in zip(groups, _mean_links(len(nodes), groups, xs, ys, sims)):
            clusters.append(([nodes[k] for k in group], scores))
    clusters.sort(key=lambda c: c[0][0])
    return clusters


def _mean_links(n: int, groups: Sequence[Sequence[int]], xs: np.ndarray, ys: np.ndarray, sims: np.ndarray) -> list[list[float]]:
    """Each member's mean similarity to the other members of its group
    (a missing link counts 0), rounded to 4 places, group by group."""
    group_of = np.empty(n, dtype=np.int64)
    for g, group in enumerate(groups):
        group_of[np.asarray(group, dtype=np.int64)] = g
    inside = group_of[xs] == group_of[ys]
    lo, hi = np.minimum(xs, ys)[inside].astype(np.int64), np.maximum(xs, ys)[inside].astype(np.int64)
    # Each pair once (a link may be listed from both ends).
    _, first = np.unique(lo * n + hi, return_index=True)
    first.sort()
    totals = np.zeros(n)
    np.add.at(totals, lo[first], sims[inside][first])
    np.add.at(totals, hi[first], sims[inside][first])
    return [
        [round(totals[k] / (len(group) - 1), 4) if len(group) > 1 else 0.0 for k in group] for group in groups
    ]


def _average_link(
    n: int, graph: Mapping[int, Mapping[int, float]], threshold: float, sizes: Sequence[int] | None = None
) -> list[list[int]]:
    """Average-linkage agglomeration over a sparse similarity graph.

    Clusters merge, best first, while the mean similarity over all their
    document pairs (missing links count as 0) reaches `threshold`. Average
    linkage resists the chaining that joins two stories through one shared
    number, which single linkage (connected components) does not.

    A node may stand for several documents already grouped (an event, when
    events are grouped into topics): `sizes` gives how many, and
    `graph[i][j]` is then the sum of the similarities of their documents.
    The graph's dicts become the linkage's own and are changed: a part of
    the corpus may hold a hundred thousand documents, and a copy of its
    links would double the build's peak memory.

    The heap holds each cluster's best partner only (its nearest neighbour,
    ties to the smaller id), not every link: the best merge of all is the
    best of some cluster, and a cluster's best changes only when it or a
    partner merges. On a part of 100,000 documents and 3 million links
    this pops a tenth of the entries the heap of every link did.
    """
    size: dict[int, int] = {i: (sizes[i] if sizes is not None else 1) for i in range(n)}
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    link: dict[int, dict[int, float]] = {i: graph.get(i) or {} for i in range(n)}
    best: dict[int, tuple[float, int]] = {}
    heap: list[tuple[float, int, int]] = []

    def nearest(x: int) -> tuple[float, int] | None:
        found: tuple[float, int] | None = None
        sx = size[x]
        for y, s in link[x].items():
            avg = s / (sx * size[y])
            if avg >= threshold and (found is None or avg > found[0] or (avg == found[0] and y < found[1])):
                found = (avg, y)
        return found

    def offer(x: int, candidate: tuple[float, int] | None) -> None:
        if candidate is None:
            best.pop(x, None)
            return
        best[x] = candidate
        heapq.heappush(heap, (-candidate[0], min(x, candidate[1]), max(x, candidate[1])))

    for i in range(n):
        offer(i, nearest(i))
    next_id = n
    while heap:
        neg, a, b = heapq.heappop(heap)
        if a not in members or b not in members:
            continue
        total = link[a].get(b, 0.0)
        avg = total / (size[a] * size[b])
        if abs(avg + neg) > 1e-12:
            continue  # stale entry
        if avg < threshold:
            break
        c = next_id
        next_id += 1
        members[c] = sorted(members.pop(a) + members.pop(b))
        size[c] = size.pop(a) + size.pop(b)
        best.pop(a, None)
        best.pop(b, None)
        la, lb = link.pop(a), link.pop(b)
        merged: dict[int, float] = defaultdict(float)
        for other, s in list(la.items()) + list(lb.items()):
            if other in (a, b):
                continue
            merged[other] += s
        link[c] = dict(merged)
        for other, s in merged.items():
            link[other].pop(a, None)
            link[other].pop(b, None)
            link[other][c] = s
            current = best.get(other)
            if current is not None and current[1] in (a, b):
                # Its nearest partner is gone: look again.
                offer(other, nearest(other))
            else:
                avg_oc = s / (size[c] * size[other])
                if avg_oc >= threshold and (current is None or avg_oc > current[0]):
                    offer(other, (avg_oc, c))
        offer(c, nearest(c))
    return sorted(members.values(), key=lambda m: m[0])


def _within_days(edges: _Edges, published: np.ndarray, days: int) -> _Edges:
    """The links of documents that may report one event: published at most
    `days` apart, or either of unknown date (0)."""
    a, b = published[edges.i], published[edges.j]
    keep = (a == 0) | (b == 0) | (np.abs(a - b) <= days)
    return _Edges(edges.i[keep], edges.j[keep], edges.s[keep])


def _topics_of_events(n: int, edges: _Edges, events: Sequence[Sequence[int]], threshold: float) -> list[list[int]]:
    """Events (lists of documents 0..n-1) grouped into topics: average
    linkage over events, on the similarities of their documents whatever
    their dates, so that reports of one storyline weeks or years apart
    (a visit, the next visit) share a topic. Returns lists of event indexes."""
    if len(events) < 2:
        return [[e] for e in range(len(events))]
    event_of = np.empty(n, dtype=np.int64)
    for e, docs in enumerate(events):
        event_of[np.asarray(docs, dtype=np.int64)] = e
    # Each pair of documents once (a link may be listed from both ends).
    lo, hi = np.minimum(edges.i, edges.j).astype(np.int64), np.maximum(edges.i, edges.j).astype(np.int64)
    _, first = np.unique(lo * n + hi, return_index=True)
    first.sort()
    ea, eb, sims = event_of[lo[first]], event_of[hi[first]], edges.s[first]
    across = ea != eb
    ea, eb, sims = np.minimum(ea, eb)[across], np.maximum(ea, eb)[across], sims[across]
    codes, inverse = np.unique(ea * len(events) + eb, return_inverse=True)
    # bincount adds in the order the pairs come, the same on every run.
    totals = np.bincount(inverse.ravel(), weights=sims, minlength=len(codes))
    graph: dict[int, dict[int, float]] = defaultdict(dict)
    for code, total in zip(codes.tolist(), totals.tolist()):
        x, y = divmod(code, len(events))
        graph[x][y] = graph[y][x] = total
    return _average_link(len(events), graph, threshold, [len(docs) for docs in events])


def _cluster_id(member_ids: Sequence[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(member_ids)).encode("utf-8")).hexdigest()
    return f"cluster-{digest[:12]}"


def _cluster_title(store: SignatureStore, members: Sequence[int], weighted: _WeightedKeys) -> tuple[str, list[str]]:
    """A title for a curator from the keys most members share, and that evidence.

    Keys rank by how many members hold them, then by weight, then by name;
    the counting is one NumPy pass over the members' weighted keys, and
    only the few keys that can reach the top 8 are compared by name."""
    weights = weighted.weights
    ids = np.concatenate([weighted.keys[weighted.start[d] : weighted.start[d + 1]] for d in members])
    keys, counts = np.unique(ids, return_counts=True)
    if len(keys) and counts.max() >= 2:
        keys, counts = keys[counts >= 2], counts[counts >= 2]
    order = np.lexsort((-weights[keys], -counts))
    if len(order) > 8:
        # The 8th key and every key tied with it on count and weight.
        last = order[7]
        tied = (counts == counts[last]) & (weights[keys] == weights[keys[last]])
        order = np.concatenate([order[:8], np.flatnonzero(tied)])
    ranked = sorted({int(k): int(c) for k, c in zip(keys[order], counts[order])}.items(), key=lambda kc: (-kc[1], -weights[kc[0]], store.keys[kc[0]]))
    evidence = [store.keys[k] for k, _ in ranked[:8]]
    # The first label of each of the first five keys, in member order.
    wanted = {k for k in evidence[:5] if not k.startswith(("n:", "d:"))}
    labels: dict[str, str] = {}
    for doc in members:
        if len(labels) == len(wanted):
            break
        for k, v in store.labels(doc):
            if k in wanted:
                labels.setdefault(k, v)
    words = [labels.get(k, _key_text(k)) for k in evidence[:5]]
    title = ", ".join(words) if words else "unlabelled documents"
    return f"[candidate] {title}", [_key_text(k) for k in evidence]


def _key_text(key: str) -> str:
    """What a key says, without its kind (and a word key without its language)."""
    return key.split(":", 2)[2] if key.startswith("t:") else key.split(":", 1)[1]



def weighted_keys(store: SignatureStore, params: ClusterParams | None = None) -> _WeightedKeys:
    """The weighted keys of the store's documents (clustering and pair
    similarities use the same), made once per store and parameters."""
    params = params or ClusterParams.default()
    made = store.derived.get(("weighted", params))
    if made is None:
        made = store.derived[("weighted", params)] = _WeightedKeys(store, _key_weights(store, params), params.across_min_shared)
    return made

