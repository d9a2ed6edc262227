"""Hardening (issue 8): hostile input, faults and concurrent use, with nothing lost.

Every test meets the package where a user does (the CLI through CliRunner or a
subprocess, or build()/publish()) and asserts three things: one clear line that
names the file, row or task and says what to do; a non-zero exit where the run
cannot go on; and no partial or corrupted output. Unit-level checks of the same
mechanisms live in test_ingest.py, test_validate.py, test_annotations.py and
test_labelstudio.py and are not repeated here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parallel_corpus.annotate.controls import RATING_COLUMN
from parallel_corpus.annotate.exports import check_export, prepare_import
from parallel_corpus.annotate.store import AnnotationError, read_jsonl, validate_records, write_jsonl_atomic
from parallel_corpus.annotate import labelstudio as ls
from parallel_corpus.engine.build import build
from parallel_corpus.files import exclusive
from parallel_corpus.cli.commands import main
from parallel_corpus.release.publish import publish

from conftest import CORPUS, REPO, free_port

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "labelstudio"
RECORDED = FIXTURES / "documents_export_recorded.json"
CLI = [str(Path(sys.executable).parent / "parallel-corpus")]  # the console script, as a user runs it
SWAHILI_ID = "000_579473158ea377e1"


# -- helpers --------------------------------------------------------------------------


def invoke(*args) -> "CliRunner":
    return CliRunner().invoke(main, [str(a) for a in args])


def add_raw(corpus: Path, name: str, data: bytes, **fields) -> int:
    """Write raw/NAME and append its sources.jsonl line; returns that line's number."""
    (corpus / "raw" / name).parent.mkdir(parents=True, exist_ok=True)
    (corpus / "raw" / name).write_bytes(data)
    return add_source(corpus, name, hashlib.sha256(data).hexdigest(), **fields)


