"""Incremental builds (engine/cache.py): a rebuild with the build cache runs
the per-document stages only on new or changed documents, and writes the
bytes a build without the cache writes.

The corpora are synthetic (scripts/synthetic/): their chrome recurs across
documents, so adding documents moves the corpus-level counts of recurring
segments, which cleaning reads; the tests check that this is seen.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from parallel_corpus.cli.commands import main
from parallel_corpus.engine import cache as cached
from parallel_corpus.engine.build import build
from synthetic import make_corpus

N = 150
EVERY = 4  # the smaller corpus lacks every EVERY-th document of the larger


def outputs(out: Path, pages: bool = False) -> dict[str, bytes]:
    """The build's Parquet files and report.json, by path; with `pages`, its
    audit page too."""
    found = {str(p.relative_to(out)): p.read_bytes() for p in sorted((out / "data").rglob("*.parquet"))}
    assert found, f"{out}: no Parquet"
    found["report.json"] = (out / "report.json").read_bytes()
    if pages:
        shown = {str(p.relative_to(out)): p.read_bytes() for p in sorted((out / "report").glob("*.html"))}
        assert shown, f"{out}: no audit page"
        found.update(shown, **{"report.html": (out / "report.html").read_bytes()})
    return found


def run(corpus: Path, out: Path, cache: Path | None = None, workers: int = 1, audit_page: bool = False, **options) -> Path:
    build(corpus, out, None, workers=workers, log=lambda m: None, audit_page=audit_page, cache=cache, **options)
    return out


def reused(caplog: pytest.LogCaptureFixture) -> tuple[int, int, int, int, int]:
    """(documents reused, documents, reused with new scores, cleaned again as
    their furniture changed, built in the build's own process) of the last build."""
    lines = [r.getMessage() for r in caplog.records if r.name == cached.__name__ and "documents reused" in r.getMessage()]
    assert lines, "the build said nothing of the cache"
    m = re.search(r"(\d+) of (\d+) documents reused \((\d+) with new boilerplate scores\).*; (\d+) cleaned again .*, (\d+) entries found unusable", lines[-1])
    assert m, lines[-1]
    caplog.clear()
    return int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5])


