"""Normalize Label Studio exports into checked annotation records, and store them.

Input: a JSON export (tasks with `annotations[].result[]`), a JSON-MIN export (flat
rows) or an old 0.x `completions` file. Output: records of
`schemas/annotations.schema.json` in `annotations/<kind>.jsonl`, every entity span
verified against the text it was made on, plus `annotations/quarantine.jsonl`
for what could not be trusted. Also what the build applies (`human_overrides`)
and inter-annotator agreement (`agreement`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional

from parallel_corpus.files import write_lines_atomic
from parallel_corpus.jsontext import loads
from parallel_corpus import schema

KINDS = ("documents", "pairs")
ENTITY_LABELS = ("person", "organisation", "place", "date", "event")
LANGUAGES = ("sw", "hi", "ar", "en", "other")
RATING_DIMENSIONS = ("geography", "entities", "time", "narrative", "overall", "style", "tone")
# The record column of a rating: `entities` already names the spans.
RATING_COLUMN = {d: ("entities_rating" if d == "entities" else d) for d in RATING_DIMENSIONS}
QUARANTINE_FILE = "quarantine.jsonl"

# from_name -> role, per kind: the control names of schemas/labelstudio/<kind>.xml.
# Two span controls exist for documents because the right-to-left view has its own Text.
CONTROLS = {
    "documents": {
        "entities": "spans", "entities_rtl": "spans", "language": "language", "topic_id": "topic_id",
        "event_id": "event_id", "cleaning": "cleaning", "comment": "comment",
    },
    "pairs": {**{d: "rating" for d in RATING_DIMENSIONS}, "comment": "comment"},
}
# Text (to_name) -> task data field holding the text, for our configs.
TEXT_FIELDS = {"text": "text", "text_rtl": "text", "text_1": "text_1", "text_2": "text_2"}
# Task data fields that make a task ours; `annotate push` writes them.
MARKER_FIELDS = {"documents": ("task_key", "document_id", "text", "text_sha256"), "pairs": ("task_key", "pair_id", "document_id_1", "document_id_2")}
# JSON-MIN metadata keys; every other key of a row is a control's value or task data.
MIN_META = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "project"}


class AnnotationError(ValueError):
    """An export or store that cannot be read; the message is one line naming the file and row."""


# -- reading exports ----------------------------------------------------------------


def read_json_file(path: Path) -> Any:
    """The parsed JSON of `path`, or one line saying where it breaks."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AnnotationError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise AnnotationError(f"{path}: not UTF-8 (byte {exc.start}): export JSON from Label Studio again") from exc
    except json.JSONDecodeError as exc:
        raise AnnotationError(
            f"{path}:{exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno}): the file is truncated or not a Label Studio export"
        ) from exc


def detect_format(payload: Any) -> str:
    """`json`, `json-min` or `completions`, from the shape of a parsed export."""
    items = payload if isinstance(payload, list) else [payload]
    dicts = [x for x in items if isinstance(x, dict)]
    if len(dicts) != len(items):
        raise AnnotationError("export holds something other than JSON objects")
    if not dicts:
        return "json"
    if all("completions" in d for d in dicts):
        return "completions"
    if all("annotations" in d or "data" in d or "predictions" in d for d in dicts):
        return "json"
    if all("annotation_id" in d or "annotator" in d for d in dicts):
        return "json-min"
    raise AnnotationError("neither a JSON export (tasks with annotations), a JSON-MIN export nor 0.x completions")


def tasks_from_export(payload: Any, kind: Optional[str] = None) -> list[dict[str, Any]]:
    """Every task of a parsed export in one shape: {id, project, data, meta, annotations[]}.

    JSON-MIN rows are regrouped by task and their flat values turned back into
    result items, which needs our control names (`kind`); without a kind, list
    values that look like spans are taken as spans.
    """
    fmt = detect_format(payload)
    items = payload if isinstance(payload, list) else [payload]
    if fmt == "completions":
        return [_task_from_completions(t, i) for i, t in enumerate(items)]
    if fmt == "json-min":
        return _tasks_from_min(items, kind)
    return [_task_from_json(t, i) for i, t in enumerate(items)]


