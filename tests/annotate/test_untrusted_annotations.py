"""The annotation store as the build reads it, and what people typed in the card.

The store (annotations/*.jsonl) may have been edited by hand or merged by git
since `import` checked it: the build checks it again with the same functions,
applies what passes, names each line that fails (stderr and report.json) and
never writes to the store. Free text from annotators and curated files is
escaped in the card.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import (
    CORPUS,
    FIXTURES,
    RECORDED,
    build_cli,
    error_lines,
    invoke,
    tree_bytes,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parallel_corpus.annotate.controls import RATING_COLUMN
from parallel_corpus.annotate.overrides import UNKNOWN_FIX
from parallel_corpus.annotate.exports import (
    check_against_documents,
    check_export,
    prepare_import,
)
from parallel_corpus.annotate.store import (
    AnnotationError,
    Normalized,
    StoreRead,
    check_store_spans,
    read_jsonl,
    validate_records,
    write_jsonl_atomic,
)
from parallel_corpus.cli.commands import main
from parallel_corpus.release.publish import publish

DOC = "000_579473158ea377e1"  # "... mkutano wa kilele wa Brics uliofanyika Kazan ..."


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """The seed corpus's built documents: id -> row."""
    out = tmp_path_factory.mktemp("seed") / "build"
    assert invoke("build", "--corpus", CORPUS, "--out", out, "--annotations", out.parent / "none", "-q").exit_code == 0
    rows = pq.read_table(out / "data" / "documents" / "train-00000-of-00001.parquet", columns=["id", "text", "text_sha256"]).to_pylist()
    return {r["id"]: r for r in rows}


def _record(documents, n: int = 1, **fields) -> dict:
    text = documents[DOC]["text"]
    start = text.index("Brics")
    record = {
        "key": f"t{n}/a{n}", "kind": "documents", "project_id": 1, "task_id": n, "annotation_id": n, "annotator": "a@example.com",
        "created_at": None, "updated_at": "2024-01-01T00:00:00Z", "lead_time": None, "status": "completed", "document_id": DOC,
        "document_id_2": None, "pair_id": None, "text_sha256": documents[DOC]["text_sha256"], "text_sha256_2": None,
        "entities": [{"start": start, "end": start + 5, "text": "Brics", "label": "organisation", "verification": "verified",
                      "exported_start": start, "exported_end": start + 5}],
        "topic_id": "un-sg-russia-talks", "event_id": None, "language": "sw", "cleaning_problems": [], "comment": None,
        **{c: None for c in RATING_COLUMN.values()}, "source": "export.json",
    }
    record.update(fields)
    validate_records([record], "test")
    return record


def _store(folder: Path, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "documents.jsonl").write_text("".join(l + "\n" for l in lines), encoding="utf-8")
    return folder / "documents.jsonl"


def _line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _build(folder: Path, out: Path):
    t0 = time.monotonic()
    result = invoke("build", "--corpus", CORPUS, "--out", out, "--annotations", folder, "-q")
    assert time.monotonic() - t0 < 60
    return result


def _quarantined(result) -> list[str]:
    return [l for l in result.stderr.splitlines() if l.startswith("quarantined:")]


def _rows(out: Path, columns: list[str]) -> list[dict]:
    """Rows of every split of the documents config (a human topic may move a document's split)."""
    return [r for f in sorted((out / "data" / "documents").glob("*.parquet")) for r in pq.read_table(f, columns=columns).to_pylist()]


def _human_entities(out: Path) -> list[dict]:
    rows = _rows(out, ["id", "entities"])
    return [e for r in rows if r["id"] == DOC for e in r["entities"] if e["source"] == "human"]


def _span(record: dict, **change) -> dict:
    spans = [dict(record["entities"][0], **change)]
    return dict(record, entities=spans)


