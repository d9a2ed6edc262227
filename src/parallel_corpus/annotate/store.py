"""The annotations store: `annotations/<kind>.jsonl` and `annotations/quarantine.jsonl`.

The store is the source of truth for human labels, kept in git beside the
corpus. It only ever learns: an import merges records by key, the newest
`updated_at` winning, and writes each file whole or not at all (through
`parallel_corpus.files`). The build reads it again with the same checks
(`read_store`, `check_store_spans`), because a person may have edited or
merged it since import; it applies what passes and names the rest.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Iterator, Mapping, Optional

from parallel_corpus import schema
from parallel_corpus.annotate.controls import KINDS
from parallel_corpus.annotate.spans import document_mismatch, span_mismatch
from parallel_corpus.files import write_lines_atomic
from parallel_corpus.jsontext import loads
from parallel_corpus.errors import Error

QUARANTINE_FILE = "quarantine.jsonl"


class AnnotationError(Error, ValueError):
    """An export or store that cannot be read; the message is one line naming the file and row."""


# -- which record is newer ------------------------------------------------------------


def updated_later(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether `a` was updated after `b`: the newest `updated_at` wins (a record
    without one is older than any with one); on a tie neither is later, so
    whoever holds the place keeps it. Merging, the build and agreement all
    decide by this one rule."""
    return (a.get("updated_at") or "") > (b.get("updated_at") or "")


def newest(records: Iterable[dict[str, Any]], group: Callable[[dict[str, Any]], Hashable]) -> dict[Hashable, dict[str, Any]]:
    """Per `group(record)`, the record updated last (`updated_later`); on a tie, the one met first."""
    latest: dict[Hashable, dict[str, Any]] = {}
    for record in records:
        g = group(record)
        old = latest.get(g)
        if old is None or updated_later(record, old):
            latest[g] = record
    return latest


# -- the files ------------------------------------------------------------------------


def _sort_key(record: Mapping[str, Any]) -> tuple:
    return (record.get("project_id") or -1, record.get("task_id") or -1, record.get("annotation_id") or -1, record.get("key") or "")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file ([] when absent); a broken line is one error naming it."""
    rows = []
    for number, row, problem in scan_jsonl(path):
        if problem is not None:
            raise AnnotationError(f"{path}:{number}: {problem}: fix or remove the line")
        rows.append(row)
    return rows


def scan_jsonl(path: Path) -> Iterator[tuple[int, Any, Optional[str]]]:
    """(line number, row, None) for each line of a JSON-lines file, or
    (line number, None, what is wrong) for one that does not parse."""
    path = Path(path)
    if not path.exists():
        return
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, None, f"not UTF-8 (byte {exc.start + 1})"
            continue
        if not line.strip():
            continue
        try:
            yield number, loads(line), None
        except json.JSONDecodeError as exc:
            yield number, None, f"not valid JSON ({exc.msg})"


def write_jsonl_atomic(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write all rows or nothing (`parallel_corpus.files.write_lines_atomic`)."""
    write_lines_atomic(path, (json.dumps(row, ensure_ascii=False, sort_keys=False, separators=(",", ":")) + "\n" for row in rows))


