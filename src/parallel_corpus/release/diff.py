"""Comparing releases: what changed between two versions, and which
semantic-version bump that change needs.

Training code pins a version, so the version must tell it what to expect: a
removed or retyped column breaks readers (major), a new column or new
documents extend the data (minor), and changed texts or labels fix it (patch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pyarrow.parquet as pq

from parallel_corpus.align.splits import Move
from parallel_corpus.release.card import read_front_matter
from parallel_corpus.files import sha256_file

BUMPS = ("patch", "minor", "major")


def parse_version(text: str) -> tuple[int, int, int]:
    parts = text.lstrip("v").split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a version X.Y.Z")
    return int(parts[0]), int(parts[1]), int(parts[2])


def bump_of(old: str, new: str) -> Optional[str]:
    """The bump from `old` to `new`; None when `new` is not greater."""
    a, b = parse_version(old), parse_version(new)
    if b <= a:
        return None
    if b[0] > a[0]:
        return "major"
    if b[1] > a[1]:
        return "minor"
    return "patch"


@dataclass
class ReleaseDiff:
    old: str
    new: str
    documents_added: list[str] = field(default_factory=list)
    documents_removed: list[str] = field(default_factory=list)
    documents_changed: list[str] = field(default_factory=list)
    # `id: old -> new` for a document in another split than before.
    documents_moved: list[str] = field(default_factory=list)
    annotations_changed: list[str] = field(default_factory=list)
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    columns_retyped: list[str] = field(default_factory=list)
    configs_added: list[str] = field(default_factory=list)
    configs_removed: list[str] = field(default_factory=list)
    configs_changed: list[str] = field(default_factory=list)

    def required_bump(self) -> Optional[str]:
        # A moved document breaks the promise that a test document was never
        # trained on, as surely as a removed column breaks a reader.
        if self.columns_removed or self.columns_retyped or self.configs_removed or self.documents_moved:
            return "major"
        if self.columns_added or self.configs_added or self.documents_added or self.documents_removed:
            return "minor"
        if self.documents_changed or self.annotations_changed or self.configs_changed:
            return "patch"
        return None

    def is_empty(self) -> bool:
        return self.required_bump() is None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()} | {"required_bump": self.required_bump()}

    def markdown(self, limit: int = 20) -> str:
        """The changelog entry the card shows."""
        lines = [f"### v{self.new} (since v{self.old})", ""]
        if self.is_empty():
            return "\n".join(lines + ["No change in data or columns."])

        def item(label: str, values: list[str]) -> None:
            if values:
                shown = ", ".join(f"`{v}`" for v in values[:limit])
                more = f" and {len(values) - limit} more" if len(values) > limit else ""
                lines.append(f"- {label} ({len(values)}): {shown}{more}")

        item("documents added", self.documents_added)
        item("documents removed", self.documents_removed)
        item("documents that changed split", self.documents_moved)
        item("documents whose text changed", self.documents_changed)
        item("documents whose human labels changed", self.annotations_changed)
        item("configs added", self.configs_added)
        item("configs removed", self.configs_removed)
        item("configs whose Parquet files changed", self.configs_changed)
        item("columns added", self.columns_added)
        item("columns removed", self.columns_removed)
        item("columns retyped", self.columns_retyped)
        return "\n".join(lines)


def _features(folder: Path) -> dict[str, dict[str, str]]:
    """Column -> type (as the card's YAML writes it) per config."""
    import datasets

    meta = read_front_matter(folder / "README.md")
    out: dict[str, dict[str, str]] = {}
    for info in meta.get("dataset_info") or []:
        feats = datasets.Features._from_yaml_list(info["features"])
        out[info.get("config_name", "default")] = {name: str(feats.arrow_schema.field(name).type) for name in feats}
    return out


def _config_digests(folder: Path) -> dict[str, dict[str, str]]:
    """config -> {Parquet file name: sha256}."""
    data = folder / "data"
    configs = sorted(p for p in data.iterdir() if p.is_dir()) if data.is_dir() else []
    return {config.name: {path.name: sha256_file(path) for path in sorted(config.glob("*.parquet"))} for config in configs}


_HUMAN_COLUMNS = ("language", "language_source", "topic_id", "event_id", "topic_source", "entities")


def _documents(folder: Path) -> dict[str, tuple[str, str, str]]:
    """id -> (text_sha256, fingerprint of the human-set labels, split)."""
    import hashlib
    import json

    out = {}
    for path in sorted((folder / "data" / "documents").glob("*.parquet")):
        table = pq.read_table(path, columns=["id", "text_sha256", "split", *_HUMAN_COLUMNS])
        for row in table.to_pylist():
            human = {
                "language": row["language"] if row["language_source"] == "human" else None,
                "topic": (row["topic_id"], row["event_id"]) if row["topic_source"] == "human" else None,
                "entities": [e for e in row["entities"] if e.get("source") == "human"],
            }
            out[row["id"]] = (row["text_sha256"], hashlib.sha256(json.dumps(human, sort_keys=True, default=str).encode()).hexdigest(), row["split"])
    return out


def diff_releases(old: Path, new: Path) -> ReleaseDiff:
    """What changed from release folder `old` to release folder `new`."""
    diff = ReleaseDiff(old=Path(old).name.lstrip("v"), new=Path(new).name.lstrip("v"))
    fa, fb = _features(Path(old)), _features(Path(new))
    diff.configs_added = sorted(set(fb) - set(fa))
    diff.configs_removed = sorted(set(fa) - set(fb))
    for config in sorted(set(fa) & set(fb)):
        a, b = fa[config], fb[config]
        diff.columns_added += [f"{config}.{c}" for c in b if c not in a]
        diff.columns_removed += [f"{config}.{c}" for c in a if c not in b]
        diff.columns_retyped += [f"{config}.{c}: {a[c]} -> {b[c]}" for c in a if c in b and a[c] != b[c]]
    # Any value of a config may change (a pair's similarity, a topic's
    # score), not only a document's text or labels: its files say so.
    ha, hb = _config_digests(Path(old)), _config_digests(Path(new))
    diff.configs_changed = sorted(c for c in set(ha) & set(hb) if ha[c] != hb[c])
    da, db = _documents(Path(old)), _documents(Path(new))
    diff.documents_added = sorted(set(db) - set(da))
    diff.documents_removed = sorted(set(da) - set(db))
    for doc_id in sorted(set(da) & set(db)):
        if da[doc_id][2] != db[doc_id][2]:
            diff.documents_moved.append(str(Move(doc_id, da[doc_id][2], db[doc_id][2])))
        if da[doc_id][0] != db[doc_id][0]:
            diff.documents_changed.append(doc_id)
        elif da[doc_id][1] != db[doc_id][1]:
            diff.annotations_changed.append(doc_id)
    return diff


def check_bump(diff: ReleaseDiff) -> Optional[str]:
    """Why the version step from `diff.old` to `diff.new` does not fit the
    change, or None when it does."""
    step = bump_of(diff.old, diff.new)
    if step is None:
        return f"v{diff.new} is not greater than the previous release v{diff.old}"
    needed = diff.required_bump()
    if needed is not None and BUMPS.index(step) < BUMPS.index(needed):
        reasons = {
            "major": diff.columns_removed + diff.columns_retyped + [f"config {c} removed" for c in diff.configs_removed]
            + [f"{len(diff.documents_moved)} document(s) change split, first {diff.documents_moved[0]}" for _ in diff.documents_moved[:1]],
            "minor": diff.columns_added + [f"config {c} added" for c in diff.configs_added]
            + [f"{len(diff.documents_added)} document(s) added"] * bool(diff.documents_added)
            + [f"{len(diff.documents_removed)} document(s) removed"] * bool(diff.documents_removed),
        }[needed]
        return f"v{diff.old} -> v{diff.new} is a {step} bump, but the change needs a {needed} one ({'; '.join(reasons[:3])})"
    return None


def previous_release(dist: Path, version: str) -> Optional[Path]:
    """The newest release folder in `dist` older than `version`."""
    target = parse_version(version)
    older = []
    for p in Path(dist).glob("v*"):
        try:
            v = parse_version(p.name)
        except ValueError:
            continue
        if p.is_dir() and v < target and (p / "README.md").is_file():
            older.append((v, p))
    return max(older)[1] if older else None