def copy_corpus(src: Path, dst: Path, keep=lambda i: True) -> Path:
    """A copy of a corpus folder with only the sources `keep(i)` accepts
    (their raw files hard-linked)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("raw", "gold-topics.tsv"))
    lines = (src / "sources.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for i, line in enumerate(lines) if keep(i)]
    (dst / "sources.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    for line in kept:
        name = json.loads(line)["file"]
        (dst / "raw" / name).parent.mkdir(parents=True, exist_ok=True)
        os.link(src / "raw" / name, dst / "raw" / name)
    return dst


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("incremental")
    full = root / "full"
    make_corpus(N, full, seed=3)
    fewer = copy_corpus(full, root / "fewer", keep=lambda i: i % EVERY != EVERY - 1)
    return {"full": full, "fewer": fewer, "clean": run(full, root / "clean", audit_page=True)}


@pytest.fixture
def caplog_info(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=cached.__name__)
    return caplog


# -- the same bytes ---------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_adding_documents_to_a_warm_cache_writes_the_bytes_of_a_clean_build(corpora, tmp_path, caplog_info, workers, monkeypatch):
    # The project allows pyarrow 15; pa.concat_batches came in 19.
    monkeypatch.delattr("pyarrow.concat_batches", raising=False)
    cache = tmp_path / "cache"
    run(corpora["fewer"], tmp_path / "fewer", cache, workers, audit_page=True)
    assert reused(caplog_info)[0] == 0
    warm = run(corpora["full"], tmp_path / "warm", cache, workers, audit_page=True)
    # The audit page too: the reused rows' articles come from the cache, and
    # those of rows with new scores are made again.
    assert outputs(warm, pages=True) == outputs(corpora["clean"], pages=True)
    hits, total, rescored, stale, here = reused(caplog_info)
    added = N // EVERY
    assert total == N
    # Adding documents moves some recurring segments past the threshold, so a
    # few documents of the smaller corpus are cleaned again, and moves the
    # counts of others, whose removals get their new scores.
    assert N - 3 * added <= hits < N - added
    assert hits + added + stale == N
    assert rescored >= 1
    # Those cleaned again are known before pass one: they go to the workers
    # with the new documents, none is built apart in the build's process.
    assert stale >= 1 and here == 0
    # And nothing changed: everything is reused.
    again = run(corpora["full"], tmp_path / "again", cache, workers, audit_page=True)
    assert outputs(again, pages=True) == outputs(corpora["clean"], pages=True)
    assert reused(caplog_info)[:2] == (N, N)


def test_spawned_workers_serve_the_cache_as_forked_ones(corpora, tmp_path, caplog_info, monkeypatch):
    # macOS starts pool workers by spawning: they load the stages and open
    # the cache folder themselves instead of inheriting them.
    from parallel_corpus.engine import executors

    monkeypatch.setattr(executors.sys, "platform", "darwin")
    cache = tmp_path / "cache"
    run(corpora["fewer"], tmp_path / "fewer", cache, 2)
    assert reused(caplog_info)[0] == 0
    warm = run(corpora["full"], tmp_path / "warm", cache, 2)
    assert outputs(warm) == outputs(corpora["clean"])
    hits, total, _, stale, here = reused(caplog_info)
    assert total == N and hits + N // EVERY + stale == N and stale >= 1 and here == 0


def test_a_cache_filled_without_the_audit_page_serves_a_build_with_it(corpora, tmp_path, caplog_info):
    # Rows stored without their articles have them made when the page is written.
    cache = tmp_path / "cache"
    run(corpora["full"], tmp_path / "without", cache)
    assert reused(caplog_info)[0] == 0
    with_page = run(corpora["full"], tmp_path / "with", cache, audit_page=True)
    assert reused(caplog_info)[:2] == (N, N)
    assert outputs(with_page, pages=True) == outputs(corpora["clean"], pages=True)


def test_a_changed_curated_file_serves_nothing_from_the_cache(corpora, tmp_path, caplog_info):
    corpus = copy_corpus(corpora["full"], tmp_path / "corpus")
    cache = tmp_path / "cache"
    run(corpus, tmp_path / "first", cache)
    reused(caplog_info)
    cleaning = corpus / "cleaning.yaml"
    text = cleaning.read_text(encoding="utf-8")
    assert "  boilerplate_min_documents: 3\n" in text
    cleaning.write_text(text.replace("  boilerplate_min_documents: 3\n", "  boilerplate_min_documents: 2\n"), encoding="utf-8")
    changed = run(corpus, tmp_path / "changed", cache)
    assert reused(caplog_info)[0] == 0
    assert outputs(changed) == outputs(run(corpus, tmp_path / "clean"))
    assert outputs(changed) != outputs(corpora["clean"]), "the change must change the output, or this test proves nothing"


def test_a_raw_file_changed_under_the_same_name_is_not_served_from_the_cache(corpora, tmp_path, caplog_info):
    corpus = copy_corpus(corpora["full"], tmp_path / "corpus")
    cache = tmp_path / "cache"
    run(corpus, tmp_path / "first", cache)
    reused(caplog_info)
    sources = [json.loads(line) for line in (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()]
    # Its bytes changed, sources.jsonl not: a clean build skips it.
    target = corpus / "raw" / sources[5]["file"]
    data = target.read_bytes()
    target.unlink()  # hard-linked to the module's corpus: not written through
    target.write_bytes(data.replace(b"\n", b"\n\n", 1))
    warm = run(corpus, tmp_path / "warm", cache)
    assert reused(caplog_info)[0] == N - 1
    report = json.loads((warm / "report.json").read_text(encoding="utf-8"))
    assert [s["reason"] for s in report["skipped"] if s["id"] == sources[5]["id"]] == ["sha256_mismatch"]
    assert outputs(warm) == outputs(run(corpus, tmp_path / "clean"))


# -- a broken, deleted, full or shared cache ----------------------------------------------


def test_broken_entries_are_misses_never_errors(corpora, tmp_path, caplog_info, monkeypatch):
    monkeypatch.setattr(cached, "BLOCK_SOURCES", 32)  # a pack per 32 documents
    cache = tmp_path / "cache"
    run(corpora["full"], tmp_path / "first", cache)
    reused(caplog_info)
    docs = sorted((cache / f"v{cached.FORMAT}" / "docs").rglob("*"))
    docs = [p for p in docs if p.is_file()]
    packs = [p for p in sorted((cache / f"v{cached.FORMAT}" / "packs").rglob("*")) if p.is_file()]
    assert len(docs) == N and len(packs) >= 3
    docs[0].write_bytes(docs[0].read_bytes()[:-7])  # truncated
    data = bytearray(docs[1].read_bytes())
    data[len(data) // 2] ^= 0x40  # one bit flipped
    docs[1].write_bytes(bytes(data))
    docs[2].write_bytes(b"")
    docs[3].write_bytes(b"not an entry at all, but long enough to have a header")
    # The header's uncompressed size, said one byte short and one long, with
    # a checksum that agrees: decompressing is what must fail.
    for path, step in ((docs[4], -1), (docs[5], +1), (packs[2], -1)):
        data = bytearray(path.read_bytes())
        data[20:24] = (int.from_bytes(data[20:24], "little") + step).to_bytes(4, "little")
        data[8:12] = zlib.crc32(data[12:]).to_bytes(4, "little")
        path.write_bytes(bytes(data))
    # Well-formed files whose signature is not one (cut short), or is another
    # document's: read back, they would fail the build or misplace a document.
    writer = cached.BuildCache(cache, b"")
    for path, other in ((docs[6], None), (docs[7], docs[8])):
        keys, asked, _, _ = writer._read("docs", path.name)
        plain = writer._plain("docs", path.name)
        (length,) = struct.unpack_from("<I", plain)
        if other is None:
            signature = plain[4 + length :][:20]
        else:
            theirs = writer._plain("docs", other.name)
            signature = theirs[4 + struct.unpack_from("<I", theirs)[0] :]
        assert writer._write("docs", path.name, plain[: 4 + length] + signature, bytes(keys), bytes(asked))
    packs[0].write_bytes(packs[0].read_bytes()[:100])  # its documents lose their rows
    packs[1].unlink()
    index_file(cache).unlink()  # the entries, not the index, say where each result is
    warm = run(corpora["full"], tmp_path / "warm", cache)
    assert outputs(warm) == outputs(corpora["clean"])
    hits, total, _, _, here = reused(caplog_info)
    assert total == N and hits < N - 8
    # Entries whose pack is gone or broken are found so only when read.
    assert here >= 1
    # The broken entries were written again (and the index).
    index_file(cache)
    again = run(corpora["full"], tmp_path / "again", cache)
    assert outputs(again) == outputs(corpora["clean"])
    assert reused(caplog_info)[:2] == (N, N)


def segment_lists(caplog: pytest.LogCaptureFixture) -> tuple[int, int]:
    """(segment lists read back, sources) of the last build's count."""
    lines = [r.getMessage() for r in caplog.records if r.name == cached.__name__ and "segment lists" in r.getMessage()]
    m = re.search(r"(\d+) of (\d+) segment lists", lines[-1])
    assert m, lines[-1]
    return int(m[1]), int(m[2])