def add_source(corpus: Path, name: str, sha256: str, **fields) -> int:
    record = {"id": Path(name).stem, "file": name, "sha256": sha256, "language": "sw", "outlet": None, "url": None, "published": None, "license": None}
    record.update(fields)
    lines = (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()
    lines.append(json.dumps(record, ensure_ascii=False))
    (corpus / "sources.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def build_cli(corpus: Path, out: Path, *extra):
    return invoke("build", "--corpus", corpus, "--out", out, "--annotations", out.parent / "no-annotations", "-q", *extra)


def error_lines(result) -> list[str]:
    return [l for l in result.stderr.splitlines() if l.startswith("error:")]


# -- raw input --------------------------------------------------------------------------

BAD_RAW = {
    "empty.txt": (b"", "raw/empty.txt: empty file: remove it from sources.jsonl or replace it with the article"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01", "raw/binary.txt: binary file (NUL bytes, no UTF-16 BOM): not a text article: remove it from sources.jsonl or replace it with the article"),
    "latin1.txt": (
        "Habari za leo: mazungumzo ya amani — Urusi na Ukraine yameanza tena mjini Nairobi.".encode("cp1252"),
        'raw/latin1.txt: not UTF-8 (byte 35) and no encoding declared: add "encoding": "<codec>" to its line in sources.jsonl',
    ),
}


def test_bad_raw_files_are_skipped_named_and_counted_and_the_rest_builds(corpus_copy, tmp_path):
    for name, (data, _) in BAD_RAW.items():
        add_raw(corpus_copy, name, data)
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0, out.output
    for name, (_, message) in BAD_RAW.items():
        assert f"skipped: {message}" in out.stderr.splitlines()
    assert "built 5 documents (ar 2, hi 1, sw 2), 2 topics, skipped 3" in out.stdout
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    assert report["num_skipped"] == 3 and report["num_documents"] == 5
    assert {s["file"]: s["message"] for s in report["skipped"]} == {n: m for n, (_, m) in BAD_RAW.items()}
    # Publishing it would use up a version for a release without them: refused, naming the first.
    out = invoke("publish", "--corpus", corpus_copy, "--build", tmp_path / "build", "--dist", tmp_path / "dist", "--registry", tmp_path / "releases.jsonl")
    assert out.exit_code == 1
    assert error_lines(out) == [
        f"error: the build in {tmp_path / 'build'} skipped 3 raw file(s), first {report['skipped'][0]['message']}: "
        "fix them and build again, or pass --allow-skipped to publish without them"
    ]
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").iterdir())
    published = publish(corpus_copy, tmp_path / "build", tmp_path / "dist", registry=tmp_path / "releases.jsonl", allow_skipped=True)
    assert published.skipped_documents == 3


def test_strict_build_writes_nothing_and_keeps_the_previous_build(corpus_copy, tmp_path):
    out_dir = tmp_path / "build"
    assert build_cli(corpus_copy, out_dir).exit_code == 0
    before = tree_bytes(out_dir)
    for name, (data, _) in BAD_RAW.items():
        add_raw(corpus_copy, name, data)
    out = build_cli(corpus_copy, out_dir, "--strict")
    assert out.exit_code == 1
    assert error_lines(out) == [
        "error: 3 raw file(s) skipped and --strict is set: nothing written (first: raw/binary.txt: binary file (NUL bytes, no UTF-16 BOM): "
        "not a text article: remove it from sources.jsonl or replace it with the article)"
    ]
    assert tree_bytes(out_dir) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".build.") and p.is_dir()]


@pytest.mark.slow
def test_a_very_large_raw_file_is_streamed_not_refused(corpus_copy, tmp_path):
    """A 20 MB article builds whole (the issue asks for 100 MB). Measured on this
    machine: 5 MB builds in 13 s (840 MB peak RSS), 20 MB in 48 s (2.9 GB peak RSS),
    so 100 MB would take ~4-5 minutes and ~14 GB. Three quarters of the time, and
    most of the memory, is langid's per-block posterior (langdetect n-grams of each
    of ~55k paragraphs); the rest is cleaning and entity matching (see the report
    of issue 8). 20 MB is the largest size that runs in about 60 s."""
    paragraphs = [l for l in (CORPUS / "raw" / f"{SWAHILI_ID}.txt").read_text(encoding="utf-8").split("\n") if len(l) > 80]
    parts, size, i = [], 0, 0
    while size < 20_000_000:
        i += 1
        parts.append(f"{paragraphs[i % len(paragraphs)]} (sehemu {i})")
        size += len(parts[-1].encode("utf-8")) + 2
    data = "\n\n".join(parts).encode("utf-8")
    add_raw(corpus_copy, "big.txt", data)
    t0 = time.monotonic()
    report = build(corpus_copy, tmp_path / "build", annotations_dir=None, log=lambda m: None)
    seconds = time.monotonic() - t0
    assert report.skipped == []
    big = pq.read_table(tmp_path / "build" / "data" / "documents" / "train-00000-of-00001.parquet", filters=[("id", "=", "big")]).to_pylist()
    assert len(big) == 1 and big[0]["num_chars"] > 19_000_000 and len(big[0]["blocks"]) == i
    print(f"\n20 MB raw file built in {seconds:.1f} s")


def test_unlisted_file_warns_at_build_and_fails_validate(corpus_copy, tmp_path):
    (corpus_copy / "raw" / "stray.txt").write_text("Habari za leo.", encoding="utf-8")
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0
    assert "warning: raw/stray.txt is not listed in sources.jsonl; it is not built (add a line for it)" in out.stderr
    assert json.loads((tmp_path / "build" / "report.json").read_text())["unlisted_files"] == ["stray.txt"]
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1
    assert f"{corpus_copy / 'raw' / 'stray.txt'}:-:-: not listed in sources.jsonl: add a line for it or remove the file" in val.stdout


def test_listed_file_missing_from_disk_is_skipped_with_its_row(corpus_copy, tmp_path):
    row = add_source(corpus_copy, "gone.txt", "0" * 64)
    message = f"{corpus_copy / 'sources.jsonl'}:{row}:file: raw/gone.txt does not exist: restore the file or remove its line"
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0 and f"skipped: {message}" in out.stderr
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    assert [s["file"] for s in report["skipped"]] == ["gone.txt"]
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1 and message in val.stdout


def test_duplicate_documents_are_reported_and_published_once(corpus_copy, tmp_path):
    original = (CORPUS / "raw" / f"{SWAHILI_ID}.txt").read_bytes()
    add_raw(corpus_copy, "same_bytes.txt", original)  # the same bytes under another id
    chrome = b"Share this article\nAdvertisement\n\n" + original + b"\n\nMost read\nSubscribe\n"
    add_raw(corpus_copy, "other_chrome.txt", chrome)  # the same article, other site chrome around it
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0, out.output
    for name in ("same_bytes.txt", "other_chrome.txt"):
        assert f"skipped: raw/{name}: same text as {SWAHILI_ID} after cleaning; built once" in out.stderr
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    assert sorted((s["file"], s["reason"]) for s in report["skipped"]) == [("other_chrome.txt", "duplicate"), ("same_bytes.txt", "duplicate")]
    release = publish(corpus_copy, tmp_path / "build", tmp_path / "dist", registry=tmp_path / "releases.jsonl")
    docs = pq.read_table(release.path / "data" / "documents" / "train-00000-of-00001.parquet", columns=["id", "text_sha256"]).to_pylist()
    assert len(docs) == 5 and len({d["text_sha256"] for d in docs}) == 5
    assert {"same_bytes", "other_chrome"}.isdisjoint(d["id"] for d in docs)


@pytest.mark.parametrize("name,problem", [
    ("../outside.txt", "'../outside.txt' points outside raw/"),
    ("sub/../../outside.txt", "'sub/../../outside.txt' points outside raw/"),
    ("/etc/hostname", "'/etc/hostname' is absolute: give a path relative to raw/"),
])
def test_a_path_out_of_raw_is_refused_with_its_row(corpus_copy, tmp_path, name, problem):
    (corpus_copy / "outside.txt").write_text("siri", encoding="utf-8")
    row = add_source(corpus_copy, name, "0" * 64)
    line = f"{corpus_copy / 'sources.jsonl'}:{row}:file: {problem}"
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 1 and error_lines(out) == [f"error: {line}"]
    assert not (tmp_path / "build").exists()
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1 and line in val.stdout.splitlines()


def test_a_symlink_out_of_raw_is_never_read(corpus_copy, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("Habari za siri ambazo hazipaswi kuchapishwa kamwe katika korasi hii.", encoding="utf-8")
    (corpus_copy / "raw" / "link.txt").symlink_to(secret)
    row = add_source(corpus_copy, "link.txt", hashlib.sha256(secret.read_bytes()).hexdigest())
    line = f"{corpus_copy / 'sources.jsonl'}:{row}:file: 'link.txt' resolves outside raw/ (a symlink?): copy the article into raw/ instead"
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0 and f"skipped: {line}" in out.stderr
    assert "siri" not in (tmp_path / "build" / "data" / "documents" / "train-00000-of-00001.parquet").read_bytes().decode("latin-1")
    assert build_cli(corpus_copy, tmp_path / "strict", "--strict").exit_code == 1
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1 and line in val.stdout.splitlines()


# -- curated data -------------------------------------------------------------------------


def _break_sources_language(corpus: Path) -> str:
    lines = (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[1])
    record["language"] = "xx"
    lines[1] = json.dumps(record)
    (corpus / "sources.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"{corpus / 'sources.jsonl'}:2:language: 'xx' is not a language of languages.yaml: use its ISO 639-1 code (null where unknown) or add the language to languages.yaml"


def _break_sources_file(value: str, expected: str):
    """Row 2's `file` set to `value` (a NUL in it, a folder's name)."""

    def breaker(corpus: Path) -> str:
        lines = (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()
        record = json.loads(lines[1])
        record["file"] = value
        lines[1] = json.dumps(record)
        (corpus / "sources.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (corpus / "raw" / "a-folder").mkdir()
        return f"{corpus / 'sources.jsonl'}:2:file: {expected}"

    return breaker


def _break_sources_nesting(corpus: Path) -> str:
    """A line of 100,000 nested arrays: Python's JSON parser would raise
    RecursionError."""
    lines = (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()
    lines.append("[" * 100_000 + "]" * 100_000)
    (corpus / "sources.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"{corpus / 'sources.jsonl'}:{len(lines)}:-: not valid JSON: nested too deeply to read"


def _replace(corpus: Path, name: str, old: str, new: str) -> None:
    text = (corpus / name).read_text(encoding="utf-8")
    assert old in text
    (corpus / name).write_text(text.replace(old, new, 1), encoding="utf-8")


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


# Nine levels of nine aliases: a few hundred bytes that unfold into 9**9
# values for whoever walks them.
ALIAS_BOMB = 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 9)
)


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
    "sources-file-nul": _break_sources_file("a\x00b.txt", "'a\\x00b.txt' is empty or holds a NUL byte: give the file's name in raw/"),
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


# -- annotations ----------------------------------------------------------------------------


def _recorded_tasks() -> list[dict]:
    return json.loads(RECORDED.read_text(encoding="utf-8"))


def _build_of(tasks: list[dict], folder: Path, drop: tuple[str, ...] = ()) -> Path:
    """A build folder holding the documents the recorded tasks were made on."""
    rows = [{"id": t["data"]["document_id"], "text": t["data"]["text"], "text_sha256": t["data"]["text_sha256"]} for t in tasks]
    rows = sorted({r["id"]: r for r in rows if r["id"] not in drop}.values(), key=lambda r: r["id"])
    (folder / "data" / "documents").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "data" / "documents" / "train-00000-of-00001.parquet")
    return folder


def _write(path: Path, payload) -> Path:
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def import_cli(*files, annotations: Path, build_dir: Path):
    return CliRunner().invoke(main, ["annotate", "import", *map(str, files), "--annotations", str(annotations), "--build", str(build_dir)])


@pytest.fixture
def store(tmp_path):
    """An annotations store holding the recorded export, and the build it was checked against."""
    build_dir = _build_of(_recorded_tasks(), tmp_path / "build")
    folder = tmp_path / "annotations"
    out = import_cli(RECORDED, annotations=folder, build_dir=build_dir)
    assert out.exit_code == 0, out.output
    return folder, build_dir, tree_bytes(folder)


def test_truncated_or_malformed_export_fails_and_merges_nothing(store, tmp_path):
    folder, build_dir, before = store
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(RECORDED.read_bytes()[:700])
    not_utf8 = tmp_path / "latin1.json"
    not_utf8.write_bytes('[{"data": {"text": "Señor"}}]'.encode("latin-1"))
    wrong_shape = _write(tmp_path / "shape.json", [{"data": {}, "annotations": {"not": "a list"}}])
    try:
        json.loads(truncated.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        where = f"{exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno})"
    expected = {
        truncated: f"error: {truncated}:{where}: the file is truncated or not a Label Studio export",
        not_utf8: f"error: {not_utf8}: not UTF-8 (byte 22): export JSON from Label Studio again",
        wrong_shape: f"error: {wrong_shape}: task 1: `annotations` must be a list and `data` an object",
    }
    for path, line in expected.items():
        # the good export first: nothing of it may be merged when a later file fails
        out = import_cli(RECORDED, path, annotations=folder, build_dir=build_dir)
        assert out.exit_code == 1 and error_lines(out) == [line], out.stderr
        assert tree_bytes(folder) == before


def test_export_of_another_project_or_label_config_is_refused(store, tmp_path):
    folder, build_dir, before = store
    other_project = _recorded_tasks()
    for t in other_project:
        t["project"] = 999
    other_config = _recorded_tasks()
    other_config[0]["annotations"][0]["result"][0]["from_name"] = "ner"
    foreign = tmp_path / "foreign.json"
    shutil.copyfile(FIXTURES / "whitespace_export.json", foreign)
    cases = {
        _write(tmp_path / "project.json", other_project): "export is from project 999, but the stored documents annotations come from project 3",
        _write(tmp_path / "config.json", other_config): "task 5: result from_name 'ner' is not in schemas/labelstudio/documents.xml: export from another label config",
        foreign: "tasks lack the fields parallel-corpus pushes (task_key, document_id or pair_id, text_sha256): not an export of our projects; use --check to only verify its spans",
    }
    for path, reason in cases.items():
        out = import_cli(path, annotations=folder, build_dir=build_dir)
        assert out.exit_code == 1 and error_lines(out) == [f"error: {path}: {reason}"], out.stderr
        assert tree_bytes(folder) == before


def _first_span(tasks: list[dict]) -> dict:
    return next(r for t in tasks for a in t["annotations"] for r in a["result"] if r["type"] == "labels")["value"]


@pytest.mark.parametrize("case", ["out-of-range", "text-differs", "document-gone"])
def test_untrusted_annotations_are_quarantined_named_and_never_applied(tmp_path, case):
    tasks = _recorded_tasks()
    ar = next(t for t in tasks if t["data"]["document_id"] == "ar-1")
    span = _first_span([ar])
    drop: tuple[str, ...] = ()
    if case == "out-of-range":
        span.update(start=500, end=506)
        reason = f"text[500:506] is '', not the span text {span['text']!r}"
    elif case == "text-differs":
        span["text"] = "موسكو!"
        reason = f"text[{span['start']}:{span['end']}] is 'نيروبي', not the span text 'موسكو!'"
    else:
        drop = ("ar-1",)
        reason = "document 'ar-1' is not in the build"
    export = _write(tmp_path / "export.json", tasks)
    build_dir = _build_of(_recorded_tasks(), tmp_path / "build", drop=drop)
    folder = tmp_path / "annotations"
    out = import_cli(export, annotations=folder, build_dir=build_dir)
    assert out.exit_code == 0, out.output
    assert f"quarantined: {export}: task {ar['id']} annotation {ar['annotations'][0]['id']} (ar-1): {reason}: correct it in Label Studio and pull or import again" in out.stderr.splitlines()
    assert "1 quarantined" in out.stdout
    stored = read_jsonl(folder / "documents.jsonl")
    assert "ar-1" not in {r["document_id"] for r in stored} and len(stored) == 2
    quarantine = read_jsonl(folder / "quarantine.jsonl")
    assert [(q["task_id"], q["reason"]) for q in quarantine] == [(ar["id"], reason)]
    # nothing lost, nothing doubled: importing the same export again changes no byte
    before = tree_bytes(folder)
    again = import_cli(export, annotations=folder, build_dir=build_dir)
    assert again.exit_code == 0 and "0 added, 0 updated, 2 unchanged" in again.stdout
    assert tree_bytes(folder) == before


def test_annotation_of_a_document_no_longer_in_the_corpus_is_kept_and_reported_at_build(tmp_path):
    """The store keeps it (nothing lost); the build names it and does not apply it."""
    built = tmp_path / "build"
    assert build_cli(CORPUS, built).exit_code == 0
    folder = tmp_path / "annotations"
    folder.mkdir()
    base = {
        "key": "t1/a1", "kind": "documents", "project_id": 1, "task_id": 1, "annotation_id": 1, "annotator": "a@example.com",
        "created_at": None, "updated_at": "2024-01-01T00:00:00Z", "lead_time": None, "status": "completed", "document_id": "removed-doc",
        "document_id_2": None, "pair_id": None, "text_sha256": "0" * 64, "text_sha256_2": None, "entities": [], "topic_id": "x",
        "event_id": None, "language": "sw", "cleaning_problems": [], "comment": None, **{c: None for c in RATING_COLUMN.values()}, "source": "t",
    }
    validate_records([base], "test")
    write_jsonl_atomic(folder / "documents.jsonl", [base])
    before = tree_bytes(folder)
    out = invoke("build", "--corpus", CORPUS, "--out", tmp_path / "b2", "--annotations", folder, "-q")
    assert out.exit_code == 0, out.output
    assert (f"warning: {folder}: the annotation of document removed-doc was made on a text that changed or is no longer in the corpus: "
            "not applied (kept in the store; annotate the current text again)") in out.stderr.splitlines()
    report = json.loads((tmp_path / "b2" / "report.json").read_text())
    assert report["annotations"]["stale_annotations"] == ["removed-doc"]
    assert tree_bytes(folder) == before


def test_reimport_of_the_same_export_gives_a_byte_identical_store(store):
    folder, build_dir, before = store
    for export in (RECORDED, FIXTURES / "documents_export_min_recorded.json", RECORDED):
        out = import_cli(export, annotations=folder, build_dir=build_dir)
        assert out.exit_code == 0 and ", 0 added, 0 updated," in out.stdout.replace("documents:", ","), out.output
        assert tree_bytes(folder) == before


# -- faults ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A 300-document synthetic corpus and its uninterrupted build."""
    root = tmp_path_factory.mktemp("synthetic")
    made = subprocess.run([sys.executable, str(REPO / "scripts" / "make-synthetic-corpus"), "300", str(root / "corpus")], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    reference = root / "reference"
    build(root / "corpus", reference, annotations_dir=None, log=lambda m: None)
    return root / "corpus", tree_bytes(reference)


def _start_build(corpus: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "build", "--corpus", str(corpus), "--out", str(out), "--annotations", str(out.parent / "none"), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=out.parent)


def _wait_for_pass_one(out: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until the build's staging folder has its spill file: the build is midway."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(out.parent.glob(f".{out.name}.*/spill/documents.arrow")):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("the build never started writing")


def test_a_build_killed_midway_leaves_no_partial_output_and_the_next_is_identical(synthetic, tmp_path):
    corpus, reference = synthetic
    out = tmp_path / "build"
    # First with no previous build, then with one in place: neither may be harmed.
    for previous in (None, CORPUS):
        if previous is not None:
            build(previous, out, annotations_dir=None, log=lambda m: None)
        before = tree_bytes(out) if out.exists() else None
        proc = _start_build(corpus, out)
        _wait_for_pass_one(out, proc)
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        assert (tree_bytes(out) if out.exists() else None) == before
    result = build_cli(corpus, out)
    assert result.exit_code == 0, result.output
    assert tree_bytes(out) == reference
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".build.")) == [".build.lock"]  # the dead builds' staging is gone


def test_two_builds_at_once_do_not_corrupt_each_other(synthetic, tmp_path):
    corpus, reference = synthetic
    out = tmp_path / "build"
    first = _start_build(corpus, out)
    _wait_for_pass_one(out, first)
    second = build_cli(corpus, out)
    assert second.exit_code == 1
    assert error_lines(second) == [f"error: another build is writing {out} (it holds {tmp_path / '.build.lock'}): wait for it to finish"]
    stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert tree_bytes(out) == reference
    assert build_cli(corpus, out).exit_code == 0  # the lock is free again once the first build ends


def test_a_publish_while_another_publishes_is_refused(tmp_path):
    build(CORPUS, tmp_path / "build", annotations_dir=None, log=lambda m: None)
    version = yaml.safe_load((CORPUS / "dataset.yaml").read_text(encoding="utf-8"))["version"]
    target = tmp_path / "dist" / f"v{version}"
    target.parent.mkdir()
    with exclusive(target, "publish"):
        out = invoke("publish", "--corpus", CORPUS, "--build", tmp_path / "build", "--dist", tmp_path / "dist", "--registry", tmp_path / "r.jsonl")
    assert out.exit_code == 1
    assert error_lines(out) == [f"error: another publish is writing {target} (it holds {target.parent / f'.v{version}.lock'}): wait for it to finish"]
    assert not target.exists()


# -- Label Studio faults -----------------------------------------------------------------------


class OwnLabelStudio:
    """A Label Studio of this test alone (own port, state dir and token), to stop and restart."""

    def __init__(self, state: Path):
        self.port, self.key = free_port(), secrets.token_hex(20)
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, LABEL_STUDIO_PORT=str(self.port), LABEL_STUDIO_API_KEY=self.key, LABEL_STUDIO_STATE_DIR=str(state),
                        LABEL_STUDIO_PASSWORD=secrets.token_urlsafe(12), LABEL_STUDIO_URL=self.url)

    def run(self, command: str) -> None:
        done = subprocess.run([str(REPO / "scripts" / "labelstudio"), command], env=self.env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr


def _documents(n: int) -> list[dict]:
    docs = []
    for i in range(n):
        text = f"Katibu Mkuu Guterres azuru Nairobi, habari nambari {i}.\n\nAlisema dunia inakabiliwa na mgogoro."
        docs.append({"id": f"sw-{i:04d}", "language": "sw", "title": text.split("\n")[0], "text": text,
                     "text_sha256": hashlib.sha256(text.encode()).hexdigest(), "topic_id": None, "event_id": None, "entities": []})
    return docs


@pytest.mark.integration
@pytest.mark.slow
def test_server_stopped_during_a_push_then_push_again_resumes_without_duplicates(labelstudio_server, tmp_path):
    """The server goes away after the first batch (stopped with scripts/labelstudio
    from a progress callback); the push fails with one line; after a restart the
    same push adds only what is missing."""
    server = OwnLabelStudio(tmp_path / "ls-state")
    server.run("start")
    try:
        docs = _documents(25)
        build_dir = tmp_path / "build"
        (build_dir / "data" / "documents").mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(docs), build_dir / "data" / "documents" / "train-00000-of-00001.parquet")
        conn = ls.connect(server.url, server.key)
        project = ls.ensure_project(conn, "documents")
        pushed = []

        def stop_after_first_batch(n: int) -> None:
            pushed.append(n)
            if len(pushed) == 1:
                server.run("stop")

        with pytest.raises(ls.LabelStudioError) as err:
            ls.push(conn, project, ls.tasks_from_documents(docs), batch_size=10, progress=stop_after_first_batch)
        assert str(err.value) == f"Label Studio at {server.url} does not answer: start it with scripts/labelstudio start"
        assert pushed == [10]
        out = CliRunner().invoke(main, ["annotate", "push", "--kind", "documents", "--build", str(build_dir)], env=server.env)
        assert out.exit_code == 1
        assert error_lines(out) == [f"error: Label Studio at {server.url} does not answer: start it with scripts/labelstudio start"]
        server.run("start")
        out = CliRunner().invoke(main, ["annotate", "push", "--kind", "documents", "--build", str(build_dir), "--batch-size", "10"], env=server.env)
        assert out.exit_code == 0, out.output
        assert "15 new task(s) pushed" in out.stdout and "10 already there" in out.stdout
        tasks = ls.export(ls.connect(server.url, server.key), project)
        keys = [t["data"]["task_key"] for t in tasks]
        assert len(keys) == 25 and len(set(keys)) == 25
    finally:
        server.run("stop")


@pytest.mark.integration
def test_two_annotators_disagreeing_are_both_kept_and_both_published(labelstudio_server, tmp_path):
    """Push the real corpus's build, two users label one document differently,
    pull, rebuild: both annotations stay in annotations/documents.jsonl and both
    are rows of the published `annotations` config; the later one is applied."""
    import uuid

    url, key = labelstudio_server
    env = {"LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": key}
    title = f"hardening documents {uuid.uuid4().hex[:8]}"
    build_dir = tmp_path / "build"
    build(CORPUS, build_dir, annotations_dir=None, log=lambda m: None)
    runner = CliRunner()
    out = runner.invoke(main, ["annotate", "push", "--kind", "documents", "--build", str(build_dir), "--project", title], env=env)
    assert out.exit_code == 0, out.output
    conn = ls.connect(url, key)
    project = ls.find_project(conn, title)
    task = next(t for t in ls.export(conn, project) if t["data"]["document_id"] == SWAHILI_ID)
    tag = uuid.uuid4().hex[:8]
    users = [conn.client.users.create(email=f"{n}-{tag}@example.com", username=f"{n}{tag}") for n in ("one", "two")]
    for user, topic in zip(users, ("putin-biden-call-2021-12", "un-sg-russia-talks")):
        conn.client.annotations.create(id=task["id"], completed_by=user.id, result=[
            {"from_name": "topic_id", "to_name": "text", "type": "textarea", "value": {"text": [topic]}},
            {"from_name": "language", "to_name": "text", "type": "choices", "value": {"choices": ["sw"]}},
        ])
    folder = tmp_path / "annotations"
    out = runner.invoke(main, ["annotate", "pull", "--annotations", str(folder), "--build", str(build_dir), "--project", f"documents={title}"], env=env)
    assert out.exit_code == 0, out.output
    stored = read_jsonl(folder / "documents.jsonl")
    assert sorted(r["topic_id"] for r in stored) == ["putin-biden-call-2021-12", "un-sg-russia-talks"]
    assert {r["annotator"] for r in stored} == {u.email for u in users}
    out = invoke("build", "--corpus", CORPUS, "--out", tmp_path / "build2", "--annotations", folder, "-q")
    assert out.exit_code == 0, out.output
    release = publish(CORPUS, tmp_path / "build2", tmp_path / "dist", registry=tmp_path / "r.jsonl")
    rows = pq.read_table(release.path / "data" / "annotations" / "train-00000-of-00001.parquet").to_pylist()
    assert sorted((r["annotator"], r["topic_id"]) for r in rows) == sorted((u.email, t) for u, t in zip(users, ("putin-biden-call-2021-12", "un-sg-russia-talks")))
    report = json.loads((tmp_path / "build2" / "report.json").read_text())
    assert report["annotations"]["agreement"]["documents"]["items_with_two_or_more"] == 1


# -- fuzzing: what the existing fuzzers left out --------------------------------------------------


@pytest.fixture(scope="module")
def cleaning_rules():
    from parallel_corpus.stages.clean import CleaningRules
    from parallel_corpus.stages.dates import load_calendar

    return CleaningRules.load(CORPUS / "cleaning.yaml", load_calendar(CORPUS).match_leading_date)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), language=st.sampled_from(["sw", "hi", "ar", "en", "xx", None]))
def test_fuzz_cleaner_any_text_any_language(cleaning_rules, text, language):
    """test_clean.py fuzzes lists of lines without a language; here any text (with
    \\r, \\x0b, \\u2028 and other line breaks) and a declared language. Only our
    own EmptyDocument may escape, and every block's span is exact."""
    from parallel_corpus.stages.clean import EmptyDocument, clean

    try:
        cleaned = clean(text, cleaning_rules, language)
    except EmptyDocument:
        return
    for block, (start, end) in zip(cleaned.blocks, cleaned.spans()):
        assert cleaned.text[start:end] == block.text


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80), language=st.sampled_from(["sw", "hi", "ar", "en", None]), reference=st.none() | st.dates())
def test_fuzz_date_parser_any_reference_date(text, language, reference):
    """test_dates.py fixes the reference date at 2022-01-01; a document's published
    date can be anything from year 1 to 9999, and a date without a year takes the
    year nearest it."""
    calendar = _calendar()
    for d in calendar.find_dates(text + " 12 Mei", language, reference=reference):
        assert (text + " 12 Mei")[d["start"]:d["end"]] == d["text"]


