"""Atomic writes: a file is either its old bytes or its new ones, never half.

Written to a uniquely named temporary file in the same folder (so two writers
never share one, and the rename never crosses file systems), flushed to disk,
then renamed over the target. On any failure the temporary file goes and the
target is untouched.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Iterable, Optional


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


# errno -> what the user can do about it. A full disk, a read-only mount or a
# folder without write permission is the user's to fix, not a bug: it gets one
# line, not a traceback.
_DISK_PROBLEMS = {
    errno.ENOSPC: "no space left on the device: free some space, or write elsewhere",
    errno.EDQUOT: "disk quota exceeded: free some space, or write elsewhere",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.EACCES: "permission denied: make it writable, or write elsewhere",
    errno.EPERM: "operation not permitted: make it writable, or write elsewhere",
}
# pyarrow's I/O errors carry the system's message but no errno.
_STRERRORS = {os.strerror(code): code for code in _DISK_PROBLEMS}


def disk_problem(exc: BaseException) -> Optional[str]:
    """What to do about a write that failed for a reason of the disk, or None
    when `exc` is something else (a bug, which keeps its traceback)."""
    if not isinstance(exc, OSError):
        return None
    code = exc.errno if exc.errno in _DISK_PROBLEMS else next((c for s, c in _STRERRORS.items() if s in str(exc)), None)
    return _DISK_PROBLEMS.get(code) if code is not None else None
