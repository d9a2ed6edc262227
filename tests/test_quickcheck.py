"""The compiled schema checks give jsonschema's verdict, record for record.

Valid records come from the repository's corpus (every curated file, every
source line, the documents rows the pipeline makes of the seeds); each is
then broken in many seeded ways (a field removed, added, or given a value of
another type, shape or format) and both verdicts are compared."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest

from parallel_corpus import schema
from parallel_corpus.corpus import Corpus, load_yaml
from parallel_corpus.stages.document import process
from parallel_corpus._fast.quickcheck import Unsure, compile_check

from conftest import CORPUS

SCHEMA_NAMES = sorted(p.name[: -len(".schema.json")] for p in (CORPUS.parent / "schemas").glob("*.schema.json"))

# Values a mutation may put anywhere: every JSON type, and strings that do
# and do not fit the patterns and formats of the schemas.
ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2.0, 1.5, -0.5, "", "x", "sw", "Q42", "Q", "2022-04-26", "2022-02-30", "26/04/2022",
    "a" * 64, "0" * 64, [], ["a"], ["a", "a"], [1, True], [None], {}, {"x": 1},
]


def valid_records(stages) -> Iterator[tuple[str, Any]]:
    corpus = Corpus(CORPUS)
    for name in ("dataset", "entities", "topics", "dates"):
        if corpus.has(f"{name}.yaml"):
            yield name, schema._to_json_value(load_yaml(corpus.path(f"{name}.yaml")))
    for line in corpus.sources_path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield "sources", json.loads(line)
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


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_schema_of_the_repository_compiles(name):
    loaded = schema.load_schema(name)
    assert compile_check(loaded) is not None, f"schemas/{name}.schema.json uses a keyword quickcheck does not know: every record of it goes to jsonschema"


def test_verdicts_match_jsonschema_on_valid_and_broken_records(stages):
    rng = random.Random(20261130)
    compared = {True: 0, False: 0}
    unsure = 0
    seen_schemas = set()
    for name, record in valid_records(stages):
        seen_schemas.add(name)
        loaded = schema.load_schema(name)
        for formats in (True, False):
            full = schema.validator(name) if formats else jsonschema.Draft202012Validator(loaded)
            quick = compile_check(loaded, full.format_checker)
            assert quick is not None
            assert full.is_valid(record), f"{name}: a record of the repository's corpus should be valid"
            assert quick(record), f"{name}: a valid record must take the fast path"
            for mutant in mutants(record, rng, 60):
                expected = full.is_valid(mutant)
                try:
                    got = quick(mutant)
                except Unsure:
                    unsure += 1
                    continue
                assert got == expected, f"{name} (formats={formats}): quick says {got}, jsonschema {expected} for {json.dumps(mutant, ensure_ascii=False)[:300]}"
                compared[expected] += 1
    assert {"sources", "documents", "dataset", "entities"} <= seen_schemas
    # Both verdicts were really exercised, and Unsure stays the exception.
    assert compared[True] > 100 and compared[False] > 100, compared
    assert unsure < (compared[True] + compared[False]) / 20, (unsure, compared)


@pytest.mark.parametrize(
    "fragment",
    [
        {"type": "object", "patternProperties": {"^x": {"type": "string"}}},
        {"not": {"type": "string"}},
        {"enum": [1, 2]},
        {"$ref": "https://example.invalid/other.json"},
        {"type": "array", "prefixItems": [{"type": "string"}]},
        {"if": {"dollar_ref": "#/$defs/no"}, "then": False, "$defs": {"no": False}},
        {"properties": {"a": {"$id": "https://example.invalid/a", "type": "string"}}},
        {"$ref": "#/$defs/a~1b", "$defs": {"a/b": {"type": "string"}}},
    ],
)
def test_a_keyword_it_does_not_know_leaves_the_schema_to_jsonschema(fragment):
    assert compile_check(fragment) is None


def test_a_value_it_cannot_judge_exactly_raises_unsure():
    check = compile_check({"type": "array", "uniqueItems": True})
    assert check is not None and check(["a", "b"]) and not check(["a", "a"])
    # jsonschema's uniqueness tells 1 from true but not 1 from 1.0: left to it.
    with pytest.raises(Unsure):
        check([1, True])


def test_bad_sources_line_still_gets_jsonschemas_message(tmp_path: Path):
    from parallel_corpus.corpus import read_sources

    good = json.loads(next(line for line in (CORPUS / "sources.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()))
    bad = dict(good, sha256="not-a-digest")
    path = tmp_path / "sources.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    _, errors = read_sources(path)
    assert len(errors) == 1
    assert f"{path}:2:sha256:" in errors[0] and "does not match" in errors[0]


@pytest.mark.parametrize(
    "fragment",
    [
        {"const": True}, {"const": None}, {"enum": ["a", None, False]}, {"type": "integer"}, {"type": ["number", "null"], "minimum": 0, "maximum": 1.5},
        {"type": "string", "minLength": 1, "pattern": "^Q[0-9]+$"}, {"format": "date"}, {"type": "array", "minItems": 1, "items": {"type": "string"}},
        {"type": "object", "minProperties": 1, "propertyNames": {"pattern": "^[a-z]$"}, "additionalProperties": {"type": "integer"}},
    ],
)
def test_each_keyword_agrees_with_jsonschema_on_values_of_every_type(fragment):
    full = schema.validator("sources").__class__(fragment, format_checker=schema.validator("sources").format_checker)
    check = compile_check(fragment, full.format_checker)
    for value in ODD_VALUES:
        try:
            got = check(value)
        except Unsure:
            continue
        assert got == full.is_valid(value), (fragment, value)
