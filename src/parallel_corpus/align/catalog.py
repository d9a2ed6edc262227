"""The topic catalog of `corpus/topics.yaml` and how a document is matched to
one of its topics and events."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from parallel_corpus.corpus import CorpusError, check_curated, load_yaml
from parallel_corpus.records import Assignment, as_date

__all__ = ["Event", "Topic", "Catalog", "load_catalog", "catalog_match"]

# ---------------------------------------------------------------------------
# The topic catalog.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    id: str
    title: str
    start: dt.date
    end: dt.date
    place: str | None
    entities: tuple[str, ...]
    min_entities: int


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    start: dt.date
    end: dt.date
    entities: tuple[str, ...]
    min_entities: int
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Catalog:
    topics: tuple[Topic, ...]

    @property
    def by_id(self) -> dict[str, Topic]:
        return {t.id: t for t in self.topics}


def load_catalog(corpus_dir: str | Path) -> Catalog | None:
    """Read `topics.yaml` from a corpus folder; None when the folder has none.

    A corpus without a catalog is aligned by clustering alone (DESIGN).
    """
    path = Path(corpus_dir)
    if path.is_dir():
        path = path / "topics.yaml"
    if not path.exists():
        return None
    # Dates as ISO strings before the schema sees them (YAML reads them as dates).
    data = _plain(load_yaml(path))
    check_curated(data, path, "topics")
    topics = []
    seen: set[str] = set()
    for t in data["topics"]:
        events = tuple(
            Event(
                id=e["id"],
                title=e["title"],
                start=as_date(e["window"]["start"]),  # type: ignore[arg-type]
                end=as_date(e["window"]["end"]),  # type: ignore[arg-type]
                place=e.get("place"),
                entities=tuple(e.get("entities") or ()),
                min_entities=int(e.get("min_entities", math.ceil(len(e.get("entities") or ()) / 2))),
            )
            for e in t.get("events") or []
        )
        for ident in [t["id"], *(e.id for e in events)]:
            if ident in seen:
                raise CorpusError(f"{path}: duplicate id {ident}: topic and event ids must be unique")
            seen.add(ident)
        entities = tuple(t["entities"])
        topics.append(
            Topic(
                id=t["id"],
                title=t["title"],
                start=as_date(t["window"]["start"]),  # type: ignore[arg-type]
                end=as_date(t["window"]["end"]),  # type: ignore[arg-type]
                entities=entities,
                min_entities=int(t.get("min_entities", len(entities))),
                events=events,
            )
        )
    return Catalog(tuple(topics))


def _plain(value: Any) -> Any:
    """YAML reads 2021-05-12 as a date; the schema (like JSON) speaks strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value



def catalog_match(sig: Mapping[str, Any], catalog: Catalog) -> Assignment | None:
    """The best catalog topic (and event) for one signature, or None.

    A topic fits when the document names at least `min_entities` of its
    defining entities and its publication date (when known) lies in the
    topic's window; dates the text mentions only add evidence, since news
    also recalls the past ("since 2014"). Among a topic's events the one
    whose defining entities and dates fit best wins; a tie leaves no event.
    """
    doc_entities = set(sig.get("entities") or [])
    published = as_date(sig.get("published"))
    mentioned = [d for d in (as_date(x) for x in sig.get("dates") or []) if d is not None]
    best: tuple[float, str, Assignment] | None = None
    for topic in catalog.topics:
        shared = [q for q in topic.entities if q in doc_entities]
        if len(shared) < topic.min_entities:
            continue
        if published is not None and not (topic.start <= published <= topic.end):
            continue
        in_window = [d for d in mentioned if topic.start <= d <= topic.end]
        entity_part = len(shared) / max(1, len(topic.entities))
        date_part = 1.0 if (published is not None or in_window) else 0.5
        event_id, event_score, event_evidence = _best_event(topic, doc_entities, published, mentioned)
        score = round(0.6 * entity_part + 0.2 * date_part + 0.2 * event_score, 4)
        evidence = tuple(
            sorted(set(shared) | set(event_evidence) | {d.isoformat() for d in in_window})
        )
        assignment = Assignment(topic.id, topic.title, event_id, "catalog", score, evidence)
        key = (score, topic.id)
        if best is None or key[0] > best[0] or (key[0] == best[0] and key[1] < best[1]):
            best = (score, topic.id, assignment)
    return best[2] if best else None


def _best_event(
    topic: Topic, doc_entities: set[str], published: dt.date | None, mentioned: list[dt.date]
) -> tuple[str | None, float, list[str]]:
    scored: list[tuple[float, str, list[str]]] = []
    for event in topic.events:
        if published is not None and not (event.start <= published <= event.end + dt.timedelta(days=14)):
            continue
        shared = [q for q in event.entities if q in doc_entities]
        if len(shared) < event.min_entities:
            continue
        in_window = [d.isoformat() for d in mentioned if event.start <= d <= event.end]
        # A publication date has passed the window test above.
        date_part = 1.0 if (in_window or published is not None) else 0.0
        score = 0.7 * len(shared) / max(1, len(event.entities)) + 0.3 * date_part
        scored.append((round(score, 4), event.id, shared + in_window))
    if not scored:
        return None, 0.0, []
    scored.sort(key=lambda s: (-s[0], s[1]))
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None, 0.0, []
    return scored[0][1], scored[0][0], scored[0][2]

