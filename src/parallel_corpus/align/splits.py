"""Splits by topic: a topic and all its documents live in exactly one split,
and a document, once released in a split, stays there.

A release's split is a promise to training code that a test document was
never trained on. So every registered release records the split of each of
its documents in the corpus's `splits.jsonl`, and every later build honours
it: a topic whose documents were released goes where they went; only topics
with no released document are drawn, by a pure function of the topic ids,
the ratios and the seed, so a rebuild anywhere gives the same splits. A
split the ratios want filled takes only new topics.

A topic can only move when its documents were released in different splits
(two clusters merged, a human moved a document to another topic): it goes
where most of them went, and the build names every document that moved.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple, Optional

from parallel_corpus.errors import Error, Problem
from parallel_corpus.files import write_lines_atomic
from parallel_corpus.jsontext import loads

SPLIT_ORDER = ("train", "validation", "test")
RECORD_FILE = "splits.jsonl"


def _rank(topic_id: str, seed: int) -> float:
    """A stable pseudo-random number in [0, 1) for a topic."""
    digest = hashlib.sha256(f"{seed}:{topic_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_splits(
    topic_ids: Iterable[str],
    ratios: Mapping[str, float],
    seed: int,
    pinned: Optional[Mapping[str, str]] = None,
) -> dict[str, str]:
    """Split of every topic.

    `pinned` topics (those with released documents) keep their split. The
    others are drawn: with fewer topics in all than non-empty splits, they go
    to train (a one-topic test split measures nothing; the card says so);
    otherwise each falls where its stable rank lands in the cumulative
    ratios, and a split the ratios ask for but nobody holds takes the new
    train topic with the highest rank, as long as train keeps one.
    """
    pinned = dict(pinned or {})
    topics = sorted(set(topic_ids))
    fresh = [t for t in topics if t not in pinned]
    out = {t: pinned[t] for t in topics if t in pinned}
    wanted = [s for s in SPLIT_ORDER if ratios.get(s, 0) > 0]
    if len(topics) < len(wanted) or len(wanted) <= 1:
        return out | {t: "train" for t in fresh}
    bounds, acc = [], 0.0
    for split in wanted:
        acc += ratios[split]
        bounds.append((acc, split))
    for t in fresh:
        r = _rank(t, seed)
        out[t] = next((s for b, s in bounds if r < b), wanted[-1])
    for split in wanted[1:]:
        if split not in out.values():
            donors = sorted((t for t in fresh if out[t] == "train"), key=lambda t: _rank(t, seed), reverse=True)
            in_train = sum(1 for s in out.values() if s == "train")
            if donors and in_train > 1:
                out[donors[0]] = split
    return out


def pinned_topics(topic_of: Mapping[str, str], recorded: Mapping[str, "Recorded"]) -> dict[str, str]:
    """The split of every topic that holds released documents: where most of
    them went (ties in split order, train first)."""
    votes: dict[str, Counter] = {}
    for doc_id, topic in topic_of.items():
        if doc_id in recorded:
            votes.setdefault(topic, Counter())[recorded[doc_id].split] += 1
    return {t: min(c, key=lambda s: (-c[s], SPLIT_ORDER.index(s))) for t, c in votes.items()}


class Move(NamedTuple):
    """A released document in another split than its release put it in."""

    id: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.id}: {self.old} -> {self.new}"


def moves(split_of: Mapping[str, str], recorded: Mapping[str, "Recorded"]) -> list[Move]:
    """Every released document whose split changed, by id."""
    return [Move(d, recorded[d].split, s) for d, s in sorted(split_of.items()) if d in recorded and recorded[d].split != s]


# -- the record -------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """Where a document was released, and since which version."""

    split: str
    release: str


class SplitsFileError(Error, ValueError):
    """`splits.jsonl` cannot be read; its problem names file, row and field."""


_RESTORE = "restore it from git"


def read_recorded(path: Path) -> dict[str, Recorded]:
    """Released document id -> its split; empty when no release was registered."""
    from parallel_corpus import schema

    path = Path(path)
    if not path.exists():
        return {}
    out: dict[str, Recorded] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SplitsFileError(Problem.at(path, "-", "-", "not UTF-8 text", _RESTORE)) from None
    for row, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = loads(line)
        except json.JSONDecodeError as exc:
            raise SplitsFileError(Problem.at(path, row, "-", f"not valid JSON ({exc.msg})", _RESTORE)) from None
        if not isinstance(record, dict):
            raise SplitsFileError(Problem.at(path, row, "-", "expected an object", _RESTORE))
        problems = schema.record_errors("splits", record)
        if problems:
            field, message = problems[0]
            raise SplitsFileError(Problem.at(path, row, field, message, _RESTORE))
        if record["id"] in out:
            raise SplitsFileError(Problem.at(path, row, "id", f"{record['id']} is recorded twice", "keep the line of the earlier release"))
        out[record["id"]] = Recorded(record["split"], record["release"])
    return out


def record_release(path: Path, version: str, split_of: Mapping[str, str]) -> dict[str, Recorded]:
    """The record with release `version`'s documents added (or moved), written
    atomically, sorted by id: one line per document ever released, so the
    file's diff in a commit shows exactly what a release added."""
    path = Path(path)
    recorded = read_recorded(path)
    for doc_id, split in split_of.items():
        if doc_id not in recorded or recorded[doc_id].split != split:
            recorded[doc_id] = Recorded(split, version)
    body = (json.dumps({"id": d, "split": r.split, "release": r.release}, ensure_ascii=False) + "\n" for d, r in sorted(recorded.items()))
    write_lines_atomic(path, body)
    return recorded
