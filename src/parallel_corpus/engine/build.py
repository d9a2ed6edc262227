"""Build: a corpus folder in, the configs' Parquet and a build report out.

Two passes, one writer. Pass one runs the per-document stages (in this
process, a process pool or Ray) and streams `documents` rows, in id order, to
a spill file, and hands each document's compact signature to the store
(`engine.aligner`, in a process beside this one where steps run beside it).
Alignment and splits run on the signatures. Pass two re-reads the spill in
batches, attaches topic, event and split, and writes the published Parquet
sorted by (split, id). The workers never write Parquet: this process writes
it, or for `pairs` and the audit page a process forked from it
(`engine.aligner`, `engine.beside`), one writer a file in a fixed order, so
workers and engines cannot change the bytes.

This module is the driver, the order of the steps. Where the per-document
stages run is `engine.executors`, what a rebuild reuses of the last build's
per-document work `engine.cache`, how Parquet is written `engine.writers`,
what report.json says `engine.report`, the audit page (report.html) that
shows a curator every document `engine.audit_page`; the lock, the staging
folder and the swap into place are `files`.
"""

from __future__ import annotations

import logging
import os
import shutil
from array import array
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parallel_corpus import schema
from parallel_corpus.align.cluster import ClusterParams
from parallel_corpus.align.splits import RECORD_FILE, SPLIT_ORDER, SplitsFileError, assign_splits, moves, pinned_topics, read_recorded
from parallel_corpus.engine.aligner import Aligner, aligner
from parallel_corpus.corpus import Corpus, Source
from parallel_corpus.engine.audit_page import SpillRows, summarize, write_index, write_pages
from parallel_corpus.engine import cache as cached
from parallel_corpus.engine.beside import beside, can_fork
from parallel_corpus.engine.executors import check_engine, run_documents, segment_keys
from parallel_corpus.engine.memory import give_back
from parallel_corpus.engine.placed import COLUMNS as PLACED_COLUMNS, with_topics
from parallel_corpus.engine.report import BuildReport, placement
from parallel_corpus.engine.spill import Spill
from parallel_corpus.engine.writers import ArrowFiles, SplitWriter, join_batches, topic_order, write_annotations, write_pairs, write_parallel
from parallel_corpus.files import disk_problems_as, exclusive, replace_dir, staging_dir
from parallel_corpus.records import Skip
from parallel_corpus.stages.document import Stages
from parallel_corpus.errors import Error

# Rows per batch of pass one's spill: chunks' batches are joined up to this
# many before they are written. Pass two pays per batch it reads (filters,
# topic columns, bucket writes): on 100,000 documents it took 15.5 s from
# 32-row batches and 11.4 s from 256-row ones, at a lower peak.
SPILL_ROWS = 256
# Bytes of text gathered at once to make `parallel` rows: documents are
# bucketed by topic so that each bucket fits, whatever the corpus size. A
# bucket is held more than once while it is read, sorted and copied: at 8 MB
# this step rises about 30 MB above what the build holds; at 32 MB it rose
# 40 MB on 10,000 documents and 80 MB on 100,000.
PARALLEL_TEXT_BUDGET = 8 * 1024 * 1024

# The build's messages (`warning: ...`, `skipped: ...`, `quarantined: ...`),
# one line each, at WARNING: the command line prints them as they are, a
# library caller sees them through `logging` unless it passes `log`.
logger = logging.getLogger(__name__)


def _to_logger(message: str) -> None:
    logger.warning(message)


class BuildError(Error, RuntimeError):
    """The build cannot go on; nothing was written."""


# -- the build ----------------------------------------------------------------


