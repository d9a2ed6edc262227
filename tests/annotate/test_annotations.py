"""Label Studio exports -> checked annotation records: formats, span checks, the store,
the overrides the build applies and agreement. Fixtures: small recorded exports in
tests/fixtures/labelstudio/ and every real export in ../shared/external/labelstudio/."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parallel_corpus.annotate import agreement as agreement_module
from parallel_corpus.annotate.agreement import agreement, krippendorff_alpha, nominal_alpha_from_counts
from parallel_corpus.annotate import controls
from parallel_corpus.annotate.controls import RATING_COLUMN
from parallel_corpus.annotate.exports import _span_items, check_export, import_export, normalize, read_json_file, tasks_from_export
from parallel_corpus.annotate.overrides import human_overrides
from parallel_corpus.annotate.spans import utf16_to_codepoint, verify_span
from parallel_corpus.annotate.store import AnnotationError, merge_records, read_jsonl
from parallel_corpus import schema
from parallel_corpus.cli.annotate import annotate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"
EXTERNAL_LS = Path(__file__).resolve().parents[3] / "shared" / "external" / "labelstudio"


def external_exports() -> list[Path]:
    if not EXTERNAL_LS.is_dir():
        return []
    return sorted(p for p in EXTERNAL_LS.rglob("*.json"))


def documents_of(export_path: Path) -> dict[str, dict]:
    """The 'current build' for a recorded export of our documents project: its own texts."""
    tasks = json.loads(export_path.read_text(encoding="utf-8"))
    return {t["data"]["document_id"]: {"text": t["data"]["text"], "text_sha256": t["data"]["text_sha256"]} for t in tasks}


# -- span verification ---------------------------------------------------------------


def test_verify_span_exact_and_quarantine():
    text = "Guterres visited Nairobi."
    assert verify_span(text, 17, 24, "Nairobi").verification == "verified"
    bad = verify_span(text, 0, 7, "Nairobi")
    assert bad.verification is None and "not the span text" in bad.reason
    assert verify_span(text, 30, 37, "Nairobi").verification is None
    assert verify_span(text, "1", 3, "x").verification is None
    assert verify_span(text, 5, 2, "x").verification is None


def test_astral_character_utf16_offsets_are_realigned():
    text = "😀 Guterres 🇹🇿 Nairobi"
    start16 = len(text[: text.index("Nairobi")].encode("utf-16-le")) // 2
    check = verify_span(text, start16, start16 + 7, "Nairobi")
    assert check.verification == "realigned_utf16"
    assert text[check.start:check.end] == "Nairobi"
    assert check.start == text.index("Nairobi") != start16


def test_utf16_to_codepoint():
    text = "a😀b"
    assert [utf16_to_codepoint(text, i) for i in range(5)] == [0, 1, None, 2, 3]


def test_whitespace_trim():
    text = "wa  Umoja wa Mataifa na Nairobi."
    u, n = text.index("Umoja"), text.index("Nairobi")
    leading = verify_span(text, u - 1, u + 16, " Umoja wa Mataifa")
    assert (leading.verification, leading.text, leading.start) == ("realigned_whitespace", "Umoja wa Mataifa", u)
    trailing = verify_span(text, n, n + 7, "Nairobi ")
    assert (trailing.verification, trailing.text, trailing.end) == ("realigned_whitespace", "Nairobi", n + 7)


# -- fixtures: formats and counts -----------------------------------------------------


def test_utf16_fixture_counts():
    r = check_export(FIXTURES / "utf16_astral_export.json")
    assert (r["verified"], r["realigned"], r["quarantined"]) == (1, 2, 1)
    assert any("Arusha" in reason for reason in r["reasons"])


def test_whitespace_fixture_counts():
    r = check_export(FIXTURES / "whitespace_export.json")
    assert (r["verified"], r["realigned"], r["quarantined"]) == (0, 2, 0)


def test_truncated_json_is_one_clear_error():
    with pytest.raises(AnnotationError) as err:
        check_export(FIXTURES / "truncated_export.json")
    message = str(err.value)
    assert "truncated_export.json:1: not valid JSON" in message and "\n" not in message


def test_not_an_export(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps([1, 2]))
    with pytest.raises(AnnotationError, match="x.json: export holds something other than JSON objects"):
        check_export(path)
    path.write_text(json.dumps([{"foo": 1}]))
    with pytest.raises(AnnotationError, match="neither a JSON export"):
        check_export(path)


@pytest.mark.parametrize("path", external_exports(), ids=lambda p: str(p.relative_to(EXTERNAL_LS)))
def test_every_real_export_span_is_accounted_for(path):
    """Every span of every real export is verified, realigned or quarantined; none is lost."""
    payload = read_json_file(path)
    tasks = tasks_from_export(payload)
    spans = sum(1 for t in tasks for a in t["annotations"] for _ in _span_items(a))
    raw_spans = sum(
        1 for t in (payload if isinstance(payload, list) else [payload]) for a in (t.get("annotations") or t.get("completions") or [])
        for r in a.get("result", []) if "start" in (r.get("value") or {})
    )
    r = check_export(path)
    assert spans == raw_spans
    assert r["verified"] + r["realigned"] + r["quarantined"] == spans


def test_real_exports_present_or_skip():
    if not external_exports():
        pytest.skip(f"{EXTERNAL_LS} is absent: the real exports live beside the repo in ../shared/external")
    counts = {p.name: check_export(p) for p in external_exports()}
    assert counts["labic_ner_saude_tasks_flat.json"]["verified"] + counts["labic_ner_saude_tasks_flat.json"]["realigned"] == 39
    # the leading-space span of the Labic export is trimmed, not trusted blindly
    assert counts["labic_ner_saude_tasks_flat.json"]["realigned"] >= 1
    assert counts["ls_converter_legacy_completion_348_ner.json"]["format"] == "completions"
    assert counts["ls_converter_legacy_completion_348_ner.json"]["verified"] + counts["ls_converter_legacy_completion_348_ner.json"]["realigned"] == 38


def test_cli_check_prints_counts_per_file():
    result = CliRunner().invoke(annotate, ["import", "--check", str(FIXTURES / "whitespace_export.json"), str(FIXTURES / "documents_export_recorded.json")])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert "0 verified, 2 realigned, 0 quarantined" in lines[0]
    assert "2 verified, 0 realigned, 0 quarantined" in lines[1]


def test_cli_check_exits_1_on_quarantine_and_on_broken_file():
    result = CliRunner().invoke(annotate, ["import", "--check", str(FIXTURES / "utf16_astral_export.json")])
    assert result.exit_code == 1 and "1 quarantined" in result.output
    result = CliRunner().invoke(annotate, ["import", "--check", str(FIXTURES / "truncated_export.json")])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "not valid JSON" in result.output


# -- our own exports: JSON and JSON-MIN recorded from the real server --------------------


def test_recorded_json_export_normalizes():
    path = FIXTURES / "documents_export_recorded.json"
    tasks = tasks_from_export(read_json_file(path), "documents")
    n = normalize(tasks, "documents", path.name)
    by_doc = {(r["document_id"], r["status"]): r for r in n.records}
    ar = by_doc[("ar-1", "completed")]
    assert [(e["text"], e["label"], e["verification"]) for e in ar["entities"]] == [("نيروبي", "place", "verified")]
    assert ar["language"] == "ar"
    hi = by_doc[("hi-1", "completed")]
    assert (hi["topic_id"], hi["comment"], hi["cleaning_problems"]) == ("t2", "title cut", ["cut_sentence", "leftover_chrome"])
    assert ("hi-1", "skipped") in by_doc
    for record in n.records:
        assert schema.record_errors("annotations", record) == []
    schema.table_from_records("annotations", n.records)  # the published config's columns


def test_recorded_json_min_matches_json_export():
    full = tasks_from_export(read_json_file(FIXTURES / "documents_export_recorded.json"), "documents")
    mini = tasks_from_export(read_json_file(FIXTURES / "documents_export_min_recorded.json"), "documents")
    a = {r["key"]: r for r in normalize(full, "documents", "x").records if r["status"] == "completed"}
    b = {r["key"]: r for r in normalize(mini, "documents", "x").records}
    assert set(a) == set(b)
    for key in a:
        for name in ("document_id", "text_sha256", "entities", "language", "topic_id", "cleaning_problems", "comment", "updated_at"):
            assert a[key][name] == b[key][name], (key, name)


def test_import_store_is_idempotent_and_sorted(tmp_path):
    path = FIXTURES / "documents_export_recorded.json"
    docs = documents_of(path)
    first = import_export(path, tmp_path, docs)
    assert first.counts["added"] == 3
    before = (tmp_path / "documents.jsonl").read_bytes()
    again = import_export(path, tmp_path, docs)
    assert again.counts == {"added": 0, "updated": 0, "unchanged": 3}
    assert (tmp_path / "documents.jsonl").read_bytes() == before
    import_export(FIXTURES / "documents_export_min_recorded.json", tmp_path, docs)
    assert (tmp_path / "documents.jsonl").read_bytes() == before  # the same annotations, seen through JSON-MIN
    keys = [json.loads(l)["key"] for l in before.decode().splitlines()]
    assert keys == sorted(keys, key=lambda k: tuple(int(x[1:]) for x in k.split("/")))


def test_newer_updated_at_replaces_and_missing_is_kept(tmp_path):
    path = FIXTURES / "documents_export_recorded.json"
    docs = documents_of(path)
    import_export(path, tmp_path, docs)
    tasks = json.loads(path.read_text(encoding="utf-8"))
    ar = next(t for t in tasks if t["data"]["document_id"] == "ar-1")
    ar["annotations"][0]["updated_at"] = "2099-01-01T00:00:00Z"
    ar["annotations"][0]["result"] = [r for r in ar["annotations"][0]["result"] if r["from_name"] == "language"]
    later = tmp_path / "later.json"
    later.write_text(json.dumps([ar], ensure_ascii=False), encoding="utf-8")  # the Hindi task is missing
    result = import_export(later, tmp_path, docs)
    assert result.counts == {"added": 0, "updated": 1, "unchanged": 0}
    records = read_jsonl(tmp_path / "documents.jsonl")
    assert len(records) == 3
    assert next(r for r in records if r["document_id"] == "ar-1")["entities"] == []


def test_changed_document_goes_to_quarantine(tmp_path):
    path = FIXTURES / "documents_export_recorded.json"
    docs = documents_of(path)
    text = docs["ar-1"]["text"] + " (imesasishwa)"
    docs["ar-1"] = {"text": text, "text_sha256": hashlib.sha256(text.encode()).hexdigest()}
    result = import_export(path, tmp_path, docs)
    assert result.counts["added"] == 2 and result.quarantined == 1
    q = read_jsonl(tmp_path / "quarantine.jsonl")
    assert q[0]["document_id"] == "ar-1" and "changed since it was annotated" in q[0]["reason"]
    import_export(path, tmp_path, docs)
    assert len(read_jsonl(tmp_path / "quarantine.jsonl")) == 1  # no duplicates on re-import


def test_plain_import_refuses_foreign_exports(tmp_path):
    with pytest.raises(AnnotationError, match="not an export of our projects"):
        import_export(FIXTURES / "whitespace_export.json", tmp_path, {})
    path = FIXTURES / "documents_export_recorded.json"
    import_export(path, tmp_path, documents_of(path))
    tasks = json.loads(path.read_text(encoding="utf-8"))
    for t in tasks:
        t["project"] = 999
    other = tmp_path / "other.json"
    other.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(AnnotationError, match="from project 999"):
        import_export(other, tmp_path, documents_of(path))
    tasks[0]["project"] = tasks[1]["project"] = None
    tasks[0]["annotations"][0]["result"][0]["from_name"] = "ner"
    other.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(AnnotationError, match="'ner' is not in schemas/labelstudio/documents.xml"):
        import_export(other, tmp_path, documents_of(path))


def test_cli_import_without_build_fails_cleanly(tmp_path):
    result = CliRunner().invoke(annotate, ["import", str(FIXTURES / "documents_export_recorded.json"), "--annotations", str(tmp_path / "a"), "--build", str(tmp_path / "nobuild")])
    assert result.exit_code == 1
    assert "no *.parquet files: run parallel-corpus build first" in result.output
    assert not (tmp_path / "a").exists()


def test_cli_import_with_build(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    docs = documents_of(FIXTURES / "documents_export_recorded.json")
    folder = tmp_path / "build" / "data" / "documents"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([{"id": k, **v} for k, v in sorted(docs.items())]), folder / "train-00000-of-00001.parquet")
    result = CliRunner().invoke(annotate, ["import", str(FIXTURES / "documents_export_recorded.json"), "--annotations", str(tmp_path / "a"), "--build", str(tmp_path / "build")])
    assert result.exit_code == 0, result.output
    assert "documents: 3 added, 0 updated, 0 unchanged" in result.output and "0 quarantined" in result.output


# -- overrides and agreement -----------------------------------------------------------


def _record(**kw):
    base = {
        "key": "t1/a1", "kind": "documents", "project_id": 1, "task_id": 1, "annotation_id": 1, "annotator": "a@x", "created_at": None,
        "updated_at": "2024-01-01T00:00:00Z", "lead_time": None, "status": "completed", "document_id": "d1", "document_id_2": None,
        "pair_id": None, "text_sha256": "0" * 64, "text_sha256_2": None, "entities": [], "topic_id": None, "event_id": None,
        "language": None, "cleaning_problems": [], "comment": None, **{c: None for c in RATING_COLUMN.values()}, "source": "t",
    }
    base.update(kw)
    return base


def test_human_overrides_latest_completed_wins_and_pairs_mean():
    span = {"start": 0, "end": 3, "text": "abc", "label": "place", "verification": "verified", "exported_start": 0, "exported_end": 3}
    records = [
        _record(key="t1/a1", topic_id="old", updated_at="2024-01-01T00:00:00Z"),
        _record(key="t1/a2", annotation_id=2, topic_id="new", language="sw", entities=[span], updated_at="2024-02-01T00:00:00Z"),
        _record(key="t1/a3", annotation_id=3, topic_id="skip", status="skipped", updated_at="2025-01-01T00:00:00Z"),
        _record(key="t2/a4", kind="pairs", pair_id="p1", document_id="d1", document_id_2="d2", annotator="a@x", overall=1, tone=2),
        _record(key="t2/a5", kind="pairs", pair_id="p1", document_id="d1", document_id_2="d2", annotator="b@x", overall=2, tone=None),
    ]
    out = human_overrides(records)
    assert out["documents"]["d1"]["topic_id"] == "new"
    assert out["documents"]["d1"]["entities"] == [{"type": "place", "start": 0, "end": 3, "text": "abc", "source": "human"}]
    assert out["pairs"]["p1"]["overall"] == 1.5 and out["pairs"]["p1"]["tone"] == 2.0 and out["pairs"]["p1"]["num_raters"] == 2
    assert out["pairs"]["p1"]["geography"] is None
    assert human_overrides(records, {"d1": {"text_sha256": "f" * 64}})["documents"] == {}


def test_agreement():
    span = {"start": 0, "end": 3, "text": "abc", "label": "place", "verification": "verified", "exported_start": 0, "exported_end": 3}
    records = [
        _record(key="t1/a1", annotator="a", language="sw", topic_id="x", entities=[span]),
        _record(key="t1/a2", annotator="b", language="sw", topic_id="y", entities=[span, dict(span, start=4, end=5, text="d")]),
        _record(key="t2/a3", annotator="a", document_id="d2", language="hi", topic_id="x"),
        _record(key="t2/a4", annotator="b", document_id="d2", language="hi", topic_id="x"),
    ]
    result = agreement(records)
    assert result["documents"]["language"] == 1.0
    assert result["documents"]["topic_id"] < 1.0
    assert result["documents"]["entities_f1"] == pytest.approx((2 / 3 + 1.0) / 2, abs=1e-4)
    assert krippendorff_alpha({"u1": [1, 1], "u2": [4, 4], "u3": [2, 2]}, "interval") == 1.0
    assert krippendorff_alpha({"u1": [1]}) is None


def test_vocabulary_is_read_from_the_label_configs():
    # What the exports, the client and the build rely on, as schemas/labelstudio/*.xml says it.
    assert controls.CONTROLS == {
        "documents": {
            "language": "language", "entities": "spans", "entities_rtl": "spans", "topic_id": "topic_id",
            "event_id": "event_id", "cleaning": "cleaning", "comment": "comment",
        },
        "pairs": {**{d: "rating" for d in ("geography", "entities", "time", "narrative", "overall", "style", "tone")}, "comment": "comment"},
    }
    assert controls.RATING_DIMENSIONS == ("geography", "entities", "time", "narrative", "overall", "style", "tone")
    assert controls.RATING_SCALE == (1, 2, 3, 4)
    assert controls.ENTITY_LABELS == ("person", "organisation", "place", "date", "event")
    assert controls.LANGUAGES == ("sw", "hi", "ar", "en", "other")
    assert controls.TEXT_FIELDS == {"text": "text", "text_rtl": "text", "text_1": "text_1", "text_2": "text_2"}
    assert (controls.span_control("documents", True).name, controls.span_control("documents", False).name) == ("entities_rtl", "entities")
    # The record columns of the ratings are the annotations schema's.
    assert set(RATING_COLUMN.values()) <= set(schema.column_names("annotations"))


def test_pairs_config_is_rated_in_the_label_config_dimensions():
    # align/ cannot import annotate/; its pairs take the rating columns from the pairs
    # schema (the columns the pipeline does not compute), which must be the XML's ratings.
    from parallel_corpus.align import make_pairs
    from parallel_corpus.records import Assignment

    sigs = [{"id": f"d{i}", "language": "sw", "entities": ["Q1"], "dates": [], "keys": [f"n:{i}"]} for i in range(3)]
    assignments = {s["id"]: Assignment("t0", "t0", None, "cluster", 1.0, ()) for s in sigs}
    row = make_pairs(assignments, sigs, {"t0": "train"}, k=2, cross_k=0, seed=1)[0]
    assert list(row) == schema.column_names("pairs")
    empty = tuple(name for name, value in row.items() if value is None)
    assert empty == controls.RATING_DIMENSIONS and row["num_raters"] == 0
    # ... and what the build writes into them is what human_overrides gives per pair.
    rated = human_overrides([_record(key="t2/a4", kind="pairs", pair_id="p1", document_id="d1", document_id_2="d2", overall=1)])
    assert set(rated["pairs"]["p1"]) == set(empty) | {"num_raters"}


def test_newest_updated_at_wins_everywhere():
    old, new = _record(key="t1/a1", topic_id="old", updated_at="2024-01-01T00:00:00Z"), _record(key="t1/a1", topic_id="new", updated_at="2024-02-01T00:00:00Z")
    assert merge_records([old], [new])[0] == [new] and merge_records([new], [old])[0] == [new]
    assert merge_records([old], [dict(old, topic_id="tie")])[0] == [old]  # a tie keeps what is stored
    # The build: on a tie of updated_at, the greater annotation key.
    tie = [_record(key="t1/a2", annotation_id=2, topic_id="a2"), _record(key="t1/a9", annotation_id=9, topic_id="a9")]
    assert human_overrides(tie)["documents"]["d1"]["topic_id"] == "a9" == human_overrides(tie[::-1])["documents"]["d1"]["topic_id"]


def _reference_alpha(units, metric):
    """Krippendorff's alpha by its definition, every pair of values compared, in exact fractions."""
    def delta(a, b):
        return Fraction(a != b) if metric == "nominal" else Fraction(a - b) ** 2

    pairable = [vals for vals in units.values() if len(vals) >= 2]
    n = sum(len(v) for v in pairable)
    if n <= 1:
        return None
    observed = sum(sum(delta(a, b) for i, a in enumerate(v) for j, b in enumerate(v) if i != j) / (len(v) - 1) for v in pairable) / n
    pooled = [x for v in pairable for x in v]
    expected = sum(delta(a, b) for i, a in enumerate(pooled) for j, b in enumerate(pooled) if i != j) / (n * (n - 1))
    return 1.0 if expected == 0 else 1 - observed / expected


