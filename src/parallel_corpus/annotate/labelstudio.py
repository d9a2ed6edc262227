"""Thin layer over label_studio_sdk 2.1.2: connect, ensure a project, push tasks, export.

Inputs are built `documents`/`pairs` rows (schemas/*.schema.json); outputs are Label
Studio tasks with the pipeline's guesses as predictions, and the raw export that
`exports.py` normalizes. Every failure is a `LabelStudioError` of one line.
"""

from __future__ import annotations

import json
import os
from html import escape
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, TypeVar

from parallel_corpus import __version__
from parallel_corpus.annotate.controls import CATALOG_CONTROLS, CONFIGS, ENTITY_LABELS, LANGUAGES, NEW_CHOICE, config_path, span_control
from parallel_corpus.jsontext import loads
from parallel_corpus.errors import Error

DEFAULT_URL = "http://127.0.0.1:8089"
PROJECT_TITLES = {"documents": "parallel-corpus documents", "pairs": "parallel-corpus pairs"}
MODEL_VERSION = f"parallel-corpus-{__version__}"
RTL_LANGUAGES = {"ar", "fa", "ur", "he", "ps", "ckb", "sd", "ug", "yi", "dv"}
T = TypeVar("T")


class LabelStudioError(Error, RuntimeError):
    """Label Studio cannot be used as asked; the message says what to do, in one line."""


# -- connecting -----------------------------------------------------------------------


def settings() -> tuple[str, str]:
    """URL and token from the environment, read now: the SDK reads its key at import and never the URL."""
    url = os.environ.get("LABEL_STUDIO_URL", "").strip().rstrip("/") or DEFAULT_URL
    key = os.environ.get("LABEL_STUDIO_API_KEY", "").strip()
    if not key:
        raise LabelStudioError("LABEL_STUDIO_API_KEY is not set: run scripts/labelstudio start and export the two lines it prints")
    return url, key


# One retry policy, ours: the SDK's client is made with max_retries=0 (`connect`), since its own
# retries (2 by default, on a refused connection and on any 5xx, 408, 409 and 429) stacked on these
# made up to 12 calls of one request against a server answering 503.
RETRY_ATTEMPTS = 4
RETRY_STATUSES = (429, 502, 503, 504)


def _with_retries(call: Callable[[], T], url: str, attempts: int = RETRY_ATTEMPTS, first_wait: float = 0.5) -> T:
    """Run `call` up to `attempts` times: a timeout or a 429/502/503/504 (a server busy or
    restarting) waits 0.5, 1, 2 s and tries again; anything else, and a refused
    connection (a server that is down), is final at once, as one line."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    wait = first_wait
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except httpx.ConnectError as exc:
            raise LabelStudioError(f"Label Studio at {url} does not answer: start it with scripts/labelstudio start") from exc
        except httpx.TimeoutException as exc:
            if attempt == attempts:
                raise LabelStudioError(f"Label Studio at {url} timed out {attempts} times: check scripts/labelstudio status") from exc
        except ApiError as exc:
            if exc.status_code == 401:
                raise LabelStudioError(f"Label Studio at {url} rejects LABEL_STUDIO_API_KEY: export the token scripts/labelstudio start printed") from exc
            if exc.status_code not in RETRY_STATUSES:
                raise LabelStudioError(f"Label Studio at {url} answered {exc.status_code}: {_short(exc.body)}") from exc
            if attempt == attempts:
                raise LabelStudioError(
                    f"Label Studio at {url} answered {exc.status_code} {attempts} times ({_short(exc.body) or 'no body'}): "
                    f"check scripts/labelstudio status and try again"
                ) from exc
        except httpx.HTTPError as exc:
            raise LabelStudioError(f"Label Studio at {url}: {type(exc).__name__}: {exc}") from exc
        time.sleep(wait)
        wait *= 2
    raise AssertionError("unreachable")


def _short(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, default=str)
    return " ".join(text.split())[:200]


@dataclass
class Connection:
    """A client with the URL it talks to, so every error can name the server."""

    client: Any
    url: str

    def call(self, fn: Callable[[], T]) -> T:
        return _with_retries(fn, self.url)


def connect(url: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 60.0) -> Connection:
    """A checked connection: the server answers and accepts the token (one whoami call)."""
    from label_studio_sdk import LabelStudio

    if url is None or api_key is None:
        env_url, env_key = settings()
        url, api_key = url or env_url, api_key or env_key
    client = LabelStudio(base_url=url.rstrip("/"), api_key=api_key, timeout=timeout, max_retries=0)  # `_with_retries` retries
    conn = Connection(client, url.rstrip("/"))
    conn.call(lambda: conn.client.users.whoami())
    return conn


# -- projects -------------------------------------------------------------------------


def label_config(kind: str) -> str:
    """Our labeling config for `kind`, as shipped in schemas/labelstudio/."""
    path = config_path(kind)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LabelStudioError(f"{path}: no label config for kind {kind!r}") from exc


def canonical_config(xml: str) -> str:
    """A config with comments and formatting removed, so equal configs compare equal."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise LabelStudioError(f"label config is not valid XML: {exc}") from exc

    def walk(el: ET.Element) -> str:
        attrs = " ".join(f"{k}={v!r}" for k, v in sorted(el.attrib.items()))
        text = " ".join((el.text or "").split())
        return f"<{el.tag} {attrs}>{text}" + "".join(walk(c) for c in el if isinstance(c.tag, str)) + f"</{el.tag}>"

    return walk(root)


