"""Stable splits: once a release puts a document in a split, every later
release keeps it there, and a change that cannot (a merge of topics released
in different splits) is named by the build, by `diff` and in the card, and
needs a major version.

The scenario is the one that broke the promise: the seed corpus released as
0.1.0 (two topics, both in train), then unrelated articles added and 0.2.0
published. Drawn afresh, the five seed documents would leave train.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from parallel_corpus.align.splits import RECORD_FILE, assign_splits, pinned_topics, read_recorded, Recorded
from parallel_corpus.engine.build import build
from parallel_corpus.cli.commands import main
from parallel_corpus.release.publish import PublishError, publish

from conftest import CORPUS

SEED_IDS = {"000_579473158ea377e1", "001_6ceeb16321e12f23", "002_076a20e44c8b20f2", "003_fd1355c3401903b1", "004_3b47e256ddb3d459"}

# Unrelated stories, each its own topic: distinct names, places and numbers,
# and each alone in its language (four articles of one language share their
# function words, which a corpus this small cannot tell from content).
UNRELATED = {
    "100_volcano": ("en", "Volcano erupts near Reykjavik\nThe Fagradalsfjall volcano in Iceland erupted on Tuesday, sending lava fountains 50 metres high across the Reykjanes peninsula.\nAuthorities evacuated the fishing town of Grindavik, home to 3,700 people, and closed the Blue Lagoon spa.\nVolcanologist Thorvaldur Thordarson said the fissure stretched 4 kilometres and the eruption could last for weeks.\n"),
    "101_chess": ("fr", "Le grand maître norvégien remporte le tournoi de Wijk aan Zee\nMagnus Carlsen a remporté le tournoi d'échecs Tata Steel aux Pays-Bas après avoir battu Anish Giri lors de la dernière ronde.\nCarlsen a terminé avec 9,5 points sur 13 parties, un point entier devant Fabiano Caruana et Ding Liren.\nC'est son neuvième titre dans cette station balnéaire néerlandaise, un record que personne n'a approché.\n"),
    "102_coffee": ("de", "Frost zerstört brasilianische Kaffeeernte\nEin schwerer Frost in Minas Gerais hat nach Angaben der Genossenschaften der Bauern große Kaffeeplantagen im ganzen Bundesstaat zerstört.\nDie Preise für Arabica-Terminkontrakte in New York stiegen um zwölf Prozent auf den höchsten Stand seit 2014, weil Händler eine kleinere Ernte fürchten.\nDas Landwirtschaftsministerium in Brasilia schätzt, dass 200.000 Hektar Kaffeebäume von der Kälte betroffen sind.\n"),
    "103_telescope": ("es", "El telescopio espacial fotografía un cúmulo de galaxias lejano\nLos astrónomos que usan el telescopio espacial James Webb publicaron una imagen del cúmulo de galaxias SMACS 0723, cuya luz viajó durante 4.600 millones de años.\nEl administrador de la NASA, Bill Nelson, presentó la fotografía en el centro de vuelos espaciales Goddard, en Maryland.\nLa cámara infrarroja reveló miles de galaxias débiles curvadas por la lente gravitacional alrededor del cúmulo.\n"),
}


def add_article(corpus: Path, doc_id: str, language: str, text: str) -> None:
    data = text.encode("utf-8")
    (corpus / "raw" / f"{doc_id}.txt").write_bytes(data)
    line = {"id": doc_id, "file": f"{doc_id}.txt", "sha256": hashlib.sha256(data).hexdigest(), "language": language, "outlet": None, "url": None, "published": None, "license": None}
    with open(corpus / "sources.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")


def set_version(corpus: Path, version: str) -> None:
    path = corpus / "dataset.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["version"] = version
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def release(corpus: Path, tmp: Path, version: str, register: bool = True):
    set_version(corpus, version)
    build(corpus, tmp / "build", annotations_dir=None, log=lambda m: None)
    return publish(corpus, tmp / "build", tmp / "dist", registry=tmp / "releases.jsonl", release=register)


def splits_of(folder: Path, config: str = "documents") -> dict[str, str]:
    """id -> split of a config's rows (documents by id; pairs by their first document)."""
    key = "id" if config == "documents" else ("topic_id" if config == "parallel" else "pair_id")
    out = {}
    for path in sorted((folder / "data" / config).glob("*.parquet")):
        table = pq.read_table(path, columns=[key, "split"])
        out.update(zip(table.column(key).to_pylist(), table.column("split").to_pylist()))
    return out


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stable")
    corpus = tmp / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("releases.jsonl", RECORD_FILE))
    first = release(corpus, tmp, "0.1.0")
    for doc_id, (language, text) in UNRELATED.items():
        add_article(corpus, doc_id, language, text)
    second = release(corpus, tmp, "0.2.0")
    return tmp, corpus, first, second


