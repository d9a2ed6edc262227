"""`executors.map_tasks`: results in order from a real pool, at most `ahead`
tasks handed out beyond the result read (so results the driver has not
read cannot pile up), and a driver that stops early ends the pool at once."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from parallel_corpus.engine.executors import map_tasks


def _square(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


class _NoStages:
    """What a forked pool needs of the stages here: nothing (workers inherit them)."""

    boilerplate = None


def test_tasks_come_back_in_order_from_the_workers_and_at_most_ahead_are_handed_out(tmp_path: Path) -> None:
    taken: list[int] = []

    def tasks():
        for n in range(60):
            taken.append(n)
            yield n

    results, pids = [], set()
    for k, (square, pid) in enumerate(map_tasks(_square, tasks(), tmp_path, 0, 2, "local", _NoStages(), ahead=3)):
        # Handed out: the tasks read so far, `ahead` more, and the one the
        # pool's thread holds while it waits for room.
        assert len(taken) <= k + 1 + 3 + 1
        results.append(square)
        pids.add(pid)
    assert results == [n * n for n in range(60)]
    assert os.getpid() not in pids


def test_one_worker_runs_the_tasks_here() -> None:
    assert [pid for _, pid in map_tasks(_square, range(5), Path("."), 0, 1, "local", _NoStages())] == [os.getpid()] * 5


def test_a_driver_that_stops_reading_ends_the_pool_without_waiting(tmp_path: Path) -> None:
    done = threading.Event()

    def read_three() -> None:
        results = map_tasks(_square, iter(range(10**6)), tmp_path, 0, 2, "local", _NoStages(), ahead=2)
        for k, _ in enumerate(results):
            if k == 3:
                break
        results.close()
        done.set()

    reader = threading.Thread(target=read_three, daemon=True)
    reader.start()
    reader.join(timeout=60)
    assert done.is_set(), "closing the results did not end the pool"


@pytest.mark.parametrize("ahead", [0, 1])
def test_every_window_gives_the_same_results(tmp_path: Path, ahead: int) -> None:
    assert [s for s, _ in map_tasks(_square, range(40), tmp_path, 0, 2, "local", _NoStages(), ahead=ahead)] == [n * n for n in range(40)]