def ensure_project(conn: Connection, kind: str, title: Optional[str] = None) -> int:
    """The id of the project titled `title`, created with our config if absent.

    A project of that title with another label config is refused: its annotations
    would not mean what our normalizer reads them as.
    """
    title = title or PROJECT_TITLES[kind]
    ours = label_config(kind)
    found = find_project(conn, title)
    if found is not None:
        project = conn.call(lambda: conn.client.projects.get(id=found))
        if canonical_config(project.label_config or "<View/>") != canonical_config(ours):
            raise LabelStudioError(
                f"project {title!r} (id {found}) at {conn.url} has another label config than schemas/labelstudio/{kind}.xml: choose another --project title"
            )
        return found
    created = conn.call(lambda: conn.client.projects.create(
        title=title, label_config=ours, description=f"parallel-corpus {kind}: pushed by parallel-corpus annotate push",
        show_collab_predictions=True, model_version=MODEL_VERSION,
    ))
    return created.id


def find_project(conn: Connection, title: str) -> Optional[int]:
    """Id of the project with exactly this title, or None; two of them is an error."""
    pager = conn.call(lambda: conn.client.projects.list(title=title, page_size=100))
    matches = sorted(p.id for p in pager if p.title == title)
    if len(matches) > 1:
        raise LabelStudioError(f"{len(matches)} projects at {conn.url} are titled {title!r} (ids {matches}): rename all but one")
    return matches[0] if matches else None


# -- tasks ----------------------------------------------------------------------------


def document_task_key(row: dict[str, Any]) -> str:
    return f"{row['id']}:{row['text_sha256']}"


def pair_task_key(row: dict[str, Any], texts: dict[str, dict[str, Any]]) -> str:
    return f"{row['pair_id']}:{texts[row['id_1']]['text_sha256']}:{texts[row['id_2']]['text_sha256']}"


def _result(from_name: str, to_name: str, kind: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"from_name": from_name, "to_name": to_name, "type": kind, "value": value}


def _check_row(row: dict[str, Any], fields: Iterable[str], where: str) -> None:
    missing = [f for f in fields if row.get(f) is None]
    if missing:
        raise LabelStudioError(f"{where}: row lacks {', '.join(missing)}: rebuild with parallel-corpus build")


def catalog_options(catalog: Any) -> dict[str, list[dict[str, str]]]:
    """The choices of the topic and event controls, from the catalog (`align.catalog.Catalog`, or
    None without corpus/topics.yaml): {"topic_options": [...], "event_options": [...]}, each a
    list of {"value": id, "html": id and title} in catalog order, ending with the `NEW_CHOICE`
    that proposes a topic or event the catalog lacks. Titles are escaped: they are shown as HTML."""
    topics = list(catalog.topics) if catalog is not None else []
    topic_options = [{"value": t.id, "html": f"<b>{escape(t.id)}</b>: {escape(t.title)}"} for t in topics]
    event_options = [
        {"value": e.id, "html": f"<b>{escape(e.id)}</b>: {escape(e.title)} <i>(topic {escape(t.id)})</i>"} for t in topics for e in t.events
    ]
    topic_options.append({"value": NEW_CHOICE, "html": "<i>other: a new topic (name and describe it in the comment)</i>"})
    event_options.append({"value": NEW_CHOICE, "html": "<i>other: a new event (name and describe it in the comment)</i>"})
    return {CATALOG_CONTROLS["topic_id"]: topic_options, CATALOG_CONTROLS["event_id"]: event_options}