def build(
    corpus_dir: Path,
    out_dir: Path,
    annotations_dir: Optional[Path] = None,
    workers: int = 1,
    engine: str = "local",
    ray_address: Optional[str] = None,
    strict: bool = False,
    progress: Optional[Callable[[int], Any]] = None,
    log: Optional[Callable[[str], None]] = None,
    total: Optional[Callable[[int], Any]] = None,
    on_entry: Optional[Callable[[dict[str, Any]], Any]] = None,
    audit_page: bool = True,
    cache: Optional[Path] = None,
    cache_limit_bytes: int = cached.DEFAULT_LIMIT_BYTES,
) -> BuildReport:
    """Build every config into `out_dir`, replacing it only once all is written.

    `total`, if given, is told the number of sources once they are read,
    `progress` the number of sources done as they finish, and `on_entry`
    each document's report entry as report.json is written. `audit_page`
    also writes report.html and report/ (engine.audit_page). `cache`, a
    folder, keeps per-document results for the next build (engine.cache).
    The build's messages go to the `parallel_corpus.engine.build` logger, or
    to `log` instead when it is given."""
    log = log or _to_logger
    check_engine(engine, ray_address)
    corpus = Corpus(Path(corpus_dir))
    dataset = corpus.dataset()
    sources = corpus.source_list()
    if total is not None:
        total(len(sources))
    seed = int(dataset["seed"])
    stages = _check_curated(corpus, seed, sources)
    stored = cached.BuildCache.open(cache, corpus, seed, cache_limit_bytes) if cache is not None else None
    report = BuildReport()
    report.gazetteer = _gazetteer_stats(stages.gazetteer)
    report.unlisted_files = _unlisted_files(corpus, sources)
    for name in report.unlisted_files:
        log(f"warning: raw/{name} is not listed in sources.jsonl; it is not built (add a line for it)")

    out_dir = Path(out_dir)
    with disk_problems_as(lambda problem: BuildError(f"{out_dir}: cannot write the build ({problem}); {out_dir} is as it was")):
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        with exclusive(out_dir, "build"):
            return _build_locked(corpus, dataset, sources, seed, report, out_dir, annotations_dir, workers, engine, ray_address, strict, progress, log, stages, on_entry, audit_page, stored)


def _build_locked(corpus, dataset, sources, seed, report, out_dir, annotations_dir, workers, engine, ray_address, strict, progress, log, stages, on_entry=None, audit_page=True, stored=None) -> BuildReport:
    with staging_dir(out_dir) as staging:
        try:
            spill = Spill(staging / "spill" / "documents")
            report.entries_path = staging / "spill" / "report-documents.jsonl"
            _count_segments(corpus, sources, seed, workers, engine, stages, stored)
            params = ClusterParams.load(corpus.root)
            # The signatures, alignment and `pairs`: in a process beside the
            # driver, fed as pass one reads (engine.aligner), or here.
            forked = engine == "local" and can_fork(workers)
            # Alignment's threads: the build's workers are done by then.
            threads = min(workers, os.cpu_count() or 1) if engine == "local" else 1
            with aligner(params.max_df, forked, write_pairs, threads) as signatures:
                ids, text_bytes = _pass_one(corpus, sources, seed, workers, engine, ray_address, spill, report, progress, log, stages, signatures, stored, audit_page)
                give_back()
                if strict and report.skipped:
                    raise BuildError(f"{len(report.skipped)} raw file(s) skipped and --strict is set: nothing written (first: {report.skipped[0].message})")
                if not ids:
                    raise BuildError("no document could be built: see the messages above")

                overrides = _human_overrides(stages, annotations_dir, partial(spill.column, "text_sha256"), partial(spill.column, "text"), report, log)
                if forked:
                    # The driver waits for the store's process to align: it
                    # lays out report.json's entries meanwhile.
                    with ThreadPoolExecutor(1) as laying_out:
                        laid_out = laying_out.submit(report.render)
                        assignments = _align(corpus, signatures, overrides, params)
                        laid_out.result()
                else:
                    assignments = _align(corpus, signatures, overrides, params)
                give_back()
                split_of_topic = _splits(corpus, assignments, dataset, seed, report, log)
                size_of_topic: Counter = Counter()
                for doc_id, n in zip(ids, text_bytes):
                    size_of_topic[assignments[doc_id].topic_id] += n
                del ids, text_bytes
                # `pairs` is the last step that reads the signatures: beside the
                # driver, written while pass two runs; here, first, so that the
                # signatures go before the documents stream through pass two.
                signatures.write_pairs(staging, split_of_topic, dataset, overrides, params, assignments)
                give_back()
                buckets = _pass_two(spill, staging, assignments, split_of_topic, overrides, report, size_of_topic)
                give_back()
                signatures.wait()
            # report/: the published rows as a curator reads them, made from
            # the spill beside `parallel` and report.json; then report.html,
            # their index, from the Parquet.
            rows = SpillRows(spill, assignments, split_of_topic, overrides) if audit_page else None
            with beside(write_pages, staging, rows, forked=forked and audit_page) as page:
                del rows
                write_parallel(buckets, staging, assignments, split_of_topic)
                if overrides is not None:
                    write_annotations(staging, overrides, {d: split_of_topic[a.topic_id] for d, a in assignments.items()})
                report.write(staging / "report.json", partial(_placement, assignments, split_of_topic), on_entry)
                if audit_page:
                    summary = summarize(staging)  # while the pages are written
                    write_index(staging, summary, page.wait(), report.skipped, report.unlisted_files, report.gazetteer)
            shutil.rmtree(staging / "spill")
            replace_dir(staging, out_dir)
        except BaseException:
            # The cleanup must survive what broke the build: closing the report
            # on a full disk fails too, and the staging folder (removed by
            # staging_dir) must go anyway.
            try:
                report.close()
            except OSError:
                pass
            raise
    return report


