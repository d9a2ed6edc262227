"""Shared fixtures: the repository's corpus, the external real-world material,
and a copy of the corpus that a test may change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
EXTERNAL = REPO.parent / "shared" / "external"


def external(*parts: str) -> Path:
    """A path under ../shared/external, or a skip saying why it is absent."""
    path = EXTERNAL.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the real-world material lives beside the repo in ../shared/external")
    return path


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of corpus/ (without releases) to break or extend."""
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst, ignore=shutil.ignore_patterns("releases.jsonl"))
    return dst


@pytest.fixture(scope="session")
def stages():
    from parallel_corpus.pipeline import Stages

    import yaml

    seed = yaml.safe_load((CORPUS / "dataset.yaml").read_text())["seed"]
    return Stages.load(CORPUS, seed)
