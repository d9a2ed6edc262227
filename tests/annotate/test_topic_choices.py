"""Topic and event as catalog choices: the tasks `push` sends (checked with the SDK's
own `LabelInterface`), the exports read back (choices now, typed text before), and
the build's refusal of an id the catalog lacks. No server: see test_roundtrip.py
and test_labelstudio.py for the same against a real Label Studio."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from conftest import CORPUS, RECORDED, error_lines, invoke
from label_studio_sdk.label_interface import LabelInterface

from parallel_corpus.align.catalog import Catalog, Event, Topic, load_catalog
from parallel_corpus.annotate import labelstudio as ls
from parallel_corpus.annotate.controls import CATALOG_CONTROLS, CONFIGS, NEW_CHOICE
from parallel_corpus.annotate.exports import normalize, tasks_from_export
from parallel_corpus.annotate.overrides import UNKNOWN_FIX, Overrides, catalog_problems
from parallel_corpus.annotate.store import AnnotationError
from parallel_corpus.records import Assignment

SW = "Katibu Mkuu Guterres azuru Moscow.\n\nAlisema dunia inakabiliwa na mgogoro."
AR = "قال غوتيريش في موسكو اليوم"


def _row(doc_id: str, language: str, text: str, topic=None, event=None, entities=()) -> dict:
    return {
        "id": doc_id, "language": language, "title": text.split("\n")[0], "text": text,
        "text_sha256": hashlib.sha256(text.encode()).hexdigest(), "topic_id": topic, "event_id": event,
        "entities": [{"type": t, "start": text.index(s), "end": text.index(s) + len(s), "text": s} for t, s in entities],
    }


def interface_for(kind: str, task: dict) -> LabelInterface:
    """The SDK's view of our config for one task. Label Studio fills a dynamic Choices
    (`value="$topic_options"`) from the task's data; the SDK's LabelInterface does not,
    and so would take any choice: give it the task's options as its labels first."""
    interface = LabelInterface(ls.label_config(kind))
    for control in interface.controls:
        field = (control.attr.get("value") or "").lstrip("$")
        if control.dynamic_value and field:
            control.set_labels([o["value"] for o in task["data"][field]])
    return interface


def sdk_errors(kind: str, task: dict) -> list[str]:
    """What the SDK finds wrong with a task we push: an object tag whose data is missing,
    or a prediction naming a control, a Text or a choice the config lacks."""
    interface = interface_for(kind, task)
    errors = [] if interface.validate_task({"data": task["data"]}) else ["task data lacks a field an object tag shows"]
    for prediction in task.get("predictions") or []:
        errors += interface.validate_prediction(prediction, return_errors=True)
    return errors


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(CORPUS)


def _documents_tasks(catalog):
    rows = [
        _row("sw-1", "sw", SW, "un-sg-russia-talks", "un-sg-moscow-2021-05", [("person", "Guterres"), ("place", "Moscow")]),
        _row("ar-1", "ar", AR, "cluster-0123456789ab", None, [("person", "غوتيريش")]),
        _row("xx-1", "de", "Guterres in Moskau", None, None),
    ]
    return ls.tasks_from_documents(rows, catalog)


# -- what push sends ---------------------------------------------------------------------------


def test_documents_tasks_offer_the_catalog_and_preselect_the_guess(catalog):
    sw, ar, other = _documents_tasks(catalog)
    topics = [o["value"] for o in sw["data"]["topic_options"]]
    events = [o["value"] for o in sw["data"]["event_options"]]
    assert topics == [t.id for t in catalog.topics] + [NEW_CHOICE]
    assert events == [e.id for t in catalog.topics for e in t.events] + [NEW_CHOICE]
    assert "UN Secretary-General" in sw["data"]["topic_options"][0]["html"]
    chosen = {r["from_name"]: r["value"] for r in sw["predictions"][0]["result"] if r["type"] == "choices"}
    assert chosen["topic_id"] == {"choices": ["un-sg-russia-talks"]} and chosen["event_id"] == {"choices": ["un-sg-moscow-2021-05"]}
    # A cluster's id is no choice: nothing is pre-selected, and the header says why.
    assert not [r for r in ar["predictions"][0]["result"] if r["from_name"] in CATALOG_CONTROLS]
    assert ar["data"]["topic_hint"] == "cluster-0123456789ab, not in the catalog: choose one or other"
    assert other["data"]["topic_hint"] == "none" and other["data"]["event_hint"] == "none"