def test_a_release_records_every_document_split(two_releases):
    tmp, corpus, first, second = two_releases
    recorded = read_recorded(corpus / RECORD_FILE)
    assert set(recorded) == SEED_IDS | set(UNRELATED)
    assert all(recorded[d] == Recorded("train", "0.1.0") for d in SEED_IDS)
    assert {d: recorded[d].split for d in UNRELATED} == {d: s for d, s in splits_of(second.path).items() if d in UNRELATED}
    assert all(recorded[d].release == "0.2.0" for d in UNRELATED)


def test_adding_articles_leaves_every_released_document_in_its_split(two_releases):
    tmp, corpus, first, second = two_releases
    after = splits_of(second.path)
    assert {d: after[d] for d in SEED_IDS} == splits_of(first.path) == dict.fromkeys(SEED_IDS, "train")
    # The new topics fill the splits the ratios want; only they could.
    assert {after[d] for d in UNRELATED} >= {"validation", "test"}


@pytest.mark.parametrize("with_record", [True, False])
def test_one_added_article_moves_nothing_but_would_without_the_record(tmp_path, with_record):
    """The issue's case: the repository's corpus (released as 0.1.0, its
    record committed) and one unrelated article. With three topics the
    small-corpus rule no longer puts all in train, so a fresh draw moves the
    seed topics; the record keeps them. (Without the record the test fails:
    it can.)"""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("releases.jsonl", *([] if with_record else [RECORD_FILE])))
    add_article(corpus, "100_volcano", *UNRELATED["100_volcano"])
    build(corpus, tmp_path / "build", annotations_dir=None, log=lambda m: None)
    seeds = {d: s for d, s in splits_of(tmp_path / "build").items() if d in SEED_IDS}
    assert (seeds == dict.fromkeys(SEED_IDS, "train")) is with_record
    if with_record:
        assert read_recorded(CORPUS / RECORD_FILE) == dict.fromkeys(SEED_IDS, Recorded("train", "0.1.0"))
        # pairs of the seed topics stay in train, where their documents are.
        assert set(splits_of(tmp_path / "build", "pairs").values()) == {"train"}


def test_pairs_has_every_split_that_holds_two_documents(two_releases):
    """`pairs` follows its documents: each split with two documents or more
    has pairs (same-topic, or cross-topic within the split), and loads by
    name. A split of one document has no pair to hold; `datasets` cannot
    load a config with an empty split at all, so none is written."""
    tmp, corpus, first, second = two_releases
    documents = splits_of(second.path)
    crowded = {s for s in set(documents.values()) if list(documents.values()).count(s) >= 2}
    assert "train" in crowded
    for split in crowded:
        assert datasets.load_dataset(str(second.path), "pairs", split=split).num_rows > 0
    for split in set(documents.values()):
        assert datasets.load_dataset(str(second.path), "parallel", split=split).num_rows > 0


def test_the_card_declares_the_languages_of_added_articles_and_validates(two_releases):
    tmp, corpus, first, second = two_releases
    from parallel_corpus.release.card import read_front_matter
    from parallel_corpus.release.validate import validate_paths

    assert read_front_matter(second.path / "README.md")["language"] == ["sw", "hi", "ar", "de", "en", "es", "fr"]
    assert read_front_matter(first.path / "README.md")["language"] == ["sw", "hi", "ar"]
    assert validate_paths([second.path, corpus], registry=tmp / "releases.jsonl") == []


def test_a_broken_split_record_is_one_line_for_validate_and_build(two_releases, tmp_path):
    tmp, *_ = two_releases
    corpus = _copy_of(tmp, tmp_path)
    record = corpus / RECORD_FILE
    lines = record.read_text(encoding="utf-8").splitlines()
    record.write_text("\n".join([lines[0].replace('"train"', '"dev"'), *lines[1:]]) + "\n", encoding="utf-8")
    before = record.read_bytes()
    out = CliRunner().invoke(main, ["validate", str(corpus)])
    assert out.exit_code == 1
    assert f"{record}:1:split: 'dev' is not one of ['train', 'validation', 'test']: restore it from git" in out.stdout.splitlines()
    out = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--out", str(tmp_path / "build"), "-q"])
    assert out.exit_code == 1 and out.stderr.strip() == f"error: {record}:1:split: 'dev' is not one of ['train', 'validation', 'test']: restore it from git"
    assert record.read_bytes() == before and not (tmp_path / "build").exists()


def test_the_diff_reports_no_move_for_added_articles(two_releases):
    tmp, *_ = two_releases
    out = CliRunner().invoke(main, ["diff", "v0.1.0", "v0.2.0", "--dist", str(tmp / "dist"), "--json"])
    diff = json.loads(out.output)
    assert diff["documents_moved"] == [] and diff["required_bump"] == "minor"


def _copy_of(tmp: Path, into: Path) -> Path:
    shutil.copytree(tmp, into, ignore=shutil.ignore_patterns("build"), dirs_exist_ok=True)
    return into / "corpus"


