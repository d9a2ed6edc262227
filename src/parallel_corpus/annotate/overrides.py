"""Human annotations into the build: what people set wins over the pipeline.

Input: the normalized records in `annotations/*.jsonl` (written by `annotate
pull` and `annotate import`) and the current documents' text hashes; output:
the overrides the build applies to topics, events, languages, entity spans
and pair ratings, plus the rows of the `annotations` config and the
agreement figures for the report and the card. An annotation made on a text
that has since changed is not applied: its offsets point into another string.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from parallel_corpus.annotate.agreement import agreement
from parallel_corpus.annotate.controls import NEW_CHOICE, RATING_COLUMN, RATING_DIMENSIONS
from parallel_corpus.annotate.store import AnnotationError, check_store_spans, newest, read_store
from parallel_corpus.errors import Problem

# What to do about an id the catalog lacks, for the line that names it.
UNKNOWN_FIX = ("choose a catalog topic or event (or \"other\") for it in Label Studio and pull again, "
               "or add the id to corpus/topics.yaml")


@dataclass
class Overrides:
    records: list[dict[str, Any]]
    documents: dict[str, dict[str, Any]]
    pairs: dict[str, dict[str, Any]]
    stale: list[str] = field(default_factory=list)
    languages: Any = None
    gazetteer: Any = None
    # One `file:line:field: problem` per line of the store that was not applied.
    quarantined: list[str] = field(default_factory=list)
    # Annotation key -> (store file, line): where a refusal or a proposal points.
    where: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def proposals(self) -> list[str]:
        """One line per applied annotation that proposes a new topic or event (`NEW_CHOICE`)."""
        return proposal_lines(self.documents, self.where)

    def summary(self) -> dict[str, Any]:
        by_status = Counter((r["kind"], r["status"]) for r in self.records)
        return {
            "records": len(self.records),
            "by_kind_and_status": {f"{k}/{s}": n for (k, s), n in sorted(by_status.items())},
            "documents_with_human_labels": len(self.documents),
            "pairs_rated": len(self.pairs),
            "stale_annotations": sorted(self.stale),
            "quarantined_lines": list(self.quarantined),
            "new_topic_proposals": self.proposals,
            "agreement": agreement(self.records),
        }

    # -- topics and events ------------------------------------------------

    def apply_to_assignments(self, assignments: Mapping[str, Any], catalog: Any) -> dict[str, Any]:
        """A human topic or event replaces the pipeline's, with its title from the catalog.

        Only a catalog id is applied: an annotation naming an id the catalog
        (`catalog`, None without topics.yaml) lacks is refused, one line naming
        its store line, document and id, so that no topic is ever made up of a
        typed id. A proposal (`NEW_CHOICE`) applies no topic or event of its own:
        `proposals` lists it for a curator."""
        problems = catalog_problems(self.documents, self.where, catalog)
        if problems:
            first = problems[0]
            more = f" ({len(problems) - 1} more such annotation(s): `parallel-corpus annotate topics` lists them all)" if len(problems) > 1 else ""
            raise AnnotationError(replace(first, fix=f"{first.fix}{more}"))
        titles = {t.id: t.title for t in catalog.topics} if catalog is not None else {}
        topic_of_event = _topic_of_event(catalog)
        out = dict(assignments)
        for doc_id, human in self.documents.items():
            current = out.get(doc_id)
            chosen = _chosen(human, topic_of_event)
            if current is None or chosen is None:
                continue
            topic_id, event_id = chosen
            topic_id = topic_id or current.topic_id
            title = titles.get(topic_id) or current.topic_title
            if event_id is None and topic_id == current.topic_id:
                event_id = current.event_id
            out[doc_id] = replace(
                current, topic_id=topic_id, topic_title=title, event_id=event_id, topic_source="human",
                score=1.0, evidence=(f"human:{human['annotator'] or human['annotation_key']}",),
            )
        return out

    # -- languages and entity spans ---------------------------------------

    def apply_to_document(self, row: dict[str, Any]) -> None:
        human = self.documents.get(row["id"])
        if human is None:
            return
        lang_code = human.get("language")
        if lang_code and self.languages is not None and lang_code in {l.iso639_1 for l in self.languages.languages.values()}:
            lang = self.languages.get(lang_code)
            row.update(
                language=lang.iso639_1, language_iso639_3=lang.iso639_3, script=lang.script, language_flores=lang.flores,
                language_probability=1.0, language_source="human",
            )
            flags = [f for f in row["flags"] if f != "language_mismatch"]
            if row["declared_language"] and row["declared_language"] != lang.iso639_1:
                flags.append("language_mismatch")
            row["flags"] = flags
        if human["entities"]:
            row["entities"] = [self._entity(row, span) for span in sorted(human["entities"], key=lambda s: (s["start"], s["end"]))]

    def _entity(self, row: dict[str, Any], span: dict[str, Any]) -> dict[str, Any]:
        """A human span, with the QID of the gazetteer entity it covers exactly, if any."""
        qid = canonical = None
        if self.gazetteer is not None:
            found = [e for e in self.gazetteer.find(span["text"], row["language"]) if e["start"] == 0 and e["end"] == len(span["text"])]
            if len(found) == 1:
                qid, canonical = found[0]["qid"], found[0]["canonical"]
        return {
            "qid": qid, "type": span["type"], "canonical": canonical,
            "start": span["start"], "end": span["end"], "text": span["text"], "source": "human",
        }

    # -- pair ratings -------------------------------------------------------

    def apply_to_pairs(self, columns: dict[str, list[Any]]) -> None:
        """Human ratings (and their rater count) over the empty ones, in a
        batch of `pairs` columns as `align.pair_columns` makes them."""
        if not self.pairs:
            return
        for row, pair_id in enumerate(columns["pair_id"]):
            ratings = self.pairs.get(pair_id)
            if ratings:
                for name, value in ratings.items():
                    columns[name][row] = value

    # -- the `annotations` config -------------------------------------------

    def annotation_rows(self, split_of_document: Mapping[str, str]) -> list[dict[str, Any]]:
        """One row per human annotation, in the split of the document it labels."""
        rows = []
        for r in self.records:
            doc = r.get("document_id")
            split = split_of_document.get(doc) if doc else None
            if split is None:
                continue
            rows.append(dict(r, split=split))
        return rows


def load_overrides(
    annotations_dir: Path, text_hashes: Mapping[str, str] | Callable[[set[str]], Mapping[str, str]], languages: Any = None, gazetteer: Any = None,
    texts: Optional[Callable[[set[str]], Mapping[str, str]]] = None,
) -> Optional[Overrides]:
    """The overrides in `annotations_dir`, or None when it holds no annotation.

    `text_hashes` gives the current `text_sha256` of documents: a mapping, or
    a function asked only for the documents the annotations name (a large
    corpus then never holds every document's hash at once). `texts`, asked
    the same way, gives their current text: every span is then checked
    against it, as `import` does. The store is read with the checks of
    `store.read_store`; what fails is in `quarantined`, not applied,
    and the store is left as it is."""
    read = read_store(Path(annotations_dir))
    if not read.records and not read.problems:
        return None
    named = {str(r["document_id"]) for _, r in read.records if r.get("document_id")}
    hashes = text_hashes(named) if callable(text_hashes) else text_hashes
    documents: dict[str, dict[str, Any]] = {doc_id: {"text_sha256": hashes[doc_id]} for doc_id in sorted(named) if doc_id in hashes}
    if texts is not None:
        for doc_id, text in texts(set(documents)).items():
            documents[doc_id]["text"] = text
        read = check_store_spans(read, documents)
    records = [r for _, r in read.records]
    applied = human_overrides(records, documents)
    everyone = human_overrides(records)
    stale = sorted(set(everyone["documents"]) - set(applied["documents"]))
    return Overrides(records, applied["documents"], applied["pairs"], stale, languages, gazetteer, read.problems, _where(read.records))


def _where(located: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, tuple[str, int]]:
    """Annotation key -> (file, line) from `read_store`'s `file:line` places."""
    out = {}
    for place, record in located:
        path, _, line = place.rpartition(":")
        out[record["key"]] = (path, int(line))
    return out


# -- topic and event ids against the catalog ----------------------------------------------
#
# Topic and event are chosen from the catalog in Label Studio (documents.xml), but
# a store also holds what the free-text config before let annotators type, and a
# person may edit it: the build applies only ids the catalog has. `annotate topics`
# runs the same checks without a build.


def _topic_of_event(catalog: Any) -> dict[str, str]:
    return {e.id: t.id for t in catalog.topics for e in t.events} if catalog is not None else {}


def _chosen(human: Mapping[str, Any], topic_of_event: Mapping[str, str]) -> Optional[tuple[Optional[str], Optional[str]]]:
    """(topic, event) an annotation sets, None for either it leaves to the pipeline; None
    when it sets neither. A new topic sets nothing (it is a proposal); a new event leaves
    the event open; an event alone sets its own topic too."""
    topic, event = human["topic_id"], human["event_id"]
    if topic == NEW_CHOICE or (topic is None and event is None):
        return None
    if event == NEW_CHOICE:
        event = None
        if topic is None:
            return None
    if topic is None:
        topic = topic_of_event.get(event or "")
    return topic, event


def catalog_problems(documents: Mapping[str, Mapping[str, Any]], where: Mapping[str, tuple[str, int]], catalog: Any) -> list[Problem]:
    """One problem per human topic or event id of `documents` (document id -> what
    `human_overrides` gives) that `catalog` lacks, or an event of another topic than
    the one chosen beside it; `NEW_CHOICE` is a proposal, not a problem."""
    topics = {t.id for t in catalog.topics} if catalog is not None else set()
    topic_of_event = _topic_of_event(catalog)
    problems = []
    for doc_id, human in sorted(documents.items()):
        file, line = where.get(human["annotation_key"], ("annotations/documents.jsonl", "-"))
        at = f"document {doc_id} (annotation {human['annotation_key']}{', by ' + human['annotator'] if human['annotator'] else ''})"
        topic, event = human["topic_id"], human["event_id"]
        no_catalog = "the corpus has no topics.yaml" if catalog is None else None
        if topic not in (None, NEW_CHOICE) and topic not in topics:
            problems.append(Problem.at(file, line, "topic_id", f"{at}: topic {topic!r} is not in the catalog ({no_catalog or 'topics.yaml'})", UNKNOWN_FIX))
        elif event not in (None, NEW_CHOICE) and event not in topic_of_event:
            problems.append(Problem.at(file, line, "event_id", f"{at}: event {event!r} is not in the catalog ({no_catalog or 'topics.yaml'})", UNKNOWN_FIX))
        elif event not in (None, NEW_CHOICE) and topic not in (None, NEW_CHOICE) and topic_of_event[event] != topic:
            problems.append(Problem.at(
                file, line, "event_id", f"{at}: event {event!r} is an event of topic {topic_of_event[event]!r}, not of the chosen topic {topic!r}",
                "choose the event's topic, or another event, in Label Studio and pull again",
            ))
    return problems


def proposal_lines(documents: Mapping[str, Mapping[str, Any]], where: Mapping[str, tuple[str, int]]) -> list[str]:
    """`file:line: document X proposes a new topic|event ("comment")` for each annotation
    choosing `NEW_CHOICE`: what a curator reads to extend corpus/topics.yaml."""
    lines = []
    for doc_id, human in sorted(documents.items()):
        what = [name for name, column in (("topic", "topic_id"), ("event", "event_id")) if human[column] == NEW_CHOICE]
        if not what:
            continue
        file, line = where.get(human["annotation_key"], ("annotations/documents.jsonl", "-"))
        comment = " ".join((human.get("comment") or "").split())
        lines.append(
            f"{file}:{line}: document {doc_id} (annotation {human['annotation_key']}{', by ' + human['annotator'] if human['annotator'] else ''}) "
            f"proposes a new {' and a new '.join(what)}: {json.dumps(comment, ensure_ascii=False) if comment else 'no comment'}: "
            f"a curator adds it to corpus/topics.yaml, pushes again, and chooses it in the task"
        )
    return lines


def review_topics(annotations_dir: Path, catalog: Any) -> tuple[list[str], list[Problem]]:
    """`annotate topics`: the proposals and the unknown ids of the annotations the build
    would apply (each document's latest completed one), without a build: texts are not checked."""
    read = read_store(Path(annotations_dir))
    latest = human_overrides([r for _, r in read.records])["documents"]
    where = _where(read.records)
    return proposal_lines(latest, where), catalog_problems(latest, where, catalog)


def _latest_completed(records: Iterable[dict[str, Any]], kind: str, key: str) -> dict[str, dict[str, Any]]:
    """Per `key` value, the completed `kind` record updated last; on a tie the greater annotation key."""
    completed = [r for r in records if r["kind"] == kind and r["status"] == "completed" and r.get(key)]
    return newest(sorted(completed, key=lambda r: r["key"], reverse=True), lambda r: r[key])


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
            "annotation_key": r["key"], "annotator": r["annotator"], "comment": r.get("comment"),
        }
    return {"documents": docs, "pairs": _pair_means(records)}


def _pair_means(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean rating per dimension over annotators (each annotator's latest), and how many rated."""
    completed = (r for r in records if r["kind"] == "pairs" and r["status"] == "completed" and r.get("pair_id"))
    latest = newest(completed, lambda r: (r["pair_id"], r["annotator"] or r["key"]))
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
