"""Agreement between annotators, for the build report and the card.

Krippendorff's alpha on the document choices (language, topic, event:
nominal) and on each pair rating (interval, the 1-4 scale of
schemas/labelstudio/pairs.xml), and the mean pairwise exact-match F1 of
entity spans. Of each annotator, the latest completed annotation of an item
counts (`store.newest`, the rule the store and the build use).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any, Iterable, Mapping, Optional

from parallel_corpus.annotate.controls import RATING_COLUMN, RATING_DIMENSIONS
from parallel_corpus.annotate.store import newest


def krippendorff_alpha(units: Mapping[Any, list[Any]], metric: str = "nominal") -> Optional[float]:
    """Krippendorff's alpha over units (item -> values of its raters); None when undefined.

    Only units with two or more values are pairable. `nominal` for choices,
    `interval` for 1-4 ratings.
    """
    def delta(a: Any, b: Any) -> float:
        return float(a != b) if metric == "nominal" else (float(a) - float(b)) ** 2

    pairable = [vals for vals in units.values() if len(vals) >= 2]
    n = sum(len(v) for v in pairable)
    if n <= 1:
        return None
    observed = sum(
        sum(delta(a, b) for i, a in enumerate(vals) for j, b in enumerate(vals) if i != j) / (len(vals) - 1) for vals in pairable
    ) / n
    pooled = [v for vals in pairable for v in vals]
    expected = sum(delta(a, b) for i, a in enumerate(pooled) for j, b in enumerate(pooled) if i != j) / (n * (n - 1))
    if expected == 0:
        return 1.0 if observed == 0 else None
    return round(1 - observed / expected, 4)


def span_f1(a: Iterable[Mapping[str, Any]], b: Iterable[Mapping[str, Any]]) -> float:
    """Exact-match F1 of two annotators' spans (start, end, label); 1.0 when both are empty."""
    sa = {(s["start"], s["end"], s["label"]) for s in a}
    sb = {(s["start"], s["end"], s["label"]) for s in b}
    if not sa and not sb:
        return 1.0
    return round(2 * len(sa & sb) / (len(sa) + len(sb)), 4)


def agreement(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Agreement between annotators: alpha on language/topic/event and on each rating, mean pairwise span F1."""
    def who(r: dict[str, Any]) -> tuple[str, str, str]:
        item = r["pair_id"] if r["kind"] == "pairs" else r["document_id"]
        return (r["kind"], item or r["key"], r["annotator"] or r["key"])

    latest = newest((r for r in records if r["status"] == "completed"), who)
    by_item: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for (kind, item, _), r in sorted(latest.items()):
        by_item[(kind, item)].append(r)
    docs = {k[1]: v for k, v in by_item.items() if k[0] == "documents"}
    pairs = {k[1]: v for k, v in by_item.items() if k[0] == "pairs"}
    result: dict[str, Any] = {"documents": {}, "pairs": {}}
    for name in ("language", "topic_id", "event_id"):
        units = {i: [r[name] for r in rs if r[name] is not None] for i, rs in docs.items()}
        result["documents"][name] = krippendorff_alpha(units, "nominal")
    f1s = [span_f1(x["entities"], y["entities"]) for rs in docs.values() for x, y in itertools.combinations(rs, 2)]
    result["documents"]["entities_f1"] = round(sum(f1s) / len(f1s), 4) if f1s else None
    result["documents"]["items_with_two_or_more"] = sum(1 for rs in docs.values() if len(rs) >= 2)
    for d in RATING_DIMENSIONS:
        units = {i: [r[RATING_COLUMN[d]] for r in rs if r[RATING_COLUMN[d]] is not None] for i, rs in pairs.items()}
        result["pairs"][d] = krippendorff_alpha(units, "interval")
    result["pairs"]["items_with_two_or_more"] = sum(1 for rs in pairs.values() if len(rs) >= 2)
    return result