def test_titles_are_escaped_in_the_choices():
    day = dt.date(2024, 1, 1)
    hostile = Catalog((Topic("t1", "<img src=x onerror=alert(1)> & co", day, day, ("Q1",), 1,
                             (Event("e1", "<script>x</script>", day, day, None, ("Q1",), 1),)),))
    task = ls.tasks_from_documents([_row("sw-1", "sw", SW, "t1", "e1")], hostile)[0]
    html = task["data"]["topic_options"][0]["html"] + task["data"]["event_options"][0]["html"]
    assert "<img" not in html and "<script" not in html and "&lt;img src=x onerror=alert(1)&gt; &amp; co" in html


def test_without_a_catalog_only_other_is_offered():
    task = ls.tasks_from_documents([_row("sw-1", "sw", SW, "un-sg-russia-talks")], None)[0]
    assert [o["value"] for o in task["data"]["topic_options"]] == [NEW_CHOICE]
    assert not [r for r in task["predictions"][0]["result"] if r["from_name"] == "topic_id"]


def test_every_pushed_prediction_passes_the_sdk_label_interface(catalog, seed_rows):
    """Both kinds: each task's data fills every object tag, and each prediction names
    controls, Texts and choices (the task's own, for topic and event) of our config."""
    documents = _documents_tasks(catalog)
    for task in documents:
        assert sdk_errors("documents", task) == [], task["data"]["document_id"]
    docs = [_row("sw-1", "sw", SW), _row("ar-1", "ar", AR)]
    pairs = ls.tasks_from_pairs([{"pair_id": "ar-1__sw-1", "id_1": "ar-1", "id_2": "sw-1", "similarity": 0.5}], docs)
    for task in pairs:
        assert sdk_errors("pairs", task) == []
    # The seed corpus's own build, as push sends it.
    seeds = ls.tasks_from_documents(list(seed_rows.values()), catalog)
    assert len(seeds) == 5 and all(sdk_errors("documents", task) == [] for task in seeds)
    assert all(any(r["from_name"] == "topic_id" for r in task["predictions"][0]["result"]) for task in seeds)


@pytest.mark.parametrize("breakage,expected", [
    (lambda r: r.update(from_name="topic"), "'from_name' 'topic' not found in configuration"),
    (lambda r: r.update(value={"choices": ["un-sg-russia-talk"]}), "Invalid value for control 'topic_id'"),
    (lambda r: r.update(value={"choices": ["un-sg-moscow-2021-05"]}), "Invalid value for control 'topic_id'"),  # an event is no topic
    (lambda r: r.update(type="textarea", value={"text": ["un-sg-russia-talks"]}), "does not match expected type 'choices'"),
    (lambda r: r.update(to_name="text_2"), "'to_name' 'text_2' not found in configuration"),
])
def test_the_sdk_check_fails_a_prediction_the_config_does_not_offer(catalog, breakage, expected):
    task = _documents_tasks(catalog)[0]
    topic = next(r for r in task["predictions"][0]["result"] if r["from_name"] == "topic_id")
    breakage(topic)
    assert any(expected in e for e in sdk_errors("documents", task)), sdk_errors("documents", task)


def test_a_pairs_task_without_its_texts_fails_the_sdk_check():
    docs = [_row("sw-1", "sw", SW), _row("ar-1", "ar", AR)]
    task = ls.tasks_from_pairs([{"pair_id": "p", "id_1": "ar-1", "id_2": "sw-1"}], docs)[0]
    del task["data"]["text_2"]
    assert sdk_errors("pairs", task) == ["task data lacks a field an object tag shows"]


def test_the_config_names_the_options_fields_push_fills():
    controls = CONFIGS["documents"].controls
    assert {name: controls[name].tag for name in CATALOG_CONTROLS} == {"topic_id": "Choices", "event_id": "Choices"}
    assert CATALOG_CONTROLS == {"topic_id": "topic_options", "event_id": "event_options"}


# -- what pull and import read -------------------------------------------------------------------


def _export(result: list[dict]) -> list[dict]:
    data = {"task_key": "sw-1:x", "document_id": "sw-1", "document_language": "sw", "title": "", "text": SW,
            "text_sha256": hashlib.sha256(SW.encode()).hexdigest(), "topic_hint": "none", "event_hint": "none"}
    return [{"id": 7, "project": 1, "data": data, "annotations": [{"id": 9, "completed_by": 1, "result": result, "updated_at": "2025-01-01T00:00:00Z"}]}]


def test_choices_and_the_old_typed_text_read_as_the_same_ids():
    chosen = _export([
        {"from_name": "topic_id", "to_name": "text", "type": "choices", "value": {"choices": ["un-sg-russia-talks"]}},
        {"from_name": "event_id", "to_name": "text", "type": "choices", "value": {"choices": [NEW_CHOICE]}},
    ])
    typed = _export([
        {"from_name": "topic_id", "to_name": "text", "type": "textarea", "value": {"text": [" un-sg-russia-talks "]}},
        {"from_name": "event_id", "to_name": "text", "type": "textarea", "value": {"text": [NEW_CHOICE]}},
    ])
    for payload in (chosen, typed):
        record = normalize(tasks_from_export(payload, "documents"), "documents", "x.json").records[0]
        assert (record["topic_id"], record["event_id"]) == ("un-sg-russia-talks", NEW_CHOICE)


