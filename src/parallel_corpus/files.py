"""Files and folders written so that nobody ever sees half of one.

Every write of the package that replaces something a reader may hold goes
through here, in one of four ways:

- a file (`atomic_file`, `write_lines_atomic`): written to a uniquely named
  temporary file in the same folder (so two writers never share one, and the
  rename never crosses file systems), flushed to disk, then renamed over the
  target;
- a folder that replaces the previous one (`replace_dir`, the build) or
  that must not exist yet (`place_new_dir`, a release): written in full in a
  staging folder beside it (`staging_dir`), then renamed into place.

On any failure the temporary file or the staging folder goes and the target
is untouched. A folder's writer holds its lock (`exclusive`), which also
recovers what a killed writer left behind. The same module names what to do
about a write the disk refused (`disk_problem`) and hashes files (`sha256_file`),
which the release steps all need without loading the build.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Optional
from parallel_corpus.errors import Error

# Bytes read at once when hashing: a 100 MB article costs no memory spike.
_CHUNK = 1 << 20


# -- files ------------------------------------------------------------------------


@contextmanager
def atomic_file(path: Path, binary: bool = False) -> Iterator[IO[Any]]:
    """A file open for writing whose contents become the whole of `path`
    only when the block ends without an error (text: UTF-8, `\\n` newlines)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_lines_atomic(path: Path, lines: Iterable[str]) -> None:
    """Write `lines` (each ending in its own newline) as the whole of `path`."""
    with atomic_file(path) as fh:
        for line in lines:
            fh.write(line)


def sha256_file(path: Path) -> str:
    """sha256 of a file, read in chunks so that a large file costs no memory spike."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- folders ----------------------------------------------------------------------


class FolderBusy(Error, RuntimeError):
    """Another process holds the lock of the folder to be written."""


@contextmanager
def exclusive(target: Path, what: str) -> Iterator[None]:
    """Hold `<target>.lock` while writing `target`: two builds (or publishes)
    at once would otherwise swap half-written folders into place. The lock is
    an OS lock, released when the process dies, so it never goes stale; once
    it is held, what a killed writer left is recovered (`_remove_leftovers`)."""
    from filelock import FileLock, Timeout

    lock_path = target.with_name(f".{target.name}.lock")
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise FolderBusy(f"another {what} is writing {target} (it holds {lock_path}): wait for it to finish") from None
    try:
        _remove_leftovers(target)
        yield
    finally:
        lock.release()


@contextmanager
def staging_dir(target: Path) -> Iterator[Path]:
    """A fresh, empty folder beside `target` (`.<name>.xxxxxxxx`) to write the
    new `target` into; whatever of it is still there when the block ends (all
    of it when the block failed) is removed."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replace_dir(new: Path, target: Path) -> None:
    """Swap a fully written folder into place; a reader never sees half of it.

    Two renames: the previous folder aside (`.<name>.old.<pid>`), the new one
    in. A writer killed between them leaves the previous folder aside and no
    `target`: the next writer's `exclusive` puts it back."""
    if target.exists():
        old = target.with_name(f".{target.name}.old.{os.getpid()}")
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, target)


def place_new_dir(new: Path, target: Path) -> None:
    """Rename a fully written folder to `target`, which must not exist: what
    is published once is never replaced (FileExistsError if it is there)."""
    if target.exists() or target.is_symlink():
        raise FileExistsError(errno.EEXIST, "a published folder is never replaced", str(target))
    os.rename(new, target)


def _remove_leftovers(target: Path) -> None:
    """Staging and swapped-out folders (`.<name>.*`) of a writer that was killed: with
    the lock held no live writer owns one, and each may hold a whole corpus.

    A writer killed between the two renames of `replace_dir` leaves the
    previous folder as `.<name>.old.<pid>` and no `<name>`: that copy is put
    back first, so a kill never costs the last good build."""
    # Exactly what staging_dir (tempfile.mkdtemp) and replace_dir make, so the
    # staging of another target (".build.v2.xxxxxxxx" beside "build") is never touched.
    ours = re.compile(re.escape(f".{target.name}.") + r"([a-z0-9_]{8}|old\.[0-9]+)")
    leftovers = sorted(p for p in target.parent.glob(f".{target.name}.*") if ours.fullmatch(p.name) and p.is_dir() and not p.is_symlink())
    if not target.exists():
        saved = [p for p in leftovers if p.name.startswith(f".{target.name}.old.")]
        if saved:
            newest = max(saved, key=lambda p: p.stat().st_mtime)
            os.rename(newest, target)
            leftovers.remove(newest)
    for leftover in leftovers:
        shutil.rmtree(leftover, ignore_errors=True)


# -- what the disk refused ----------------------------------------------------------

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


@contextmanager
def disk_problems_as(error: Callable[[str], Error]) -> Iterator[None]:
    """Inside the block, a write that fails for a reason of the disk (full,
    read-only, no permission) raises `error(what to do)`, one line for the
    person running the build or the release; any other OSError is a bug and
    keeps its traceback."""
    try:
        yield
    except OSError as exc:
        problem = disk_problem(exc)
        if problem is None:
            raise
        raise error(problem) from None
