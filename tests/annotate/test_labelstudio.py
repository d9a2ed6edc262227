"""The round trip against a real Label Studio 1.23.2: push, annotate as two users, pull,
JSON-MIN import, re-push, changed text, and a pull while the server is down.

The server is the session's `labelstudio_server` (conftest.py): the one in
LABEL_STUDIO_URL/LABEL_STUDIO_API_KEY if it answers, otherwise one started with
scripts/labelstudio on its own port and state dir, and stopped after.
"""

from __future__ import annotations

import hashlib
import json
import socket
import uuid
from types import SimpleNamespace
from pathlib import Path

import pytest
from click.testing import CliRunner

from parallel_corpus.annotate.agreement import agreement
from parallel_corpus.annotate.overrides import human_overrides
from parallel_corpus.annotate.store import read_jsonl
from parallel_corpus.annotate import labelstudio as ls
from parallel_corpus.cli.annotate import annotate

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

AR = "الأمين العام أنطونيو غوتيريش يزور نيروبي 🙂\n\nقال غوتيريش يوم الثلاثاء إن العالم يواجه أزمة مناخ."
HI = "संयुक्त राष्ट्र महासचिव गुटेरेस ने नैरोबी का दौरा किया।\n\nउन्होंने जलवायु संकट पर बात की।"
SW = "Katibu Mkuu Guterres azuru Nairobi\n\nGuterres alisema Jumanne kwamba dunia inakabiliwa na mgogoro."


def _doc(doc_id: str, language: str, text: str, entities=(), topic="t-nairobi") -> dict:
    return {
        "id": doc_id, "language": language, "title": text.split("\n")[0], "text": text,
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "topic_id": topic, "event_id": None,
        "entities": [{"qid": "Q311440", "type": t, "canonical": "Guterres", "start": text.index(s), "end": text.index(s) + len(s), "text": s, "source": "pipeline"} for t, s in entities],
    }


def _write_build(folder: Path, documents: list[dict], pairs: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for config, rows in (("documents", documents), ("pairs", pairs)):
        (folder / "data" / config).mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), folder / "data" / config / "train-00000-of-00001.parquet")
    return folder


@pytest.fixture(scope="session")
def round_trip(labelstudio_server, tmp_path_factory):
    """Push, annotate as two users, pull: what every test below looks at."""
    url, key = labelstudio_server
    env = {"LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": key}
    tag = uuid.uuid4().hex[:8]
    titles = {"documents": f"test documents {tag}", "pairs": f"test pairs {tag}"}
    work = tmp_path_factory.mktemp("roundtrip")
    docs = [_doc("ar-0001", "ar", AR, [("person", "غوتيريش")]), _doc("hi-0001", "hi", HI, [("person", "गुटेरेस")]), _doc("sw-0001", "sw", SW, [("person", "Guterres")])]
    pairs = [{"pair_id": "ar-0001__hi-0001", "id_1": "ar-0001", "id_2": "hi-0001", "similarity": 0.8}]
    build = _write_build(work / "build", docs, pairs)
    runner = CliRunner()
    pushed = {k: runner.invoke(annotate, ["push", "--kind", k, "--build", str(build), "--corpus", str(REPO / "corpus"), "--project", titles[k]], env=env)
              for k in ("documents", "pairs")}
    conn = ls.connect(url, key)
    projects = {k: ls.find_project(conn, t) for k, t in titles.items()}
    tasks = {k: ls.export(conn, projects[k]) for k in projects}
    by_doc = {t["data"]["document_id"]: t for t in tasks["documents"]}
    pair_task = tasks["pairs"][0]
    ann1 = conn.client.users.create(email=f"ann1-{tag}@example.com", username=f"ann1{tag}")
    ann2 = conn.client.users.create(email=f"ann2-{tag}@example.com", username=f"ann2{tag}")
    ar_start = AR.index("نيروبي")
    hi_start = HI.index("नैरोबी")
    conn.client.annotations.create(id=by_doc["ar-0001"]["id"], completed_by=ann1.id, result=[
        {"from_name": "entities_rtl", "to_name": "text_rtl", "type": "labels", "value": {"start": ar_start, "end": ar_start + 6, "text": "نيروبي", "labels": ["place"]}},
        {"from_name": "language", "to_name": "text", "type": "choices", "value": {"choices": ["ar"]}},
    ])
    conn.client.annotations.create(id=by_doc["hi-0001"]["id"], completed_by=ann2.id, result=[
        {"from_name": "entities", "to_name": "text", "type": "labels", "value": {"start": hi_start, "end": hi_start + 6, "text": "नैरोबी", "labels": ["place"]}},
        {"from_name": "language", "to_name": "text", "type": "choices", "value": {"choices": ["hi"]}},
        {"from_name": "topic_id", "to_name": "text", "type": "choices", "value": {"choices": ["putin-biden-call-2021-12"]}},
    ])
    for user, overall, tone in ((ann1, "1", "2"), (ann2, "2", "2")):
        conn.client.annotations.create(id=pair_task["id"], completed_by=user.id, result=[
            {"from_name": "overall", "to_name": "text_1", "type": "choices", "value": {"choices": [overall]}},
            {"from_name": "tone", "to_name": "text_1", "type": "choices", "value": {"choices": [tone]}},
        ])
    annotations_dir = work / "annotations"
    project_args = [["--kind", k, "--project", t] for k, t in titles.items()]
    pulled = _pull_each(runner, annotations_dir, build, project_args, env)
    return {
        "env": env, "conn": conn, "titles": titles, "projects": projects, "build": build, "docs": docs, "work": work,
        "pushed": pushed, "pulled": pulled, "annotations": annotations_dir, "users": (ann1, ann2), "project_args": project_args,
    }


