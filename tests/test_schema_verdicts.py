"""jsonschema-rs, the fast "valid" answer of `schema.quick_check`, gives
jsonschema's verdict, record for record.

`schema.record_errors` and `corpus.check_curated` take a record that
jsonschema-rs finds valid as valid without asking jsonschema, so a record it
passes must be one jsonschema passes; any other record goes to jsonschema,
which decides and words the error. Valid records come from the repository's
corpus (every curated file, every source line and split line, the documents
rows the pipeline makes of the seeds); each is then broken in many seeded
ways (a field removed, added, or given a value of another type, shape or
format) and both verdicts are compared, with format checks on (as
`schema.validator` has them) and off (as `check_curated` reads YAML)."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path
from typing import Any, Iterator

import jsonschema

from parallel_corpus import schema
from parallel_corpus.corpus import Corpus, load_yaml
from parallel_corpus.stages.document import process

from conftest import CORPUS

SCHEMA_NAMES = sorted(p.name[: -len(".schema.json")] for p in (CORPUS.parent / "schemas").glob("*.schema.json"))

# Values a mutation may put anywhere: every JSON type, and strings that do
# and do not fit the patterns and formats of the schemas.
ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2.0, 1.5, -0.5, "", "x", "sw", "Q42", "Q", "2022-04-26", "2022-02-30", "26/04/2022",
    "a" * 64, "0" * 64, [], ["a"], ["a", "a"], [1, True], [1, 1.0], [None], {}, {"x": 1}, 10**30, "(?P<n>x)", "[",
]


def full_validator(name: str, formats: bool) -> Any:
    """jsonschema as the package asks it: `schema.validator` with format
    checks, a plain Draft 2020-12 validator without (as `check_curated`)."""
    return schema.validator(name) if formats else jsonschema.Draft202012Validator(schema.load_schema(name))


def valid_records(stages) -> Iterator[tuple[str, Any]]:
    corpus = Corpus(CORPUS)
    for path in sorted(CORPUS.glob("*.yaml")):
        if path.stem in SCHEMA_NAMES:
            yield path.stem, schema._to_json_value(load_yaml(path))
    for name, path in (("sources", corpus.sources_path), ("splits", CORPUS / "splits.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield name, json.loads(line)
    for source in corpus.source_list():
        yield "documents", schema._to_json_value(process(source, stages))


def _paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, path + (i,))


def mutants(record: Any, rng: random.Random, n: int) -> Iterator[Any]:
    paths = list(_paths(record))
    for _ in range(n):
        out = copy.deepcopy(record)
        path = rng.choice(paths)
        parent, key = None, None
        node = out
        for step in path:
            parent, key, node = node, step, node[step]
        move = rng.randrange(5)
        if move == 0 and parent is not None and isinstance(parent, dict):
            del parent[key]
        elif move == 1 and isinstance(node, dict):
            node[rng.choice(["zz", "extra", *node.keys()])] = rng.choice(ODD_VALUES)
        elif move == 2 and isinstance(node, list) and node:
            node.append(copy.deepcopy(rng.choice(node)))
        elif move == 3 and isinstance(node, list):
            node.append(rng.choice(ODD_VALUES))
        elif parent is not None:
            parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        else:
            out = copy.deepcopy(rng.choice(ODD_VALUES))
        yield out


def test_verdicts_match_jsonschema_on_valid_and_broken_records(stages):
    rng = random.Random(20261130)
    compared = {True: 0, False: 0}
    seen_schemas = set()
    for name, record in valid_records(stages):
        seen_schemas.add(name)
        for formats in (True, False):
            full, quick = full_validator(name, formats), schema.quick_check(name, formats)
            assert full.is_valid(record), f"{name}: a record of the repository's corpus should be valid"
            assert quick(record), f"{name}: a valid record must take the fast path"
            for mutant in mutants(record, rng, 60):
                expected = full.is_valid(mutant)
                got = quick(mutant)
                assert got == expected, f"{name} (formats={formats}): jsonschema-rs says {got}, jsonschema {expected} for {json.dumps(mutant, ensure_ascii=False)[:300]}"
                compared[expected] += 1
    assert {"sources", "splits", "documents", "dataset", "entities", "cleaning", "topics", "dates", "languages"} <= seen_schemas
    # Both verdicts were really exercised.
    assert compared[True] > 100 and compared[False] > 100, compared


def _with(record: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    return dict(record, **{field: value})


def _first_source() -> dict[str, Any]:
    return json.loads(next(line for line in (CORPUS / "sources.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()))


def _date_strings(rng: random.Random, n: int) -> Iterator[str]:
    yield from ["2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "0000-01-01", "9999-12-31", "2022-4-26", "2022-04-26T00:00:00",
                " 2022-04-26", "2022-04-26 ", "20220426", "2022/04/26", "٢٠٢٢-٠٤-٢٦", "2022-04-31", "2022-00-10", "2022-12-00", "+2022-04-26"]
    for _ in range(n):
        yield f"{rng.randrange(10000):04d}-{rng.randrange(15):02d}-{rng.randrange(34):02d}"


def test_date_format_verdicts_match():
    """`format: date` in both: jsonschema's FORMAT_CHECKER (ISO 8601 date,
    a real day of a real month) and jsonschema-rs's (RFC 3339 full-date)."""
    field = next(k for k, p in schema.load_schema("sources")["properties"].items() if p.get("format") == "date")
    record = _first_source()
    for formats in (True, False):
        full, quick = full_validator("sources", formats), schema.quick_check("sources", formats)
        for value in _date_strings(random.Random(7), 3000):
            mutant = _with(record, field, value)
            assert quick(mutant) == full.is_valid(mutant), (formats, value)