@pytest.mark.parametrize("case", ["start-after-end", "outside-the-text", "text-differs"])
def test_a_hand_edited_span_is_named_and_not_applied_and_the_store_is_untouched(documents, tmp_path, case):
    good = _record(documents)
    start = good["entities"][0]["start"]
    bad, reason = {
        "start-after-end": (_span(good, start=start + 5, end=start), f"span offsets {start + 5}-{start} are not an interval"),
        "outside-the-text": (_span(good, start=10**6, end=10**6 + 5), f"text[{10**6}:{10**6 + 5}] is '', not the span text 'Brics'"),
        "text-differs": (_span(good, text="Kazan"), f"text[{start}:{start + 5}] is 'Brics', not the span text 'Kazan'"),
    }[case]
    span = bad["entities"][0]
    path = _store(tmp_path / "annotations", [_line(bad)])
    before = tree_bytes(tmp_path / "annotations")
    out = _build(tmp_path / "annotations", tmp_path / "build")
    assert out.exit_code == 0, out.output
    assert _quarantined(out) == [
        f"quarantined: {path}:1:entities.0: span {span['start']}-{span['end']} {span['text']!r} does not match document {DOC}: {reason}: "
        "not applied; correct it in Label Studio and pull or import again"
    ]
    assert _human_entities(tmp_path / "build") == []  # the whole annotation is left out, not half of it
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    assert report["annotations"]["quarantined_lines"] == [_quarantined(out)[0].removeprefix("quarantined: ")]
    assert report["annotations"]["documents_with_human_labels"] == 0
    assert tree_bytes(tmp_path / "annotations") == before


def test_a_line_duplicated_by_a_merge_is_applied_once_silently(documents, tmp_path):
    record = _record(documents)
    _store(tmp_path / "annotations", [_line(record), _line(record)])
    before = tree_bytes(tmp_path / "annotations")
    out = _build(tmp_path / "annotations", tmp_path / "build")
    assert out.exit_code == 0, out.output
    assert _quarantined(out) == []
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    assert report["annotations"]["records"] == 1 and report["annotations"]["quarantined_lines"] == []
    assert sum(pq.read_table(f).num_rows for f in (tmp_path / "build" / "data" / "annotations").glob("*.parquet")) == 1
    assert [e["text"] for e in _human_entities(tmp_path / "build")] == ["Brics"]
    assert tree_bytes(tmp_path / "annotations") == before


def test_one_key_with_two_contents_names_the_loser_and_applies_the_later(documents, tmp_path):
    older = _record(documents, topic_id="un-sg-russia-talks")
    newer = _record(documents, topic_id="putin-biden-call-2021-12", updated_at="2024-02-01T00:00:00Z")
    path = _store(tmp_path / "annotations", [_line(newer), _line(older)])
    before = tree_bytes(tmp_path / "annotations")
    out = _build(tmp_path / "annotations", tmp_path / "build")
    assert out.exit_code == 0, out.output
    assert _quarantined(out) == [
        f"quarantined: {path}:2:key: annotation 't1/a1' is also on {path}:1 with other content: {path}:1 is applied "
        "(updated later, or first); remove the line that is wrong"
    ]
    rows = _rows(tmp_path / "build", ["id", "topic_id"])
    assert {r["id"]: r["topic_id"] for r in rows}[DOC] == "putin-biden-call-2021-12"
    assert tree_bytes(tmp_path / "annotations") == before


def test_a_truncated_or_schema_breaking_line_is_named_and_the_rest_applies(documents, tmp_path):
    good = _record(documents)
    truncated = _line(_record(documents, 2))[:120]
    wrong = _line(dict(_record(documents, 3), topic_id=42))
    try:
        json.loads(truncated)
    except json.JSONDecodeError as exc:
        broken = exc.msg
    path = _store(tmp_path / "annotations", [truncated, _line(good), wrong, "[]"])
    before = tree_bytes(tmp_path / "annotations")
    out = _build(tmp_path / "annotations", tmp_path / "build")
    assert out.exit_code == 0, out.output
    assert "Traceback" not in out.output
    assert _quarantined(out) == [
        f"quarantined: {path}:1:-: not valid JSON ({broken}): not applied; fix or remove the line (import checks it again)",
        f"quarantined: {path}:3:topic_id: 42 is not of type 'string', 'null': not applied; fix or remove the line (import checks it again)",
        f"quarantined: {path}:4:-: expected an object, got list: not applied; fix or remove the line (import checks it again)",
    ]
    assert [e["text"] for e in _human_entities(tmp_path / "build")] == ["Brics"]
    assert tree_bytes(tmp_path / "annotations") == before


