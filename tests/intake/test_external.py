"""Real dumps nobody here wrote, into a fresh corpus with one `add` each:
a sample of MasakhaNEWS Swahili (TSV), of BBC Hindi (CSV) and of the ANT
Arabic TREC files (a folder of them), read from ../shared/external (skipped,
with the reason, where it is absent). The corpus then validates and builds,
and each article is the row it came from."""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import build_cli, external, invoke

from _intake import fresh_corpus, lines


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    return fresh_corpus(tmp_path)


SAMPLE = 6


def sample_rows(source: Path, target: Path, delimiter: str) -> list[list[str]]:
    """The header and the first SAMPLE rows of a dump, written as the dump writes them."""
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        with open(source, encoding="utf-8", newline="") as fh:
            rows = [row for _, row in zip(range(SAMPLE + 1), csv.reader(fh, delimiter=delimiter))]
    finally:
        csv.field_size_limit(limit)
    with open(target, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return rows


def test_masakhanews_bbc_hindi_and_ant_go_in_with_one_add_each_and_build(fresh, tmp_path):
    tsv = external("news", "swahili", "masakhanews_swa_sample.tsv")
    hindi = external("news", "hindi", "bbc_hindi_sample.csv")
    ant = external("news", "arabic", "ant")
    swahili_rows = sample_rows(tsv, tmp_path / "masakhanews.tsv", "\t")
    sample_rows(hindi, tmp_path / "bbc_hindi.csv", ",")
    ant_sample = tmp_path / "ant"
    for outlet in sorted(p for p in ant.iterdir() if p.is_dir()):
        first = sorted(outlet.rglob("*.txt"))[0]
        (ant_sample / first.relative_to(ant)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(first, ant_sample / first.relative_to(ant))
    ant_files = sorted(ant_sample.rglob("*.txt"))
    assert len(ant_files) == 5

    runs = [
        ("--from", "tsv", "--text", "text", "--title", "headline", "--url", "url", "--language", "sw", "--outlet", "BBC Swahili", tmp_path / "masakhanews.tsv"),
        ("--from", "csv", "--text", "1", "--outlet", "BBC Hindi", tmp_path / "bbc_hindi.csv"),
        ("--from", "trec", "--text", "TEXT", "--title", "TITLE", "--url", "URL", "--published", "TIME", "--id", "DOCNO", "--outlet-field", "SRC", ant_sample),
    ]
    for args in runs:
        result = invoke("add", "--corpus", fresh, *args)
        assert result.exit_code == 0, result.output
        assert result.stderr == "", result.stderr

    added = lines(fresh)
    assert len(added) == 2 * SAMPLE + len(ant_files)
    by_language = {}
    for r in added:
        by_language.setdefault((r["language"], r.get("language_source", "given")), []).append(r)
    assert {k: len(v) for k, v in by_language.items()} == {("sw", "given"): SAMPLE, ("hi", "detected"): SAMPLE, ("ar", "detected"): len(ant_files)}

    # Each raw file is its row: the headline, a blank line, the text.
    first_sw = added[0]
    headline, text = swahili_rows[1][1], swahili_rows[1][2]
    assert (fresh / "raw" / first_sw["file"]).read_text(encoding="utf-8") == f"{' '.join(headline.split())}\n\n{text.strip()}\n"
    assert first_sw["url"] == swahili_rows[1][3]
    ant_first = by_language[("ar", "detected")][0]
    assert ant_first["id"] == ant_files[0].stem and ant_first["outlet"] and ant_first["published"]

    # Adding the same dump again adds nothing: every article is already there.
    again = invoke("add", "--corpus", fresh, *runs[0])
    assert again.exit_code == 1 and again.stderr.count("already in the corpus") == SAMPLE

    assert invoke("validate", fresh).exit_code == 0
    out = tmp_path / "build"
    built = build_cli(fresh, out, "--strict")
    assert built.exit_code == 0, built.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["num_documents"] == len(added) and report["num_skipped"] == 0 and report["unlisted_files"] == []
    rows = [r for f in sorted((out / "data" / "documents").glob("*.parquet")) for r in pq.read_table(f, columns=["id", "language", "title", "declared_language"]).to_pylist()]
    built_rows = {r["id"]: r for r in rows}
    assert built_rows[first_sw["id"]]["title"] == " ".join(headline.split())
    assert built_rows[first_sw["id"]]["declared_language"] == "sw"
    assert {built_rows[r["id"]]["language"] for r in by_language[("hi", "detected")]} == {"hi"}
    assert {built_rows[r["id"]]["declared_language"] for r in by_language[("ar", "detected")]} == {None}
