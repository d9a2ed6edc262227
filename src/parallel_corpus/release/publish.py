"""Publish: a build folder in, `dist/vX.Y.Z/` as a Hugging Face dataset folder out.

A release is `README.md` (the card, with the YAML that `datasets` reads),
`data/<config>/<split>-00000-of-00001.parquet` (`records.parquet_name`),
`coverage.png`, `croissant.json` and `checksums.sha256`. It is written
beside its final place and renamed into it (`files.staging_dir`,
`files.place_new_dir`), so nobody sees half a release, and a version that
exists with other bytes is never overwritten.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import pyarrow.parquet as pq

from parallel_corpus.jsontext import loads
from parallel_corpus.release import card
from parallel_corpus.release import chart
from parallel_corpus.release import croissant
from parallel_corpus.corpus import Corpus
from parallel_corpus.files import disk_problem, disk_problems_as, exclusive, place_new_dir, sha256_file, staging_dir, write_lines_atomic
from parallel_corpus.records import CONFIGS, parquet_name
from parallel_corpus.release.diff import check_bump, diff_releases, parse_version, previous_release
from parallel_corpus.align.splits import RECORD_FILE, SPLIT_ORDER, SplitsFileError, moves, read_recorded, record_release
from parallel_corpus.errors import Error, Problem

CHECKSUMS = "checksums.sha256"
# Libraries whose versions decide the bytes of a release.
PINNED = ("pyarrow", "datasets", "langdetect")
# How long a release waits for another one to finish writing the registry.
REGISTRY_WAIT_SECONDS = 120


class PublishError(Error, RuntimeError):
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
            raise PublishError(Problem("not a release entry; restore it from git", str(path), str(row))) from None
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
    allow_skipped: bool = False,
    hub_repo: Optional[str] = None,
) -> PublishResult:
    """Write the release of `build_dir` as `dist_dir/vX.Y.Z`.

    A build that skipped raw files (other than duplicates, built once) is
    refused unless `allow_skipped`: a release without a document someone
    listed is rarely meant, and its version would be used up. With `release`, the tree must be committed,
    so that the commit the registry records rebuilds the release.

    `hub_repo` (what `--push` names) is the Hub dataset the card's Loading
    section points to, pinned to the release's tag; without it, `hub_repo` of
    dataset.yaml, else the release folder. A card is part of the release's
    bytes, so a version is published for one place to load it from."""
    corpus = Corpus(Path(corpus_dir))
    dataset = corpus.dataset()
    version = version or dataset["version"]
    try:
        parse_version(version)
    except ValueError as exc:
        raise PublishError(f"{exc}: give --version as X.Y.Z (or set version in corpus/dataset.yaml)") from None
    named = dataset.get("hub_repo")
    if hub_repo and named and hub_repo != named:
        raise PublishError(
            f"corpus/dataset.yaml names hub_repo {named}, and the card tells users to load the release from there: "
            f"push to {named}, or set hub_repo: {hub_repo} and publish a new version"
        )
    dataset = dataset | {"hub_repo": hub_repo or named}
    registry = Path(registry) if registry else corpus.path("releases.jsonl")
    build_dir = Path(build_dir)
    report_path = build_dir / "report.json"
    if not report_path.is_file():
        raise PublishError(f"{build_dir}: no build here: run `parallel-corpus build` first")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    # A duplicate is built once on purpose; any other skip lost a document.
    skipped = [s for s in report.get("skipped") or [] if s.get("reason") != "duplicate"]
    if skipped and not allow_skipped:
        raise PublishError(
            f"the build in {build_dir} skipped {len(skipped)} raw file(s), first {skipped[0].get('message', skipped[0])}: "
            f"fix them and build again, or pass --allow-skipped to publish without them"
        )
    if release:
        _refuse_dirty_tree(corpus.root)

    dist_dir = Path(dist_dir)
    target = dist_dir / f"v{version}"
    with disk_problems_as(lambda problem: PublishError(f"{dist_dir}: cannot write the release ({problem}); nothing was published or registered")):
        dist_dir.mkdir(parents=True, exist_ok=True)
        with exclusive(target, "publish"), _registry_lock(registry, release):
            return _publish_locked(corpus, dataset, version, registry, build_dir, report, dist_dir, target, release)


@contextmanager
def _registry_lock(registry: Path, release: bool) -> Iterator[None]:
    """Hold `.releases.jsonl.lock` while a release reads and extends the
    registry and the splits record: two releases at once would each write
    the registry they read and lose the other's line. A release waits for
    the other to finish; a local publish (which only reads) does not lock."""
    if not release:
        yield
        return
    from filelock import FileLock, Timeout

    lock_path = registry.with_name(f".{registry.name}.lock")
    lock = FileLock(str(lock_path), timeout=REGISTRY_WAIT_SECONDS)
    try:
        lock.acquire()
    except Timeout:
        raise PublishError(f"another release has held {lock_path} for {REGISTRY_WAIT_SECONDS} s: wait for it to finish, then run again") from None
    try:
        yield
    finally:
        lock.release()


def _refuse_dirty_tree(root: Path) -> None:
    """A registered release records HEAD; uncommitted changes would make
    that commit build something else. Outside git there is no commit to
    record, and nothing to refuse."""
    try:
        out = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=normal"],
                             capture_output=True, text=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return
    changed = [line[3:] for line in out.stdout.splitlines() if line.strip()]
    if changed:
        raise PublishError(
            f"{root}: {len(changed)} uncommitted change(s), first {changed[0]}: commit them first, "
            f"so that the commit the registry records rebuilds this release"
        )


def _publish_locked(corpus, dataset, version, registry, build_dir, report, dist_dir, target, release) -> PublishResult:
    with staging_dir(target) as staging:
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
        split_of = _split_of_documents(staging)
        _check_moves(corpus, registry, version, split_of)
        facts = card.facts(staging, release_meta, report)
        croissant.write(
            staging / "croissant.json", release_meta, release_files(staging),
            rai=card.responsible_ai(release_meta, facts), cite_as=card.bibtex(release_meta), license_text=card.licence_statement(release_meta),
        )
        files = release_files(staging)
        (staging / CHECKSUMS).write_text("".join(f"{h}  {name}\n" for name, h in files.items()), encoding="utf-8")

        registered = read_registry(registry).get(version)
        if registered is not None and registered["files"] != files:
            changed = sorted(n for n in set(files) | set(registered["files"]) if files.get(n) != registered["files"].get(n))
            raise PublishError(
                f"v{version} is registered in {registry} with other bytes ({', '.join(changed[:3])}"
                f"{' ...' if len(changed) > 3 else ''}){_card_only(changed)}: bump the version in corpus/dataset.yaml"
            )
        unchanged = False
        if target.exists():
            existing = release_files(target)
            if existing != files:
                changed = sorted(n for n in set(files) | set(existing) if files.get(n) != existing.get(n))
                raise PublishError(f"{target} exists with other content{_card_only(changed)}: a published version is never overwritten; bump the version in corpus/dataset.yaml")
            unchanged = True
        else:
            place_new_dir(staging, target)
        if release and registered is None:
            try:
                # The splits first: the registry line is what says "released",
                # and recording the same splits again is harmless.
                record_release(corpus.path(RECORD_FILE), version, split_of)
                _register(registry, version, files, corpus.root)
            except OSError as exc:
                problem = disk_problem(exc)
                if problem is None:
                    raise
                # The release is in place; the same bytes register on a second run.
                raise PublishError(f"{registry}: cannot register v{version} ({problem}); {target} is written: run `publish --release` again once it is writable") from None
        return PublishResult(version, target, files, unchanged, int(report.get("num_skipped", 0)), release or registered is not None)


def _card_only(changed: list[str]) -> str:
    """Why a release differs when only its card does: most often it was
    published for another place to load it from (with or without --push)."""
    if set(changed) <= {"README.md", "croissant.json", CHECKSUMS}:
        return " (only the card: it names another place to load the release from, so publish with the --push or hub_repo it was published with)"
    return ""


def _split_of_documents(release: Path) -> dict[str, str]:
    """Document id -> split, as a release folder holds them."""
    out: dict[str, str] = {}
    for path in sorted((release / "data" / "documents").glob("*.parquet")):
        table = pq.read_table(path, columns=["id", "split"])
        out.update(zip(table.column("id").to_pylist(), table.column("split").to_pylist()))
    return out


def _check_moves(corpus: Corpus, registry: Path, version: str, split_of: dict[str, str]) -> None:
    """A released document in another split breaks what training code was
    promised: refused unless the version is a major step past every
    registered release."""
    try:
        recorded = read_recorded(corpus.path(RECORD_FILE))
    except SplitsFileError as exc:
        raise PublishError(str(exc)) from None
    moved = moves(split_of, recorded)
    if not moved:
        return
    newest = max((parse_version(v) for v in read_registry(registry)), default=None)
    if newest is not None and parse_version(version)[0] <= newest[0]:
        raise PublishError(
            f"{len(moved)} released document(s) change split (first {moved[0]}; `report.json` lists them under split_moves): "
            f"v{version} must be a major step past v{'.'.join(map(str, newest))}; set the version in corpus/dataset.yaml"
        )


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
            src = build_dir / "data" / config / parquet_name(split)
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
    chart.coverage_png(staging / card.COVERAGE_CHART, topics, card.document_languages(dataset, report))
    (staging / "README.md").write_text(card.render(dataset, splits, report, staging, template, changelog), encoding="utf-8")
    return splits


def _register(registry: Path, version: str, files: dict[str, str], corpus_root: Path) -> None:
    entry = {
        "version": version,
        "commit": git_commit(corpus_root),
        "libraries": library_versions(),
        "files": files,
    }
    existing = registry.read_text(encoding="utf-8").splitlines(keepends=True) if registry.exists() else []
    if existing and not existing[-1].endswith("\n"):
        existing[-1] += "\n"
    write_lines_atomic(registry, [*existing, json.dumps(entry, sort_keys=True) + "\n"])

