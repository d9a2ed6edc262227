"""Curated files someone else wrote: cleaning.yaml and languages.yaml against
their schemas, and `patterns` that cannot hang a build.

Each case breaks a copy of corpus/ and asserts the exact line `validate`
prints, the same line as the build's one error (the build adds what to do
and writes nothing), that no input changed, and that it took seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest
import yaml
from conftest import (
    ALIAS_BOMB,
    REPO,
    break_sources_file,
    build_cli,
    error_lines,
    invoke,
    tree_bytes,
)

from parallel_corpus import schema
from parallel_corpus.records import REMOVAL_REASONS
from parallel_corpus.stages.clean.pieces import ShapeRules
from parallel_corpus.stages.clean.rules import PATTERN_TIMEOUT_SECONDS

REASONS = ", ".join(repr(r) for r in sorted(REMOVAL_REASONS))


def _replace(corpus: Path, name: str, old: str, new: str) -> int:
    """Replace `old` once in corpus/NAME; the 1-based line where `new` starts."""
    text = (corpus / name).read_text(encoding="utf-8")
    assert old in text, old
    text = text.replace(old, new, 1)
    (corpus / name).write_text(text, encoding="utf-8")
    return text[: text.index(new)].count("\n") + 1


def _line_of(corpus: Path, name: str, needle: str) -> int:
    return next(i for i, l in enumerate((corpus / name).read_text(encoding="utf-8").splitlines(), 1) if needle in l)


# Each breaker returns the line `validate` prints and the schema the build
# names after it (None: the line says what to do itself).
def _pattern_is_a_string(corpus: Path) -> tuple[str, Optional[str]]:
    line = _replace(corpus, "cleaning.yaml", "  - {reason: bare_url, regex: '^\\S+@\\S+\\.\\w+$'}", "  - '^\\S+@\\S+\\.\\w+$'")
    return f"{corpus / 'cleaning.yaml'}:{line}:patterns.2: '^\\\\S+@\\\\S+\\\\.\\\\w+$' is not of type 'object'", "cleaning"


def _threshold_is_a_string(corpus: Path) -> tuple[str, Optional[str]]:
    line = _replace(corpus, "cleaning.yaml", "promo_max_words: 60", 'promo_max_words: "sixty"')
    return f"{corpus / 'cleaning.yaml'}:{line}:promo_max_words: 'sixty' is not of type 'integer'", "cleaning"


def _shape_threshold_is_a_string(corpus: Path) -> tuple[str, Optional[str]]:
    line = _replace(corpus, "cleaning.yaml", "  leads_max_overlap: 0.25", "  leads_max_overlap: a quarter")
    return f"{corpus / 'cleaning.yaml'}:{line}:shapes.leads_max_overlap: 'a quarter' is not of type 'number'", "cleaning"


def _shape_key_typo(corpus: Path) -> tuple[str, Optional[str]]:
    _replace(corpus, "cleaning.yaml", "  leads_min_run: 3", "  leads_min_runs: 3")
    line = _line_of(corpus, "cleaning.yaml", "  paren_link_min_words:")  # where the mapping of `shapes` starts
    return f"{corpus / 'cleaning.yaml'}:{line}:shapes: Additional properties are not allowed ('leads_min_runs' was unexpected)", "cleaning"


def _top_level_typo(corpus: Path) -> tuple[str, Optional[str]]:
    _replace(corpus, "cleaning.yaml", "promo_max_words: 60", "promo_max_word: 60")
    return f"{corpus / 'cleaning.yaml'}:-:-: Additional properties are not allowed ('promo_max_word' was unexpected)", "cleaning"


def _phrase_list_is_a_string(corpus: Path) -> tuple[str, Optional[str]]:
    line = _replace(corpus, "cleaning.yaml", '  en: ["click here", "tap here"]', "  en: click here")
    return f"{corpus / 'cleaning.yaml'}:{line}:chrome_suffixes.en: 'click here' is not of type 'array'", "cleaning"


def _unknown_reason(corpus: Path) -> tuple[str, Optional[str]]:
    line = _replace(corpus, "cleaning.yaml", "  - {reason: bare_url, regex: '^\\S+@\\S+\\.\\w+$'}", "  - {reason: spam, regex: '^\\S+@\\S+\\.\\w+$'}")
    return f"{corpus / 'cleaning.yaml'}:{line}:patterns.2.reason: 'spam' is not one of [{REASONS}]", "cleaning"


def _pattern_does_not_compile(corpus: Path) -> tuple[str, Optional[str]]:
    line = _replace(corpus, "cleaning.yaml", "regex: '^\\S+@\\S+\\.\\w+$'}", "regex: '^(\\S+@\\S+'}")
    return f"{corpus / 'cleaning.yaml'}:{line}:patterns.2.regex: '^(\\\\S+@\\\\S+' does not compile (missing ) at position 9): correct the regular expression", None


def _language_without_iso639_1(corpus: Path) -> tuple[str, Optional[str]]:
    _replace(corpus, "languages.yaml", "sw: {iso639_1: sw, ", "sw: {")
    line = _line_of(corpus, "languages.yaml", "  sw: {")
    return f"{corpus / 'languages.yaml'}:{line}:languages.sw.iso639_1: 'iso639_1' is a required property", "languages"


def _language_key_typo(corpus: Path) -> tuple[str, Optional[str]]:
    line = _replace(corpus, "languages.yaml", "name: Swahili,", "name: Swahili, nmae: Swahili,")
    return f"{corpus / 'languages.yaml'}:{line}:languages.sw: Additional properties are not allowed ('nmae' was unexpected)", "languages"


def _langid_threshold_is_a_string(corpus: Path) -> tuple[str, Optional[str]]:
    line = _replace(corpus, "languages.yaml", "  min_block_letters: 40", "  min_block_letters: forty")
    return f"{corpus / 'languages.yaml'}:{line}:langid.min_block_letters: 'forty' is not of type 'integer'", "languages"


def _unquoted_no(corpus: Path) -> tuple[str, Optional[str]]:
    """YAML 1.1 reads an unquoted `no` as False: Norwegian would vanish from the table."""
    _replace(corpus, "languages.yaml", '"no": {iso639_1: "no", ', "no: {iso639_1: no, ")
    line = _line_of(corpus, "languages.yaml", "  af: {")  # the mapping of languages: the key False is not in the file as written
    return f"{corpus / 'languages.yaml'}:{line}:languages.False.iso639_1: False is not of type 'string'", "languages"


BREAKAGE = {
    "pattern-is-a-string": _pattern_is_a_string,
    "threshold-is-a-string": _threshold_is_a_string,
    "shape-threshold-is-a-string": _shape_threshold_is_a_string,
    "shape-key-typo": _shape_key_typo,
    "top-level-typo": _top_level_typo,
    "phrase-list-is-a-string": _phrase_list_is_a_string,
    "unknown-reason": _unknown_reason,
    "pattern-does-not-compile": _pattern_does_not_compile,
    "language-without-iso639_1": _language_without_iso639_1,
    "language-key-typo": _language_key_typo,
    "langid-threshold-is-a-string": _langid_threshold_is_a_string,
    "unquoted-no": _unquoted_no,
}


@pytest.mark.parametrize("case", sorted(BREAKAGE))
def test_a_broken_cleaning_or_languages_file_is_one_line_in_validate_and_build(corpus_copy, tmp_path, case):
    t0 = time.monotonic()
    expected, schema_name = BREAKAGE[case](corpus_copy)
    before = tree_bytes(corpus_copy)
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1
    assert val.stdout.splitlines() == [expected], val.stdout
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 1
    advice = f": fix it as schemas/{schema_name}.schema.json allows" if schema_name else ""
    assert error_lines(out) == [f"error: {expected}{advice}"], out.stderr
    assert out.stderr.count("\n") == 1, out.stderr  # no traceback
    assert tree_bytes(corpus_copy) == before
    assert not (tmp_path / "build").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".build.") and p.is_dir()]
    assert time.monotonic() - t0 < 30


def test_a_missing_cleaning_or_languages_file_fails_validate(corpus_copy):
    for name in ("cleaning.yaml", "languages.yaml"):
        (corpus_copy / name).unlink()
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1
    for name in ("cleaning.yaml", "languages.yaml"):
        assert f"{corpus_copy / name}:-:-: missing: a corpus needs {name} (copy the one of this repository)" in val.stdout.splitlines()


def test_the_repository_corpus_fits_the_new_schemas():
    assert invoke("validate", REPO / "corpus").exit_code == 0


def test_the_schemas_ship_with_the_package_and_agree_with_the_code():
    """schemas/ is package data (`schemas/*.json`); the shape thresholds and
    reason codes the schema allows are exactly those the code reads."""
    assert {"cleaning.schema.json", "languages.schema.json"} <= {p.name for p in schema.schemas_dir().glob("*.schema.json")}
    assert '"schemas/*.json"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")
    cleaning = schema.load_schema("cleaning")
    internal = {"pointer_openers", "reader_calls", "continuation_words", "continuation_prefixes"}
    assert set(cleaning["properties"]["shapes"]["properties"]) == set(ShapeRules.__dataclass_fields__) - internal
    assert cleaning["properties"]["patterns"]["items"]["properties"]["reason"]["enum"] == sorted(REMOVAL_REASONS)
    # regex is a declared, pinned dependency
    assert '"regex>=' in (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert any(l.startswith("regex==") for l in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines())


# -- patterns that backtrack ---------------------------------------------------------


def _add_raw(corpus: Path, name: str, text: str) -> None:
    data = text.encode("utf-8")
    (corpus / "raw" / name).write_bytes(data)
    record = {"id": Path(name).stem, "file": name, "sha256": hashlib.sha256(data).hexdigest(), "language": "sw",
              "outlet": None, "url": None, "published": None, "license": None}
    with open(corpus / "sources.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


@pytest.mark.parametrize("pattern", ["(a|a)+$", "(a|aa)+$"])
def test_a_pattern_that_backtracks_stops_the_build_in_seconds_with_one_line(corpus_copy, tmp_path, pattern):
    """`re` would take longer than the age of the universe on this line; the
    build is a subprocess, so a hang fails the test instead of hanging it."""
    line = _replace(corpus_copy, "cleaning.yaml", "patterns:\n", f"patterns:\n  - {{reason: social_handle, regex: '{pattern}'}}\n") + 1
    _add_raw(corpus_copy, "slow.txt", "Habari za leo kutoka Nairobi: mazungumzo yameanza tena.\n\n" + "a" * 5000 + "!\n\nYataendelea kesho.\n")
    before = tree_bytes(corpus_copy)
    assert invoke("validate", corpus_copy).exit_code == 0  # the pattern compiles: only running it shows the problem
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", "from parallel_corpus.cli.commands import main; main(prog_name='parallel-corpus')", "build",
         "--corpus", str(corpus_copy), "--out", str(tmp_path / "build"), "--annotations", str(tmp_path / "none"), "-q"],
        capture_output=True, text=True, timeout=120, env=env,
    )
    seconds = time.monotonic() - t0
    assert done.returncode == 1
    assert [l for l in done.stderr.splitlines() if l.startswith("error:")] == [
        f"error: {corpus_copy / 'cleaning.yaml'}:{line}:patterns.0.regex: {pattern!r} took more than {PATTERN_TIMEOUT_SECONDS:g} s "
        "on a line of raw/slow.txt (document slow): it backtracks catastrophically (a repeated group whose text can be split several "
        "ways, as in (a|a)+ or (a+)+): rewrite it so each character is matched one way"
    ], done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert tree_bytes(corpus_copy) == before
    assert not (tmp_path / "build").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".build.") and p.is_dir()]
    assert seconds < 60, seconds


def test_a_backtracking_pattern_stops_a_parallel_build_too(corpus_copy, tmp_path):
    """The error crosses from a pool worker to the driver whole."""
    _replace(corpus_copy, "cleaning.yaml", "patterns:\n", "patterns:\n  - {reason: social_handle, regex: '(a|a)+$'}\n")
    _add_raw(corpus_copy, "slow.txt", "Habari za leo kutoka Nairobi: mazungumzo yameanza tena.\n\n" + "a" * 40 + "!\n")
    t0 = time.monotonic()
    out = build_cli(corpus_copy, tmp_path / "build", "--workers", "2")
    assert out.exit_code == 1
    assert len(error_lines(out)) == 1 and re.search(r"patterns\.0\.regex: .* on a line of raw/slow\.txt \(document slow\)", error_lines(out)[0])
    assert not (tmp_path / "build").exists()
    assert time.monotonic() - t0 < 60


def test_nested_quantifiers_the_regex_engine_unfolds_are_matched_in_time():
    """`(a+)+$`, exponential under `re`, is one the regex module handles: it
    is matched well inside the bound, so a pattern is refused only for what it
    does, never for how it looks (the seed's social_handle nests quantifiers too)."""
    from parallel_corpus.stages.clean.rules import _patterns

    ((pattern, _),) = _patterns([{"reason": "social_handle", "regex": "(a+)+$"}])
    t0 = time.monotonic()
    assert pattern.match("a" * 5000 + "!") is None
    assert time.monotonic() - t0 < PATTERN_TIMEOUT_SECONDS


def test_seed_patterns_still_remove_what_they_did(stages):
    """The regex module, bounded, matches the seed patterns as `re` did."""
    rules = stages.rules
    cases = {"#habari @bbcswahili, #nairobi": "social_handle", "https://www.bbc.com/swahili/habari-123": "bare_url",
             "mhariri@example.com": "bare_url", "Habari za leo #nairobi": None}
    for line, reason in cases.items():
        found = next((r for p, r in rules.patterns if p.match(line)), None)
        assert found == reason, line
        assert found == next((r for p, r in rules.patterns if re.match(p.pattern, line)), None)


def _break_sources_language(corpus: Path) -> str:
    lines = (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[1])
    record["language"] = "xx"
    lines[1] = json.dumps(record)
    (corpus / "sources.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"{corpus / 'sources.jsonl'}:2:language: 'xx' is not a language of languages.yaml: use its ISO 639-1 code (null where unknown) or add the language to languages.yaml"


def _break_sources_nesting(corpus: Path) -> str:
    """A line of 100,000 nested arrays: Python's JSON parser would raise
    RecursionError."""
    lines = (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()
    lines.append("[" * 100_000 + "]" * 100_000)
    (corpus / "sources.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"{corpus / 'sources.jsonl'}:{len(lines)}:-: not valid JSON: nested too deeply to read"


def _break_dataset_language(corpus: Path) -> str:
    _replace(corpus, "dataset.yaml", "languages: [sw, hi, ar]", "languages: [sw, hi, xx]")
    line = next(i for i, l in enumerate((corpus / "dataset.yaml").read_text().splitlines(), 1) if l.startswith("languages:"))
    return f"{corpus / 'dataset.yaml'}:{line}:languages.2: 'xx' is not a language of languages.yaml: use its ISO 639-1 code or add the language to languages.yaml"


def _break_alias_list(corpus: Path) -> str:
    _replace(corpus, "entities.yaml", "en: [António Guterres, Antonio Guterres, Guterres]", "en: []")
    line = next(i for i, l in enumerate((corpus / "entities.yaml").read_text().splitlines(), 1) if l.strip() == "en: []")
    return f"{corpus / 'entities.yaml'}:{line}:entities.0.aliases.en: [] should be non-empty"


def _break_topic_entity(corpus: Path) -> str:
    _replace(corpus, "topics.yaml", "entities: [Q311440, Q159]", "entities: [Q311440, Q99999999]")
    line = next(i for i, l in enumerate((corpus / "topics.yaml").read_text().splitlines(), 1) if "Q99999999" in l)
    return f"{corpus / 'topics.yaml'}:{line}:topics.0.entities.1: Q99999999 is not an entity of entities.yaml: add the entity there or correct the QID"


def _break_yaml(name: str):
    def breaker(corpus: Path) -> str:
        text = (corpus / name).read_text(encoding="utf-8")
        (corpus / name).write_text("broken: [unclosed\n" + text, encoding="utf-8")
        return f"{corpus / name}:"  # then the line where the parser gave up
    return breaker


def _alias_bomb(name: str):
    def breaker(corpus: Path) -> str:
        text = (corpus / name).read_text(encoding="utf-8")
        (corpus / name).write_text(ALIAS_BOMB + text, encoding="utf-8")
        return f"{corpus / name}:"  # then the line of the first anchor
    return breaker


def _duplicate_key(name: str):
    """A stray `key:` line that gives a top-level key again: yaml.load would
    keep it and drop the whole list above without a word."""
    def breaker(corpus: Path) -> str:
        text = (corpus / name).read_text(encoding="utf-8")
        key = next(line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha() and ":" in line)
        (corpus / name).write_text(text + f"\n{key}: a stray line\n", encoding="utf-8")
        return f"{corpus / name}:"  # then the line of the stray key (the message: test_yamlfast.py)
    return breaker


CURATED_BREAKAGE = {
    "sources-language": _break_sources_language,
    "sources-file-nul": break_sources_file("a\x00b.txt", "'a\\x00b.txt' is empty or holds a NUL byte: give the file's name in raw/"),
    "sources-deep-nesting": _break_sources_nesting,
    "dataset-language": _break_dataset_language,
    "empty-alias-list": _break_alias_list,
    "topic-unknown-qid": _break_topic_entity,
    **{f"malformed-{n}": _break_yaml(n) for n in ("dataset.yaml", "entities.yaml", "topics.yaml", "dates.yaml", "cleaning.yaml", "languages.yaml")},
    **{f"malformed-alias-bomb-{n}": _alias_bomb(n) for n in ("dataset.yaml", "entities.yaml", "topics.yaml", "cleaning.yaml")},
    **{f"malformed-duplicate-key-{n}": _duplicate_key(n) for n in ("dataset.yaml", "cleaning.yaml", "languages.yaml")},
}


@pytest.mark.parametrize("case", sorted(CURATED_BREAKAGE))
def test_broken_curated_data_fails_validate_and_build_writes_nothing(corpus_copy, tmp_path, case):
    expected = CURATED_BREAKAGE[case](corpus_copy)
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1
    lines = val.stdout.splitlines()
    assert any(l.startswith(expected) for l in lines), val.stdout
    if case.startswith("malformed"):
        assert any(re.fullmatch(re.escape(expected) + r"\d+:-: malformed YAML: .+: fix the file \(`parallel-corpus validate` lists every problem\)", l) for l in lines)
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 1
    errors = error_lines(out)
    assert len(errors) == 1 and out.stderr.count("\n") == 1, out.stderr  # one line, no traceback
    if case.startswith("malformed"):
        assert re.fullmatch("error: " + re.escape(expected) + r"\d+: malformed YAML: .+: fix the file \(`parallel-corpus validate` lists every problem\)", errors[0])
    else:
        assert errors[0].startswith(f"error: {expected}")
    assert not (tmp_path / "build").exists() and not list(tmp_path.glob(".build.*/"))


def test_broken_curated_data_stops_a_parallel_build_too(corpus_copy, tmp_path):
    """Pool workers load the curated files in their initializer; a failing
    initializer is restarted forever, so the driver must refuse first."""
    expected = _break_alias_list(corpus_copy)
    out = build_cli(corpus_copy, tmp_path / "build", "--workers", "2")
    assert out.exit_code == 1 and error_lines(out)[0].startswith(f"error: {expected}")


def test_an_alias_bomb_is_refused_in_a_line_and_at_once() -> None:
    """Anchors and aliases are refused before anything unfolds them, with
    the line of the first one; plain YAML reads as yaml.safe_load reads it."""
    import time

    from parallel_corpus._fast.yamlfast import AliasRefused
    from parallel_corpus.corpus import parse_yaml

    started = time.monotonic()
    with pytest.raises(AliasRefused) as caught:
        parse_yaml("name: x\n" + ALIAS_BOMB)
    assert time.monotonic() - started < 5
    assert caught.value.problem_mark.line + 1 == 2 and "not accepted" in caught.value.problem
    with pytest.raises(AliasRefused):
        parse_yaml("a: &x 1\nb: 2\n")  # an anchor alone too
    plain = "a: 1\nb: [x, 2.5, null, 2020-01-02]\nc: {d: 'e'}\n"
    assert parse_yaml(plain) == yaml.safe_load(plain)