def _pull_each(runner, annotations_dir, build, project_args, env):
    """`annotate pull --kind K --project TITLE` for each kind's project: the
    exit code of the worst, the outputs joined."""
    results = [runner.invoke(annotate, ["pull", "--annotations", str(annotations_dir), "--build", str(build), *args], env=env) for args in project_args]
    return SimpleNamespace(exit_code=max(r.exit_code for r in results), output="".join(r.output for r in results))


def test_push_creates_tasks_with_predictions(round_trip):
    for kind, result in round_trip["pushed"].items():
        assert result.exit_code == 0, result.output
    assert "3 new task(s) pushed" in round_trip["pushed"]["documents"].output
    conn = round_trip["conn"]
    tasks = ls.export(conn, round_trip["projects"]["documents"])
    ar = next(t for t in tasks if t["data"]["document_id"] == "ar-0001")
    assert ar["data"]["text"] == AR
    prediction = conn.client.predictions.list(task=ar["id"])[0]
    spans = [r for r in prediction.result if r["type"] == "labels"]
    assert spans and spans[0]["from_name"] == "entities_rtl"
    assert AR[spans[0]["value"]["start"]:spans[0]["value"]["end"]] == "غوتيريش"


def test_pull_normalizes_both_annotators(round_trip):
    assert round_trip["pulled"].exit_code == 0, round_trip["pulled"].output
    assert "documents: 2 added" in round_trip["pulled"].output and "pairs: 2 added" in round_trip["pulled"].output
    ann1, ann2 = round_trip["users"]
    docs = {r["document_id"]: r for r in read_jsonl(round_trip["annotations"] / "documents.jsonl")}
    ar_start = AR.index("نيروبي")
    assert docs["ar-0001"]["entities"] == [{"start": ar_start, "end": ar_start + 6, "text": "نيروبي", "label": "place", "verification": "verified", "exported_start": ar_start, "exported_end": ar_start + 6}]
    assert docs["ar-0001"]["annotator"] == ann1.email and docs["ar-0001"]["language"] == "ar"
    assert docs["hi-0001"]["topic_id"] == "putin-biden-call-2021-12" and docs["hi-0001"]["annotator"] == ann2.email
    assert HI[docs["hi-0001"]["entities"][0]["start"]:docs["hi-0001"]["entities"][0]["end"]] == "नैरोबी"
    assert docs["ar-0001"]["text_sha256"] == hashlib.sha256(AR.encode()).hexdigest()
    overrides = human_overrides(
        read_jsonl(round_trip["annotations"] / "documents.jsonl") + read_jsonl(round_trip["annotations"] / "pairs.jsonl"),
        {d["id"]: d for d in round_trip["docs"]},
    )
    assert overrides["documents"]["hi-0001"]["topic_id"] == "putin-biden-call-2021-12"
    assert overrides["pairs"]["ar-0001__hi-0001"]["overall"] == 1.5
    assert overrides["pairs"]["ar-0001__hi-0001"]["tone"] == 2.0
    assert overrides["pairs"]["ar-0001__hi-0001"]["num_raters"] == 2
    assert agreement(read_jsonl(round_trip["annotations"] / "pairs.jsonl"))["pairs"]["tone"] == 1.0


def test_pull_again_changes_nothing(round_trip):
    before = {p.name: p.read_bytes() for p in round_trip["annotations"].glob("*.jsonl")}
    again = _pull_each(CliRunner(), round_trip["annotations"], round_trip["build"], round_trip["project_args"], round_trip["env"])
    assert again.exit_code == 0, again.output
    assert "0 added, 0 updated, 2 unchanged" in again.output
    assert {p.name: p.read_bytes() for p in round_trip["annotations"].glob("*.jsonl")} == before


