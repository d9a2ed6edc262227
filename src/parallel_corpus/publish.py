"""Publish: a build folder in, `dist/vX.Y.Z/` as a Hugging Face dataset folder out.

A release is `README.md` (the card, with the YAML that `datasets` reads),
`data/<config>/<split>-00000-of-00001.parquet`, `coverage.png`,
`croissant.json` and `checksums.sha256`. It is
written beside its final place and renamed into it, so nobody sees half a
release, and a version that exists with other bytes is never overwritten.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pyarrow.parquet as pq

from .jsontext import loads
from . import card, chart, croissant, schema
from .build import CONFIGS, exclusive
from .config import Corpus
from .ingest import sha256_file
from .releases import check_bump, diff_releases, previous_release
from .align.splits import SPLIT_ORDER

CHECKSUMS = "checksums.sha256"
# Libraries whose versions decide the bytes of a release.
PINNED = ("pyarrow", "datasets", "langdetect")


class PublishError(RuntimeError):
    """The release cannot be written; nothing was changed."""


@dataclass
class PublishResult:
    version: str
    path: Path
    files: dict[str, str]
    unchanged: bool
    skipped_documents: int
    registered: bool


def release_files(folder: Path) -> dict[str, str]:
    """sha256 of every file of a release, by path relative to it."""
    return {
        str(p.relative_to(folder)): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != CHECKSUMS
    }


def read_registry(path: Path) -> dict[str, dict[str, Any]]:
    """Registered releases by version (`releases.jsonl`, one release a line)."""
    out: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return out
    for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = loads(line)
            out[entry["version"]] = entry
        except (json.JSONDecodeError, KeyError, TypeError):
            raise PublishError(f"{path}:{row}: not a release entry; restore it from git") from None
    return out


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in PINNED}


def git_commit(repo: Path) -> Optional[str]:
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        return out.stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def publish(
    corpus_dir: Path,
    build_dir: Path,
    dist_dir: Path,
    version: Optional[str] = None,
    registry: Optional[Path] = None,
    release: bool = False,
) -> PublishResult:
    """Write the release of `build_dir` as `dist_dir/vX.Y.Z`."""
    corpus = Corpus(Path(corpus_dir))
    dataset = corpus.dataset()
    version = version or dataset["version"]
    registry = Path(registry) if registry else corpus.path("releases.jsonl")
    build_dir = Path(build_dir)
    report_path = build_dir / "report.json"
    if not report_path.is_file():
        raise PublishError(f"{build_dir}: no build here: run `parallel-corpus build` first")
    report = json.loads(report_path.read_text(encoding="utf-8"))

    dist_dir = Path(dist_dir)
    dist_dir.mkdir(parents=True, exist_ok=True)
    target = dist_dir / f"v{version}"
    with exclusive(target, "publish"):
        return _publish_locked(corpus, dataset, version, registry, build_dir, report, dist_dir, target, release)


def _publish_locked(corpus, dataset, version, registry, build_dir, report, dist_dir, target, release) -> PublishResult:
    staging = Path(tempfile.mkdtemp(prefix=f".v{version}.", dir=dist_dir))
    try:
        release_meta = dataset | {"version": version}
        template = card_template(corpus.root)
        splits = _assemble(build_dir, staging, release_meta, report, template, changelog="")
        previous = previous_release(dist_dir, version)
        if previous is not None:
            diff = diff_releases(previous, staging)
            diff.new = version
            problem = check_bump(diff)
            if problem:
                raise PublishError(f"{problem}: choose the version that fits in corpus/dataset.yaml")
            changelog = diff.markdown() + _older_changelog(previous)
            (staging / "README.md").write_text(card.render(release_meta, splits, report, staging, template, changelog), encoding="utf-8")
        croissant.write(staging / "croissant.json", release_meta, release_files(staging))
        files = release_files(staging)
        (staging / CHECKSUMS).write_text("".join(f"{h}  {name}\n" for name, h in files.items()), encoding="utf-8")

        registered = read_registry(registry).get(version)
        if registered is not None and registered["files"] != files:
            changed = sorted(n for n in set(files) | set(registered["files"]) if files.get(n) != registered["files"].get(n))
            raise PublishError(
                f"v{version} is registered in {registry} with other bytes ({', '.join(changed[:3])}"
                f"{' ...' if len(changed) > 3 else ''}): bump the version in corpus/dataset.yaml"
            )
        unchanged = False
        if target.exists():
            existing = release_files(target)
            if existing != files:
                raise PublishError(f"{target} exists with other content: a published version is never overwritten; bump the version in corpus/dataset.yaml")
            unchanged = True
            shutil.rmtree(staging)
        else:
            os.rename(staging, target)
        if release and registered is None:
            _register(registry, version, files, corpus.root)
        return PublishResult(version, target, files, unchanged, int(report.get("num_skipped", 0)), release or registered is not None)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def card_template(corpus_root: Path) -> Optional[Path]:
    """The card's prose: `DATASET_CARD.md` in the corpus folder or beside it."""
    for candidate in (corpus_root / card.CARD_TEMPLATE_NAME, corpus_root.resolve().parent / card.CARD_TEMPLATE_NAME):
        if candidate.is_file():
            return candidate
    return None


def _older_changelog(previous: Path) -> str:
    """The changelog entries of the previous card, carried into the new one."""
    text = (previous / "README.md").read_text(encoding="utf-8")
    start = text.find(card.CHANGELOG_HEADING)
    if start < 0:
        return ""
    body = text[start + len(card.CHANGELOG_HEADING):]
    end = body.find("\n## ")
    body = (body if end < 0 else body[:end]).strip()
    return "\n\n" + body if body and not body.startswith("First release") else ""


def _assemble(build_dir: Path, staging: Path, dataset: dict[str, Any], report: dict[str, Any], template: Optional[Path], changelog: str) -> dict[str, Any]:
    """Copy the Parquet files and write the card that describes them."""
    splits: dict[str, dict[str, dict[str, int]]] = {}
    for config in CONFIGS:
        for split in SPLIT_ORDER:
            src = build_dir / "data" / config / f"{split}-00000-of-00001.parquet"
            if not src.is_file():
                continue
            dst = staging / "data" / config / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            meta = pq.read_metadata(dst)
            table = pq.read_table(dst)
            splits.setdefault(config, {})[split] = {"num_examples": meta.num_rows, "num_bytes": table.nbytes}
    if "documents" not in splits:
        raise PublishError(f"{build_dir}: the build has no documents: run `parallel-corpus build` again")
    topics = report.get("topics", [])
    extra = sorted({l for t in topics for l in t["languages"]} - set(dataset["languages"]))
    chart.coverage_png(staging / card.COVERAGE_CHART, topics, [*dataset["languages"], *extra])
    (staging / "README.md").write_text(card.render(dataset, splits, report, staging, template, changelog), encoding="utf-8")
    return splits


def _register(registry: Path, version: str, files: dict[str, str], corpus_root: Path) -> None:
    entry = {
        "version": version,
        "commit": git_commit(corpus_root),
        "libraries": library_versions(),
        "files": files,
    }
    registry.parent.mkdir(parents=True, exist_ok=True)
    existing = registry.read_text(encoding="utf-8") if registry.exists() else ""
    tmp = registry.with_name(registry.name + ".tmp")
    tmp.write_text(existing + json.dumps(entry, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, registry)


def features_yaml(config: str) -> list[dict[str, Any]]:
    """The card's `dataset_info.features` of a config, derived from `schemas/`."""
    return schema.features(config)._to_yaml_list()
