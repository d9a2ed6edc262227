"""Writes on the writing thread: in order, all done on leaving, errors never lost."""

from __future__ import annotations

import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parallel_corpus.engine.writers import parquet_writer
from parallel_corpus._fast.writebehind import WriteBehind


def test_writes_run_in_order_off_the_driver_and_are_done_on_leaving():
    seen: list[tuple[int, str]] = []

    def slow(i: int) -> None:
        time.sleep(0.01)
        seen.append((i, threading.current_thread().name))

    with WriteBehind() as sink:
        for i in range(20):
            sink.submit(slow, i)
    assert [i for i, _ in seen] == list(range(20))
    assert {name for _, name in seen} == {"parquet-writes"}


def test_parquet_written_behind_is_byte_identical_to_a_direct_write(tmp_path):
    arrow_schema = pa.schema([("id", pa.string()), ("text", pa.string())])
    tables = [pa.table({"id": [f"{b}-{i}" for i in range(500)], "text": [f"text {b} {i} " * 20 for i in range(500)]}, schema=arrow_schema) for b in range(6)]
    direct = parquet_writer(tmp_path / "direct.parquet", arrow_schema)
    for t in tables:
        direct.write_table(t, row_group_size=1000)
    direct.close()
    with WriteBehind() as sink:
        behind = parquet_writer(tmp_path / "behind.parquet", arrow_schema)
        for t in tables:
            sink.submit(behind.write_table, t, 1000)
        sink.submit(behind.close)
    assert (tmp_path / "behind.parquet").read_bytes() == (tmp_path / "direct.parquet").read_bytes()
    assert pq.read_table(tmp_path / "behind.parquet").num_rows == 3000


def test_a_failed_write_is_raised_in_the_driver_and_stops_the_writes_after_it():
    done: list[int] = []

    def write(i: int) -> None:
        if i == 3:
            raise OSError("disk full")
        done.append(i)

    with pytest.raises(OSError, match="disk full"):
        with WriteBehind(depth=1) as sink:
            for i in range(10):
                sink.submit(write, i)
    assert done == [0, 1, 2]


def test_after_a_failed_write_only_cleanups_run_and_they_never_raise_in_a_finally():
    done: list[str] = []

    def fail() -> None:
        raise OSError("disk full")

    sink = WriteBehind(depth=4)
    sink.submit(fail)
    sink.submit(done.append, "write after the failure")
    sink.submit(done.append, "close", cleanup=True)
    with pytest.raises(OSError, match="disk full"):
        sink.close()
    assert done == ["close"]
    with pytest.raises(RuntimeError, match="after close"):
        sink.submit(done.append, "late")


@pytest.mark.skipif(not hasattr(BaseException, "add_note"), reason="exception notes need Python 3.11")
def test_a_write_that_fails_while_the_driver_fails_is_noted_on_the_drivers_error():
    def fail() -> None:
        raise OSError("disk full")

    with pytest.raises(KeyError) as caught:
        with WriteBehind() as sink:
            sink.submit(fail)
            time.sleep(0.05)
            raise KeyError("made in the driver")
    assert any("disk full" in note for note in getattr(caught.value, "__notes__", []))


def test_an_error_in_the_driver_stops_the_writes_and_keeps_the_drivers_error():
    done: list[int] = []
    with pytest.raises(KeyError):
        with WriteBehind(depth=1) as sink:
            sink.submit(lambda: (time.sleep(0.05), done.append(0)))
            sink.submit(done.append, 1)
            raise KeyError("made in the driver")
    # The write under way finished; what was queued behind it did not run.
    assert done == [0]
