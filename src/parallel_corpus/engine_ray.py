"""The per-document stages on Ray Data, for corpora one machine cannot hold.

The same `pipeline.process` runs inside Ray actors (one `Stages` per actor,
loaded once). Rows travel back pickled in a binary column, so Ray never infers
or reorders their nested schema, and `preserve_order` keeps them in the
order of `sources`: the driver then writes exactly what a local build writes.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Iterator, Optional

from .config import Source
from .pipeline import DocumentSkipped, Stages, process_with_signature


class _ProcessBatch:
    """A Ray actor: the stages, loaded once, applied to batches of sources."""

    def __init__(self, corpus_dir: str, seed: int):
        self.stages = Stages.load(Path(corpus_dir), seed)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        statuses, payloads = [], []
        for blob in batch["source"]:
            source: Source = pickle.loads(blob)
            try:
                statuses.append("ok")
                payloads.append(pickle.dumps(process_with_signature(source, self.stages)))
            except DocumentSkipped as exc:
                statuses[-1] = "skipped"
                payloads.append(pickle.dumps({"id": exc.source.id, "file": exc.source.file, "reason": exc.reason, "message": str(exc)}))
        return {"status": statuses, "payload": payloads}


def run_ray(corpus_dir: Path, sources: list[Source], seed: int, workers: int, address: Optional[str]) -> Iterator[tuple[str, Any]]:
    """Results of the per-document stages on Ray Data, in the order of `sources`."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("--engine ray needs Ray: pip install -e '.[distributed]'") from None

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, num_cpus=None if address else max(1, workers), include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        items = [{"source": pickle.dumps(s)} for s in sources]
        ds = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), workers * 4)))
        ds = ds.map_batches(
            _ProcessBatch,
            fn_constructor_args=(str(Path(corpus_dir).resolve()), seed),
            batch_size=32,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=max(1, workers)),
        )
        for row in ds.iter_rows():
            yield str(row["status"]), pickle.loads(row["payload"])
    finally:
        if started_here:
            ray.shutdown()