def _rewrite_record(corpus: Path, doc_id: str, split: str) -> str:
    """Put `doc_id` in `split` in the record; returns where it was."""
    record = corpus / RECORD_FILE
    before = read_recorded(record)[doc_id].split
    lines = record.read_text(encoding="utf-8").splitlines()
    record.write_text("\n".join(l.replace(f'"split": "{before}"', f'"split": "{split}"') if f'"{doc_id}"' in l else l for l in lines) + "\n", encoding="utf-8")
    return before


def test_a_topic_released_in_two_splits_moves_the_fewer_and_needs_a_major_version(two_releases, tmp_path):
    """One topic, its documents recorded in two splits (what a merge of two
    released topics, or a human moving a document into another topic,
    gives): the topic goes where most of them went, the build names the
    document that moved, and publishing it as a minor version is refused."""
    tmp, *_ = two_releases
    corpus = _copy_of(tmp, tmp_path)
    _rewrite_record(corpus, "003_fd1355c3401903b1", "test")
    logs: list[str] = []
    set_version(corpus, "0.3.0")
    build(corpus, tmp_path / "build", annotations_dir=None, log=logs.append)
    report = json.loads((tmp_path / "build" / "report.json").read_text(encoding="utf-8"))
    assert report["split_moves"] == ["003_fd1355c3401903b1: test -> train"]
    assert any(l.startswith("warning: released document 003_fd1355c3401903b1: test -> train") for l in logs)
    assert splits_of(tmp_path / "build")["003_fd1355c3401903b1"] == "train"
    with pytest.raises(PublishError, match=r"1 released document\(s\) change split \(first 003_fd1355c3401903b1: test -> train.*must be a major step past v0\.2\.0"):
        publish(corpus, tmp_path / "build", tmp_path / "dist", registry=tmp_path / "releases.jsonl")
    assert not (tmp_path / "dist" / "v0.3.0").exists()


def test_the_diff_and_the_card_name_a_document_that_changed_split(two_releases, tmp_path):
    """A record changed by hand puts a released article elsewhere: the build
    obeys the record, but against v0.2.0 the article moved, so a minor step
    is refused, and a major one says so in the card and in `diff`."""
    tmp, *_ = two_releases
    corpus = _copy_of(tmp, tmp_path)
    doc = "100_volcano"
    old = read_recorded(corpus / RECORD_FILE)[doc].split
    new = "train" if old != "train" else "test"
    _rewrite_record(corpus, doc, new)
    set_version(corpus, "0.3.0")
    build(corpus, tmp_path / "build", annotations_dir=None, log=lambda m: None)
    with pytest.raises(PublishError, match=rf"minor bump, but the change needs a major one \(1 document\(s\) change split, first {doc}: {old} -> {new}\)"):
        publish(corpus, tmp_path / "build", tmp_path / "dist", registry=tmp_path / "releases.jsonl")
    third = release(corpus, tmp_path, "1.0.0", register=False)
    assert f"- documents that changed split (1): `{doc}: {old} -> {new}`" in (third.path / "README.md").read_text(encoding="utf-8")
    out = CliRunner().invoke(main, ["diff", "v0.2.0", "v1.0.0", "--dist", str(tmp_path / "dist"), "--json"])
    diff = json.loads(out.output)
    assert diff["documents_moved"] == [f"{doc}: {old} -> {new}"] and diff["required_bump"] == "major"


def test_assignment_keeps_pinned_topics_and_fills_splits_from_new_ones():
    ratios = {"train": 0.8, "validation": 0.1, "test": 0.1}
    # Three released topics, all in train: no new topic, nothing moves to fill a split.
    assert assign_splits(["a", "b", "c"], ratios, 1, pinned={"a": "train", "b": "train", "c": "train"}) == dict.fromkeys("abc", "train")
    # Many new topics: the pinned ones stay, validation and test come from the new.
    fresh = [f"t{i}" for i in range(6)]
    out = assign_splits(["a", "b", *fresh], ratios, 1, pinned={"a": "test", "b": "train"})
    assert out["a"] == "test" and out["b"] == "train"
    assert "validation" in {out[t] for t in fresh}
    # Unpinned, the same call is the plain draw.
    assert assign_splits(fresh, ratios, 1) == assign_splits(fresh, ratios, 1, pinned={})


def test_a_topic_votes_with_most_of_its_released_documents():
    recorded = {"x": Recorded("test", "0.1.0"), "y": Recorded("train", "0.1.0"), "z": Recorded("train", "0.2.0"), "w": Recorded("validation", "0.1.0")}
    topic_of = {"x": "T", "y": "T", "z": "T", "w": "U", "v": "U", "new": "N"}
    assert pinned_topics(topic_of, recorded) == {"T": "train", "U": "validation"}
    # A tie goes to the first split in order.
    assert pinned_topics({"x": "T", "y": "T"}, recorded) == {"T": "train"}
