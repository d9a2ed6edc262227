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
