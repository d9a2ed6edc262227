"""The NTREX stories (the same news in Swahili, Hindi and Arabic, about people
no catalog of ours names): block-level language tagging and catalog-free
alignment through the real build and `evaluate-alignment`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict

import pytest
from click.testing import CliRunner

from parallel_corpus.cli.commands import main
from parallel_corpus.stages.langid import tag

from conftest import REPO, external

FILES = {"sw": "swa", "hi": "hin", "ar": "arb"}


@pytest.mark.parametrize("language", FILES)
def test_blocks_are_tagged_right_with_the_document_as_context(stages, language):
    folder = external("news", "parallel")
    ids = (folder / "ntrex-DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    lines = (folder / f"ntrex-newstest2019-ref.{FILES[language]}.txt").read_text(encoding="utf-8").splitlines()
    stories = defaultdict(list)
    for story, line in zip(ids, lines):
        stories[story].append(line.strip())
    right = total = 0
    for blocks in stories.values():
        result = tag(blocks, stages.languages, stages.detector, language)
        right += sum(b.language == language for b in result.blocks)
        total += len(blocks)
    assert total == 302
    assert right / total >= 0.998, f"{right}/{total}"


def test_catalog_free_alignment_groups_the_stories(tmp_path):
    external("news", "parallel")
    made = subprocess.run([sys.executable, str(REPO / "scripts" / "ntrex-corpus"), str(tmp_path / "ntrex")], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    runner = CliRunner()
    built = runner.invoke(main, ["build", "--corpus", str(tmp_path / "ntrex" / "corpus"), "--out", str(tmp_path / "build"), "--annotations", str(tmp_path / "none"), "-q"])
    assert built.exit_code == 0, built.output
    scored = runner.invoke(main, ["evaluate-alignment", "--gold", str(tmp_path / "ntrex" / "gold.tsv"), "--build", str(tmp_path / "build")])
    assert scored.exit_code == 0, scored.output
    result = json.loads(scored.output)
    # 20 stories; two outlets' reports of the Sulawesi earthquake are one event.
    assert result["documents"] == 60 and result["gold_groups"] == 19
    assert result["pairwise"]["f1"] >= 0.95 and result["bcubed"]["f1"] >= 0.95
