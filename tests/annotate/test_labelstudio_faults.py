"""Label Studio faults against a real server: a server stopped during a push,
two annotators who disagree. Nothing is lost and nothing is counted twice."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import CORPUS, REPO, SWAHILI_ID, error_lines, free_port, invoke

from parallel_corpus.annotate import labelstudio as ls
from parallel_corpus.annotate.store import read_jsonl
from parallel_corpus.cli.commands import main
from parallel_corpus.engine.build import build
from parallel_corpus.release.publish import publish


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
    out = runner.invoke(main, ["annotate", "push", "--kind", "documents", "--build", str(build_dir), "--corpus", str(CORPUS), "--project", title], env=env)
    assert out.exit_code == 0, out.output
    conn = ls.connect(url, key)
    project = ls.find_project(conn, title)
    task = next(t for t in ls.export(conn, project) if t["data"]["document_id"] == SWAHILI_ID)
    tag = uuid.uuid4().hex[:8]
    users = [conn.client.users.create(email=f"{n}-{tag}@example.com", username=f"{n}{tag}") for n in ("one", "two")]
    for user, topic in zip(users, ("putin-biden-call-2021-12", "un-sg-russia-talks")):
        conn.client.annotations.create(id=task["id"], completed_by=user.id, result=[
            {"from_name": "topic_id", "to_name": "text", "type": "choices", "value": {"choices": [topic]}},
            {"from_name": "language", "to_name": "text", "type": "choices", "value": {"choices": ["sw"]}},
        ])
    folder = tmp_path / "annotations"
    out = runner.invoke(main, ["annotate", "pull", "--annotations", str(folder), "--build", str(build_dir), "--kind", "documents", "--project", title], env=env)
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
