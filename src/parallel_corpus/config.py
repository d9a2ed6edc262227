"""The corpus folder: `sources.jsonl`, `dataset.yaml` and the curated YAML.

Everything a build reads from the maintainers lives here and is validated
against `schemas/` on load, so a typo surfaces as `file:row:field: message`
before any document is processed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from . import schema


class CorpusError(ValueError):
    """Curated corpus data that cannot be used; the message names file, row and field."""


# libyaml's loader where it is installed: the gazetteer of a large corpus is
# read by every worker, and the pure-Python parser is ten times slower.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """YAML with the safe constructors (the same types as yaml.safe_load)."""
    return yaml.load(text, Loader=SafeLoader)


def load_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_yaml(fh.read())
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CorpusError(f"{where}: malformed YAML: {problem}") from None
    except UnicodeDecodeError:
        raise CorpusError(f"{path}: not UTF-8 text") from None


def check_record(schema_name: str, record: Any, where: str) -> list[str]:
    """`where:field: message` lines for a record that breaks its schema."""
    if not isinstance(record, dict):
        return [f"{where}:-: expected an object, got {type(record).__name__}"]
    return [f"{where}:{path}: {message}" for path, message in schema.record_errors(schema_name, record)]


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
    row: int = 0  # 1-based line in sources.jsonl, for error messages

    def as_record(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("id", "file", "sha256", "language", "outlet", "url", "published", "license")}
        if self.encoding is not None:
            out["encoding"] = self.encoding
        return out


def read_sources(path: Path) -> tuple[list[Source], list[str]]:
    """Every valid source, and a message for every invalid line."""
    sources: list[Source] = []
    errors: list[str] = []
    seen_ids: dict[str, int] = {}
    seen_files: dict[str, int] = {}
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], [f"{path}:-:-: no such file: a corpus needs a sources.jsonl"]
    try:
        lines = raw.decode("utf-8-sig").split("\n")
    except UnicodeDecodeError:
        return [], [f"{path}:-:-: not UTF-8 text"]
    for row, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{path}:{row}:-: not valid JSON: {exc.msg}")
            continue
        problems = check_record("sources", record, f"{path}:{row}")
        if problems:
            errors.extend(problems)
            continue
        for key, seen in (("id", seen_ids), ("file", seen_files)):
            if record[key] in seen:
                errors.append(f"{path}:{row}:{key}: duplicate {key} {record[key]!r} (first on line {seen[record[key]]})")
            seen[record[key]] = row
        problem = unsafe_relative_path(record["file"])
        if problem:
            errors.append(f"{path}:{row}:file: {problem}")
            continue
        sources.append(Source(row=row, **record))
    return sources, errors


def unsafe_relative_path(name: str) -> Optional[str]:
    """Why `name` may not be used as a path inside `raw/`, or None."""
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
        problems = check_record("dataset", data, str(path) + ":-")
        if problems:
            raise CorpusError(problems[0])
        total = sum(data["splits"].values())
        if abs(total - 1.0) > 1e-9:
            raise CorpusError(f"{path}:-:splits: ratios sum to {total}, not 1")
        return data

    def sources(self) -> list[Source]:
        sources, errors = read_sources(self.sources_path)
        if errors:
            raise CorpusError(errors[0] + (f" (and {len(errors) - 1} more; run `parallel-corpus validate`)" if len(errors) > 1 else ""))
        return sources

    def resolve_raw(self, source: Source) -> Path:
        """The raw file of a source, refusing anything that leaves `raw/`
        (a `../` path, an absolute path, or a symlink pointing out)."""
        problem = unsafe_relative_path(source.file)
        if problem:
            raise CorpusError(f"{self.sources_path}:{source.row}:file: {problem}")
        path = self.raw_dir / source.file
        try:
            real = path.resolve(strict=True)
        except FileNotFoundError:
            raise CorpusError(f"{self.sources_path}:{source.row}:file: {path} does not exist") from None
        if not real.is_relative_to(self.raw_dir.resolve()):
            raise CorpusError(f"{self.sources_path}:{source.row}:file: {source.file!r} resolves outside raw/ (a symlink?)")
        return real