def test_json_min_rows_of_either_config_read_as_ids():
    """JSON-MIN flattens a single choice and a typed text alike: `topic_id: "t2"`."""
    min_rows = json.loads((RECORDED.parent / "documents_export_min_recorded.json").read_text(encoding="utf-8"))
    records = normalize(tasks_from_export(min_rows, "documents"), "documents", "min.json").records
    assert {r["document_id"]: r["topic_id"] for r in records} == {"ar-1": None, "hi-1": "t2"}
    old = json.loads(RECORDED.read_text(encoding="utf-8"))
    records = normalize(tasks_from_export(old, "documents"), "documents", "old.json").records
    assert [r["topic_id"] for r in records if r["topic_id"]] == ["t2"]


# -- what the build applies ----------------------------------------------------------------------


def _assignment(topic: str, event=None) -> Assignment:
    return Assignment(topic_id=topic, topic_title=f"title of {topic}", event_id=event, topic_source="catalog", score=0.5, evidence=())


def _overrides(**human) -> Overrides:
    entry = {"topic_id": None, "event_id": None, "language": None, "entities": [], "annotation_key": "t5/a9", "annotator": "amina@example.org", "comment": None}
    entry.update(human)
    return Overrides([], {"d1": entry}, {}, where={"t5/a9": ("annotations/documents.jsonl", 3)})


def test_a_catalog_topic_or_event_is_applied_with_its_catalog_title(catalog):
    before = {"d1": _assignment("putin-biden-call-2021-12", "putin-biden-call-2021-12-30")}
    after = _overrides(topic_id="un-sg-russia-talks").apply_to_assignments(before, catalog)["d1"]
    assert (after.topic_id, after.event_id, after.topic_source) == ("un-sg-russia-talks", None, "human")
    assert after.topic_title == catalog.by_id["un-sg-russia-talks"].title
    # An event alone brings its topic.
    after = _overrides(event_id="brics-kazan-2024-10").apply_to_assignments(before, catalog)["d1"]
    assert (after.topic_id, after.event_id) == ("un-sg-russia-talks", "brics-kazan-2024-10")
    # The same topic keeps the pipeline's event unless one is chosen.
    same = {"d1": _assignment("un-sg-russia-talks", "un-sg-moscow-2021-05")}
    assert _overrides(topic_id="un-sg-russia-talks").apply_to_assignments(same, catalog)["d1"].event_id == "un-sg-moscow-2021-05"


@pytest.mark.parametrize("human,field,message", [
    ({"topic_id": "putin-biden-talks-2021"}, "topic_id", "topic 'putin-biden-talks-2021' is not in the catalog (topics.yaml)"),
    ({"topic_id": "cluster-0123456789ab"}, "topic_id", "topic 'cluster-0123456789ab' is not in the catalog (topics.yaml)"),
    ({"event_id": "guterres-in-nairobi"}, "event_id", "event 'guterres-in-nairobi' is not in the catalog (topics.yaml)"),
])
def test_an_unknown_id_is_refused_with_one_line_naming_the_annotation(catalog, human, field, message):
    before = {"d1": _assignment("un-sg-russia-talks")}
    with pytest.raises(AnnotationError) as err:
        _overrides(**human).apply_to_assignments(before, catalog)
    assert str(err.value) == (
        f"annotations/documents.jsonl:3:{field}: document d1 (annotation t5/a9, by amina@example.org): {message}: {UNKNOWN_FIX}"
    )


def test_an_event_of_another_topic_is_refused(catalog):
    with pytest.raises(AnnotationError, match="event 'brics-kazan-2024-10' is an event of topic 'un-sg-russia-talks', not of the chosen topic 'putin-biden-call-2021-12'"):
        _overrides(topic_id="putin-biden-call-2021-12", event_id="brics-kazan-2024-10").apply_to_assignments({"d1": _assignment("x")}, catalog)


def test_without_a_catalog_every_human_id_is_unknown():
    problems = catalog_problems(_overrides(topic_id="un-sg-russia-talks").documents, {}, None)
    assert [p.message for p in problems] == ["document d1 (annotation t5/a9, by amina@example.org): topic 'un-sg-russia-talks' is not in the catalog (the corpus has no topics.yaml)"]


