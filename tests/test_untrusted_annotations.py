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
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from parallel_corpus.annotate.controls import RATING_COLUMN
from parallel_corpus.annotate.exports import check_against_documents
from parallel_corpus.annotate.store import check_store_spans, Normalized, StoreRead, validate_records
from parallel_corpus.release.publish import publish

from conftest import CORPUS
from test_hardening import invoke, tree_bytes

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
        "topic_id": "brics-summit", "event_id": None, "language": "sw", "cleaning_problems": [], "comment": None,
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
    older = _record(documents, topic_id="old-topic")
    newer = _record(documents, topic_id="new-topic", updated_at="2024-02-01T00:00:00Z")
    path = _store(tmp_path / "annotations", [_line(newer), _line(older)])
    before = tree_bytes(tmp_path / "annotations")
    out = _build(tmp_path / "annotations", tmp_path / "build")
    assert out.exit_code == 0, out.output
    assert _quarantined(out) == [
        f"quarantined: {path}:2:key: annotation 't1/a1' is also on {path}:1 with other content: {path}:1 is applied "
        "(updated later, or first); remove the line that is wrong"
    ]
    rows = _rows(tmp_path / "build", ["id", "topic_id"])
    assert {r["id"]: r["topic_id"] for r in rows}[DOC] == "new-topic"
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


def test_typed_topic_ids_and_titles_are_inert_in_the_card(documents, corpus_copy, tmp_path):
    topics = (corpus_copy / "topics.yaml").read_text(encoding="utf-8")
    first_title = next(l for l in topics.splitlines() if l.strip().startswith("title:"))
    (corpus_copy / "topics.yaml").write_text(topics.replace(first_title, "    title: " + json.dumps(LINK_TITLE), 1), encoding="utf-8")
    folder = tmp_path / "annotations"
    _store(folder, [_line(_record(documents, topic_id=SCRIPT_ID))])
    before = tree_bytes(folder)
    built = invoke("build", "--corpus", corpus_copy, "--out", tmp_path / "build", "--annotations", folder, "-q")
    assert built.exit_code == 0, built.output
    publish(corpus_copy, tmp_path / "build", tmp_path / "dist", registry=tmp_path / "releases.jsonl")
    card = next((tmp_path / "dist").glob("v*/README.md")).read_text(encoding="utf-8")
    assert "<script>" not in card and not re.search(r"(?<!\\)\]\(javascript:", card)  # no tag, no link
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\|x" in card
    assert "Talks\\](javascript:alert(1)) \\`code\\` \\*bold\\* next" in card
    # each topic row is still one table row of the same width
    rows = [l for l in card.splitlines() if l.startswith("| ") and ("script" in l or "Talks" in l)]
    assert len(rows) == 2 and len({l.replace("\\|", "").count("|") for l in rows}) == 1
    assert tree_bytes(folder) == before