_CALENDAR = []


def _calendar():
    from parallel_corpus.stages.dates import load_calendar

    if not _CALENDAR:
        _CALENDAR.append(load_calendar(CORPUS))
    return _CALENDAR[0]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "start", "end", "text", "labels", "choices", "from_name", "to_name", "type", "value", "result",
                         "completed_by", "updated_at", "was_cancelled", "project", "annotator", "annotation_id"]),
        children, max_size=5),
    max_leaves=20,
)
from_names = st.sampled_from(["entities", "entities_rtl", "language", "topic_id", "event_id", "cleaning", "comment"])


@st.composite
def our_exports(draw):
    """Exports shaped like our documents project (the marker fields present), so the
    importer's `kind` path runs: normalize, foreign check, schema validation."""
    text = draw(st.text(max_size=30))
    tasks = []
    for task_id in range(draw(st.integers(1, 3))):
        results = draw(st.lists(st.fixed_dictionaries({"from_name": from_names, "to_name": st.sampled_from(["text", "text_rtl"]),
                                                        "type": st.sampled_from(["labels", "choices", "textarea"]), "value": json_values}), max_size=3))
        annotation = {"id": draw(st.none() | st.integers(0, 5)), "completed_by": draw(json_values), "result": results,
                      "updated_at": draw(json_values), "was_cancelled": draw(json_values)}
        tasks.append({"id": task_id, "project": draw(st.none() | st.just(1)), "annotations": [annotation],
                      "data": {"task_key": "k", "document_id": draw(st.text(max_size=5)), "text": text, "text_sha256": draw(st.sampled_from(["0" * 64, "x"]))}})
    return tasks


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=our_exports())
def test_fuzz_importer_of_our_own_exports(tmp_path, payload):
    """test_annotations.py fuzzes `--check` (no kind); the plain import also reads
    our control names, ratings and choices, and must store only valid records."""
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    try:
        kind, normalized = prepare_import(path, tmp_path / "store")
    except AnnotationError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    assert kind == "documents"
    validate_records(normalized.records, "fuzz")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=60))
