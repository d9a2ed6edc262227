"""Readers of news dumps: each row or document of a TSV, CSV, JSON Lines or
TREC-style file as the fields an import maps, with the line it starts on.

News arrives in bulk as MasakhaNEWS-style TSV or CSV (a header, one article
a row), as JSON Lines, and as TREC-style SGML (`<DOC>...<TEXT>...</TEXT></DOC>`,
the ANT corpus) that is often not well-formed XML. Every reader streams: it
holds one row, or one document, at a time, and no field longer than
`max_field` characters, so a dump of any size costs the memory of its
largest article.

A row that cannot be read is yielded as a `Row` with its `problem` (the
import names it with its line and goes on, or refuses with --strict); what
leaves the rest of the file untrustworthy (a quote never closed, wrong
encoding, a binary file, a header without the named columns) is a
`DumpError`, one line, and nothing of the dump is used.

The TREC reader looks for `<DOC>` blocks and the named elements in each
with regular expressions: no XML parser, so no DTD is read and no entity
is expanded beyond the five XML names and numeric references, and a bare
`&` or an unclosed `<P>` inside TEXT is text, as TREC readers take it.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, Optional, Sequence

from parallel_corpus.errors import Error, Problem
from parallel_corpus.jsontext import loads

FORMATS = ("tsv", "csv", "jsonl", "trec")

# The longest field an import takes (an article's text), in characters. A
# news article is rarely a hundredth of this; a longer field is a broken
# row or a file that is not a dump.
MAX_FIELD_CHARS = 1_000_000
# A JSON line or a TREC document holds several fields.
_RECORD_FACTOR = 4
_CHUNK = 1 << 16
# Bytes looked at to tell an empty or binary dump before reading it.
_SNIFF = 8192


class DumpError(Error, ValueError):
    """A dump that cannot be read as the format named; nothing of it is used."""


@dataclass(frozen=True)
class Row:
    """One row or document: the fields asked for (None where absent), or
    why it cannot be read."""

    line: int  # 1-based line of the dump it starts on
    fields: dict[str, Optional[str]]
    problem: Optional[str] = None


def read_dump(path: Path, fmt: str, names: Sequence[str], encoding: Optional[str] = None, max_field: int = MAX_FIELD_CHARS) -> Iterator[Row]:
    """The rows of the dump at `path` in format `fmt`, each with the fields
    `names` (column names, JSON keys or TREC element names)."""
    if fmt not in FORMATS:
        raise DumpError(Problem(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}", str(path)))
    codec = _codec(path, encoding)
    fh = open(path, encoding=codec, errors="strict", newline="" if fmt in ("tsv", "csv") else None)
    where = _Where()
    with fh:
        try:
            if fmt in ("tsv", "csv"):
                yield from _delimited(fh, path, fmt, names, max_field, where)
            elif fmt == "jsonl":
                yield from _jsonl(fh, names, max_field, where)
            else:
                yield from _trec(fh, names, max_field, where)
        except UnicodeDecodeError as exc:
            raise DumpError(Problem.at(
                path, where.line, "-", f"does not decode as {codec} ({exc.reason} at byte {exc.start} of a read)",
                "pass --encoding CODEC (the dump's codec, e.g. cp1256)",
            )) from None


class _Where:
    """The line a reader has reached, for the error of a decoding failure."""

    line: object = "-"


def _codec(path: Path, encoding: Optional[str]) -> str:
    """The codec to read the dump with, after refusing an empty or a binary file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF)
    except OSError as exc:
        raise DumpError(Problem(f"cannot be read: {exc.strerror}", str(path))) from None
    if not head:
        raise DumpError(Problem("empty file: no articles", str(path)))
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise DumpError(Problem(f"unknown encoding {encoding!r}", str(path), fix="name a Python codec, e.g. utf-8 or cp1256")) from None
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16"
    elif b"\x00" in head:
        raise DumpError(Problem("binary file (NUL bytes, no UTF-16 BOM): not a dump", str(path)))
    else:
        codec = "utf-8-sig"
    _check_decodes(path, codec)
    return codec


