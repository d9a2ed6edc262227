"""Clustering the documents no catalog topic takes: the parameters, the
weighted keys and their similarities, and the two levels (events, then
topics) made by average linkage (`linkage`) over the candidate graph
(`graph`)."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import sparse

from parallel_corpus.corpus import CorpusError, check_curated, load_yaml
from parallel_corpus.align.graph import Links
from parallel_corpus.align.linkage import average_link, mean_links
from parallel_corpus.align.store import SignatureStore

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
    document's count of it): the vectors of the cosine similarity.

    Two documents of one language are compared on all their keys; two of
    different languages share no word, and are compared on the keys that
    cross scripts alone (entities, dates, numbers, names), or the words of
    each would drown what they share. So each key occurrence has two unit
    values: `unit` (its weight over the document's norm) and `unit_across`
    (over the norm of its crossing keys; 0 for a word). A cosine is then a
    sum of products over the shared keys.

    Unit values are put on a grid of 2**-26 (`_on_grid`): the product of
    two is then a multiple of 2**-52, and so is every partial sum of a
    cosine (below 2), which a double holds exactly. A cosine is then the
    same bits in any order of addition, with or without fused
    multiply-adds: from either document, in SciPy's compiled products or
    NumPy's, on any processor. The grid moves a cosine by a millionth at most."""

    def __init__(self, store: SignatureStore, weights: np.ndarray, across_min_shared: int = 1):
        self.across_min_shared = across_min_shared
        ids = np.frombuffer(store.key_ids, dtype=np.int32) if len(store.key_ids) else np.zeros(0, dtype=np.int32)
        counts = np.frombuffer(store.key_counts, dtype=np.uint16) if len(store.key_counts) else np.zeros(0, dtype=np.uint16)
        starts = np.frombuffer(store.key_start, dtype=np.int64)
        doc_of = np.repeat(np.arange(len(store), dtype=np.int32), np.diff(starts))
        keep = (weights > 0)[ids]
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
        occurrence = weights[self.keys] * damped[counts]
        del counts
        self.start = np.searchsorted(self.docs, np.arange(len(store) + 1))
        is_word = np.array([key.startswith("t:") for key in store.keys], dtype=bool)
        crossing = ~is_word[self.keys]
        self.unit = _on_grid(occurrence / _norms(len(store), self.docs, occurrence)[self.docs])
        across = np.where(crossing, occurrence, 0.0)
        self.unit_across = np.where(crossing, _on_grid(across / _norms(len(store), self.docs, across)[self.docs]), 0.0)
        self.crossing = crossing
        codes: dict[object, int] = {}
        self.language = np.array([codes.setdefault(language, len(codes)) for language in store.languages], dtype=np.int32)
        self.vocabulary = len(weights)

    def matrices(self) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """The unit vectors as sparse rows (documents by keys): over all
        keys, and over the keys that cross scripts (words left out)."""
        shape = (len(self.start) - 1, self.vocabulary)
        unit = sparse.csr_matrix((self.unit, self.keys, self.start), shape=shape)
        crossing = self.crossing
        indptr = np.concatenate([[0], np.cumsum(np.bincount(self.docs[crossing], minlength=shape[0]))])
        across = sparse.csr_matrix((self.unit_across[crossing], self.keys[crossing], indptr), shape=shape)
        return unit, across


# Unit values are multiples of this (see `_WeightedKeys`).
_GRID = 2.0**-26


def _on_grid(values: np.ndarray) -> np.ndarray:
    """`values` (in [0, 1]) rounded to the nearest multiple of 2**-26, and
    never to 0: a key that is there keeps a weight, so the products that
    count shared keys and those that sum their weights see the same keys."""
    return np.maximum(np.rint(values / _GRID), 1.0) * _GRID


