"""The spill (engine/spill.py): parts written by the driver and parts a
worker wrote (`sealed`) come back in the order added, without the rows left out."""

from __future__ import annotations

import pyarrow as pa
import pytest

from parallel_corpus.engine.spill import Spill, block_part, read_part, read_signatures, sealed, write_part
from parallel_corpus.stages.document import ChunkResult

SCHEMA = pa.schema([pa.field("id", pa.string()), pa.field("text", pa.string()), pa.field("text_sha256", pa.string())])


def rows(*ids: str) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([{"id": i, "text": f"text of {i} ü", "text_sha256": f"{i}-sha"} for i in ids], schema=SCHEMA)


def test_parts_come_back_in_order_without_the_rows_left_out(tmp_path) -> None:
    spill = Spill(tmp_path / "spill")
    spill.add_batch(rows("a", "b"))
    chunk = sealed(ChunkResult(outcomes=[None, None, None], batch=rows("c", "d", "e")), block_part(spill.folder, 2))
    assert chunk.batch is None and chunk.text_sha256 == ["c-sha", "d-sha", "e-sha"]
    assert chunk.text_bytes == [len(f"text of {i} ü".encode()) for i in "cde"]
    spill.add_part(chunk.part, [True, False, True])
    spill.add_part(sealed(ChunkResult(outcomes=[None], batch=rows("f")), block_part(spill.folder, 5)).part, [False])  # a part with nothing kept
    write_part(rows("g"), block_part(spill.folder, 6))
    spill.add_part(str(block_part(spill.folder, 6)))
    spill.add_batch(rows("h"))
    assert [i for b in spill.batches() for i in b.column("id").to_pylist()] == ["a", "b", "c", "e", "g", "h"]
    assert [b.schema.names for b in spill.batches(["id"])][0] == ["id"]
    # Some columns, in the order asked, the rows as whole ones give them.
    assert [b.to_pylist() for b in spill.batches(["text_sha256", "id"])] == [b.select(["text_sha256", "id"]).to_pylist() for b in spill.batches()]
    # Each batch read again whole is the same rows, every column.
    assert [whole().to_pylist() for _, whole in spill.rows(["id"])] == [b.to_pylist() for b in spill.batches()]
    assert spill.column("text", {"e", "b", "zz"}) == {"b": "text of b ü", "e": "text of e ü"}
    assert spill.column("text", set()) == {}
    # The workers' parts and the driver's have names of their own.
    assert len({path for path, _ in spill.parts}) == len(spill.parts) == 5


def test_a_sealed_chunk_gives_back_its_rows(tmp_path) -> None:
    batch = rows("a", "b")
    chunk = sealed(ChunkResult(outcomes=[None, None], batch=batch), tmp_path / "part.arrow")
    assert chunk.part == str(tmp_path / "part.arrow")
    assert read_part(tmp_path / "part.arrow").equals(batch)
    # A chunk without rows (every source skipped) stays as it is, and writes nothing.
    empty = sealed(ChunkResult(outcomes=[None]), tmp_path / "empty.arrow")
    assert empty.part is None and empty.text_sha256 is None and not (tmp_path / "empty.arrow").exists()


def test_a_spill_folder_is_its_own(tmp_path) -> None:
    Spill(tmp_path / "spill")
    with pytest.raises(FileExistsError):
        Spill(tmp_path / "spill")


def test_a_parts_signatures_come_back_as_written_and_a_broken_file_is_an_error(tmp_path) -> None:
    signatures = [b"first \x00 bytes", b"", b"third" * 100]
    chunk = sealed(ChunkResult(outcomes=[None, None, None], batch=rows("a", "b", "c"), signatures=list(signatures)), tmp_path / "part.arrow")
    assert chunk.signatures == [] and chunk.signatures_part is not None
    assert read_signatures(chunk.signatures_part) == signatures
    assert read_signatures(chunk.signatures_part, [True, False, True]) == [signatures[0], signatures[2]]
    with pytest.raises(ValueError):
        read_signatures(chunk.signatures_part, [True])
    whole = (tmp_path / "part.signatures").read_bytes()
    empty = (0).to_bytes(8, "little")
    for broken in (whole[:-1], whole + b"x", whole[:5], (-1).to_bytes(8, "little", signed=True) + whole[8:], empty + b"x"):
        (tmp_path / "broken.signatures").write_bytes(broken)
        with pytest.raises(ValueError):
            read_signatures(tmp_path / "broken.signatures")
    (tmp_path / "none.signatures").write_bytes(empty)
    assert read_signatures(tmp_path / "none.signatures") == []
