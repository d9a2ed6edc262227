"""A topic for every document: a catalog topic where one fits, else a cluster."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from parallel_corpus.records import Assignment
from parallel_corpus.align.catalog import Catalog, catalog_match
from parallel_corpus.align.cluster import ClusterParams, _cluster_id, _cluster_titles, _clusters, _topics_of_events, weighted_keys
from parallel_corpus.align.graph import candidate_graph, within_days
from parallel_corpus.align.store import SignatureStore

__all__ = ["assign_topics"]


def assign_topics(
    signatures: Sequence[Mapping[str, Any]] | SignatureStore,
    catalog: Catalog | None,
    params: ClusterParams | None = None,
    threads: int = 1,
) -> dict[str, Assignment]:
    """A topic for every document: a catalog topic where one fits, else a cluster.

    Documents that fit no catalog topic (all of them without a catalog) are
    grouped in two levels, as the catalog has them: events (average linkage
    of their weighted words, names, numbers, entities and dates, among
    documents published within `event_days` of each other) and topics
    (events whose documents are as alike, whatever their dates). Ids are
    deterministic (`cluster-` / `event-` and the sha256 of the sorted member
    ids), the title comes from the top keys, for a curator to name. A
    document alone in its cluster still gets one. The result does not
    depend on input order, nor on the `threads` that find the candidate
    links (`graph.candidate_graph`).
    """
    params = params or ClusterParams.default()
    store = signatures if isinstance(signatures, SignatureStore) else SignatureStore.of(signatures, params.max_df)
    if store.max_df < params.max_df:
        raise ValueError(f"the signature store dropped keys past {store.max_df} documents, but max_df is {params.max_df}: make the store with max_df >= {params.max_df}")
    result: dict[str, Assignment] = {}
    rest: list[int] = []
    for doc in range(len(store)):
        match = None
        if catalog is not None:
            sig = {"entities": store.entities(doc), "dates": store.dates(doc), "published": store.published_date(doc)}
            match = catalog_match(sig, catalog)
        if match is not None:
            result[store.ids[doc]] = match
        else:
            rest.append(doc)
    if rest:
        # Weights come from the whole corpus: a key's rarity is a corpus fact.
        weighted = weighted_keys(store, params)
        links = candidate_graph(rest, weighted, params, threads)
        published = np.frombuffer(store.published, dtype=np.int32)[np.asarray(rest, dtype=np.int64)]
        # Events first: documents published within days of each other that
        # say the same; then events into topics, whatever their dates.
        events = _clusters(len(rest), within_days(links, published, params.event_days), params.threshold)
        topics = _topics_of_events(len(rest), links, [group for group, _ in events], params.topic_threshold)
        del links
        members_of = [sorted(rest[i] for e in topic for i in events[e][0]) for topic in topics]
        for topic, members, (title, evidence) in zip(topics, members_of, _cluster_titles(store, members_of, weighted)):
            cid = _cluster_id([store.ids[d] for d in members])
            shared_evidence = tuple(evidence)
            for e in topic:
                group, scores = events[e]
                eid = _event_id([store.ids[rest[i]] for i in group])
                for i, score in zip(group, scores):
                    result[store.ids[rest[i]]] = Assignment(cid, title, eid, "cluster", score, shared_evidence)
    return result


def _event_id(member_ids: Sequence[str]) -> str:
    """`event-<sha256 of the sorted member ids>`: the same documents, the same id."""
    return "event-" + _cluster_id(member_ids).split("-", 1)[1]
