"""Validate: corpus folders, annotation files and releases against `schemas/`.

Every check yields `file:row:field: message` lines, so a CI log points at the
exact place. Releases are checked both ways, because `datasets` loads a
declared column that is missing from a Parquet file silently as nulls, and
fails on an undeclared one only at load time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from parallel_corpus.align.splits import RECORD_FILE, SplitsFileError, read_recorded
from parallel_corpus.jsontext import loads
from parallel_corpus import schema
from parallel_corpus.corpus import Corpus, CorpusError, check_record, load_yaml, read_sources, reference_errors, schema_error_lines, yaml_problem
from parallel_corpus.errors import Error, Problem
from parallel_corpus.files import sha256_file
from parallel_corpus.records import parquet_name
from parallel_corpus.align.splits import SPLIT_ORDER

_MAX_MESSAGE = 400
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _one_line(text: object, limit: int) -> str:
    """Text for one line of a log: control characters (newlines) as one
    space, what cannot be printed escaped, and at most `limit` characters."""
    text = _CONTROL.sub(" ", str(text)).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Violation:
    file: str
    row: str
    field: str
    message: str

    def __post_init__(self) -> None:
        # Names and messages may come from the input itself.
        for name, limit in (("file", 1000), ("row", 40), ("field", 200), ("message", _MAX_MESSAGE)):
            object.__setattr__(self, name, _one_line(getattr(self, name), limit))

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.field}: {self.message}"


def _from_problem(problem: Problem) -> Violation:
    """A violation of a problem an error or a check named, its parts kept."""
    message = f"{problem.message}: {problem.fix}" if problem.fix else problem.message
    return Violation(problem.file or "-", problem.row or "-", problem.field or "-", message)


def _from_error(exc: Exception, path: Path) -> Iterator[Violation]:
    """The violations of an error: the problems it names, each at its own
    place, or its message for `path` as a whole."""
    if isinstance(exc, Error):
        for problem in exc.problems:
            yield _from_problem(problem if problem.file is not None else replace(problem, file=str(path)))
    else:
        yield Violation(str(path), "-", "-", str(exc))


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
    try:
        read_recorded(corpus.path(RECORD_FILE))
    except SplitsFileError as exc:
        yield from _from_error(exc, corpus.path(RECORD_FILE))
    sources, errors = read_sources(corpus.sources_path)
    for problem in errors:
        yield _from_problem(problem)
    listed = set()
    for s in sources:
        listed.add(s.file)
        where = (str(corpus.sources_path), str(s.row))
        try:
            path = corpus.resolve_raw(s)
        except CorpusError as exc:
            yield from _from_error(exc, corpus.sources_path)
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
            yield from _from_error(exc, path)
            continue
        if (schema.schemas_dir() / f"{schema_name}.schema.json").exists():
            for problem in schema_error_lines(schema_name, data, path):
                yield _from_problem(problem)
    for problem in reference_errors(corpus):
        yield _from_problem(problem)


# -- annotations ------------------------------------------------------------------


def validate_annotations(folder: Path) -> Iterator[Violation]:
    """Every annotation file of a folder (the quarantine holds what failed on purpose)."""
    corpus = (Path(folder) / "sources.jsonl").exists()
    for path in sorted(Path(folder).glob("*.jsonl")):
        if not path.name.startswith("quarantine") and not (corpus and path.name in _CORPUS_JSONL):
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
        for problem in check_record("annotations", record, path, row):
            yield _from_problem(problem)


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


# A release is read as untrusted input: someone else made it, and `validate`
# runs on it in their CI. Nothing outside the folder is opened (links are
# named, never followed; card paths must be plain paths under data/), files
# read whole have a size limit, Parquet is read in batches, and every
# problem, even one pyarrow raises, is a line.
MAX_TEXT_BYTES = 16 * 1024 * 1024  # README.md, croissant.json, checksums.sha256
MAX_ENTRIES = 10_000  # files and folders in one release
MAX_LINES_PER_FILE = 20  # violations printed per file before "and N more"
SPARSE_BYTES = 64 * 1024 * 1024  # a file this large with under 1/8 of it on disk is not hashed
BATCH_ROWS = 512  # rows of Parquet in memory at once
MAX_FLOW_DEPTH = 100  # [ and { nested in the card's YAML (parsing costs the square of the depth)
CROISSANT = "croissant.json"
# The column that names a row, unique within a config across its splits.
ID_COLUMNS = {"documents": "id", "parallel": "topic_id", "pairs": "pair_id", "annotations": "key"}
# Language columns whose schema has no enum: codes as langdetect and ISO 639-1
# write them (sw, ar, zh-cn). Where a schema lists the codes, its enum decides.
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z]{2,4})?")
_GLOB = set("*?[]{}")


class _Refused(Exception):
    """A file that is not opened: not a regular file, or too large."""


def _open_regular(path: Path):
    """`path` opened for reading only if it is a regular file itself (not a
    link, a pipe, a device): the last component is never followed, and a
    pipe cannot block the open."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _Refused("not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_bounded(path: Path, limit: int = MAX_TEXT_BYTES) -> bytes:
    with _open_regular(path) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise _Refused(f"more than {limit} bytes")
    return data


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with _open_regular(path) as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class _Tree:
    """The regular files of a release (relative POSIX path -> size), found
    without following any link, and what else the folder holds."""

    files: dict[str, int]
    problems: list[Violation]
    sparse: set[str]


