"""Faults: a full disk, a read-only target, a writer killed mid-swap, two
releases at once, a tree with uncommitted changes, a mistyped sha256.

Each meets the package where a user does and asserts one line that says
what to do, a non-zero exit, and that nothing was half-written or lost.
Full and read-only disks are real: a small tmpfs mounted for the test
(skipped, with the reason, where this machine does not allow mounting).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import (
    CLI,
    CORPUS,
    REPO,
    add_source,
    build_cli,
    error_lines,
    invoke,
    tree_bytes,
)

from parallel_corpus.engine.build import build
from parallel_corpus.files import exclusive
from parallel_corpus.release.publish import read_registry


@pytest.fixture
def mount(tmp_path):
    """mount(size, read_only=False) -> a fresh tmpfs folder of that size."""
    mounted: list[Path] = []

    def make(size: str, read_only: bool = False, before=None) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}): full and read-only disks are tested where it can")
        mounted.append(point)
        if before is not None:
            before(point)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
        return point

    yield make
    busy = []
    for point in reversed(mounted):
        if subprocess.run(["umount", str(point)], capture_output=True).returncode != 0:
            busy.append(point)
            subprocess.run(["umount", "-l", str(point)], capture_output=True)
    # A file the failed run left open keeps its disk busy.
    assert not busy, f"files left open on {busy}"


def set_version(corpus: Path, version: str) -> None:
    path = corpus / "dataset.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["version"] = version
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


# -- a full disk, a read-only target --------------------------------------------------


@pytest.mark.parametrize("size", ["40k", "80k", "120k"])  # full while spilling, writing Parquet, writing the report
def test_a_full_disk_during_build_is_one_line_and_leaves_nothing(corpus_copy, mount, size):
    disk = mount(size, before=lambda p: (p / "build").mkdir() or (p / "build" / "previous.txt").write_text("the last good build"))
    out = build_cli(corpus_copy, disk / "build")
    assert out.exit_code == 1
    assert error_lines(out) == [f"error: {disk / 'build'}: cannot write the build (no space left on the device: free some space, or write elsewhere); {disk / 'build'} is as it was"]
    assert sorted(p.name for p in disk.iterdir()) == [".build.lock", "build"]  # no staging folder left
    assert tree_bytes(disk / "build") == {"previous.txt": b"the last good build"}


def test_a_read_only_target_is_one_line_for_build_and_publish(corpus_copy, tmp_path, mount):
    assert build_cli(corpus_copy, tmp_path / "build").exit_code == 0
    disk = mount("1m", read_only=True)
    out = build_cli(corpus_copy, disk / "build")
    assert out.exit_code == 1
    assert error_lines(out) == [f"error: {disk / 'build'}: cannot write the build (the file system is read-only: write elsewhere); {disk / 'build'} is as it was"]
    out = invoke("publish", "--corpus", corpus_copy, "--build", tmp_path / "build", "--dist", disk / "dist", "--registry", tmp_path / "releases.jsonl")
    assert out.exit_code == 1
    assert error_lines(out) == [f"error: {disk / 'dist'}: cannot write the release (the file system is read-only: write elsewhere); nothing was published or registered"]
    assert list(disk.iterdir()) == []


def test_a_full_disk_during_publish_writes_no_release(corpus_copy, tmp_path, mount):
    assert build_cli(corpus_copy, tmp_path / "build").exit_code == 0
    disk = mount("60k")
    out = invoke("publish", "--corpus", corpus_copy, "--build", tmp_path / "build", "--dist", disk / "dist", "--registry", tmp_path / "releases.jsonl", "--release")
    assert out.exit_code == 1
    assert error_lines(out) == [f"error: {disk / 'dist'}: cannot write the release (no space left on the device: free some space, or write elsewhere); nothing was published or registered"]
    assert [p.name for p in (disk / "dist").iterdir()] == [".v1.0.1.lock"] or not any(p.is_dir() for p in (disk / "dist").iterdir())
    assert not (tmp_path / "releases.jsonl").exists()


# -- a writer killed between the two renames of the swap --------------------------------


def test_a_build_killed_mid_swap_keeps_the_last_good_build(corpus_copy, tmp_path):
    """The swap renames build/ aside, then the new one in. Killed between the
    two, only `.build.old.<pid>` is left: the next build puts it back first,
    so even a build that then fails leaves the last good one in place."""
    out_dir = tmp_path / "build"
    assert build_cli(corpus_copy, out_dir).exit_code == 0
    good = tree_bytes(out_dir)
    os.rename(out_dir, tmp_path / ".build.old.4242")  # the state a kill leaves
    # A build that fails: --strict with a file that cannot be read.
    (corpus_copy / "raw" / "broken.txt").write_bytes(b"\x00\x01binary")
    add_source(corpus_copy, "broken.txt", hashlib.sha256(b"\x00\x01binary").hexdigest())
    out = build_cli(corpus_copy, out_dir, "--strict")
    assert out.exit_code == 1
    assert tree_bytes(out_dir) == good
    assert not (tmp_path / ".build.old.4242").exists()


# -- two releases at once, an uncommitted tree -----------------------------------------------


def test_two_releases_at_once_both_reach_the_registry(corpus_copy, tmp_path):
    assert build_cli(corpus_copy, tmp_path / "build").exit_code == 0
    registry = tmp_path / "releases.jsonl"

    def start(version: str) -> subprocess.Popen:
        return subprocess.Popen(
            [*CLI, "publish", "--corpus", str(corpus_copy), "--build", str(tmp_path / "build"), "--dist", str(tmp_path / "dist"),
             "--registry", str(registry), "--version", version, "--release"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    runs = [start(v) for v in ("2.0.0", "2.0.1", "2.0.2")]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    assert set(read_registry(registry)) == {"2.0.0", "2.0.1", "2.0.2"}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_release_from_an_uncommitted_tree_is_refused(tmp_path):
    """The registry records HEAD: a release built from changes HEAD does not
    hold could never be rebuilt from it."""
    repo = tmp_path / "repo"
    shutil.copytree(CORPUS, repo / "corpus", ignore=shutil.ignore_patterns("releases.jsonl"))
    git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True, text=True)  # noqa: E731
    git("init", "-q")
    git("-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "corpus", "--allow-empty")
    git("add", "-A")
    git("-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "corpus")
    assert build_cli(repo / "corpus", tmp_path / "build").exit_code == 0
    (repo / "corpus" / "dataset.yaml").write_text((repo / "corpus" / "dataset.yaml").read_text() + "\n# a change\n")
    args = ["publish", "--corpus", repo / "corpus", "--build", tmp_path / "build", "--dist", tmp_path / "dist", "--release"]
    out = invoke(*args)
    assert out.exit_code == 1
    assert error_lines(out) == [f"error: {repo / 'corpus'}: 1 uncommitted change(s), first corpus/dataset.yaml: commit them first, so that the commit the registry records rebuilds this release"]
    assert not (tmp_path / "dist").exists() and not (repo / "corpus" / "releases.jsonl").exists()
    git("-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qam", "the change")
    out = invoke(*args)
    assert out.exit_code == 0, out.output
    entry = read_registry(repo / "corpus" / "releases.jsonl")["1.0.1"]
    assert entry["commit"] == git("rev-parse", "HEAD").stdout.strip()
    # Its documents were all released in these splits before: the record is unchanged.
    status = git("status", "--porcelain", "--", "corpus/splits.jsonl", "corpus/releases.jsonl").stdout.splitlines()
    assert status == ["?? corpus/releases.jsonl"]


# -- a mistyped sha256 -----------------------------------------------------------------


def test_a_mistyped_sha256_names_both_hashes_and_blocks_the_release(corpus_copy, tmp_path):
    """A typo in the last characters: the line shows both hashes whole and
    where they part, and the release that would lack the document is refused
    (its version is not used up)."""
    data = "Habari za Moscow\nKatibu Mkuu alikutana na viongozi wa Urusi mjini Moscow kujadili vita.\n".encode()
    (corpus_copy / "raw" / "typo.txt").write_bytes(data)
    real = hashlib.sha256(data).hexdigest()
    typo = real[:60] + ("0000" if real[60:] != "0000" else "1111")
    add_source(corpus_copy, "typo.txt", typo)
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0
    at = next(i for i, (a, b) in enumerate(zip(real, typo)) if a != b) + 1
    line = f"raw/typo.txt: sha256 is {real}, sources.jsonl says {typo} (they differ from character {at}): the bytes changed; restore the file or update its sha256 if the change is intended"
    assert f"skipped: {line}" in out.stderr.splitlines()
    out = invoke("publish", "--corpus", corpus_copy, "--build", tmp_path / "build", "--dist", tmp_path / "dist", "--registry", tmp_path / "releases.jsonl", "--release")
    assert out.exit_code == 1
    assert error_lines(out) == [f"error: the build in {tmp_path / 'build'} skipped 1 raw file(s), first {line}: fix them and build again, or pass --allow-skipped to publish without them"]
    assert not (tmp_path / "dist").exists() and not (tmp_path / "releases.jsonl").exists()
    assert json.loads((corpus_copy / "splits.jsonl").read_text().splitlines()[0])["release"] == "0.1.0"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A 300-document synthetic corpus and its uninterrupted build."""
    root = tmp_path_factory.mktemp("synthetic")
    made = subprocess.run([sys.executable, str(REPO / "scripts" / "make-synthetic-corpus"), "300", str(root / "corpus")], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    reference = root / "reference"
    build(root / "corpus", reference, annotations_dir=None, log=lambda m: None)
    return root / "corpus", tree_bytes(reference)


def _start_build(corpus: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "build", "--corpus", str(corpus), "--out", str(out), "--annotations", str(out.parent / "none"), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=out.parent)


def _wait_for_pass_one(out: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until the build's staging folder has its spill: the build is midway."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(out.parent.glob(f".{out.name}.*/spill/documents")):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("the build never started writing")


def test_a_build_killed_midway_leaves_no_partial_output_and_the_next_is_identical(synthetic, tmp_path):
    corpus, reference = synthetic
    out = tmp_path / "build"
    # First with no previous build, then with one in place: neither may be harmed.
    for previous in (None, CORPUS):
        if previous is not None:
            build(previous, out, annotations_dir=None, log=lambda m: None)
        before = tree_bytes(out) if out.exists() else None
        proc = _start_build(corpus, out)
        _wait_for_pass_one(out, proc)
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        assert (tree_bytes(out) if out.exists() else None) == before
    result = build_cli(corpus, out)
    assert result.exit_code == 0, result.output
    assert tree_bytes(out) == reference
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".build.")) == [".build.lock"]  # the dead builds' staging is gone


