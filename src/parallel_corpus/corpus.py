"""The corpus folder: `sources.jsonl`, `dataset.yaml` and the curated YAML.

Everything a build reads from the maintainers lives here and is validated
against `schemas/` on load, so a typo surfaces as `file:row:field: message`
before any document is processed.
"""

from __future__ import annotations

import json
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

import yaml

from parallel_corpus.jsontext import loads
from parallel_corpus import schema
from parallel_corpus.errors import Error, Problem
from parallel_corpus._fast.yamlfast import SafeLoader, safe_load


class CorpusError(Error, ValueError):
    """Curated corpus data that cannot be used; its problems name file, row and field."""


def parse_yaml(text: str) -> Any:
    """YAML with the safe constructors (the same types as yaml.safe_load),
    built from libyaml's events where the document allows (`yamlfast`):
    the gazetteer of a large corpus is read by every build and every worker
    that loads the stages itself."""
    return safe_load(text)


def load_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_yaml(fh.read())
    except FileNotFoundError:
        raise CorpusError(Problem("no such file", str(path))) from None
    except yaml.YAMLError as exc:
        raise yaml_error(path, exc) from None
    except UnicodeDecodeError:
        raise CorpusError(Problem("not UTF-8 text", str(path))) from None


def load_curated(location: Any, filename: str, schema_name: str) -> Any:
    """A curated YAML file of a corpus (the folder or the file itself),
    parsed and checked against `schemas/<schema_name>.schema.json`; any
    problem is one CorpusError line naming the file and line."""
    path = Path(location)
    if path.is_dir():
        path = path / filename
    data = load_yaml(path)
    check_curated(data, path, schema_name)
    return data


def check_curated(data: Any, path: Path, schema_name: str) -> None:
    """Check `data` against its schema, one line per error (a build error is
    one line; `parallel-corpus validate` lists them all)."""
    import jsonschema

    from parallel_corpus.schema import load_schema, quick_check

    if quick_check(schema_name, formats=False)(data):
        return
    validator = jsonschema.Draft202012Validator(load_schema(schema_name))
    if validator.is_valid(data):
        return
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        problems = schema_error_lines(schema_name, data, path) or [
            Problem.at(path, "-", ".".join(str(p) for p in e.absolute_path) or "-", e.message) for e in errors
        ]
        raise CorpusError(problems, more_hint=f"fix it as schemas/{schema_name}.schema.json allows")


def yaml_problem(exc: yaml.YAMLError) -> tuple[Optional[int], str]:
    """(0-based line or None, what is wrong) of a YAML error, for one line
    of output (PyYAML's own message spans several)."""
    mark = getattr(exc, "problem_mark", None)
    return (mark.line if mark else None), getattr(exc, "problem", None) or str(exc).splitlines()[0]


def yaml_error(path: Path, exc: yaml.YAMLError) -> CorpusError:
    """One line for a YAML file that does not parse: where it breaks and why."""
    line, problem = yaml_problem(exc)
    return CorpusError(Problem(f"malformed YAML: {problem}", str(path), str(line + 1) if line is not None else None, fix="fix the file (`parallel-corpus validate` lists every problem)"))


def yaml_line(path: Path, field_path: Sequence[Any]) -> Optional[int]:
    """1-based line of the value at `field_path` (mapping keys, list indexes) in a
    YAML file, or of the deepest part of it that exists; None if it does not parse.
    Validation messages then point at a line, as they do for sources.jsonl."""
    try:
        node = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in field_path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and str(key).isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def schema_error_lines(schema_name: str, data: Any, path: Path) -> list[Problem]:
    """Every way a curated YAML file breaks its schema, at its line and field."""
    if not isinstance(data, dict):
        return [Problem.at(path, 1, "-", f"expected a mapping at the top, got {type(data).__name__}")]
    return [
        Problem.at(path, yaml_line(path, field.split(".")) if field != "-" else "-", field, message)
        for field, message in schema.record_errors(schema_name, data)
    ]