def test_regex_format_is_judged_by_the_engine_that_runs_the_pattern():
    """`format: regex` is the `regex` module's verdict in both (jsonschema-rs
    would follow ECMA 262: no `(?P<name>...)`, `(?i)` or `\\p{Arabic}` as
    `regex` reads them)."""
    curated = schema._to_json_value(load_yaml(CORPUS / "cleaning.yaml"))
    paths = [p for p in _paths(curated) if p and p[-1] == "regex"]
    assert paths, "cleaning.yaml has no regex to vary"
    full, quick = full_validator("cleaning", True), schema.quick_check("cleaning", True)
    for pattern in ["(?P<n>a)", r"\p{Arabic}+", "(?i)abc", r"\bword\b", "(", "[a-", "a{2,1}", "(?<=ab)c", r"(?<!\d)\d{4}", "a++", "(?>a)", r"\X", r"\K"]:
        mutant = copy.deepcopy(curated)
        node = mutant
        for step in paths[0][:-1]:
            node = node[step]
        node["regex"] = pattern
        assert quick(mutant) == full.is_valid(mutant), pattern


def test_where_jsonschema_rs_is_stricter_jsonschema_still_decides(stages):
    """Python's `re` (which jsonschema runs `pattern` with) lets `$` match
    before a final newline and `\\d` match any Unicode digit, and jsonschema
    takes NaN for a number; ECMA 262 and jsonschema-rs do not. There
    jsonschema-rs says "invalid", the record goes to jsonschema, and
    jsonschema's verdict stands: these are the only disagreements known, and
    the fast path never lets through what jsonschema refuses."""
    dataset = schema._to_json_value(load_yaml(CORPUS / "dataset.yaml"))
    document = schema._to_json_value(process(Corpus(CORPUS).source_list()[0], stages))
    cases = [
        ("sources", _with(_first_source(), "sha256", "a" * 64 + "\n")),
        ("dataset", _with(dataset, "version", "1.0.0\n")),
        ("dataset", _with(dataset, "version", "\u0661.\u0660.\u0660")),  # Arabic-Indic digits
        ("documents", _with(document, "language_probability", float("nan"))),
    ]
    for name, record in cases:
        assert schema.quick_check(name)(record) is False, name
        assert schema.validator(name).is_valid(record), name
        assert schema.record_errors(name, record) == [], name


def test_values_that_are_not_json_go_to_jsonschema():
    """A date from YAML, a key that is not a string, a lone surrogate from
    `json.loads`: jsonschema-rs cannot take them, the check says no and
    jsonschema decides, as it did for every record before."""
    import datetime as dt

    record = _first_source()
    quick = schema.quick_check("sources", False)
    for value in (_with(record, "published", dt.date(2022, 4, 26)), {**record, 1: "x"}, _with(record, "title", "\ud800")):
        assert quick(value) is False


def test_no_schema_refers_to_itself():
    """jsonschema-rs walks a value natively, as deep as the schema goes: a
    schema that refers to itself would let a deeply nested value exhaust the
    native stack instead of raising. None of ours does."""
    for name in SCHEMA_NAMES:
        loaded = schema.load_schema(name)
        defs = loaded.get("$defs", {})
        refers = {k: set(re.findall(r"#/\$defs/([^\"/]+)", json.dumps(v))) for k, v in defs.items()}

        def reaches(start: str, target: str, seen: frozenset = frozenset()) -> bool:
            return any(n == target or (n not in seen and reaches(n, target, seen | {n})) for n in refers.get(start, ()))

        assert not any(reaches(k, k) for k in defs), f"schemas/{name}.schema.json: a definition refers to itself"
        assert '"$ref": "#"' not in json.dumps(loaded)


def test_a_deeply_nested_value_is_refused_not_crashed_on():
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    record = _with(_first_source(), "title", deep)
    assert schema.quick_check("sources")(record) is False
    assert schema.quick_check("sources")({"x": [deep, deep]}) is False


def test_bad_sources_line_still_gets_jsonschemas_message(tmp_path: Path):
    from parallel_corpus.corpus import read_sources

    good = _first_source()
    bad = dict(good, sha256="not-a-digest")
    path = tmp_path / "sources.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    _, errors = read_sources(path)
    assert len(errors) == 1
    assert f"{path}:2:sha256:" in str(errors[0]) and "does not match" in str(errors[0])