def _walk(folder: Path) -> _Tree:
    files: dict[str, int] = {}
    problems: list[Violation] = []
    sparse: set[str] = set()
    stack = [""]
    seen = 0
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(folder / rel if rel else folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(Violation(str(folder / rel), "-", "-", f"folder not readable ({exc.strerror}): make it readable"))
            continue
        for e in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                problems.append(Violation(str(folder), "-", "-", f"more than {MAX_ENTRIES} files and folders: not a release; the rest was not looked at"))
                return _Tree(files, problems, sparse)
            r = f"{rel}/{e.name}" if rel else e.name
            where = str(folder / r)
            if e.is_symlink():
                problems.append(Violation(where, "-", "-", "a symbolic link: a release holds its own files; it was not followed: replace the link by the file"))
            elif e.is_dir(follow_symlinks=False):
                stack.append(r)
            elif e.is_file(follow_symlinks=False):
                st = e.stat(follow_symlinks=False)
                files[r] = st.st_size
                on_disk = getattr(st, "st_blocks", None)
                if on_disk is not None and st.st_size > SPARSE_BYTES and on_disk * 512 < st.st_size // 8:
                    # Mostly holes: hashing it would read zeros for as long as its size says.
                    sparse.add(r)
                    problems.append(Violation(where, "-", "-", f"a sparse file ({st.st_size} bytes, {on_disk * 512} on disk): not hashed; a release holds real files: replace it"))
            else:
                problems.append(Violation(where, "-", "-", "not a regular file (a pipe, socket or device): it was not opened; remove it"))
    return _Tree(files, problems, sparse)


def _unreadable(folder: Path, tree: _Tree, name: str, missing: str, holder: str) -> Optional[list[Violation]]:
    """None when `name` is a regular file of the release small enough to read
    whole; otherwise the lines saying why it is not read (none for a link or
    a special file, which the walk has named already)."""
    path = folder / name
    if name not in tree.files:
        return [] if os.path.lexists(path) else [Violation(str(path), "-", "-", missing)]
    if tree.files[name] > MAX_TEXT_BYTES:
        return [Violation(str(path), "-", "-", f"{tree.files[name]} bytes, more than the {MAX_TEXT_BYTES} {holder} may have: not read; republish the release")]
    return None


def _guarded(path: object, checks: Iterable[Violation]) -> Iterator[Violation]:
    """The violations of `checks`, and one line naming `path` for whatever
    else goes wrong (a library raising on a damaged file)."""
    try:
        yield from checks
    except _Refused as exc:
        yield Violation(str(path), "-", "-", f"{exc}: it was not read")
    except Exception as exc:
        yield Violation(str(path), "-", "-", f"could not be checked ({type(exc).__name__}: {exc}): the file is damaged; republish the release")


def _capped(checks: Iterable[Violation], limit: int = MAX_LINES_PER_FILE) -> Iterator[Violation]:
    """The first `limit` violations of each file, then one line per file
    saying how many more there are."""
    shown: dict[str, int] = {}
    for v in checks:
        shown[v.file] = shown.get(v.file, 0) + 1
        if shown[v.file] <= limit:
            yield v
    for file, n in shown.items():
        if n > limit:
            yield Violation(file, "-", "-", f"and {n - limit} more violation(s) in this file (the first {limit} are shown)")


def _plain_data_path(rel: str) -> Optional[str]:
    """Why a card's data_files path is not a plain relative path of a file
    under data/, or None when it is one."""
    if rel.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", rel):
        return "an absolute path"
    parts = rel.split("/")
    if ".." in parts or "\\" in rel:
        return "it climbs out of its folder (..)" if ".." in parts else "a backslash in a path"
    if _GLOB & set(rel):
        return "a glob pattern"
    if parts[0] != "data" or len(parts) < 2 or any(p in ("", ".") for p in parts) or "\x00" in rel:
        return "not under data/"
    return None


def _short(value: object, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def validate_release(folder: Path, registry: Optional[Path] = None) -> Iterator[Violation]:
    """A published folder: card YAML, Parquet columns both ways and every
    row's values, row counts from the data, croissant.json, checksums."""
    folder = Path(folder)
    if not folder.is_dir():
        yield Violation(str(folder), "-", "-", "not a folder: a release is a folder (README.md, data/, croissant.json, checksums.sha256)")
        return
    tree = _walk(folder)
    yield from tree.problems
    hashes: dict[str, str] = {}

    def digest(rel: str) -> Optional[str]:
        if rel not in hashes and rel in tree.files and rel not in tree.sparse:
            hashes[rel] = _sha256(folder / rel)
        return hashes.get(rel)

    yield from _capped(_release_checks(folder, tree, digest, registry))


def _release_checks(folder: Path, tree: _Tree, digest, registry: Optional[Path]) -> Iterator[Violation]:
    card_read: list[bool] = []
    yield from _guarded(folder / "README.md", _check_card(folder, tree, card_read))
    if not card_read:
        return  # without its card a release cannot be loaded; that one line says what to fix first
    yield from _guarded(folder / CROISSANT, _check_croissant(folder, tree, digest))
    yield from _guarded(folder, _check_checksums(folder, tree, digest))
    if registry is not None and registry.exists():
        yield from _guarded(registry, _check_registry(folder, tree, digest, registry))


def _check_card(folder: Path, tree: _Tree, card_read: list) -> Iterator[Violation]:
    import datasets

    from parallel_corpus.release.card import front_matter_of

    readme = folder / "README.md"
    unreadable = _unreadable(folder, tree, "README.md", "missing: a release needs its card", "a card")
    if unreadable is not None:
        yield from unreadable
        return
    raw = _read_bounded(readme)
    deep = _deep_flow(raw.decode("utf-8", "replace"))
    if deep is not None:
        yield Violation(str(readme), str(deep), "-", f"unreadable card YAML: [ and {{ nested more than {MAX_FLOW_DEPTH} levels deep: not parsed; republish the release")
        return
    try:
        meta = front_matter_of(raw.decode("utf-8"))
    except yaml.YAMLError as exc:
        # The front matter starts on the card's second line.
        line, problem = yaml_problem(exc)
        yield Violation(str(readme), str(line + 2) if line is not None else "-", "-", f"unreadable card YAML: {problem}")
        return
    except Exception as exc:  # our own ValueError, or text that is not UTF-8
        yield Violation(str(readme), "-", "-", f"unreadable card YAML: {exc}")
        return
    shape = list(_card_shape(meta, str(readme)))
    if shape:
        yield from shape
        return
    card_read.append(True)
    yield from _card_metadata(meta, tree, str(readme))
    for i, info in enumerate(meta.get("dataset_info") or []):
        for k, s in enumerate(info.get("splits") or []):
            if s["name"] not in SPLIT_ORDER:
                yield Violation(str(readme), "-", f"dataset_info[{i}].splits[{k}].name", f"{_short(s['name'])} is not a split: use {', '.join(SPLIT_ORDER)}")
    infos = {i.get("config_name", "default"): i for i in meta.get("dataset_info") or []}
    ids: dict[str, dict[bytes, tuple[str, int]]] = {}
    declared_at: dict[str, str] = {}  # each file is read once, however often the card names it
    listed = meta.get("language")
    card_languages = frozenset(listed) if isinstance(listed, list) and listed and all(isinstance(x, str) for x in listed) else None
    if listed is not None and card_languages is None:
        yield Violation(str(readme), "-", "language", "must be a list of language codes: republish the release")
    for c, cfg in enumerate(meta.get("configs") or []):
        name = cfg.get("config_name", "default")
        if name not in schema.CONFIG_SCHEMAS:
            yield Violation(str(readme), "-", f"configs[{c}].config_name", f"{_short(name)} is not a config of this dataset: use {', '.join(schema.CONFIG_SCHEMAS)}")
        info = infos.get(name)
        if info is None:
            yield Violation(str(readme), "-", f"dataset_info.{name}", "config has no dataset_info entry")
            continue
        try:
            declared = datasets.Features._from_yaml_list(info["features"])
            arrow = declared.arrow_schema
        except Exception as exc:
            yield Violation(str(readme), "-", f"dataset_info.{name}.features", f"unreadable features: {exc}")
            continue
        known = name in schema.CONFIG_SCHEMAS and (schema.schemas_dir() / f"{name}.schema.json").exists()
        if known and declared != schema.features(name):
            yield Violation(str(readme), "-", f"dataset_info.{name}.features", "differ from schemas/" + f"{name}.schema.json")
            known = False  # rows are not checked against a schema the card does not declare
        counts = {s["name"]: s.get("num_examples") for s in info.get("splits") or []}
        for d, df in enumerate(cfg.get("data_files") or []):
            split, rel = df["split"], df["path"]
            where = f"configs[{c}].data_files[{d}]"
            if split not in SPLIT_ORDER:
                yield Violation(str(readme), "-", f"{where}.split", f"{_short(split)} is not a split: use {', '.join(SPLIT_ORDER)}")
                continue
            why = _plain_data_path(rel)
            if why is not None:
                yield Violation(str(readme), "-", f"{where}.path", f"{_short(rel)} is {why}, not a plain relative path of a file under data/: not opened; name the file as data/{name}/{parquet_name(split)} and republish")
                continue
            if rel in declared_at:
                yield Violation(str(readme), "-", f"{where}.path", f"{_short(rel)} is declared already at {declared_at[rel]}: name each file once and republish")
                continue
            declared_at[rel] = where
            path = folder / rel
            if rel not in tree.files:
                if os.path.lexists(path):
                    yield Violation(str(path), "-", "-", f"config {name} split {split} declares it, but it is not a regular file of the release (a link, a folder, or under one): not opened")
                else:
                    yield Violation(str(path), "-", "-", f"missing: config {name} split {split} declares it")
                continue
            if counts.get(split) is None:
                yield Violation(str(readme), "-", f"dataset_info.{name}.splits", f"split {split} has no num_examples: republish the release")
            checks = _check_parquet(path, arrow, counts.get(split), name, split, known, ids.setdefault(name, {}), card_languages)
            yield from _guarded(path, checks)


# The Hub's values of annotations_creators and language_creators.
_CREATORS = frozenset({"found", "crowdsourced", "expert-generated", "machine-generated", "no-annotation", "other"})
_LICENSE_LINK = re.compile(r"https://[^\s]+|[A-Za-z0-9][A-Za-z0-9_.-]*")


def _card_metadata(meta: dict, tree: _Tree, readme: str) -> Iterator[Violation]:
    """The card's licence link and creators, as the Hub reads them: a link is
    an https URL or a file of the release (the card itself, README.md), never a
    path out of it; creators are the Hub's words. Older cards without them pass."""
    link = meta.get("license_link")
    if link is not None:
        if not isinstance(link, str) or not _LICENSE_LINK.fullmatch(link):
            yield Violation(readme, "-", "license_link", f"{_short(link)} is neither an https URL nor a file of the release: republish the release")
        elif not link.startswith("https://") and link not in tree.files:
            yield Violation(readme, "-", "license_link", f"{_short(link)} is not a file of the release: republish the release")
    if meta.get("license") == "other" and link is not None and not isinstance(meta.get("license_name"), str):
        yield Violation(readme, "-", "license_name", "license: other with a link needs a license_name: republish the release")
    for key in ("annotations_creators", "language_creators"):
        value = meta.get(key)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        wrong = [v for v in values if not isinstance(v, str) or v not in _CREATORS]
        if wrong:
            yield Violation(readme, "-", key, f"{_short(wrong[0])} is not one of the Hub's {', '.join(sorted(_CREATORS))}: republish the release")


def _deep_flow(text: str) -> Optional[int]:
    """The line of the card where YAML flow collections ([ and {) nest more
    than MAX_FLOW_DEPTH deep, or None. Quotes are not parsed: a bracket in a
    string counts too, which a real card never stacks a hundred deep."""
    end = text.find("\n---", 4)
    front = text[: end if end >= 0 else len(text)]
    depth = 0
    for m in re.finditer(r"[\[\]{}]", front):
        depth += 1 if m.group() in "[{" else -1
        if depth > MAX_FLOW_DEPTH:
            return front.count("\n", 0, m.start()) + 1
        depth = max(depth, 0)
    return None


def _check_parquet(path: Path, declared: pa.Schema, expected_rows: Optional[int], config: str, split: str, known: bool = False, ids: Optional[dict] = None, languages: Optional[frozenset] = None) -> Iterator[Violation]:
    """Columns both ways, then every row read in batches: the rows counted
    from the data (not the footer), and, where the config's schema is
    known, each row's values."""
    with _open_regular(path) as fh:
        try:
            pf = pq.ParquetFile(fh, buffer_size=1 << 20)
            footer_rows = pf.metadata.num_rows
            actual = pf.schema_arrow
        except Exception as exc:
            yield Violation(str(path), "-", "-", f"not a readable Parquet file: {exc}: republish the release")
            return
        declared_names = set(declared.names)
        same = True
        for f in actual:
            if f.name not in declared_names:
                same = False
                yield Violation(str(path), "-", f.name, f"column is not declared in the card's features of config {config}")
        for f in declared:
            if f.name not in actual.names:
                same = False
                yield Violation(str(path), "-", f.name, "declared column is missing from the file (datasets would load it as nulls)")
            elif not actual.field(f.name).type.equals(f.type):
                same = False
                yield Violation(str(path), "-", f.name, f"type {actual.field(f.name).type} differs from declared {f.type}")
        rows = 0
        batches = pf.iter_batches(batch_size=BATCH_ROWS, use_threads=False)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except Exception as exc:
                yield Violation(str(path), str(rows), "-", f"unreadable from row {rows} on ({exc}): the file is truncated or damaged; republish it")
                return
            if same and known:
                yield from _check_rows(path, batch.to_pylist(), rows, config, split, ids if ids is not None else {}, languages)
            rows += batch.num_rows
    if rows != footer_rows:
        yield Violation(str(path), "-", "num_rows", f"the footer says {footer_rows} rows, the data holds {rows}: the footer is forged or damaged; republish the file")
    if expected_rows is not None and rows != expected_rows:
        yield Violation(str(path), "-", "num_examples", f"{rows} rows, the card's {config}/{split} split says {expected_rows}")


def _check_rows(path: Path, records: list[dict], first: int, config: str, split: str, ids: dict, languages: Optional[frozenset] = None) -> Iterator[Violation]:
    """Values the types cannot say: the schema's enums, patterns and ranges,
    the file's split, unique ids, language codes (a document's from the
    card's `language` list, when it has one), and offsets inside the text."""
    where = str(path)
    id_column = ID_COLUMNS.get(config)
    for n, row in enumerate(records, start=first):
        r = str(n)
        for field, message in schema.record_errors(config, row):
            yield Violation(where, r, field, f"{message}: the value breaks schemas/{config}.schema.json; republish the release")
        value = row.get("split")
        if "split" in row and value != split:
            yield Violation(where, r, "split", f"{_short(value)} in the file of split {split}: a row belongs to its file's split; republish the release")
        if id_column and isinstance(row.get(id_column), str):
            key = hashlib.blake2b(row[id_column].encode("utf-8", "surrogatepass"), digest_size=16).digest()
            if key in ids:
                other_split, other_row = ids[key]
                yield Violation(where, r, id_column, f"{_short(row[id_column])} is also row {other_row} of split {other_split}: ids are unique within config {config}; republish the release")
            else:
                ids[key] = (split, n)
        for field, code in _language_codes(config, row):
            if not isinstance(code, str) or not _LANGUAGE_CODE.fullmatch(code):
                yield Violation(where, r, field, f"{_short(code)} is not a language code (ISO 639-1, as sw or ar): republish the release")
            elif languages is not None and code not in languages and not field.startswith("blocks["):
                # A block may quote any language; a document is in one the card declares.
                yield Violation(where, r, field, f"{_short(code)} is not a language of the card ({', '.join(sorted(languages))}): republish the release")
        if config == "documents":
            yield from _document_offsets(where, r, row)
        elif config == "annotations":
            for k, e in enumerate(row.get("entities") or []):
                start, end, text = e.get("start"), e.get("end"), e.get("text")
                if isinstance(start, int) and isinstance(end, int) and isinstance(text, str) and (start > end or end - start != len(text)):
                    yield Violation(where, r, f"entities[{k}]", f"offsets {start}..{end} do not span the {len(text)} character(s) of its text: republish the release")


def _language_codes(config: str, row: dict) -> Iterator[tuple[str, object]]:
    """(field, code) of the language columns whose schema names no codes."""
    if config == "documents":
        yield "language", row.get("language")
        for k, b in enumerate(row.get("blocks") or []):
            yield f"blocks[{k}].language", b.get("language")
    elif config == "pairs":
        yield "language_1", row.get("language_1")
        yield "language_2", row.get("language_2")
    elif config == "parallel":
        for k, code in enumerate(row.get("languages") or []):
            yield f"languages[{k}]", code
        for k, d in enumerate(row.get("documents") or []):
            yield f"documents[{k}].language", d.get("language")


def _document_offsets(where: str, r: str, row: dict) -> Iterator[Violation]:
    text = row.get("text")
    if not isinstance(text, str):
        return
    n = len(text)
    if row.get("num_chars") != n:
        yield Violation(where, r, "num_chars", f"{_short(row.get('num_chars'))}, but the text has {n} characters: republish the release")
    if row.get("text_sha256") != hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest():
        yield Violation(where, r, "text_sha256", "is not the sha256 of the text: the text or its hash changed; republish the release")
    for column in ("blocks", "entities", "dates"):
        for k, span in enumerate(row.get(column) or []):
            start, end = span.get("start"), span.get("end")
            if not (isinstance(start, int) and isinstance(end, int)):
                continue
            if not 0 <= start <= end <= n:
                yield Violation(where, r, f"{column}[{k}]", f"offsets {start}..{end} fall outside the text ({n} characters): republish the release")
            elif "text" in span and span["text"] != text[start:end]:
                yield Violation(where, r, f"{column}[{k}].text", f"{_short(span['text'])} is not text[{start}:{end}] ({_short(text[start:end])}): the offsets or the span are wrong; republish the release")


def _check_croissant(folder: Path, tree: _Tree, digest) -> Iterator[Violation]:
    """croissant.json is a JSON object whose FileObjects are exactly the
    release's Parquet files, with their sha256 (see croissant.py)."""
    path = folder / CROISSANT
    unreadable = _unreadable(folder, tree, CROISSANT, "missing: a release carries its Croissant metadata; republish the release", CROISSANT)
    if unreadable is not None:
        yield from unreadable
        return
    try:
        doc = loads(_read_bounded(path).decode("utf-8"))
    except UnicodeDecodeError as exc:
        yield Violation(str(path), "-", "-", f"not UTF-8 (byte {exc.start}): republish the release")
        return
    except json.JSONDecodeError as exc:
        yield Violation(str(path), str(exc.lineno), "-", f"not valid JSON: {exc.msg}: republish the release")
        return
    if not isinstance(doc, dict):
        yield Violation(str(path), "-", "-", "not a JSON object: republish the release")
        return
    distribution = doc.get("distribution")
    if not isinstance(distribution, list) or not all(isinstance(d, dict) for d in distribution):
        yield Violation(str(path), "-", "distribution", "must be a list of objects: republish the release")
        return
    parquet = {rel for rel in tree.files if rel.startswith("data/") and rel.endswith(".parquet")}
    listed = set()
    for k, d in enumerate(distribution):
        url, sha = d.get("contentUrl"), d.get("sha256")
        if not isinstance(url, str) or url not in parquet:
            yield Violation(str(path), "-", f"distribution[{k}].contentUrl", f"{_short(url)} is not a Parquet file of this release: republish the release")
            continue
        listed.add(url)
        actual = digest(url)
        if url not in tree.sparse and sha != actual:
            yield Violation(str(path), "-", f"distribution[{k}].sha256", f"is {_short(sha, 80)}, {url} has sha256 {actual}: the file changed after publishing; republish the release")
    for rel in sorted(parquet - listed):
        yield Violation(str(path), "-", "distribution", f"does not list {rel}: republish the release")
    files = {d.get("@id"): d.get("contentUrl") for d in distribution if isinstance(d.get("@id"), str) and d.get("contentUrl") in listed}
    yield from _check_record_sets(doc.get("recordSet"), files, str(path))


# A field's jsonPath reads one key of a struct element; nothing else is written.
_JSON_KEY = re.compile(r"[A-Za-z0-9_]+")
MAX_FIELD_DEPTH = 3  # Field, subField, and a list inside a subField's element


def _check_record_sets(record_sets: object, files: dict[str, str], where: str) -> Iterator[Violation]:
    """Every Field of every RecordSet reads a column of a Parquet file the
    distribution lists (a column of that file's config), a struct's key by
    a plain jsonPath, nested at most MAX_FIELD_DEPTH deep."""
    if record_sets is None:
        return
    if not isinstance(record_sets, list) or not all(isinstance(r, dict) for r in record_sets):
        yield Violation(where, "-", "recordSet", "must be a list of objects: republish the release")
        return

    def fields(items: object, at: str, depth: int) -> Iterator[Violation]:
        if not isinstance(items, list) or not all(isinstance(f, dict) for f in items):
            yield Violation(where, "-", at, "must be a list of Field objects: republish the release")
            return
        if depth > MAX_FIELD_DEPTH:
            yield Violation(where, "-", at, f"Fields nested more than {MAX_FIELD_DEPTH} deep: republish the release")
            return
        for k, f in enumerate(items):
            here = f"{at}[{k}]"
            if "subField" in f:
                yield from fields(f["subField"], f"{here}.subField", depth + 1)
                continue
            source = f.get("source")
            if not isinstance(source, dict):
                yield Violation(where, "-", here, "has neither subFields nor a source: republish the release")
                continue
            file_id = (source.get("fileObject") or {}).get("@id") if isinstance(source.get("fileObject"), dict) else None
            if file_id not in files:
                yield Violation(where, "-", f"{here}.source", f"reads {_short(file_id)}, not a Parquet file of the distribution: republish the release")
                continue
            config = files[file_id].split("/")[1]
            column = (source.get("extract") or {}).get("column") if isinstance(source.get("extract"), dict) else None
            if config in schema.CONFIG_SCHEMAS and column not in schema.column_names(config):
                yield Violation(where, "-", f"{here}.source", f"reads column {_short(column)}, not a column of {config}: republish the release")
            transform = source.get("transform")
            if transform is not None and not (isinstance(transform, dict) and set(transform) == {"jsonPath"} and isinstance(transform["jsonPath"], str) and _JSON_KEY.fullmatch(transform["jsonPath"])):
                yield Violation(where, "-", f"{here}.source.transform", f"{_short(transform)} is not a jsonPath naming one key: republish the release")

    for r, record_set in enumerate(record_sets):
        yield from fields(record_set.get("field", []), f"recordSet[{r}].field", 1)


def _check_checksums(folder: Path, tree: _Tree, digest) -> Iterator[Violation]:
    from parallel_corpus.release.publish import CHECKSUMS

    sums = folder / CHECKSUMS
    actual = sorted(rel for rel in tree.files if rel.rsplit("/", 1)[-1] != CHECKSUMS)
    unreadable = _unreadable(folder, tree, CHECKSUMS, "missing: a release lists its files' sha256", CHECKSUMS)
    if unreadable is not None:
        yield from unreadable
        return
    recorded: dict[str, str] = {}
    for row, line in enumerate(_read_bounded(sums).decode("utf-8", "replace").splitlines(), start=1):
        digest_text, sep, name = line.partition("  ")
        if not sep or not re.fullmatch(r"[0-9a-f]{64}", digest_text) or not name:
            yield Violation(str(sums), str(row), "-", "not a `sha256  path` line: republish the release")
            continue
        recorded[name] = digest_text
    for name in sorted(set(recorded) | set(actual)):
        if name in tree.sparse:
            continue
        if name not in tree.files:
            yield Violation(str(folder / name), "-", "-", f"listed in {CHECKSUMS} but missing" + ("" if not os.path.lexists(folder / name) else " as a regular file of the release (not opened)"))
        elif name not in recorded:
            yield Violation(str(folder / name), "-", "-", f"not listed in {CHECKSUMS}")
        elif recorded[name] != digest(name):
            yield Violation(str(folder / name), "-", "sha256", f"is {digest(name)}, {CHECKSUMS} says {recorded[name]}: the file changed after publishing")


def _check_registry(folder: Path, tree: _Tree, digest, registry: Path) -> Iterator[Violation]:
    from parallel_corpus.release.publish import CHECKSUMS, PublishError, read_registry

    try:
        entries = read_registry(registry)
    except PublishError as exc:
        yield from _from_error(exc, registry)
        return
    version = folder.name.lstrip("v")
    entry = entries.get(version)
    if entry is None:
        return
    files = entry.get("files") if isinstance(entry, dict) else None
    if not isinstance(files, dict):
        yield Violation(str(registry), "-", "files", f"the entry of v{version} lists no files: restore it from git")
        return
    actual = {rel: digest(rel) for rel in tree.files if rel.rsplit("/", 1)[-1] != CHECKSUMS}
    for name in sorted(set(files) | set(actual)):
        if name not in tree.sparse and files.get(name) != actual.get(name):
            yield Violation(str(folder / name), "-", "sha256", f"differs from release v{version} in {registry}: rebuild it from commit {entry.get('commit')}")


# -- dispatch -----------------------------------------------------------------------

# The JSON-lines files of a corpus folder, which are not annotations.
_CORPUS_JSONL = {"sources.jsonl", "releases.jsonl", RECORD_FILE}


def kinds_of(path: Path) -> list[str]:
    """Every kind of folder `path` looks like. A folder is checked as each of
    them, so a file added to a release can add checks, never skip one."""
    if not path.is_dir():
        return ["annotations"] if path.suffix == ".jsonl" else []
    kinds = []
    if (path / "README.md").exists() and (path / "data").is_dir():
        kinds.append("release")
    if (path / "sources.jsonl").exists():
        kinds.append("corpus")
    if path.name == "annotations" or any(p.name not in _CORPUS_JSONL for p in path.glob("*.jsonl")):
        kinds.append("annotations")
    if any(path.glob("*.schema.json")):
        kinds.append("schemas")
    if any(p.name.startswith("v") and p.is_dir() and not p.is_symlink() for p in path.iterdir()):
        kinds.append("dist")
    return kinds


def _validate_as(path: Path, kind: str, registry: Optional[Path]) -> Iterator[Violation]:
    if kind == "corpus":
        yield from validate_corpus(path)
        reg = registry or (path / "releases.jsonl")
        if reg.exists():
            from parallel_corpus.release.publish import read_registry, PublishError

            try:
                read_registry(reg)
            except PublishError as exc:
                yield from _from_error(exc, reg)
    elif kind == "release":
        yield from validate_release(path, registry)
    elif kind == "dist":
        if not path.is_dir():
            yield Violation(str(path), "-", "-", "not a folder: a dist folder holds releases vX.Y.Z/")
            return
        for release in sorted(p for p in path.iterdir() if p.name.startswith("v")):
            if release.is_symlink():
                yield Violation(str(release), "-", "-", "a symbolic link: it was not followed; put the release itself here")
            elif release.is_dir():
                yield from validate_release(release, registry)
    elif kind == "annotations":
        if path.is_dir():
            yield from validate_annotations(path)
        else:
            yield from validate_annotations_file(path)
    elif kind == "schemas":
        yield from validate_schemas(path)


def validate_paths(paths: Iterable[Union[str, Path]], registry: Optional[Union[str, Path]] = None, kind: Optional[str] = None) -> list[Violation]:
    """Violations of every path, checked as `kind`, or without one as every
    kind it looks like; with no path, the current repository's whole tree."""
    out: list[Violation] = []
    paths = [Path(p) for p in paths]
    registry = Path(registry) if registry is not None else None
    if not paths:
        paths = [p for p in (Path("schemas"), Path("corpus"), Path("annotations"), Path("dist")) if p.exists()]
        out.extend(validate_schemas())
        paths = [p for p in paths if p.name != "schemas"]
        if registry is None and Path("corpus/releases.jsonl").exists():
            registry = Path("corpus/releases.jsonl")
    for path in paths:
        kinds = [kind] if kind else kinds_of(path)
        if not kinds:
            out.append(Violation(str(path), "-", "-", "not a corpus folder, a release, an annotations folder or a schemas folder: name its kind with --kind"))
        for k in kinds:
            if not kind and k in ("corpus", "annotations", "schemas") and ("release" in kinds or "dist" in kinds) and _walk(path).problems:
                # A release is someone else's folder: its corpus or annotation
                # files are not read through the links the release check named.
                out.append(Violation(str(path), "-", "-", f"not checked as {k} as well: it holds links or special files (named above), and nothing they point to is opened"))
                continue
            out.extend(_guarded(path, _validate_as(path, k, registry)))
    return out
