"""Build: a corpus folder in, the configs' Parquet and a build report out.

Two passes, one writer. Pass one runs the per-document stages (in this
process, a process pool or Ray) and streams `documents` rows, in id order, to
a spill file, keeping only compact signatures in memory. Alignment and splits
run on the signatures. Pass two re-reads the spill in batches, attaches topic,
event and split, and writes the published Parquet sorted by (split, id). Only
this process writes Parquet, so workers and engines cannot change the bytes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pyarrow as pa
import pyarrow.parquet as pq

from . import schema
from .config import Corpus, Source
from .pipeline import DocumentSkipped, Stages, process_with_signature
from .splits import SPLIT_ORDER, assign_splits

# Rows per Arrow record batch in the spill and in the published files.
BATCH_ROWS = 1000
# Text held in memory at once while grouping a topic's documents into
# `parallel` rows; larger corpora take more passes over the spill.
PARALLEL_TEXT_BUDGET = 256 * 1024 * 1024
CONFIGS = ("documents", "parallel", "pairs", "annotations")


class BuildError(RuntimeError):
    """The build cannot go on; nothing was written."""


def parquet_name(split: str) -> str:
    return f"{split}-00000-of-00001.parquet"


def write_parquet(table_or_batches: Any, path: Path, arrow_schema: pa.Schema) -> None:
    """The one way this package writes Parquet: fixed options, so the same rows
    give the same bytes with the pinned pyarrow."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, arrow_schema, compression="zstd", compression_level=9, write_statistics=True, use_dictionary=True) as writer:
        if isinstance(table_or_batches, pa.Table):
            writer.write_table(table_or_batches, row_group_size=BATCH_ROWS * 10)
        else:
            for batch in table_or_batches:
                writer.write_table(batch, row_group_size=BATCH_ROWS * 10)


@dataclass
class BuildReport:
    documents: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    unlisted_files: list[str] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    gazetteer: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        removed = Counter()
        languages = Counter()
        for d in self.documents:
            removed.update(d["removed_by_reason"])
            languages[d["language"]] += 1
        return {
            "num_documents": len(self.documents),
            "num_skipped": len(self.skipped),
            "languages": dict(sorted(languages.items())),
            "removed_lines_by_reason": dict(sorted(removed.items())),
            "splits": self.splits,
            "topics": self.topics,
            "documents": self.documents,
            "skipped": self.skipped,
            "unlisted_files": self.unlisted_files,
            "annotations": self.annotations,
            "gazetteer": self.gazetteer,
        }


def _report_entry(row: dict[str, Any]) -> dict[str, Any]:
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


# -- pass one: per-document stages -------------------------------------------

_WORKER_STAGES: Optional[Stages] = None


def _init_worker(corpus_dir: str, seed: int) -> None:
    global _WORKER_STAGES
    _WORKER_STAGES = Stages.load(Path(corpus_dir), seed)


def _run_one(source: Source) -> tuple[str, Any]:
    assert _WORKER_STAGES is not None
    try:
        return "ok", process_with_signature(source, _WORKER_STAGES)
    except DocumentSkipped as exc:
        return "skipped", {"id": exc.source.id, "file": exc.source.file, "reason": exc.reason, "message": str(exc)}


