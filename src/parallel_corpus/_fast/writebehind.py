"""Parquet writes on a thread beside the driver's Python work.

The driver writes the published Parquet (and a step beside it, in a forked
process, the files of its own config), and compression is most of what a
write costs. Arrow encodes and compresses without the GIL, so a
second thread can write one table while the driver makes the next: the
build's serial stages then use two cores instead of one.

One thread runs every write in the order it was asked for, so each file
receives the same tables, in the same order, as a direct write: the bytes do
not change. At most `depth` writes wait, so memory stays at a few tables.
`tests/_fast/test_writebehind.py` compares a file written behind with a direct
pyarrow write, byte for byte.

Measured (`scripts/bench-fast-paths`, the 10,000-document synthetic
corpus): the writes are 1.65 of the 2.68 CPU seconds of the build's
writing steps (pass two, parallel, pairs), so with a free second core those
steps take up to 1.6x less wall time; on a shared 2-core machine running
six other jobs, one run took them from 12.7 s to 9.5 s (1.3x), another saw
no gain: the thread pays only where a core is idle.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Optional

__all__ = ["WriteBehind"]


class WriteBehind:
    """`submit(fn, *args)` runs `fn(*args)` on the writing thread, in order.

    Use as a context manager: leaving it waits for every write. Once a write
    fails, or the driver fails, no later write runs (a half-written file is
    never appended to), but every `cleanup` job still does, so files are
    closed. A failed write is raised in the driver, at its next `submit` or
    on leaving; if the driver is failing already, it is noted on the
    driver's error instead of replacing it."""

    def __init__(self, depth: int = 2):
        self._jobs: queue.Queue = queue.Queue(maxsize=depth)
        self._error: Optional[BaseException] = None
        # Set for good at the first failure: `_error` is handed over once,
        # but the writes after a failure must never run.
        self._stopped = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="parquet-writes", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, cleanup = job
            if self._stopped and not cleanup:
                continue
            try:
                fn(*args)
            except BaseException as exc:  # handed to the driver
                self._stopped = True
                if self._error is None:
                    self._error = exc

    def submit(self, fn: Callable[..., Any], *args: Any, cleanup: bool = False) -> None:
        """Queue `fn(*args)`. A `cleanup` job (closing a file) runs even after
        a failure and never raises here, so it is safe in a `finally`."""
        if self._closed:
            raise RuntimeError("WriteBehind: submit after close")
        if not cleanup:
            self._raise()
        self._jobs.put((fn, args, cleanup))

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _finish(self) -> None:
        if not self._closed:
            self._closed = True
            self._jobs.put(None)
            self._thread.join()

    def close(self) -> None:
        """Wait for every job submitted; raise the first write that failed."""
        self._finish()
        self._raise()

    def __enter__(self) -> "WriteBehind":
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.close()
            return
        # The driver is failing already: skip the writes still queued, run
        # the cleanups, and keep the driver's error as the one raised.
        self._stopped = True
        self._finish()
        if self._error is not None and hasattr(value, "add_note"):
            value.add_note(f"a Parquet write had failed too: {self._error!r}")
        self._error = None
