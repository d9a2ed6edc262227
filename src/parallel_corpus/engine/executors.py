"""Executors: where the per-document stages run (this process, a process
pool, or Ray), chunk by chunk, always handing results back in source order.

The stages are a pure function of a source and the corpus folder, so where
they run cannot change a row: the driver gets the same chunks in the same
order from each executor, and writes the same bytes. Ray is in
`engine.ray_executor`, imported only when asked for. For the build cache
(`engine.cache`), a run can also record what each document's cleaning asked
of the corpus's counts of recurring segments.
"""

from __future__ import annotations

import sys
import threading
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from parallel_corpus.corpus import Source
from parallel_corpus.engine.audit_page import with_articles
from parallel_corpus.stages.clean.boilerplate import Boilerplate, segment_key
from parallel_corpus.stages.document import ChunkResult, Stages, process_chunk, process_with_signature


# Sources per task of a worker: enough to amortize a task's overhead (one
# pickled Arrow batch back), few enough to keep two workers evenly busy.
CHUNK_SOURCES = 32

# The stages of this process: set by the driver before forking, or by
# `_init_worker` in a spawned worker.
_WORKER_STAGES: Optional[Stages] = None


def _init_worker(corpus_dir: str, seed: int, boilerplate: Any = None) -> None:
    global _WORKER_STAGES
    _WORKER_STAGES = Stages.load(Path(corpus_dir), seed, boilerplate)


def _run_chunk(sources: list[Source], articles: bool = True) -> ChunkResult:
    assert _WORKER_STAGES is not None
    return with_articles(process_chunk(sources, _WORKER_STAGES), articles)


class _Recorder(Boilerplate):
    """The corpus's counts, noting every question the cleaner asks of them."""

    def __init__(self, inner: Optional[Boilerplate]):
        super().__init__(inner.counts if inner is not None else {})
        self.asked: dict[int, int] = {}

    def documents(self, folded: str) -> int:
        if not folded:
            return 0
        key = segment_key(folded)
        n = self.asked[key] = self.counts.get(key, 0)
        return n


def process_chunk_recorded(sources: Sequence[Source], stages: Stages, articles: bool = True) -> tuple[ChunkResult, list[list[tuple[int, int]]]]:
    """`stages.document.process_chunk` with the rows' articles
    (`audit_page.with_articles`), and the boilerplate answers each source's
    cleaning got."""
    asked: list[list[tuple[int, int]]] = []
    inner = stages.boilerplate

    def recorded(source: Source, stages: Stages) -> tuple[dict[str, Any], dict[str, Any]]:
        recorder = stages.boilerplate = _Recorder(inner)
        try:
            return process_with_signature(source, stages)
        finally:  # a skipped source's answers too
            asked.append(sorted(recorder.asked.items()))

    try:
        return with_articles(process_chunk(sources, stages, recorded), articles), asked
    finally:
        stages.boilerplate = inner


def _segment_keys_of_chunk(sources: list[Source]) -> list[int]:
    assert _WORKER_STAGES is not None
    return _WORKER_STAGES.segment_keys(sources)


def _run_chunk_recorded(sources: list[Source], articles: bool = True) -> tuple[ChunkResult, list[list[tuple[int, int]]]]:
    assert _WORKER_STAGES is not None
    return process_chunk_recorded(sources, _WORKER_STAGES, articles)


def _pool(corpus_dir: Path, seed: int, workers: int, stages: Optional[Stages]) -> Any:
    """A pool of `workers` processes holding the stages. Forked workers share
    the loaded `stages`' pages instead of each parsing the curated files and
    the language profiles again; spawned ones (macOS) load their own."""
    global _WORKER_STAGES
    import multiprocessing as mp

    ctx = mp.get_context("spawn" if sys.platform == "darwin" else "fork")
    if ctx.get_start_method() == "fork" and stages is not None:
        _WORKER_STAGES = stages
        return ctx.Pool(workers)
    return ctx.Pool(workers, initializer=_init_worker, initargs=(str(corpus_dir), seed, stages.boilerplate if stages else None))


