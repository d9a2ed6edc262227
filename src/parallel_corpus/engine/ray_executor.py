"""The Ray half of the executors (`engine.executors`): the per-document
stages on Ray actors, for corpora one machine cannot hold.

The same `stages.document.process_chunk` runs inside Ray actors (one `Stages`
per actor, loaded once). Chunks of consecutive sources go to the actors in
turn, a few at a time each, and their results are taken back in the order
of `sources`: the driver then writes exactly what a local build writes.

Plain Ray actors, not Ray Data: Ray Data does not run through Ray Client, so
with it a `ray://` address failed once the dataset was read. Actors and
`ray.get` work the same through a `ray://` address, a cluster's GCS address
(`HOST:6379`) or a local Ray started here.

What every node needs (docs/benchmarks.md, "Workers and Ray"): this package
importable at the driver's version, and the corpus folder at the same
absolute path, since actors read the raw files themselves.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import warnings
from collections import deque
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from parallel_corpus.corpus import Source
from parallel_corpus.errors import Error
from parallel_corpus.engine.audit_page import with_articles
from parallel_corpus.stages.document import ChunkResult, Stages, process_chunk

logger = logging.getLogger(__name__)

INSTALL_HINT = ".venv/bin/python -m pip install -c constraints.txt -e '.[distributed]' (make venv installs it)"
# Chunks given to each actor ahead of the one being taken back: enough to
# keep an actor busy while the driver writes, few enough to bound what
# waits in the object store.
AHEAD_PER_ACTOR = 2
# Seconds to wait for a cluster's port to answer. Ray itself waits 30 s on a
# ray:// address that does not answer, and forever on a GCS address.
CONNECT_TIMEOUT_S = 10
CLIENT_PORT = 10001  # Ray Client's port when a ray:// address names none
CLIENT_ATTEMPTS = 3  # connections tried through a ray:// address (see _connect)
AUTH_HINT = "set RAY_AUTH_MODE=token and the cluster's token in RAY_AUTH_TOKEN (or a file named by RAY_AUTH_TOKEN_PATH)"
ADDRESS_HINT = "check the address (HOST:6379 from a node of the cluster, ray://HOST:10001 from elsewhere) and that the cluster is up"


class RayMissing(Error, RuntimeError):
    """`--engine ray` on a machine without Ray, or without what a `ray://`
    address needs (Ray Client's gRPC)."""


class RayUnavailable(Error, RuntimeError):
    """The Ray cluster cannot be reached or used: one line saying what to check."""


class _ProcessChunks:
    """A Ray actor: the stages, loaded once, applied to chunks of sources."""

    def __init__(self, corpus_dir: str, seed: int, boilerplate: Any = None, articles: bool = True):
        self.stages = Stages.load(Path(corpus_dir), seed, boilerplate)
        self.articles = articles

    def run(self, chunk: list[Source]) -> ChunkResult:
        return with_articles(process_chunk(chunk, self.stages), self.articles)


def _worker_view(corpus_dir: str) -> tuple[str, bool]:
    """This package's version as a cluster worker imports it, and whether
    the worker sees the corpus folder."""
    from parallel_corpus import __version__

    return __version__, Path(corpus_dir, "sources.jsonl").is_file()


def _import_ray(address: Optional[str]) -> Any:
    try:
        import ray
    except ImportError:
        raise RayMissing(f"--engine ray needs Ray: {INSTALL_HINT}") from None
    # Ray Client's transport, which ray[client] brings: looked for, not
    # imported, since this package never calls it itself.
    if address and address.startswith("ray://") and importlib.util.find_spec("grpc") is None:
        raise RayMissing(f"--ray-address {address} goes through Ray Client, which needs ray[client]: {INSTALL_HINT}")
    return ray


def check_ray(address: Optional[str]) -> None:
    """Ray and what `address` needs are installed, and its port answers."""
    _import_ray(address)
    if address:
        _check_reachable(address)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_reachable(address: str) -> None:
    """A cluster address whose port does not answer, named in one line
    before Ray is asked (which would wait, or hang, on it)."""
    if address in ("auto", "local"):
        return
    client = address.startswith("ray://")
    host, sep, port = address[len("ray://"):].rpartition(":") if client else address.rpartition(":")
    if not sep and client:
        host, port = address[len("ray://"):], str(CLIENT_PORT)
    if not host or not port.isdigit():
        return  # not HOST:PORT: Ray says what it makes of it
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise RayUnavailable(f"nothing answers at {address} ({exc.strerror or exc}); {ADDRESS_HINT}") from None


def _connect(ray: Any, address: Optional[str], workers: int) -> None:
    """Connect to the cluster at `address`, or start a local Ray with
    `workers` CPUs. `address="local"` makes Ray ignore RAY_ADDRESS, so a
    build lands on a cluster only when --ray-address names it."""
    where = f"the Ray cluster at {address}" if address else "a local Ray"
    if address:
        _check_reachable(address)
    try:
        for attempt in range(1, CLIENT_ATTEMPTS + 1):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # Ray Client's timeout warning repeats the error
                    ray.init(
                        address=address or "local", num_cpus=None if address else max(1, workers),
                        include_dashboard=False, log_to_driver=False, configure_logging=False,
                    )
                break
            except ConnectionAbortedError as exc:
                # The head's Ray Client server forks a server for each client,
                # which dies now and then as it starts (ray-project/ray#63202).
                if attempt == CLIENT_ATTEMPTS or "Initialization failure from server" not in str(exc):
                    raise
                logger.info("Ray Client: the server for this build did not start (%s); trying again", _first_line(exc))
                ray.shutdown()
    except Exception as exc:  # Ray raises ConnectionError, ValueError, RuntimeError, its own AuthenticationError...
        said = f"{type(exc).__name__} {exc} {exc.__cause__}".lower()
        if "auth" in said:
            hint = AUTH_HINT
        elif address and os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
            hint = f"{ADDRESS_HINT}; if the cluster uses token authentication (a new cluster does by default), {AUTH_HINT}"
        else:
            hint = ADDRESS_HINT
        raise RayUnavailable(f"cannot use {where}: {_first_line(exc)}; {hint}") from None


def _check_workers(ray: Any, address: Optional[str], corpus_dir: str) -> None:
    """One small task first: a cluster whose workers cannot import this
    package, import another version of it, or do not see the corpus folder
    is named in one line (one worker answers: a hint, not a proof)."""
    from parallel_corpus import __version__

    try:
        theirs, sees_corpus = ray.get(ray.remote(_worker_view).remote(corpus_dir), timeout=300)
    except Exception as exc:
        cause = getattr(exc, "cause", None) or exc  # a RayTaskError carries the worker's exception
        raise RayUnavailable(
            f"the Ray cluster at {address} cannot run parallel_corpus ({_first_line(cause)}): "
            f"install parallel-corpus {__version__} on every node"
        ) from None
    if theirs != __version__:
        raise RayUnavailable(f"the Ray cluster at {address} runs parallel-corpus {theirs}, this driver {__version__}: install the same version on every node")
    if not sees_corpus:
        raise RayUnavailable(f"the Ray cluster at {address} does not see {corpus_dir}/sources.jsonl: every node reads the raw files, so the corpus folder must be at that path on each")


def run_ray(
    corpus_dir: Path, chunks: Iterable[list[Source]], seed: int, workers: int, address: Optional[str], boilerplate: Any = None, articles: bool = True,
) -> Iterator[ChunkResult]:
    """Results of the per-document stages on `workers` Ray actors, chunk by
    chunk, in order, with the rows' articles (`audit_page.with_articles`). Chunks are taken as actors need them, so the sources
    are parsed a chunk at a time here too."""
    ray = _import_ray(address)
    started_here = not ray.is_initialized()
    if started_here:
        _connect(ray, address, workers)
        logger.info("Ray: %s", f"connected to {address}" if address else f"started a local Ray with {max(1, workers)} CPUs")
    corpus = str(Path(corpus_dir).resolve())
    try:
        if address:
            _check_workers(ray, address, corpus)
        actor = ray.remote(num_cpus=1)(_ProcessChunks)
        actors = [actor.remote(corpus, seed, boilerplate, articles) for _ in range(max(1, workers))]
        pending: deque = deque()
        for i, chunk in enumerate(chunks):
            pending.append(actors[i % len(actors)].run.remote(chunk))
            if len(pending) >= AHEAD_PER_ACTOR * len(actors):
                yield ray.get(pending.popleft())
        while pending:
            yield ray.get(pending.popleft())
    finally:
        if started_here:
            ray.shutdown()