def _check_curated(corpus: Corpus, seed: int, sources: Sequence[Source]) -> Stages:
    """Every curated file parses, fits its schema and names only what exists, before
    anything is written: one line (a CorpusError) for the first problem. Loading here
    also keeps a broken file out of pool workers, whose failing initializer would
    only be restarted."""
    from parallel_corpus.align import load_catalog
    from parallel_corpus.corpus import CorpusError, reference_errors

    problems = reference_errors(corpus, sources)
    if problems:
        raise CorpusError(problems)
    stages = Stages.load(corpus.root, seed)
    load_catalog(corpus.root)
    return stages


def _gazetteer_stats(gazetteer: Any) -> dict[str, int]:
    """How many entity QIDs the gazetteer holds and how many nobody checked
    against Wikidata: the card must say so."""
    if gazetteer is None:
        return {}
    return {
        "entities": len(gazetteer.entities),
        "unverified_qids": sum(1 for e in gazetteer.entities if not e.verified),
        "without_qid": sum(1 for e in gazetteer.entities if e.qid is None),
    }


def _unlisted_files(corpus: Corpus, sources: Sequence[Source]) -> list[str]:
    files = getattr(sources, "files", None)  # a SourceList's, without parsing its lines again
    listed = set(files) if files is not None else {s.file for s in sources}
    if not corpus.raw_dir.is_dir():
        return []
    return [f for f in sorted(_files_under(str(corpus.raw_dir))) if f not in listed]


def _files_under(root: str, prefix: str = "") -> Iterator[str]:
    """Relative paths of the files under a folder, not entering linked
    folders, leaving out names that start with a dot: what
    `Path.rglob("*")` with `is_file()` finds, from os.scandir's entries
    (rglob makes a Path of each of 100,000 raw files: 4.8 s, against 0.2)."""
    try:
        with os.scandir(root) as found:
            entries = list(found)
    except OSError:  # unreadable, or gone since it was listed: the listing only warns
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _files_under(entry.path, f"{prefix}{entry.name}{os.sep}")
            elif not entry.name.startswith(".") and entry.is_file():
                yield prefix + entry.name
        except OSError:
            continue


def _count_segments(corpus: Corpus, sources: Sequence[Source], seed: int, workers: int, engine: str, stages: Stages, stored: Optional[cached.BuildCache]) -> None:
    """Segments that recur across documents are furniture: counted over the
    whole corpus before any document is cleaned (each document's segments
    read back from the build cache where it has them)."""
    if stored is None:
        stages.count_boilerplate(sources, segment_keys(corpus.root, sources, seed, workers, engine, stages))
    else:
        stages.count_boilerplate(sources, cached.segment_keys(stored, corpus.root, sources, seed, workers, engine, stages))