def chunks(sources: Sequence[Source], workers: int) -> Iterator[list[Source]]:
    """Consecutive runs of sources, at most CHUNK_SOURCES each and at least
    four per worker, so that a small corpus still keeps every worker busy.
    Made as they are taken, so that sources are parsed a chunk at a time."""
    size = max(1, min(CHUNK_SOURCES, -(-len(sources) // (4 * max(1, workers)))))
    for i in range(0, len(sources), size):
        yield list(sources[i : i + size])


def segment_keys(corpus_dir: Path, sources: Sequence[Source], seed: int, workers: int, engine: str, stages: Stages) -> Optional[Iterator[list[int]]]:
    """The sources' segment keys counted by a pool of workers, chunk by
    chunk (None: the driver counts them itself, with one worker or on Ray).
    Any split of the work gives the same counts."""
    if workers <= 1 or engine != "local" or len(sources) < 2 * CHUNK_SOURCES:
        return None
    pool = _pool(corpus_dir, seed, workers, stages)

    def results() -> Iterator[list[int]]:
        with pool:
            yield from pool.imap_unordered(_segment_keys_of_chunk, chunks(sources, workers))

    return results()


def map_chunks(fn: Callable[[list[Source]], Any], corpus_dir: Path, sources: Sequence[Source], seed: int, workers: int, engine: str, stages: Stages) -> Iterator[Any]:
    """`fn` of each chunk of the sources, in order: in the pool's workers
    where a build would use them, else here (one worker, Ray). `fn` must
    pickle (a module function, or a partial of one) and finds the stages
    with `worker_stages()`, in a worker as here."""
    pooled = workers > 1 and engine == "local" and len(sources) >= 2 * CHUNK_SOURCES
    yield from map_tasks(fn, chunks(sources, workers if pooled else 1), corpus_dir, seed, workers if pooled else 1, engine, stages)


def map_tasks(fn: Callable[[Any], Any], tasks: Iterable[Any], corpus_dir: Path, seed: int, workers: int, engine: str, stages: Stages, ahead: int = 0) -> Iterator[Any]:
    """`fn` of each task, in order: in the pool's workers where a build would
    use them (more than one worker, the local engine), else here. With
    `ahead`, at most that many tasks are handed out beyond the result being
    read, so that results the driver has not read yet cannot pile up in its
    memory when the workers are faster than it."""
    global _WORKER_STAGES
    if workers <= 1 or engine != "local":
        _WORKER_STAGES = stages
        for task in tasks:
            yield fn(task)
        return
    if not ahead:
        with _pool(corpus_dir, seed, workers, stages) as pool:
            yield from pool.imap(fn, tasks)
        return
    window = threading.Semaphore(ahead)
    stopped = False

    def handed_out() -> Iterator[Any]:
        # Runs in the pool's task thread: waits for the driver to read a result.
        for task in tasks:
            window.acquire()
            if stopped:
                return
            yield task

    pool = _pool(corpus_dir, seed, workers, stages)
    try:
        for result in pool.imap(fn, handed_out()):
            window.release()
            yield result
    finally:
        # The pool's task thread, if it waits for room, must see the end
        # before the pool, ending, joins it.
        stopped = True
        window.release()
        pool.terminate()


def worker_stages() -> Stages:
    """The stages of this process (a pool worker's, or the driver's while it
    runs the chunks itself)."""
    assert _WORKER_STAGES is not None
    return _WORKER_STAGES


def check_engine(engine: str, ray_address: Optional[str]) -> None:
    """Refuse, in one line and before any work, an engine this machine
    cannot use: Ray not installed, or a cluster address that does not answer."""
    if engine == "ray":
        from parallel_corpus.engine.ray_executor import check_ray

        check_ray(ray_address)


def run_documents(
    corpus_dir: Path, sources: Sequence[Source], seed: int, workers: int = 1, engine: str = "local", ray_address: Optional[str] = None,
    stages: Optional[Stages] = None, record: bool = False, articles: bool = True,
) -> Iterator[Any]:
    """Results of the per-document stages, chunk by chunk, in the order of `sources`.

    `stages`, when the caller has loaded them already, serve the in-process
    run and are inherited by forked workers instead of being loaded again.
    With `record`, each result comes as (ChunkResult, the boilerplate
    answers of each of its sources) for the build cache (on Ray the answers
    are None: what Ray builds is not stored). Each batch has the rows'
    articles for the audit page (`audit_page.with_articles`), made in the
    workers; null without `articles`."""
    if engine == "ray":
        from parallel_corpus.engine.ray_executor import run_ray

        for result in run_ray(corpus_dir, chunks(sources, workers), seed, workers, ray_address, stages.boilerplate if stages else None, articles):
            yield (result, None) if record else result
        return
    global _WORKER_STAGES
    run = partial(_run_chunk_recorded if record else _run_chunk, articles=articles)
    if workers <= 1:
        _WORKER_STAGES = stages or Stages.load(Path(corpus_dir), seed)
        for chunk in chunks(sources, 1):
            yield run(chunk)
        return
    with _pool(corpus_dir, seed, workers, stages) as pool:
        yield from pool.imap(run, chunks(sources, workers))