def tasks_from_documents(rows: Iterable[dict[str, Any]], catalog: Any = None) -> list[dict[str, Any]]:
    """One task per document: its exact text and the pipeline's guesses as one prediction.

    The prediction picks the language choice, which also picks the text's direction in
    documents.xml (Arabic right-to-left); entity spans go to the matching Text. Topic and
    event are choices from `catalog` (`catalog_options`); the pipeline's guess is
    pre-selected when it is one of them (a cluster's id is not: the header names it).
    """
    tasks = []
    controls = CONFIGS["documents"].controls
    options = catalog_options(catalog)
    offered = {name: {o["value"] for o in options[field]} - {NEW_CHOICE} for name, field in CATALOG_CONTROLS.items()}
    # Task data avoids the names `id`, `language` and `annotator`: JSON-MIN exports put the
    # task id, each control's value and the annotator under those keys beside the data.
    for n, row in enumerate(rows, start=1):
        _check_row(row, ("id", "language", "text", "text_sha256"), f"documents row {n}")
        rtl = row["language"] in RTL_LANGUAGES
        spans = span_control("documents", rtl)
        text = row["text"]
        result = [_result("language", controls["language"].to_name, "choices", {"choices": [row["language"] if row["language"] in LANGUAGES else "other"]})]
        for e in row.get("entities") or []:
            if e.get("type") in ENTITY_LABELS and text[e["start"]:e["end"]] == e.get("text"):
                result.append(_result(spans.name, spans.to_name, "labels", {"start": e["start"], "end": e["end"], "text": e["text"], "labels": [e["type"]]}))
        for name in CATALOG_CONTROLS:
            if row.get(name) in offered[name]:
                result.append(_result(name, controls[name].to_name, "choices", {"choices": [row[name]]}))
        data = {
            "task_key": document_task_key(row), "document_id": row["id"], "document_language": row["language"], "title": row.get("title") or "",
            "text": text, "text_sha256": row["text_sha256"], "topic_hint": _hint(row.get("topic_id"), offered["topic_id"]),
            "event_hint": _hint(row.get("event_id"), offered["event_id"]), **options,
        }
        tasks.append({"data": data, "meta": {"kind": "documents"}, "predictions": [{"model_version": MODEL_VERSION, "result": result}]})
    return tasks


def _hint(guess: Optional[str], offered: set[str]) -> str:
    """The pipeline's guess for the header: the id, said to be outside the catalog when it is (a cluster)."""
    if not guess:
        return "none"
    return guess if guess in offered else f"{guess}, not in the catalog: choose one or other"


