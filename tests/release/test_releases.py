"""Versioned releases: immutable versions, semantic bumps checked, a diff in
the card, Croissant metadata that verifies its hashes, a Hub push plan."""

from __future__ import annotations

import hashlib
import json
import shutil

import datasets
import pytest
import yaml
from click.testing import CliRunner

from parallel_corpus.engine.build import build
from parallel_corpus.cli.commands import main
from parallel_corpus.release.publish import PublishError, publish, read_registry, release_files

from conftest import CORPUS

NEW_ARTICLE = (
    "Guterres akutana na Lavrov mjini Moscow\n"
    "Katibu Mkuu wa Umoja wa Mataifa Antonio Guterres amekutana na waziri wa mambo ya nje wa Urusi Sergei Lavrov mjini Moscow.\n"
    "Viongozi hao walijadili vita nchini Ukraine na njia za kuwasaidia raia walioathirika na mapigano.\n"
)


def add_document(corpus, name="005_new.txt", text=NEW_ARTICLE):
    data = text.encode("utf-8")
    (corpus / "raw" / name).write_bytes(data)
    line = {"id": name[:-4], "file": name, "sha256": hashlib.sha256(data).hexdigest(), "language": "sw", "outlet": None, "url": None, "published": None, "license": None}
    with open(corpus / "sources.jsonl", "a") as fh:
        fh.write(json.dumps(line) + "\n")


def set_version(corpus, version):
    path = corpus / "dataset.yaml"
    data = yaml.safe_load(path.read_text())
    data["version"] = version
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def build_and_publish(corpus, tmp, release=True):
    build(corpus, tmp / "build", annotations_dir=None, log=lambda m: None)
    return publish(corpus, tmp / "build", tmp / "dist", registry=tmp / "releases.jsonl", release=release)


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("releases")
    corpus = tmp / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("releases.jsonl"))
    set_version(corpus, "0.1.0")  # whatever version the repository is at
    first = build_and_publish(corpus, tmp)
    before = release_files(first.path)
    add_document(corpus)
    set_version(corpus, "0.2.0")
    second = build_and_publish(corpus, tmp)
    return tmp, corpus, first, second, before


def test_two_loadable_releases_and_an_unchanged_first(two_releases):
    tmp, corpus, first, second, before = two_releases
    assert datasets.load_dataset(str(first.path), "documents", split="train").num_rows == 5
    assert datasets.load_dataset(str(second.path), "documents", split="train").num_rows == 6
    assert release_files(first.path) == before
    registry = read_registry(tmp / "releases.jsonl")
    assert set(registry) == {"0.1.0", "0.2.0"}
    assert registry["0.1.0"]["files"] == before
    assert set(registry["0.2.0"]["libraries"]) == {"pyarrow", "datasets", "langdetect"}


def test_the_diff_names_the_new_document(two_releases):
    tmp, *_ = two_releases
    out = CliRunner().invoke(main, ["diff", "v0.1.0", "v0.2.0", "--dist", str(tmp / "dist"), "--json"])
    assert out.exit_code == 0, out.output
    diff = json.loads(out.output)
    assert diff["documents_added"] == ["005_new"]
    assert diff["documents_removed"] == [] and diff["columns_removed"] == []
    assert diff["required_bump"] == "minor"


def test_the_card_carries_the_changelog(two_releases):
    _, _, _, second, _ = two_releases
    card = (second.path / "README.md").read_text()
    assert "### v0.2.0 (since v0.1.0)" in card
    assert "- documents added (1): `005_new`" in card


def test_publishing_a_version_again_with_other_content_is_refused(two_releases, tmp_path):
    tmp, corpus, first, _, before = two_releases
    set_version(corpus, "0.1.0")
    try:
        build(corpus, tmp_path / "build", annotations_dir=None, log=lambda m: None)
        with pytest.raises(PublishError, match="bump the version in corpus/dataset.yaml"):
            publish(corpus, tmp_path / "build", tmp / "dist", registry=tmp / "releases.jsonl")
        # Not even into an empty dist: the registry remembers v0.1.0's bytes.
        with pytest.raises(PublishError, match="registered .* with other bytes"):
            publish(corpus, tmp_path / "build", tmp_path / "fresh-dist", registry=tmp / "releases.jsonl")
    finally:
        set_version(corpus, "0.2.0")
    assert release_files(first.path) == before
    assert not (tmp_path / "fresh-dist" / "v0.1.0").exists()


def test_a_bump_too_small_for_the_change_is_refused(two_releases, tmp_path):
    tmp, corpus, *_ = two_releases
    add_document(corpus, "006_newer.txt", NEW_ARTICLE.replace("Moscow.", "Moscow jana.").replace("Viongozi", "Wakuu"))
    set_version(corpus, "0.2.1")
    try:
        build(corpus, tmp_path / "build", annotations_dir=None, log=lambda m: None)
        with pytest.raises(PublishError, match="is a patch bump, but the change needs a minor one .*1 document.s. added"):
            publish(corpus, tmp_path / "build", tmp / "dist", registry=tmp / "releases.jsonl")
    finally:
        (corpus / "raw" / "006_newer.txt").unlink()
        lines = (corpus / "sources.jsonl").read_text().splitlines()
        (corpus / "sources.jsonl").write_text("\n".join(l for l in lines if "006_newer" not in l) + "\n")
        set_version(corpus, "0.2.0")
    assert not (tmp / "dist" / "v0.2.1").exists()


