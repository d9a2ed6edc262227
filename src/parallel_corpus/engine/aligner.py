"""The corpus's signatures and the steps that read them (alignment, `pairs`),
in a process of their own beside the driver.

Pass one's driver reads every document's result and adds its signature to
the store (`align.store.SignatureStore.add_many`): at 100,000 documents that
is more than a third of the driver's work in pass one (33 of 76 s), while the pool's workers,
on a rebuild, mostly wait. Forked before pass one starts, a child holds the
store instead: the driver sends it each block's packed signatures down a
pipe (or, where a worker of the build cache wrote them to a file, that
file's path: 1.6 MB a block that then cross no pipe) and goes on; once
pass one ends, the child aligns the corpus and sends the topics back, then
writes `pairs` while the driver runs pass two.

The bytes are those of the store built in the driver: the same calls, in the
same order, on the same signatures. Where steps do not run beside the driver
(`beside.can_fork`: one worker, Ray, off Linux), the store is built in the
driver and `pairs` is written before pass two, so that the store is let go
before the documents stream through it. An error in the child is raised by
the driver's next call, as its own; a child that dies without a word is an
error naming its exit code; a driver that fails ends the child first.
"""

from __future__ import annotations

import dataclasses
import gc
import pickle
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

from parallel_corpus.align.store import SignatureStore
from parallel_corpus.engine.beside import end
from parallel_corpus.engine.spill import read_signatures

__all__ = ["Aligner", "aligner", "assignments_of"]

# Signatures added to the store at once in the child. Each run looks up its
# names in one pass over the vocabulary so far (`SignatureStore.add_many`):
# on 100,000 documents, adding runs of 2,048 took 22.4 s against 28.1 s for
# runs of 256 (a build's blocks), at about 150 MB more at the process's
# peak; longer runs sort more at once and were slower again (29.6 s at
# 16,384).
STORE_RUN = 2048

def assignments_of(root: Path, store: SignatureStore, overrides: Any, params: Any, threads: int = 1) -> dict[str, Any]:
    """Topic and event of every document: the catalog's, a cluster's, or a
    human's (`threads` find the candidate links: `align.assign_topics`)."""
    from parallel_corpus.align import assign_topics, load_catalog

    catalog = load_catalog(root)
    assignments = assign_topics(store, catalog, params, threads)
    if overrides is not None:
        assignments = overrides.apply_to_assignments(assignments, catalog)
    return assignments