def test_a_proposal_applies_no_topic_and_is_listed(catalog):
    before = {"d1": _assignment("un-sg-russia-talks", "un-sg-moscow-2021-05")}
    proposing = _overrides(topic_id=NEW_CHOICE, comment="Guterres at the\nG20 in Rio, 2024")
    assert proposing.apply_to_assignments(before, catalog) == before
    assert proposing.proposals == [
        'annotations/documents.jsonl:3: document d1 (annotation t5/a9, by amina@example.org) proposes a new topic: "Guterres at the G20 in Rio, 2024": '
        "a curator adds it to corpus/topics.yaml, pushes again, and chooses it in the task"
    ]
    assert proposing.summary()["new_topic_proposals"] == proposing.proposals
    # A new event under a catalog topic: the topic applies, the event stays open.
    after = _overrides(topic_id="putin-biden-call-2021-12", event_id=NEW_CHOICE).apply_to_assignments(before, catalog)["d1"]
    assert (after.topic_id, after.event_id) == ("putin-biden-call-2021-12", None)


# -- the build and `annotate topics`, end to end ---------------------------------------------------


def _store_line(documents_row: dict, n: int, **fields) -> str:
    from parallel_corpus.annotate.controls import RATING_COLUMN

    record = {
        "key": f"t{n}/a{n}", "kind": "documents", "project_id": 1, "task_id": n, "annotation_id": n, "annotator": "a@example.com",
        "created_at": None, "updated_at": f"2024-01-0{n}T00:00:00Z", "lead_time": None, "status": "completed",
        "document_id": documents_row["id"], "document_id_2": None, "pair_id": None, "text_sha256": documents_row["text_sha256"],
        "text_sha256_2": None, "entities": [], "topic_id": None, "event_id": None, "language": None, "cleaning_problems": [],
        "comment": None, **{c: None for c in RATING_COLUMN.values()}, "source": "export.json",
    }
    record.update(fields)
    return json.dumps(record, ensure_ascii=False)


@pytest.fixture(scope="module")
def seed_rows(tmp_path_factory):
    from parallel_corpus.cli.annotate import read_rows
    from parallel_corpus.engine.build import build

    out = tmp_path_factory.mktemp("seed") / "build"
    build(CORPUS, out, annotations_dir=None, log=lambda m: None)
    return {r["id"]: r for r in read_rows(out, "documents")}


# With two workers the topics are assigned, and the refusal raised, in the
# signature store's process beside the build (engine.aligner).
@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_build_refuses_an_unknown_topic_and_notes_a_proposal(seed_rows, tmp_path, workers):
    first, second = sorted(seed_rows)[:2]
    folder = tmp_path / "annotations"
    folder.mkdir()
    path = folder / "documents.jsonl"
    path.write_text(_store_line(seed_rows[first], 1, topic_id=NEW_CHOICE, comment="G20 Rio") + "\n"
                    + _store_line(seed_rows[second], 2, topic_id="guterres-nairobi") + "\n", encoding="utf-8")
    refused = invoke("build", "--corpus", CORPUS, "--out", tmp_path / "build", "--annotations", folder, "-q", "--workers", workers)
    assert refused.exit_code == 1 and not (tmp_path / "build").exists()
    assert error_lines(refused) == [
        f"error: {path}:2:topic_id: document {second} (annotation t2/a2, by a@example.com): topic 'guterres-nairobi' is not in the catalog (topics.yaml): {UNKNOWN_FIX}"
    ]
    listed = invoke("annotate", "topics", "--annotations", folder, "--corpus", CORPUS)
    assert listed.exit_code == 1
    assert listed.stdout.splitlines() == [
        f'proposal: {path}:1: document {first} (annotation t1/a1, by a@example.com) proposes a new topic: "G20 Rio": '
        "a curator adds it to corpus/topics.yaml, pushes again, and chooses it in the task",
        f"unknown: {path}:2:topic_id: document {second} (annotation t2/a2, by a@example.com): topic 'guterres-nairobi' is not in the catalog (topics.yaml): {UNKNOWN_FIX}",
        "1 proposal(s) of a new topic or event; 1 unknown id(s) the build refuses",
    ]
    # The curator fixes the second line: the build applies it and notes the proposal.
    path.write_text(path.read_text(encoding="utf-8").replace('"guterres-nairobi"', '"putin-biden-call-2021-12"'), encoding="utf-8")
    built = invoke("build", "--corpus", CORPUS, "--out", tmp_path / "build", "--annotations", folder, "-q", "--workers", workers)
    assert built.exit_code == 0, built.output
    assert f"note: {path}:1: document {first} (annotation t1/a1, by a@example.com) proposes a new topic" in built.stderr
    report = json.loads((tmp_path / "build" / "report.json").read_text(encoding="utf-8"))
    assert len(report["annotations"]["new_topic_proposals"]) == 1
    assert invoke("annotate", "topics", "--annotations", folder, "--corpus", CORPUS).exit_code == 0
