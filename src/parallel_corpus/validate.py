"""Validate: corpus folders, annotation files and releases against `schemas/`.

Every check yields `file:row:field: message` lines, so a CI log points at the
exact place. Releases are checked both ways, because `datasets` loads a
declared column that is missing from a Parquet file silently as nulls, and
fails on an undeclared one only at load time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from .jsontext import loads
from . import schema
from .config import Corpus, CorpusError, check_record, load_yaml, read_sources, reference_errors, schema_error_lines, yaml_problem
from .ingest import sha256_file


@dataclass(frozen=True)
class Violation:
    file: str
    row: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.field}: {self.message}"


def _from_line(line: str) -> Violation:
    """A `file:row:field: message` string back into its parts."""
    head, _, message = line.partition(": ")
    parts = head.rsplit(":", 2)
    while len(parts) < 3:
        parts.append("-")
    return Violation(parts[0], parts[1], parts[2], message)


def _from_error(exc: Exception, path: Path) -> Violation:
    """A violation of an error message, which names its own place when it
    can (`file:row:field: ...`) and otherwise belongs to `path` as a whole."""
    message = str(exc)
    return _from_line(message if message.count(":") >= 2 else f"{path}:-:-: {message}")


# -- schemas --------------------------------------------------------------------


def validate_schemas(folder: Optional[Path] = None) -> Iterator[Violation]:
    """Every schema file is valid JSON Schema and maps to Arrow types."""
    import jsonschema

    folder = folder or schema.schemas_dir()
    for path in sorted(folder.glob("*.schema.json")):
        try:
            doc = loads(path.read_text(encoding="utf-8"))
            jsonschema.validators.validator_for(doc).check_schema(doc)
            if "properties" in doc and path.name.split(".")[0] in schema.CONFIG_SCHEMAS:
                schema.arrow_schema(path.name.split(".")[0])
        except json.JSONDecodeError as exc:
            yield Violation(str(path), str(exc.lineno), "-", f"not valid JSON: {exc.msg}")
        except jsonschema.SchemaError as exc:
            yield Violation(str(path), "-", ".".join(map(str, exc.path)) or "-", f"not valid JSON Schema: {exc.message}")
        except schema.SchemaError as exc:
            yield Violation(str(path), "-", "-", str(exc))


# -- corpus ---------------------------------------------------------------------

# Curated YAML files and the schema each must satisfy (when both exist).
CURATED = {
    "dataset.yaml": "dataset", "entities.yaml": "entities", "topics.yaml": "topics", "dates.yaml": "dates", "alignment.yaml": "alignment",
    "cleaning.yaml": "cleaning", "languages.yaml": "languages",
}


def validate_corpus(root: Path) -> Iterator[Violation]:
    corpus = Corpus(root)
    sources, errors = read_sources(corpus.sources_path)
    for line in errors:
        yield _from_line(line)
    listed = set()
    for s in sources:
        listed.add(s.file)
        where = (str(corpus.sources_path), str(s.row))
        try:
            path = corpus.resolve_raw(s)
        except CorpusError as exc:
            yield _from_line(str(exc))
            continue
        digest = sha256_file(path)
        if digest != s.sha256:
            yield Violation(*where, "sha256", f"raw/{s.file} has sha256 {digest}, not the recorded one: the raw bytes changed; restore them or update the line")
    if corpus.raw_dir.is_dir():
        for p in sorted(corpus.raw_dir.rglob("*")):
            name = str(p.relative_to(corpus.raw_dir))
            if p.is_file() and not p.name.startswith(".") and name not in listed:
                yield Violation(str(p), "-", "-", "not listed in sources.jsonl: add a line for it or remove the file")
    for name, schema_name in CURATED.items():
        path = corpus.path(name)
        if not path.exists():
            if name == "dataset.yaml":
                yield Violation(str(path), "-", "-", "missing: a corpus needs a dataset.yaml")
            elif name in ("cleaning.yaml", "languages.yaml"):
                yield Violation(str(path), "-", "-", f"missing: a corpus needs {name} (copy the one of this repository)")
            continue
        try:
            data = load_yaml(path)
        except CorpusError as exc:
            yield _from_error(exc, path)
            continue
        if (schema.schemas_dir() / f"{schema_name}.schema.json").exists():
            for line in schema_error_lines(schema_name, data, path):
                yield _from_line(line)
    for line in reference_errors(corpus):
        yield _from_line(line)


# -- annotations ------------------------------------------------------------------


def validate_annotations(folder: Path) -> Iterator[Violation]:
    """Every annotation file of a folder (the quarantine holds what failed on purpose)."""
    for path in sorted(Path(folder).glob("*.jsonl")):
        if not path.name.startswith("quarantine"):
            yield from validate_annotations_file(path)


def validate_annotations_file(path: Path) -> Iterator[Violation]:
    if not (schema.schemas_dir() / "annotations.schema.json").exists():
        return
    for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = loads(line)
        except json.JSONDecodeError as exc:
            yield Violation(str(path), str(row), "-", f"not valid JSON: {exc.msg}")
            continue
        for problem in check_record("annotations", record, f"{path}:{row}"):
            yield _from_line(problem)


# -- releases ---------------------------------------------------------------------


def _card_shape(meta: dict, readme: str) -> Iterator[Violation]:
    """The shapes of the card's `configs` and `dataset_info` that the checks
    below read: lists of mappings whose names and paths are strings and
    whose counts are integers. A card that someone else wrote may hold
    anything there."""

    def items(value: object, where: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            problems.append(Violation(readme, "-", where, "must be a list of mappings: republish the release"))
            return []
        return value

    def text(entry: dict, key: str, where: str, required: bool = True) -> None:
        if (key in entry or required) and not isinstance(entry.get(key), str):
            problems.append(Violation(readme, "-", f"{where}.{key}", "must be a string: republish the release"))

    problems: list[Violation] = []
    for c, cfg in enumerate(items(meta.get("configs"), "configs")):
        text(cfg, "config_name", f"configs[{c}]", required=False)
        for d, df in enumerate(items(cfg.get("data_files"), f"configs[{c}].data_files")):
            text(df, "split", f"configs[{c}].data_files[{d}]")
            text(df, "path", f"configs[{c}].data_files[{d}]")
    for i, info in enumerate(items(meta.get("dataset_info"), "dataset_info")):
        text(info, "config_name", f"dataset_info[{i}]", required=False)
        for k, split in enumerate(items(info.get("splits"), f"dataset_info[{i}].splits")):
            text(split, "name", f"dataset_info[{i}].splits[{k}]")
            count = split.get("num_examples")
            if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
                problems.append(Violation(readme, "-", f"dataset_info[{i}].splits[{k}].num_examples", "must be an integer: republish the release"))
    yield from problems


def validate_release(folder: Path, registry: Optional[Path] = None) -> Iterator[Violation]:
    """A published folder: card YAML, Parquet columns both ways, split counts, checksums."""
    import datasets

    from .card import read_front_matter
    from .publish import CHECKSUMS, read_registry, release_files

    folder = Path(folder)
    readme = folder / "README.md"
    try:
        meta = read_front_matter(readme)
    except FileNotFoundError:
        yield Violation(str(readme), "-", "-", "missing: a release needs its card")
        return
    except yaml.YAMLError as exc:
        # The front matter starts on the card's second line.
        line, problem = yaml_problem(exc)
        yield Violation(str(readme), str(line + 2) if line is not None else "-", "-", f"unreadable card YAML: {problem}")
        return
    except Exception as exc:  # our own ValueError
        yield Violation(str(readme), "-", "-", f"unreadable card YAML: {exc}")
        return
    shape = list(_card_shape(meta, str(readme)))
    if shape:
        yield from shape
        return
    infos = {i.get("config_name", "default"): i for i in meta.get("dataset_info") or []}
    for cfg in meta.get("configs") or []:
        name = cfg.get("config_name", "default")
        info = infos.get(name)
        if info is None:
            yield Violation(str(readme), "-", f"dataset_info.{name}", "config has no dataset_info entry")
            continue
        try:
            declared = datasets.Features._from_yaml_list(info["features"])
        except Exception as exc:
            yield Violation(str(readme), "-", f"dataset_info.{name}.features", f"unreadable features: {exc}")
            continue
        if name in schema.CONFIG_SCHEMAS and (schema.schemas_dir() / f"{name}.schema.json").exists():
            expected = schema.features(name)
            if declared != expected:
                yield Violation(str(readme), "-", f"dataset_info.{name}.features", "differ from schemas/" + f"{name}.schema.json")
        counts = {s["name"]: s.get("num_examples") for s in info.get("splits") or []}
        for df in cfg.get("data_files") or []:
            split, rel = df.get("split"), df.get("path")
            path = folder / rel
            if not path.is_file():
                yield Violation(str(path), "-", "-", f"missing: config {name} split {split} declares it")
                continue
            yield from _check_parquet(path, declared.arrow_schema, counts.get(split), name, split)
    # checksums written at publish time
    sums = folder / CHECKSUMS
    actual = release_files(folder)
    if sums.is_file():
        recorded = {}
        for row, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
            digest, _, name = line.partition("  ")
            recorded[name] = digest
        for name in sorted(set(recorded) | set(actual)):
            if name not in actual:
                yield Violation(str(folder / name), "-", "-", f"listed in {CHECKSUMS} but missing")
            elif name not in recorded:
                yield Violation(str(folder / name), "-", "-", f"not listed in {CHECKSUMS}")
            elif recorded[name] != actual[name]:
                yield Violation(str(folder / name), "-", "sha256", f"is {actual[name]}, {CHECKSUMS} says {recorded[name]}: the file changed after publishing")
    else:
        yield Violation(str(sums), "-", "-", "missing: a release lists its files' sha256")
    if registry is not None and registry.exists():
        version = folder.name.lstrip("v")
        entry = read_registry(registry).get(version)
        if entry is not None:
            for name in sorted(set(entry["files"]) | set(actual)):
                if entry["files"].get(name) != actual.get(name):
                    yield Violation(str(folder / name), "-", "sha256", f"differs from release v{version} in {registry}: rebuild it from commit {entry.get('commit')}")


def _check_parquet(path: Path, declared: pa.Schema, expected_rows: Optional[int], config: str, split: str) -> Iterator[Violation]:
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        yield Violation(str(path), "-", "-", f"not a readable Parquet file: {exc}")
        return
    actual = pf.schema_arrow
    declared_names = set(declared.names)
    for f in actual:
        if f.name not in declared_names:
            yield Violation(str(path), "-", f.name, f"column is not declared in the card's features of config {config}")
    for f in declared:
        if f.name not in actual.names:
            yield Violation(str(path), "-", f.name, "declared column is missing from the file (datasets would load it as nulls)")
        elif not actual.field(f.name).type.equals(f.type):
            yield Violation(str(path), "-", f.name, f"type {actual.field(f.name).type} differs from declared {f.type}")
    rows = pf.metadata.num_rows
    if expected_rows is not None and rows != expected_rows:
        yield Violation(str(path), "-", "num_examples", f"{rows} rows, the card's {config}/{split} split says {expected_rows}")


# -- dispatch -----------------------------------------------------------------------


def kind_of(path: Path) -> str:
    if path.is_dir() and (path / "sources.jsonl").exists():
        return "corpus"
    if path.is_dir() and (path / "README.md").exists() and (path / "data").is_dir():
        return "release"
    if path.is_dir() and (any(path.glob("*.jsonl")) or path.name == "annotations"):
        return "annotations"
    if path.is_dir() and any(path.glob("*.schema.json")):
        return "schemas"
    if path.is_dir() and any(p.is_dir() and p.name.startswith("v") for p in path.iterdir()):
        return "dist"
    return "unknown"


def validate_paths(paths: Iterable[Path], registry: Optional[Path] = None) -> list[Violation]:
    """Violations of every path; with none, the current repository's whole tree."""
    out: list[Violation] = []
    paths = list(paths)
    if not paths:
        paths = [p for p in (Path("schemas"), Path("corpus"), Path("annotations"), Path("dist")) if p.exists()]
        out.extend(validate_schemas())
        paths = [p for p in paths if p.name != "schemas"]
        if registry is None and Path("corpus/releases.jsonl").exists():
            registry = Path("corpus/releases.jsonl")
    for path in paths:
        kind = kind_of(path)
        if kind == "corpus":
            out.extend(validate_corpus(path))
            reg = registry or (path / "releases.jsonl")
            if reg.exists():
                from .publish import read_registry, PublishError

                try:
                    read_registry(reg)
                except PublishError as exc:
                    out.append(_from_error(exc, reg))
        elif kind == "release":
            out.extend(validate_release(path, registry))
        elif kind == "dist":
            for release in sorted(p for p in path.iterdir() if p.is_dir() and p.name.startswith("v")):
                out.extend(validate_release(release, registry))
        elif kind == "annotations":
            out.extend(validate_annotations(path))
        elif kind == "schemas":
            out.extend(validate_schemas(path))
        elif path.is_file() and path.suffix == ".jsonl":
            out.extend(validate_annotations_file(path))
        else:
            out.append(Violation(str(path), "-", "-", "not a corpus folder, a release, an annotations folder or a schemas folder"))
    return out
