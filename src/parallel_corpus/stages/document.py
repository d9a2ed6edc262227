"""Per-document stages: one source in, one `documents` row and its signature out.

`process` is a pure function of a source and the stage configuration, which is
what lets the same code run in one process, in a process pool or on Ray. The
`Stages` object is built once per process from the corpus folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from parallel_corpus.stages.clean import CleaningRules, EmptyDocument, clean, segments_of
from parallel_corpus.stages.clean.boilerplate import Boilerplate
from parallel_corpus.stages.clean.boilerplate import Counter as BoilerplateCounter
from parallel_corpus.stages.clean.boilerplate import document_keys
from parallel_corpus.stages.clean.rules import PatternTimeout
from parallel_corpus.corpus import Corpus, CorpusError, Source
from parallel_corpus.records import Skip
from parallel_corpus.stages.ingest import Decoded, IngestError, read_source
from parallel_corpus.stages.langid import Detector, LanguageTable, prepare, tag


@dataclass
class Stages:
    """What the per-document stages need, loaded once per process."""

    corpus: Corpus
    rules: CleaningRules
    languages: LanguageTable
    detector: Detector
    gazetteer: Any = None
    calendar: Any = None
    # The corpus's recurring segments (`stages.clean.boilerplate`), counted by
    # the build before the per-document stages run; None: none counted.
    boilerplate: Optional[Boilerplate] = None

    @classmethod
    def load(cls, corpus_dir: Path, seed: int, boilerplate: Optional[Boilerplate] = None) -> "Stages":
        corpus = Corpus(Path(corpus_dir))
        calendar = None
        if corpus.has("dates.yaml"):
            from parallel_corpus.stages.dates import load_calendar

            calendar = load_calendar(corpus.root)
        gazetteer = None
        if corpus.has("entities.yaml"):
            from parallel_corpus.stages.entities import load_gazetteer

            gazetteer = load_gazetteer(corpus.path("entities.yaml"))
        leading_date = calendar.match_leading_date if calendar is not None else None
        languages = LanguageTable.load(corpus.path("languages.yaml"))
        detector = Detector(seed)
        prepare(detector, languages, [str(c) for c in corpus.dataset().get("languages") or []])
        return cls(
            corpus=corpus,
            rules=CleaningRules.load(corpus.path("cleaning.yaml"), leading_date, calendar.weekday_names() if calendar is not None else ()),
            languages=languages,
            detector=detector,
            gazetteer=gazetteer,
            calendar=calendar,
            boilerplate=boilerplate,
        )

    def count_boilerplate(self, sources: Sequence[Source], keys: Optional[Iterable[Iterable[int]]] = None) -> Boilerplate:
        """Count, over the sources, the documents that hold each segment, and
        keep the counts the stages will use (`boilerplate`). `keys`, if
        given, are the sources' `segment_keys` already worked out (by a pool
        of workers, chunk by chunk). A source that cannot be read is left out
        here; pass one reports it."""
        counter = BoilerplateCounter()
        # Here, a few hundred sources at a time: memory holds the counts and
        # one chunk's keys, whatever the corpus's size.
        own = (self.segment_keys(sources[i : i + 256]) for i in range(0, len(sources), 256))
        for chunk in keys if keys is not None else own:
            counter.add_keys(chunk)
        self.boilerplate = counter.result(self.rules.shapes.boilerplate_min_documents)
        return self.boilerplate

    def segment_keys(self, sources: Sequence[Source]) -> list[int]:
        """The distinct segment keys of each source, one after the other."""
        out: list[int] = []
        for source in sources:
            try:
                text = self.decode(source).text
            except (IngestError, CorpusError):
                continue
            out.extend(document_keys(segments_of(text, self.rules.shapes)))
        return out

    def count_boilerplate_of(self, texts: Iterable[str]) -> Boilerplate:
        """`count_boilerplate` over decoded texts."""
        counter = BoilerplateCounter()
        for text in texts:
            counter.add_document(segments_of(text, self.rules.shapes))
        return counter.result(self.rules.shapes.boilerplate_min_documents)

    def decode(self, source: Source) -> Decoded:
        """A source's bytes, verified and decoded as the build reads them
        (a declared language's script helps decide an undeclared codec)."""
        declared = self.languages.get(source.language) if source.language else None
        return read_source(self.corpus, source, declared.script if declared else None)


def explain_document(stages: Stages, target: str, language: Optional[str] = None) -> tuple[str, Optional[str], list[Any]]:
    """What cleaning does to one document, line by line, as the build would:
    `target` is a source's id or its file under raw/ (decoded and verified as
    the build does), or else the path of a UTF-8 text file. Returns the name
    shown, the language used and the `LineDecision`s; the corpus's recurring
    segments are counted first, so boilerplate is judged as in a build."""
    from parallel_corpus.stages.clean import explain

    sources = stages.corpus.source_list() if stages.corpus.has("sources.jsonl") else []
    found = next((s for s in sources if target in (s.id, s.file, f"raw/{s.file}")), None)
    if stages.boilerplate is None and sources:
        stages.count_boilerplate(sources)
    if found is not None:
        text = stages.decode(found).text
        name, language = f"raw/{found.file}", language or found.language
    else:
        path = Path(target)
        if not path.is_file():
            raise CorpusError(f"{target}: neither a source id or file of {stages.corpus.root}/sources.jsonl nor a readable file")
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CorpusError(f"{target}: not UTF-8; add it to the corpus with its encoding in sources.jsonl and explain it by id") from None
        name = str(path)
    return name, language, explain(text, stages.rules, language, stages.boilerplate)


class DocumentSkipped(Exception):
    """A raw file that cannot become a document; the build goes on without it."""

    def __init__(self, skip: Skip):
        super().__init__(skip.message)
        self.skip = skip


def process(source: Source, stages: Stages) -> dict[str, Any]:
    """The `documents` row of one source (without topic, event and split,
    which need the whole corpus)."""
    try:
        decoded = stages.decode(source)
    except IngestError as exc:
        raise DocumentSkipped(Skip(source.id, source.file, exc.reason, str(exc))) from None
    except CorpusError as exc:
        # The raw file is missing, outside raw/ or not a file.
        raise DocumentSkipped(Skip(source.id, source.file, "unreadable", str(exc))) from None
    try:
        cleaned = clean(decoded.text, stages.rules, source.language, stages.boilerplate)
    except PatternTimeout as exc:
        # A curated pattern hangs on this document: the build stops with one line naming both.
        raise exc.of_document(f"raw/{source.file} (document {source.id})") from None
    except EmptyDocument:
        raise DocumentSkipped(Skip(source.id, source.file, "empty_after_cleaning", f"raw/{source.file}: nothing left after cleaning")) from None

    text = cleaned.text
    spans = cleaned.spans()
    block_texts = [b.text for b in cleaned.blocks]
    lang = tag(block_texts, stages.languages, stages.detector, source.declared_language)

    blocks = [
        {
            "type": b.type,
            "start": start,
            "end": end,
            "line": b.line,
            "language": bl.language,
            "language_probability": bl.probability,
            "language_inherited": bl.inherited,
            "flags": bl.flags,
        }
        for b, (start, end), bl in zip(cleaned.blocks, spans, lang.blocks)
    ]
    published = _published(source, cleaned.dateline_date)
    entities = stages.gazetteer.find(text, lang.language.iso639_1) if stages.gazetteer is not None else []
    dates = stages.calendar.find_dates(text, lang.language.iso639_1, reference=published) if stages.calendar is not None else []
    return {
        "id": source.id,
        "language": lang.language.iso639_1,
        "language_iso639_3": lang.language.iso639_3,
        "script": lang.language.script,
        "language_flores": lang.language.flores,
        "language_probability": lang.probability,
        "language_source": "pipeline",
        "declared_language": source.declared_language,
        "title": cleaned.title(),
        "dateline": cleaned.dateline(),
        "published": published,
        "text": text,
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "num_chars": len(text),
        "blocks": blocks,
        "entities": entities,
        "dates": dates,
        "topic_id": None,
        "topic_title": None,
        "event_id": None,
        "topic_source": None,
        "topic_score": None,
        "topic_evidence": [],
        "removed_lines": [{"line": r.line, "text": r.text, "reason": r.reason, "score": r.score} for r in cleaned.removed],
        "flags": lang.flags,
        "source": {
            "file": source.file,
            "sha256": decoded.sha256,
            "encoding": decoded.encoding,
            "outlet": source.outlet,
            "url": source.url,
            "license": source.license,
        },
        "split": "train",
    }


def _published(source: Source, dateline_date: Optional[dt.date]) -> Optional[dt.date]:
    """The declared date wins; a dateline in the text is the fallback."""
    if source.published:
        return dt.date.fromisoformat(source.published)
    return dateline_date


def process_with_signature(source: Source, stages: Stages) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row and its alignment signature, both made where the document is:
    a worker sends back the compact signature instead of the driver
    recomputing it from the text."""
    from parallel_corpus.stages.signature import signature

    row = process(source, stages)
    return row, signature(row, row["entities"], row["dates"])


def report_entry(row: dict[str, Any]) -> dict[str, Any]:
    """What the build report says of one document: made where the row is, so
    that only this small record travels to the driver besides the Arrow rows."""
    reasons = Counter(r["reason"] for r in row["removed_lines"])
    return {
        "id": row["id"],
        "file": row["source"]["file"],
        "language": row["language"],
        "language_flores": row["language_flores"],
        "probability": row["language_probability"],
        "blocks_kept": len(row["blocks"]),
        "blocks_by_type": dict(sorted(Counter(b["type"] for b in row["blocks"]).items())),
        "lines_removed": len(row["removed_lines"]),
        "removed_by_reason": dict(sorted(reasons.items())),
        "flags": row["flags"],
    }


@dataclass
class ChunkResult:
    """The per-document stages' output for a run of consecutive sources.

    Rows come as one Arrow record batch, converted where they were made: a
    worker's CPU does that conversion, and the driver, which alone writes,
    only appends batches. `outcomes` has one entry per source, in order:
    None where the next row of `batch` was built, else its `Skip`."""

    outcomes: list[Optional[Skip]] = field(default_factory=list)
    batch: Any = None  # pyarrow.RecordBatch of the built rows, or None
    entries: list[dict[str, Any]] = field(default_factory=list)
    # Packed (`stages.signature.pack`): bytes pickle and store cheaply, and
    # the driver reads them without a Python object per key.
    signatures: list[bytes] = field(default_factory=list)
    # Where a worker wrote the rows as a part of the build's spill
    # (`engine.spill.sealed`; `batch` is then None): the part's path, and
    # the rows' text_sha256 and texts' sizes in bytes.
    part: Optional[str] = None
    # And the path of the file its packed signatures were written to
    # (`engine.spill.write_signatures`; `signatures` is then empty).
    signatures_part: Optional[str] = None
    text_sha256: Optional[list[str]] = None
    text_bytes: Optional[list[int]] = None


def process_chunk(sources: Sequence[Source], stages: Stages, process: Optional[Callable[[Source, Stages], tuple[dict[str, Any], dict[str, Any]]]] = None) -> ChunkResult:
    """`process_with_signature` (or `process`, a wrapper of it) over
    consecutive sources, with their rows as Arrow."""
    import pyarrow as pa

    from parallel_corpus import schema
    from parallel_corpus.stages.signature import pack

    process = process or process_with_signature
    result = ChunkResult()
    rows = []
    for source in sources:
        try:
            row, sig = process(source, stages)
        except DocumentSkipped as exc:
            result.outcomes.append(exc.skip)
            continue
        result.outcomes.append(None)
        rows.append(row)
        result.signatures.append(pack(sig))
        result.entries.append(report_entry(row))
    if rows:
        result.batch = pa.RecordBatch.from_pylist(rows, schema=schema.arrow_schema("documents"))
    return result
