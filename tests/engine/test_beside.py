"""Steps run beside the build's driver (`engine.beside`): in a real forked
process, their files written, their errors raised in the driver as if the
step had run there, and a child never outliving a driver that failed."""

from __future__ import annotations

import os
import sys
import time
import weakref
from pathlib import Path

import pytest

from parallel_corpus.engine.beside import beside, can_fork
from parallel_corpus.engine.build import BuildError

pytestmark = pytest.mark.skipif(not can_fork(2), reason="steps run beside the driver only where it can fork (Linux)")


def _write(path: Path, text: str) -> None:
    path.write_text(f"{text} {os.getpid()}")


def _fail(message: str) -> None:
    raise BuildError(message)


class _Unpicklable(Exception):
    def __init__(self, what: str, handle: object):
        super().__init__(what)
        self.handle = handle


def _fail_unpicklably() -> None:
    raise _Unpicklable("a step failed with something that does not pickle", lambda: None)


def _die() -> None:
    os._exit(3)


def _slow_write(path: Path) -> None:
    time.sleep(30)
    path.write_text("late")


def test_a_step_beside_the_driver_runs_in_another_process_and_its_files_are_there(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with beside(_write, out, "written") as step:
        assert step.pid is not None and step.pid != os.getpid()
        step.wait()
        step.wait()  # once ended, waiting again returns
    text, pid = out.read_text().split()
    assert text == "written" and int(pid) != os.getpid()


def _pages_of(n: int) -> dict:
    return {"pid": os.getpid(), "pages": [{"number": k, "languages": {"sw": k}} for k in range(n)]}


@pytest.mark.parametrize("forked", [True, False])
def test_waiting_for_a_step_gives_what_it_returned(forked: bool) -> None:
    # The audit page's pages come back to the driver, which writes their index.
    with beside(_pages_of, 20_000, forked=forked) as step:
        got = step.wait()
        assert step.wait() is None
    assert got["pages"] == _pages_of(20_000)["pages"]
    assert (got["pid"] != os.getpid()) == forked


def test_a_step_not_forked_runs_in_the_driver_when_waited_for_and_once(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with beside(_write, out, "here", forked=False) as step:
        assert not out.exists()
        step.wait()
        out.write_text("changed")
        step.wait()
    assert out.read_text() == "changed"


def test_a_failing_step_raises_its_own_error_in_the_driver() -> None:
    with beside(_fail, "pairs: the disk is full") as step:
        with pytest.raises(BuildError, match="pairs: the disk is full"):
            step.wait()


def test_an_error_that_does_not_pickle_still_reaches_the_driver_as_text() -> None:
    with beside(_fail_unpicklably) as step:
        with pytest.raises(RuntimeError, match="does not pickle"):
            step.wait()


def test_a_child_that_dies_without_a_word_is_an_error_naming_its_exit_code() -> None:
    with beside(_die) as step:
        with pytest.raises(RuntimeError, match="_die.*exit code 3"):
            step.wait()


def test_a_failing_driver_ends_the_child_before_it_writes(tmp_path: Path) -> None:
    out = tmp_path / "late.txt"
    started = time.monotonic()
    with pytest.raises(KeyError):
        with beside(_slow_write, out) as step:
            pid = step.pid
            raise KeyError("the driver failed")
    assert time.monotonic() - started < 20
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ended and reaped
    assert not out.exists()


class _Held:
    """Something large only the step reads (a build's signatures)."""


def _read(held: _Held) -> None:
    assert isinstance(held, _Held)


@pytest.mark.parametrize("forked", [True, False])
def test_the_driver_lets_go_of_what_only_the_step_reads(forked: bool) -> None:
    held = _Held()
    gone = weakref.ref(held)
    with beside(_read, held, forked=forked) as step:
        del held
        if forked:  # the child has its own copy
            assert gone() is None
        step.wait()
        assert gone() is None


def test_only_linux_with_two_workers_or_more_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not can_fork(1)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not can_fork(2)