class Aligner:
    """The store, in a forked child (`forked`) or in the driver;
    `write_pairs` is `writers.write_pairs`, or what the build calls so."""

    def __init__(self, max_df: int, forked: bool, write_pairs: Callable[..., None], threads: int = 1):
        self.write_pairs_with = write_pairs
        self.threads = threads
        self.store: Optional[SignatureStore] = None
        self.pid: Optional[int] = None
        self._conn: Any = None
        if not forked:
            self.store = SignatureStore(max_df)
            return
        import multiprocessing as mp

        context = mp.get_context("fork")
        ours, theirs = context.Pipe()
        process = context.Process(target=_child, args=(theirs, max_df, write_pairs, threads), daemon=True)
        process.start()
        theirs.close()
        self.process, self._conn, self.pid = process, ours, process.pid

    def add_many(self, signatures: Sequence[bytes]) -> None:
        """Signatures of consecutive documents (`SignatureStore.add_many`)."""
        if self.store is not None:
            self.store.add_many(signatures)
        elif signatures:
            self._send(("add", list(signatures)))

    def add_file(self, path: str, keep: Sequence[bool]) -> None:
        """The signatures of a file a worker wrote (`spill.write_signatures`),
        those kept: read where the store is, so that they cross no pipe."""
        if self.store is not None:
            self.store.add_many(read_signatures(Path(path), keep))
        elif any(keep):
            self._send(("file", (path, list(keep))))

    def align(self, root: Path, overrides: Any, params: Any) -> dict[str, Any]:
        """`assignments_of` the signatures added."""
        if self.store is not None:
            return assignments_of(root, self.store, overrides, params, self.threads)
        self._send(("align", (root, _for_child(overrides), params)))
        return self._reply()

    def write_pairs(self, staging: Path, split_of_topic: dict[str, str], dataset: dict[str, Any], overrides: Any, params: Any,
                    assignments: dict[str, Any]) -> None:
        """`pairs` of the aligned corpus: started in the child (`wait` for
        its end), which pairs the topics it made, or written here at once,
        after which the store is let go."""
        if self.store is not None:
            store, self.store = self.store, None
            self.write_pairs_with(staging, store, assignments, split_of_topic, dataset, overrides, params)
            return
        self._send(("pairs", (staging, split_of_topic, dataset, _for_child(overrides), params)))

    def wait(self) -> None:
        """The child's end (`pairs` written); its error raised here."""
        if self.pid is None:
            return
        self._reply()
        self.process.join()
        self._close()

    def stop(self) -> None:
        """End the child, if it runs (the driver failed)."""
        if self.pid is not None:
            end(self.process)
            self._close()

    def _close(self) -> None:
        self.pid = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _send(self, message: Any) -> None:
        try:
            self._conn.send(message)
        except OSError:  # the child has ended: its error, or its exit code
            self._reply()
            raise RuntimeError("the signature store's process beside the build stopped reading") from None

    def _reply(self) -> Any:
        try:
            kind, value = self._conn.recv()
        except (EOFError, OSError):
            self.process.join()
            code = self.process.exitcode
            self._close()
            raise RuntimeError(f"the signature store's process beside the build ended with exit code {code}") from None
        if kind == "error":
            self.process.join()
            self._close()
            raise value
        return value


def _for_child(overrides: Any) -> Any:
    """The human labels as the child needs them: it runs no step that reads
    the languages or the gazetteer (they apply to documents, in the
    driver), so they are not sent."""
    return dataclasses.replace(overrides, languages=None, gazetteer=None) if overrides is not None else None


def _child(conn: Any, max_df: int, write_pairs: Callable[..., None], threads: int = 1) -> None:
    """Build the store from what the driver sends, align, write `pairs`. On
    failure, send the exception (or, where it does not pickle, a
    RuntimeError with its text) and exit non-zero."""
    # What the driver held when it forked is never collected here: the
    # collector would otherwise touch (and so copy) every page of it.
    gc.freeze()
    store = SignatureStore(max_df)
    assignments: dict[str, Any] = {}
    held: list[bytes] = []
    try:
        while True:
            kind, payload = conn.recv()
            if kind in ("add", "file"):
                # Added in runs of STORE_RUN: the same store (`add_many`),
                # with fewer passes over the vocabulary.
                held += payload if kind == "add" else read_signatures(Path(payload[0]), payload[1])
                if len(held) >= STORE_RUN:
                    store.add_many(held)
                    held = []
                continue
            if held:
                store.add_many(held)
                held = []
            if kind == "align":
                root, overrides, params = payload
                assignments = assignments_of(root, store, overrides, params, threads)
                conn.send(("ok", assignments))
            elif kind == "pairs":
                staging, split_of_topic, dataset, overrides, params = payload
                write_pairs(staging, store, assignments, split_of_topic, dataset, overrides, params)
                conn.send(("ok", None))
                return
    except BaseException as exc:  # everything reaches the driver
        try:
            message = pickle.dumps(exc)
            pickle.loads(message)
            error: BaseException = exc
        except Exception:
            error = RuntimeError("".join(traceback.format_exception_only(type(exc), exc)).strip())
        try:
            conn.send(("error", error))
        except OSError:
            pass
        sys.exit(1)


@contextmanager
def aligner(max_df: int, forked: bool, write_pairs: Callable[..., None], threads: int = 1) -> Iterator[Aligner]:
    """`with aligner(max_df, forked, write_pairs, threads) as signatures: ...`:
    the child is ended on leaving, whatever happened."""
    handle = Aligner(max_df, forked, write_pairs, threads)
    try:
        yield handle
    finally:
        handle.stop()
