"""The card as the Hub reads it (every section of its dataset card template
filled, the licence named and linked, creators, tasks, the Loading section
naming where the release loads from) and croissant.json as mlcroissant reads
it (every column of every config, nested ones included, row for row equal to
the Parquet files, with the Responsible-AI fields)."""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from huggingface_hub import DatasetCard

from parallel_corpus import schema
from parallel_corpus.cli.commands import main
from parallel_corpus.corpus import Corpus
from parallel_corpus.engine.build import build
from parallel_corpus.release import card, croissant
from parallel_corpus.release.hub import PushError, plan_push
from parallel_corpus.stages.entities import load_gazetteer
from parallel_corpus.release.publish import PublishError, publish, release_files

from conftest import CORPUS

HUB_REPO = "my-org/un-news"


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, Any]:
    """One build published twice: for loading from its folder, and for the Hub."""
    tmp = tmp_path_factory.mktemp("card")
    build(CORPUS, tmp / "build", annotations_dir=None, log=lambda m: None)
    local = publish(CORPUS, tmp / "build", tmp / "local", registry=tmp / "r.jsonl")
    hub = publish(CORPUS, tmp / "build", tmp / "hub", registry=tmp / "r.jsonl", hub_repo=HUB_REPO)
    report = json.loads((tmp / "build" / "report.json").read_text(encoding="utf-8"))
    return {"tmp": tmp, "local": local.path, "hub": hub.path, "report": report, "version": local.version}


def hub_template_headings() -> list[tuple[int, str]]:
    """The section headings of the Hub's dataset card template, as
    huggingface_hub ships it, without its "[optional]" marks."""
    text = Path(DatasetCard.default_template_path).read_text(encoding="utf-8")
    out = []
    for level, title in re.findall(r"(?m)^(#{2,4}) (.+)$", text):
        out.append((len(level), title.replace("[optional]", "").strip()))
    return out


def sections(text: str) -> list[tuple[int, str, str]]:
    """(level, heading, body up to the next heading) of a card's Markdown,
    headings inside fenced code ignored."""
    out: list[tuple[int, str, list[str]]] = []
    fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"(#{1,5}) (.+)$", line)
        if m:
            out.append((len(m.group(1)), m.group(2).replace("[optional]", "").strip(), []))
        elif out:
            out[-1][2].append(line)
    return [(level, title, "\n".join(body).strip()) for level, title, body in out]


def assert_every_hub_section_is_filled(text: str, comments: bool = False) -> None:
    """Every heading of the Hub template, in its order, with a body (a parent
    may have only its subsections), and no placeholder or unrendered variable.
    The Hub's own template keeps its guidance comments (`comments`), which are
    not content."""
    if comments:
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    found = sections(text)
    titles = [t for _, t, _ in found]
    position = -1
    for level, heading in hub_template_headings():
        assert heading in titles, f"the card has no section {heading!r}"
        index = titles.index(heading)
        assert index > position, f"{heading!r} is out of the template's order"
        position = index
        own_level, _, body = found[index]
        has_children = index + 1 < len(found) and found[index + 1][0] > own_level
        if not has_children:
            assert body, f"section {heading!r} is empty"
    for _, heading, body in found:
        assert card.HUB_PLACEHOLDER not in body, f"section {heading!r} holds the template's placeholder"
        assert not re.search(r"\{\{\s*\w+\s*\}\}|\{%|<!--", body), f"section {heading!r} holds template text"


def test_the_published_card_fills_every_section_of_the_hub_template(releases):
    loaded = DatasetCard.load(releases["local"] / "README.md")
    assert_every_hub_section_is_filled(loaded.text)


def test_the_card_yaml_names_the_licence_creators_and_tasks(releases):
    data = DatasetCard.load(releases["local"] / "README.md").data
    dataset = Corpus(CORPUS).dataset()
    assert data.license == "other"
    assert data.license_name == dataset["license_name"]
    assert data.license_link == dataset["license_link"]
    assert (releases["local"] / data.license_link).is_file() or data.license_link.startswith("https://")
    # No human annotation is merged into a build without annotations.
    assert data.annotations_creators == ["machine-generated"]
    assert data.language_creators == ["found"]
    assert "translation" not in data.task_categories
    assert {"sentence-similarity", "text-retrieval", "token-classification"} <= set(data.task_categories)
    assert [c["config_name"] for c in data.configs] == ["documents", "parallel", "pairs"]


