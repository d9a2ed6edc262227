"""Ingest: encodings taken, declared or refused; sha256 pins the bytes; paths stay in raw/."""

from __future__ import annotations

import codecs
import hashlib

import pytest

from parallel_corpus.corpus import Corpus, CorpusError, Source
from parallel_corpus.stages.ingest import IngestError, decode, read_source

from conftest import CORPUS

ARABIC = (CORPUS / "raw" / "004_3b47e256ddb3d459.txt").read_text(encoding="utf-8")
SWAHILI = (CORPUS / "raw" / "000_579473158ea377e1.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "data,codec",
    [
        (SWAHILI.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + SWAHILI.encode("utf-8"), "utf-8-sig"),
        (ARABIC.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_BE + ARABIC.encode("utf-16-be"), "utf-16"),
    ],
)
def test_unicode_encodings_are_taken(data, codec):
    text, used = decode(data, "raw/x.txt")
    assert used == codec
    assert text.lstrip("\ufeff") in (SWAHILI, ARABIC)


def test_cp1256_arabic_is_taken_when_confidently_arabic():
    data = ARABIC.encode("cp1256")
    text, used = decode(data, "raw/x.txt", language_script="Arab")
    assert used == "cp1256" and text == ARABIC


def test_cp1256_bytes_of_a_latin_document_are_refused():
    data = "Ni habari za leo: Ukraine na Urusi — mazungumzo ya amani yameanza tena.".encode("cp1252")
    with pytest.raises(IngestError, match=r"raw/x.txt: not UTF-8 .* add \"encoding\""):
        decode(data, "raw/x.txt", language_script="Latn")


def test_undeclared_cp1256_without_a_declared_language_is_refused():
    with pytest.raises(IngestError, match="no encoding declared"):
        decode(ARABIC.encode("cp1256"), "raw/x.txt", language_script=None)


def test_declared_encoding_is_used_and_checked():
    assert decode(ARABIC.encode("cp1256"), "raw/x.txt", "cp1256")[0] == ARABIC
    with pytest.raises(IngestError, match="does not decode as the declared ascii at byte 0"):
        decode(b"\x81ok", "raw/x.txt", "ascii")
    with pytest.raises(IngestError, match="unknown encoding 'klingon'"):
        decode(b"ok", "raw/x.txt", "klingon")


@pytest.mark.parametrize("data,message", [(b"", "empty file"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file")])
def test_empty_and_binary_files_are_refused(data, message):
    with pytest.raises(IngestError, match=message):
        decode(data, "raw/x.txt")


def _source(file: str, data: bytes, **extra) -> Source:
    return Source(id="x", file=file, sha256=hashlib.sha256(data).hexdigest(), language="ar", outlet=None, url=None, published=None, license=None, row=1, **extra)


def test_changed_bytes_are_named(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.txt").write_bytes(b"new text")
    source = _source("a.txt", b"old text")
    with pytest.raises(IngestError, match=r"raw/a.txt: sha256 .* the bytes changed"):
        read_source(Corpus(tmp_path), source)


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/hostname", "sub/../../outside.txt"])
def test_paths_outside_raw_are_refused(tmp_path, name):
    (tmp_path / "raw").mkdir()
    with pytest.raises(CorpusError, match="outside raw/|absolute"):
        Corpus(tmp_path).resolve_raw(_source(name, b""))


def test_symlink_out_of_raw_is_refused(tmp_path):
    (tmp_path / "raw").mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (tmp_path / "raw" / "link.txt").symlink_to(secret)
    with pytest.raises(CorpusError, match="resolves outside raw/"):
        Corpus(tmp_path).resolve_raw(_source("link.txt", b"secret"))


def test_a_skip_carries_its_kind_as_a_field_not_in_its_words(corpus_copy, tmp_path):
    """report.json names each skipped file with id, file, reason and message;
    the reason is the kind of the error, never read back out of its message:
    an empty file named after a hash is unreadable, not a sha256 mismatch."""
    import json

    from parallel_corpus.engine.build import build
    from parallel_corpus.records import SKIP_REASONS, Skip
    from conftest import add_raw, add_source

    add_raw(corpus_copy, "sha256-notes.txt", b"")
    (corpus_copy / "raw" / "typo.txt").write_bytes(SWAHILI.encode("utf-8") + b"\nMwisho.\n")
    add_source(corpus_copy, "typo.txt", "0" * 64)
    add_raw(corpus_copy, "again.txt", SWAHILI.encode("utf-8"))
    report = build(corpus_copy, tmp_path / "build", annotations_dir=None, log=lambda m: None)
    assert all(isinstance(s, Skip) for s in report.skipped)
    skipped = json.loads((tmp_path / "build" / "report.json").read_text(encoding="utf-8"))["skipped"]
    assert all(list(s) == ["id", "file", "reason", "message"] for s in skipped)
    by_file = {s["file"]: s for s in skipped}
    assert {f: s["reason"] for f, s in by_file.items()} == {"sha256-notes.txt": "unreadable", "typo.txt": "sha256_mismatch", "again.txt": "duplicate"}
    assert by_file["sha256-notes.txt"] == {
        "id": "sha256-notes", "file": "sha256-notes.txt", "reason": "unreadable",
        "message": "raw/sha256-notes.txt: empty file: remove it from sources.jsonl or replace it with the article",
    }
    assert by_file["typo.txt"]["message"].startswith("raw/typo.txt: sha256 is ")
    assert set(SKIP_REASONS) >= {s["reason"] for s in skipped}
    with pytest.raises(ValueError, match="not one of"):
        Skip("x", "x.txt", "gone", "raw/x.txt: gone")