def _random_units(rng, metric):
    units = {}
    for u in range(rng.randint(0, 14)):
        m = rng.choice([0, 1, 2, 2, 2, 3, 4])
        letters = "abcdefg"[: rng.randint(1, 7)]
        units[f"u{u}"] = [rng.randint(1, 4) if metric == "interval" else rng.choice(letters) for _ in range(m)]
    return units


@pytest.mark.parametrize("metric", ["nominal", "interval"])
def test_alpha_of_the_package_is_the_definition(metric, monkeypatch):
    rng = random.Random(20)
    for _ in range(200):
        units = _random_units(rng, metric)
        exact = _reference_alpha(units, metric)
        expected = None if exact is None else round(float(exact), 4)
        assert krippendorff_alpha(units, metric) == expected, units
        if metric == "nominal" and exact is not None and exact != 1.0:
            pairable = [v for v in units.values() if len(v) >= 2]
            assert nominal_alpha_from_counts(pairable) == pytest.approx(float(exact), abs=1e-12)
            monkeypatch.setattr(agreement_module, "DENSE_CELLS", 0)  # a domain too large for the package's tensor
            assert krippendorff_alpha(units, metric) == expected, units
            monkeypatch.undo()


def test_alpha_of_the_published_example():
    # Krippendorff's example of 3 coders and 15 units (None: the coder gave no value); the package documents the same figures.
    coders = [
        [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
        [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
        [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
    ]
    units = {u: [c[u] for c in coders if c[u] is not None] for u in range(15)}
    assert krippendorff_alpha(units, "nominal") == 0.6914
    assert krippendorff_alpha(units, "interval") == 0.8108


def test_bench_agreement_runs_and_agrees():
    done = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[2] / "scripts" / "bench-agreement"), "--items", "60"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "| overall |" in done.stdout and "same figures: yes" in done.stdout


# -- fuzzing: nothing but our own error escapes ------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "data", "text", "annotations", "completions", "result", "value", "start", "end", "labels",
                         "from_name", "to_name", "annotator", "annotation_id", "label", "choices", "project", "updated_at", "was_cancelled"]),
        children, max_size=6),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=json_values)