def test_json_min_export_from_the_server_imports_to_the_same_records(round_trip):
    payload = ls.export(round_trip["conn"], round_trip["projects"]["documents"], "JSON_MIN")
    path = round_trip["work"] / "documents-min.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    store = round_trip["work"] / "from-min"
    result = CliRunner().invoke(annotate, ["import", str(path), "--annotations", str(store), "--build", str(round_trip["build"])])
    assert result.exit_code == 0, result.output
    pulled = {r["key"]: r for r in read_jsonl(round_trip["annotations"] / "documents.jsonl")}
    imported = {r["key"]: r for r in read_jsonl(store / "documents.jsonl")}
    assert set(imported) == set(pulled)
    for key, record in imported.items():
        for name in ("document_id", "text_sha256", "entities", "language", "topic_id", "updated_at"):
            assert record[name] == pulled[key][name]
    check = CliRunner().invoke(annotate, ["import", "--check", str(path)])
    assert check.exit_code == 0 and "2 verified, 0 realigned, 0 quarantined" in check.output


def test_push_again_adds_nothing_and_changed_text_gets_a_new_task(round_trip):
    env, titles = round_trip["env"], round_trip["titles"]
    again = CliRunner().invoke(annotate, ["push", "--kind", "documents", "--build", str(round_trip["build"]), "--project", titles["documents"]], env=env)
    assert again.exit_code == 0 and "0 new task(s)" in again.output and "3 already there" in again.output
    docs = [dict(d) for d in round_trip["docs"]]
    changed = SW + "\n\nHabari zaidi."
    docs[2] = _doc("sw-0001", "sw", changed, [("person", "Guterres")])
    build2 = _write_build(round_trip["work"] / "build2", docs, [])
    result = CliRunner().invoke(annotate, ["push", "--kind", "documents", "--build", str(build2), "--project", titles["documents"]], env=env)
    assert result.exit_code == 0 and "1 new task(s)" in result.output and "1 old task(s) marked outdated" in result.output, result.output
    tasks = [t for t in ls.export(round_trip["conn"], round_trip["projects"]["documents"]) if t["data"]["document_id"] == "sw-0001"]
    assert len(tasks) == 2
    old = next(t for t in tasks if t["data"]["text"] == SW)
    assert old["meta"]["outdated"] is True and old["meta"]["superseded_by"].endswith(hashlib.sha256(changed.encode()).hexdigest())


def test_other_label_config_is_refused(round_trip):
    conn = round_trip["conn"]
    title = f"foreign {uuid.uuid4().hex[:8]}"
    conn.client.projects.create(title=title, label_config='<View><Text name="text" value="$text"/><Labels name="ner" toName="text"><Label value="PER"/></Labels></View>')
    with pytest.raises(ls.LabelStudioError, match="has another label config"):
        ls.ensure_project(conn, "documents", title)


def test_server_down_at_pull_leaves_annotations_unchanged(round_trip):
    before = {p.name: p.read_bytes() for p in round_trip["annotations"].glob("*.jsonl")}
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    env = dict(round_trip["env"], LABEL_STUDIO_URL=f"http://127.0.0.1:{dead}")
    result = CliRunner().invoke(annotate, ["pull", "--annotations", str(round_trip["annotations"]), "--build", str(round_trip["build"])], env=env)
    assert result.exit_code == 1
    assert result.output.strip() == f"error: Label Studio at http://127.0.0.1:{dead} does not answer: start it with scripts/labelstudio start"
    assert {p.name: p.read_bytes() for p in round_trip["annotations"].glob("*.jsonl")} == before


def test_wrong_token_is_one_line(round_trip):
    with pytest.raises(ls.LabelStudioError, match="rejects LABEL_STUDIO_API_KEY"):
        ls.connect(round_trip["env"]["LABEL_STUDIO_URL"], "0" * 40)


def test_pushed_tasks_and_predictions_pass_the_sdk_check_as_the_server_keeps_them(round_trip):
    """What the server stores (tasks with their predictions, both kinds) passes the
    SDK's LabelInterface with each task's own topic and event options."""
    from test_topic_choices import sdk_errors

    conn = round_trip["conn"]
    for kind, project in round_trip["projects"].items():
        tasks = ls.export(conn, project)
        assert tasks
        for task in tasks:
            predictions = [{"result": p.result} for p in conn.client.predictions.list(task=task["id"])]
            assert sdk_errors(kind, {"data": task["data"], "predictions": predictions}) == [], task["data"]["task_key"]


