"""The build report: what a build saw, as `report.json` and as a summary.

A corpus of any size must not be held in memory for its report: each
document's entry goes to a JSON-lines spill as it comes, and report.json is
streamed from that spill once alignment has placed every document, in the
same bytes `json.dump(..., indent=2)` of the whole would give.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from parallel_corpus.records import Skip


@dataclass
class BuildReport:
    """What the build saw. Per-document entries go to a JSON-lines spill as
    they come (a corpus of any size holds only counts here) and are joined
    with their topic when report.json is written."""

    skipped: list[Skip] = field(default_factory=list)
    unlisted_files: list[str] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    # Released documents whose split this build changed (`id: old -> new`).
    split_moves: list[str] = field(default_factory=list)
    annotations: dict[str, Any] = field(default_factory=dict)
    gazetteer: dict[str, int] = field(default_factory=dict)
    num_documents: int = 0
    languages: Counter = field(default_factory=Counter)
    removed: Counter = field(default_factory=Counter)
    entries_path: Optional[Path] = None
    _entries: Any = None
    # Each entry as report.json lays it out, made before its placement is
    # known (`render`): the ids of the entries, None where the entry is
    # laid out whole when report.json is written.
    _rendered: Optional[list[Optional[str]]] = None

    def add_document(self, entry: dict[str, Any]) -> None:
        self.num_documents += 1
        self.languages[entry["language"]] += 1
        self.removed.update(entry["removed_by_reason"])
        if self._entries is None:
            assert self.entries_path is not None
            self._entries = open(self.entries_path, "w", encoding="utf-8")
        self._entries.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def summary(self) -> dict[str, Any]:
        """Everything but the per-document entries."""
        return {
            "num_documents": self.num_documents,
            "num_skipped": len(self.skipped),
            "languages": dict(sorted(self.languages.items())),
            "removed_lines_by_reason": dict(sorted(self.removed.items())),
            "splits": self.splits,
            "split_moves": self.split_moves,
            "topics": self.topics,
        }

    def close(self) -> None:
        if self._entries is not None:
            self._entries.close()

    def render(self) -> None:
        """Lay out every entry as report.json holds it, but for its placement
        (topic, event, split), which `write` adds: made while the build's
        driver waits for alignment, it costs `write`, at the build's end,
        little more than copying (on 100,000 documents, 2.7 s of laying out
        JSON moved out of the build's last steps). The layouts go to a file
        beside the entries, a line each (their line breaks as NUL, which
        JSON text holds none of)."""
        self.close()
        if self.entries_path is None or not self.num_documents:
            return
        ids: list[Optional[str]] = []
        with open(self.entries_path, encoding="utf-8") as entries, open(self._rendered_path(), "w", encoding="utf-8") as out:
            for line in entries:
                entry = json.loads(line)
                laid = _indented(entry, "    ")
                if not isinstance(entry, dict) or not laid.endswith(_ENTRY_END) or any(key in entry for key in _PLACEMENT_KEYS):
                    ids.append(None)  # laid out whole by `write`
                    out.write(line.rstrip("\n").replace("\n", "\0") + "\n")
                    continue
                ids.append(entry["id"])
                out.write(laid[: -len(_ENTRY_END)].replace("\n", "\0") + "\n")
        self._rendered = ids

    def _rendered_path(self) -> Path:
        assert self.entries_path is not None
        return self.entries_path.with_name(self.entries_path.name + ".rendered")

    def write(self, path: Path, placement: Callable[[str], dict[str, Any]], on_entry: Optional[Callable[[dict[str, Any]], Any]] = None) -> None:
        """report.json: the summary, every document's entry with its topic,
        event and split (`placement` of its id), and what was left out. The
        entries are streamed from their spill, one at a time, in the layout
        `json.dump(..., indent=2)` gives the whole (from their layouts,
        where `render` made them and no `on_entry` wants each as a dict);
        `on_entry` sees each."""
        self.close()
        members = list(self.summary().items()) + [("documents", None)] + [
            ("skipped", [s.as_dict() for s in self.skipped]), ("unlisted_files", self.unlisted_files),
            ("annotations", self.annotations), ("gazetteer", self.gazetteer),
        ]
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("{")
            for n, (key, value) in enumerate(members):
                fh.write(("," if n else "") + "\n  " + json.dumps(key) + ": ")
                if key != "documents":
                    fh.write(_indented(value, "  "))
                    continue
                if not self.num_documents:
                    fh.write("[]")
                    continue
                fh.write("[")
                if self._rendered is not None and on_entry is None:
                    self._write_rendered(fh, placement)
                else:
                    with open(self.entries_path, encoding="utf-8") as entries:  # type: ignore[arg-type]
                        for i, line in enumerate(entries):
                            entry = _placed(line, placement)
                            if on_entry is not None:
                                on_entry(entry)
                            fh.write(("," if i else "") + "\n    " + _indented(entry, "    "))
                fh.write("\n  ]")
            fh.write("\n}\n")


    def _write_rendered(self, fh: Any, placement: Callable[[str], dict[str, Any]]) -> None:
        """The entries from their layouts (`render`), each with its placement
        laid out after its last member, as `json.dump` of the entry updated
        with it would (a member's layout nested one level below the entry's)."""
        assert self._rendered is not None
        with open(self._rendered_path(), encoding="utf-8") as laid:
            for i, (doc_id, line) in enumerate(zip(self._rendered, laid)):
                text = line[:-1].replace("\0", "\n")
                if doc_id is None:
                    text = _indented(_placed(text, placement), "    ")
                else:
                    text += "".join(f",\n      {json.dumps(key, ensure_ascii=False)}: {_indented(value, '      ')}" for key, value in placement(doc_id).items()) + _ENTRY_END
                fh.write(("," if i else "") + "\n    " + text)


# The keys `write` adds to an entry (`placement`), and how the layout of
# an entry ends.
_PLACEMENT_KEYS = ("topic_id", "event_id", "topic_source", "split")
_ENTRY_END = "\n    }"


def _placed(line: str, placement: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """An entry (its JSON) with its placement."""
    entry = json.loads(line)
    entry.update(placement(entry["id"]))
    return entry


def placement(assignment: Any, split: str) -> dict[str, Any]:
    """What report.json adds to a document's entry once it is aligned: its
    topic, event and their source (an `Assignment`), and its split."""
    return dict(zip(_PLACEMENT_KEYS, (assignment.topic_id, assignment.event_id, assignment.topic_source, split)))


def _indented(value: Any, indent: str) -> str:
    """`value` as `json.dumps(indent=2)` writes it nested at `indent`."""
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + indent)