def test_import_and_build_share_the_span_check(documents):
    """`check_against_documents` (import) and the build's store check give one reason."""
    bad = _span(_record(documents), start=3, end=1)
    normalized = check_against_documents(Normalized(records=[bad]), documents)
    read = check_store_spans(StoreRead(records=[("x:1", bad)]), documents)
    assert normalized.records == [] and read.records == []
    assert read.problems[0] == f"x:1:entities.0: {normalized.quarantine[0]['reason']}: not applied; correct it in Label Studio and pull or import again"


# -- the card ---------------------------------------------------------------------------------

SCRIPT_ID = "<script>alert(1)</script>|x"
LINK_TITLE = "Talks](javascript:alert(1)) `code` *bold*\nnext"


def test_a_typed_topic_id_is_refused_and_catalog_titles_are_inert_in_the_card(documents, corpus_copy, tmp_path):
    """A topic id typed into a store line never reaches the card: the build refuses
    an id the catalog lacks. A catalog title with Markdown and a link stays text."""
    topics = (corpus_copy / "topics.yaml").read_text(encoding="utf-8")
    first_title = next(l for l in topics.splitlines() if l.strip().startswith("title:"))
    (corpus_copy / "topics.yaml").write_text(topics.replace(first_title, "    title: " + json.dumps(LINK_TITLE), 1), encoding="utf-8")
    folder = tmp_path / "annotations"
    path = _store(folder, [_line(_record(documents, topic_id=SCRIPT_ID))])
    refused = invoke("build", "--corpus", corpus_copy, "--out", tmp_path / "build", "--annotations", folder, "-q")
    assert refused.exit_code == 1 and not (tmp_path / "build").exists()
    assert error_lines(refused) == [
        f"error: {path}:1:topic_id: document {DOC} (annotation t1/a1, by a@example.com): topic {SCRIPT_ID!r} is not in the catalog (topics.yaml): "
        f"{UNKNOWN_FIX}"
    ]
    _store(folder, [_line(_record(documents, topic_id="un-sg-russia-talks"))])
    before = tree_bytes(folder)
    built = invoke("build", "--corpus", corpus_copy, "--out", tmp_path / "build", "--annotations", folder, "-q")
    assert built.exit_code == 0, built.output
    publish(corpus_copy, tmp_path / "build", tmp_path / "dist", registry=tmp_path / "releases.jsonl")
    card = next((tmp_path / "dist").glob("v*/README.md")).read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)\]\(javascript:", card)  # no link
    assert "Talks\\](javascript:alert(1)) \\`code\\` \\*bold\\* next" in card
    # The title's newline did not open a line of its own (a table row or a heading).
    assert not any(line.lstrip().startswith("next") for line in card.splitlines())
    assert tree_bytes(folder) == before


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


def test_a_human_span_shows_on_the_audit_page_as_the_published_row_has_it(documents, tmp_path):
    # The workers make each article before human labels apply: a document a
    # human changed has its article made again from the published row.
    from parallel_corpus.engine.audit_page import write_audit_page

    out = tmp_path / "build"
    assert _build(_store(tmp_path / "annotations", [_line(_record(documents))]).parent, out).exit_code == 0
    assert _human_entities(out), "the human span must be applied, or this test proves nothing"
    pages = {p.name: p.read_bytes() for p in (out / "report").iterdir()}
    assert b'<mark class="e h" title="' in b"".join(pages.values())
    rows_only = tmp_path / "rows-only"
    shutil.copytree(out / "data", rows_only / "data")
    write_audit_page(rows_only)  # every article made from its published row
    assert {p.name: p.read_bytes() for p in (rows_only / "report").iterdir()} == pages
