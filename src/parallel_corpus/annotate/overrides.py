"""Human annotations into the build: what people set wins over the pipeline.

Input: the normalized records in `annotations/*.jsonl` (written by `annotate
pull` and `annotate import`) and the current documents' text hashes; output:
the overrides the build applies to topics, events, languages, entity spans
and pair ratings, plus the rows of the `annotations` config and the
agreement figures for the report and the card. An annotation made on a text
that has since changed is not applied: its offsets point into another string.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from parallel_corpus.annotate.agreement import agreement
from parallel_corpus.annotate.controls import RATING_COLUMN, RATING_DIMENSIONS
from parallel_corpus.annotate.store import check_store_spans, newest, read_store


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

    def summary(self) -> dict[str, Any]:
        by_status = Counter((r["kind"], r["status"]) for r in self.records)
        return {
            "records": len(self.records),
            "by_kind_and_status": {f"{k}/{s}": n for (k, s), n in sorted(by_status.items())},
            "documents_with_human_labels": len(self.documents),
            "pairs_rated": len(self.pairs),
            "stale_annotations": sorted(self.stale),
            "quarantined_lines": list(self.quarantined),
            "agreement": agreement(self.records),
        }

    # -- topics and events ------------------------------------------------

    def apply_to_assignments(self, assignments: Mapping[str, Any], catalog: Any) -> dict[str, Any]:
        """A human topic or event replaces the pipeline's, with its title from the catalog."""
        titles = {t.id: t.title for t in catalog.topics} if catalog is not None else {}
        out = dict(assignments)
        for doc_id, human in self.documents.items():
            current = out.get(doc_id)
            if current is None or (human["topic_id"] is None and human["event_id"] is None):
                continue
            topic_id = human["topic_id"] or current.topic_id
            title = titles.get(topic_id) or (current.topic_title if topic_id == current.topic_id else topic_id)
            event_id = human["event_id"] if human["event_id"] is not None else (current.event_id if topic_id == current.topic_id else None)
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
    return Overrides(records, applied["documents"], applied["pairs"], stale, languages, gazetteer, read.problems)


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
            "annotation_key": r["key"], "annotator": r["annotator"],
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
