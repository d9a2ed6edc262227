"""report.json (engine/report.py): entries laid out while the build waits
for alignment (`BuildReport.render`) give the bytes of entries laid out at
the end."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from parallel_corpus.engine.report import BuildReport, placement

ENTRIES = [
    {"id": "a-1", "language": "sw", "removed_by_reason": {"boilerplate": 2}, "title": "Habari \"za\" leo\n", "blocks": [{"type": "title", "n": [1, 2]}], "flags": []},
    {"id": "b-2", "language": "ar", "removed_by_reason": {}, "title": "مرحبا\u2028بالعالم", "nested": {"empty": {}, "list": [], "deep": [[{"x": None}]]}},
    # An entry that already holds a key of the placement: laid out whole.
    {"id": "c-3", "language": "hi", "removed_by_reason": {}, "split": "kept from the worker", "title": "नमस्ते"},
    {"id": "d-4", "language": "hi", "removed_by_reason": {"chrome_phrase": 1}, "text": "tab\there \\ and NUL \u0000 too"},
]
TOPICS = {"a-1": ("topic-1", "train"), "b-2": ("topic-2", "validation"), "c-3": ("topic-1", "train"), "d-4": ("topic-ü", "test")}


def _placed(doc_id: str) -> dict[str, Any]:
    topic, split = TOPICS[doc_id]
    return placement(SimpleNamespace(topic_id=topic, event_id=None if doc_id == "d-4" else f"event-{doc_id}", topic_source="cluster"), split)


def _written(tmp_path: Path, name: str, render: bool, seen: list | None = None) -> bytes:
    folder = tmp_path / name
    folder.mkdir()
    report = BuildReport(entries_path=folder / "entries.jsonl")
    for entry in ENTRIES:
        report.add_document(dict(entry))
    if render:
        report.render()
    report.write(folder / "report.json", _placed, seen.append if seen is not None else None)
    return (folder / "report.json").read_bytes()


def test_entries_laid_out_early_give_the_same_report(tmp_path: Path) -> None:
    late = _written(tmp_path, "late", render=False)
    assert _written(tmp_path, "early", render=True) == late
    documents = json.loads(late)["documents"]
    assert [d["id"] for d in documents] == ["a-1", "b-2", "c-3", "d-4"]
    assert documents[0]["split"] == "train" and documents[3]["topic_id"] == "topic-ü" and documents[3]["event_id"] is None
    assert list(documents[1])[-4:] == ["topic_id", "event_id", "topic_source", "split"]
    # One that wants every entry as a dict gets them, with the same bytes.
    seen: list = []
    assert _written(tmp_path, "seen", render=True, seen=seen) == late
    assert seen == documents
