"""files: a file or folder is either the old one or the new one, never half,
and what a killed writer left is recovered by the next one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from parallel_corpus.files import atomic_file, exclusive, place_new_dir, replace_dir, sha256_file, staging_dir, write_lines_atomic


def test_a_file_written_atomically_is_old_or_new_never_half(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "a.jsonl"
    write_lines_atomic(path, ["one\n", "two\n"])
    assert path.read_text(encoding="utf-8") == "one\ntwo\n"
    with pytest.raises(RuntimeError):
        with atomic_file(path) as fh:
            fh.write("half")
            raise RuntimeError("killed")
    assert path.read_text(encoding="utf-8") == "one\ntwo\n"
    with atomic_file(path, binary=True) as fh:
        fh.write(b"\x00bytes")
    assert path.read_bytes() == b"\x00bytes"
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.jsonl"]


def test_sha256_of_a_file_is_that_of_its_bytes(tmp_path: Path) -> None:
    data = os.urandom(3 << 20)
    (tmp_path / "big").write_bytes(data)
    assert sha256_file(tmp_path / "big") == hashlib.sha256(data).hexdigest()


def test_a_staging_folder_goes_whether_the_block_fails_or_it_was_moved(tmp_path: Path) -> None:
    target = tmp_path / "build"
    with pytest.raises(RuntimeError):
        with staging_dir(target) as staging:
            (staging / "half.parquet").write_bytes(b"half")
            raise RuntimeError("full disk")
    assert list(tmp_path.iterdir()) == []
    with staging_dir(target) as staging:
        (staging / "data").write_text("new")
        replace_dir(staging, target)
    assert [p.name for p in tmp_path.iterdir()] == ["build"] and (target / "data").read_text() == "new"


def test_a_folder_swapped_in_replaces_the_old_one_whole(tmp_path: Path) -> None:
    target = tmp_path / "build"
    target.mkdir()
    (target / "old").write_text("old")
    new = tmp_path / "new"
    new.mkdir()
    (new / "new").write_text("new")
    replace_dir(new, target)
    assert [p.name for p in target.iterdir()] == ["new"] and sorted(p.name for p in tmp_path.iterdir()) == ["build"]


def test_a_published_folder_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "v1.0.0"
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    (first / "README.md").write_text("first")
    second.mkdir()
    place_new_dir(first, target)
    with pytest.raises(FileExistsError):
        place_new_dir(second, target)
    assert (target / "README.md").read_text() == "first" and second.is_dir()


def test_the_lock_puts_back_the_folder_a_killed_swap_set_aside_and_clears_stagings(tmp_path: Path) -> None:
    target = tmp_path / "build"
    aside = tmp_path / ".build.old.4242"
    aside.mkdir()
    (aside / "good").write_text("the last good build")
    (tmp_path / ".build.abcd_123").mkdir()  # a killed writer's staging
    (tmp_path / ".build.v2.abcd_123").mkdir()  # another target's staging: not ours
    with exclusive(target, "build"):
        assert (target / "good").read_text() == "the last good build"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".build.lock", ".build.v2.abcd_123", "build"]
