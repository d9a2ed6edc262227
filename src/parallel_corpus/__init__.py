"""Build, annotate, validate and publish a topic-aligned multilingual news corpus.

The library's face: the four calls the command line makes, for code that
would rather call them than run `parallel-corpus`:

- `build(corpus_dir, out_dir, ...)`: raw articles -> `OUT/data/<config>/*.parquet`
  and `OUT/report.json` (`engine.build`);
- `publish(corpus_dir, build_dir, dist_dir, ...)`: a build -> `DIST/vX.Y.Z/`
  (`release.publish`);
- `validate_paths(paths, ...)`: every problem of schemas, corpus folders,
  annotations and releases, reading nothing outside them (`release.validate`);
- `explain_document(stages, target, ...)`: why each line of one raw article
  was kept or removed (`stages.document`).

Every refusal is an `Error` (`errors`), whose problems name file, row, field
and what to do. Messages that are not refusals (a raw file skipped, an
annotation quarantined) go to the `parallel_corpus` logger, at WARNING, one
line each; the package adds only a NullHandler, so a caller sees them once
it configures `logging` (the command line prints them). Names are imported
on first use, so `import parallel_corpus` does not load Arrow, NumPy or SciPy.
"""

from __future__ import annotations

import logging
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

def _version() -> str:
    """The installed distribution's version: pyproject.toml says it once."""
    try:
        return version("parallel-corpus")
    except PackageNotFoundError:  # a source tree on sys.path, never installed
        return "0+unknown"


__version__ = _version()

logging.getLogger(__name__).addHandler(logging.NullHandler())

_HOMES = {
    "build": "parallel_corpus.engine.build",
    "publish": "parallel_corpus.release.publish",
    "validate_paths": "parallel_corpus.release.validate",
    "explain_document": "parallel_corpus.stages.document",
    "Error": "parallel_corpus.errors",
    "Problem": "parallel_corpus.errors",
}

__all__ = ["__version__", *_HOMES]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value