def test_two_builds_at_once_do_not_corrupt_each_other(synthetic, tmp_path):
    corpus, reference = synthetic
    out = tmp_path / "build"
    first = _start_build(corpus, out)
    _wait_for_pass_one(out, first)
    # The first build is held midway while the second runs: on a slow
    # machine it could otherwise end, and free the lock, before the second
    # has loaded its curated files and asked for it.
    first.send_signal(signal.SIGSTOP)
    try:
        second = build_cli(corpus, out)
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.exit_code == 1
    assert error_lines(second) == [f"error: another build is writing {out} (it holds {tmp_path / '.build.lock'}): wait for it to finish"]
    stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert tree_bytes(out) == reference
    assert build_cli(corpus, out).exit_code == 0  # the lock is free again once the first build ends


def test_a_publish_while_another_publishes_is_refused(tmp_path):
    build(CORPUS, tmp_path / "build", annotations_dir=None, log=lambda m: None)
    version = yaml.safe_load((CORPUS / "dataset.yaml").read_text(encoding="utf-8"))["version"]
    target = tmp_path / "dist" / f"v{version}"
    target.parent.mkdir()
    with exclusive(target, "publish"):
        out = invoke("publish", "--corpus", CORPUS, "--build", tmp_path / "build", "--dist", tmp_path / "dist", "--registry", tmp_path / "r.jsonl")
    assert out.exit_code == 1
    assert error_lines(out) == [f"error: another publish is writing {target} (it holds {target.parent / f'.v{version}.lock'}): wait for it to finish"]
    assert not target.exists()
