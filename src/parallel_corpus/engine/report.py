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

    def write(self, path: Path, placement: Callable[[str], dict[str, Any]], on_entry: Optional[Callable[[dict[str, Any]], Any]] = None) -> None:
        """report.json: the summary, every document's entry with its topic,
        event and split (`placement` of its id), and what was left out. The
        entries are streamed from their spill, one at a time, in the layout
        `json.dump(..., indent=2)` gives the whole; `on_entry` sees each."""
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
                with open(self.entries_path, encoding="utf-8") as entries:  # type: ignore[arg-type]
                    for i, line in enumerate(entries):
                        entry = json.loads(line)
                        entry.update(placement(entry["id"]))
                        if on_entry is not None:
                            on_entry(entry)
                        fh.write(("," if i else "") + "\n    " + _indented(entry, "    "))
                fh.write("\n  ]")
            fh.write("\n}\n")


def _indented(value: Any, indent: str) -> str:
    """`value` as `json.dumps(indent=2)` writes it nested at `indent`."""
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + indent)
