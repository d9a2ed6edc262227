"""Add articles to a corpus folder: raw bytes into `raw/`, a line each into
`sources.jsonl`, all of them or none.

What a curator did by hand (copy the file, hash it, write eight keys, know
the codec) is done here the way the build will read it: the bytes are
pinned by sha256 and decoded with ingest's own rule (`stages.ingest.decode`),
so a file the build would skip is refused now, in one line; the language,
when not given, is the build's tagger's answer (`stages.langid.tag`),
recorded as `"language_source": "detected"` so that nobody later takes it
for a declaration; bytes already in the corpus are refused.

A dump (`intake.dumps`) becomes one raw file per row or document: its title
on the first line (where the cleaner looks for it), a blank line, its text.

Nothing is half-written: raw files are staged beside `sources.jsonl`
(`files.staging_dir`), and moved into `raw/` only once every line is
written, inside the atomic replacement of `sources.jsonl`; on any failure
the moved files are taken back out. The corpus lock (`files.exclusive`)
keeps two adds from numbering the same file.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import hashlib
import json
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from parallel_corpus.corpus import Corpus, CorpusError, language_codes
from parallel_corpus.errors import Error, Problem
from parallel_corpus.files import atomic_file, disk_problems_as, exclusive, staging_dir
from parallel_corpus.intake.dumps import FORMATS, MAX_FIELD_CHARS, Row, read_dump
from parallel_corpus.stages.ingest import IngestError, decode

# A language found in the text is recorded only when the tagger is at least
# this sure of it (langdetect's probability for the whole article); below
# it the language is left null, as unknown.
DETECTED_MIN_PROBABILITY = 0.8
# A single file larger than this is no news article.
MAX_FILE_BYTES = 16 << 20
# What the tagger reads of an article to name its language (its own limit).
_DETECT_CHARS = 10_000
# A curated file every corpus folder needs (as `validate` says).
REQUIRED = ("dataset.yaml", "languages.yaml", "cleaning.yaml")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_NUMBERED = re.compile(r"^(\d+)_")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# Dumps named by their suffix: a single file with one of these is not an article.
_DUMP_SUFFIXES = {".tsv": "tsv", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class IntakeError(Error, ValueError):
    """Articles that cannot be added; the line names the file or row and what to do."""


@dataclass(frozen=True)
class AddOptions:
    """What `parallel-corpus add` was told. Without `fmt`, each path is an
    article and `url` / `published` are its values; with `fmt`, each path
    is a dump and the `*_field` names say which column or element holds
    what (`text_field` is required)."""

    language: Optional[str] = None
    encoding: Optional[str] = None
    outlet: Optional[str] = None
    url: Optional[str] = None
    published: Optional[str] = None
    license: Optional[str] = None
    fmt: Optional[str] = None
    text_field: Optional[str] = None
    title_field: Optional[str] = None
    url_field: Optional[str] = None
    published_field: Optional[str] = None
    id_field: Optional[str] = None
    outlet_field: Optional[str] = None
    strict: bool = False
    max_field: int = MAX_FIELD_CHARS

    def mapping(self) -> dict[str, str]:
        """Field of the dump -> the name it is read by (its role)."""
        roles = {"text": self.text_field, "title": self.title_field, "url": self.url_field,
                 "published": self.published_field, "id": self.id_field, "outlet": self.outlet_field}
        return {role: name for role, name in roles.items() if name}


@dataclass
class AddResult:
    """What an add wrote: how many articles, their ids, languages, and how
    many were refused (each named in a warning)."""

    sources_path: Path
    added: int = 0
    skipped: int = 0
    first_id: Optional[str] = None
    last_id: Optional[str] = None
    # (language or "null", "given" | "detected" | "unknown") -> articles
    languages: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        ids = f" ({self.first_id} .. {self.last_id})" if self.added > 1 else f" ({self.first_id})" if self.added else ""
        langs = ", ".join(f"{lang} {n} {how}" for (lang, how), n in sorted(self.languages.items()))
        return f"added {self.added} article(s) to {self.sources_path}{ids}: {langs or 'none'}; skipped {self.skipped}"


def add(corpus_dir: Path, paths: Sequence[Path], options: AddOptions, warn: Callable[[str], None] = lambda line: None) -> AddResult:
    """Add the articles at `paths` (files, folders walked in name order, or
    dumps with `options.fmt`) to the corpus at `corpus_dir`. Each article
    that cannot be added is named through `warn` and skipped, or, with
    `options.strict`, refuses the whole add; IntakeError when nothing is
    added. Nothing is written unless something is added, and then all of it."""
    corpus = Corpus(Path(corpus_dir))
    _check_corpus(corpus)
    _check_options(corpus, options, paths)
    files = list(_walk(paths))
    with disk_problems_as(lambda fix: IntakeError(Problem(f"cannot write: {fix}", str(corpus.root)))):
        with exclusive(corpus.sources_path, "add"):
            known = _Known.read(corpus)
            with staging_dir(corpus.sources_path) as staging:
                session = _Session(corpus, known, staging, options, warn)
                for path in files:
                    if options.fmt:
                        session.offer_dump(path)
                    else:
                        session.offer_file(path)
                session.finish()
                return session.commit()


def _check_corpus(corpus: Corpus) -> None:
    """A corpus folder holds at least its curated files: without them there is
    nothing to build, and the language table is what an added language is
    checked against."""
    if not corpus.root.is_dir():
        raise IntakeError(Problem(
            "no such corpus folder", str(corpus.root),
            fix="create it with dataset.yaml, languages.yaml and cleaning.yaml (see docs/curating.md, \"Adding articles\")",
        ))
    for name in REQUIRED:
        if not corpus.has(name):
            raise IntakeError(Problem(f"missing: a corpus needs {name}", str(corpus.path(name)), fix="copy the one of this repository"))
    corpus.dataset()  # checked against its schema: its seed seeds the tagger


def _check_options(corpus: Corpus, options: AddOptions, paths: Sequence[Path]) -> None:
    if not paths:
        raise IntakeError("name at least one file, folder or dump to add")
    if options.language is not None:
        known = language_codes(corpus) or set()
        if not _LANGUAGE.match(options.language) or options.language not in known:
            raise IntakeError(Problem(
                f"--language {options.language!r} is not a language of languages.yaml", str(corpus.path("languages.yaml")),
                fix="give its ISO 639-1 code, or add the language there",
            ))
    if options.encoding is not None:
        try:
            codecs.lookup(options.encoding)
        except LookupError:
            raise IntakeError(f"--encoding {options.encoding!r}: no such codec (e.g. utf-8, cp1256, cp1251)") from None
    if options.published is not None:
        try:
            _iso_date(options.published)
        except ValueError:
            raise IntakeError(f"--published {options.published!r} is not a date: give it as YYYY-MM-DD") from None
    if options.fmt is None:
        given = [f for f in ("text_field", "title_field", "url_field", "published_field", "id_field", "outlet_field") if getattr(options, f)]
        if given:
            raise IntakeError(f"--{given[0].split('_')[0].replace('outlet', 'outlet-field')} names a field of a dump: it goes with --from")
        if options.url is not None and (len(paths) > 1 or any(Path(p).is_dir() for p in paths)):
            raise IntakeError("--url is the address of one article: give one file with it")
    else:
        if options.fmt not in FORMATS:
            raise IntakeError(f"--from {options.fmt!r}: one of {', '.join(FORMATS)}")
        if not options.text_field:
            raise IntakeError(f"--from {options.fmt} needs --text: the column or element holding each article's text")


def _walk(paths: Iterable[Path]) -> Iterator[Path]:
    """Each path, or each file of a folder in name order (hidden ones left out)."""
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not inside:
                raise IntakeError(Problem("a folder with no files in it", str(path)))
            yield from inside
        elif path.exists():
            yield path
        else:
            raise IntakeError(Problem("no such file", str(path)))


def _iso_date(value: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(value)
    return dt.date.fromisoformat(value).isoformat()


def published_date(value: Optional[str]) -> Optional[str]:
    """The ISO date of a dump's date field: an ISO date or date-time (the
    date as written), or an RFC 2822 date as TREC files carry ("Mon, 23 Apr
    2018 16:24:54 +0400": the date in its own offset). None when empty;
    ValueError when it is neither."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    m = re.match(r"(\d{4}-\d{2}-\d{2})(?:$|[T ])", text)
    if m:
        return _iso_date(m.group(1))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(text) from None
    if when is None:
        raise ValueError(text)
    return when.date().isoformat()


# -- what the corpus holds -------------------------------------------------------------


@dataclass
class _Known:
    """What the corpus already holds: each sha256 (with its id), each id,
    and the next number of the `NNN_<sha256 prefix>.txt` scheme."""

    by_sha256: dict[bytes, str]
    ids: set[str]
    next_number: int

    @classmethod
    def read(cls, corpus: Corpus) -> "_Known":
        by_sha256: dict[bytes, str] = {}
        ids: set[str] = set()
        top = -1
        if corpus.sources_path.exists():
            try:
                sources = corpus.source_list()
            except CorpusError as exc:
                raise IntakeError(exc.problems, more_hint="fix sources.jsonl before adding to it") from None
            for s in sources:
                by_sha256[bytes.fromhex(s.sha256)] = s.id
                ids.add(s.id)
                for name in (s.id, Path(s.file).name):
                    m = _NUMBERED.match(name)
                    if m:
                        top = max(top, int(m.group(1)))
        return cls(by_sha256, ids, top + 1)


# -- one add ---------------------------------------------------------------------------


class _Refused(Exception):
    """An article that cannot be added: its problem."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


class _Session:
    """Articles offered one at a time, staged, then committed together."""

    def __init__(self, corpus: Corpus, known: _Known, staging: Path, options: AddOptions, warn: Callable[[str], None]):
        self.corpus = corpus
        self.known = known
        self.options = options
        self.warn = warn
        self.staged_raw = staging / "raw"
        self.staged_raw.mkdir()
        self.lines_path = staging / "sources.jsonl"
        self.lines = open(self.lines_path, "w", encoding="utf-8", newline="\n")
        self.names: list[str] = []
        self.result = AddResult(corpus.sources_path)
        self.problems = 0
        self.held: Optional[Problem] = None  # the first refusal, printed once another thing happens
        self._tagger: Any = None
        self.table = self._language_table()
        self.dataset_languages = {str(c) for c in corpus.dataset().get("languages") or []}

    def _language_table(self) -> Any:
        from parallel_corpus.stages.langid import LanguageTable

        return LanguageTable.load(self.corpus.path("languages.yaml"))

    # -- what is said ------------------------------------------------------------

    def refuse(self, problem: Problem) -> None:
        """An article that is not added: refuse all with --strict, else warn."""
        if self.options.strict:
            raise IntakeError(problem, more_hint="nothing was added (--strict)")
        self.problems += 1
        self.result.skipped += 1
        if self.held is None and self.result.added == 0 and self.problems == 1:
            self.held = problem  # if nothing else happens, it is the one error line
            return
        self._flush()
        self.warn(str(problem))

    def note(self, line: str) -> None:
        self._flush()
        self.warn(line)

    def _flush(self) -> None:
        if self.held is not None:
            held, self.held = self.held, None
            self.warn(str(held))

    # -- articles ----------------------------------------------------------------

    def offer_file(self, path: Path) -> None:
        name = str(path)
        try:
            if not path.is_file():
                raise _Refused(Problem("not a regular file", name))
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise _Refused(Problem(f"{size} bytes: larger than {MAX_FILE_BYTES} bytes, not a news article", name))
            fmt = _DUMP_SUFFIXES.get(path.suffix.lower())
            if fmt:
                raise _Refused(Problem(f"a {fmt.upper()} dump, not an article", name, fix=f"add its rows with --from {fmt} --text COLUMN"))
            data = path.read_bytes()
            if _OPENS_TREC.match(data[:256]):
                raise _Refused(Problem("a TREC file (<DOC>), not an article", name, fix="add its documents with --from trec --text TEXT"))
            self.stage(name, "-", data, None, self.options.url, self.options.published, self.options.outlet, self.options.encoding)
        except _Refused as exc:
            self.refuse(exc.problem)
        except OSError as exc:
            self.refuse(Problem(f"cannot be read: {exc.strerror}", name))

    def offer_dump(self, path: Path) -> None:
        mapping = self.options.mapping()
        names = list(dict.fromkeys(mapping.values()))
        count = 0
        for row in read_dump(path, self.options.fmt or "", names, self.options.encoding, self.options.max_field):
            count += 1
            try:
                self.offer_row(path, row, mapping)
            except _Refused as exc:
                self.refuse(exc.problem)
        if count == 0:
            self.refuse(Problem("no rows: nothing to add", str(path)))

    def offer_row(self, path: Path, row: Row, mapping: dict[str, str]) -> None:
        if row.problem:
            raise _Refused(Problem.at(path, row.line, "-", row.problem))

        def value(role: str) -> Optional[str]:
            name = mapping.get(role)
            return row.fields.get(name) if name else None

        for role, name in mapping.items():
            text = row.fields.get(name)
            if text is not None and len(text) > self.options.max_field:
                raise _Refused(Problem.at(path, row.line, name, f"longer than {self.options.max_field} characters"))
        body = (value("text") or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        if not body:
            raise _Refused(Problem.at(path, row.line, mapping["text"], "no text: an article needs one"))
        title = " ".join((value("title") or "").split())
        try:
            published = published_date(value("published")) if "published" in mapping else self.options.published
        except ValueError:
            raise _Refused(Problem.at(
                path, row.line, mapping["published"], f"{_short(value('published'))!r} is not a date",
                "give YYYY-MM-DD, an ISO date-time or an RFC 2822 date, or leave it empty",
            )) from None
        doc_id = None
        if "id" in mapping:
            doc_id = (value("id") or "").strip()
            if not _ID.match(doc_id):
                raise _Refused(Problem.at(path, row.line, mapping["id"], f"{_short(doc_id)!r} cannot be an id: letters, digits, '_', '.', '-', starting with a letter or digit"))
        url = ((value("url") or "").strip() or None) if "url" in mapping else None
        outlet = ((value("outlet") or "").strip() or None) if "outlet" in mapping else self.options.outlet
        try:
            data = ((f"{title}\n\n" if title else "") + body + "\n").encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate, as JSON's "\ud800" writes one
            raise _Refused(Problem.at(path, row.line, "-", f"holds {exc.object[exc.start]!r}, half of a UTF-16 pair: not text")) from None
        self.stage(str(path), row.line, data, doc_id, url, published, outlet, None)

    def stage(self, file: str, row: Any, data: bytes, doc_id: Optional[str], url: Optional[str], published: Optional[str], outlet: Optional[str], encoding: Optional[str]) -> None:
        """Check one article's bytes as the build will read them, and stage
        its raw file and its line."""
        digest = hashlib.sha256(data).hexdigest()

        def refused(message: str, fix: Optional[str] = None) -> _Refused:
            # A file is named alone; a row of a dump by its line.
            return _Refused(Problem(message, file, fix=fix) if row == "-" else Problem.at(file, row, "-", message, fix))

        key = bytes.fromhex(digest)
        if key in self.known.by_sha256:
            raise refused(f"its bytes are already in the corpus (id {self.known.by_sha256[key]}, sha256 {digest[:16]}...)", "nothing to add")
        script = self.table.get(self.options.language).script if self.options.language else None
        try:
            text, codec = decode(data, file, encoding, script)
        except IngestError as exc:
            message = exc.problem.message.replace(" in sources.jsonl", "").replace(" and no encoding declared", " and no --encoding given")
            if "not UTF-8" in message:
                fix = "pass --encoding CODEC" + ("" if script else ", or --language L whose script decides between cp1256 and cp1251")
            elif "declared" in message:
                fix = "give the file's own codec with --encoding"
            else:
                fix = "leave it out: it is not a text article"
            raise refused(message, fix) from None
        if doc_id is not None and doc_id in self.known.ids:
            raise refused(f"id {doc_id!r} is already in the corpus", "give each article its own id")
        number = self.known.next_number
        name = f"{number:03d}_{digest[:16]}.txt"
        if (self.corpus.raw_dir / name).exists() or (self.corpus.raw_dir / name).is_symlink():
            raise refused(f"raw/{name} already exists and is not in sources.jsonl", "move that file away, or add its line")
        language, how = self.language_of(text, file if row == "-" else f"{file}:{row}")
        record: dict[str, Any] = {
            "id": doc_id or name[:-4], "file": name, "sha256": digest, "language": language,
            "outlet": outlet, "url": url, "published": published, "license": self.options.license,
        }
        if how == "detected":
            record["language_source"] = "detected"
        declared = _declared_codec(data, codec)
        if declared:
            record["encoding"] = declared
        (self.staged_raw / name).write_bytes(data)
        self.lines.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.names.append(name)
        self.known.next_number += 1
        self.known.by_sha256[key] = record["id"]
        self.known.ids.add(record["id"])
        self._flush()
        r = self.result
        r.added += 1
        r.first_id = r.first_id or record["id"]
        r.last_id = record["id"]
        r.languages[(language or "null", how)] += 1

    def language_of(self, text: str, where: str) -> tuple[Optional[str], str]:
        """(language, how it is known): given, or the tagger's answer when it
        is sure and the language is in languages.yaml, else (None, "unknown")."""
        if self.options.language:
            return self.options.language, "given"
        from parallel_corpus.stages.langid import tag

        blocks: list[str] = []
        read = 0
        for line in text.split("\n"):
            if line.strip():
                blocks.append(line.strip())
                read += len(line) + 1
                if read >= _DETECT_CHARS:
                    break
        answer = tag(blocks, self.table, self.tagger) if blocks else None
        if answer is not None and answer.language.code in self.table.languages and answer.probability >= DETECTED_MIN_PROBABILITY:
            return answer.language.iso639_1, "detected"
        if answer is None or not answer.probability:
            best = "no language recognised"
        elif answer.language.code not in self.table.languages:
            best = f"best guess {answer.language.iso639_1}, which languages.yaml does not list"
        else:
            best = f"best guess {answer.language.iso639_1} p={answer.probability:.2f}"
        self.note(f"{where}: language not given and not detected with confidence ({best}): recorded null; pass --language to declare it")
        return None, "unknown"

    @property
    def tagger(self) -> Any:
        if self._tagger is None:
            from parallel_corpus._fast.ngram_detector import Detector

            self._tagger = Detector(int(self.corpus.dataset().get("seed", 0)))
        return self._tagger

    # -- the end -----------------------------------------------------------------

    def finish(self) -> None:
        """Refuse an add that added nothing: with one refusal, that is the
        line; with several, each was named already."""
        self.lines.close()
        if self.result.added:
            return
        if self.held is not None and self.problems == 1:
            raise IntakeError(self.held)
        raise IntakeError(Problem(f"nothing added: {self.problems} article(s) refused, each named above", str(self.corpus.sources_path)))

    def commit(self) -> AddResult:
        """Write sources.jsonl with the new lines, moving the staged raw files
        into raw/ before it replaces the old one; on failure, take them back."""
        raw = self.corpus.raw_dir
        raw.mkdir(exist_ok=True)
        moved: list[Path] = []
        try:
            with atomic_file(self.corpus.sources_path, binary=True) as out:
                if self.corpus.sources_path.exists():
                    with open(self.corpus.sources_path, "rb") as old:
                        shutil.copyfileobj(old, out)
                        if old.tell():
                            old.seek(-1, os.SEEK_END)
                            if old.read(1) != b"\n":
                                out.write(b"\n")  # a last line without its newline
                with open(self.lines_path, "rb") as new:
                    shutil.copyfileobj(new, out)
                for name in self.names:
                    target = raw / name
                    if target.exists() or target.is_symlink():
                        raise IntakeError(Problem("appeared while adding, and is not in sources.jsonl", str(target), fix="move it away and add again"))
                    os.rename(self.staged_raw / name, target)
                    moved.append(target)
        except BaseException:
            for target in moved:
                target.unlink(missing_ok=True)
            raise
        langs = sorted({lang for (lang, _), _ in self.result.languages.items() if lang != "null"} - self.dataset_languages)
        if langs:
            self.note(f"{self.corpus.path('dataset.yaml')}: languages does not list {', '.join(langs)}: add them there for the card and the tagger")
        self._flush()
        return self.result


_OPENS_TREC = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<DOC[\s>]", re.IGNORECASE)


def _declared_codec(data: bytes, codec: str) -> Optional[str]:
    """The codec to write as `encoding`: the build takes UTF-8 (with or
    without BOM) and BOM-marked UTF-16 by itself; any other codec it reads
    only when declared."""
    if codec in ("utf-8", "utf-8-sig"):
        return None
    if codec == "utf-16" and data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    return codec


def _short(value: Optional[str], width: int = 40) -> str:
    text = value or ""
    return text if len(text) <= width else text[: width - 1] + "…"