def merge_records(existing: Iterable[dict[str, Any]], incoming: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Union by key; a record `updated_later` than the stored one replaces it, anything else keeps what is stored.

    So a re-import changes nothing, and an annotation missing from a later export
    (deleted or filtered on the server) is kept: the store only ever learns.
    """
    merged = {r["key"]: r for r in existing}
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    for record in incoming:
        old = merged.get(record["key"])
        if old is None:
            merged[record["key"]] = record
            counts["added"] += 1
        elif updated_later(record, old):
            merged[record["key"]] = record
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return sorted(merged.values(), key=_sort_key), counts


def merge_quarantine(existing: Iterable[dict[str, Any]], incoming: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Quarantine entries deduplicated on their whole content, sorted: re-imports add nothing."""
    seen = {}
    for row in itertools.chain(existing, incoming):
        seen[json.dumps(row, sort_keys=True, ensure_ascii=False)] = row
    return [seen[k] for k in sorted(seen, key=lambda k: (_sort_key(seen[k]), k))]


@dataclass
class Normalized:
    """What an export gives the store: records to merge and quarantine entries,
    with the span counts `--check` prints."""

    records: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    verified: int = 0
    realigned: int = 0
    quarantined: int = 0
    annotations: int = 0

    def counts(self) -> dict[str, int]:
        return {"annotations": self.annotations, "verified": self.verified, "realigned": self.realigned, "quarantined": self.quarantined}


@dataclass
class StoreResult:
    """What a merge did, for the command's one-line summary."""

    kind: str
    path: Path
    quarantine_path: Path
    counts: dict[str, int]
    quarantined: int
    span_counts: dict[str, int]
    quarantine: list[dict[str, Any]] = field(default_factory=list)  # this merge's entries, for one line each


def validate_records(records: Iterable[dict[str, Any]], where: str) -> None:
    """Refuse to store a record the schema rejects: the store must always validate."""
    for number, record in enumerate(records, start=1):
        problem = record_problem(record)
        if problem:
            raise AnnotationError(f"{where}:{number}:{problem}")


def record_problem(record: Any) -> Optional[str]:
    """`field: message` of the first way a record breaks the annotations schema, or None."""
    if not isinstance(record, dict):
        return f"-: expected an object, got {type(record).__name__}"
    errors = schema.record_errors("annotations", record)
    if errors:
        field_path, message = errors[0]
        return f"{field_path}: {message}"
    return None


def store(annotations_dir: Path, kind: str, normalized: Normalized) -> StoreResult:
    """Merge `normalized` into annotations/<kind>.jsonl and the quarantine file, atomically."""
    annotations_dir = Path(annotations_dir)
    path = annotations_dir / f"{kind}.jsonl"
    qpath = annotations_dir / QUARANTINE_FILE
    existing = read_jsonl(path)
    existing_q = read_jsonl(qpath)
    validate_records(normalized.records, f"{kind} export")
    merged, counts = merge_records(existing, normalized.records)
    quarantine = merge_quarantine(existing_q, normalized.quarantine)
    write_jsonl_atomic(path, merged)
    write_jsonl_atomic(qpath, quarantine)
    return StoreResult(kind, path, qpath, counts, len(normalized.quarantine), normalized.counts(), list(normalized.quarantine))


def stored_project_ids(annotations_dir: Path, kind: str) -> set[int]:
    """The Label Studio projects the stored `kind` records come from (an import refuses another)."""
    return {r["project_id"] for r in read_jsonl(Path(annotations_dir) / f"{kind}.jsonl") if r.get("project_id") is not None}


# -- the store as the build reads it ----------------------------------------------------
#
# The store is the source of truth and may have been edited by hand or merged
# by git since `import` checked it. The build checks it again with the same
# functions (the schema, the spans against the current text, the documents)
# and applies only what passes; what fails is named, one line each, in the
# build's output and report.json, and the store is never written: fixing a
# line is a person's decision, and a build must not change its own input.


@dataclass
class StoreRead:
    """The records of the store that passed, each with its `file:line`, and a
    line for every one that did not."""

    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_store(annotations_dir: Path) -> StoreRead:
    """The records of annotations/<kind>.jsonl, each line parsed and checked
    against the schema, deduplicated by `key` (the annotation's identity):
    an exact copy of a line (a careless merge) is kept once without a word;
    two different lines with one key are named, and the one updated later
    wins (`updated_later`, as on import; on a tie, the first line)."""
    out = StoreRead()
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for kind in KINDS:
        path = Path(annotations_dir) / f"{kind}.jsonl"
        for number, record, problem in scan_jsonl(path):
            where = f"{path}:{number}"
            problem = f"-: {problem}" if problem is not None else record_problem(record)
            if problem is None and record["kind"] != kind:
                problem = f"kind: {record['kind']!r} in {path.name}: move the line to {record['kind']}.jsonl"
            if problem is not None:
                out.problems.append(f"{where}:{problem}: not applied; fix or remove the line (import checks it again)")
                continue
            first = seen.get(record["key"])
            if first is None:
                seen[record["key"]] = (where, record)
                continue
            if first[1] == record:
                continue
            later = updated_later(record, first[1])
            kept, lost = (where, first[0]) if later else (first[0], where)
            out.problems.append(
                f"{lost}:key: annotation {record['key']!r} is also on {kept} with other content: {kept} is applied (updated later, "
                f"or first); remove the line that is wrong"
            )
            if later:
                seen[record["key"]] = (where, record)
    out.records = list(seen.values())
    return out


def check_store_spans(read: StoreRead, documents: Mapping[str, Mapping[str, Any]]) -> StoreRead:
    """`read` without the records whose spans are not their text (`span_mismatch`)
    in the current documents, each named. A record whose document is gone or
    changed stays: the build reports it as stale and does not apply it."""
    out = StoreRead(problems=list(read.problems))
    for where, record in read.records:
        doc = documents.get(record.get("document_id") or "")
        found = None
        if doc is not None and document_mismatch(record, documents) is None:
            found = span_mismatch(record, doc.get("text") or "")
        if found is None:
            out.records.append((where, record))
        else:
            index, reason = found
            out.problems.append(f"{where}:entities.{index}: {reason}: not applied; correct it in Label Studio and pull or import again")
    return out

