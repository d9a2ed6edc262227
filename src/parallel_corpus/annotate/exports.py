"""Label Studio exports into checked annotation records.

Input: a JSON export (tasks with `annotations[].result[]`), a JSON-MIN export
(flat rows) or an old 0.x `completions` file. Output: records of
`schemas/annotations.schema.json`, every entity span verified against the text
it was made on (`spans`), and quarantine entries for what could not be
trusted; `store` merges them into `annotations/`. An export of another project
or label config is refused whole: its answers would not mean what we read
them as.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional

from parallel_corpus.annotate.controls import CONFIGS, CONTROLS, KINDS, Control, LANGUAGES, RATING_COLUMN, RATING_DIMENSIONS, RATING_SCALE, SPAN_TARGETS, TEXT_FIELDS
from parallel_corpus.annotate.spans import SpanCheck, document_mismatch, span_mismatch, verify_span
from parallel_corpus.annotate.store import AnnotationError, Normalized, StoreResult, store, stored_project_ids, validate_records
from parallel_corpus.jsontext import loads

# Task data fields that make a task ours; `annotate push` writes them.
MARKER_FIELDS = {"documents": ("task_key", "document_id", "text", "text_sha256"), "pairs": ("task_key", "pair_id", "document_id_1", "document_id_2")}
# JSON-MIN metadata keys; every other key of a row is a control's value or task data.
MIN_META = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "project"}


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
    controls = CONFIGS[kind].controls if kind in CONFIGS else {}
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
            result.extend(_min_value_to_results(name, value, controls.get(name)))
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


def _min_value_to_results(name: str, value: Any, control: Optional[Control]) -> list[dict[str, Any]]:
    """Result items of one flattened JSON-MIN value (spans, choices or text), on the
    Text the label config gives the control."""
    if _looks_like_spans(value):
        to_name = SPAN_TARGETS.get(name, "text")
        return [{"from_name": name, "to_name": to_name, "type": "labels", "value": dict(v)} for v in value]
    if control is None or control.role == "spans":
        return []
    role, to_name = control.role, control.to_name
    if role in ("language", "rating") or (control.tag == "Choices" and role in ("topic_id", "event_id")):
        # A single choice is flattened to its value; so was the typed text of the TextArea
        # that topic and event were before: either comes back as the choice it names.
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


# -- normalizing ---------------------------------------------------------------------


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


def _catalog_choice(item: dict[str, Any]) -> Optional[str]:
    """The topic or event id of a result: the chosen one (Choices, documents.xml since the
    catalog became choices) or the typed one (TextArea, the config before: its exports are
    still read). Whether the id is in the catalog is the build's check, not the export's."""
    chosen = _choices(item)
    if chosen:
        return chosen[0].strip() or None
    return _textarea(item)


def _rating(item: dict[str, Any]) -> Optional[int]:
    value = item.get("value") or {}
    raw = value.get("rating") if isinstance(value, dict) and "rating" in value else (_choices(item) or [None])[0]
    number = _int_or_none(raw if not isinstance(raw, str) else raw.strip()[:1])
    return number if number in RATING_SCALE else None


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
        if role in ("topic_id", "event_id"):
            record[role] = _catalog_choice(item)
        elif role == "comment":
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


# -- into the store -------------------------------------------------------------------


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


