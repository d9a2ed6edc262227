"""Giving freed memory back to the system between the build's stages.

Arrow runs on the system allocator in the CLI (see `cli`). On Linux that is
glibc's malloc, which keeps the pages of freed blocks in its heaps for later
use; a build that frees a stage's batches and starts another then holds both
stages' pages, and its peak memory grows with the corpus although its live
data does not. `malloc_trim` returns whole free pages to the system.
Elsewhere (macOS, musl) this module does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache
from typing import Any, Optional

__all__ = ["give_back"]


@lru_cache(maxsize=1)
def _malloc_trim() -> Optional[Any]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def give_back() -> None:
    """Return free heap pages to the system; cheap (milliseconds), so it is
    called after each stage and each large batch."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
