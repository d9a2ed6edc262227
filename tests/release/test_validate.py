"""`validate` fails, with a `file:row:field: message` line, on every kind of breakage."""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from parallel_corpus.engine.build import build
from parallel_corpus.cli.commands import main
from parallel_corpus.release.publish import publish

from conftest import CORPUS


def run_validate(*paths):
    return CliRunner().invoke(main, ["validate", *map(str, paths)])


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("validate")
    build(CORPUS, tmp / "build", annotations_dir=None, log=lambda m: None)
    return publish(CORPUS, tmp / "build", tmp / "dist", registry=tmp / "releases.jsonl").path


@pytest.fixture
def release_copy(published, tmp_path):
    dst = tmp_path / published.name
    shutil.copytree(published, dst)
    return dst


def test_the_repository_corpus_and_a_fresh_release_are_valid(published):
    out = run_validate(CORPUS, published)
    assert out.exit_code == 0, out.output


def test_changed_raw_bytes_fail(corpus_copy):
    path = corpus_copy / "raw" / "000_579473158ea377e1.txt"
    path.write_bytes(path.read_bytes() + b" ")
    out = run_validate(corpus_copy)
    assert out.exit_code == 1
    assert f"{corpus_copy / 'sources.jsonl'}:1:sha256: raw/000_579473158ea377e1.txt has sha256" in out.output


def test_a_malformed_sources_line_fails(corpus_copy):
    lines = (corpus_copy / "sources.jsonl").read_text().splitlines()
    record = json.loads(lines[2])
    record["language"] = "Swahili"
    del record["license"]
    lines[2] = json.dumps(record)
    (corpus_copy / "sources.jsonl").write_text("\n".join(lines) + "\n")
    out = run_validate(corpus_copy)
    assert out.exit_code == 1
    assert f"{corpus_copy / 'sources.jsonl'}:3:language: 'Swahili' does not match" in out.output
    assert f"{corpus_copy / 'sources.jsonl'}:3:license: 'license' is a required property" in out.output


def test_an_unlisted_raw_file_fails(corpus_copy):
    (corpus_copy / "raw" / "new.txt").write_text("Habari")
    out = run_validate(corpus_copy)
    assert out.exit_code == 1 and "raw/new.txt:-:-: not listed in sources.jsonl" in out.output


def test_a_parquet_file_without_a_declared_column_fails(release_copy):
    path = release_copy / "data" / "documents" / "train-00000-of-00001.parquet"
    table = pq.read_table(path).drop_columns(["dateline"])
    pq.write_table(table, path)
    out = run_validate(release_copy)
    assert out.exit_code == 1
    assert f"{path}:-:dateline: declared column is missing from the file" in out.output


def test_an_undeclared_column_fails(release_copy):
    import pyarrow as pa

    path = release_copy / "data" / "documents" / "train-00000-of-00001.parquet"
    table = pq.read_table(path)
    pq.write_table(table.append_column("extra", pa.array(["x"] * table.num_rows)), path)
    out = run_validate(release_copy)
    assert out.exit_code == 1 and f"{path}:-:extra: column is not declared" in out.output


def test_a_retyped_column_fails(release_copy):
    import pyarrow as pa

    path = release_copy / "data" / "documents" / "train-00000-of-00001.parquet"
    table = pq.read_table(path)
    i = table.schema.get_field_index("num_chars")
    pq.write_table(table.set_column(i, "num_chars", table.column("num_chars").cast(pa.int32())), path)
    out = run_validate(release_copy)
    assert out.exit_code == 1 and f"{path}:-:num_chars: type int32 differs from declared int64" in out.output


def test_a_split_count_that_disagrees_with_the_yaml_fails(release_copy):
    readme = release_copy / "README.md"
    text = readme.read_text()
    assert "num_examples: 5" in text
    readme.write_text(text.replace("num_examples: 5", "num_examples: 6", 1))
    out = run_validate(release_copy)
    assert out.exit_code == 1
    assert "documents/train-00000-of-00001.parquet:-:num_examples: 5 rows, the card's documents/train split says 6" in out.output


def test_a_file_changed_after_publishing_fails(release_copy):
    path = release_copy / "data" / "pairs" / "train-00000-of-00001.parquet"
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    out = run_validate(release_copy)
    assert out.exit_code == 1 and "the file changed after publishing" in out.output


def test_malformed_dataset_yaml_fails(corpus_copy):
    (corpus_copy / "dataset.yaml").write_text("name: [unclosed\n")
    out = run_validate(corpus_copy)
    assert out.exit_code == 1 and "dataset.yaml:" in out.output and "malformed YAML" in out.output


def test_the_schemas_are_valid_json_schema():
    from parallel_corpus.release.validate import validate_schemas

    assert list(validate_schemas()) == []
