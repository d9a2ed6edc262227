"""Synthetic corpora (scripts/synthetic/, scripts/make-synthetic-corpus).

The generator must give the same bytes for the same N and seed, a folder that
`validate` accepts, and documents with the shapes of real news (stories of
about ten documents in three scripts, chrome around the text) that build into
the same Parquet bytes whatever the worker count and engine.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from parallel_corpus.cli.commands import main
from synthetic import MAX_BYTES, MIN_BYTES, SyntheticError, make_corpus

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "make-synthetic-corpus"
N = 60


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path, with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def parquet_files(build_dir: Path) -> dict[str, bytes]:
    files = {k: v for k, v in tree(build_dir / "data").items() if k.endswith(".parquet")}
    assert files, f"{build_dir}: no Parquet written"
    return files


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "corpus"
    make_corpus(N, path, seed=3)
    return path


def build(corpus: Path, out: Path, *options: str) -> Path:
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--out", str(out), "--annotations", str(out.parent / "no-annotations"), "--quiet", *options])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return out


@pytest.fixture(scope="module")
def build_one_worker(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(corpus, tmp_path_factory.mktemp("build") / "w1", "--workers", "1")


# -- the generator -------------------------------------------------------------------


def test_same_n_and_seed_give_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        done = run_script("40", str(tmp_path / name), "--seed", seed)
        assert done.returncode == 0, done.stderr
    a, b, c = tree(tmp_path / "a"), tree(tmp_path / "b"), tree(tmp_path / "c")
    assert len([k for k in a if k.startswith("raw/")]) == 40
    assert a == b
    assert a["sources.jsonl"] != c["sources.jsonl"]


def test_the_folder_validates(corpus: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(corpus)])
    assert result.exit_code == 0, result.output


def test_corpus_files_are_the_repositorys_with_version_0_0_0(corpus: Path) -> None:
    for name in ("cleaning.yaml", "languages.yaml", "dates.yaml"):
        assert (corpus / name).read_bytes() == (REPO / "corpus" / name).read_bytes()
    dataset = yaml.safe_load((corpus / "dataset.yaml").read_text(encoding="utf-8"))
    original = yaml.safe_load((REPO / "corpus" / "dataset.yaml").read_text(encoding="utf-8"))
    assert dataset["version"] == "0.0.0"
    assert dataset["seed"] == original["seed"] and dataset["splits"] == original["splits"]
    assert not (corpus / "topics.yaml").exists(), "without --catalog the corpus is aligned by clustering alone"


def test_documents_have_the_shapes_of_real_news(corpus: Path) -> None:
    sources = [json.loads(line) for line in (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(sources) == N
    sizes = [(corpus / "raw" / s["file"]).stat().st_size for s in sources]
    assert MIN_BYTES <= min(sizes) and max(sizes) <= MAX_BYTES, (min(sizes), max(sizes))
    gold = dict(line.split("\t") for line in (corpus / "gold-topics.tsv").read_text(encoding="utf-8").splitlines())
    languages_of_story: dict[str, set[str]] = defaultdict(set)
    truth = {s["id"]: s["language"] for s in sources}
    for doc_id, story in gold.items():
        raw = (corpus / "raw" / f"{doc_id}.txt").read_bytes().decode("utf-8-sig")
        counts = {"Deva": len(re.findall("[\u0900-\u097f]", raw)), "Arab": len(re.findall("[\u0600-\u06ff]", raw)), "Latn": len(re.findall("[A-Za-z]", raw))}
        script = max(counts, key=counts.__getitem__)
        languages_of_story[story].add(script)
        if truth[doc_id] is not None:
            assert script == {"sw": "Latn", "hi": "Deva", "ar": "Arab"}[truth[doc_id]], doc_id
    # About ten documents a story, every story in all three scripts.
    assert N // 14 <= len(languages_of_story) <= N // 6
    assert all(scripts == {"Latn", "Deva", "Arab"} for scripts in languages_of_story.values())
    texts = "\n".join((corpus / "raw" / s["file"]).read_text(encoding="utf-8-sig") for s in sources)
    lines = texts.splitlines()
    assert "." in lines, "stray '.' lines"
    assert any(a == b and a for a, b in zip(lines, lines[1:])), "a caption printed twice"
    assert re.search(r"\b\d{4}[^\W\d_]", texts), "a dateline glued to the first sentence"
    assert "{" not in texts and "}" not in texts, "an unfilled slot"


def test_invented_names_meet_across_scripts_and_are_found(corpus: Path) -> None:
    from parallel_corpus.text.keys import skeleton
    from parallel_corpus.stages.entities import load_gazetteer

    data = yaml.safe_load((corpus / "entities.yaml").read_text(encoding="utf-8"))
    people = [e for e in data["entities"] if e["type"] == "person"]
    assert people and all(re.fullmatch(r"Q9\d{8}", e["qid"]) for e in data["entities"])
    for e in people:
        family = {lang: e["aliases"][lang][-1] for lang in ("sw", "hi", "ar")}
        assert len({skeleton(name) for name in family.values()}) == 1, family
    gazetteer = load_gazetteer(corpus / "entities.yaml")
    sources = [json.loads(line) for line in (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()]
    for s in sources[:15]:
        text = (corpus / "raw" / s["file"]).read_text(encoding="utf-8-sig")
        found = {m["qid"] for m in gazetteer.find(text, s["language"])}
        assert len(found) >= 3, (s["id"], found)


def test_refuses_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(SyntheticError, match="at least 1"):
        make_corpus(0, tmp_path / "none")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    done = run_script("5", str(tmp_path / "full"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "not empty" in done.stderr


# -- building it -----------------------------------------------------------------------


def test_builds_into_many_stories(build_one_worker: Path) -> None:
    report = json.loads((build_one_worker / "report.json").read_text(encoding="utf-8"))
    assert report["num_documents"] == N and report["num_skipped"] == 0
    assert report["languages"] == {"ar": 20, "hi": 20, "sw": 20}
    assert len(report["topics"]) > 2, "one giant topic"
    removed = report["removed_lines_by_reason"]
    for reason in ("punctuation_only", "chrome_phrase", "repeated_line", "section_label"):
        assert removed.get(reason), (reason, removed)


def test_two_workers_write_the_same_bytes(corpus: Path, build_one_worker: Path, tmp_path: Path) -> None:
    # With two workers, `pairs` and the audit page are written by processes
    # of their own beside the driver (engine.beside): the same files too.
    two = build(corpus, tmp_path / "w2", "--workers", "2")
    assert parquet_files(two) == parquet_files(build_one_worker)
    assert tree(two) == tree(build_one_worker)
    assert any(name.startswith("report/docs-") for name in tree(two))


@pytest.mark.slow
def test_ray_writes_the_same_bytes(corpus: Path, build_one_worker: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[distributed]'")
    # In a subprocess: a local Ray cluster started inside pytest would outlive
    # a failing test and hold the process's signal handlers.
    console = Path(sys.executable).with_name("parallel-corpus")
    cmd = [str(console) if console.exists() else shutil.which("parallel-corpus") or "parallel-corpus"]
    done = subprocess.run(
        [*cmd, "build", "--corpus", str(corpus), "--out", str(tmp_path / "ray"), "--annotations", str(tmp_path / "none"), "--engine", "ray", "--workers", "2", "--quiet"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert parquet_files(tmp_path / "ray") == parquet_files(build_one_worker)


def test_recurring_segments_counted_by_workers_as_by_the_driver(tmp_path: Path) -> None:
    from parallel_corpus.engine.executors import segment_keys
    from parallel_corpus.stages.document import Stages

    corpus = tmp_path / "corpus"
    make_corpus(200, corpus, seed=5)
    stages = Stages.load(corpus, 0)
    sources = stages.corpus.source_list()
    alone = dict(stages.count_boilerplate(sources).counts)
    keys = segment_keys(corpus, sources, 0, 2, "local", stages)
    assert keys is not None, "200 sources are shared between two workers"
    assert dict(stages.count_boilerplate(sources, keys).counts) == alone
    assert alone, "the synthetic corpus prints some segments in several documents"


def test_the_generator_is_not_shipped_and_its_templates_are_data() -> None:
    import importlib.util

    import synthetic.templates as templates

    assert importlib.util.find_spec("parallel_corpus.synthetic") is None
    assert sorted(p.name for p in templates.FOLDER.glob("*.yaml")) == ["ar.yaml", "en.yaml", "hi.yaml", "sw.yaml"]
    assert set(templates.TEXT) == {"sw", "hi", "ar"} and "{X}" in templates.ORG_EN


def test_a_broken_template_file_is_named_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import synthetic.templates as templates

    for path in templates.FOLDER.glob("*.yaml"):
        shutil.copy(path, tmp_path)
    (tmp_path / "hi.yaml").write_text("title: [x]\n", encoding="utf-8")
    monkeypatch.setattr(templates, "FOLDER", tmp_path)
    with pytest.raises(SyntheticError, match=r"hi\.yaml: outlets must be a non-empty list of strings$"):
        templates.load()
