"""Raw articles nobody vetted: empty, binary, mis-encoded, huge, missing,
duplicated, out of raw/ or a folder. Each is named with its row and what to
do; the build skips it (or, with --strict, stops writing nothing) and the rest
builds."""

from __future__ import annotations

import hashlib
import json
import time

import pyarrow.parquet as pq
import pytest
from conftest import (
    CORPUS,
    SWAHILI_ID,
    add_raw,
    add_source,
    break_sources_file,
    build_cli,
    error_lines,
    invoke,
    tree_bytes,
)

from parallel_corpus.engine.build import build
from parallel_corpus.release.publish import publish

BAD_RAW = {
    "empty.txt": (b"", "raw/empty.txt: empty file: remove it from sources.jsonl or replace it with the article"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01", "raw/binary.txt: binary file (NUL bytes, no UTF-16 BOM): not a text article: remove it from sources.jsonl or replace it with the article"),
    "latin1.txt": (
        "Habari za leo: mazungumzo ya amani — Urusi na Ukraine yameanza tena mjini Nairobi.".encode("cp1252"),
        'raw/latin1.txt: not UTF-8 (byte 35) and no encoding declared: add "encoding": "<codec>" to its line in sources.jsonl',
    ),
}


def test_bad_raw_files_are_skipped_named_and_counted_and_the_rest_builds(corpus_copy, tmp_path):
    for name, (data, _) in BAD_RAW.items():
        add_raw(corpus_copy, name, data)
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0, out.output
    for name, (_, message) in BAD_RAW.items():
        assert f"skipped: {message}" in out.stderr.splitlines()
    assert "built 5 documents (ar 2, hi 1, sw 2), 2 topics, skipped 3" in out.stdout
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    assert report["num_skipped"] == 3 and report["num_documents"] == 5
    assert {s["file"]: s["message"] for s in report["skipped"]} == {n: m for n, (_, m) in BAD_RAW.items()}
    # Publishing it would use up a version for a release without them: refused, naming the first.
    out = invoke("publish", "--corpus", corpus_copy, "--build", tmp_path / "build", "--dist", tmp_path / "dist", "--registry", tmp_path / "releases.jsonl")
    assert out.exit_code == 1
    assert error_lines(out) == [
        f"error: the build in {tmp_path / 'build'} skipped 3 raw file(s), first {report['skipped'][0]['message']}: "
        "fix them and build again, or pass --allow-skipped to publish without them"
    ]
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").iterdir())
    published = publish(corpus_copy, tmp_path / "build", tmp_path / "dist", registry=tmp_path / "releases.jsonl", allow_skipped=True)
    assert published.skipped_documents == 3


def test_strict_build_writes_nothing_and_keeps_the_previous_build(corpus_copy, tmp_path):
    out_dir = tmp_path / "build"
    assert build_cli(corpus_copy, out_dir).exit_code == 0
    before = tree_bytes(out_dir)
    for name, (data, _) in BAD_RAW.items():
        add_raw(corpus_copy, name, data)
    out = build_cli(corpus_copy, out_dir, "--strict")
    assert out.exit_code == 1
    assert error_lines(out) == [
        "error: 3 raw file(s) skipped and --strict is set: nothing written (first: raw/binary.txt: binary file (NUL bytes, no UTF-16 BOM): "
        "not a text article: remove it from sources.jsonl or replace it with the article)"
    ]
    assert tree_bytes(out_dir) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".build.") and p.is_dir()]