def test_human_annotations_add_their_creators():
    dataset = {"human_annotations_creators": "expert-generated"}
    assert card.annotations_creators(dataset, 0) == ["machine-generated"]
    assert card.annotations_creators(dataset, 3) == ["machine-generated", "expert-generated"]


def _qid_sentence() -> str:
    """What the card must say, counted from corpus/entities.yaml itself, not from the report the card read."""
    entities = load_gazetteer(CORPUS).entities
    verified = sum(e.verified for e in entities)
    missing = sum(e.qid is None for e in entities)
    return card.QidCounts(verified, len(entities) - verified, missing).sentence()


def test_the_card_counts_verified_and_unverified_qids(releases):
    text = (releases["local"] / "README.md").read_text(encoding="utf-8")
    sentence = _qid_sentence()
    assert text.count(sentence) == 2, sentence  # the gazetteer paragraph and the limitations
    entities = load_gazetteer(CORPUS).entities
    assert f"{len(entities)} entities, {sum(e.verified for e in entities)} have a Wikidata QID verified" in sentence


def test_the_card_counts_the_seed_documents_from_the_data(releases):
    rows = pq.read_table(releases["local"] / "data" / "documents" / "train-00000-of-00001.parquet").num_rows
    text = (releases["local"] / "README.md").read_text(encoding="utf-8")
    assert f"this release holds {rows} seed document(s)" in text


def test_the_citation_comes_from_dataset_yaml(releases):
    dataset = Corpus(CORPUS).dataset()
    text = DatasetCard.load(releases["local"] / "README.md").text
    entry = re.search(r"```bibtex\n(.+?)\n```", text, re.S).group(1)
    assert entry.startswith("@misc{") and f"version = {{{releases['version']}}}" in entry
    for author in dataset["authors"]:
        assert author in entry
    assert dataset["contact"] in text


def test_the_loading_section_names_the_hub_repository_only_when_pushed(releases):
    version = releases["version"]
    local = (releases["local"] / "README.md").read_text(encoding="utf-8")
    hub = (releases["hub"] / "README.md").read_text(encoding="utf-8")
    assert f'documents = load_dataset("dist/v{version}", "documents")' in local and "revision=" not in local
    assert f'documents = load_dataset("{HUB_REPO}", "documents", revision="v{version}")' in hub
    assert "dist/v" not in hub.split("#### Loading")[1].split("\n## ")[0].replace(f"v{version}`", "")
    assert card.hub_repo_of_card(hub) == HUB_REPO and card.hub_repo_of_card(local) is None
    # Only the card and what cites it differ between the two.
    differ = {n for n, h in release_files(releases["hub"]).items() if release_files(releases["local"]).get(n) != h}
    assert differ == {"README.md", "croissant.json"}


def test_a_release_is_pushed_only_where_its_card_says(releases):
    plan = plan_push(releases["hub"], HUB_REPO)
    assert plan.tag == f"v{releases['version']}"
    with pytest.raises(PushError, match="tells users to load this release from its release folder, not my-org/un-news"):
        plan_push(releases["local"], HUB_REPO)
    with pytest.raises(PushError, match="from the Hub dataset my-org/un-news, not other/repo"):
        plan_push(releases["hub"], "other/repo")


def test_push_refuses_another_repository_than_hub_repo(tmp_path, releases):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    shutil.copyfile(CORPUS.parent / card.CARD_TEMPLATE_NAME, tmp_path / card.CARD_TEMPLATE_NAME)
    text = (corpus / "dataset.yaml").read_text(encoding="utf-8")
    (corpus / "dataset.yaml").write_text(text.replace("hub_repo: null", f"hub_repo: {HUB_REPO}"), encoding="utf-8")
    with pytest.raises(PublishError, match=f"names hub_repo {HUB_REPO}"):
        publish(corpus, releases["tmp"] / "build", tmp_path / "dist", registry=tmp_path / "r.jsonl", hub_repo="other/repo")
    assert not (tmp_path / "dist").exists()
    # With hub_repo set, a plain publish already names it, and --push to it is the same release.
    plain = publish(corpus, releases["tmp"] / "build", tmp_path / "dist", registry=tmp_path / "r.jsonl")
    assert release_files(plain.path) == release_files(releases["hub"])


