"""`parallel-corpus annotate push|pull|import`: the Label Studio round trip.

push reads the built Parquet (`<build>/data/documents|pairs/*.parquet`) and sends tasks
with predictions (topic and event choices from corpus/topics.yaml); pull exports each
project once and merges normalized records into `annotations/`; import does the same
from an export file, or only checks it; topics lists what a curator must resolve.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import click

from parallel_corpus.annotate import labelstudio as ls
from parallel_corpus.cli.group import Group
from parallel_corpus.annotate.controls import KINDS
from parallel_corpus.annotate.exports import check_export, prepare_import, records_from_export_payload
from parallel_corpus.annotate.store import AnnotationError, StoreResult, store, validate_records


def read_rows(build_dir: Path, config: str) -> list[dict[str, Any]]:
    """All rows of one built config, in file order; one error line when the build is missing."""
    import pyarrow.parquet as pq

    folder = Path(build_dir) / "data" / config
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise AnnotationError(f"{folder}: no *.parquet files: run parallel-corpus build first (or pass --build)")
    rows: list[dict[str, Any]] = []
    for path in files:
        try:
            rows.extend(pq.read_table(path).to_pylist())
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise AnnotationError(f"{path}: unreadable Parquet: {exc}") from exc
    return rows


def current_documents(build_dir: Path, required: bool) -> Optional[dict[str, dict[str, Any]]]:
    """id -> {text, text_sha256} of the build, to check annotations against; None if absent and optional."""
    try:
        rows = read_rows(build_dir, "documents")
    except AnnotationError:
        if required:
            raise
        return None
    return {r["id"]: {"text": r["text"], "text_sha256": r["text_sha256"]} for r in rows}


@click.group("annotate", cls=Group)
def annotate() -> None:
    """Round-trip annotations through Label Studio (LABEL_STUDIO_URL, LABEL_STUDIO_API_KEY).

    \b
      scripts/labelstudio start                     # prints the two export lines
      parallel-corpus annotate push --kind documents
      parallel-corpus annotate pull                 # -> annotations/*.jsonl
      parallel-corpus annotate import export.json --check
      parallel-corpus annotate topics               # proposals and unknown ids
    """


@annotate.command("push")
@click.option("--kind", type=click.Choice(KINDS), required=True, help="Which tasks to push.")
@click.option("--build", "build_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("build"), show_default=True, help="Output folder of parallel-corpus build.")
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("corpus"), show_default=True, help="Corpus folder whose topics.yaml gives the topic and event choices of documents tasks.")
@click.option("--project", "title", default=None, help="Project title [default: 'parallel-corpus <kind>'].")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True, help="Tasks per import call.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar (the summary line is still printed).")
def push_cmd(kind: str, build_dir: Path, corpus_dir: Path, title: Optional[str], batch_size: int, quiet: bool) -> None:
    """Send documents or pairs as tasks, with the pipeline's guesses as predictions.

    Documents tasks offer the catalog's topics and events (CORPUS/topics.yaml) as
    choices, the pipeline's guess pre-selected. Pushing again adds only new tasks
    (keyed by id and text_sha256) and gives the tasks already there the catalog's
    current choices; a document whose text changed gets a new task and its old one
    is marked outdated in its meta. A progress bar goes to stderr (not with -q).
    """
    from tqdm import tqdm

    from parallel_corpus.align.catalog import load_catalog

    documents = read_rows(build_dir, "documents")
    if kind == "documents":
        tasks = ls.tasks_from_documents(documents, load_catalog(corpus_dir))
    else:
        tasks = ls.tasks_from_pairs(read_rows(build_dir, "pairs"), documents)
    conn = ls.connect()
    project_id = ls.ensure_project(conn, kind, title)

    with tqdm(total=None, unit="task", desc=f"push {kind}", file=sys.stderr, disable=True if quiet else None, leave=False) as bar:
        def set_total(n: int) -> None:
            bar.total = n
            bar.refresh()

        result = ls.push(conn, project_id, tasks, batch_size=batch_size, progress=bar.update, total=set_total)
    click.echo(
        f"{kind}: {result.added} new task(s) pushed to project {title or ls.PROJECT_TITLES[kind]!r} (id {project_id}) at {conn.url}; "
        f"{result.already_there} already there ({result.refreshed} given the catalog's current choices); "
        f"{result.outdated} old task(s) marked outdated ({result.seconds} s)"
    )


@annotate.command("pull")
@click.option("--annotations", "annotations_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("annotations"), show_default=True, help="The annotation store the projects' annotations are merged into.")
@click.option("--build", "build_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("build"), show_default=True, help="Build to check text hashes against (skipped with a note if absent).")
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Pull this kind's project only [default: every kind's].")
@click.option("--project", "title", default=None, help="Project title, as in push; names one kind's project, so it goes with --kind [default: 'parallel-corpus <kind>'].")
def pull_cmd(annotations_dir: Path, build_dir: Path, kind: Optional[str], title: Optional[str]) -> None:
    """Export each project once and merge its annotations into ANNOTATIONS/<kind>.jsonl.

    Nothing is written unless every export succeeded; a re-pull changes nothing.
    A project under its default title that is not there is noted and passed
    over; one named with --project must be there.
    """
    if title is not None and kind is None:
        old, _, rest = title.partition("=")
        hint = f"--kind {old} --project {rest!r}" if old in KINDS and rest else "--kind KIND --project TITLE"
        raise AnnotationError(f"--project {title!r} names one kind's project: give {hint} (as in push)")
    documents = current_documents(build_dir, required=False)
    conn = ls.connect()
    emails = ls.annotator_emails(conn)
    pending = []
    for each in [kind] if kind is not None else KINDS:
        project_title = title or ls.PROJECT_TITLES[each]
        project_id = ls.find_project(conn, project_title)
        if project_id is None:
            if title is not None:
                raise AnnotationError(f"no project {title!r} at {conn.url}: check the title that annotate push printed; nothing pulled")
            click.echo(f"{each}: no project {project_title!r} at {conn.url}; nothing to pull", err=True)
            continue
        payload = ls.with_annotator_emails(ls.export(conn, project_id, "JSON"), emails)
        pending.append((each, records_from_export_payload(payload, each, "labelstudio-pull", documents)))
    for each, normalized in pending:  # all checks before the first write: no partial output
        validate_records(normalized.records, f"{each} export")
    results = [store(annotations_dir, each, normalized) for each, normalized in pending]
    if documents is None:
        click.echo(f"note: {build_dir}/data/documents not found: text hashes were not checked against a build", err=True)
    for r in results:
        _report(r)


def _report(r: StoreResult, source: Optional[Path] = None) -> None:
    c, s = r.counts, r.span_counts
    for q in r.quarantine:  # what was not merged, named, so nobody has to dig in quarantine.jsonl
        item = q.get("pair_id") or q.get("document_id")
        click.echo(
            f"quarantined: {source or r.kind}: task {q.get('task_id')} annotation {q.get('annotation_id')}"
            f"{f' ({item})' if item else ''}: {q.get('reason')}: correct it in Label Studio and pull or import again",
            err=True,
        )
    click.echo(
        f"{r.kind}: {c['added']} added, {c['updated']} updated, {c['unchanged']} unchanged -> {r.path}; "
        f"spans {s['verified']} verified, {s['realigned']} realigned; {r.quarantined} quarantined -> {r.quarantine_path}"
    )


@annotate.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--check", is_flag=True, help="Only verify every span against the export's own task text; merge nothing, no corpus needed.")
@click.option("--annotations", "annotations_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("annotations"), show_default=True, help="The annotation store the export is merged into.")
@click.option("--build", "build_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("build"), show_default=True, help="Build whose documents' text hashes the annotations are checked against (required).")
def import_cmd(files: tuple[Path, ...], check: bool, annotations_dir: Path, build_dir: Path) -> None:
    """Merge Label Studio export FILE(s) (JSON, JSON-MIN or 0.x completions) into ANNOTATIONS.

    A plain import needs the build (text hashes are checked) and refuses an export of
    another project or label config. With --check, prints verified / realigned /
    quarantined span counts per file and exits 1 if any span was quarantined.
    """
    if check:
        _check_files(files)
        return
    documents = current_documents(build_dir, required=True)
    prepared = [prepare_import(path, annotations_dir, documents) for path in files]  # all checks before the first write
    results = [store(annotations_dir, kind, normalized) for kind, normalized in prepared]
    for path, r in zip(files, results):
        _report(r, path)


def _check_files(files: tuple[Path, ...]) -> None:
    bad = 0
    for path in files:
        r = check_export(path)
        bad += r["quarantined"]
        click.echo(
            f"{path}: {r['format']}, {r['tasks']} task(s), {r['annotations']} annotation(s): "
            f"{r['verified']} verified, {r['realigned']} realigned, {r['quarantined']} quarantined"
            + (f" ({'; '.join(r['reasons'][:3])})" if r["reasons"] else "")
        )
    if bad:
        sys.exit(1)


@annotate.command("topics")
@click.option("--annotations", "annotations_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("annotations"), show_default=True, help="The annotation store to review.")
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("corpus"), show_default=True, help="Corpus folder whose topics.yaml is the catalog the ids are checked against.")
def topics_cmd(annotations_dir: Path, corpus_dir: Path) -> None:
    """List what a curator must resolve in the topics the annotations chose.

    For each document's latest completed annotation (the one a build applies):
    a proposal of a new topic or event ("other" in Label Studio) with its comment,
    and an id the catalog lacks, which the build refuses. Exits 1 if any id is unknown.
    """
    from parallel_corpus.align.catalog import load_catalog
    from parallel_corpus.annotate.overrides import review_topics

    proposals, problems = review_topics(annotations_dir, load_catalog(corpus_dir))
    for line in proposals:
        click.echo(f"proposal: {line}")
    for problem in problems:
        click.echo(f"unknown: {problem}")
    click.echo(f"{len(proposals)} proposal(s) of a new topic or event; {len(problems)} unknown id(s) the build refuses")
    if problems:
        sys.exit(1)
