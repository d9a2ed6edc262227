"""Writers: the configs' rows in, Parquet files of fixed bytes out.

Only the build's driver writes Parquet, and only through here: the options
are fixed (`parquet_writer`) and the row groups cut at fixed row counts
(`SplitWriter`), so the same rows give the same bytes with the pinned
pyarrow however many workers made them and however they arrived. Each
file's sink is opened apart from its writer, so that it is closed even when
writing the footer fails on a full disk.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from parallel_corpus import schema
from parallel_corpus._fast.writebehind import WriteBehind
from parallel_corpus.align.splits import SPLIT_ORDER
from parallel_corpus.engine.memory import give_back
from parallel_corpus.records import parquet_name

if TYPE_CHECKING:
    from parallel_corpus.align.cluster import ClusterParams
    from parallel_corpus.align.store import SignatureStore

# Rows per Parquet write in the published files.
BATCH_ROWS = 1000
# Topics per row group of `parallel` (a topic's row holds all its texts).
PARALLEL_ROWS = 100


def join_batches(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """One record batch of consecutive batches' rows (pa.concat_batches
    would do it, but needs pyarrow 19 and the project allows 15)."""
    return batches[0] if len(batches) == 1 else pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


class ArrowFiles:
    """Arrow IPC files of the build's own, one per key (a split, a bucket),
    each opened when its key's first batch comes. A context manager: every
    file and its writer close on leaving, each even when another's close
    fails (a full disk), so that no file outlives the build."""

    def __init__(self, path_of: Callable[[Any], Path], arrow_schema: pa.Schema, compression: Optional[str] = None) -> None:
        self.path_of = path_of
        self.arrow_schema = arrow_schema
        self.options = pa.ipc.IpcWriteOptions(compression=compression)
        self._stack = ExitStack()
        self._writers: dict[Any, Any] = {}

    def write(self, key: Any, batch: pa.RecordBatch) -> None:
        writer = self._writers.get(key)
        if writer is None:
            sink = self._stack.enter_context(pa.OSFile(str(self.path_of(key)), "wb"))
            writer = self._writers[key] = self._stack.enter_context(pa.ipc.new_file(sink, self.arrow_schema, options=self.options))
        writer.write_batch(batch)

    def __enter__(self) -> "ArrowFiles":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()


class _ParquetFileWriter(pq.ParquetWriter):
    """A ParquetWriter that owns its file and closes it even when writing the
    footer fails (a full disk): pyarrow's own, given a path, leaves the file
    open then, for as long as anyone holds the error."""

    def __init__(self, path: Path, arrow_schema: pa.Schema, **options: Any) -> None:
        self._file = pa.OSFile(str(path), "wb")
        try:
            super().__init__(self._file, arrow_schema, **options)
        except BaseException:
            self._file.close()
            raise

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._file.close()


# zstd's own default level. Writing is most of a build's second pass and of
# `parallel`: on the `documents` and `parallel` of 10,000 synthetic
# documents (117 and 55 MB in Arrow), level 3 took 0.71 s and 0.14 s for
# 12.9 and 3.0 MB, level 9 2.09 s and 0.94 s for 12.1 and 2.4 MB.
ZSTD_LEVEL = 3


def parquet_writer(path: Path, arrow_schema: pa.Schema) -> pq.ParquetWriter:
    """The one way this package opens Parquet for writing: fixed options, so
    the same rows give the same bytes with the pinned pyarrow."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return _ParquetFileWriter(path, arrow_schema, compression="zstd", compression_level=ZSTD_LEVEL, write_statistics=True, use_dictionary=True)


def write_parquet(table_or_batches: Any, path: Path, arrow_schema: pa.Schema) -> None:
    """A whole table (or its batches) as one Parquet file."""
    with parquet_writer(path, arrow_schema) as writer:
        if isinstance(table_or_batches, pa.Table):
            writer.write_table(table_or_batches, row_group_size=BATCH_ROWS * 10)
        else:
            for batch in table_or_batches:
                writer.write_table(batch, row_group_size=BATCH_ROWS * 10)


