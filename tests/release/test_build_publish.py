"""End to end: corpus -> build -> publish -> datasets.load_dataset, byte-identical twice."""

from __future__ import annotations

import json
import shutil

import datasets
import pytest
from click.testing import CliRunner

from parallel_corpus.engine.build import build
from parallel_corpus.cli.commands import main
from parallel_corpus.release.publish import PublishError, publish, release_files

from conftest import CORPUS


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("release")
    build(CORPUS, tmp / "build", annotations_dir=None, log=lambda m: None)
    result = publish(CORPUS, tmp / "build", tmp / "dist", registry=tmp / "releases.jsonl")
    return result


def test_load_dataset_reads_five_typed_documents(release):
    ds = datasets.load_dataset(str(release.path), "documents")
    train = ds["train"]
    assert train.num_rows == 5
    assert sorted(train["language"]) == ["ar", "ar", "hi", "sw", "sw"]
    assert train.features["published"].dtype == "date32"
    assert train.features["num_chars"].dtype == "int64"
    assert train.features["blocks"].feature["start"].dtype == "int32"
    row = train.filter(lambda r: r["id"] == "002_076a20e44c8b20f2")[0]
    assert row["title"] == "Putin, Biden wazungumzia mzozo wa Ukraine"
    assert row["dateline"] == "31 Desemba 2021"
    assert str(row["published"]) == "2021-12-31"
    assert row["language_flores"] == "swh_Latn"
    for block in row["blocks"]:
        assert 0 <= block["start"] < block["end"] <= len(row["text"])


def test_every_config_loads(release):
    for config in ("documents", "parallel", "pairs"):
        ds = datasets.load_dataset(str(release.path), config, split="train")
        assert ds.num_rows > 0


def test_the_card_declares_what_the_files_hold(release):
    from parallel_corpus.release.card import read_front_matter

    meta = read_front_matter(release.path / "README.md")
    assert meta["language"] == ["sw", "hi", "ar"]
    assert {c["config_name"] for c in meta["configs"]} == {"documents", "parallel", "pairs"}
    info = {i["config_name"]: i for i in meta["dataset_info"]}
    assert info["documents"]["splits"] == [{"name": "train", "num_bytes": info["documents"]["splits"][0]["num_bytes"], "num_examples": 5}]
    for key in ("license", "multilinguality", "pretty_name", "size_categories", "task_categories"):
        assert key in meta


def test_build_and_publish_twice_give_identical_bytes(release, tmp_path):
    build(CORPUS, tmp_path / "build", annotations_dir=None, log=lambda m: None)
    again = publish(CORPUS, tmp_path / "build", tmp_path / "dist", registry=tmp_path / "releases.jsonl")
    assert release_files(again.path) == release_files(release.path)


def test_a_published_version_is_never_overwritten(release, tmp_path):
    dist = tmp_path / "dist"
    shutil.copytree(release.path, dist / release.path.name)
    build_dir = tmp_path / "build"
    build(CORPUS, build_dir, annotations_dir=None, log=lambda m: None)
    # Same bytes: publishing again is a no-op.
    assert publish(CORPUS, build_dir, dist, registry=tmp_path / "r.jsonl").unchanged
    # Other bytes under the same version: refused, release untouched.
    (dist / release.path.name / "data" / "documents" / "train-00000-of-00001.parquet").write_bytes(b"changed")
    before = release_files(dist / release.path.name)
    with pytest.raises(PublishError, match="never overwritten"):
        publish(CORPUS, build_dir, dist, registry=tmp_path / "r.jsonl")
    assert release_files(dist / release.path.name) == before


def test_the_cli_builds_and_publishes(tmp_path, monkeypatch):
    runner = CliRunner()
    out = runner.invoke(main, ["build", "--corpus", str(CORPUS), "--out", str(tmp_path / "b"), "--annotations", str(tmp_path / "none")])
    assert out.exit_code == 0, out.output
    assert "003_fd1355c3401903b1  arb_Arab" in out.output
    assert "punctuation_only 4" in out.output
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["num_documents"] == 5
    assert report["removed_lines_by_reason"]["punctuation_only"] == 4
    out = runner.invoke(main, ["publish", "--corpus", str(CORPUS), "--build", str(tmp_path / "b"), "--dist", str(tmp_path / "d"), "--registry", str(tmp_path / "r.jsonl")])
    assert out.exit_code == 0, out.output
    assert "load_dataset" in out.output