@pytest.mark.slow
def test_a_very_large_raw_file_is_streamed_not_refused(corpus_copy, tmp_path):
    """A 20 MB article builds whole (the issue asks for 100 MB). Measured on this
    machine: 5 MB builds in 13 s (840 MB peak RSS), 20 MB in 48 s (2.9 GB peak RSS),
    so 100 MB would take ~4-5 minutes and ~14 GB. Three quarters of the time, and
    most of the memory, is langid's per-block posterior (langdetect n-grams of each
    of ~55k paragraphs); the rest is cleaning and entity matching (see the report
    of issue 8). 20 MB is the largest size that runs in about 60 s."""
    paragraphs = [l for l in (CORPUS / "raw" / f"{SWAHILI_ID}.txt").read_text(encoding="utf-8").split("\n") if len(l) > 80]
    parts, size, i = [], 0, 0
    while size < 20_000_000:
        i += 1
        parts.append(f"{paragraphs[i % len(paragraphs)]} (sehemu {i})")
        size += len(parts[-1].encode("utf-8")) + 2
    data = "\n\n".join(parts).encode("utf-8")
    add_raw(corpus_copy, "big.txt", data)
    t0 = time.monotonic()
    report = build(corpus_copy, tmp_path / "build", annotations_dir=None, log=lambda m: None)
    seconds = time.monotonic() - t0
    assert report.skipped == []
    big = pq.read_table(tmp_path / "build" / "data" / "documents" / "train-00000-of-00001.parquet", filters=[("id", "=", "big")]).to_pylist()
    assert len(big) == 1 and big[0]["num_chars"] > 19_000_000 and len(big[0]["blocks"]) == i
    print(f"\n20 MB raw file built in {seconds:.1f} s")


def test_unlisted_file_warns_at_build_and_fails_validate(corpus_copy, tmp_path):
    (corpus_copy / "raw" / "stray.txt").write_text("Habari za leo.", encoding="utf-8")
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0
    assert "warning: raw/stray.txt is not listed in sources.jsonl; it is not built (add a line for it)" in out.stderr
    assert json.loads((tmp_path / "build" / "report.json").read_text())["unlisted_files"] == ["stray.txt"]
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1
    assert f"{corpus_copy / 'raw' / 'stray.txt'}:-:-: not listed in sources.jsonl: add a line for it or remove the file" in val.stdout


def test_unlisted_files_are_found_in_subfolders_not_through_links_nor_dot_names(tmp_path):
    from parallel_corpus.engine.build import _files_under

    raw = tmp_path / "raw"
    (raw / "2024" / "05").mkdir(parents=True)
    (raw / ".hidden-folder").mkdir()
    (raw / "a.txt").write_text("a")
    (raw / "2024" / "05" / "b.txt").write_text("b")
    (raw / "2024" / ".partial").write_text("c")
    (raw / ".hidden-folder" / "d.txt").write_text("d")
    (raw / "link.txt").symlink_to(raw / "a.txt")
    (raw / "broken.txt").symlink_to(tmp_path / "nowhere")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "e.txt").write_text("e")
    (raw / "linked-folder").symlink_to(elsewhere)
    found = sorted(_files_under(str(raw)))
    assert found == [".hidden-folder/d.txt", "2024/05/b.txt", "a.txt", "link.txt"]
    # What Path.rglob finds, the way the build listed them before.
    assert found == sorted(str(p.relative_to(raw)) for p in raw.rglob("*") if p.is_file() and not p.name.startswith("."))


def test_listed_file_missing_from_disk_is_skipped_with_its_row(corpus_copy, tmp_path):
    row = add_source(corpus_copy, "gone.txt", "0" * 64)
    message = f"{corpus_copy / 'sources.jsonl'}:{row}:file: raw/gone.txt does not exist: restore the file or remove its line"
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0 and f"skipped: {message}" in out.stderr
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    assert [s["file"] for s in report["skipped"]] == ["gone.txt"]
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1 and message in val.stdout


