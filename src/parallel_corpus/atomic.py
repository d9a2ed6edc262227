"""Atomic writes: a file is either its old bytes or its new ones, never half.

Written to a uniquely named temporary file in the same folder (so two writers
never share one, and the rename never crosses file systems), flushed to disk,
then renamed over the target. On any failure the temporary file goes and the
target is untouched.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable


def write_lines_atomic(path: Path, lines: Iterable[str]) -> None:
    """Write `lines` (each ending in its own newline) as the whole of `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for line in lines:
                fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
