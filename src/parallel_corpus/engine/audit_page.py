"""The audit page: what the build did to every article, as static HTML a curator opens from disk.

`report.html` (the index) holds the corpus summary as tables and CSS bars:
documents per language and topic, removed lines by reason and outlet, the
language probabilities, the skipped and unlisted files. `report/docs-SPLIT-NNNNN.html`
hold each split's documents, up to PAGE_DOCS or PAGE_BYTES a page: every article with its
blocks typed and tagged with their language, its removed lines struck through
where they stood with their reason and rule score, its entity and date spans
marked with their QID (or canonical name) and ISO date, its topic, event and
evidence. Arabic runs right to left (`dir` by language, `auto` where a block
mixes languages).

Why this shape: a person checks the cleaner and the taggers by reading, and
report.json or Parquet rows do not read. The pages need no server, network,
font or script: CSS is inline, so they open from a laptop's disk or a CI
artifact. Everything a person or an outlet wrote is escaped: an article that
holds `<script>` shows it as text. The rows are streamed one batch at a
time (from the build's spill, `SpillRows`, or from the published Parquet)
and a page's HTML (PAGE_BYTES at most) is held only until the page is
written, so 100,000 documents cost the memory of one batch and a page a
split, and counts; the bytes depend on
the rows alone (no clock), so the same build gives the same pages.

A document's part of its page (its line in the page's contents, its
header's own lines, its blocks, removed lines and spans) depends on its own
row alone, so the build makes it where the row is made, in its workers
(`with_articles`), as UTF-8 pieces, and the build cache keeps it with the
row: writing the pages then costs the header lines that need the whole
corpus (topic, event, split, evidence: `_placed`), the page files and the
index. A row without its part has it made here.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterable, Iterator, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from parallel_corpus import schema
from parallel_corpus._fast.writebehind import WriteBehind
from parallel_corpus.align.splits import SPLIT_ORDER
from parallel_corpus.annotate.labelstudio import RTL_LANGUAGES
from parallel_corpus.engine.placed import COLUMNS as PLACED_COLUMNS, placement_arrays, with_topics
from parallel_corpus.records import REMOVAL_REASONS, parquet_name

if TYPE_CHECKING:
    from parallel_corpus.stages.document import ChunkResult

INDEX = "report.html"
PAGES_DIR = "report"
# A page of documents closes at whichever comes first: its documents or its
# bytes. At the seeds' article size (about 20 kB of HTML for 3,000 Arabic
# characters) a page is about 2 MB, which a browser opens at once.
PAGE_DOCS = 100
PAGE_BYTES = 2 * 1024 * 1024
# Rows read from Parquet at a time.
BATCH_ROWS = 256
# Rows of the index's long tables; the rest is counted, and report.json
# (or the document pages) holds it all.
MAX_TABLE_ROWS = 200
# Bins of the language probability chart: lower bounds.
PROBABILITY_BINS = (0.0, 0.5, 0.8, 0.9, 0.99, 0.999)
RTL_SCRIPTS = {"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Samr", "Mand"}
COLUMNS = [
    "id", "language", "language_flores", "script", "language_probability", "language_source", "declared_language",
    "title", "published", "text", "blocks", "entities", "dates", "topic_id", "topic_title", "event_id", "topic_source",
    "topic_score", "topic_evidence", "removed_lines", "flags", "source", "split",
]
# What the placements read of every row (`_placements`), and the summary (`_Summary`).
_PLACEMENT_COLUMNS = ("id", "language", "split", "topic_id", "topic_title", "event_id", "topic_source", "topic_score", "topic_evidence")
READ_COLUMNS = [*_PLACEMENT_COLUMNS, "removed_lines", "entities"]
# What the index's counts read (`_Summary`): a column, or (column, field) for
# one field of its items alone. On 100,000 documents, reading the whole
# nested columns took 1.6 s, these fields 0.6 s.
SUMMARY_FIELDS = [
    "language", "split", ("source", "outlet"), ("removed_lines", "reason"), "language_probability", ("blocks", "language"),
    ("blocks", "language_inherited"), ("blocks", "flags"), "topic_id", "topic_title", "flags", ("entities", "qid"), ("dates", "precision"),
]
# Rows the index's counts take at a time: each count is one Arrow call a batch.
SUMMARY_ROWS = 4096

CSS = """
:root{--ink:#1d232a;--mute:#5b6570;--line:#d8dde3;--bg:#f6f7f9;--rm:#b3261e;--e:#fff0b3;--d:#d7ecff;--h:#e3f5e1;--bar:#4a78b0}
*{box-sizing:border-box}
body{margin:0;padding:1rem 1.5rem;font:15px/1.55 system-ui,"Noto Sans","Noto Sans Arabic","Noto Naskh Arabic","Noto Sans Devanagari",sans-serif;color:var(--ink);background:#fff}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;margin:.3rem 0 1rem;font-size:.9rem}
th,td{border:1px solid var(--line);padding:.15rem .45rem;text-align:start;vertical-align:top}
th{background:var(--bg);font-weight:600}td.n{text-align:end;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:.7rem;background:var(--bar);vertical-align:middle;min-width:1px}
.barcell{width:14rem}
nav{margin:.5rem 0;font-size:.9rem}nav a{margin-inline-end:1rem}
.mute{color:var(--mute)}code,.id{font-family:ui-monospace,"Noto Sans Mono",monospace;font-size:.85em}
section.doc{border:1px solid var(--line);border-radius:6px;margin:1.2rem 0;padding:.6rem .9rem;background:#fff}
section.doc>header{background:var(--bg);margin:-.6rem -.9rem .6rem;padding:.5rem .9rem;border-bottom:1px solid var(--line);font-size:.85rem}
section.doc>header h2{margin:0 0 .3rem;border:0;font-size:1rem}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.05rem .8rem;margin:0}dl.meta dt{color:var(--mute)}dl.meta dd{margin:0}
.row{display:grid;grid-template-columns:9.5rem 1fr;gap:.8rem;padding:.2rem 0;border-top:1px dotted var(--line)}
.tag{font-size:.75rem;color:var(--mute);line-height:1.3;padding-top:.2rem}
.tag b{color:var(--ink);font-weight:600}
.b.title,.b.subtitle,.b.heading{font-weight:600}.b.caption{font-style:italic}
.rm .t{color:var(--rm)}.rm del{text-decoration-thickness:2px}
.why{color:var(--rm);font-weight:600}
mark{border-radius:3px;padding:0 .1rem}mark.e{background:var(--e)}mark.d{background:var(--d)}mark.h{outline:1px solid #3a8a35}
mark small{direction:ltr;unicode-bidi:isolate;font-size:.68em;color:var(--mute);margin-inline-start:.2rem;font-family:ui-monospace,"Noto Sans Mono",monospace}
.flag{display:inline-block;background:#fde2e1;color:var(--rm);border-radius:3px;padding:0 .3rem;margin-inline-end:.3rem;font-size:.75rem}
ol.toc{columns:2;font-size:.85rem}
"""


def write_audit_page(
    build_dir: Path, skipped: Iterable[Any] = (), unlisted_files: Iterable[str] = (), gazetteer: Optional[dict[str, int]] = None,
) -> None:
    """`build_dir/report.html` and `build_dir/report/docs-*.html` from the
    `documents` Parquet under `build_dir/data/documents`, every article made
    from its published row. (The build calls the parts in its staging
    folder once the Parquet is written: `write_pages` of its spill's rows,
    `SpillRows`, beside the driver, and `summarize` and `write_index` in it.)
    `skipped` are the build's `Skip`s, `unlisted_files` the raw files no
    source line names."""
    write_index(build_dir, summarize(build_dir), write_pages(build_dir), skipped, unlisted_files, gazetteer)


def write_pages(build_dir: Path, rows: Optional[SpillRows] = None) -> list["_Page"]:
    """The document pages, `build_dir/report/docs-*.html`, of the build's
    spill (`rows`), else of the `documents` Parquet under
    `build_dir/data/documents`; returns them as the index lists them."""
    build_dir = Path(build_dir)
    pages_dir = build_dir / PAGES_DIR
    pages_dir.mkdir(parents=True, exist_ok=True)
    # The page files are written on a thread of their own: on 100,000
    # documents, 1.4 GB whose writing (4 s of the system's time) no longer
    # waits for the pages' making, nor it for them.
    with WriteBehind() as sink:
        books = {split: _Book(pages_dir, sink, split) for split in SPLIT_ORDER}
        for batch, made in _batches(build_dir / "data" / "documents", rows):
            for i, (doc_id, language, split, removed, placed) in enumerate(_placements(batch)):
                # The article's three pieces (`article_of`) as views of its
                # bytes, the placement between the last two: on 100,000
                # documents, 1.4 GB no longer copied twice.
                article = made[i]
                first = article.index(b"\0")
                second = article.index(b"\0", first + 1)
                view = memoryview(article)
                books[split].add(doc_id, language, removed, view[:first], (view[first + 1 : second], placed.encode("utf-8"), view[second + 1 :]))
        for book in books.values():
            book.close()
    return [page for book in books.values() for page in book.pages]


def summarize(build_dir: Path) -> "_Summary":
    """The counts the index shows, from the published rows, column by
    column. The build makes them in its driver while the pages are written
    beside it: on 100,000 documents, the page's process, which ends the
    build, used 9.5 s of CPU instead of 12.4 s."""
    summary = _Summary()
    for split in SPLIT_ORDER:
        path = Path(build_dir) / "data" / "documents" / parquet_name(split)
        if path.exists():
            parquet = pq.ParquetFile(path)
            try:
                for batch in parquet.iter_batches(batch_size=SUMMARY_ROWS, columns=_summary_columns(parquet, path)):
                    summary.add_batch(batch)
            finally:
                parquet.close()
    return summary


def _summary_columns(parquet: pq.ParquetFile, path: Path) -> list[str]:
    """`SUMMARY_FIELDS` as the file's column paths: a field of a nested
    column is named by its path (`blocks.list.element.flags`), as the file
    lays it out."""
    paths = [parquet.schema.column(i).path.split(".") for i in range(parquet.metadata.num_columns)]
    columns = []
    for wanted in SUMMARY_FIELDS:
        if isinstance(wanted, str):
            columns.append(wanted)
            continue
        top, name = wanted
        found = next((path[: path.index(name, 1) + 1] for path in paths if path[0] == top and name in path[1:]), None)
        if found is None:
            raise ValueError(f"{path}: no field {top}.{name}, which a `documents` file of this package has: build it again")
        columns.append(".".join(found))
    return columns


def write_index(build_dir: Path, summary: "_Summary", pages: list["_Page"], skipped: Iterable[Any] = (), unlisted_files: Iterable[str] = (),
                gazetteer: Optional[dict[str, int]] = None) -> None:
    """`build_dir/report.html`: the corpus `summary` (`summarize`) and the
    list of the document `pages` (`write_pages`)."""
    with open(Path(build_dir) / INDEX, "w", encoding="utf-8", newline="\n") as fh:
        _write_index(fh, summary, pages, list(skipped), list(unlisted_files), gazetteer or {})


# -- the articles, made with their rows ---------------------------------------------


def articles_of(batch: pa.RecordBatch) -> pa.Array:
    """The page's part (`article_of`) of every row of a `documents` batch,
    made where the batch is made: in a build's workers, in parallel, and
    kept by the build cache with the rows."""
    return pa.array([article_of(row) for row in batch.to_pylist()], type=pa.string())


# The column of the build's spill (and of the build cache's rows) that
# holds each row's article beside it; never published.
ARTICLE_COLUMN = "audit_article"
# What the page reads of the spill (`SpillRows`): the rest of `READ_COLUMNS`
# is set once the corpus is aligned.
SPILL_COLUMNS = [*(c for c in READ_COLUMNS if c not in PLACED_COLUMNS), ARTICLE_COLUMN]


def spill_schema() -> pa.Schema:
    """`documents` with the article column."""
    return schema.arrow_schema("documents").append(pa.field(ARTICLE_COLUMN, pa.string()))


def with_articles(result: ChunkResult, make: bool = True) -> ChunkResult:
    """A `ChunkResult` whose batch has the article column: made from its
    rows, or null where the build writes no audit page (a later build that
    does makes those when it writes its pages)."""
    batch = result.batch
    if batch is not None:
        column = articles_of(batch) if make else pa.nulls(batch.num_rows, pa.string())
        # (RecordBatch.append_column needs pyarrow 16; the project allows 15.)
        result.batch = pa.RecordBatch.from_arrays([*batch.columns, column], schema=spill_schema())
    return result


def missing_articles_made(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A spill batch whose null articles are made (`article_of`): rows read
    back from the build cache lack theirs where their scores changed
    (`cache._rescored`) or where the build that stored them wrote no page.
    Made in the workers that read them, not one by one by the page."""
    column = batch.schema.get_field_index(ARTICLE_COLUMN)
    articles = batch.column(column)
    if not articles.null_count:
        return batch
    # Only the rows without one are read as Python: a block of the cache
    # holds a few, and the others' articles (more than half of its bytes)
    # stay in Arrow.
    missing = pc.is_null(articles)
    made = pa.array([article_of(row) for row in batch.filter(missing).to_pylist()], type=pa.string())
    columns = list(batch.columns)
    columns[column] = pc.replace_with_mask(articles, missing, made)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


class SpillRows:
    """The rows the build's page shows, read from the build's spill (`Spill`)
    with the topics, events and splits the driver decided
    (`placed.with_topics`), rather than from the Parquet pass two wrote: on
    100,000 documents, the page's process, which ends the build, used 6.7-7.7 s
    of CPU instead of 8.4-10.0 s (it read each split's placements from the
    Parquet and the spill's articles once a split).

    The spill is read once, in its (id) order, the splits mixed: each
    split's rows come in the order pass two writes them to its Parquet. Only
    the columns the page reads (`SPILL_COLUMNS`) and the articles made with
    the rows (`ARTICLE_COLUMN`) are decompressed. A batch that holds a row
    without its article, or one a human labelled (its published row is not
    the one its article was made from), is read again whole, and those
    rows' articles are made here from their published rows."""

    def __init__(self, spill: Any, assignments: Any, split_of_topic: dict[str, str], overrides: Any = None) -> None:
        self.spill = spill
        self.assignments = assignments
        self.split_of_topic = split_of_topic
        self.overrides = overrides
        documents = getattr(overrides, "documents", None)
        self.human = pa.array(sorted(documents), pa.string()) if documents else None
        self.arrow_schema = schema.arrow_schema("documents")

    def batches(self) -> Iterator[tuple[pa.RecordBatch, list[bytes]]]:
        """The rows (`READ_COLUMNS` at least), a batch at a time, with their
        articles as UTF-8 (as the page files hold them: Arabic or Devanagari
        as Python text would be widened and encoded back for nothing)."""
        assignments, split_of_topic = self.assignments, self.split_of_topic
        for raw, whole in self.spill.rows(SPILL_COLUMNS):
            articles = raw.column(ARTICLE_COLUMN)
            again = pc.is_null(articles)
            if self.human is not None:
                again = pc.or_(again, pc.is_in(raw.column("id"), value_set=self.human))
            if not pc.any(again).as_py():
                columns = {name: raw.column(name) for name in SPILL_COLUMNS if name != ARTICLE_COLUMN}
                columns.update(placement_arrays(raw.column("id").to_pylist(), assignments, split_of_topic, self.arrow_schema))
                yield pa.RecordBatch.from_pydict({name: columns[name] for name in READ_COLUMNS}), articles.cast(pa.binary()).to_pylist()
                continue
            rows = with_topics(whole(), assignments, split_of_topic, self.overrides, self.arrow_schema)
            remade = again.to_pylist()
            made = iter([article_of(row).encode("utf-8") for row, redo in zip(rows.select(COLUMNS).to_pylist(), remade) if redo])
            yield rows, [next(made) if redo else article for article, redo in zip(articles.cast(pa.binary()).to_pylist(), remade)]


# -- reading ------------------------------------------------------------------------


def _batches(documents_dir: Path, rows: Optional[SpillRows]) -> Iterator[tuple[pa.RecordBatch, list[bytes]]]:
    """The published rows, each split's in its (id) order, a batch at a
    time, with their articles (UTF-8): from the build's spill (`rows`), else
    read from the `documents` Parquet in `documents_dir`, each article made
    here."""
    if rows is not None:
        yield from rows.batches()
        return
    for split in SPLIT_ORDER:
        path = documents_dir / parquet_name(split)
        if not path.exists():
            continue
        parquet = pq.ParquetFile(path)
        try:
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=COLUMNS):
                yield batch, [article_of(row).encode("utf-8") for row in batch.to_pylist()]
        finally:
            parquet.close()


def _lengths(column: pa.Array) -> list[int]:
    return pc.fill_null(pc.list_value_length(column), 0).to_pylist()


def _placements(batch: pa.RecordBatch) -> Iterator[tuple[str, str, str, int, str]]:
    """Each row's (id, language, split, lines removed, the header's lines
    the whole corpus decided: `_placed`), read column by column: of the
    rest of the row only the entities' names, which the evidence shows."""
    columns = [batch.column(name).to_pylist() for name in _PLACEMENT_COLUMNS]
    removed = _lengths(batch.column("removed_lines"))
    names: list[dict[str, str]] = [{} for _ in range(batch.num_rows)]
    # Only the entities some evidence of the batch names become Python
    # objects: a document has dozens of entities and a few in its evidence
    # (on 100,000 documents, 4.3 million entities made 2.3 s of the page).
    entities = batch.column("entities")
    flat = pc.list_flatten(entities)
    qids, canonicals = pc.struct_field(flat, "qid"), pc.struct_field(flat, "canonical")
    shown = pc.and_(pc.is_in(qids, value_set=pc.unique(pc.list_flatten(batch.column("topic_evidence")))), pc.is_valid(canonicals))
    parents = pc.filter(pc.list_parent_indices(entities), shown).to_pylist()
    for row, qid, canonical in zip(parents, pc.filter(qids, shown).to_pylist(), pc.filter(canonicals, shown).to_pylist()):
        if qid and canonical:
            names[row][qid] = canonical
    for i, (doc_id, language, split, topic_id, title, event_id, source, score, evidence) in enumerate(zip(*columns)):
        yield doc_id, language, split, removed[i], _placed(topic_id, title, event_id, source, score, split, evidence, names[i])


# -- the summary --------------------------------------------------------------------


@dataclass
class _Summary:
    """Counts over every row: small whatever the corpus size (per language,
    reason, outlet and topic)."""

    documents: int = 0
    languages: Counter = field(default_factory=Counter)
    splits: Counter = field(default_factory=Counter)
    removed: Counter = field(default_factory=Counter)
    removed_by_outlet: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    documents_by_outlet: Counter = field(default_factory=Counter)
    probabilities: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    blocks: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    topics: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    topic_titles: dict[str, str] = field(default_factory=dict)
    flags: Counter = field(default_factory=Counter)
    entities: int = 0
    entities_without_qid: int = 0
    dates: int = 0

    def add_batch(self, batch: pa.RecordBatch) -> None:
        """Count a batch of published rows, column by column: each count is
        one grouping in Arrow, not a loop over rows, blocks or removed
        lines in Python (on 100,000 documents, 2.7 s of the build's last
        steps before)."""
        column = batch.column
        self.documents += batch.num_rows
        languages = column("language")
        self.languages.update(_counts(languages))
        self.splits.update(_counts(column("split")))
        outlets = _or_named(pc.struct_field(column("source"), "outlet"), "(no outlet)")
        self.documents_by_outlet.update(_counts(outlets))
        removed = column("removed_lines")
        reasons = pc.struct_field(pc.list_flatten(removed), "reason")
        self.removed.update(_counts(reasons))
        for outlet, reason, n in _grouped(outlet=outlets.take(pc.list_parent_indices(removed)), reason=reasons):
            self.removed_by_outlet[outlet][reason] += n
        probabilities = pc.fill_null(column("language_probability"), 0.0).to_numpy(zero_copy_only=False)
        bins = pa.array(np.asarray(PROBABILITY_BINS)[np.searchsorted(PROBABILITY_BINS, probabilities, side="right") - 1])
        for language, low, n in _grouped(language=languages, bin=bins):
            self.probabilities[language][low] += n
        blocks = column("blocks")
        flat_blocks = pc.list_flatten(blocks)
        block_languages = pc.struct_field(flat_blocks, "language")
        inherited = pc.cast(pc.fill_null(pc.struct_field(flat_blocks, "language_inherited"), False), pa.int64())
        table = pa.table({"language": block_languages, "inherited": inherited})
        grouped = table.group_by(["language"]).aggregate([("inherited", "count", pc.CountOptions(mode="all")), ("inherited", "sum")])
        for language, n, was in zip(*(grouped.column(name).to_pylist() for name in ("language", "inherited_count", "inherited_sum"))):
            counts = self.blocks[language]
            counts["blocks"] += n
            counts["inherited"] += was
        block_flags = pc.struct_field(flat_blocks, "flags")
        for language, flag, n in _grouped(language=block_languages.take(pc.list_parent_indices(block_flags)), flag=pc.list_flatten(block_flags)):
            self.blocks[language][flag] += n
        topics = _or_named(column("topic_id"), "(none)")
        for topic, language, n in _grouped(topic=topics, language=languages):
            self.topics[topic][language] += n
        for topic, title in zip(topics.to_pylist(), column("topic_title").to_pylist()):
            if topic not in self.topic_titles:
                self.topic_titles[topic] = title or ""
        self.flags.update(_counts(pc.list_flatten(column("flags"))))
        entities = pc.list_flatten(column("entities"))
        self.entities += len(entities)
        self.entities_without_qid += pc.struct_field(entities, "qid").null_count
        self.dates += len(pc.list_flatten(column("dates")))


def _or_named(values: pa.Array, absent: str) -> pa.Array:
    """The strings, with `absent` where one is null or empty."""
    return pc.if_else(pc.fill_null(pc.equal(values, ""), True), pa.scalar(absent), values)


def _counts(values: pa.Array) -> dict[Any, int]:
    """How many times each value (None for null) is in `values`."""
    found = pc.value_counts(values)
    return dict(zip(found.field("values").to_pylist(), found.field("counts").to_pylist()))


def _grouped(**columns: pa.Array) -> Iterator[tuple[Any, ...]]:
    """Each distinct combination of the columns' values (nulls included), with
    how many rows have it."""
    names = list(columns)
    found = pa.table(columns).group_by(names).aggregate([(names[0], "count", pc.CountOptions(mode="all"))])
    return zip(*(found.column(name).to_pylist() for name in names), found.column(names[0] + "_count").to_pylist())


# -- the document pages -------------------------------------------------------------


@dataclass
class _Page:
    number: int
    split: str
    first: str = ""
    last: str = ""
    documents: int = 0
    languages: Counter = field(default_factory=Counter)
    removed: int = 0

    @property
    def name(self) -> str:
        return _page_name(self.split, self.number)


def _page_name(split: str, number: int) -> str:
    return f"docs-{split}-{number:05d}.html"


class _Book:
    """A split's document pages, written as its documents come: a page
    closes when it holds PAGE_DOCS documents or PAGE_BYTES of HTML, so at
    most one page's HTML is held. The page's table of contents opens it,
    and whether a next page follows is known when it closes. Each split has
    its own book, numbered from 1, so that the rows of every split are
    paged in one reading of the spill, where the splits are mixed."""

    def __init__(self, directory: Path, sink: WriteBehind, split: str) -> None:
        self.directory = directory
        self.sink = sink
        self.split = split
        self.pages: list[_Page] = []
        self._bytes = 0
        self._toc: list[Any] = []
        # Each document's HTML as UTF-8, encoded once: its size decides the
        # page it goes to, and the bytes are what the page file holds.
        self._body: list[Any] = []

    def add(self, doc_id: str, language: str, removed: int, toc: Any, section: Sequence[Any]) -> None:
        """A document: its line in the table of contents and its section's
        pieces, as UTF-8 (bytes, or views of bytes: `article_of`)."""
        size = sum(len(piece) for piece in section)
        page = self.pages[-1] if self.pages else None
        if page is None or page.documents >= PAGE_DOCS or self._bytes + size > PAGE_BYTES:
            self._write_page(has_next=True)
            page = _Page(len(self.pages) + 1, self.split, first=doc_id)
            self.pages.append(page)
        page.last = doc_id
        page.documents += 1
        page.languages[language] += 1
        page.removed += removed
        self._toc.append(toc)
        self._body.extend(section)
        self._bytes += size

    def _write_page(self, has_next: bool) -> None:
        if not self._body:
            return
        page = self.pages[-1]
        nav = _nav(page.split, page.number, has_next)
        head = (_head(f"Audit: {page.split} documents {page.first} to {page.last}") + nav
                + f"<h1>Page {page.number}: {page.documents} {page.split} documents</h1>\n" + '<ol class="toc">\n')
        self.sink.submit(_write_file, self.directory / page.name, [head.encode("utf-8"), *self._toc, b"</ol>\n", *self._body, (nav + "</body>\n</html>\n").encode("utf-8")])
        self._toc, self._body, self._bytes = [], [], 0

    def close(self) -> None:
        self._write_page(has_next=False)


def _write_file(path: Path, pieces: list[bytes]) -> None:
    with open(path, "wb") as fh:
        fh.writelines(pieces)


def _nav(split: str, number: int, has_next: bool) -> str:
    links = [f'<a href="../{INDEX}">index</a>']
    if number > 1:
        links.append(f'<a href="{_page_name(split, number - 1)}">previous page</a>')
    if has_next:
        links.append(f'<a href="{_page_name(split, number + 1)}">next page</a>')
    return "<nav>" + "".join(links) + "</nav>\n"


def _direction(language: str, script: Optional[str] = None) -> str:
    return "rtl" if language in RTL_LANGUAGES or script in RTL_SCRIPTS else "ltr"


def article_of(row: dict[str, Any]) -> str:
    """A document's part of its page, from its own row alone (not its topic
    or split), so that the build makes it where the row is made
    (`articles_of`) and the build cache keeps it with the row. Three pieces,
    NUL-separated (escaped HTML holds no NUL, see `_esc`): its line in the
    page's table of contents; its section up to the header's placement
    (`_placed`, made when the page is written); and the rest: the header's
    counts and the article, its kept blocks and removed lines in raw-line
    order."""
    text: str = row["text"]
    spans = _spans(row)
    items: list[tuple[int, int, str]] = []
    for block in row["blocks"]:
        items.append((block["line"], 1, _block(text, block, spans)))
    for removed in row["removed_lines"]:
        items.append((removed["line"], 0, _removed(removed)))
    items.sort(key=lambda item: (item[0], item[1]))
    found = f'{len(row["blocks"])} blocks, {len(row["removed_lines"])} lines removed, {len(row["entities"])} entities, {len(row["dates"])} dates'
    return (
        _toc(row) + "\0" + _opening(row) + "\0"
        + f"<dt>found</dt><dd>{found}</dd></dl></header>\n"
        + '<div class="article">\n' + "".join(item[2] for item in items) + "</div>\n</section>\n"
    )


def _toc(row: dict[str, Any]) -> str:
    return (f'<li><a href="#{_attr(row["id"])}"><span class="id">{_esc(row["id"])}</span></a> '
            f'<span class="mute">{_esc(row["language_flores"])}</span> <bdi>{_esc(_short(row["title"] or ""))}</bdi></li>\n')


def _opening(row: dict[str, Any]) -> str:
    """The opening of a document's <section> and of its header, up to what
    the whole corpus decided of it: its own metadata."""
    language = row["language"]
    direction = _direction(language, row["script"])
    source = row["source"] or {}
    flags = "".join(f'<span class="flag">{_esc(f)}</span>' for f in row["flags"])
    meta = [
        ("language", f'{_esc(row["language_flores"])} p={_num(row["language_probability"])} ({_esc(row["language_source"])}; declared {_esc(row["declared_language"] or "none")}) {flags}'),
        ("source", f'<code>{_esc(source.get("file") or "")}</code> {_esc(source.get("encoding") or "")} · outlet <bdi>{_esc(source.get("outlet") or "none")}</bdi>'
                   + (f' · <bdi>{_esc(source["url"])}</bdi>' if source.get("url") else "") + (f' · published {_esc(str(row["published"]))}' if row["published"] else "")),
    ]
    return (
        f'<section class="doc" id="{_attr(row["id"])}" lang="{_attr(language)}" dir="{direction}">\n<header lang="en" dir="ltr"><h2><span class="id">{_esc(row["id"])}</span> '
        f'<bdi lang="{_attr(language)}">{_esc(row["title"] or "")}</bdi></h2>\n<dl class="meta">'
        + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta)
    )


def _placed(topic_id: Optional[str], title: Optional[str], event_id: Optional[str], source: Optional[str], score: Optional[float], split: str,
            evidence: list[str], names: dict[str, str]) -> str:
    """The header's lines that the whole corpus decided: topic, event,
    split and evidence (`names`: the document's entities' canonical names
    by QID)."""
    shown = ", ".join(_evidence(item, names.get(item)) for item in evidence) or '<span class="mute">none</span>'
    scored = "" if score is None else f" score {score:.3f}"
    return (
        f'<dt>topic</dt><dd><code>{_esc(topic_id or "none")}</code> <bdi>{_esc(title or "")}</bdi> ({_esc(source or "none")}{scored}) · split {_esc(split)}</dd>'
        f'<dt>event</dt><dd><code>{_esc(event_id or "none")}</code></dd><dt>evidence</dt><dd>{shown}</dd>'
    )


def _block(text: str, block: dict[str, Any], spans: list[tuple[int, int, str, str]]) -> str:
    language = block["language"]
    mixed = "code_switching" in block["flags"] or "script_mismatch" in block["flags"]
    direction = "auto" if mixed else _direction(language)
    inherited = " inherited" if block["language_inherited"] else ""
    flags = "".join(f'<br><span class="flag">{_esc(f)}</span>' for f in block["flags"])
    tag = f'<div class="tag" dir="ltr"><b>{_esc(block["type"])}</b> · line {block["line"]}<br>{_esc(language)} {_num(block["language_probability"])}{inherited}{flags}</div>'
    body = _marked(text, block["start"], block["end"], spans)
    return f'<div class="row">{tag}<div class="b {_attr(block["type"])}" lang="{_attr(language)}" dir="{direction}">{body}</div></div>\n'


def _removed(removed: dict[str, Any]) -> str:
    score = "" if removed["score"] is None else f" {_num(removed['score'])}"
    tag = f'<div class="tag" dir="ltr"><b>removed</b> · line {removed["line"]}<br>{_why(removed["reason"])}{score}</div>'
    # A line with a letter takes the direction of its first strong one; a line
    # of punctuation ("." "-----") stands where the document's lines do.
    direction = ' dir="auto"' if any(c.isalpha() for c in removed["text"]) else ""
    return f'<div class="row rm">{tag}<div class="t"{direction}><del>{_esc(removed["text"])}</del></div></div>\n'


def _why(reason: str) -> str:
    """A removed line's reason, its meaning on hover."""
    return f'<span class="why" title="{_attr(REMOVAL_REASONS.get(reason, ""))}">{_esc(reason)}</span>'


def rescored_article(article: str, scores: dict[float, float]) -> Optional[str]:
    """The article (`article_of`) of a row whose `boilerplate` removals got
    new scores (old score -> new: `cache._rescored`), as `article_of` makes
    it from the row with the new ones; None where it shows a score `scores`
    has no new value for. Only those scores differ, each after its reason
    in a removed line's tag (`_removed`), where no text of the document
    reaches (`_esc` leaves no "<" in it). Made again instead, the 1,815
    articles a 100,000-document rebuild rescored took 2.5 s of the workers'
    time; replaced, a few milliseconds."""
    marker = _why("boilerplate") + " "
    shown = {_num(old): _num(new) for old, new in scores.items()}
    pieces = article.split(marker)
    out = [pieces[0]]
    for piece in pieces[1:]:
        old, end, rest = piece.partition("</div>")
        new = shown.get(old)
        if new is None or not end:
            return None
        out.append(f"{marker}{new}{end}{rest}")
    return "".join(out)


def _spans(row: dict[str, Any]) -> list[tuple[int, int, str, str]]:
    """Entity and date spans as (start, end, class, label), by start, none
    overlapping: of overlapping spans the first (then longest) is marked;
    the others stay in the header's counts and the Parquet."""
    found: list[tuple[int, int, str, str]] = []
    for e in row["entities"]:
        label = e["qid"] or e["canonical"] or e["type"]
        title = f'{e["canonical"] or ""}, {e["type"]}' + (", human" if e["source"] == "human" else "")
        found.append((e["start"], e["end"], "e h" if e["source"] == "human" else "e", f"{label}\x00{title}"))
    for d in row["dates"]:
        label = str(d["date"]) + (f"–{d['date_end']}" if d["date_end"] and d["date_end"] != d["date"] else "") + ("" if d["precision"] == "day" else f" ({d['precision']})")
        found.append((d["start"], d["end"], "d", f"{label}\x00date"))
    found.sort(key=lambda s: (s[0], -s[1], s[2], s[3]))
    kept: list[tuple[int, int, str, str]] = []
    end = -1
    for span in found:
        if span[0] >= end and span[1] > span[0]:
            kept.append(span)
            end = span[1]
    return kept


def _marked(text: str, start: int, end: int, spans: list[tuple[int, int, str, str]]) -> str:
    """text[start:end], escaped, with the spans inside it marked."""
    out: list[str] = []
    at = start
    # Spans do not overlap, so their ends rise with their starts: the first
    # that can reach this block is found by bisection, not by a walk from the
    # document's first span in every block.
    first = bisect_right(spans, start, key=lambda span: span[1])
    for s, e, cls, label in spans[first:]:
        if s >= end:
            break
        s, e = max(s, start), min(e, end)
        if s < at:
            continue
        opening, closing = _mark(cls, label)
        out.append(_esc(text[at:s]))
        out.append(opening + _esc(text[s:e]) + closing)
        at = e
    out.append(_esc(text[at:end]))
    return "".join(out)


@lru_cache(maxsize=65536)
def _evidence(item: str, name: Optional[str]) -> str:
    """An item of a topic's evidence, with the entity's name where it is one:
    the same keys recur through a corpus, so each is escaped once."""
    return f'<code>{_esc(item)}</code>' + (f" <bdi>{_esc(name)}</bdi>" if name is not None else "")


@lru_cache(maxsize=4096)
def _mark(cls: str, label: str) -> tuple[str, str]:
    """The tags around a span: the same entity recurs through a corpus, so
    its escaped label is made once."""
    shown, title = label.split("\x00", 1)
    return f'<mark class="{cls}" title="{_attr(title)}">', f'<small>{_esc(shown)}</small></mark>'


# -- the index ----------------------------------------------------------------------


def _write_index(fh: IO[str], s: _Summary, pages: list[_Page], skipped: list[Any], unlisted: list[str], gazetteer: dict[str, int]) -> None:
    w = fh.write
    w(_head("Audit of the build"))
    w("<h1>Audit of the build</h1>\n")
    w(f'<p>{s.documents} documents on {len(pages)} pages, {len(skipped)} raw files skipped, {len(unlisted)} unlisted. '
      f'{sum(s.removed.values())} lines removed, {s.entities} entity spans ({s.entities_without_qid} without a QID), {s.dates} date spans. '
      'Counts are of the published rows (human labels applied); <code>report.json</code> holds every entry.</p>\n')
    w('<nav><a href="#languages">languages</a><a href="#topics">topics</a><a href="#removed">removed lines</a>'
      '<a href="#probabilities">language probabilities</a><a href="#skipped">skipped files</a><a href="#pages">document pages</a></nav>\n')

    w('<h2 id="languages">Documents per language</h2>\n')
    _bars(fh, sorted(s.languages.items()), "language")
    w("<table><tr><th>split</th><th>documents</th></tr>" + "".join(f'<tr><td>{_esc(k)}</td><td class="n">{s.splits[k]}</td></tr>' for k in SPLIT_ORDER if s.splits[k]) + "</table>\n")

    w('<h2 id="topics">Documents per topic and language</h2>\n')
    languages = sorted(s.languages)
    topics = sorted(s.topics.items(), key=lambda t: (-sum(t[1].values()), t[0]))
    w("<table><tr><th>topic</th><th>title</th>" + "".join(f"<th>{_esc(lang)}</th>" for lang in languages) + "<th>all</th></tr>\n")
    for topic, counts in topics[:MAX_TABLE_ROWS]:
        w(f'<tr><td><code>{_esc(topic)}</code></td><td dir="auto">{_esc(s.topic_titles[topic])}</td>'
          + "".join(f'<td class="n">{counts[lang] or ""}</td>' for lang in languages) + f'<td class="n">{sum(counts.values())}</td></tr>\n')
    w("</table>\n")
    if len(topics) > MAX_TABLE_ROWS:
        w(f'<p class="mute">The {MAX_TABLE_ROWS} largest of {len(topics)} topics; report.json lists them all.</p>\n')

    w('<h2 id="removed">Lines removed</h2>\n<h3>By reason</h3>\n')
    _bars(fh, sorted(s.removed.items()), "reason", titles=REMOVAL_REASONS)
    reasons = sorted(s.removed)
    outlets = sorted(s.documents_by_outlet.items(), key=lambda o: (-sum(s.removed_by_outlet[o[0]].values()), o[0]))
    w("<h3>By outlet and reason</h3>\n<table><tr><th>outlet</th><th>documents</th>" + "".join(f"<th>{_esc(r)}</th>" for r in reasons) + "<th>all</th><th>per document</th></tr>\n")
    for outlet, docs in outlets[:MAX_TABLE_ROWS]:
        counts = s.removed_by_outlet[outlet]
        total = sum(counts.values())
        w(f'<tr><td dir="auto">{_esc(outlet)}</td><td class="n">{docs}</td>' + "".join(f'<td class="n">{counts[r] or ""}</td>' for r in reasons)
          + f'<td class="n">{total}</td><td class="n">{total / docs:.2f}</td></tr>\n')
    w("</table>\n")
    if len(outlets) > MAX_TABLE_ROWS:
        w(f'<p class="mute">The {MAX_TABLE_ROWS} outlets with most removed lines of {len(outlets)}.</p>\n')

    w('<h2 id="probabilities">Language probabilities</h2>\n<h3>Documents by the probability of their language</h3>\n')
    bins = [f"≥ {b:g}" for b in PROBABILITY_BINS]
    w("<table><tr><th>language</th>" + "".join(f"<th>{b}</th>" for b in bins) + "</tr>\n")
    for lang in languages:
        counts = s.probabilities[lang]
        most = max(counts.values())
        w(f"<tr><td>{_esc(lang)}</td>" + "".join(
            f'<td class="n">{counts[b]} <span class="bar" style="width:{_pct(counts[b], most) * 0.04:.2f}rem"></span></td>' if counts[b] else "<td></td>" for b in PROBABILITY_BINS
        ) + "</tr>\n")
    w("</table>\n<h3>Blocks by language</h3>\n")
    block_flags = sorted({k for c in s.blocks.values() for k in c} - {"blocks", "inherited"})
    w("<table><tr><th>language</th><th>blocks</th><th>inherited the document's language</th>" + "".join(f"<th>{_esc(f)}</th>" for f in block_flags) + "</tr>\n")
    for lang, counts in sorted(s.blocks.items()):
        w(f'<tr><td>{_esc(lang)}</td><td class="n">{counts["blocks"]}</td><td class="n">{counts["inherited"]}</td>' + "".join(f'<td class="n">{counts[f] or ""}</td>' for f in block_flags) + "</tr>\n")
    w("</table>\n")
    if s.flags:
        w("<h3>Document flags</h3>\n")
        _bars(fh, sorted(s.flags.items()), "flag")
    if gazetteer:
        w(f'<p>Gazetteer: {gazetteer.get("entities", 0)} entities, {gazetteer.get("without_qid", 0)} without a QID, {gazetteer.get("unverified_qids", 0)} QIDs not checked.</p>\n')

    w('<h2 id="skipped">Skipped files</h2>\n')
    if skipped:
        w("<table><tr><th>file</th><th>reason</th><th>message</th></tr>\n")
        for skip in skipped[:MAX_TABLE_ROWS]:
            w(f'<tr><td><code>{_esc(skip.file)}</code></td><td>{_esc(skip.reason)}</td><td dir="auto">{_esc(skip.message)}</td></tr>\n')
        w("</table>\n")
        if len(skipped) > MAX_TABLE_ROWS:
            w(f'<p class="mute">The first {MAX_TABLE_ROWS} of {len(skipped)}; report.json lists them all.</p>\n')
    else:
        w("<p>None.</p>\n")
    if unlisted:
        w("<h3>Raw files no line of sources.jsonl names (not built)</h3>\n<ul>" + "".join(f"<li><code>{_esc(f)}</code></li>" for f in unlisted[:MAX_TABLE_ROWS]) + "</ul>\n")

    w('<h2 id="pages">Document pages</h2>\n<table><tr><th>page</th><th>split</th><th>first</th><th>last</th><th>documents</th><th>languages</th><th>removed lines</th></tr>\n')
    for page in pages:
        langs = ", ".join(f"{_esc(k)} {v}" for k, v in sorted(page.languages.items()))
        w(f'<tr><td><a href="{PAGES_DIR}/{page.name}">{page.number}</a></td><td>{page.split}</td><td class="id">{_esc(page.first)}</td>'
          f'<td class="id">{_esc(page.last)}</td><td class="n">{page.documents}</td><td>{langs}</td><td class="n">{page.removed}</td></tr>\n')
    w("</table>\n</body>\n</html>\n")


def _bars(fh: IO[str], items: list[tuple[str, int]], what: str, titles: Optional[dict[str, str]] = None) -> None:
    """A table of counts with a bar each, the longest bar the largest count."""
    if not items:
        fh.write("<p>None.</p>\n")
        return
    most = max(v for _, v in items)
    fh.write(f"<table><tr><th>{what}</th><th>count</th><th></th></tr>\n")
    for key, value in items:
        title = f' title="{_attr(titles[key])}"' if titles and key in titles else ""
        fh.write(f'<tr><td{title}>{_esc(key)}</td><td class="n">{value}</td><td class="barcell"><span class="bar" style="width:{_pct(value, most):.1f}%"></span></td></tr>\n')
    fh.write("</table>\n")


# -- small pieces -------------------------------------------------------------------


def _head(title: str) -> str:
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            # No script, no request: the page is read, never run.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
            f"<title>{_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n")


def _esc(value: Any) -> str:
    """Text as HTML: markup characters escaped, and the characters HTML
    cannot carry (NUL, other C0 controls) shown as U+FFFD. Most pieces of an
    article hold none of them: one search lets them through as they are
    (a page calls this some 200 times a document)."""
    text = value if isinstance(value, str) else str(value)
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return _CONTROLS.sub("\ufffd", html.escape(text, quote=True))


_attr = _esc
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NEEDS_ESCAPE = re.compile("[&<>\"'\x00-\x08\x0b\x0c\x0e-\x1f]")


def _num(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _pct(value: int, most: int) -> float:
    return 100.0 * value / most if most else 0.0


def _short(title: str, n: int = 90) -> str:
    return title if len(title) <= n else title[: n - 1] + "…"
