"""Giving freed memory back to the system, so that a build's peak follows
its largest batch and not the corpus size.

Two allocators hold on to freed pages. Arrow's default (mimalloc) keeps
them for reuse, and across the build's stages they add up: the CLI runs
Arrow on jemalloc told to return them within a second (on Linux; elsewhere
on the system allocator). glibc's malloc, which Python objects and the system
allocator use, keeps the pages of freed blocks in its heaps. `give_back`
asks both for their free pages after each stage and each large batch.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import lru_cache
from typing import Any, Optional

__all__ = ["choose_arrow_allocator", "arrow_returns_pages", "give_back"]


def choose_arrow_allocator() -> None:
    """Pick Arrow's allocator; Arrow reads the choice once, when pyarrow
    loads, so this runs before anything imports pyarrow. A value the user
    set in ARROW_DEFAULT_MEMORY_POOL wins."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc" if sys.platform.startswith("linux") else "system")


# How long jemalloc keeps pages freed before it returns them (ms). At 0,
# every buffer freed went back at once and the next batch's faulted in
# again: a 100,000-document rebuild spent 3.8 s more of the system's time
# in the driver and the audit page (49.8 s against 45.8 s), at the same
# peak (1,654 MB against 1,645 MB, summed over its processes); a clean
# build of 10,000 documents peaked at 1,100 MB and 1,096 MB. `give_back`
# still returns them after each stage and each `parallel` bucket.
DECAY_MS = 1000


def arrow_returns_pages() -> None:
    """jemalloc returns freed pages within DECAY_MS (forked workers
    inherit the setting); other allocators are left as they are."""
    import pyarrow as pa

    if pa.default_memory_pool().backend_name == "jemalloc":
        pa.jemalloc_set_decay_ms(DECAY_MS)


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
    """Return the free pages Arrow's pool and glibc's heap hold to the
    system (glibc's on Linux only). Cheap, a few milliseconds, so it runs
    after each stage and each large batch, whichever allocator Arrow runs
    on (a program calling `build()` keeps its own)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
