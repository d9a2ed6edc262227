"""The event-built YAML is yaml.safe_load's, value for value and type for type."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from parallel_corpus._fast.yamlfast import _SCALAR_TAGS, SafeLoader, _from_events, _NotPlain, safe_load

from conftest import CORPUS, EXTERNAL


def same(a: Any, b: Any) -> bool:
    """Equal, of the same types all the way down, keys in the same order
    (1 == True and a date == a date at midnight would hide a difference)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(k1, k2) and same(a[k1], b[k2]) for k1, k2 in zip(a, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


SNIPPETS = [
    "", "~", "null", "plain", "a: 1", "a: -1.5e3", "a: .inf", "a: -.Inf", "a: .nan", "a: 0x1F", "a: 017", "a: 0b101", "a: 1_000",
    "a: 1:20", "a: 190:20:30", "a: yes", "a: No", "a: on", "a: OFF", "a: true", "a: False", "a: y", "a: 2022-04-26",
    "a: 2022-04-26T10:00:00Z", "a: 2001-12-14 21:59:43.10 -5", "a: '1'", 'a: "yes"', "a: '2022-04-26'", "a: |\n  block\n  two\n",
    "a: >\n  folded\n  line\n", "- a\n- b\n-\n- ''", "a: [1, 'x', {b: c}, [], {}]", "{a: 1, a: 2, b: 3}", "1: one\ntrue: yes\n2022-01-01: d\n~: n",
    "a:\n  - b: 1\n    c: [x, y]\n  - !!str 2", "'quoted key': v", "a: &x 1\nb: *x", "a: !!str 1", "a: !!binary aGVsbG8=",
    "<<: {a: 1}\nb: 2", "--- 1\n--- 2", "---\na: 1\n...\n", "a: [", "? [a, b]\n: c", "a: !foo x", "a: !!set {x, y}",
    "a: 2022-13-45", "a: 2022-13-45\nb: [", "a: 2022-13-45\n--- 2", "a: 'it''s'", 'a: "\\u00e9\\t"', "ar: منظمة تولا\nhi: तुला संगठन", "a: -", "a: =", "a: 12:30:00", "a: 1e3", "a: +12", "a: 0.",
]


# Mappings that give a key twice (`true` is the key 1 again, as Python
# compares them), with the key named: refused where yaml.load keeps the last.
DUPLICATE_KEYS = {"{a: 1, a: 2, b: 3}": "'a'", "1: one\ntrue: yes\n2022-01-01: d\n~: n": "True"}


def load_or_error(fn, text: str) -> tuple[str, Any]:
    try:
        return "value", fn(text)
    except Exception as exc:  # a YAMLError, or a constructor's ValueError
        return "error", f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("text", SNIPPETS)
def test_every_shape_reads_as_yaml_load_reads_it(text):
    """Every shape as yaml.load reads it, except anchors and aliases, which
    are refused at the line of the first (an alias bomb unfolds into
    billions of values for whoever walks the result)."""
    got, expected = load_or_error(safe_load, text), load_or_error(lambda t: yaml.load(t, Loader=SafeLoader), text)
    if "&" in text or "*" in text:
        assert got[0] == "error" and got[1].startswith("AliasRefused: anchors and aliases (& and *) are not accepted"), got
        return
    if text in DUPLICATE_KEYS:
        assert got[0] == "error" and got[1].startswith(f"DuplicateKey: the key {DUPLICATE_KEYS[text]} is given twice in this mapping: keep one"), got
        assert expected[0] == "value" and len(expected[1]) < text.count(":")  # yaml.load drops one silently
        return
    assert got[0] == expected[0] and (same(got[1], expected[1]) if got[0] == "value" else got[1] == expected[1]), (got, expected)


def test_plain_documents_take_the_event_path_and_the_rest_do_not():
    constructors = {tag: SafeLoader.yaml_constructors[tag] for tag in _SCALAR_TAGS}
    assert same(_from_events("a: [1, yes, '2', 2022-04-26]", constructors), {"a": [1, True, "2", dt.date(2022, 4, 26)]})
    for text in ("a: &x 1\nb: *x", "a: !!str 1", "<<: {a: 1}", "--- 1\n--- 2"):
        with pytest.raises(_NotPlain):
            _from_events(text, constructors)


def _yaml_files() -> list[Path]:
    files = sorted(CORPUS.glob("*.yaml"))
    if EXTERNAL.is_dir():
        files += sorted(EXTERNAL.rglob("*.yaml"))[:50]
    return files


@pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: p.name)
def test_the_curated_files_read_the_same(path):
    text = path.read_text(encoding="utf-8")
    assert same(safe_load(text), yaml.load(text, Loader=SafeLoader))


def test_a_synthetic_gazetteer_reads_the_same(tmp_path):
    from synthetic import make_corpus

    make_corpus(60, tmp_path / "c", seed=3)
    text = (tmp_path / "c" / "entities.yaml").read_text(encoding="utf-8")
    loaded = safe_load(text)
    assert len(loaded["entities"]) > 50
    assert same(loaded, yaml.load(text, Loader=SafeLoader))