def tasks_from_pairs(rows: Iterable[dict[str, Any]], documents: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One task per pair: both texts side by side (pairs rows carry ids only, so `documents` gives the texts)."""
    texts = {d["id"]: d for d in documents}
    tasks = []
    for n, row in enumerate(rows, start=1):
        _check_row(row, ("pair_id", "id_1", "id_2"), f"pairs row {n}")
        for side in ("id_1", "id_2"):
            if row[side] not in texts:
                raise LabelStudioError(f"pairs row {n} ({row['pair_id']}): document {row[side]} is not in the build's documents: rebuild")
        d1, d2 = texts[row["id_1"]], texts[row["id_2"]]
        data = {
            "task_key": pair_task_key(row, texts), "pair_id": row["pair_id"], "document_id_1": row["id_1"], "document_id_2": row["id_2"],
            "language_1": d1["language"], "language_2": d2["language"], "text_1": d1["text"], "text_2": d2["text"],
            "text_sha256_1": d1["text_sha256"], "text_sha256_2": d2["text_sha256"],
            "similarity": row.get("similarity"),
        }
        tasks.append({"data": data, "meta": {"kind": "pairs"}})
    return tasks


@dataclass
class PushResult:
    """What a push did: new tasks, ones already there, old tasks of changed texts, and
    tasks already there whose topic and event choices were brought up to the catalog."""

    project_id: int
    added: int
    already_there: int
    outdated: int
    seconds: float
    refreshed: int = 0


def existing_tasks(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    """Every task of the project with data and meta, in one export call."""
    return export(conn, project_id, "JSON")


def push(conn: Connection, project_id: int, tasks: list[dict[str, Any]], batch_size: int = 1000,
         progress: Optional[Callable[[int], None]] = None, total: Optional[Callable[[int], None]] = None) -> PushResult:
    """Import the tasks the project lacks (keyed by `task_key`), mark superseded ones outdated,
    and give tasks already there the catalog's current topic and event choices.

    A document whose text changed has a new key, so it gets a new task; the old task
    gets meta.outdated so annotators skip it and `pull` can tell why its hash fails.
    A topic a curator added to corpus/topics.yaml becomes a choice of every current
    task (its data is updated; its annotations stay). `total` is told how many tasks
    the push will send or update, once it knows; `progress` is told each step done.
    """
    t0 = time.monotonic()
    have = existing_tasks(conn, project_id)
    have_keys = {t["data"].get("task_key") for t in have}
    new = [t for t in tasks if t["data"]["task_key"] not in have_keys]
    item_field = "document_id" if tasks and tasks[0]["meta"]["kind"] == "documents" else "pair_id"
    current = {t["data"][item_field]: t["data"]["task_key"] for t in tasks}
    wanted = {field: tasks[0]["data"][field] for field in CATALOG_CONTROLS.values() if field in tasks[0]["data"]} if tasks else {}
    current_keys = set(current.values())
    stale_choices = [t for t in have if wanted and t["data"].get("task_key") in current_keys and not (t.get("meta") or {}).get("outdated")
                     and any(t["data"].get(field) != value for field, value in wanted.items())]
    superseded = [t for t in have if (item := t["data"].get(item_field)) in current and current[item] != t["data"].get("task_key")
                  and not (t.get("meta") or {}).get("outdated")]
    if total:
        total(len(new) + len(stale_choices) + len(superseded))
    for start in range(0, len(new), max(1, batch_size)):
        batch = new[start:start + batch_size]
        conn.call(lambda: conn.client.projects.import_tasks(id=project_id, request=batch, return_task_ids=False))
        if progress:
            progress(len(batch))
    for t in stale_choices:
        conn.call(lambda: conn.client.tasks.update(id=str(t["id"]), data=dict(t["data"], **wanted)))
        if progress:
            progress(1)
    for t in superseded:
        meta = dict(t.get("meta") or {}, outdated=True, superseded_by=current[t["data"][item_field]])
        conn.call(lambda: conn.client.tasks.update(id=str(t["id"]), meta=meta))
        if progress:
            progress(1)
    return PushResult(project_id, len(new), len(tasks) - len(new), len(superseded), round(time.monotonic() - t0, 2), len(stale_choices))


def export(conn: Connection, project_id: int, export_type: str = "JSON") -> Any:
    """The whole project as parsed JSON (JSON or JSON_MIN), in ONE synchronous export call.

    `download_sync` is the Community edition's export endpoint; `exports.as_json`
    wraps it but first asks the server's version and also downloads resources.
    """
    def run() -> bytes:
        chunks = conn.client.projects.exports.download_sync(project_id, export_type=export_type, download_all_tasks=True)
        return b"".join(chunks)

    raw = conn.call(run)
    try:
        return loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelStudioError(f"Label Studio at {conn.url}: project {project_id} export is not JSON: {exc}") from exc


def annotator_emails(conn: Connection) -> dict[int, str]:
    """User id -> e-mail: exports name annotators by id only, records keep the e-mail."""
    return {u.id: u.email for u in conn.call(lambda: list(conn.client.users.list())) if u.email}


def with_annotator_emails(tasks: list[dict[str, Any]], emails: dict[int, str]) -> list[dict[str, Any]]:
    """The export with each integer `completed_by` replaced by {id, email}."""
    for task in tasks:
        for ann in task.get("annotations") or []:
            who = ann.get("completed_by")
            if isinstance(who, int) and who in emails:
                ann["completed_by"] = {"id": who, "email": emails[who]}
    return tasks
