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

from importlib import import_module
from typing import Any

# Each name and the module that holds it, imported when first asked for:
# `align.splits` (the split record, read by `validate` and `publish`) must
# not pull in NumPy and SciPy with the clustering.
_HOMES = {
    "Catalog": ".catalog",
    "Event": ".catalog",
    "Topic": ".catalog",
    "load_catalog": ".catalog",
    "ClusterParams": ".cluster",
    "similarities": ".cluster",
    "weighted_keys": ".cluster",
    "make_pairs": ".pairs",
    "pair_columns": ".pairs",
    "pair_rows": ".pairs",
    "plan_pairs": ".pairs",
    "SignatureStore": ".store",
    "assign_topics": ".topics",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Catalog",
    "Topic",
    "Event",
    "ClusterParams",
    "SignatureStore",
    "load_catalog",
    "assign_topics",
    "make_pairs",
    "plan_pairs",
    "pair_columns",
    "pair_rows",
    "similarities",
    "weighted_keys",
]
