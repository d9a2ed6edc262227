"""Column types from `schemas/*.schema.json`: the one source of truth.

JSON Schema cannot say int32 or date32, so a property may carry
`x-arrow-type`; otherwise integer -> int64, number -> float64,
`format: date` -> date32, and `["T", "null"]` marks a nullable field. The Arrow
schema, the `datasets.Features`, the card's YAML and the validator all derive
from these files, so a column is declared exactly once.

Records are checked by jsonschema-rs first (`quick_check`): a record it
finds valid is valid, and any other goes to `jsonschema`, which decides and
words every error, so the messages users see are jsonschema's. Almost every
record is valid, and jsonschema walks a schema through layers of generic
machinery for each: reading a 100,000-line `sources.jsonl` takes 6.4 CPU
seconds with jsonschema alone, 2.4 with the predicates this package used to
compile from the schemas, 1.7 with jsonschema-rs (3.8x); the 7,000-entity
synthetic gazetteer is checked in 1.06 s, 0.10 s and 0.004 s
(`scripts/bench-fast-paths`). `tests/test_schema_verdicts.py` compares both
verdicts on the corpus's records and thousands of broken copies.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache, partial
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa

from parallel_corpus.errors import Error, Problem
from parallel_corpus.records import CONFIGS

# The schema file of each config: each config is described by the schema of its name.
CONFIG_SCHEMAS = {config: config for config in CONFIGS}

_SCALAR_ARROW = {
    "string": pa.string(),
    "large_string": pa.large_string(),
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date32": pa.date32(),
    "timestamp[s]": pa.timestamp("s"),
    "timestamp[s, tz=UTC]": pa.timestamp("s", tz="UTC"),
}


class SchemaError(Error, ValueError):
    """A schema file that cannot be turned into column types."""


def schemas_dir() -> Path:
    """Where the schema files live: the package copy, which is the repo's `schemas/`.

    The package ships `schemas/` as data (a link to the top-level folder in a
    checkout), so `validate` works in anyone's CI without this repository.
    """
    return Path(str(resources.files("parallel_corpus") / "schemas"))


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    path = schemas_dir() / f"{name}.schema.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SchemaError(Problem("no such schema", str(path))) from exc
    except json.JSONDecodeError as exc:
        raise SchemaError(Problem(f"not valid JSON: {exc.msg}", str(path), str(exc.lineno))) from exc


def _types(prop: dict[str, Any]) -> tuple[str, bool]:
    """The JSON type of a property and whether it admits null."""
    t = prop.get("type")
    if isinstance(t, list):
        non_null = [x for x in t if x != "null"]
        if len(non_null) != 1:
            raise SchemaError(f"property type {t!r}: exactly one non-null type is supported")
        return non_null[0], "null" in t
    if t is None:
        if "enum" in prop:
            return "string", None in prop["enum"]
        raise SchemaError(f"property {prop!r} has no type")
    return t, False


def arrow_type(prop: dict[str, Any]) -> pa.DataType:
    """The Arrow type of one JSON Schema property."""
    if "x-arrow-type" in prop:
        name = prop["x-arrow-type"]
        if name not in _SCALAR_ARROW:
            raise SchemaError(f"unknown x-arrow-type {name!r}")
        return _SCALAR_ARROW[name]
    t, _ = _types(prop)
    if t == "string":
        return pa.date32() if prop.get("format") == "date" else pa.string()
    if t == "integer":
        return pa.int64()
    if t == "number":
        return pa.float64()
    if t == "boolean":
        return pa.bool_()
    if t == "array":
        return pa.list_(arrow_type(prop["items"]))
    if t == "object":
        return pa.struct([pa.field(k, arrow_type(v), nullable=True) for k, v in prop["properties"].items()])
    raise SchemaError(f"unsupported JSON type {t!r}")


def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema of a published config, columns in the schema file's order."""
    schema = load_schema(name)
    fields = [pa.field(k, arrow_type(v), nullable=True) for k, v in schema["properties"].items()]
    return pa.schema(fields)


def features(name: str):
    """The `datasets.Features` of a published config, derived from the Arrow schema."""
    import datasets

    return datasets.Features.from_arrow_schema(arrow_schema(name))


def column_names(name: str) -> list[str]:
    return list(load_schema(name)["properties"])