def _task_from_json(task: dict[str, Any], index: int) -> dict[str, Any]:
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list) or not isinstance(task.get("data", {}), dict):
        raise AnnotationError(f"task {index + 1}: `annotations` must be a list and `data` an object")
    return {
        "index": index, "id": _int_or_none(task.get("id")), "project": _int_or_none(task.get("project")),
        "data": task.get("data") or {}, "meta": task.get("meta") or {}, "annotations": [_annotation(a, task, index) for a in annotations],
    }


def _task_from_completions(task: dict[str, Any], index: int) -> dict[str, Any]:
    """Label Studio 0.x wrote `completions` where 1.x writes `annotations`."""
    converted = dict(task, annotations=task.get("completions") or [])
    converted.pop("completions", None)
    return _task_from_json(converted, index)


def _annotation(ann: Any, task: dict[str, Any], index: int) -> dict[str, Any]:
    if not isinstance(ann, dict) or not isinstance(ann.get("result", []), list):
        raise AnnotationError(f"task {task.get('id', index + 1)}: an annotation is not an object with a `result` list")
    return {
        "id": _int_or_none(ann.get("id")), "completed_by": _annotator(ann.get("completed_by")),
        "created_at": _str_or_none(ann.get("created_at")), "updated_at": _str_or_none(ann.get("updated_at")),
        "lead_time": _float_or_none(ann.get("lead_time")), "was_cancelled": bool(ann.get("was_cancelled")),
        "last_action": ann.get("last_action"), "result": [r for r in ann.get("result") or [] if isinstance(r, dict)],
        "malformed_results": sum(1 for r in ann.get("result") or [] if not isinstance(r, dict)),
    }


def _tasks_from_min(rows: list[dict[str, Any]], kind: Optional[str]) -> list[dict[str, Any]]:
    """JSON-MIN: one row per annotation with the task data and each control's value flattened in."""
    controls = CONTROLS.get(kind or "", {})
    tasks: dict[Any, dict[str, Any]] = {}
    for index, row in enumerate(rows):
        task_id = _int_or_none(row.get("id"))
        key = task_id if task_id is not None else f"row{index}"
        data = {k: v for k, v in row.items() if k not in MIN_META and k not in controls and not _looks_like_spans(v)}
        task = tasks.setdefault(key, {"index": index, "id": task_id, "project": _int_or_none(row.get("project")), "data": data, "meta": {}, "annotations": []})
        result = []
        for name, value in row.items():
            if name in MIN_META or (name in data and name not in controls):
                continue
            result.extend(_min_value_to_results(name, value, controls.get(name), data))
        if row.get("annotation_id") is None and not result:
            continue  # a task nobody annotated: JSON-MIN still gives it a row
        task["annotations"].append({
            "id": _int_or_none(row.get("annotation_id")), "completed_by": _annotator(row.get("annotator")),
            "created_at": _str_or_none(row.get("created_at")), "updated_at": _str_or_none(row.get("updated_at")),
            "lead_time": _float_or_none(row.get("lead_time")), "was_cancelled": False, "last_action": None,
            "result": result, "malformed_results": 0,
        })
    return list(tasks.values())


def _looks_like_spans(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and "start" in v and "end" in v for v in value)


def _min_value_to_results(name: str, value: Any, role: Optional[str], data: dict[str, Any]) -> list[dict[str, Any]]:
    """Result items of one flattened JSON-MIN value (spans, choices or text)."""
    if _looks_like_spans(value):
        to_name = "text_rtl" if name == "entities_rtl" else "text"
        return [{"from_name": name, "to_name": to_name, "type": "labels", "value": dict(v)} for v in value]
    if role in ("spans", None):
        return []
    to_name = "text_1" if role == "rating" or (role == "comment" and "text_1" in data) else "text"
    if role in ("language", "rating"):
        return [{"from_name": name, "to_name": to_name, "type": "choices", "value": {"choices": [str(value)]}}]
    if role == "cleaning":
        choices = value.get("choices") if isinstance(value, dict) else ([value] if isinstance(value, str) else value)
        return [{"from_name": name, "to_name": to_name, "type": "choices", "value": {"choices": list(choices or [])}}]
    texts = value if isinstance(value, list) else [value]
    return [{"from_name": name, "to_name": to_name, "type": "textarea", "value": {"text": [str(t) for t in texts]}}]


def _annotator(value: Any) -> Optional[str]:
    if isinstance(value, dict):
        return value.get("email") or (f"user:{value['id']}" if value.get("id") is not None else None)
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int):
        return f"user:{value}"
    return str(value)


