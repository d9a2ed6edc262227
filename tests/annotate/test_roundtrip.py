"""The whole loop on the seeds, against a real Label Studio server: build,
push, two annotators correct the pipeline, pull, rebuild, publish, and
`datasets.load_dataset` shows the human labels, the aggregates and the
agreement."""

from __future__ import annotations

import uuid

import datasets
import pytest
from click.testing import CliRunner

from parallel_corpus.align.catalog import load_catalog
from parallel_corpus.annotate import labelstudio as ls
from parallel_corpus.annotate.controls import NEW_CHOICE
from parallel_corpus.engine.build import build
from parallel_corpus.cli.annotate import annotate
from parallel_corpus.release.publish import publish

from conftest import CORPUS

pytestmark = pytest.mark.integration

ARABIC, HINDI, PUTIN_BIDEN = "003_fd1355c3401903b1", "001_6ceeb16321e12f23", "002_076a20e44c8b20f2"
BRICS = "000_579473158ea377e1"


def _span(text: str, surface: str, from_name: str, to_name: str, label: str) -> dict:
    start = text.index(surface)
    return {"from_name": from_name, "to_name": to_name, "type": "labels", "value": {"start": start, "end": start + len(surface), "text": surface, "labels": [label]}}


@pytest.fixture(scope="module")
def loop(labelstudio_server, tmp_path_factory):
    url, key = labelstudio_server
    env = {"LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": key}
    tag = uuid.uuid4().hex[:8]
    titles = {"documents": f"seeds documents {tag}", "pairs": f"seeds pairs {tag}"}
    work = tmp_path_factory.mktemp("loop")
    build(CORPUS, work / "build", annotations_dir=None, log=lambda m: None)
    runner = CliRunner()
    for kind in ("documents", "pairs"):
        out = runner.invoke(annotate, ["push", "--kind", kind, "--build", str(work / "build"), "--corpus", str(CORPUS), "--project", titles[kind]], env=env)
        assert out.exit_code == 0, out.output

    conn = ls.connect(url, key)
    tasks = {k: ls.export(conn, ls.find_project(conn, t)) for k, t in titles.items()}
    by_doc = {t["data"]["document_id"]: t for t in tasks["documents"]}
    pair_task = next(t for t in tasks["pairs"] if {t["data"]["document_id_1"], t["data"]["document_id_2"]} == {ARABIC, HINDI})
    ann1 = conn.client.users.create(email=f"amina-{tag}@example.org", username=f"amina{tag}")
    ann2 = conn.client.users.create(email=f"ravi-{tag}@example.org", username=f"ravi{tag}")
    ar_text, hi_text = by_doc[ARABIC]["data"]["text"], by_doc[HINDI]["data"]["text"]
    # Both annotators mark the same Arabic span: agreement on spans is measurable.
    for user in (ann1, ann2):
        conn.client.annotations.create(id=by_doc[ARABIC]["id"], completed_by=user.id, result=[
            _span(ar_text, "غوتيريش", "entities_rtl", "text_rtl", "person"),
            {"from_name": "language", "to_name": "text", "type": "choices", "value": {"choices": ["ar"]}},
        ])
    conn.client.annotations.create(id=by_doc[HINDI]["id"], completed_by=ann2.id, result=[
        _span(hi_text, "लावरोव", "entities", "text", "person"),
        _span(hi_text, "मॉस्को", "entities", "text", "place"),
        {"from_name": "language", "to_name": "text", "type": "choices", "value": {"choices": ["hi"]}},
    ])
    # An event correction, chosen from the catalog: the Brics story goes to the 2022 Moscow visit
    # (its topic comes with it). And a proposal: the Putin-Biden story, the annotator thinks, is
    # a topic of its own; a curator decides, so the build applies nothing of it and notes it.
    conn.client.annotations.create(id=by_doc[BRICS]["id"], completed_by=ann2.id, result=[
        {"from_name": "event_id", "to_name": "text", "type": "choices", "value": {"choices": ["un-sg-moscow-2022-04"]}},
    ])
    conn.client.annotations.create(id=by_doc[PUTIN_BIDEN]["id"], completed_by=ann1.id, result=[
        {"from_name": "topic_id", "to_name": "text", "type": "choices", "value": {"choices": [NEW_CHOICE]}},
        {"from_name": "language", "to_name": "text", "type": "choices", "value": {"choices": ["sw"]}},
        {"from_name": "comment", "to_name": "text", "type": "textarea", "value": {"text": ["Putin-Biden talks of 2021 as one topic"]}},
    ])
    for user, overall, geography in ((ann1, "1", "1"), (ann2, "2", "1")):
        conn.client.annotations.create(id=pair_task["id"], completed_by=user.id, result=[
            {"from_name": "overall", "to_name": "text_1", "type": "choices", "value": {"choices": [overall]}},
            {"from_name": "geography", "to_name": "text_1", "type": "choices", "value": {"choices": [geography]}},
        ])
    project_args = [["--kind", k, "--project", t] for k, t in titles.items()]
    for args in project_args:
        out = runner.invoke(annotate, ["pull", "--annotations", str(work / "annotations"), "--build", str(work / "build"), *args], env=env)
        assert out.exit_code == 0, out.output

    logged: list[str] = []
    report = build(CORPUS, work / "build", annotations_dir=work / "annotations", log=logged.append)
    release = publish(CORPUS, work / "build", work / "dist", registry=work / "releases.jsonl")
    return {"release": release.path, "report": report, "logged": logged, "tasks": tasks, "conn": conn, "pair_id": pair_task["data"]["pair_id"], "emails": (ann1.email, ann2.email), "texts": (ar_text, hi_text)}