def run_documents(
    corpus_dir: Path, sources: list[Source], seed: int, workers: int = 1, engine: str = "local", ray_address: Optional[str] = None,
    stages: Optional[Stages] = None,
) -> Iterator[tuple[str, Any]]:
    """Results of the per-document stages, in the order of `sources`.

    `stages`, when the caller has loaded them already, serve the in-process
    run instead of a second load; workers load their own."""
    if engine == "ray":
        from .engine_ray import run_ray

        yield from run_ray(corpus_dir, sources, seed, workers, ray_address)
        return
    if workers <= 1:
        global _WORKER_STAGES
        _WORKER_STAGES = stages or Stages.load(Path(corpus_dir), seed)
        for source in sources:
            yield _run_one(source)
        return
    import multiprocessing as mp

    ctx = mp.get_context("spawn" if sys.platform == "darwin" else "fork")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(str(corpus_dir), seed)) as pool:
        chunk = max(1, min(64, len(sources) // (workers * 8) or 1))
        yield from pool.imap(_run_one, sources, chunksize=chunk)


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
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> BuildReport:
    """Build every config into `out_dir`, replacing it only once all is written."""
    corpus = Corpus(Path(corpus_dir))
    dataset = corpus.dataset()
    sources = sorted(corpus.sources(), key=lambda s: s.id)
    seed = int(dataset["seed"])
    stages = _check_curated(corpus, seed)
    report = BuildReport()
    report.gazetteer = _gazetteer_stats(corpus)
    report.unlisted_files = _unlisted_files(corpus, sources)
    for name in report.unlisted_files:
        log(f"warning: raw/{name} is not listed in sources.jsonl; it is not built (add a line for it)")

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(out_dir, "build"):
        return _build_locked(corpus, dataset, sources, seed, report, out_dir, annotations_dir, workers, engine, ray_address, strict, progress, log, stages)


def _build_locked(corpus, dataset, sources, seed, report, out_dir, annotations_dir, workers, engine, ray_address, strict, progress, log, stages) -> BuildReport:
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        spill = staging / "spill" / "documents.parquet"
        signatures, seen_text = _pass_one(corpus, sources, seed, workers, engine, ray_address, spill, report, progress, log, stages)
        if strict and report.skipped:
            raise BuildError(f"{len(report.skipped)} raw file(s) skipped and --strict is set: nothing written (first: {report.skipped[0]['message']})")
        if not signatures:
            raise BuildError("no document could be built: see the messages above")

        overrides = _human_overrides(corpus, annotations_dir, {doc_id: h for h, doc_id in seen_text.items()}, report, log)
        assignments = _align(corpus, signatures, overrides)
        split_of_topic = assign_splits({a.topic_id for a in assignments.values()}, dataset["splits"], seed)
        _pass_two(spill, staging, assignments, split_of_topic, overrides, report)
        _write_parallel(spill, staging, assignments, split_of_topic)
        _write_pairs(staging, signatures, assignments, split_of_topic, dataset, overrides)
        if overrides is not None:
            _write_annotations(staging, overrides, {d: split_of_topic[a.topic_id] for d, a in assignments.items()})
        shutil.rmtree(staging / "spill")
        (staging / "report.json").write_text(json.dumps(report.as_json(), ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        _replace_dir(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


@contextmanager
def exclusive(target: Path, what: str) -> Iterator[None]:
    """Hold `<target>.lock` while writing `target`: two builds (or publishes)
    at once would otherwise swap half-written folders into place. The lock is
    an OS lock, released when the process dies, so it never goes stale."""
    from filelock import FileLock, Timeout

    lock_path = target.with_name(f".{target.name}.lock")
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise BuildError(f"another {what} is writing {target} (it holds {lock_path}): wait for it to finish") from None
    try:
        _remove_leftovers(target)
        yield
    finally:
        lock.release()


def _remove_leftovers(target: Path) -> None:
    """Staging and swapped-out folders (`.<name>.*`) of a writer that was killed: with
    the lock held no live writer owns one, and each may hold a whole corpus."""
    # Exactly what tempfile.mkdtemp(prefix=".<name>.") and _replace_dir make, so the
    # staging of another target (".build.v2.xxxxxxxx" beside "build") is never touched.
    ours = re.compile(re.escape(f".{target.name}.") + r"([a-z0-9_]{8}|old\.[0-9]+)")
    for leftover in target.parent.glob(f".{target.name}.*"):
        if ours.fullmatch(leftover.name) and leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)


def _check_curated(corpus: Corpus, seed: int) -> Stages:
    """Every curated file parses, fits its schema and names only what exists, before
    anything is written: one line (a CorpusError) for the first problem. Loading here
    also keeps a broken file out of pool workers, whose failing initializer would
    only be restarted."""
    from .align import load_catalog
    from .config import CorpusError, one_line, reference_errors

    problems = reference_errors(corpus)
    if problems:
        raise CorpusError(one_line(problems))
    stages = Stages.load(corpus.root, seed)
    load_catalog(corpus.root)
    return stages


def _gazetteer_stats(corpus: Corpus) -> dict[str, int]:
    """How many entity QIDs the gazetteer holds and how many nobody checked
    against Wikidata: the card must say so."""
    if not corpus.has("entities.yaml"):
        return {}
    from .config import load_yaml

    entities = (load_yaml(corpus.path("entities.yaml")) or {}).get("entities") or []
    unverified = sum(1 for e in entities if not (e.get("qid_checked") or {}).get("verified"))
    return {"entities": len(entities), "unverified_qids": unverified}


def _unlisted_files(corpus: Corpus, sources: list[Source]) -> list[str]:
    listed = {s.file for s in sources}
    if not corpus.raw_dir.is_dir():
        return []
    found = sorted(str(p.relative_to(corpus.raw_dir)) for p in corpus.raw_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [f for f in found if f not in listed]


def _pass_one(corpus, sources, seed, workers, engine, ray_address, spill, report, progress, log, stages=None):
    """Stream rows to the spill; keep signatures. Duplicate texts (same bytes,
    or the same text under other chrome) are reported and built once."""
    arrow_schema = schema.arrow_schema("documents")
    spill.parent.mkdir(parents=True)
    signatures: list[dict[str, Any]] = []
    seen_text: dict[str, str] = {}
    pending: list[dict[str, Any]] = []
    with pq.ParquetWriter(spill, arrow_schema, compression="lz4") as writer:
        for status, value in run_documents(corpus.root, sources, seed, workers, engine, ray_address, stages):
            if progress:
                progress(1)
            if status == "skipped":
                report.skipped.append(value)
                log(f"skipped: {value['message']}")
                continue
            row, sig = value
            first = seen_text.get(row["text_sha256"])
            if first is not None:
                entry = {"id": row["id"], "file": row["source"]["file"], "reason": "duplicate", "message": f"raw/{row['source']['file']}: same text as {first} after cleaning; built once"}
                report.skipped.append(entry)
                log(f"skipped: {entry['message']}")
                continue
            seen_text[row["text_sha256"]] = row["id"]
            report.documents.append(_report_entry(row))
            signatures.append(_compact(sig))
            pending.append(row)
            if len(pending) >= BATCH_ROWS:
                writer.write_table(pa.Table.from_pylist(pending, schema=arrow_schema))
                pending = []
        if pending:
            writer.write_table(pa.Table.from_pylist(pending, schema=arrow_schema))
    return signatures, seen_text


def _compact(sig: dict[str, Any]) -> dict[str, Any]:
    """A signature whose keys share one string object per distinct key: the
    driver holds one signature per document, and keys repeat across
    documents, so memory grows with the distinct keys, not with every copy."""
    for name in ("entities", "dates", "keys"):
        sig[name] = [sys.intern(k) for k in sig[name]]
    sig["labels"] = {sys.intern(k): v for k, v in sig["labels"].items()}
    sig["id"] = sys.intern(sig["id"])
    return sig


def _human_overrides(corpus: Corpus, annotations_dir: Optional[Path], text_hashes: dict[str, str], report: BuildReport, log: Callable[[str], None] = lambda m: None) -> Any:
    """The annotations that win over the pipeline, or None without any."""
    if annotations_dir is None or not Path(annotations_dir).is_dir():
        return None
    from .entities import load_gazetteer
    from .langid import LanguageTable
    from .merge import load_overrides

    gazetteer = load_gazetteer(corpus.path("entities.yaml")) if corpus.has("entities.yaml") else None
    overrides = load_overrides(Path(annotations_dir), text_hashes, LanguageTable.load(corpus.path("languages.yaml")), gazetteer)
    if overrides is not None:
        report.annotations = overrides.summary()
        for doc_id in overrides.stale:
            log(f"warning: {annotations_dir}: the annotation of document {doc_id} was made on a text that changed or is no longer in the corpus: "
                f"not applied (kept in the store; annotate the current text again)")
    return overrides


def _write_annotations(staging: Path, overrides: Any, split_of_document: dict[str, str]) -> None:
    """The `annotations` config: one row per human annotation, in its document's split."""
    arrow_schema = schema.arrow_schema("annotations")
    rows = overrides.annotation_rows(split_of_document)
    for split in SPLIT_ORDER:
        split_rows = [r for r in rows if r["split"] == split]
        if split_rows:
            write_parquet(pa.Table.from_pylist(split_rows, schema=arrow_schema), staging / "data" / "annotations" / parquet_name(split), arrow_schema)


def _align(corpus: Corpus, signatures: list[dict[str, Any]], overrides: Any) -> dict[str, Any]:
    """Topic and event of every document: the catalog's, a cluster's, or a human's."""
    from .align import assign_topics, load_catalog

    catalog = load_catalog(corpus.root)
    assignments = assign_topics(signatures, catalog)
    if overrides is not None:
        assignments = overrides.apply_to_assignments(assignments, catalog)
    return assignments


def _pass_two(spill: Path, staging: Path, assignments, split_of_topic, overrides, report: BuildReport) -> None:
    """Attach topic, event and split; write `documents` per split in id order."""
    arrow_schema = schema.arrow_schema("documents")
    split_counts: Counter = Counter()
    paths = {s: staging / "data" / "documents" / parquet_name(s) for s in SPLIT_ORDER}
    writers: dict[str, pq.ParquetWriter] = {}
    buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def flush(split: str) -> None:
        if split not in writers:
            paths[split].parent.mkdir(parents=True, exist_ok=True)
            writers[split] = _writer(paths[split], arrow_schema)
        writers[split].write_table(pa.Table.from_pylist(buffers[split], schema=arrow_schema))
        buffers[split] = []

    try:
        for batch in pq.ParquetFile(spill).iter_batches(batch_size=BATCH_ROWS):
            for row in batch.to_pylist():
                a = assignments[row["id"]]
                row.update(
                    topic_id=a.topic_id, topic_title=a.topic_title, event_id=a.event_id, topic_source=a.topic_source,
                    topic_score=a.score, topic_evidence=list(a.evidence),
                )
                if overrides is not None:
                    overrides.apply_to_document(row)
                row["split"] = split_of_topic[a.topic_id]
                split_counts[row["split"]] += 1
                buffers[row["split"]].append(row)
                if len(buffers[row["split"]]) >= BATCH_ROWS:
                    flush(row["split"])
        for split in SPLIT_ORDER:
            if buffers[split]:
                flush(split)
    finally:
        for w in writers.values():
            w.close()
    report.splits["documents"] = {s: split_counts[s] for s in SPLIT_ORDER if split_counts[s]}
    by_topic: dict[str, dict[str, Any]] = {}
    for entry in report.documents:
        a = assignments[entry["id"]]
        entry.update(topic_id=a.topic_id, event_id=a.event_id, topic_source=a.topic_source, split=split_of_topic[a.topic_id])
        t = by_topic.setdefault(a.topic_id, {"topic_id": a.topic_id, "title": a.topic_title, "topic_source": a.topic_source, "split": split_of_topic[a.topic_id], "languages": Counter(), "documents": []})
        t["languages"][entry["language"]] += 1
        t["documents"].append(entry["id"])
    report.topics = [dict(t, languages=dict(sorted(t["languages"].items()))) for _, t in sorted(by_topic.items())]


def _writer(path: Path, arrow_schema: pa.Schema) -> pq.ParquetWriter:
    return pq.ParquetWriter(path, arrow_schema, compression="zstd", compression_level=9, write_statistics=True, use_dictionary=True)


def _write_parallel(spill: Path, staging: Path, assignments, split_of_topic) -> None:
    """One row per topic with its documents of every language. Topics are
    gathered in groups whose text fits the memory budget, one spill scan per
    group, so memory stays bounded whatever the corpus size."""
    arrow_schema = schema.arrow_schema("parallel")
    doc_columns = [f.name for f in arrow_schema.field("documents").type.value_type]
    topic_ids = sorted({a.topic_id for a in assignments.values()}, key=lambda t: (SPLIT_ORDER.index(split_of_topic[t]), t))
    size_of_topic: Counter = Counter()
    file = pq.ParquetFile(spill)
    for batch in file.iter_batches(batch_size=BATCH_ROWS, columns=["id", "num_chars"]):
        for doc_id, n in zip(batch.column("id").to_pylist(), batch.column("num_chars").to_pylist()):
            size_of_topic[assignments[doc_id].topic_id] += 4 * n
    groups: list[list[str]] = [[]]
    used = 0
    for t in topic_ids:
        if groups[-1] and used + size_of_topic[t] > PARALLEL_TEXT_BUDGET:
            groups.append([])
            used = 0
        groups[-1].append(t)
        used += size_of_topic[t]

    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for group in groups:
            wanted = set(group)
            members: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for batch in file.iter_batches(batch_size=BATCH_ROWS, columns=["id", *[c for c in doc_columns if c not in ("id", "event_id")]]):
                for row in batch.to_pylist():
                    a = assignments[row["id"]]
                    if a.topic_id in wanted:
                        row["event_id"] = a.event_id
                        members[a.topic_id].append({c: row[c] for c in doc_columns})
            rows = []
            for t in group:
                docs = sorted(members[t], key=lambda d: (d["language"], d["id"]))
                a = assignments[docs[0]["id"]]
                rows.append({
                    "topic_id": t, "title": a.topic_title, "topic_source": a.topic_source,
                    "languages": sorted({d["language"] for d in docs}), "num_documents": len(docs),
                    "documents": docs, "split": split_of_topic[t],
                })
            for split in SPLIT_ORDER:
                split_rows = [r for r in rows if r["split"] == split]
                if not split_rows:
                    continue
                if split not in writers:
                    path = staging / "data" / "parallel" / parquet_name(split)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    writers[split] = _writer(path, arrow_schema)
                writers[split].write_table(pa.Table.from_pylist(split_rows, schema=arrow_schema))
    finally:
        for w in writers.values():
            w.close()


def _write_pairs(staging: Path, signatures, assignments, split_of_topic, dataset, overrides) -> None:
    from .align import make_pairs

    rows = make_pairs(
        assignments, signatures, split_of_topic,
        k=int(dataset.get("pairs_per_document", 8)), cross_k=int(dataset.get("cross_topic_pairs_per_document", 2)), seed=int(dataset["seed"]),
    )
    if overrides is not None:
        overrides.apply_to_pairs(rows)
    arrow_schema = schema.arrow_schema("pairs")
    for split in SPLIT_ORDER:
        split_rows = sorted((r for r in rows if r["split"] == split), key=lambda r: r["pair_id"])
        if split_rows:
            write_parquet(pa.Table.from_pylist(split_rows, schema=arrow_schema), staging / "data" / "pairs" / parquet_name(split), arrow_schema)


def _replace_dir(new: Path, target: Path) -> None:
    """Swap a fully written folder into place; a reader never sees half of it."""
    if target.exists():
        old = target.with_name(f".{target.name}.old.{os.getpid()}")
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, target)