def _check_decodes(path: Path, codec: str) -> None:
    """Refuse, naming the line and byte, a dump that does not decode as
    `codec`: one pass over the bytes before any row is used, so that a
    wrong codec is never found half-way through an import."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    offset, line = 0, 1
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                at = max(0, exc.start)
                wide = codec.startswith("utf-16") or codec.startswith("utf-32")
                where = "-" if wide else line + chunk[:at].count(b"\n")
                raise DumpError(Problem.at(
                    path, where, "-", f"not {codec} text ({exc.reason} at byte {offset + at})",
                    "pass --encoding CODEC (the dump's codec, e.g. cp1256)",
                )) from None
            if not chunk:
                return
            offset += len(chunk)
            line += chunk.count(b"\n")


# -- TSV and CSV ----------------------------------------------------------------------


def _delimited(fh: IO[str], path: Path, fmt: str, names: Sequence[str], max_field: int, where: _Where) -> Iterator[Row]:
    """A header row naming the columns, then one article a row (fields may be
    quoted and span lines, as MasakhaNEWS's and BBC Hindi's do)."""
    # strict: a quote never closed is an error at the end, not one field
    # swallowing the rest of the file.
    reader = csv.reader(fh, delimiter="\t" if fmt == "tsv" else ",", strict=True)
    previous = csv.field_size_limit(max_field)
    try:
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise _broken(path, reader.line_num, fmt, exc, max_field) from None
        if not header or not any(h.strip() for h in header):
            raise DumpError(Problem.at(path, 1, "-", f"no header row: a {fmt.upper()} dump opens with its column names"))
        header = [h.strip() for h in header]
        index = {}
        for name in names:
            found = [i for i, h in enumerate(header) if h == name]
            if len(found) != 1:
                what = "no column" if not found else "more than one column"
                raise DumpError(Problem.at(
                    path, 1, "-", f"{what} {name!r} in the header (its columns: {', '.join(header)})",
                    "name one column of the header with --text, --title, --url, --published, --id",
                ))
            index[name] = found[0]
        start = reader.line_num + 1
        while True:
            where.line = start
            try:
                row = next(reader, None)
            except csv.Error as exc:
                raise _broken(path, start, fmt, exc, max_field) from None
            if row is None:
                return
            line, start = start, reader.line_num + 1
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            if len(row) != len(header):
                yield Row(line, {}, f"{len(row)} fields where the header has {len(header)}")
                continue
            yield Row(line, {name: row[i] for name, i in index.items()})
    finally:
        csv.field_size_limit(previous)


def _broken(path: Path, line: int, fmt: str, exc: csv.Error, max_field: int) -> DumpError:
    """A row the CSV reader cannot get through: nothing after it can be trusted."""
    message = str(exc)
    if "field larger than field limit" in message:
        message = f"a field longer than {max_field} characters (or a quote never closed)"
    elif "NUL" in message:
        message = "a NUL byte: binary data, not text"
    return DumpError(Problem.at(path, line, "-", f"not readable as {fmt.upper()} from here: {message}", "fix the dump (or check --from)"))


# -- JSON Lines -----------------------------------------------------------------------


def _jsonl(fh: IO[str], names: Sequence[str], max_field: int, where: _Where) -> Iterator[Row]:
    """One JSON object per line; a key that is absent or null is None."""
    cap = _RECORD_FACTOR * max_field
    line = 0
    while True:
        text = fh.readline(cap + 1)
        if not text:
            return
        line += 1
        where.line = line
        if len(text) > cap and not text.endswith("\n"):
            while text and not text.endswith("\n"):  # the rest of the line, unread
                text = fh.readline(_CHUNK)
            yield Row(line, {}, f"a line longer than {cap} characters")
            continue
        if not text.strip():
            continue
        try:
            record = loads(text)
        except ValueError as exc:
            yield Row(line, {}, f"not valid JSON: {getattr(exc, 'msg', exc)}")
            continue
        if not isinstance(record, dict):
            yield Row(line, {}, f"a JSON {type(record).__name__}, not an object")
            continue
        fields: dict[str, Optional[str]] = {}
        problem = None
        for name in names:
            value = record.get(name)
            if value is None or isinstance(value, str):
                fields[name] = value
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                fields[name] = str(value)
            else:
                problem = f"{name!r} is a JSON {type(value).__name__}, not text"
                break
        yield Row(line, fields, problem) if problem else Row(line, fields)


# -- TREC -----------------------------------------------------------------------------

_OPEN = re.compile(r"<DOC(?:\s[^<>]*)?>", re.IGNORECASE)
_CLOSE = re.compile(r"</DOC\s*>", re.IGNORECASE)
# Kept from the end of a chunk: a tag cut in two by a read.
_TAIL = 64


def _trec(fh: IO[str], names: Sequence[str], max_field: int, where: _Where) -> Iterator[Row]:
    """Every `<DOC>...</DOC>` block of the file, tolerantly: text outside
    blocks is ignored, a block opened and not closed before the next one, or
    the end, is a bad row, and so is a block longer than the cap."""
    cap = _RECORD_FACTOR * max_field
    buf = ""
    pos = 0  # what of buf is consumed
    line = 1  # line number at pos
    opened: Optional[int] = None  # line of the <DOC> being read
    scanned = 0  # where the search for its end resumes
    oversized = False
    found = False

    def advance(to: int) -> None:
        nonlocal pos, line
        line += buf.count("\n", pos, to)
        pos = to

    while True:
        chunk = fh.read(_CHUNK)
        where.line = line
        buf = buf[pos:] + chunk
        scanned = max(0, scanned - pos)
        pos = 0
        while True:
            if opened is None:
                m = _OPEN.search(buf, pos)
                if m is None:
                    advance(max(pos, len(buf) - _TAIL))
                    break
                found = True
                advance(m.start())
                opened = line
                advance(m.end())
                scanned, oversized = pos, False
                continue
            start = max(pos, scanned - _TAIL)
            close, reopen = _CLOSE.search(buf, start), _OPEN.search(buf, start)
            if close is not None and (reopen is None or close.start() < reopen.start()):
                if oversized:
                    yield Row(opened, {}, f"a <DOC> longer than {cap} characters")
                else:
                    yield _document(buf[pos : close.start()], opened, names, max_field)
                advance(close.end())
                opened = None
                continue
            if reopen is not None:
                yield Row(opened, {}, f"<DOC> not closed before the next <DOC> (line {line + buf.count(chr(10), pos, reopen.start())})")
                advance(reopen.start())
                opened = None
                continue
            scanned = len(buf)
            if len(buf) - pos > cap:
                oversized = True
                advance(len(buf) - _TAIL)
                scanned = len(buf)
            break
        if not chunk:
            break
    if opened is not None:
        yield Row(opened, {}, f"a <DOC> longer than {cap} characters" if oversized else "<DOC> never closed")
    if not found:
        yield Row(1, {}, "no <DOC> element: not a TREC file")


_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_BREAK = re.compile(r"</?(?:P|BR)\b[^<>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _document(body: str, line: int, names: Sequence[str], max_field: int) -> Row:
    fields: dict[str, Optional[str]] = {}
    for name in names:
        m = re.search(rf"<{re.escape(name)}(?:\s[^<>]*)?>(.*?)</{re.escape(name)}\s*>", body, re.IGNORECASE | re.DOTALL)
        if m is None:
            fields[name] = None
            continue
        if len(m.group(1)) > max_field:
            return Row(line, {}, f"<{name}> longer than {max_field} characters")
        fields[name] = element_text(m.group(1))
    return Row(line, fields)


def element_text(raw: str) -> str:
    """The text of an element: CDATA as it is; elsewhere paragraph tags as
    line breaks, other tags dropped, and the XML entities and character
    references read (nothing else: no DTD, no other entity)."""
    out = []
    at = 0
    for m in _CDATA.finditer(raw):
        out.append(_markup_text(raw[at : m.start()]))
        out.append(m.group(1))
        at = m.end()
    out.append(_markup_text(raw[at:]))
    return "".join(out)


def _markup_text(raw: str) -> str:
    return _ENTITY.sub(_entity, _TAG.sub("", _BREAK.sub("\n", raw)))


def _entity(m: re.Match) -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return m.group(0)
    return chr(code)