def index_file(cache: Path) -> Path:
    found = [p for p in (cache / f"v{cached.FORMAT}" / "index").rglob("*") if p.is_file()]
    assert len(found) == 1, found
    return found[0]


def test_a_rebuild_reads_the_index_and_the_packs_not_the_entries(corpora, tmp_path, caplog_info):
    cache = tmp_path / "cache"
    run(corpora["full"], tmp_path / "first", cache)
    reused(caplog_info)
    # Without a single entry, the count still finds every document's
    # segments, and pass one every document's result, where the index says.
    shutil.rmtree(cache / f"v{cached.FORMAT}" / "docs")
    warm = run(corpora["full"], tmp_path / "warm", cache)
    assert segment_lists(caplog_info) == (N, N)
    assert reused(caplog_info)[:2] == (N, N)
    assert outputs(warm) == outputs(corpora["clean"])
    # Without the packs, the index says where results were: each is a miss,
    # found so in the worker, and built there again.
    shutil.rmtree(cache / f"v{cached.FORMAT}" / "packs")
    again = run(corpora["full"], tmp_path / "again", cache)
    hits, total, _, _, here = reused(caplog_info)
    assert (hits, total, here) == (0, N, N)
    assert outputs(again) == outputs(corpora["clean"])


def test_an_index_that_places_results_wrongly_serves_no_wrong_row(corpora, tmp_path, caplog_info):
    cache = tmp_path / "cache"
    run(corpora["full"], tmp_path / "first", cache)
    reused(caplog_info)
    path = index_file(cache)
    reader = cached.BuildCache(cache, b"")
    index = cached._Index.of(reader._plain("index", path.name))
    # Whole, with a checksum that agrees, but every result one row further
    # on in its pack (the last of each pack past its end): read as it says,
    # each document would get its neighbour's row.
    plain = bytearray(reader._plain("index", path.name))
    n = len(index.row)
    at = cached._INDEX_HEADER.size + (32 + cached.STAMP_BYTES + 8 * 3) * n
    rows = index.row_of.copy()
    rows[rows >= 0] += 1
    plain[at : at + 8 * n] = rows.astype("<i8").tobytes()
    assert cached._Index.of(bytes(plain)) is not None
    assert reader._write("index", path.name, bytes(plain))
    warm = run(corpora["full"], tmp_path / "warm", cache)
    # Each row's id is not its document's: the entries say where it is.
    assert reused(caplog_info)[:2] == (N, N)
    assert outputs(warm) == outputs(corpora["clean"])