def _pass_one(corpus, sources, seed, workers, engine, ray_address, spill: Spill, report, progress, log, stages, signatures: Aligner, stored=None,
              articles: bool = True) -> tuple[list[str], array]:
    """Stream rows to the spill; hand their signatures to `signatures`.
    Duplicate texts (same bytes, or the same text under other chrome) are
    reported and built once. Returns the ids of the documents kept and
    their texts' sizes in bytes, in source order.

    The spill (`engine.spill`) is Arrow IPC (lz4): written and read back
    batch by batch, it costs the driver far less than Parquet's encoding
    would; the build cache's workers write the parts of the blocks they
    serve into its folder themselves. Its rows carry their articles for
    the audit page, made by the workers (`audit_page.with_articles`; null
    without `articles`)."""
    ids: list[str] = []
    # Texts already built, by the first 128 bits of their sha256 (an int
    # takes a third of the memory of the hex string).
    seen_text: dict[int, str] = {}
    text_bytes = array("q")
    if stored is None:
        results = run_documents(corpus.root, sources, seed, workers, engine, ray_address, stages, articles=articles)
    else:  # only new or changed documents go through the stages
        results = cached.documents(stored, corpus.root, sources, seed, workers, engine, ray_address, stages, articles, spill.folder)
    # closing(): an error here ends the pool's workers now, not when the
    # traceback is collected.
    pending: list[pa.RecordBatch] = []
    with closing(results):
        for chunk in results:
            if progress:
                progress(len(chunk.outcomes))
            keep: list[bool] = []
            built = 0
            if chunk.text_sha256 is not None:
                digests = chunk.text_sha256
            else:
                digests = chunk.batch.column("text_sha256").to_pylist() if chunk.batch is not None else []
            for outcome in chunk.outcomes:
                if outcome is not None:
                    report.skipped.append(outcome)
                    log(f"skipped: {outcome.message}")
                    continue
                entry = chunk.entries[built]
                digest = digests[built]
                built += 1
                digest = int(digest[:32], 16)
                first = seen_text.get(digest)
                if first is not None:
                    skip = Skip(entry["id"], entry["file"], "duplicate", f"raw/{entry['file']}: same text as {first} after cleaning; built once")
                    report.skipped.append(skip)
                    log(f"skipped: {skip.message}")
                    keep.append(False)
                    continue
                seen_text[digest] = entry["id"]
                ids.append(entry["id"])
                report.add_document(entry)
                keep.append(True)
            if chunk.signatures_part is None:
                signatures.add_many([sig for sig, k in zip(chunk.signatures, keep) if k])
            else:  # written by the worker: the store reads them
                signatures.add_file(chunk.signatures_part, keep)
            if chunk.part is not None:
                if pending:  # the parts stay in source order
                    spill.add_batch(join_batches(pending))
                    pending = []
                spill.add_part(chunk.part, keep)
                text_bytes.extend(n for n, k in zip(chunk.text_bytes or (), keep) if k)
                continue
            if chunk.batch is None:
                continue
            batch = chunk.batch if all(keep) else chunk.batch.filter(pa.array(keep))
            if batch.num_rows:
                text_bytes.extend(pc.binary_length(batch.column("text")).to_pylist())
                pending.append(batch)
                if sum(b.num_rows for b in pending) >= SPILL_ROWS:
                    spill.add_batch(join_batches(pending))
                    pending = []
        if pending:
            spill.add_batch(join_batches(pending))
    return ids, text_bytes


def _splits(corpus: Corpus, assignments: dict[str, Any], dataset: dict[str, Any], seed: int, report: BuildReport, log: Callable[[str], Any]) -> dict[str, str]:
    """Split of every topic: where its released documents went (the corpus's
    `splits.jsonl`), else drawn. A released document that has to move (its
    topic now holds documents released in another split) is named."""
    try:
        recorded = read_recorded(corpus.path(RECORD_FILE))
    except SplitsFileError as exc:
        raise BuildError(str(exc)) from None
    topic_of = {d: a.topic_id for d, a in assignments.items()}
    split_of_topic = assign_splits(set(topic_of.values()), dataset["splits"], seed, pinned_topics(topic_of, recorded))
    moved = moves({d: split_of_topic[t] for d, t in topic_of.items()}, recorded)
    report.split_moves = [str(m) for m in moved]
    for m in moved[:10]:
        log(f"warning: released document {m} (its topic holds documents released in {m.new}): the release needs a major version")
    if len(moved) > 10:
        log(f"warning: and {len(moved) - 10} more released documents change split; report.json lists them all")
    return split_of_topic


def _placement(assignments, split_of_topic, doc_id: str) -> dict[str, Any]:
    """What report.json adds to a document's entry once it is aligned."""
    a = assignments[doc_id]
    return placement(a, split_of_topic[a.topic_id])