def check_record(schema_name: str, record: Any, file: Any, row: Any = "-", from_json: bool = False) -> list[Problem]:
    """Every way a record (row `row` of `file`) breaks its schema
    (`schema.record_errors`; `from_json`: parsed from JSON)."""
    if not isinstance(record, dict):
        return [Problem.at(file, row, "-", f"expected an object, got {type(record).__name__}")]
    return [Problem.at(file, row, path, message) for path, message in schema.record_errors(schema_name, record, from_json)]


@dataclass(frozen=True)
class Source:
    """One line of `sources.jsonl`."""

    id: str
    file: str
    sha256: str
    language: Optional[str]
    outlet: Optional[str]
    url: Optional[str]
    published: Optional[str]
    license: Optional[str]
    encoding: Optional[str] = None
    # "detected" when `parallel-corpus add` found the language in the text; absent: given.
    language_source: Optional[str] = None
    row: int = 0  # 1-based line in sources.jsonl, for error messages

    @property
    def declared_language(self) -> Optional[str]:
        """The language whoever added the file declared: a detected one is a
        guess, and the build makes its own."""
        return None if self.language_source == "detected" else self.language

    def as_record(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("id", "file", "sha256", "language", "outlet", "url", "published", "license")}
        for k in ("language_source", "encoding"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


def read_sources(path: Path) -> tuple[list[Source], list[Problem]]:
    """Every valid source, and a message for every invalid line."""
    sources: list[Source] = []
    errors = _scan_sources(path, lambda source, offset: sources.append(source))
    if errors == [_not_utf8(path)]:
        return [], errors
    return sources, errors


def _not_utf8(path: Path) -> Problem:
    return Problem.at(path, "-", "-", "not UTF-8 text")


class SourceList(Sequence[Source]):
    """The sources of a `sources.jsonl`, in id order, each parsed from its
    line only when asked for: a corpus of any size costs a few bytes a
    source until a chunk of them is built. Their languages are kept, for
    the reference checks, and their files, for the build's listing of raw/
    (parsing 100,000 lines again to name their files took 2 s). The file
    must not change while the list is in use: its size and modification
    time are checked at every read."""

    def __init__(self, path: Path, offsets: array, rows: array, languages: list[Optional[str]], files: list[str], stamp: tuple[int, int]):
        self.path = path
        self._offsets = offsets
        self._rows = rows
        self.languages = languages
        self.files = files
        self._stamp = stamp

    @classmethod
    def read(cls, path: Path) -> tuple["SourceList", list[Problem]]:
        """The valid sources, and a message for every invalid line."""
        found: list[tuple[str, int, int, Optional[str], str]] = []

        def keep(source: Source, offset: int) -> None:
            found.append((source.id, offset, source.row, sys.intern(source.language) if source.language else None, source.file))

        stamp = _stamp(path)
        errors = _scan_sources(path, keep)
        found.sort()
        offsets = array("q", [f[1] for f in found])
        rows = array("q", [f[2] for f in found])
        return cls(path, offsets, rows, [f[3] for f in found], [f[4] for f in found], stamp), errors

    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return self._parse(self._offsets[index], self._rows[index])
        return self._parse([self._offsets[index]], [self._rows[index]])[0]

    def __iter__(self) -> Iterator[Source]:
        for start in range(0, len(self), 1000):
            yield from self[start : start + 1000]

    def _parse(self, offsets: Iterable[int], rows: Iterable[int]) -> list[Source]:
        if _stamp(self.path) != self._stamp:
            raise CorpusError(Problem("changed while the build was reading it", str(self.path), fix="run the build again once it is saved"))
        out = []
        with open(self.path, "rb") as fh:
            for offset, row in zip(offsets, rows):
                fh.seek(offset)
                line = fh.readline().decode("utf-8-sig")
                out.append(Source(row=row, **json.loads(line)))
        return out


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)