def test_republishing_for_another_place_says_only_the_card_differs(releases):
    out = CliRunner().invoke(main, ["publish", "--corpus", str(CORPUS), "--build", str(releases["tmp"] / "build"), "--dist", str(releases["hub"].parent), "--registry", str(releases["tmp"] / "r.jsonl")])
    assert out.exit_code == 1 and "only the card: it names another place to load the release from" in out.output


def test_the_hub_default_template_renders_filled(releases, tmp_path):
    """Without DATASET_CARD.md the card is the Hub's own template, and every
    variable of it is filled."""
    dataset = Corpus(CORPUS).dataset() | {"hub_repo": None}
    splits = {c: {"train": {"num_examples": pq.read_metadata(p).num_rows, "num_bytes": 1}} for c in ("documents", "parallel", "pairs") for p in [releases["local"] / "data" / c / "train-00000-of-00001.parquet"]}
    text = card.render(dataset, splits, releases["report"], releases["local"], None)
    assert card.HUB_PLACEHOLDER not in text
    assert_every_hub_section_is_filled(DatasetCard(text).text, comments=True)
    assert text == card.render(dataset, splits, releases["report"], releases["local"], None)


def test_a_template_naming_an_unknown_value_is_refused(releases, tmp_path):
    template = tmp_path / "DATASET_CARD.md"
    template.write_text("# {{ pretty_name }}\n\n{{ no_such_value }}\n", encoding="utf-8")
    dataset = Corpus(CORPUS).dataset()
    splits = {"documents": {"train": {"num_examples": 5, "num_bytes": 1}}}
    with pytest.raises(card.CardError, match="no_such_value"):
        card.render(dataset, splits, releases["report"], releases["local"], template)


# -- croissant.json ---------------------------------------------------------------


def plain(value: Any) -> Any:
    """A record as mlcroissant yields it, in the Python values pyarrow gives:
    keys without their RecordSet/Field path, text decoded, dates as dates."""
    if isinstance(value, dict):
        return {k.rsplit("/", 1)[-1]: plain(v) for k, v in value.items()}
    if isinstance(value, (list, np.ndarray)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, (pd.Timestamp, datetime.datetime)):
        return value.date()
    return value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def read_every_record(release: Path) -> dict[str, int]:
    """Every record of every RecordSet read by mlcroissant (which checks each
    file's sha256), compared row for row with the Parquet file; counts by set."""
    import mlcroissant as mlc

    ds = mlc.Dataset(jsonld=str(release / "croissant.json"))
    assert not ds.metadata.ctx.issues.errors and not ds.metadata.ctx.issues.warnings, ds.metadata.ctx.issues.report()
    counts = {}
    for rs in ds.metadata.record_sets:
        config, split = rs.name.rsplit("_", 1)
        assert [f.name for f in rs.fields] == schema.column_names(config)
        rows = pq.read_table(release / "data" / config / f"{split}-00000-of-00001.parquet").to_pylist()
        records = [plain(r) for r in ds.records(record_set=rs.uuid)]
        assert len(records) == len(rows)
        for i, (record, row) in enumerate(zip(records, rows)):
            for column, value in row.items():
                assert same(record[column], value), f"{rs.name} row {i} column {column}: {record[column]!r} != {value!r}"
        counts[rs.name] = len(records)
    return counts


def test_mlcroissant_reads_every_column_of_every_record_set_as_the_parquet_holds_it(releases):
    counts = read_every_record(releases["local"])
    assert counts == {
        f"{c}_train": pq.read_metadata(releases["local"] / "data" / c / "train-00000-of-00001.parquet").num_rows
        for c in ("documents", "parallel", "pairs")
    }


