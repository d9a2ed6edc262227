"""Ingest: raw bytes of one source in, verified and decoded text out.

The sha256 in `sources.jsonl` pins the bytes, and decoding follows one rule:
UTF-8 (with or without BOM) and BOM-marked UTF-16 are taken as they are; any
other codec only when declared, or when what it decodes is confidently in the
declared language's script. cp1256 decodes almost any bytes, so "it decoded"
is never enough.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from typing import Optional

from parallel_corpus.corpus import Corpus, Source
from parallel_corpus.text.script import count_letters, dominant_script
from parallel_corpus.errors import Error, Problem

# Codecs tried, undeclared, for a language's script when UTF-8 fails.
_FALLBACK_CODECS = {"Arab": ("cp1256",), "Cyrl": ("cp1251",)}
# Share of letters that must be in the declared script for an undeclared
# fallback codec to be trusted.
_CONFIDENT_SHARE = 0.97


class IngestError(Error, ValueError):
    """A raw file that cannot be used; the message says which and what to do.
    `reason` is what the build's skip record says of it (a key of
    `records.SKIP_REASONS`): a class attribute, so that it is the error's
    kind, not a word looked for in its message."""

    reason = "unreadable"


class Sha256Mismatch(IngestError):
    """The raw file's bytes are not the ones sources.jsonl pins."""

    reason = "sha256_mismatch"


_REPLACE = "remove it from sources.jsonl or replace it with the article"


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    sha256: str


def decode(data: bytes, name: str, declared_encoding: Optional[str] = None, language_script: Optional[str] = None) -> tuple[str, str]:
    """(text, codec) of raw bytes, or an IngestError naming the file."""
    if not data:
        raise IngestError(Problem("empty file", name, fix=_REPLACE))
    if declared_encoding:
        try:
            codecs.lookup(declared_encoding)
        except LookupError:
            raise IngestError(Problem(f"unknown encoding {declared_encoding!r} declared in sources.jsonl", name)) from None
        try:
            return data.decode(declared_encoding), codecs.lookup(declared_encoding).name
        except UnicodeDecodeError as exc:
            raise IngestError(Problem(f"does not decode as the declared {declared_encoding} at byte {exc.start}", name, fix="fix the encoding in sources.jsonl")) from None
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8", name), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", name), "utf-16"
    if b"\x00" in data:
        raise IngestError(Problem("binary file (NUL bytes, no UTF-16 BOM): not a text article", name, fix=_REPLACE))
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        position = exc.start
    for codec in _FALLBACK_CODECS.get(language_script or "", ()):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        script, share = dominant_script(text)
        if script == language_script and share >= _CONFIDENT_SHARE and count_letters(text) >= 20:
            return text, codec
    raise IngestError(Problem(
        f"not UTF-8 (byte {position}) and no encoding declared", name,
        fix='add "encoding": "<codec>" to its line in sources.jsonl',
    ))


def _strict(data: bytes, codec: str, name: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise IngestError(Problem(f"starts with a {codec} BOM but does not decode as {codec} at byte {exc.start}", name)) from None


def read_source(corpus: Corpus, source: Source, language_script: Optional[str] = None) -> Decoded:
    """Verified, decoded text of one source."""
    path = corpus.resolve_raw(source)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    name = f"raw/{source.file}"
    if digest != source.sha256:
        at = next((i for i, (a, b) in enumerate(zip(digest, source.sha256)) if a != b), min(len(digest), len(source.sha256)))
        raise Sha256Mismatch(Problem(
            f"sha256 is {digest}, sources.jsonl says {source.sha256} (they differ from character {at + 1})", name,
            fix="the bytes changed; restore the file or update its sha256 if the change is intended",
        ))
    text, encoding = decode(data, name, source.encoding, language_script)
    return Decoded(text=text, encoding=encoding, sha256=digest)