def _to_json_value(value: Any) -> Any:
    """Python values as JSON Schema sees them (dates become ISO strings)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json_value(v) for v in value]
    return value


@lru_cache(maxsize=None)
def validator(name: str):
    """A JSON Schema validator with format checks (dates) turned on; made
    once per schema (checking the schema itself costs more than a record)."""
    import jsonschema

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=_format_checker(cls))


def _format_checker(cls: Any) -> Any:
    """The draft's format checks, with `regex` compiled by the engine that
    will run the pattern (`regex`, as `stages.clean.rules` does), not `re`."""
    import copy

    import regex

    checker = copy.copy(cls.FORMAT_CHECKER)
    checker.checkers = dict(checker.checkers)
    checker.checks("regex", raises=regex.error)(lambda value: not isinstance(value, str) or bool(regex.compile(value)))
    return checker


def regex_problem(pattern: str, error: Exception) -> str:
    """What is wrong with a regular expression that does not compile, and what to do."""
    return f"{pattern!r} does not compile ({error}): correct the regular expression"


def _formats(schema: Any) -> set[str]:
    """Every `format` a schema names, at any depth."""
    if isinstance(schema, dict):
        found = {schema["format"]} if isinstance(schema.get("format"), str) else set()
        return found.union(*(_formats(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_formats(v) for v in schema))
    return set()


@lru_cache(maxsize=None)
def quick_check(name: str, formats: bool = True) -> Callable[[Any], bool]:
    """A fast predicate for "valid under schema `name`": jsonschema-rs.

    True is jsonschema's verdict (`tests/test_schema_verdicts.py` compares
    them); False sends the record to jsonschema, which decides and words the
    error. Every `format` the schema names is judged by `validator`'s own
    format checker (jsonschema-rs's would differ: its RFC 3339 `date` takes
    year 0000, its ECMA 262 `regex` refuses `(?P<name>...)`), or by none when
    `formats` is False, as a validator made without a format checker. A value
    jsonschema-rs cannot take (not JSON: a date, a key that is not a string,
    a lone surrogate) is also a False. It reads a tuple as an array, so
    records reach it as `json.loads`, the safe YAML loader or
    `_to_json_value` made them."""
    import jsonschema_rs

    loaded = load_schema(name)
    checks = None
    if formats:
        conforms = validator(name).format_checker.conforms
        checks = {fmt: partial(_conforms, conforms, fmt) for fmt in sorted(_formats(loaded))}
    is_valid = jsonschema_rs.validator_for(loaded, validate_formats=formats, formats=checks).is_valid

    def check(record: Any) -> bool:
        try:
            return is_valid(record)
        except Exception:  # jsonschema judges it, and words any error
            return False

    return check


def _conforms(conforms: Callable[[Any, str], bool], fmt: str, value: Any) -> bool:
    return conforms(value, fmt)


def record_errors(name: str, record: dict[str, Any], from_json: bool = False) -> list[tuple[str, str]]:
    """(field path, message) for every way `record` breaks schema `name`.
    `from_json`: the record was parsed from JSON, so it holds no date to
    turn into text (a build checks every line of sources.jsonl)."""
    errors: list[tuple[str, str]] = []
    if not from_json:
        record = _to_json_value(record)
    if quick_check(name)(record):
        return errors
    check = validator(name)
    if check.is_valid(record):
        return errors
    for err in sorted(check.iter_errors(record), key=lambda e: list(map(str, e.path))):
        path = [str(p) for p in err.absolute_path]
        if err.validator == "required" and "'" in err.message:
            path.append(err.message.split("'")[1])  # "'license' is a required property"
        message = err.message
        if err.validator == "format" and err.validator_value == "regex" and err.cause is not None:
            message = regex_problem(err.instance, err.cause)
        errors.append((".".join(path) or "-", message))
    return errors


def table_from_records(name: str, records: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table of `records` with exactly the declared columns and types."""
    schema = arrow_schema(name)
    required = set(load_schema(name).get("required", []))
    missing = [f.name for f in schema if f.name in required and any(f.name not in r for r in records[:1])]
    if missing:
        raise SchemaError(f"{name}: records lack declared columns {missing}")
    return pa.Table.from_pylist(records, schema=schema)