def _scan_sources(path: Path, keep: Callable[[Source, int], None]) -> list[Problem]:
    """Check every line of `sources.jsonl`, line by line, hand each valid
    source to `keep` with the byte offset of its line, and return a message
    for every invalid line."""
    errors: list[Problem] = []
    seen_ids: dict[str, int] = {}
    seen_files: dict[str, int] = {}
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return [Problem.at(path, "-", "-", "no such file", "a corpus needs a sources.jsonl")]
    with fh:
        offset = 0
        for row, raw_line in enumerate(fh, start=1):
            line_offset, offset = offset, offset + len(raw_line)
            try:
                line = raw_line.decode("utf-8-sig" if row == 1 else "utf-8")
            except UnicodeDecodeError:
                return [_not_utf8(path)]
            if not line.strip():
                continue
            try:
                record = loads(line)
            except json.JSONDecodeError as exc:
                errors.append(Problem.at(path, row, "-", f"not valid JSON: {exc.msg}"))
                continue
            problems = check_record("sources", record, path, row, from_json=True)
            if problems:
                errors.extend(problems)
                continue
            for key, seen in (("id", seen_ids), ("file", seen_files)):
                if record[key] in seen:
                    errors.append(Problem.at(path, row, key, f"duplicate {key} {record[key]!r} (first on line {seen[record[key]]})"))
                seen[record[key]] = row
            problem = unsafe_relative_path(record["file"])
            if problem:
                errors.append(Problem.at(path, row, "file", problem))
                continue
            keep(Source(row=row, **record), line_offset)
    return errors


def unsafe_relative_path(name: str) -> Optional[str]:
    """Why `name` may not be used as a path inside `raw/`, or None. Most
    names hold no NUL, `..` or `:` and start with no slash: they are safe
    without a Path (a build judges every source's)."""
    if name and "\x00" not in name and ".." not in name and ":" not in name and not name.startswith(("/", "\\")):
        return None
    return path_problem(name)


def path_problem(name: str) -> Optional[str]:
    """`unsafe_relative_path` judged with a Path, whatever the name."""
    if not name or "\x00" in name:
        return f"{name!r} is empty or holds a NUL byte: give the file's name in raw/"
    p = Path(name)
    if p.is_absolute() or name.startswith(("/", "\\")):
        return f"{name!r} is absolute: give a path relative to raw/"
    if ".." in p.parts:
        return f"{name!r} points outside raw/"
    return None


@dataclass
class Corpus:
    """A corpus folder of the shape of this repository's `corpus/`."""

    root: Path

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def sources_path(self) -> Path:
        return self.root / "sources.jsonl"

    def path(self, name: str) -> Path:
        return self.root / name

    def has(self, name: str) -> bool:
        return (self.root / name).is_file()

    def dataset(self) -> dict[str, Any]:
        path = self.root / "dataset.yaml"
        data = load_yaml(path)
        problems = check_record("dataset", data, path)
        if problems:
            raise CorpusError(problems[0])
        total = sum(data["splits"].values())
        if abs(total - 1.0) > 1e-9:
            raise CorpusError(Problem.at(path, "-", "splits", f"ratios sum to {total}, not 1"))
        return data

    def sources(self) -> list[Source]:
        sources, errors = read_sources(self.sources_path)
        if errors:
            raise CorpusError(errors)
        return sources

    def source_list(self) -> SourceList:
        """The sources in id order, parsed on demand (what a build iterates)."""
        sources, errors = SourceList.read(self.sources_path)
        if errors:
            raise CorpusError(errors)
        return sources

    def resolve_raw(self, source: Source) -> Path:
        """The raw file of a source, refusing anything that leaves `raw/`
        (a `../` path, an absolute path, or a symlink pointing out)."""
        problem = unsafe_relative_path(source.file)
        if problem:
            raise CorpusError(Problem.at(self.sources_path, source.row, "file", problem))
        path = self.raw_dir / source.file
        try:
            real = path.resolve(strict=True)
        except FileNotFoundError:
            raise CorpusError(Problem.at(self.sources_path, source.row, "file", f"raw/{source.file} does not exist", "restore the file or remove its line")) from None
        if not real.is_relative_to(self.raw_dir.resolve()):
            raise CorpusError(Problem.at(self.sources_path, source.row, "file", f"{source.file!r} resolves outside raw/ (a symlink?)", "copy the article into raw/ instead"))
        if not real.is_file():
            raise CorpusError(Problem.at(self.sources_path, source.row, "file", f"raw/{source.file} is not a file (a folder?)", "name the article's file"))
        return real


