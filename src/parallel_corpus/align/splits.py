"""Splits by topic: a topic and all its documents live in exactly one split.

Assignment is a pure function of the topic ids, the ratios and the seed, so a
rebuild anywhere gives the same splits, and adding a topic moves no other
(except to fill a split the draw left empty).
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Mapping

SPLIT_ORDER = ("train", "validation", "test")


def _rank(topic_id: str, seed: int) -> float:
    """A stable pseudo-random number in [0, 1) for a topic."""
    digest = hashlib.sha256(f"{seed}:{topic_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_splits(topic_ids: Iterable[str], ratios: Mapping[str, float], seed: int) -> dict[str, str]:
    """Split of every topic.

    With fewer topics than non-empty splits, every topic goes to train (a
    one-topic test split measures nothing); the card says so. Otherwise each
    topic falls where its stable rank lands in the cumulative ratios, and
    every non-empty split gets at least one topic.
    """
    topics = sorted(set(topic_ids))
    wanted = [s for s in SPLIT_ORDER if ratios.get(s, 0) > 0]
    if len(topics) < len(wanted) or len(wanted) <= 1:
        return {t: "train" for t in topics}
    bounds, acc = [], 0.0
    for split in wanted:
        acc += ratios[split]
        bounds.append((acc, split))
    out = {}
    for t in topics:
        r = _rank(t, seed)
        out[t] = next((s for b, s in bounds if r < b), wanted[-1])
    # A split the ratios ask for but the draw left empty takes the topic of
    # train with the highest rank, so small corpora still get every split.
    for split in wanted[1:]:
        if split not in out.values():
            donors = sorted((t for t, s in out.items() if s == "train"), key=lambda t: _rank(t, seed), reverse=True)
            if len(donors) > 1:
                out[donors[0]] = split
    return out
