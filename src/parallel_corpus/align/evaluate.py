"""Scores of a document grouping against a gold grouping.

Input: two `{doc_id: group}` maps (predicted topics, gold stories); output:
pairwise and B-cubed precision, recall and F1, over the documents both name.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any, Mapping

__all__ = ["pairwise_scores", "bcubed_scores", "evaluate_alignment", "read_gold"]


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _common(predicted: Mapping[str, Any], gold: Mapping[str, Any]) -> list[str]:
    return sorted(set(predicted) & set(gold))


def pairwise_scores(predicted: Mapping[str, Any], gold: Mapping[str, Any]) -> dict[str, float]:
    """Precision/recall/F1 over unordered document pairs put together.

    Counted from the contingency table (n choose 2 per cell), not by listing
    pairs, so it is linear in documents. With no predicted (or no gold)
    pair the corresponding score is 1.0 if the other side has none either,
    else 0.0: an all-singletons guess against all-singletons gold is right.
    """
    docs = _common(predicted, gold)
    cells = Counter((predicted[d], gold[d]) for d in docs)
    pred_sizes = Counter(predicted[d] for d in docs)
    gold_sizes = Counter(gold[d] for d in docs)

    def pairs(n: int) -> int:
        return n * (n - 1) // 2

    tp = sum(pairs(n) for n in cells.values())
    pred_pairs = sum(pairs(n) for n in pred_sizes.values())
    gold_pairs = sum(pairs(n) for n in gold_sizes.values())
    precision = tp / pred_pairs if pred_pairs else (1.0 if gold_pairs == 0 else 0.0)
    recall = tp / gold_pairs if gold_pairs else (1.0 if pred_pairs == 0 else 0.0)
    return {
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "true_pairs": float(tp),
        "predicted_pairs": float(pred_pairs),
        "gold_pairs": float(gold_pairs),
    }


def bcubed_scores(predicted: Mapping[str, Any], gold: Mapping[str, Any]) -> dict[str, float]:
    """B-cubed (Bagga & Baldwin 1998): per-document precision and recall, averaged.

    Each document counts itself, so singletons are not free; also computed
    from the contingency table, linear in documents.
    """
    docs = _common(predicted, gold)
    if not docs:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    cells = Counter((predicted[d], gold[d]) for d in docs)
    pred_sizes = Counter(predicted[d] for d in docs)
    gold_sizes = Counter(gold[d] for d in docs)
    precision = sum(n * n / pred_sizes[p] for (p, _), n in cells.items()) / len(docs)
    recall = sum(n * n / gold_sizes[g] for (_, g), n in cells.items()) / len(docs)
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def evaluate_alignment(predicted: Mapping[str, Any], gold: Mapping[str, Any]) -> dict[str, Any]:
    """Pairwise and B-cubed scores plus coverage counts, for the CLI and reports.

    Documents only one side names are counted (`missing_in_predicted`,
    `not_in_gold`) and left out of the scores rather than guessed.
    """
    common = _common(predicted, gold)
    return {
        "documents": len(common),
        "missing_in_predicted": len(set(gold) - set(predicted)),
        "not_in_gold": len(set(predicted) - set(gold)),
        "predicted_groups": len({predicted[d] for d in common}),
        "gold_groups": len({gold[d] for d in common}),
        "pairwise": pairwise_scores(predicted, gold),
        "bcubed": bcubed_scores(predicted, gold),
    }


def read_gold(path: str | Path) -> dict[str, str]:
    """A gold grouping from JSON (`{doc_id: group}` or a list of `{"id"/"doc_id", "group"/"topic_id"}`)
    or TSV (`doc_id<TAB>group`, an optional header line `doc_id	group`).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        data = json.loads(text)
        if isinstance(data, dict):
            return {str(k): str(v) for k, v in data.items()}
        gold: dict[str, str] = {}
        for i, row in enumerate(data, start=1):
            doc = row.get("doc_id", row.get("id"))
            group = row.get("group", row.get("topic_id"))
            if doc is None or group is None:
                raise ValueError(f"{path}:{i}: needs doc_id (or id) and group (or topic_id)")
            gold[str(doc)] = str(group)
        return gold
    gold = {}
    for i, row in enumerate(csv.reader(text.splitlines(), delimiter="\t"), start=1):
        if not row or row[0].startswith("#"):
            continue
        if i == 1 and row[0].strip().lower() in {"doc_id", "id"}:
            continue
        if len(row) < 2:
            raise ValueError(f"{path}:{i}: expected doc_id<TAB>group")
        doc, group = row[0].strip(), row[1].strip()
        if doc in gold and gold[doc] != group:
            raise ValueError(f"{path}:{i}: {doc} is in two groups")
        gold[doc] = group
    return gold