def _documents(loop):
    ds = datasets.load_dataset(str(loop["release"]), "documents", split="train")
    return {r["id"]: r for r in ds}


def test_human_spans_replace_the_pipeline_spans_with_exact_offsets(loop):
    docs = _documents(loop)
    ar, hi = docs[ARABIC], docs[HINDI]
    assert ar["text"] == loop["texts"][0] and hi["text"] == loop["texts"][1]
    start = ar["text"].index("غوتيريش")
    assert ar["entities"] == [{"qid": "Q311440", "type": "person", "canonical": ar["entities"][0]["canonical"], "start": start, "end": start + 7, "text": "غوتيريش", "source": "human"}]
    expected = sorted([("लावरोव", "person"), ("मॉस्को", "place")], key=lambda e: hi["text"].index(e[0]))
    assert [(e["text"], e["type"]) for e in hi["entities"]] == expected
    assert all(e["source"] == "human" for e in hi["entities"])
    for e in hi["entities"]:
        assert hi["text"][e["start"]:e["end"]] == e["text"]
    assert ar["language_source"] == "human" and hi["language_source"] == "human"
    # Documents nobody annotated keep the pipeline's spans.
    assert all(e["source"] == "pipeline" for e in docs["004_3b47e256ddb3d459"]["entities"])


def test_seed_tasks_offer_the_catalog_with_the_guess_preselected(loop):
    """In the real server: every seed document's task offers the catalog's topics and
    events (and "other") as choices, and its prediction pre-selects the pipeline's guess."""
    catalog = load_catalog(CORPUS)
    built = {r["id"]: r for r in datasets.load_dataset(str(loop["release"]), "documents", split="train")}
    for task in loop["tasks"]["documents"]:
        data = task["data"]
        assert [o["value"] for o in data["topic_options"]] == [t.id for t in catalog.topics] + [NEW_CHOICE]
        assert [o["value"] for o in data["event_options"]] == [e.id for t in catalog.topics for e in t.events] + [NEW_CHOICE]
        prediction = loop["conn"].client.predictions.list(task=task["id"])[0]
        chosen = {r["from_name"]: r["value"]["choices"] for r in prediction.result if r["type"] == "choices"}
        guess = built[data["document_id"]] if data["document_id"] not in (BRICS, PUTIN_BIDEN) else None
        if guess is not None:  # the two annotated ones changed (or not) in the release
            assert chosen["topic_id"] == [guess["topic_id"]] and chosen["event_id"] == [guess["event_id"]]
        assert chosen["topic_id"][0] in data["topic_hint"]


def test_a_chosen_event_wins_and_a_proposal_is_noted_not_applied(loop):
    docs = _documents(loop)
    assert (docs[BRICS]["topic_id"], docs[BRICS]["event_id"], docs[BRICS]["topic_source"]) == ("un-sg-russia-talks", "un-sg-moscow-2022-04", "human")
    assert (docs[PUTIN_BIDEN]["topic_id"], docs[PUTIN_BIDEN]["topic_source"]) == ("putin-biden-call-2021-12", "catalog")
    notes = [m for m in loop["logged"] if m.startswith("note: ") and "proposes a new topic" in m]
    assert len(notes) == 1 and PUTIN_BIDEN in notes[0] and '"Putin-Biden talks of 2021 as one topic"' in notes[0]
    assert loop["report"].annotations["new_topic_proposals"] == [notes[0][len("note: "):]]
    parallel = {r["topic_id"]: r for r in datasets.load_dataset(str(loop["release"]), "parallel", split="train")}
    assert [d["id"] for d in parallel["putin-biden-call-2021-12"]["documents"]] == [PUTIN_BIDEN]
    assert parallel["un-sg-russia-talks"]["num_documents"] == 4


def test_pair_ratings_are_aggregated(loop):
    pairs = {r["pair_id"]: r for r in datasets.load_dataset(str(loop["release"]), "pairs", split="train")}
    rated = pairs[loop["pair_id"]]
    assert rated["overall"] == 1.5 and rated["geography"] == 1.0 and rated["num_raters"] == 2
    assert rated["tone"] is None
    assert all(r["num_raters"] == 0 for pid, r in pairs.items() if pid != loop["pair_id"])


def test_the_annotations_config_traces_every_annotation(loop):
    rows = datasets.load_dataset(str(loop["release"]), "annotations", split="train")
    assert rows.num_rows == 7
    assert {r["annotator"] for r in rows} == set(loop["emails"])
    assert all(r["task_id"] and r["annotation_id"] and r["project_id"] for r in rows)


def test_agreement_is_in_the_report_and_the_card(loop):
    agreement = loop["report"].annotations["agreement"]
    assert agreement["documents"]["entities_f1"] == 1.0
    assert agreement["documents"]["items_with_two_or_more"] == 1
    assert agreement["pairs"]["items_with_two_or_more"] == 1
    card = (loop["release"] / "README.md").read_text()
    assert "Agreement between annotators" in card and "entities_f1 | 1.000" in card