class SplitWriter:
    """Rows of one config, per split, in the order given, written to Parquet
    in tables of exactly `rows` rows (the last one shorter): the same rows
    give the same row groups, and so the same bytes, however they arrive.

    A context manager: leaving it writes what is pending (unless the block
    failed), closes the files and waits for its writing thread."""

    def __init__(self, directory: Path, arrow_schema: pa.Schema, rows: int = BATCH_ROWS):
        self.directory = directory
        self.arrow_schema = arrow_schema
        self.sink = WriteBehind()
        self.rows = rows
        self.pending: dict[str, list[pa.RecordBatch]] = defaultdict(list)
        self.counts: Counter = Counter()
        self.writers: dict[str, pq.ParquetWriter] = {}

    def add(self, split: str, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        self.pending[split].append(batch)
        self.counts[split] += batch.num_rows
        while sum(b.num_rows for b in self.pending[split]) >= self.rows:
            self._flush(split, self.rows)

    def _flush(self, split: str, n: int) -> None:
        table = pa.Table.from_batches(self.pending[split], schema=self.arrow_schema)
        head, rest = table.slice(0, n), table.slice(n)
        if split not in self.writers:
            self.writers[split] = parquet_writer(self.directory / parquet_name(split), self.arrow_schema)
        self.sink.submit(self.writers[split].write_table, head.combine_chunks(), BATCH_ROWS * 10)
        self.pending[split] = rest.combine_chunks().to_batches() if rest.num_rows else []

    def __enter__(self) -> "SplitWriter":
        return self

    def __exit__(self, kind, value, tb) -> None:
        try:
            for split in SPLIT_ORDER if kind is None else ():
                left = sum(b.num_rows for b in self.pending[split])
                if left:
                    self._flush(split, left)
        except BaseException as exc:
            self._close_files()
            self.sink.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._close_files()
        self.sink.__exit__(kind, value, tb)

    def _close_files(self) -> None:
        for w in self.writers.values():
            self.sink.submit(w.close, cleanup=True)


def topic_order(assignments, split_of_topic) -> list[str]:
    """Topics as `parallel` lists them: by split, then by id."""
    return sorted({a.topic_id for a in assignments.values()}, key=lambda t: (SPLIT_ORDER.index(split_of_topic[t]), t))


def write_parallel(buckets: list[Path], staging: Path, assignments, split_of_topic) -> None:
    """One row per topic with its documents of every language, bucket by
    bucket: each bucket holds whole topics, so it is sorted and grouped alone.

    A bucket is read once; its order comes from its small key columns, and
    its rows are copied in that order PARALLEL_ROWS topics at a time, so the
    texts are held once, not once per step."""
    arrow_schema = schema.arrow_schema("parallel")
    struct_type = arrow_schema.field("documents").type.value_type
    topics = topic_order(assignments, split_of_topic)
    rank = {t: i for i, t in enumerate(topics)}
    # Row groups of a fixed number of topics: the bytes do not depend on
    # how the buckets happened to be cut, nor on the slices below.
    with SplitWriter(staging / "data" / "parallel", arrow_schema, rows=PARALLEL_ROWS) as writer:
        for path in buckets:
            with pa.OSFile(str(path), "rb") as source:
                # One chunk per column: `take` on a column of many chunks
                # joins them all again for every slice.
                table = pa.ipc.open_file(source).read_all().combine_chunks()
            ranks = np.array([rank[assignments[i].topic_id] for i in table.column("id").to_pylist()], dtype=np.int64)
            keys = pa.table({"_rank": ranks, "language": table.column("language"), "id": table.column("id")})
            order = pc.sort_indices(keys, sort_keys=[("_rank", "ascending"), ("language", "ascending"), ("id", "ascending")])
            ids = keys.column("id").take(order).to_pylist()
            languages = keys.column("language").take(order).to_pylist()
            del keys
            # Sorted by rank, a topic's documents are a run of one rank.
            ranks = ranks[order.to_numpy()]
            offsets = [0, *(np.flatnonzero(np.diff(ranks)) + 1).tolist(), len(ids)]
            topic_ids = [topics[r] for r in ranks[offsets[:-1]].tolist()]
            for k0 in range(0, len(topic_ids), PARALLEL_ROWS):
                k1 = min(len(topic_ids), k0 + PARALLEL_ROWS)
                lo, hi = offsets[k0], offsets[k1]
                part = table.take(order.slice(lo, hi - lo))
                docs = pa.StructArray.from_arrays([part.column(f.name).combine_chunks() for f in struct_type], fields=list(struct_type))
                rows: dict[str, list[Any]] = {"topic_id": topic_ids[k0:k1], "title": [], "topic_source": [], "languages": [], "num_documents": [], "split": []}
                for k in range(k0, k1):
                    first = assignments[ids[offsets[k]]]
                    rows["title"].append(first.topic_title)
                    rows["topic_source"].append(first.topic_source)
                    rows["languages"].append(sorted(set(languages[offsets[k] : offsets[k + 1]])))
                    rows["num_documents"].append(offsets[k + 1] - offsets[k])
                    rows["split"].append(split_of_topic[topic_ids[k]])
                columns = [
                    pa.ListArray.from_arrays(pa.array([o - lo for o in offsets[k0 : k1 + 1]], type=pa.int32()), docs) if f.name == "documents" else pa.array(rows[f.name], type=f.type)
                    for f in arrow_schema
                ]
                grouped = pa.RecordBatch.from_arrays(columns, schema=arrow_schema)
                for split in SPLIT_ORDER:
                    writer.add(split, grouped.filter(pc.equal(grouped.column("split"), split)))
            del table
            give_back()


def write_pairs(staging: Path, signatures: SignatureStore, assignments, split_of_topic, dataset, overrides, params: ClusterParams) -> None:
    """`pairs` per split, planned as integers and written BATCH_ROWS * 10 rows
    at a time (one row group each), so that no split is ever held as rows."""
    from parallel_corpus.align import pair_columns, plan_pairs, weighted_keys

    plan = plan_pairs(
        assignments, signatures, split_of_topic,
        k=int(dataset.get("pairs_per_document", 8)), cross_k=int(dataset.get("cross_topic_pairs_per_document", 2)), seed=int(dataset["seed"]),
    )
    weighted = weighted_keys(signatures, params)
    arrow_schema = schema.arrow_schema("pairs")
    with WriteBehind() as sink:
        for split in SPLIT_ORDER:
            if split not in plan or not len(plan[split][0]):
                continue
            writer = parquet_writer(staging / "data" / "pairs" / parquet_name(split), arrow_schema)
            try:
                for columns in pair_columns(plan[split], signatures, weighted, assignments, split, rows_at_once=BATCH_ROWS * 10):
                    if overrides is not None:
                        overrides.apply_to_pairs(columns)
                    sink.submit(writer.write_table, pa.Table.from_pydict(columns, schema=arrow_schema), BATCH_ROWS * 10)
            finally:
                sink.submit(writer.close, cleanup=True)


def write_annotations(staging: Path, overrides: Any, split_of_document: dict[str, str]) -> None:
    """The `annotations` config: one row per human annotation, in its document's split."""
    arrow_schema = schema.arrow_schema("annotations")
    rows = overrides.annotation_rows(split_of_document)
    for split in SPLIT_ORDER:
        split_rows = [r for r in rows if r["split"] == split]
        if split_rows:
            write_parquet(pa.Table.from_pylist(split_rows, schema=arrow_schema), staging / "data" / "annotations" / parquet_name(split), arrow_schema)
