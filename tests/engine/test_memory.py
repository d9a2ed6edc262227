"""Freed memory goes back to the system between the build's stages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from parallel_corpus.engine.memory import _malloc_trim, give_back


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux") or _malloc_trim() is None, reason="malloc_trim is glibc's (Linux) only")
def test_freed_heap_pages_go_back_to_the_system() -> None:
    # 200 MB in blocks of 4 kB: each below glibc's mmap threshold, so they
    # live in the heap. Keeping the last one alive pins the heap's top, and
    # free() alone can give nothing back.
    blocks = [bytearray(4000) for _ in range(50_000)]
    keep = blocks[-1]
    del blocks
    held = _rss_mb()
    give_back()
    after = _rss_mb()
    assert keep is not None
    assert held - after > 100, f"RSS {held:.0f} MB before give_back, {after:.0f} MB after"