def test_fuzz_importer_any_bytes(tmp_path, data):
    """Whatever bytes a downloaded file holds: our one-line error or a result."""
    path = tmp_path / "fuzz.json"
    path.write_bytes(data)
    try:
        check_export(path)
    except AnnotationError as exc:
        assert "\n" not in str(exc)


def test_an_alias_bomb_is_refused_in_a_line_and_at_once() -> None:
    """Anchors and aliases are refused before anything unfolds them, with
    the line of the first one; plain YAML reads as yaml.safe_load reads it."""
    import time

    import yaml

    from parallel_corpus.corpus import parse_yaml
    from parallel_corpus._fast.yamlfast import AliasRefused

    started = time.monotonic()
    with pytest.raises(AliasRefused) as caught:
        parse_yaml("name: x\n" + ALIAS_BOMB)
    assert time.monotonic() - started < 5
    assert caught.value.problem_mark.line + 1 == 2 and "not accepted" in caught.value.problem
    with pytest.raises(AliasRefused):
        parse_yaml("a: &x 1\nb: 2\n")  # an anchor alone too
    plain = "a: 1\nb: [x, 2.5, null, 2020-01-02]\nc: {d: 'e'}\n"
    assert parse_yaml(plain) == yaml.safe_load(plain)


def test_a_card_with_an_alias_is_one_violation_line(tmp_path) -> None:
    from parallel_corpus.release.validate import validate_release

    (tmp_path / "README.md").write_text("---\nname: x\n" + ALIAS_BOMB + "---\n\ncard\n", encoding="utf-8")
    found = list(validate_release(tmp_path))
    assert len(found) == 1
    assert found[0].file == str(tmp_path / "README.md") and found[0].row == "3"
    assert "unreadable card YAML: anchors and aliases (& and *) are not accepted" in found[0].message
    assert "\n" not in found[0].message


def test_a_card_whose_configs_are_not_mappings_is_one_violation_line(tmp_path) -> None:
    from parallel_corpus.release.validate import validate_release

    (tmp_path / "README.md").write_text("---\nconfigs:\n- just a string\ndataset_info:\n- splits: [{name: train, num_examples: many}]\n---\n", encoding="utf-8")
    found = [str(v) for v in validate_release(tmp_path)]
    readme = tmp_path / "README.md"
    assert found == [
        f"{readme}:-:configs: must be a list of mappings: republish the release",
        f"{readme}:-:dataset_info[0].splits[0].num_examples: must be an integer: republish the release",
    ]


def test_a_folder_named_as_a_raw_file_is_a_line_and_the_build_skips_it(corpus_copy, tmp_path) -> None:
    """Like any unreadable article: validate names it, the build skips that
    one document with the same line (and `--strict` would stop)."""
    expected = _break_sources_file("a-folder", "raw/a-folder is not a file (a folder?): name the article's file")(corpus_copy)
    val = invoke("validate", corpus_copy)
    assert val.exit_code == 1 and expected in val.stdout.splitlines()
    out = build_cli(corpus_copy, tmp_path / "build")
    assert out.exit_code == 0 and f"skipped: {expected}" in out.output
