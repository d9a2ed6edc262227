"""`parallel-corpus add` with single files: what it writes (raw bytes under
NNN_<sha256 prefix>.txt, one schema-valid line each, the codec and the
language as the build decides them) and everything it refuses, each in one
line, with nothing half-written left behind."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest
from _intake import corpus_bytes, fresh_corpus, lines, warnings
from conftest import CORPUS, build_cli, error_lines, invoke
from filelock import FileLock

from parallel_corpus.intake.add import AddOptions, IntakeError, add

SWAHILI = (CORPUS / "raw" / "000_579473158ea377e1.txt").read_bytes()
HINDI = (CORPUS / "raw" / "001_6ceeb16321e12f23.txt").read_bytes()
ARABIC = (CORPUS / "raw" / "004_3b47e256ddb3d459.txt").read_text(encoding="utf-8")


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    return fresh_corpus(tmp_path)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def run(corpus: Path, *args):
    return invoke("add", "--corpus", corpus, *args)


def assert_valid(corpus: Path) -> None:
    result = invoke("validate", corpus)
    assert result.exit_code == 0, result.stdout


def test_a_file_goes_in_under_its_hash_with_its_line(fresh, tmp_path):
    article = write(tmp_path / "in", "habari.txt", SWAHILI)
    result = run(fresh, article, "--language", "sw", "--outlet", "BBC Swahili", "--url", "https://example.org/a",
                 "--published", "2022-09-08", "--license", "CC-BY-4.0")
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(SWAHILI).hexdigest()
    name = f"000_{digest[:16]}.txt"
    assert lines(fresh) == [{
        "id": name[:-4], "file": name, "sha256": digest, "language": "sw", "outlet": "BBC Swahili",
        "url": "https://example.org/a", "published": "2022-09-08", "license": "CC-BY-4.0",
    }]
    assert (fresh / "raw" / name).read_bytes() == SWAHILI
    assert f"added 1 article(s) to {fresh / 'sources.jsonl'} ({name[:-4]}): sw 1 given; skipped 0" in result.stdout
    assert_valid(fresh)
    # No staging folder, no temporary file is left beside it.
    assert sorted(p.name for p in fresh.iterdir() if p.name.startswith(".")) == [".sources.jsonl.lock"]


def test_numbering_follows_the_corpus_and_a_folder_goes_in_name_order(corpus_copy, tmp_path):
    folder = tmp_path / "in"
    write(folder, "b.txt", HINDI + b"\n")
    write(folder, "a.txt", SWAHILI + b"\n")
    write(folder, ".hidden.txt", b"not an article")
    before = (corpus_copy / "sources.jsonl").read_bytes()
    result = run(corpus_copy, folder)
    assert result.exit_code == 0, result.output
    after = (corpus_copy / "sources.jsonl").read_bytes()
    assert after.startswith(before)
    new = lines(corpus_copy)[5:]
    assert [r["file"][:4] for r in new] == ["005_", "006_"]
    assert [r["language"] for r in new] == ["sw", "hi"]
    assert_valid(corpus_copy)


def test_a_detected_language_is_recorded_as_detected_and_the_build_does_not_take_it_for_declared(fresh, tmp_path):
    result = run(fresh, write(tmp_path, "hindi.txt", HINDI), write(tmp_path, "swahili.txt", SWAHILI), "--published", "2021-05-12")
    assert result.exit_code == 0, result.output
    assert [(r["language"], r.get("language_source")) for r in lines(fresh)] == [("hi", "detected"), ("sw", "detected")]
    assert "hi 1 detected, sw 1 detected" in result.stdout
    assert_valid(fresh)
    import pyarrow.parquet as pq

    out = tmp_path / "build"
    built = build_cli(fresh, out)
    assert built.exit_code == 0, built.output
    rows = [r for f in sorted((out / "data" / "documents").glob("*.parquet")) for r in pq.read_table(f, columns=["language", "declared_language"]).to_pylist()]
    assert sorted(rows, key=lambda r: r["language"]) == [{"language": "hi", "declared_language": None}, {"language": "sw", "declared_language": None}]


def test_a_language_it_cannot_name_is_null_with_a_warning(fresh, tmp_path):
    path = write(tmp_path, "numbers.txt", b"2021 - 05 - 12\n\n1234 5678 90\n")
    result = run(fresh, path)
    assert result.exit_code == 0, result.output
    [record] = lines(fresh)
    assert record["language"] is None and "language_source" not in record
    assert warnings(result) == [f"warning: {path}: language not given and not detected with confidence (no language recognised): recorded null; pass --language to declare it"]
    assert_valid(fresh)


def test_cp1256_is_recorded_when_the_given_language_decides_it(fresh, tmp_path):
    path = write(tmp_path, "arabic.txt", ARABIC.encode("cp1256"))
    result = run(fresh, path, "--language", "ar")
    assert result.exit_code == 0, result.output
    [record] = lines(fresh)
    assert record["encoding"] == "cp1256" and record["sha256"] == hashlib.sha256(ARABIC.encode("cp1256")).hexdigest()
    assert_valid(fresh)


def test_a_declared_codec_is_recorded(fresh, tmp_path):
    text = "Здравствуйте. Генеральный секретарь ООН встретился с министром в Москве.\n"
    result = run(fresh, write(tmp_path, "ru.txt", text.encode("cp1251")), "--encoding", "cp1251", "--language", "ru")
    assert result.exit_code == 0, result.output
    assert lines(fresh)[0]["encoding"] == "cp1251"


def test_utf16_with_a_bom_needs_no_encoding_line(fresh, tmp_path):
    result = run(fresh, write(tmp_path, "ar16.txt", ARABIC.encode("utf-16")), "--language", "ar")
    assert result.exit_code == 0, result.output
    assert "encoding" not in lines(fresh)[0]


@pytest.mark.parametrize(
    "name,data,args,expected",
    [
        ("empty.txt", b"", (), "{path}: empty file: leave it out: it is not a text article"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", (), "{path}: binary file (NUL bytes, no UTF-16 BOM): not a text article: leave it out: it is not a text article"),
        ("arabic.txt", ARABIC.encode("cp1256"), (), "{path}: not UTF-8 (byte 0) and no --encoding given: pass --encoding CODEC, or --language L whose script decides between cp1256 and cp1251"),
        ("latin.txt", "Habari za leo: mazungumzo — ya amani.".encode("cp1252"), ("--language", "sw"), "{path}: not UTF-8 (byte 26) and no --encoding given: pass --encoding CODEC"),
        ("wrong.txt", SWAHILI.replace(b"a", b"\xff", 1), ("--encoding", "utf-8"), "{path}: does not decode as the declared utf-8 at byte {byte}: give the file's own codec with --encoding"),
        ("dump.tsv", b"headline\ttext\nA\tB\n", (), "{path}: a TSV dump, not an article: add its rows with --from tsv --text COLUMN"),
        ("doc.txt", b"<DOC>\n<TEXT>x</TEXT>\n</DOC>\n", (), "{path}: a TREC file (<DOC>), not an article: add its documents with --from trec --text TEXT"),
    ],
)
def test_a_file_the_build_could_not_read_is_refused_in_one_line(fresh, tmp_path, name, data, args, expected):
    path = write(tmp_path, name, data)
    result = run(fresh, path, *args)
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: {expected.format(path=path, byte=SWAHILI.index(b'a'))}"]
    assert warnings(result) == []
    assert sorted(p.name for p in fresh.iterdir() if not p.name.startswith(".")) == ["cleaning.yaml", "dataset.yaml", "languages.yaml"]


def test_bytes_already_in_the_corpus_are_refused(corpus_copy):
    before = corpus_bytes(corpus_copy)
    result = run(corpus_copy, CORPUS / "raw" / "003_fd1355c3401903b1.txt")
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: {CORPUS / 'raw' / '003_fd1355c3401903b1.txt'}: its bytes are already in the corpus (id 003_fd1355c3401903b1, sha256 d7191fe84efb6fbe...): nothing to add"]
    assert corpus_bytes(corpus_copy) == before


def test_a_bad_file_among_good_ones_is_named_and_skipped_or_refuses_all_with_strict(fresh, tmp_path):
    good = write(tmp_path, "a.txt", SWAHILI)
    bad = write(tmp_path, "b.txt", b"")
    same = write(tmp_path, "c.txt", SWAHILI)
    strict = run(fresh, good, bad, same, "--language", "sw", "--strict")
    assert strict.exit_code == 1
    assert error_lines(strict) == [f"error: {bad}: empty file: leave it out: it is not a text article: nothing was added (--strict)"]
    assert not (fresh / "sources.jsonl").exists() and not (fresh / "raw").exists()
    assert [p for p in fresh.iterdir() if p.name.startswith(".sources.jsonl.") and p.is_dir()] == []

    result = run(fresh, good, bad, same, "--language", "sw")
    assert result.exit_code == 0, result.output
    name = f"000_{hashlib.sha256(SWAHILI).hexdigest()[:16]}"
    assert warnings(result) == [
        f"warning: {bad}: empty file: leave it out: it is not a text article",
        f"warning: {same}: its bytes are already in the corpus (id {name}, sha256 {name[4:]}...): nothing to add",
    ]
    assert [r["id"] for r in lines(fresh)] == [name]
    assert "skipped 2" in result.stdout


def test_nothing_added_of_several_is_one_error_after_the_warnings(fresh, tmp_path):
    a, b = write(tmp_path, "a.txt", b""), write(tmp_path, "b.txt", b"\x00\x01")
    result = run(fresh, a, b)
    assert result.exit_code == 1
    assert len(warnings(result)) == 2
    assert error_lines(result) == [f"error: {fresh / 'sources.jsonl'}: nothing added: 2 article(s) refused, each named above"]


@pytest.mark.parametrize(
    "args,expected",
    [
        (("--language", "xx"), "error: {corpus}/languages.yaml: --language 'xx' is not a language of languages.yaml: give its ISO 639-1 code, or add the language there"),
        (("--language", "SW"), "error: {corpus}/languages.yaml: --language 'SW' is not a language of languages.yaml: give its ISO 639-1 code, or add the language there"),
        (("--published", "12/05/2021"), "error: --published '12/05/2021' is not a date: give it as YYYY-MM-DD"),
        (("--encoding", "klingon"), "error: --encoding 'klingon': no such codec (e.g. utf-8, cp1256, cp1251)"),
        (("--text", "body"), "error: --text names a field of a dump: it goes with --from"),
        (("--outlet-field", "SRC"), "error: --outlet-field names a field of a dump: it goes with --from"),
        (("--url", "https://example.org/a", "{other}"), "error: --url is the address of one article: give one file with it"),
        (("--from", "tsv"), "error: --from tsv needs --text: the column or element holding each article's text"),
    ],
)
def test_options_that_cannot_apply_are_refused_before_anything_is_read(fresh, tmp_path, args, expected):
    path = write(tmp_path, "a.txt", SWAHILI)
    other = write(tmp_path, "b.txt", HINDI)
    result = run(fresh, path, *(a.format(other=other) for a in args))
    assert result.exit_code == 1
    assert error_lines(result) == [expected.format(corpus=fresh)]
    assert not (fresh / "sources.jsonl").exists()


def test_a_folder_that_is_no_corpus_is_refused(fresh, tmp_path):
    path = write(tmp_path, "a.txt", SWAHILI)
    (fresh / "cleaning.yaml").unlink()
    result = run(fresh, path)
    assert error_lines(result) == [f"error: {fresh / 'cleaning.yaml'}: missing: a corpus needs cleaning.yaml: copy the one of this repository"]
    result = run(tmp_path / "nowhere", path)
    assert error_lines(result) == [f"error: {tmp_path / 'nowhere'}: no such corpus folder: create it with dataset.yaml, languages.yaml and cleaning.yaml (see docs/curating.md, \"Adding articles\")"]
    result = run(fresh.parent, tmp_path / "missing.txt")
    assert result.exit_code == 1


def test_a_broken_sources_file_is_refused_before_it_is_added_to(corpus_copy, tmp_path):
    path = write(tmp_path, "a.txt", SWAHILI + b"!")
    with open(corpus_copy / "sources.jsonl", "a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    before = corpus_bytes(corpus_copy)
    result = run(corpus_copy, path)
    assert error_lines(result) == [f"error: {corpus_copy / 'sources.jsonl'}:6:-: not valid JSON: Expecting property name enclosed in double quotes: fix sources.jsonl before adding to it"]
    assert corpus_bytes(corpus_copy) == before


def test_a_last_line_without_its_newline_keeps_its_own_line(corpus_copy, tmp_path):
    sources = corpus_copy / "sources.jsonl"
    sources.write_bytes(sources.read_bytes().rstrip(b"\n"))
    assert run(corpus_copy, write(tmp_path, "a.txt", SWAHILI + b"!"), "--language", "sw").exit_code == 0
    assert len(lines(corpus_copy)) == 6
    assert_valid(corpus_copy)


def test_two_adds_at_once_the_second_is_refused(fresh, tmp_path):
    path = write(tmp_path, "a.txt", SWAHILI)
    with FileLock(str(fresh / ".sources.jsonl.lock"), timeout=0):
        result = run(fresh, path)
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: another add is writing {fresh / 'sources.jsonl'} (it holds {fresh / '.sources.jsonl.lock'}): wait for it to finish"]
    assert not (fresh / "sources.jsonl").exists()


def test_what_a_killed_add_staged_is_removed_by_the_next(fresh, tmp_path):
    leftover = fresh / ".sources.jsonl.k1ll3d00"
    (leftover / "raw").mkdir(parents=True)
    (leftover / "raw" / "000_0000000000000000.txt").write_text("half", encoding="utf-8")
    assert run(fresh, write(tmp_path, "a.txt", SWAHILI), "--language", "sw").exit_code == 0
    assert not leftover.exists()


def test_a_failed_write_of_sources_takes_the_moved_raw_files_back(corpus_copy, tmp_path, monkeypatch):
    """The disk refusing the final rename of sources.jsonl (injected: a full
    disk at that very step) leaves the corpus as it was: the raw files
    already moved into raw/ are taken back out."""
    a, b = write(tmp_path, "a.txt", SWAHILI + b"!"), write(tmp_path, "b.txt", HINDI + b"!")
    before = corpus_bytes(corpus_copy)
    real_replace = os.replace
    seen = []

    def full_disk(src, dst, *args, **kwargs):
        if Path(dst).name == "sources.jsonl":
            seen.append(sorted(p.name for p in (corpus_copy / "raw").iterdir()))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(IntakeError, match="cannot write: no space left on the device"):
        add(corpus_copy, [a, b], AddOptions(language="sw"))
    assert len(seen[0]) == 7  # both were in raw/ when the rename failed
    assert corpus_bytes(corpus_copy) == before
    assert [p for p in corpus_copy.iterdir() if p.name.startswith(".sources.jsonl.") and p.is_dir()] == []