def test_a_change_in_pairs_alone_is_in_the_changelog_and_needs_a_bump(tmp_path):
    """Pairs (or scores) can change while every document's text stays: the
    diff must say so, or a release would claim "no change in data"."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("releases.jsonl"))
    set_version(corpus, "0.1.0")
    build_and_publish(corpus, tmp_path, release=False)
    path = corpus / "dataset.yaml"
    data = yaml.safe_load(path.read_text())
    data["pairs_per_document"] = 1
    data["version"] = "0.1.1"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    second = build_and_publish(corpus, tmp_path, release=False)
    out = CliRunner().invoke(main, ["diff", "v0.1.0", "v0.1.1", "--dist", str(tmp_path / "dist"), "--json"])
    diff = json.loads(out.output)
    assert diff["configs_changed"] == ["pairs"] and diff["documents_changed"] == []
    assert diff["required_bump"] == "patch"
    assert "- configs whose Parquet files changed (1): `pairs`" in (second.path / "README.md").read_text()


def test_croissant_validates_and_checks_hashes(two_releases, tmp_path):
    import mlcroissant as mlc

    _, _, _, second, _ = two_releases
    ds = mlc.Dataset(jsonld=str(second.path / "croissant.json"))
    counts = {rs.name: sum(1 for _ in ds.records(record_set=rs.uuid)) for rs in ds.metadata.record_sets}
    assert counts["documents_train"] == 6
    # A wrong sha256 is caught when the records are read.
    broken = tmp_path / "broken"
    shutil.copytree(second.path, broken)
    meta = json.loads((broken / "croissant.json").read_text())
    meta["distribution"][0]["sha256"] = "0" * 64
    (broken / "croissant.json").write_text(json.dumps(meta))
    ds = mlc.Dataset(jsonld=str(broken / "croissant.json"))
    with pytest.raises(Exception) as caught:
        for rs in ds.metadata.record_sets:
            list(ds.records(record_set=rs.uuid))
    chain, exc = [], caught.value
    while exc is not None:
        chain.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    assert any("hash" in m.lower() for m in chain), chain


def test_the_card_loads_with_huggingface_hub(two_releases):
    from huggingface_hub import DatasetCard

    _, _, _, second, _ = two_releases
    card = DatasetCard.load(second.path / "README.md")
    assert card.data.pretty_name and card.data.license == "other"
    assert [c["config_name"] for c in card.data.configs] == ["documents", "parallel", "pairs"]


def test_push_dry_run_lists_what_would_be_sent(two_releases, monkeypatch):
    tmp, corpus, _, second, _ = two_releases
    monkeypatch.delenv("HF_TOKEN", raising=False)
    # The registered v0.2.0 names its folder, not the Hub: it is not pushed, and nothing is written.
    refused = CliRunner().invoke(main, ["publish", "--corpus", str(corpus), "--build", str(tmp / "build"), "--dist", str(tmp / "dist"), "--registry", str(tmp / "releases.jsonl"), "--push", "my-org/un-news", "--dry-run"])
    assert refused.exit_code == 1 and "only the card" in refused.output and "would upload" not in refused.output
    # Published for the Hub (another dist, no registry), its card names the repository.
    hub = tmp / "hub-dist"
    out = CliRunner().invoke(main, ["publish", "--corpus", str(corpus), "--build", str(tmp / "build"), "--dist", str(hub), "--registry", str(tmp / "hub.jsonl"), "--push", "my-org/un-news", "--dry-run"])
    assert out.exit_code == 0, out.output
    files = release_files(hub / "v0.2.0")
    assert 'load_dataset("my-org/un-news", "documents", revision="v0.2.0")' in (hub / "v0.2.0" / "README.md").read_text(encoding="utf-8")
    for name, digest in files.items():
        assert f"would upload {name}  sha256 {digest}" in out.output
    assert "would tag the upload commit v0.2.0" in out.output
    assert "would create (if missing) private dataset repository my-org/un-news" in out.output
    public = CliRunner().invoke(main, ["publish", "--corpus", str(corpus), "--build", str(tmp / "build"), "--dist", str(hub), "--registry", str(tmp / "hub.jsonl"), "--push", "my-org/un-news", "--public", "--dry-run"])
    assert "would create (if missing) public dataset repository my-org/un-news" in public.output
    alone = CliRunner().invoke(main, ["publish", "--corpus", str(corpus), "--build", str(tmp / "build"), "--dist", str(tmp / "dist"), "--registry", str(tmp / "releases.jsonl"), "--public"])
    assert alone.exit_code == 1 and alone.output.strip() == "error: --public goes with --push ORG/NAME"
    # Without the dry run and without a token (none exported, none saved by a
    # login): one clear line, nothing sent.
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp / "no-saved-token"))
    out = CliRunner().invoke(main, ["publish", "--corpus", str(corpus), "--build", str(tmp / "build"), "--dist", str(hub), "--registry", str(tmp / "hub.jsonl"), "--push", "my-org/un-news"])
    assert out.exit_code == 1 and "error: no Hub token: run `hf auth login` (or export HF_TOKEN) with a write token" in out.output


@pytest.mark.parametrize("version", ["abc", "1.2", "v1.x.0"])
def test_a_version_that_is_not_x_y_z_is_one_line_and_writes_nothing(tmp_path, version) -> None:
    """It ended in a ValueError traceback; a version names a folder and a
    registry line, so it is checked before anything is read or written."""
    result = CliRunner().invoke(main, ["publish", "--version", version, "--build", str(tmp_path / "build"), "--dist", str(tmp_path / "dist")])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {version!r} is not a version X.Y.Z: give --version as X.Y.Z (or set version in corpus/dataset.yaml)"
    assert not (tmp_path / "dist").exists()
