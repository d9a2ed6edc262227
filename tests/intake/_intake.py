"""What the intake tests share: a fresh corpus folder and readers of what an add wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import CORPUS, tree_bytes


def fresh_corpus(parent: Path) -> Path:
    """The smallest corpus folder: its three curated files, no raw/, no sources.jsonl."""
    folder = parent / "fresh"
    folder.mkdir()
    for name in ("dataset.yaml", "languages.yaml", "cleaning.yaml"):
        shutil.copy(CORPUS / name, folder / name)
    return folder


def lines(corpus: Path) -> list[dict]:
    return [json.loads(line) for line in (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()]


def warnings(result) -> list[str]:
    return [l for l in result.stderr.splitlines() if l.startswith("warning:")]


def corpus_bytes(corpus: Path) -> dict[str, bytes]:
    """Every file of the folder but the lock an add leaves (empty, ignored by git)."""
    return {k: v for k, v in tree_bytes(corpus).items() if k != ".sources.jsonl.lock"}