def test_nested_rows_come_back_nested(releases):
    import mlcroissant as mlc

    ds = mlc.Dataset(jsonld=str(releases["local"] / "croissant.json"))
    records = [plain(r) for r in ds.records(record_set="documents_train")]
    assert sum(len(r["blocks"]) for r in records) > len(records)
    assert all(isinstance(b["flags"], list) and isinstance(b["start"], int) for r in records for b in r["blocks"])
    assert any(r["entities"] and r["entities"][0]["qid"].startswith("Q") for r in records)
    assert any(r["removed_lines"] for r in records)
    assert all(set(r["source"]) == set(schema.load_schema("documents")["properties"]["source"]["properties"]) for r in records)
    topics = [plain(r) for r in ds.records(record_set="parallel_train")]
    assert sum(len(t["documents"]) for t in topics) == len(records)


def test_the_croissant_fields_are_typed_from_the_schemas():
    fields = {f["name"]: f for f in croissant.record_set_fields("documents", "train", "documents-train-parquet")}
    assert list(fields) == schema.column_names("documents")
    assert fields["blocks"]["repeated"] is True and [s["name"] for s in fields["blocks"]["subField"]] == list(schema.load_schema("documents")["properties"]["blocks"]["items"]["properties"])
    flags = next(s for s in fields["blocks"]["subField"] if s["name"] == "flags")
    assert flags["repeated"] is True and flags["source"] == {"fileObject": {"@id": "documents-train-parquet"}, "extract": {"column": "blocks"}, "transform": {"jsonPath": "flags"}}
    assert "repeated" not in fields["source"] and fields["source"]["subField"][0]["source"]["transform"] == {"jsonPath": "file"}
    assert fields["topic_evidence"]["repeated"] is True and fields["topic_evidence"]["dataType"] == "sc:Text"
    assert fields["published"]["dataType"] == "sc:Date"


def test_every_config_reads_back_annotations_included(tmp_path):
    """The annotations config (not in a build without Label Studio) read back
    nested from a Parquet file of its schema."""
    row = {name: None for name in schema.column_names("annotations")}
    row.update(key="a1", kind="document", project_id=1, task_id=2, annotation_id=3, annotator="user:7", status="ok", split="train",
               cleaning_problems=["chrome"], entities=[{"start": 0, "end": 4, "text": "UN x", "label": "ORG", "verification": None, "exported_start": 0, "exported_end": 4}])
    path = tmp_path / "data" / "annotations" / "train-00000-of-00001.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([row, {**row, "key": "a2", "entities": [], "cleaning_problems": []}], schema=schema.arrow_schema("annotations")), path)
    dataset = Corpus(CORPUS).dataset()
    croissant.write(tmp_path / "croissant.json", dataset, {"data/annotations/train-00000-of-00001.parquet": hashlib.sha256(path.read_bytes()).hexdigest()})
    assert read_every_record(tmp_path) == {"annotations_train": 2}


def test_the_croissant_carries_the_responsible_ai_fields(releases):
    import mlcroissant as mlc

    meta = mlc.Dataset(jsonld=str(releases["local"] / "croissant.json")).metadata
    assert meta.ctx.conforms_to.value == croissant.CONFORMS_TO
    assert "UN Secretary-General" in " ".join(meta.data_biases)
    assert any(_qid_sentence() in x for x in meta.data_limitations)
    assert any("translations" in x for x in meta.data_limitations)
    assert any("public figures" in x for x in meta.personal_sensitive_information)
    assert meta.data_collection and meta.data_annotation_protocol and meta.data_use_cases and meta.data_release_maintenance_plan
    doc = json.loads((releases["local"] / "croissant.json").read_text(encoding="utf-8"))
    assert croissant.RAI_CONFORMS_TO in doc["conformsTo"] and doc["@context"]["rai"] == "http://mlcommons.org/croissant/RAI/"
    assert doc["citeAs"] == card.bibtex(Corpus(CORPUS).dataset() | {"version": releases["version"], "hub_repo": None})