@pytest.mark.parametrize("damage", ["truncated", "bit", "ends"])
def test_a_broken_index_is_read_as_none(corpora, tmp_path, caplog_info, damage):
    cache = tmp_path / "cache"
    run(corpora["full"], tmp_path / "first", cache)
    reused(caplog_info)
    path = index_file(cache)
    reader = cached.BuildCache(cache, b"")
    plain = reader._plain("index", path.name)
    assert cached._Index.of(plain) is not None
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-9])
    elif damage == "bit":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 1
        path.write_bytes(bytes(data))
    else:
        # Whole and with a checksum that agrees, but one document's keys end
        # before the previous one's: read as it says, keys would shift.
        n = struct.unpack_from("<Q", plain)[0]
        data = bytearray(plain)
        at = cached._INDEX_HEADER.size + (32 + cached.STAMP_BYTES) * n + 8 * 3
        data[at : at + 8] = (0).to_bytes(8, "little")
        assert cached._Index.of(bytes(data)) is None
        assert reader._write("index", path.name, bytes(data))
    warm = run(corpora["full"], tmp_path / "warm", cache)
    # The count read the entries instead, and the build wrote a whole index.
    assert segment_lists(caplog_info) == (N, N)
    assert reused(caplog_info)[:2] == (N, N)
    assert outputs(warm) == outputs(corpora["clean"])
    assert cached._Index.of(reader._plain("index", path.name)) is not None


def test_a_raw_file_is_read_again_only_when_its_status_changed(tmp_path, monkeypatch):
    from parallel_corpus.corpus import Corpus, Source

    raw = tmp_path / "corpus" / "raw"
    raw.mkdir(parents=True)
    path = raw / "a.txt"
    path.write_bytes(b"first words\n")
    source = Source("a", "a.txt", "0" * 64, "sw", None, None, None, None)
    corpus = Corpus(tmp_path / "corpus")
    # Just written: its status could still change within the same tick.
    files = cached.RawFiles(corpus)
    assert files.sha256(source) == hashlib.sha256(b"first words\n").digest() and files.stamp == b""
    monkeypatch.setattr(cached, "SETTLED_SECONDS", 0.0)
    files.sha256(source)
    status, digest = files.stamp[:-32], files.stamp[-32:]
    assert digest == hashlib.sha256(b"first words\n").digest()
    # A file whose status is known is not read: what is known is its digest.
    told = cached.RawFiles(corpus, {status: b"\1" * 32})
    assert told.sha256(source) == b"\1" * 32 and told.stamp == status + b"\1" * 32
    # Changed in place, its size and modified time put back: its changed
    # time is the kernel's, so it is read again.
    st = path.stat()
    time.sleep(0.01)
    with open(path, "r+b") as fh:
        fh.write(b"F")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert told.sha256(source) == hashlib.sha256(b"First words\n").digest()


