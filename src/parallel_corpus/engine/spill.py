"""The spill: pass one's rows, kept on disk in source order until pass two
reads them back with their topics.

It is a folder of parts, Arrow IPC files (lz4), read back in the order they
were added. The driver writes a part of the batches it holds; a worker
that served a block of the build cache writes its block's part into the
folder itself (`sealed`) and hands over only its path, with the sizes and
sha256 of the texts beside it: on 100,000 documents, 2.5 GB of rows no
longer cross the pool's pipe, nor are compressed again by the driver. A
part's rows that the driver leaves out (a text built once already) are left
out when it is read back.
"""

from __future__ import annotations

import struct
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parallel_corpus.stages.document import ChunkResult

_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


def write_part(batch: pa.RecordBatch, path: Path) -> None:
    """A batch as a part: an Arrow IPC file (lz4)."""
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, batch.schema, options=_OPTIONS) as writer:
        writer.write_batch(batch)


def read_part(path: Path) -> pa.RecordBatch:
    """The batch `write_part` wrote."""
    with pa.OSFile(str(path), "rb") as source:
        return pa.ipc.open_file(source).read_all().combine_chunks().to_batches()[0]


def block_part(folder: Path, start: int) -> Path:
    """Where a worker writes the part of the block of sources that begins at
    `start`: a name of its own, apart from the driver's numbered parts."""
    return Path(folder) / f"block-{start:012d}.arrow"


def sealed(chunk: ChunkResult, path: Path) -> ChunkResult:
    """The chunk with its rows written as a part at `path` (`ChunkResult.part`)
    and its texts' sha256 and sizes, for the driver to add without reading
    them; and its packed signatures written beside it (`signatures_path`;
    `ChunkResult.signatures_part`), for the signature store to read: about
    6 kB a document, 1.6 MB a block, that no longer cross the pool's pipe to
    the driver and a second one to the store's process."""
    if chunk.batch is not None:
        chunk.text_sha256 = chunk.batch.column("text_sha256").to_pylist()
        chunk.text_bytes = pc.binary_length(chunk.batch.column("text")).to_pylist()
        write_part(chunk.batch, path)
        chunk.part = str(path)
        chunk.batch = None
        write_signatures(chunk.signatures, signatures_path(path))
        chunk.signatures_part = str(signatures_path(path))
        chunk.signatures = []
    return chunk


def signatures_path(part: Path) -> Path:
    """Where the signatures of a worker's part go."""
    return Path(part).with_suffix(".signatures")


_COUNT = struct.Struct("<q")


def write_signatures(signatures: Sequence[bytes], path: Path) -> None:
    """Packed signatures as one file: their number, their sizes, their bytes."""
    sizes = np.fromiter(map(len, signatures), dtype="<i8", count=len(signatures))
    with open(path, "wb") as fh:
        fh.write(_COUNT.pack(len(signatures)))
        fh.write(sizes.tobytes())
        fh.writelines(signatures)


def read_signatures(path: Path, keep: Optional[Sequence[bool]] = None) -> list[bytes]:
    """The signatures `write_signatures` wrote, those kept only (None: all).
    A file that does not add up raises ValueError."""
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < _COUNT.size:
        raise ValueError(f"{path}: not a file of signatures")
    (n,) = _COUNT.unpack_from(data)
    start = _COUNT.size + 8 * n
    if n < 0 or start > len(data):
        raise ValueError(f"{path}: not a file of signatures")
    sizes = np.frombuffer(data, dtype="<i8", count=n, offset=_COUNT.size)
    ends = start + np.cumsum(sizes)
    if (sizes < 0).any() or (int(ends[-1]) if n else start) != len(data):
        raise ValueError(f"{path}: not a file of signatures")
    if keep is not None and len(keep) != n:
        raise ValueError(f"{path}: {n} signatures, {len(keep)} kept or not")
    bounds = np.r_[start, ends].tolist()
    return [data[bounds[i] : bounds[i + 1]] for i in range(n) if keep is None or keep[i]]


class Spill:
    """Parts in `folder`, in the order added."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True)
        # Each part's file, and which of its rows are kept (None: all).
        self.parts: list[tuple[Path, Optional[list[bool]]]] = []

    def _next(self) -> Path:
        return self.folder / f"{len(self.parts):06d}.arrow"

    def add_batch(self, batch: pa.RecordBatch) -> None:
        """A part of rows the driver holds (all kept)."""
        path = self._next()
        write_part(batch, path)
        self.parts.append((path, None))

    def add_part(self, path: str, keep: Optional[Sequence[bool]] = None) -> None:
        """A part a worker wrote in this folder (`sealed`), with the rows kept."""
        self.parts.append((Path(path), None if keep is None or all(keep) else list(keep)))

    def batches(self, columns: Optional[list[str]] = None) -> Iterator[pa.RecordBatch]:
        """The kept rows, part after part, a batch at a time; with `columns`,
        those columns only, the others neither read nor decompressed."""
        for batch, _ in self.rows(columns):
            yield batch

    def rows(self, columns: Optional[list[str]] = None) -> Iterator[tuple[pa.RecordBatch, Callable[[], pa.RecordBatch]]]:
        """`batches(columns)`, each with a function that reads the same rows
        again with every column: a reader of a few columns that meets a row
        it needs whole (the audit page, a row a human labelled) reads only
        that batch whole."""
        options = None
        for path, keep in self.parts:
            with pa.OSFile(str(path), "rb") as source:
                if columns and options is None:  # the parts share one schema
                    schema = pa.ipc.open_file(source).schema
                    options = pa.ipc.IpcReadOptions(included_fields=sorted(schema.get_field_index(c) for c in columns))
                reader = pa.ipc.open_file(source, options=options)
                start = 0
                for i in range(reader.num_record_batches):
                    batch = reader.get_batch(i)
                    rows = batch.num_rows
                    kept = pa.array(keep[start : start + rows]) if keep is not None else None
                    if columns:
                        batch = batch.select(columns)
                    if kept is not None:
                        batch = batch.filter(kept)
                    start += rows
                    if batch.num_rows:
                        yield batch, partial(_whole, path, i, kept)

    def column(self, column: str, ids: set[str]) -> dict[str, Any]:
        """One column of these documents (the annotation checks need the
        current text_sha256 of a few documents, or their text)."""
        found: dict[str, Any] = {}
        if not ids:
            return found
        for batch in self.batches(["id", column]):
            for doc_id, value in zip(batch.column("id").to_pylist(), batch.column(column).to_pylist()):
                if doc_id in ids:
                    found[doc_id] = value
        return found


def _whole(path: Path, index: int, kept: Optional[pa.Array]) -> pa.RecordBatch:
    """Batch `index` of a part, every column, its kept rows."""
    with pa.OSFile(str(path), "rb") as source:
        batch = pa.ipc.open_file(source).get_batch(index)
    return batch.filter(kept) if kept is not None else batch