def test_duplicate_documents_are_reported_and_published_once(corpus_copy, tmp_path):
    original = (CORPUS / "raw" / f"{SWAHILI_ID}.txt").read_bytes()
    add_raw(corpus_copy, "same_bytes.txt", original)  # the same bytes under another id
    chrome = b"Share this article\nAdvertisement\n\n" + original + b"\n\nMost read\nSubscribe\n"
    add_raw(corpus_copy, "other_chrome.txt", chrome)  # the same article, other site chrome around it
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0, out.output
    for name in ("same_bytes.txt", "other_chrome.txt"):
        assert f"skipped: raw/{name}: same text as {SWAHILI_ID} after cleaning; built once" in out.stderr
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    assert sorted((s["file"], s["reason"]) for s in report["skipped"]) == [("other_chrome.txt", "duplicate"), ("same_bytes.txt", "duplicate")]
    release = publish(corpus_copy, tmp_path / "build", tmp_path / "dist", registry=tmp_path / "releases.jsonl")
    docs = pq.read_table(release.path / "data" / "documents" / "train-00000-of-00001.parquet", columns=["id", "text_sha256"]).to_pylist()
    assert len(docs) == 5 and len({d["text_sha256"] for d in docs}) == 5
    assert {"same_bytes", "other_chrome"}.isdisjoint(d["id"] for d in docs)


@pytest.mark.parametrize("name,problem", [
    ("../outside.txt", "'../outside.txt' points outside raw/"),
    ("sub/../../outside.txt", "'sub/../../outside.txt' points outside raw/"),
    ("/etc/hostname", "'/etc/hostname' is absolute: give a path relative to raw/"),
])
def test_a_path_out_of_raw_is_refused_with_its_row(corpus_copy, tmp_path, name, problem):
    (corpus_copy / "outside.txt").write_text("siri", encoding="utf-8")
    row = add_source(corpus_copy, name, "0" * 64)
    line = f"{corpus_copy / 'sources.jsonl'}:{row}:file: {problem}"
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 1 and error_lines(out) == [f"error: {line}"]
    assert not (tmp_path / "build").exists()
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1 and line in val.stdout.splitlines()


@pytest.mark.parametrize("name", [
    "a.txt", "sw/2024/a.txt", "a..b.txt", "..a", "a..", "./a.txt", "a/./b", "sub//a.txt", "..", "../a", "a/../b", "a/..",
    "/a", "\\a", "C:a.txt", "c:/a", "a:b", "", "a\x00b", ".hidden", "a b/ç.txt",
])
def test_the_quick_check_of_a_file_name_judges_as_the_full_one(name):
    # The build checks every line's file name; most are plain, and go without a Path.
    from parallel_corpus.corpus import path_problem, unsafe_relative_path

    assert unsafe_relative_path(name) == path_problem(name)
    assert (path_problem(name) is None) == (name in ("a.txt", "sw/2024/a.txt", "a..b.txt", "..a", "a..", "./a.txt", "a/./b", "sub//a.txt", "C:a.txt", "c:/a", "a:b", ".hidden", "a b/ç.txt"))


def test_a_symlink_out_of_raw_is_never_read(corpus_copy, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("Habari za siri ambazo hazipaswi kuchapishwa kamwe katika korasi hii.", encoding="utf-8")
    (corpus_copy / "raw" / "link.txt").symlink_to(secret)
    row = add_source(corpus_copy, "link.txt", hashlib.sha256(secret.read_bytes()).hexdigest())
    line = f"{corpus_copy / 'sources.jsonl'}:{row}:file: 'link.txt' resolves outside raw/ (a symlink?): copy the article into raw/ instead"
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0 and f"skipped: {line}" in out.stderr
    assert "siri" not in (tmp_path / "build" / "data" / "documents" / "train-00000-of-00001.parquet").read_bytes().decode("latin-1")
    assert build_cli(corpus_copy, tmp_path / "strict", "--strict").exit_code == 1
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1 and line in val.stdout.splitlines()


def test_a_folder_named_as_a_raw_file_is_a_line_and_the_build_skips_it(corpus_copy, tmp_path) -> None:
    """Like any unreadable article: validate names it, the build skips that
    one document with the same line (and `--strict` would stop)."""
    expected = break_sources_file("a-folder", "raw/a-folder is not a file (a folder?): name the article's file")(corpus_copy)
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1 and expected in val.stdout.splitlines()
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0 and f"skipped: {expected}" in out.output
