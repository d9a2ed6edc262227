"""A whole-corpus step run in a forked process while the driver goes on.

After alignment, several steps each read what the driver holds and write
their own files: `pairs` (the signatures), the audit page (the spill's
rows), and the driver's own `documents`, `parallel` and report.json.
One process does them one after the other while the machine's other cores
wait. `beside(step, ...)` forks the driver, runs the step in the child
(which sees the driver's memory as it was, copied only where either writes)
and lets the driver go on to the next step; `wait()` joins it.

The bytes are those the step writes in the driver: the same function, on
the same inputs. A step runs in the driver instead where a fork is not
safe or not wanted: off Linux (macOS spawns, and a spawned child would be
sent everything the step reads), and when the build was given one worker.
What the step returns `wait()` returns, and what it raises `wait()` raises,
as if it had run in the driver;
a child that dies without a word is an error naming its exit code. Leaving
the `with` block without `wait()` (the driver failed) ends the child first,
so it never writes into a staging folder that is being removed.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional

__all__ = ["beside", "Beside", "can_fork", "end"]


def can_fork(workers: int) -> bool:
    """Whether a build with this many workers runs steps beside the driver
    (not in a daemonic process, such as a pool's worker, which may not
    have children)."""
    import multiprocessing as mp

    return workers > 1 and sys.platform.startswith("linux") and hasattr(os, "fork") and not mp.current_process().daemon


class Beside:
    """One step: in a forked child (`forked`), or run at `wait()` in the driver."""

    def __init__(self, step: Callable[..., Any], args: tuple[Any, ...], forked: bool):
        # The arguments are let go once the step has them (a forked child
        # holds its own copy): a build frees what only the step reads.
        self.step: Optional[Callable[..., Any]] = step
        self.args: tuple[Any, ...] = args
        self.name = getattr(step, "__name__", repr(step))
        self.pid: Optional[int] = None
        self.done = False
        self._read = -1
        if forked:
            self._start()

    def _start(self) -> None:
        import multiprocessing as mp

        read, write = os.pipe()
        # multiprocessing's fork, not a bare os.fork: it flushes the standard
        # streams first, runs its own after-fork hooks and ends the child
        # through os._exit, so the driver's buffers, atexit and finally
        # blocks never run twice.
        process = mp.get_context("fork").Process(target=_child, args=(self.step, self.args, write), daemon=True)
        process.start()
        os.close(write)
        self.step, self.args = None, ()
        self.process, self._read = process, read
        self.pid = process.pid

    def wait(self) -> Any:
        """The step's end: what it returned, or its error raised here, as
        if run in the driver. Once it has ended, waiting again returns None
        at once."""
        if self.done:
            return None
        self.done = True
        if self.pid is None:
            step, args = self.step, self.args
            self.step, self.args = None, ()
            return step(*args) if step is not None else None
        with os.fdopen(self._read, "rb") as pipe:
            self._read = -1
            message = pipe.read()
        self.process.join()
        code = self.process.exitcode
        self.pid = None
        if code != 0 or not message:
            if message:
                raise pickle.loads(message)
            raise RuntimeError(f"a step of the build run beside it ({self.name}) ended with exit code {code}")
        return pickle.loads(message)

    def stop(self) -> None:
        """End the child, if it runs (the driver failed)."""
        if self.pid is not None:
            end(self.process)
            self.pid = None
        self.step, self.args = None, ()
        if self._read >= 0:
            os.close(self._read)
            self._read = -1


def _child(step: Callable[..., Any], args: tuple[Any, ...], write: int) -> None:
    """Run the step and send what it returned (pickled); on failure, send
    its exception (or, where it does not pickle, a RuntimeError with its
    text) and exit non-zero."""
    try:
        message = pickle.dumps(step(*args))
    except BaseException as exc:  # everything reaches the driver
        try:
            message = pickle.dumps(exc)
            pickle.loads(message)
        except Exception:
            message = pickle.dumps(RuntimeError("".join(traceback.format_exception_only(type(exc), exc)).strip()))
        with os.fdopen(write, "wb") as pipe:
            pipe.write(message)
        sys.exit(1)
    with os.fdopen(write, "wb") as pipe:
        pipe.write(message)


# How long a child told to end (SIGTERM) is given before it is killed.
_STOP_SECONDS = 10.0


def end(process: Any) -> None:
    """End a child process the driver no longer waits for: told to end,
    then killed if it has not within _STOP_SECONDS (SIGTERM ignored where
    the build was started), and reaped."""
    process.terminate()
    process.join(timeout=_STOP_SECONDS)
    if process.exitcode is None:
        process.kill()
        process.join()


@contextmanager
def beside(step: Callable[..., Any], *args: Any, forked: bool = True) -> Iterator[Beside]:
    """Run `step(*args)` beside the driver (forked) or at `wait()` (not):
    `with beside(write_pairs, ...) as pairs: ...; pairs.wait()`."""
    handle = Beside(step, args, forked)
    del step, args  # only the handle holds them, and lets them go
    try:
        yield handle
    finally:
        handle.stop()