def language_codes(corpus: Corpus) -> Optional[set[str]]:
    """Every code `languages.yaml` names (keys and ISO 639-1), or None without a readable table."""
    try:
        data = load_yaml(corpus.path("languages.yaml"))
    except CorpusError:
        return None
    table = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        return None
    return {str(k) for k in table} | {str(v["iso639_1"]) for v in table.values() if isinstance(v, dict) and "iso639_1" in v}


def _entity_qids(corpus: Corpus) -> Optional[set[str]]:
    if not corpus.has("entities.yaml"):
        return None
    try:
        data = load_yaml(corpus.path("entities.yaml"))
    except CorpusError:
        return None
    entities = data.get("entities") if isinstance(data, dict) else None
    # An entity without a QID is named by its canonical name (see entities.entity_key).
    return {str(e.get("qid") or e.get("canonical")) for e in entities if isinstance(e, dict)} if isinstance(entities, list) else None


def reference_errors(corpus: Corpus, sources: Optional[Sequence[Source]] = None) -> list[Problem]:
    """The problems of curated data that parses but names what does not
    exist: a language `languages.yaml` does not know (in sources.jsonl or
    dataset.yaml), a topic or event entity that `entities.yaml` lacks. The schemas
    cannot see across files; without these checks a typo builds silently.
    `sources`, when the caller has read them, are not read again."""
    errors: list[Problem] = []
    known = language_codes(corpus)
    if known is not None:
        if sources is None:
            sources, _ = read_sources(corpus.sources_path)
        if isinstance(sources, SourceList):
            # Parse only the lines whose language is unknown, to name their rows.
            unknown = [i for i, lang in enumerate(sources.languages) if lang is not None and lang not in known]
            flagged: Sequence[Source] = sorted((sources[i] for i in unknown), key=lambda s: s.row)
        else:
            flagged = [s for s in sources if s.language is not None and s.language not in known]
        for s in flagged:
            errors.append(Problem.at(
                corpus.sources_path, s.row, "language", f"{s.language!r} is not a language of languages.yaml",
                "use its ISO 639-1 code (null where unknown) or add the language to languages.yaml",
            ))
        path = corpus.path("dataset.yaml")
        try:
            dataset = load_yaml(path) if path.exists() else None
        except CorpusError:
            dataset = None
        codes = dataset.get("languages") if isinstance(dataset, dict) else None
        for i, code in enumerate(codes if isinstance(codes, list) else []):
            if str(code) not in known:
                errors.append(Problem.at(
                    path, yaml_line(path, ["languages", i]) or "-", f"languages.{i}", f"{code!r} is not a language of languages.yaml",
                    "use its ISO 639-1 code or add the language to languages.yaml",
                ))
    path = corpus.path("topics.yaml")
    # Only a catalog names entities: without one, the gazetteer (which may be
    # large) is not parsed here.
    qids = _entity_qids(corpus) if path.exists() else None
    if qids is not None:
        try:
            data = load_yaml(path)
        except CorpusError:
            data = None
        topics = data.get("topics") if isinstance(data, dict) else None
        for ti, topic in enumerate(topics if isinstance(topics, list) else []):
            if not isinstance(topic, dict):
                continue
            named = [(["topics", ti, "entities", i], q) for i, q in enumerate(topic.get("entities") or [])]
            for vi, event in enumerate(topic.get("events") or []):
                if isinstance(event, dict):
                    named += [(["topics", ti, "events", vi, "entities", i], q) for i, q in enumerate(event.get("entities") or [])]
                    if event.get("place"):
                        named.append((["topics", ti, "events", vi, "place"], event["place"]))
            for field_path, qid in named:
                if str(qid) not in qids:
                    errors.append(Problem.at(
                        path, yaml_line(path, field_path) or "-", ".".join(map(str, field_path)), f"{qid} is not an entity of entities.yaml",
                        "add the entity there or correct the QID (an entity without a QID is named by its canonical name)",
                    ))
    return errors