def _norms(n: int, docs: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each document's Euclidean norm of its values (1 where it has none),
    summed in key order, one addition at a time."""
    # bincount adds in input order, one addition at a time: the same bits on every run.
    norm = np.sqrt(np.bincount(docs, weights=values**2, minlength=n))
    norm[norm == 0] = 1.0
    return norm


def similarities(weighted: _WeightedKeys, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of the weighted keys of documents a[i] and b[i],
    in [0, 1]; 0 where either has no weighted key, and 0 for two documents
    of different languages that share fewer than `across_min_shared` keys
    (one entity in common, "the EU", would otherwise make two stories look
    alike). The same bits as the candidate graph's (see `_WeightedKeys`)."""
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
        same = weighted.language[pa] == weighted.language[pb]
        within = same[owner[twice]]
        # Across languages only crossing keys count; both ends of a shared key
        # are of one kind, so the first end says which.
        counted = within | weighted.crossing[rows[twice]]
        twice = twice[counted]
        unit = np.where(within[counted], weighted.unit[rows[twice]], weighted.unit_across[rows[twice]])
        unit_other = np.where(within[counted], weighted.unit[rows[twice + 1]], weighted.unit_across[rows[twice + 1]])
        # Exact sums (the grid): the order of addition does not matter.
        dots = np.bincount(owner[twice], weights=unit * unit_other, minlength=len(pa))
        shared = np.bincount(owner[twice], minlength=len(pa))
        dots[~same & (shared < weighted.across_min_shared)] = 0.0
        out[lo : lo + len(pa)] = np.minimum(1.0, dots)
    return out


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of range(starts[i], starts[i] + lengths[i])."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + offsets


def _clusters(n: int, links: Links, threshold: float) -> list[tuple[list[int], list[float]]]:
    """Average-linkage clusters over the candidate graph (`linkage`), each
    with its members' scores (mean similarity to the other members),
    ordered by first member."""
    groups = average_link(n, links.lo, links.hi, links.s, threshold)
    return list(zip(groups, mean_links(n, groups, links.lo, links.hi, links.s)))


def _topics_of_events(n: int, links: Links, events: Sequence[Sequence[int]], threshold: float) -> list[list[int]]:
    """Events (lists of documents 0..n-1) grouped into topics: average
    linkage over events, on the similarities of their documents whatever
    their dates, so that reports of one storyline weeks or years apart
    (a visit, the next visit) share a topic. Returns lists of event indexes."""
    if len(events) < 2:
        return [[e] for e in range(len(events))]
    event_of = np.empty(n, dtype=np.int64)
    for e, docs in enumerate(events):
        event_of[np.asarray(docs, dtype=np.int64)] = e
    ea, eb = event_of[links.lo], event_of[links.hi]
    across = ea != eb
    ea, eb, sims = np.minimum(ea, eb)[across], np.maximum(ea, eb)[across], links.s[across]
    codes, inverse = np.unique(ea * len(events) + eb, return_inverse=True)
    # bincount adds in the order the pairs come, the same on every run.
    totals = np.bincount(inverse.ravel(), weights=sims, minlength=len(codes))
    sizes = np.array([len(docs) for docs in events], dtype=np.float64)
    return average_link(len(events), codes // len(events), codes % len(events), totals, threshold, sizes)


def _cluster_id(member_ids: Sequence[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(member_ids)).encode("utf-8")).hexdigest()
    return f"cluster-{digest[:12]}"


def _cluster_titles(store: SignatureStore, topics: Sequence[Sequence[int]], weighted: _WeightedKeys) -> list[tuple[str, list[str]]]:
    """A title for a curator from the keys most members of each topic share,
    and that evidence, for every topic (lists of documents) at once.

    Keys rank by how many members hold them, then by weight, then by name
    (only keys that two members hold, where a topic has such keys). The
    counting and ranking are NumPy passes over all topics' weighted keys
    together; a topic of ten thousand has a title in one pass, not ten
    thousand."""
    n_keys = weighted.vocabulary
    topic_of = np.full(len(store), -1, dtype=np.int64)
    for t, members in enumerate(topics):
        topic_of[np.asarray(members, dtype=np.int64)] = t
    mine = topic_of[weighted.docs] >= 0
    codes, counts = np.unique(topic_of[weighted.docs[mine]] * n_keys + weighted.keys[mine], return_counts=True)
    topic, key = codes // n_keys, codes % n_keys
    # Where a topic has keys that two members hold, only those count.
    shared = np.zeros(len(topics), dtype=bool)
    shared[topic[counts >= 2]] = True
    keep = (counts >= 2) | ~shared[topic]
    topic, key, counts = topic[keep], key[keep], counts[keep]
    by_name = _name_ranks(store)
    order = np.lexsort((by_name[key], -weighted.weights[key], -counts, topic))
    topic, key = topic[order], key[order]
    rank = np.arange(len(topic)) - np.searchsorted(topic, topic, side="left")
    top = rank < 8
    starts = np.searchsorted(topic[top], np.arange(len(topics) + 1))
    chosen = key[top].tolist()
    out = []
    for t, members in enumerate(topics):
        evidence = [store.keys[k] for k in chosen[starts[t] : starts[t + 1]]]
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
        out.append((f"[candidate] {title}", [_key_text(k) for k in evidence]))
    return out


def _name_ranks(store: SignatureStore) -> np.ndarray:
    """Each key's place among all keys in the order of their names (code
    points, as Python compares strings)."""
    ranks = np.empty(len(store.keys), dtype=np.int64)
    ranks[sorted(range(len(store.keys)), key=store.keys.__getitem__)] = np.arange(len(store.keys))
    return ranks


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

