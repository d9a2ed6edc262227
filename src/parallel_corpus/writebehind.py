"""Parquet writes on a thread beside the driver's Python work.

The driver alone writes the published Parquet, and zstd at level 9 is most
of what a write costs. Arrow encodes and compresses without the GIL, so a
second thread can write one table while the driver makes the next: the
build's serial stages then use two cores instead of one.

One thread runs every write in the order it was asked for, so each file
receives the same tables, in the same order, as a direct write: the bytes do
not change. At most `depth` writes wait, so memory stays at a few tables.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Optional

__all__ = ["WriteBehind"]


class WriteBehind:
    """`submit(fn, *args)` runs `fn(*args)` on the writing thread, in order.

    Use as a context manager: leaving it waits for every write; an error in
    a write stops the writes after it and is raised in the driver (at the
    next `submit` or on leaving), never lost."""

    def __init__(self, depth: int = 2):
        self._jobs: queue.Queue = queue.Queue(maxsize=depth)
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="parquet-writes", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._error is None:
                try:
                    job[0](*job[1])
                except BaseException as exc:  # handed to the driver
                    self._error = exc

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._raise()
        self._jobs.put((fn, args))

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        """Wait for every write submitted; raise the first that failed."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()
        self._raise()

    def __enter__(self) -> "WriteBehind":
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.close()
            return
        # The driver is failing already: let the writes stop, keep its error.
        self._error = self._error or value
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()