def _int_or_none(value: Any) -> Optional[int]:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _float_or_none(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _str_or_none(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


# -- verifying spans ----------------------------------------------------------------


@dataclass(frozen=True)
class SpanCheck:
    """Where a span really is in the text, or why it cannot be placed."""

    verification: Optional[str]  # verified | realigned_utf16 | realigned_whitespace | None
    start: int = 0
    end: int = 0
    text: str = ""
    reason: Optional[str] = None


def utf16_to_codepoint(text: str, offset: int) -> Optional[int]:
    """The code-point offset of a UTF-16 unit offset, or None inside a surrogate pair or past the end.

    Label Studio before the fix of issues #1347/#1008/#4988 counted JavaScript string
    units, so every astral character (emoji, some CJK) before a span shifted it by one.
    """
    units = 0
    for i, ch in enumerate(text):
        if units == offset:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > offset:
            return None
    return len(text) if units == offset else None


def verify_span(text: str, start: Any, end: Any, span_text: Any) -> SpanCheck:
    """Check `text[start:end] == span_text` (code points), realigning where an old export shifted it."""
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        return SpanCheck(None, reason="span offsets are not integers")
    if not isinstance(span_text, str):
        return SpanCheck(None, reason="span has no text to check its offsets against")
    if not 0 <= start <= end:
        return SpanCheck(None, reason=f"span offsets {start}-{end} are not an interval")
    if text[start:end] == span_text and end <= len(text):
        stripped = span_text.strip()
        if stripped and stripped != span_text:
            # A selection that caught a space: keep the entity, not the space.
            lead = len(span_text) - len(span_text.lstrip())
            return SpanCheck("realigned_whitespace", start + lead, start + lead + len(stripped), stripped)
        return SpanCheck("verified", start, end, span_text)
    candidates = [("realigned_utf16", utf16_to_codepoint(text, start), utf16_to_codepoint(text, end))]
    for how, s, e in candidates:
        if s is not None and e is not None and s != start and text[s:e] == span_text:
            return SpanCheck(how, s, e, span_text)
    stripped = span_text.strip()
    if stripped:
        for s, e in [(start, end), (candidates[0][1], candidates[0][2])]:
            if s is None or e is None:
                continue
            window = text[s:e]
            if window.strip() == stripped:
                lead = len(window) - len(window.lstrip())
                return SpanCheck("realigned_whitespace", s + lead, s + lead + len(stripped), stripped)
            # The span text carries whitespace that the offsets left out.
            if window == stripped or (stripped in span_text and text[s:s + len(stripped)] == stripped):
                return SpanCheck("realigned_whitespace", s, s + len(stripped), stripped)
    found = text[start:end] if end <= len(text) else text[start:]
    return SpanCheck(None, reason=f"text[{start}:{end}] is {found[:40]!r}, not the span text {span_text[:40]!r}")


# -- normalizing ---------------------------------------------------------------------


@dataclass
class Normalized:
    """Records and quarantine entries of one export, with the span counts `--check` prints."""

    records: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    verified: int = 0
    realigned: int = 0
    quarantined: int = 0
    annotations: int = 0

    def counts(self) -> dict[str, int]:
        return {"annotations": self.annotations, "verified": self.verified, "realigned": self.realigned, "quarantined": self.quarantined}


def detect_kind(tasks: list[dict[str, Any]]) -> Optional[str]:
    """`documents` or `pairs` when every task carries our marker fields, else None."""
    for kind in KINDS:
        if tasks and all(all(f in t["data"] for f in MARKER_FIELDS[kind]) for t in tasks):
            return kind
    return None


def _task_text(task: dict[str, Any], item: dict[str, Any]) -> Optional[str]:
    """The text a result item was made on: its Text's data field (ours, `source`, or by name)."""
    data = task["data"]
    to_name = item.get("to_name")
    source = item.get("source")
    for name in (TEXT_FIELDS.get(to_name or ""), source[1:] if isinstance(source, str) and source.startswith("$") else None, to_name, "text"):
        if name and isinstance(data.get(name), str):
            return data[name]
    strings = [v for v in data.values() if isinstance(v, str)]
    return max(strings, key=len) if len(strings) == 1 else None


def _span_items(ann: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in ann["result"]:
        value = item.get("value")
        if isinstance(value, dict) and ("start" in value or "end" in value) and item.get("type", "labels") in ("labels", "hypertextlabels", "span"):
            yield item


def _span_label(value: dict[str, Any]) -> Optional[str]:
    for key in ("labels", "hypertextlabels"):
        labels = value.get(key)
        if isinstance(labels, list) and labels:
            return str(labels[0])
    return None


def _annotation_key(task: dict[str, Any], ann: dict[str, Any]) -> str:
    """t<task>/a<annotation>: JSON-MIN has no project id, and annotation ids are unique per server.

    A content hash stands in for ids an export lacks (0.x files, pre-annotated imports)."""
    if ann["id"] is not None and task["id"] is not None:
        return f"t{task['id']}/a{ann['id']}"
    digest = hashlib.sha256(json.dumps([task["data"], ann["result"], ann["completed_by"]], sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    return f"t{task['id'] if task['id'] is not None else '-'}/h{digest}"


def _status(ann: dict[str, Any]) -> str:
    if not ann["was_cancelled"]:
        return "completed"
    return "skipped" if ann["last_action"] in (None, "skipped") else "cancelled"


def _choices(item: dict[str, Any]) -> list[str]:
    value = item.get("value") or {}
    choices = value.get("choices") if isinstance(value, dict) else None
    return [str(c) for c in choices] if isinstance(choices, list) else []


def _textarea(item: dict[str, Any]) -> Optional[str]:
    value = item.get("value") or {}
    texts = value.get("text") if isinstance(value, dict) else None
    if isinstance(texts, str):
        texts = [texts]
    elif not isinstance(texts, list):
        texts = []  # a hand-edited or foreign export: a number or an object is no text
    joined = "\n".join(str(t) for t in texts if str(t).strip()).strip()
    return joined or None


def _rating(item: dict[str, Any]) -> Optional[int]:
    value = item.get("value") or {}
    raw = value.get("rating") if isinstance(value, dict) and "rating" in value else (_choices(item) or [None])[0]
    number = _int_or_none(raw if not isinstance(raw, str) else raw.strip()[:1])
    return number if number is not None and 1 <= number <= 4 else None


def normalize(tasks: list[dict[str, Any]], kind: Optional[str], source: str) -> Normalized:
    """Records for every annotation of `tasks`; spans checked against the task's own text.

    With a `kind`, an annotation with any span that cannot be placed goes to quarantine
    whole, so the build never applies half of a human's entity list. Without one
    (`--check` on a foreign export) only the counts matter.
    """
    out = Normalized()
    for task in tasks:
        for ann in task["annotations"]:
            out.annotations += 1
            record, problems = _record(task, ann, kind, source, out)
            if problems:
                out.quarantine.extend(problems)
            elif record is not None:
                out.records.append(record)
    return out


def _record(task: dict[str, Any], ann: dict[str, Any], kind: Optional[str], source: str, out: Normalized) -> tuple[Optional[dict[str, Any]], list[dict[str, Any]]]:
    key = _annotation_key(task, ann)
    base = _quarantine_base(task, ann, key, kind)
    spans, problems = [], []
    for item in _span_items(ann):
        value = item["value"]
        text = _task_text(task, item)
        check = verify_span(text, value.get("start"), value.get("end"), value.get("text")) if text is not None else SpanCheck(None, reason="task data holds no text for this span")
        if check.verification is None:
            out.quarantined += 1
            problems.append({**base, "reason": check.reason, "span": {k: value.get(k) for k in ("start", "end", "text")}, "label": _span_label(value)})
            continue
        out.verified += check.verification == "verified"
        out.realigned += check.verification != "verified"
        spans.append({
            "start": check.start, "end": check.end, "text": check.text, "label": _span_label(value) or "",
            "verification": check.verification, "exported_start": value["start"], "exported_end": value["end"],
        })
    if ann["malformed_results"]:
        problems.append({**base, "reason": f"{ann['malformed_results']} result item(s) are not objects", "span": None, "label": None})
    if kind is None or problems:
        return None, problems
    return _fill_record(task, ann, kind, key, source, spans), []


def _quarantine_base(task: dict[str, Any], ann: dict[str, Any], key: str, kind: Optional[str]) -> dict[str, Any]:
    data = task["data"]
    return {
        "key": key, "kind": kind, "project_id": task["project"], "task_id": task["id"], "annotation_id": ann["id"],
        "document_id": _str_or_none(data.get("document_id") if kind != "pairs" else data.get("document_id_1")),
        "pair_id": _str_or_none(data.get("pair_id")), "annotator": ann["completed_by"], "updated_at": ann["updated_at"],
    }


def _fill_record(task: dict[str, Any], ann: dict[str, Any], kind: str, key: str, source: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    data = task["data"]
    controls = CONTROLS[kind]
    record: dict[str, Any] = {
        "key": key, "kind": kind, "project_id": task["project"], "task_id": task["id"], "annotation_id": ann["id"],
        "annotator": ann["completed_by"], "created_at": ann["created_at"], "updated_at": ann["updated_at"],
        "lead_time": ann["lead_time"], "status": _status(ann),
        "document_id": _str_or_none(data.get("document_id_1" if kind == "pairs" else "document_id")),
        "document_id_2": _str_or_none(data.get("document_id_2")) if kind == "pairs" else None,
        "pair_id": _str_or_none(data.get("pair_id")) if kind == "pairs" else None,
        "text_sha256": _sha_or_none(data.get("text_sha256_1" if kind == "pairs" else "text_sha256")),
        "text_sha256_2": _sha_or_none(data.get("text_sha256_2")) if kind == "pairs" else None,
        "entities": sorted(spans, key=lambda s: (s["start"], s["end"], s["label"])),
        "topic_id": None, "event_id": None, "language": None, "cleaning_problems": [], "comment": None,
        **{RATING_COLUMN[d]: None for d in RATING_DIMENSIONS}, "source": source,
    }
    for item in ann["result"]:
        name = item.get("from_name")
        role = controls.get(name)
        if role in ("topic_id", "event_id", "comment"):
            record[role] = _textarea(item)
        elif role == "language":
            chosen = _choices(item)
            record["language"] = chosen[0] if chosen and chosen[0] in LANGUAGES else None
        elif role == "cleaning":
            record["cleaning_problems"] = sorted(set(_choices(item)))
        elif role == "rating":
            record[RATING_COLUMN[name]] = _rating(item)
    return record


def _sha_or_none(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value) else None


# -- checks against our corpus --------------------------------------------------------


def foreign_reasons(tasks: list[dict[str, Any]], kind: str, project_ids: Iterable[int] = ()) -> Optional[str]:
    """Why an export is not from our `kind` project and config, or None when it is.

    `project_ids` are the projects already in the store: an export of another
    project with the same config would mix two annotation rounds under one key space.
    """
    for task in tasks:
        missing = [f for f in MARKER_FIELDS[kind] if f not in task["data"]]
        if missing:
            return f"task {task['id']}: data lacks {', '.join(missing)}: not a parallel-corpus {kind} export (use --check to only verify it)"
        for ann in task["annotations"]:
            for item in ann["result"]:
                if item.get("from_name") not in CONTROLS[kind]:
                    return f"task {task['id']}: result from_name {item.get('from_name')!r} is not in schemas/labelstudio/{kind}.xml: export from another label config"
    known = set(project_ids)
    exported = {t["project"] for t in tasks if t["project"] is not None}
    if known and exported - known:
        return f"export is from project {', '.join(map(str, sorted(exported - known)))}, but the stored {kind} annotations come from project {', '.join(map(str, sorted(known)))}"
    return None


def check_against_documents(normalized: Normalized, documents: Mapping[str, Mapping[str, Any]]) -> Normalized:
    """Move to quarantine every record whose text hash or spans do not fit the current document.

    `documents` maps document id -> row with `text` and `text_sha256` (the build's).
    """
    kept, quarantine = [], list(normalized.quarantine)
    for record in normalized.records:
        reason = _mismatch(record, documents)
        if reason is None:
            kept.append(record)
        else:
            quarantine.append({
                "key": record["key"], "kind": record["kind"], "project_id": record["project_id"], "task_id": record["task_id"],
                "annotation_id": record["annotation_id"], "document_id": record["document_id"], "pair_id": record["pair_id"],
                "annotator": record["annotator"], "updated_at": record["updated_at"], "reason": reason, "span": None, "label": None,
            })
    return Normalized(kept, quarantine, normalized.verified, normalized.realigned, normalized.quarantined, normalized.annotations)


def _mismatch(record: dict[str, Any], documents: Mapping[str, Mapping[str, Any]]) -> Optional[str]:
    reason = document_mismatch(record, documents)
    if reason is not None:
        return reason
    found = span_mismatch(record, documents[record["document_id"]].get("text") or "")
    return found[1] if found else None


def document_mismatch(record: Mapping[str, Any], documents: Mapping[str, Mapping[str, Any]]) -> Optional[str]:
    """Why the documents a record names are not the texts it was made on, or None."""
    pairs = [(record["document_id"], record["text_sha256"])]
    if record["kind"] == "pairs":
        pairs.append((record["document_id_2"], record["text_sha256_2"]))
    for doc_id, sha in pairs:
        doc = documents.get(doc_id or "")
        if doc is None:
            return f"document {doc_id!r} is not in the build"
        if sha != doc.get("text_sha256"):
            return f"document {doc_id} changed since it was annotated (text_sha256 {str(sha)[:12]} != {str(doc.get('text_sha256'))[:12]})"
    return None


def span_mismatch(record: Mapping[str, Any], text: str) -> Optional[tuple[int, str]]:
    """(index, why) of the first entity span of a stored record that is not
    exactly `text[start:end]` (`verify_span`, with no realigning: a stored
    span was placed at import), or None when every span is."""
    for i, span in enumerate(record["entities"]):
        check = verify_span(text, span.get("start"), span.get("end"), span.get("text"))
        if check.verification != "verified" or (check.start, check.end) != (span["start"], span["end"]):
            reason = check.reason or f"text[{span['start']}:{span['end']}] is not exactly the span text {str(span['text'])[:40]!r}"
            return i, f"span {span.get('start')}-{span.get('end')} {span.get('text')!r} does not match document {record['document_id']}: {reason}"
    return None


# -- the store ------------------------------------------------------------------------


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
    """Write all rows or nothing (see `atomic`)."""
    write_lines_atomic(path, (json.dumps(row, ensure_ascii=False, sort_keys=False, separators=(",", ":")) + "\n" for row in rows))


def merge_records(existing: Iterable[dict[str, Any]], incoming: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Union by key; a strictly newer `updated_at` replaces, anything else keeps what is stored.

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
        elif (record.get("updated_at") or "") > (old.get("updated_at") or ""):
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
    wins, as `merge_records` decides on import (on a tie, the first line)."""
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
            winner = merge_records([first[1]], [record])[0][0]
            kept, lost = (first[0], where) if winner is first[1] else (where, first[0])
            out.problems.append(
                f"{lost}:key: annotation {record['key']!r} is also on {kept} with other content: {kept} is applied (updated later, "
                f"or first); remove the line that is wrong"
            )
            if winner is record:
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
    return {r["project_id"] for r in read_jsonl(Path(annotations_dir) / f"{kind}.jsonl") if r.get("project_id") is not None}


def check_export(path: Path) -> dict[str, Any]:
    """`annotate import --check`: verify every span against the export's own task text; merge nothing."""
    payload = read_json_file(path)
    try:
        tasks = tasks_from_export(payload)
        kind = detect_kind(tasks)
        if kind is not None and detect_format(payload) == "json-min":
            tasks = tasks_from_export(payload, kind)
        normalized = normalize(tasks, None, Path(path).name)
    except AnnotationError as exc:
        raise AnnotationError(f"{path}: {exc}") from exc
    return {"file": str(path), "format": detect_format(payload), "kind": kind, "tasks": len(tasks), **normalized.counts(),
            "reasons": sorted({q["reason"] for q in normalized.quarantine})}


def import_export(path: Path, annotations_dir: Path, documents: Optional[Mapping[str, Mapping[str, Any]]] = None) -> StoreResult:
    """`annotate import FILE`: an export of our own project into the store, refusing foreign ones."""
    return store(annotations_dir, *prepare_import(path, annotations_dir, documents))


def prepare_import(path: Path, annotations_dir: Path, documents: Optional[Mapping[str, Mapping[str, Any]]] = None) -> tuple[str, Normalized]:
    """The kind and checked records of an export, writing nothing: a command importing
    several files checks them all before the first write."""
    payload = read_json_file(path)
    try:
        tasks = tasks_from_export(payload)
        kind = detect_kind(tasks)
        if kind is None:
            raise AnnotationError("tasks lack the fields parallel-corpus pushes (task_key, document_id or pair_id, text_sha256): not an export of our projects; use --check to only verify its spans")
        tasks = tasks_from_export(payload, kind)
        reason = foreign_reasons(tasks, kind, stored_project_ids(annotations_dir, kind))
        if reason:
            raise AnnotationError(reason)
        normalized = normalize(tasks, kind, Path(path).name)
    except AnnotationError as exc:
        raise AnnotationError(f"{path}: {exc}") from exc
    if documents is not None:
        normalized = check_against_documents(normalized, documents)
    try:
        validate_records(normalized.records, f"{kind} export")
    except AnnotationError as exc:
        raise AnnotationError(f"{path}: {exc}") from exc
    return kind, normalized


def records_from_export_payload(payload: Any, kind: str, source: str, documents: Optional[Mapping[str, Mapping[str, Any]]] = None) -> Normalized:
    """Normalize an export already in memory (what `annotate pull` downloads)."""
    tasks = tasks_from_export(payload, kind)
    tasks = [t for t in tasks if t["annotations"]]
    reason = foreign_reasons(tasks, kind)
    if reason:
        raise AnnotationError(reason)
    normalized = normalize(tasks, kind, source)
    return check_against_documents(normalized, documents) if documents is not None else normalized


# -- what the build applies -----------------------------------------------------------


def _latest_completed(records: Iterable[dict[str, Any]], kind: str, key: str) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for r in records:
        if r["kind"] != kind or r["status"] != "completed" or not r.get(key):
            continue
        old = latest.get(r[key])
        if old is None or ((r.get("updated_at") or ""), r["key"]) > ((old.get("updated_at") or ""), old["key"]):
            latest[r[key]] = r
    return latest


def human_overrides(records: Iterable[dict[str, Any]], documents: Optional[Mapping[str, Mapping[str, Any]]] = None) -> dict[str, dict[str, Any]]:
    """What the build applies: per document the human topic, event, language and spans; per pair the mean ratings.

    Per document the most recently updated completed annotation wins (the last word of
    a human beats an older one; agreement between annotators is reported apart). Its
    spans replace the pipeline's entity spans whole. With `documents`, an annotation
    made on another text than the current one is left out. Returns
    {"documents": {id: {...}}, "pairs": {pair_id: {dimension: mean, num_raters}}}.
    """
    records = list(records)
    docs = {}
    for doc_id, r in sorted(_latest_completed(records, "documents", "document_id").items()):
        if documents is not None and (doc_id not in documents or documents[doc_id].get("text_sha256") != r["text_sha256"]):
            continue
        docs[doc_id] = {
            "topic_id": r["topic_id"], "event_id": r["event_id"], "language": r["language"],
            "entities": [{"type": s["label"], "start": s["start"], "end": s["end"], "text": s["text"], "source": "human"} for s in r["entities"]],
            "annotation_key": r["key"], "annotator": r["annotator"],
        }
    return {"documents": docs, "pairs": _pair_means(records)}


def _pair_means(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean rating per dimension over annotators (each annotator's latest), and how many rated."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:
        if r["kind"] != "pairs" or r["status"] != "completed" or not r.get("pair_id"):
            continue
        who = (r["pair_id"], r["annotator"] or r["key"])
        if who not in latest or (r.get("updated_at") or "") > (latest[who].get("updated_at") or ""):
            latest[who] = r
    by_pair: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (pair_id, _), r in latest.items():
        by_pair[pair_id].append(r)
    out = {}
    for pair_id in sorted(by_pair):
        rated = by_pair[pair_id]
        entry: dict[str, Any] = {}
        for d in RATING_DIMENSIONS:
            values = [r[RATING_COLUMN[d]] for r in rated if r[RATING_COLUMN[d]] is not None]
            entry[d] = round(sum(values) / len(values), 4) if values else None
        entry["num_raters"] = sum(1 for r in rated if any(r[RATING_COLUMN[d]] is not None for d in RATING_DIMENSIONS))
        out[pair_id] = entry
    return out


# -- agreement ------------------------------------------------------------------------


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
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in records:
        if r["status"] != "completed":
            continue
        item = r["pair_id"] if r["kind"] == "pairs" else r["document_id"]
        who = (r["kind"], item or r["key"], r["annotator"] or r["key"])
        if who not in latest or (r.get("updated_at") or "") > (latest[who].get("updated_at") or ""):
            latest[who] = r
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
