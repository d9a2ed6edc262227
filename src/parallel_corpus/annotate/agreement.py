"""Agreement between annotators, for the build report and the card.

Krippendorff's alpha on the document choices (language, topic, event:
nominal) and on each pair rating (interval, the 1-4 scale of
schemas/labelstudio/pairs.xml), and the mean pairwise exact-match F1 of
entity spans. Of each annotator, the latest completed annotation of an item
counts (`store.newest`, the rule the store and the build use).

Alpha comes from the maintained `krippendorff` package. It builds a
coincidence tensor of units x values x values, which is small for a rating
scale or the language choices but not for topic and event ids, which are free
text: 5,000 doubly-labelled documents over 1,000 topics would need 40 GB. A
nominal variable that large is computed from value counts instead (the same
formula, linear in the values; `tests/annotate/test_annotations.py` holds both to a
plain reference formula).
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from typing import Any, Hashable, Iterable, Mapping, Optional, Sequence

from parallel_corpus.annotate.controls import RATING_COLUMN, RATING_DIMENSIONS
from parallel_corpus.annotate.store import newest

# Cells of units x values x values up to which the package computes a nominal alpha (about 50 MB of temporaries).
DENSE_CELLS = 2_000_000


def krippendorff_alpha(units: Mapping[Any, Sequence[Any]], metric: str = "nominal") -> Optional[float]:
    """Krippendorff's alpha over units (item -> values of its raters), rounded to 4 places; None when undefined.

    Only units with two or more values are pairable. `nominal` for choices,
    `interval` for the 1-4 ratings. Every pairable value the same is full agreement (1.0).
    """
    pairable = [list(vals) for vals in units.values() if len(vals) >= 2]
    n = sum(len(v) for v in pairable)
    if n <= 1:
        return None
    domain = list(dict.fromkeys(v for vals in pairable for v in vals))
    if len(domain) == 1:
        return 1.0
    if metric == "nominal" and len(pairable) * len(domain) ** 2 > DENSE_CELLS:
        return _round4(nominal_alpha_from_counts(pairable))
    return _round4(_package_alpha(pairable, domain, metric))


def _round4(value: float) -> float:
    """`value` to 4 places, through 12 first: alpha is a ratio of small integers, and
    float noise of the summation order must not decide the last digit of an exact half."""
    return round(round(value, 12), 4)


def _package_alpha(pairable: list[list[Any]], domain: list[Hashable], metric: str) -> float:
    import krippendorff
    import numpy as np

    if metric != "nominal":
        domain = sorted(domain, key=float)
    column = {v: i for i, v in enumerate(domain)}
    counts = np.zeros((len(pairable), len(domain)), dtype=np.int64)
    for row, vals in enumerate(pairable):
        for v in vals:
            counts[row, column[v]] += 1
    value_domain = np.arange(len(domain)) if metric == "nominal" else np.array([float(v) for v in domain])
    return float(krippendorff.alpha(value_counts=counts, value_domain=value_domain, level_of_measurement=metric))


def nominal_alpha_from_counts(pairable: Iterable[Sequence[Hashable]]) -> float:
    """Nominal alpha from value counts: 1 - (n-1) * sum_u (m_u^2 - sum_c n_uc^2)/(m_u - 1) / (n^2 - sum_c n_c^2).

    The numerator counts the ordered pairs of different values within each unit,
    the denominator those over all pairable values; for units of two or more
    values with at least two distinct values in all (the caller checks)."""
    within = 0.0
    overall: Counter[Hashable] = Counter()
    n = 0
    for vals in pairable:
        m = len(vals)
        counts = Counter(vals)
        within += (m * m - sum(c * c for c in counts.values())) / (m - 1)
        overall.update(counts)
        n += m
    return 1 - (n - 1) * within / (n * n - sum(c * c for c in overall.values()))


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