def _human_overrides(
    stages: Stages,
    annotations_dir: Optional[Path],
    text_hashes: Callable[[set[str]], dict[str, str]],
    texts: Callable[[set[str]], dict[str, str]],
    report: BuildReport,
    log: Callable[[str], None] = lambda m: None,
) -> Any:
    """The annotations that win over the pipeline, or None without any.
    Their spans are checked against the documents' current `texts`."""
    if annotations_dir is None or not Path(annotations_dir).is_dir():
        return None
    from parallel_corpus.annotate.overrides import load_overrides

    overrides = load_overrides(Path(annotations_dir), text_hashes, stages.languages, stages.gazetteer, texts)
    if overrides is not None:
        report.annotations = overrides.summary()
        # The store is the source of truth: a line that fails is named here and
        # in report.json, never rewritten or moved by a build.
        for line in overrides.quarantined:
            log(f"quarantined: {line}")
        for doc_id in overrides.stale:
            log(f"warning: {annotations_dir}: the annotation of document {doc_id} was made on a text that changed or is no longer in the corpus: "
                f"not applied (kept in the store; annotate the current text again)")
        for line in overrides.proposals:  # "other: a new topic" in Label Studio, for a curator
            log(f"note: {line}")
    return overrides


def _align(corpus: Corpus, signatures: Aligner, overrides: Any, params: ClusterParams) -> dict[str, Any]:
    """Topic and event of every document: the catalog's, a cluster's, or a
    human's (`aligner.assignments_of`, where the signatures are)."""
    return signatures.align(corpus.root, overrides, params)


def _pass_two(spill: Spill, staging: Path, assignments, split_of_topic, overrides, report: BuildReport, size_of_topic: Counter) -> list[Path]:
    """Attach topic, event and split; write `documents` per split in id order.

    The same scan files each document's `parallel` columns into a bucket of
    whole topics (consecutive in `parallel` order) whose text fits
    PARALLEL_TEXT_BUDGET, so that `parallel` is made one bucket at a time."""
    arrow_schema = schema.arrow_schema("documents")
    topics = topic_order(assignments, split_of_topic)
    bucket_of_topic = _buckets(topics, size_of_topic)
    parallel_columns = [f.name for f in schema.arrow_schema("parallel").field("documents").type.value_type]
    bucket_schema = pa.schema([arrow_schema.field(c) for c in parallel_columns])
    bucket_paths = [staging / "spill" / f"parallel-{b:05d}.arrow" for b in range(max(bucket_of_topic.values(), default=-1) + 1)]
    by_topic: dict[str, dict[str, Any]] = {}
    with SplitWriter(staging / "data" / "documents", arrow_schema) as documents, ArrowFiles(bucket_paths.__getitem__, bucket_schema) as buckets:
        # The articles are the audit page's: pass two neither reads nor
        # decompresses them (on 100,000 documents, 1.4 GB).
        for raw in spill.batches([f.name for f in arrow_schema if f.name not in PLACED_COLUMNS]):
            for doc_id, language in zip(raw.column("id").to_pylist(), raw.column("language").to_pylist()):
                # The report counts the pipeline's languages, as its entries do.
                a = assignments[doc_id]
                t = by_topic.get(a.topic_id)
                if t is None:
                    t = by_topic[a.topic_id] = {"topic_id": a.topic_id, "title": a.topic_title, "topic_source": a.topic_source, "split": split_of_topic[a.topic_id], "languages": Counter(), "documents": []}
                t["languages"][language] += 1
                t["documents"].append(doc_id)
            batch = with_topics(raw, assignments, split_of_topic, overrides, arrow_schema)
            splits = batch.column("split")
            for split in SPLIT_ORDER:
                documents.add(split, batch.filter(pc.equal(splits, split)))
            ids = batch.column("id").to_pylist()
            bucket = np.array([bucket_of_topic[assignments[i].topic_id] for i in ids])
            part = batch.select(parallel_columns)
            for b in np.unique(bucket).tolist():
                buckets.write(b, part.filter(pa.array(bucket == b)))
    report.splits["documents"] = {s: documents.counts[s] for s in SPLIT_ORDER if documents.counts[s]}
    report.topics = [dict(t, languages=dict(sorted(t["languages"].items()))) for _, t in sorted(by_topic.items())]
    return [p for p in bucket_paths if p.exists()]


def _buckets(topics: list[str], size_of_topic: Counter) -> dict[str, int]:
    """Bucket number of each topic: consecutive topics while their text fits the budget."""
    bucket_of_topic: dict[str, int] = {}
    bucket, used = 0, 0
    for t in topics:
        if used and used + size_of_topic[t] > PARALLEL_TEXT_BUDGET:
            bucket, used = bucket + 1, 0
        bucket_of_topic[t] = bucket
        used += size_of_topic[t]
    return bucket_of_topic