def test_push_again_brings_the_choices_of_tasks_there_up_to_the_catalog(round_trip, tmp_path):
    """A curator adds a topic: pushing again offers it in every current task, keeps
    their annotations, and counts the work for the progress bar."""
    conn, project = round_trip["conn"], round_trip["projects"]["documents"]
    topics = (REPO / "corpus" / "topics.yaml").read_text(encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "topics.yaml").write_text(topics + (
        "  - id: guterres-g20-rio-2024\n    title: \"Guterres at the G20 summit in Rio, November 2024\"\n"
        "    entities: [Q311440, Q8678]\n    min_entities: 2\n    window: {start: 2024-11-17, end: 2024-11-20}\n"
    ), encoding="utf-8")
    from parallel_corpus.align.catalog import load_catalog
    from parallel_corpus.cli.annotate import read_rows

    current = {t["data"]["task_key"] for t in ls.export(conn, project) if not (t.get("meta") or {}).get("outdated")}
    annotated_before = {t["id"]: t["annotations"] for t in ls.export(conn, project)}
    tasks = ls.tasks_from_documents(read_rows(round_trip["build"], "documents"), load_catalog(corpus))
    steps, totals = [], []
    result = ls.push(conn, project, tasks, progress=steps.append, total=totals.append)
    assert result.refreshed == len(current & {t["data"]["task_key"] for t in tasks}) > 0
    assert totals == [result.added + result.refreshed + result.outdated] and sum(steps) == totals[0]
    after = ls.export(conn, project)
    for task in after:
        if task["data"]["task_key"] in {t["data"]["task_key"] for t in tasks} and not task["meta"].get("outdated"):
            assert "guterres-g20-rio-2024" in [o["value"] for o in task["data"]["topic_options"]]
        assert [a["id"] for a in task["annotations"]] == [a["id"] for a in annotated_before[task["id"]]]
    again = ls.push(conn, project, tasks)
    assert (again.added, again.refreshed) == (0, 0)
    # Put the project back as the other tests expect it.
    ls.push(conn, project, ls.tasks_from_documents(read_rows(round_trip["build"], "documents"), load_catalog(REPO / "corpus")))


def test_a_project_of_the_old_free_text_config_is_still_pulled(round_trip, tmp_path):
    """Before topic and event were choices, documents.xml had TextAreas: a project made
    then is still pulled, its typed ids read as ids; the build (and `annotate topics`)
    then refuses one the catalog lacks."""
    from parallel_corpus.annotate.controls import NEW_CHOICE

    conn, env = round_trip["conn"], round_trip["env"]
    old_config = (REPO / "tests" / "fixtures" / "labelstudio" / "documents_textarea_config.xml").read_text(encoding="utf-8")
    assert '<TextArea name="topic_id"' in old_config
    title = f"old documents {uuid.uuid4().hex[:8]}"
    project = conn.client.projects.create(title=title, label_config=old_config).id
    task = {k: v for k, v in ls.tasks_from_documents([round_trip["docs"][2]], None)[0].items() if k != "predictions"}
    for field in ("topic_options", "event_options"):
        task["data"].pop(field)
    conn.client.projects.import_tasks(id=project, request=[task])
    task_id = ls.export(conn, project)[0]["id"]
    for typed in ("un-sg-russia-talks", "t-typo"):
        user = conn.client.users.create(email=f"{typed}-{uuid.uuid4().hex[:6]}@example.com", username=f"u{uuid.uuid4().hex[:8]}")
        conn.client.annotations.create(id=task_id, completed_by=user.id, result=[
            {"from_name": "topic_id", "to_name": "text", "type": "textarea", "value": {"text": [typed]}},
            {"from_name": "event_id", "to_name": "text", "type": "textarea", "value": {"text": [NEW_CHOICE if typed == "t-typo" else ""]}},
        ])
    folder = tmp_path / "annotations"
    missing = CliRunner().invoke(annotate, ["pull", "--annotations", str(folder), "--build", str(round_trip["build"]), "--kind", "pairs",
                                            "--project", f"no such project {uuid.uuid4().hex[:6]}"], env=env)
    assert missing.exit_code == 1 and "nothing pulled" in missing.output, missing.output
    assert not folder.exists()
    pulled = CliRunner().invoke(annotate, ["pull", "--annotations", str(folder), "--build", str(round_trip["build"]), "--kind", "documents", "--project", title], env=env)
    assert pulled.exit_code == 0, pulled.output
    stored = read_jsonl(folder / "documents.jsonl")
    assert sorted((r["topic_id"], r["event_id"]) for r in stored) == [("t-typo", NEW_CHOICE), ("un-sg-russia-talks", None)]
    listed = CliRunner().invoke(annotate, ["topics", "--annotations", str(folder), "--corpus", str(REPO / "corpus")])
    latest = max(stored, key=lambda r: r["updated_at"])
    assert listed.exit_code == (1 if latest["topic_id"] == "t-typo" else 0), listed.output
