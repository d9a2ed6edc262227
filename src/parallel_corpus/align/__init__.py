"""The whole-corpus steps of a build: documents to topics and events, pairs, splits.

Input: one compact signature per document (`stages.signature`), kept in a
`SignatureStore` (`store`), and optionally the topic catalog of
`corpus/topics.yaml` (`catalog`). Documents no catalog topic takes are
clustered (`cluster`: the candidate graph of `graph`, average linkage of
`linkage`); `pairs` and `splits` follow from the topics. Nothing here
compares all pairs of documents: candidates are the documents that share a
key, found by sparse matrix products.
"""

from __future__ import annotations

from ..records import Assignment
from ..stages.signature import signature
from ..text.keys import name_keys, number_keys, skeleton
from .catalog import Catalog, Event, Topic, load_catalog
from .cluster import ClusterParams, similarities, weighted_keys
from .pairs import make_pairs, pair_columns, pair_rows, plan_pairs
from .store import SignatureStore
from .topics import assign_topics

__all__ = [
    "Assignment",
    "Catalog",
    "Topic",
    "Event",
    "ClusterParams",
    "SignatureStore",
    "load_catalog",
    "signature",
    "name_keys",
    "number_keys",
    "skeleton",
    "assign_topics",
    "make_pairs",
    "plan_pairs",
    "pair_columns",
    "pair_rows",
    "similarities",
    "weighted_keys",
]
