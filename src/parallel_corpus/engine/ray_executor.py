"""The Ray half of the executors (`engine.executors`): the per-document
stages on Ray Data, for corpora one machine cannot hold.

The same `stages.document.process_chunk` runs inside Ray actors (one `Stages` per
actor, loaded once), one chunk of consecutive sources per row. Each chunk's
result (its rows as one Arrow batch) travels back pickled in a binary
column, so Ray never infers or reorders their nested schema, and
`preserve_order` keeps chunks in the order of `sources`: the driver then
writes exactly what a local build writes.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Iterator, Optional

from parallel_corpus.corpus import Source
from parallel_corpus.errors import Error
from parallel_corpus.stages.document import ChunkResult, Stages, process_chunk


class RayMissing(Error, RuntimeError):
    """`--engine ray` on a machine without Ray installed."""


class _ProcessChunks:
    """A Ray actor: the stages, loaded once, applied to chunks of sources."""

    def __init__(self, corpus_dir: str, seed: int, boilerplate: Any = None):
        self.stages = Stages.load(Path(corpus_dir), seed, boilerplate)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        results = []
        for blob in batch["chunk"]:
            chunk: list[Source] = pickle.loads(blob)
            results.append(pickle.dumps(process_chunk(chunk, self.stages)))
        return {"result": results}


def run_ray(
    corpus_dir: Path, chunks: list[list[Source]], seed: int, workers: int, address: Optional[str], boilerplate: Any = None
) -> Iterator[ChunkResult]:
    """Results of the per-document stages on Ray Data, chunk by chunk, in order."""
    try:
        import ray
    except ImportError:
        raise RayMissing("--engine ray needs Ray: `make venv` installs it (or .venv/bin/python -m pip install -c constraints.txt -e '.[distributed]')") from None

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, num_cpus=None if address else max(1, workers), include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        items = [{"chunk": pickle.dumps(c)} for c in chunks]
        ds = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), workers * 4)))
        ds = ds.map_batches(
            _ProcessChunks,
            fn_constructor_args=(str(Path(corpus_dir).resolve()), seed, boilerplate),
            batch_size=1,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=max(1, workers)),
        )
        for row in ds.iter_rows():
            yield pickle.loads(row["result"])
    finally:
        if started_here:
            ray.shutdown()