def test_fuzz_importer_raises_only_our_error(tmp_path, payload):
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    try:
        r = check_export(path)
        assert r["verified"] + r["realigned"] + r["quarantined"] >= 0
    except AnnotationError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30), start=st.integers(-2, 40), length=st.integers(0, 10), span=st.text(max_size=8))
def test_fuzz_verify_span_never_lies(text, start, length, span):
    check = verify_span(text, start, start + length, span)
    if check.verification is not None:
        assert text[check.start:check.end] == check.text
        assert check.text.strip() == span.strip() or check.text == span


@pytest.mark.parametrize(("value", "hint"), [
    ("my project", "--kind KIND --project TITLE"),
    ("documents=my project", "--kind documents --project 'my project'"),
    ("topics=x", "--kind KIND --project TITLE"),
])
def test_pull_refuses_a_project_title_without_its_kind(tmp_path: Path, value: str, hint: str) -> None:
    """`--project` is a title in push and pull alike; a title names one
    kind's project, so pull refuses it without --kind (and shows the old
    KIND=TITLE form in the new one) before it reaches any server."""
    result = CliRunner().invoke(annotate, ["pull", "--annotations", str(tmp_path / "a"), "--project", value], env={"LABEL_STUDIO_URL": "http://127.0.0.1:9", "LABEL_STUDIO_API_KEY": "x"})
    assert result.exit_code == 1, result.output
    assert result.output.strip() == f"error: --project {value!r} names one kind's project: give {hint} (as in push)"
    assert not (tmp_path / "a").exists()