def test_the_index_knows_every_settled_raw_file(corpora, tmp_path, caplog_info, monkeypatch):
    monkeypatch.setattr(cached, "SETTLED_SECONDS", 0.0)
    cache = tmp_path / "cache"
    run(corpora["full"], tmp_path / "first", cache, 2)
    reader = cached.BuildCache(cache, b"")
    index = cached._Index.of(reader._plain("index", index_file(cache).name))
    assert len(index.known()) == N
    reused(caplog_info)
    assert outputs(run(corpora["full"], tmp_path / "warm", cache, 2)) == outputs(corpora["clean"])
    assert reused(caplog_info)[:2] == (N, N)


def test_a_cache_that_cannot_be_written_or_is_deleted_never_fails_the_build(corpora, tmp_path, caplog_info):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    out = run(corpora["full"], tmp_path / "blocked", blocked)
    assert outputs(out) == outputs(corpora["clean"])
    assert any("cannot write" in r.getMessage() for r in caplog_info.records)
    cache = tmp_path / "cache"
    run(corpora["full"], tmp_path / "first", cache)
    shutil.rmtree(cache)
    assert outputs(run(corpora["full"], tmp_path / "after", cache)) == outputs(corpora["clean"])


def test_the_cache_stays_under_its_limit_dropping_the_least_recently_used(tmp_path):
    folder = tmp_path / "cache"
    shard = folder / f"v{cached.FORMAT}" / "docs" / "ab"
    shard.mkdir(parents=True)
    now = time.time()
    for i in range(10):
        path = shard / f"ab{i:062d}"
        path.write_bytes(b"x" * 1000)
        os.utime(path, (now - 1000 + i, now - 1000 + i))
    old = folder / "v0" / "packs" / "cd"  # a former format's files go first, however new
    old.mkdir(parents=True)
    (old / ("cd" * 32)).write_bytes(b"y" * 1000)
    os.utime(old / ("cd" * 32), (now, now))
    left = cached.trim(folder, 5000)
    assert left <= 5000 * 0.8
    assert sorted(p.name[-1] for p in shard.iterdir()) == ["6", "7", "8", "9"]
    assert not list(old.iterdir())


def test_a_build_keeps_the_cache_under_its_limit(corpora, tmp_path):
    cache = tmp_path / "cache"
    limit = 300_000
    out = run(corpora["full"], tmp_path / "out", cache, cache_limit_bytes=limit)
    assert outputs(out) == outputs(corpora["clean"])
    held = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file() and p.parent.parent.name in ("docs", "packs"))
    assert 0 < held <= limit
    # What is left still serves, and what was dropped is built again.
    assert outputs(run(corpora["full"], tmp_path / "again", cache, cache_limit_bytes=limit)) == outputs(corpora["clean"])


def test_two_builds_at_once_share_the_cache(corpora, tmp_path):
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k != "PARALLEL_CORPUS_NO_CACHE"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "parallel_corpus", "build", "--corpus", str(corpora["full"]), "--out", str(tmp_path / f"out{i}"),
             "--annotations", str(tmp_path / "none"), "-q", "--no-audit-page", "--cache", str(cache)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for i in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    for i in range(2):
        assert outputs(tmp_path / f"out{i}") == outputs(corpora["clean"])
    assert not [p for p in cache.rglob(".*") if p.is_file() and ".tmp" in p.name], "a temporary file was left"
    assert outputs(run(corpora["full"], tmp_path / "after", cache)) == outputs(corpora["clean"])


# -- what the key covers, where the cache lives -------------------------------------------


def test_the_fingerprint_covers_every_corpus_file_the_stages_read(corpora):
    """The stages may read, of the corpus, only the curated files the
    fingerprint hashes, dataset.yaml (whose seed and languages it hashes),
    sources.jsonl and raw/: a new curated file read by the stages must be
    added to cache.STAGE_FILES."""
    from parallel_corpus.stages.document import Stages, process

    corpus = corpora["full"].resolve()
    opened: list[Path] = []
    watching = [True]

    def hook(event: str, args: tuple) -> None:
        if watching[0] and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path = Path(os.fsdecode(args[0]))
            if path.is_absolute() and path.resolve().is_relative_to(corpus):
                opened.append(path.resolve().relative_to(corpus))

    sys.addaudithook(hook)
    try:
        stages = Stages.load(corpus, 0)
        sources = stages.corpus.source_list()
        stages.count_boilerplate(sources[:20])
        for source in sources[:20]:
            process(source, stages)
    finally:
        watching[0] = False
    names = {p.as_posix() for p in opened}
    assert set(cached.STAGE_FILES) & names, "the hook saw no curated file: it does not watch what it should"
    allowed = set(cached.STAGE_FILES) | {"dataset.yaml", "sources.jsonl"}
    assert {n for n in names if n not in allowed and not n.startswith("raw/")} == set()


def test_the_fingerprint_hashes_every_file_of_the_package_and_its_schemas(corpora):
    """In a checkout, the package's schemas/ is a link to the top-level
    folder; the column types there decide how cached rows are read back."""
    import parallel_corpus
    from parallel_corpus import schema
    from parallel_corpus.corpus import Corpus

    names = {name for name, _ in cached.fingerprint_parts(Corpus(corpora["full"]), 0)}
    package = Path(parallel_corpus.__file__).parent
    schemas = sorted(p.name for p in schema.schemas_dir().glob("*.schema.json"))
    assert schemas and {f"code:schemas/{n}" for n in schemas} <= names
    modules = {f"code:{p.relative_to(package).as_posix()}" for p in package.rglob("*.py") if "__pycache__" not in p.parts}
    assert modules <= names
    assert any(n.startswith("profile:") for n in names) and {f"corpus:{n}" for n in cached.STAGE_FILES} <= names


def test_without_a_home_folder_the_build_goes_on_without_a_cache(corpora, tmp_path, monkeypatch):
    monkeypatch.delenv("PARALLEL_CORPUS_NO_CACHE", raising=False)
    monkeypatch.delenv("PARALLEL_CORPUS_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert cached.default_dir() is None
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpora["fewer"]), "--out", str(tmp_path / "out"), "--annotations", str(tmp_path / "none"), "-q", "--no-audit-page"])
    assert result.exit_code == 0, result.output
    assert "note: no home folder for the build cache" in result.output
    assert outputs(tmp_path / "out")


def test_the_fingerprint_changes_with_each_curated_file_and_the_seed(corpora, tmp_path):
    from parallel_corpus.corpus import Corpus

    corpus = copy_corpus(corpora["full"], tmp_path / "corpus")
    seen = {cached.fingerprint(Corpus(corpus), 0), cached.fingerprint(Corpus(corpus), 1)}
    for name in cached.STAGE_FILES:
        path = corpus / name
        path.write_bytes(path.read_bytes() + b"\n# changed\n")
        seen.add(cached.fingerprint(Corpus(corpus), 0))
    assert len(seen) == 2 + len(cached.STAGE_FILES)


def test_the_command_line_caches_by_default_and_not_when_told(corpora, tmp_path, monkeypatch):
    monkeypatch.delenv("PARALLEL_CORPUS_NO_CACHE", raising=False)
    monkeypatch.delenv("PARALLEL_CORPUS_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    def cli(out: str, *options: str) -> None:
        result = CliRunner().invoke(main, ["build", "--corpus", str(corpora["fewer"]), "--out", str(tmp_path / out), "--annotations", str(tmp_path / "none"), "-q", "--no-audit-page", *options])
        assert result.exit_code == 0, result.output

    cli("a")
    assert list((tmp_path / "xdg" / "parallel-corpus" / f"v{cached.FORMAT}" / "docs").rglob("*"))
    cli("b", "--no-cache", "--cache", str(tmp_path / "never"))
    assert not (tmp_path / "never").exists()
    monkeypatch.setenv("PARALLEL_CORPUS_NO_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-unused"))
    cli("c")
    assert not (tmp_path / "xdg-unused").exists()
    cli("d", "--cache", str(tmp_path / "explicit"))  # an explicit folder wins over the variable
    assert (tmp_path / "explicit").is_dir()
    assert outputs(tmp_path / "a") == outputs(tmp_path / "b") == outputs(tmp_path / "c") == outputs(tmp_path / "d")
