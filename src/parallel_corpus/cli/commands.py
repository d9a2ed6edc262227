"""`parallel-corpus`: the command line over the library.

Each command parses options and calls one library function; a refusal of
the library becomes one line and exit 1 (`cli.group`). No logic lives here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

from parallel_corpus.engine.memory import choose_arrow_allocator

# Before anything imports pyarrow: Arrow reads its allocator choice once.
choose_arrow_allocator()

import click  # noqa: E402

from parallel_corpus import __version__  # noqa: E402
from parallel_corpus.cli.group import EXIT_INVALID, Group, fail as _fail  # noqa: E402
from parallel_corpus.errors import Error  # noqa: E402


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="parallel-corpus")
def main() -> None:
    """Build, annotate, validate and publish a topic-aligned multilingual news corpus.

    \b
    Typical run:
      parallel-corpus build            # corpus/ -> build/ (Parquet, report.json, report.html)
      parallel-corpus publish          # build/ -> dist/vX.Y.Z/ (Hugging Face folder)
      parallel-corpus validate         # check corpus, annotations and releases
    """


def _echo_entry(d: dict[str, Any]) -> None:
    """One line per document, as report.json gets its entry."""
    removed = ", ".join(f"{k} {v}" for k, v in d["removed_by_reason"].items()) or "none"
    flags = f"  flags: {', '.join(d['flags'])}" if d["flags"] else ""
    click.echo(f"{d['id']}  {d['language_flores']} p={d['probability']:.3f}  blocks {d['blocks_kept']}  removed: {removed}  topic {d.get('topic_id')}/{d.get('event_id')}  {d.get('split')}{flags}")


@main.command()
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("corpus"), show_default=True, help="Corpus folder: raw/, sources.jsonl, dataset.yaml and the curated YAML.")
@click.option("--annotations", "annotations_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("annotations"), show_default=True, help="Normalized human annotations; they win over the pipeline.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("build"), show_default=True, help="Where the configs' Parquet, report.json and the audit page report.html go (replaced whole).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes for the per-document stages.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="Run per-document stages here or on Ray actors (the `distributed` extra, which `make venv` installs).")
@click.option("--ray-address", metavar="ADDRESS", default=None, help="With --engine ray: an existing cluster, HOST:6379 from one of its nodes or ray://HOST:10001 from elsewhere (default: start a local Ray; RAY_ADDRESS is not read).")
@click.option("--strict", is_flag=True, help="Exit 1, writing nothing, if any raw file is skipped.")
@click.option("--quiet", "-q", is_flag=True, help="No per-document summary.")
@click.option("--no-audit-page", "no_audit_page", is_flag=True, help="Skip OUT/report.html and OUT/report/ (about 15 kB of HTML per document).")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path, file_okay=False), default=None, envvar="PARALLEL_CORPUS_CACHE", help="Folder of per-document results kept between builds, so a rebuild runs the stages only on new or changed documents (default: $PARALLEL_CORPUS_CACHE, else $XDG_CACHE_HOME/parallel-corpus or ~/.cache/parallel-corpus).")
@click.option("--no-cache", "no_cache", is_flag=True, envvar="PARALLEL_CORPUS_NO_CACHE", help="Neither read nor write the cache (also PARALLEL_CORPUS_NO_CACHE=1, which an explicit --cache overrides).")
@click.option("--cache-limit", "cache_limit_mb", type=click.IntRange(min=1), default=4096, show_default=True, help="Megabytes the cache may hold; past it the least recently used entries go.")
def build(
    corpus_dir: Path, annotations_dir: Path, out_dir: Path, workers: int, engine: str, ray_address: Optional[str], strict: bool, quiet: bool, no_audit_page: bool,
    cache_dir: Optional[Path], no_cache: bool, cache_limit_mb: int,
) -> None:
    """Clean, tag, align and split the corpus into the configs' Parquet.

    Prints one line per document (language, probability, blocks kept, lines
    removed by reason) and writes the same to OUT/report.json. Unreadable raw
    files are skipped, named, and counted; --strict makes that fatal.
    A rebuild reuses the cache's results for documents whose bytes, source
    line and curated rules are unchanged (docs/benchmarks.md).
    """
    from tqdm import tqdm

    from parallel_corpus.engine.build import build as run_build
    from parallel_corpus.engine.cache import default_dir
    from parallel_corpus.engine.memory import arrow_returns_pages

    if ray_address and engine != "ray":
        _fail("--ray-address goes with --engine ray")
    ctx = click.get_current_context()
    explicit = ctx.get_parameter_source("cache_dir") == click.core.ParameterSource.COMMANDLINE
    if no_cache and not (explicit and ctx.get_parameter_source("no_cache") == click.core.ParameterSource.ENVIRONMENT):
        cache_dir = None
    else:
        cache_dir = cache_dir or default_dir()
        if cache_dir is None:
            click.echo("note: no home folder for the build cache ($XDG_CACHE_HOME and $HOME unset): building without it (give --cache DIR to keep one)", err=True)

    arrow_returns_pages()

    def set_total(n: int) -> None:
        bar.total = n
        bar.refresh()

    with tqdm(total=None, unit="doc", desc="build", file=sys.stderr, disable=None, leave=False) as bar:
        report = run_build(
            corpus_dir, out_dir, annotations_dir, workers, engine, ray_address, strict,
            progress=bar.update, total=set_total,
            on_entry=None if quiet else _echo_entry, audit_page=not no_audit_page,
            cache=cache_dir, cache_limit_bytes=cache_limit_mb * 1024 * 1024,
        )
    summary = report.summary()
    click.echo(
        f"built {summary['num_documents']} documents ({', '.join(f'{k} {v}' for k, v in summary['languages'].items())}), "
        f"{len(summary['topics'])} topics, skipped {summary['num_skipped']}; report: {out_dir / 'report.json'}"
        + ("" if no_audit_page else f", audit page: {out_dir / 'report.html'}")
    )


@main.command()
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("corpus"), show_default=True, help="Corpus folder the build was made from: its dataset.yaml names the version and its registry records the release.")
@click.option("--build", "build_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("build"), show_default=True, help="The build to publish.")
@click.option("--dist", "dist_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("dist"), show_default=True, help="Releases go to DIST/vX.Y.Z/.")
@click.option("--version", "version", default=None, help="Release version (default: corpus/dataset.yaml).")
@click.option("--registry", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Release registry (default: CORPUS/releases.jsonl).")
@click.option("--release", is_flag=True, help="Record the release's checksums, commit and library versions in the registry, and its documents' splits in CORPUS/splits.jsonl (the tree must be committed).")
@click.option("--allow-skipped", is_flag=True, help="Publish a build that skipped raw files (refused by default).")
@click.option("--push", "push_to", metavar="ORG/NAME", default=None, help="Upload the release to this Hub dataset and tag it vX.Y.Z (token from HF_TOKEN or `hf auth login`).")
@click.option("--public", is_flag=True, help="With --push: create the Hub repository public (it is private by default: check each outlet's terms first).")
@click.option("--dry-run", is_flag=True, help="With --push: list what would be sent, send nothing.")
def publish(corpus_dir: Path, build_dir: Path, dist_dir: Path, version: Optional[str], registry: Optional[Path], release: bool, allow_skipped: bool, push_to: Optional[str], public: bool, dry_run: bool) -> None:
    """Write DIST/vX.Y.Z/ as a Hugging Face dataset folder (card, Parquet,
    croissant.json, checksums).

    A version that exists, in DIST or in the registry, with other bytes is
    refused, and so is a version step that does not fit the change since the
    previous release in DIST (a removed or retyped column, or a released
    document in another split, needs a major bump; a new column or new
    documents a minor one): bump the version in corpus/dataset.yaml.

    With --release, every document's split is recorded in
    CORPUS/splits.jsonl, and later builds keep each released document in
    its split: commit that file with the registry.
    """
    from parallel_corpus.release.hub import plan_push, push
    from parallel_corpus.release.publish import publish as run_publish

    if (dry_run or public) and not push_to:
        _fail(f"{'--dry-run' if dry_run else '--public'} goes with --push ORG/NAME")
    result = run_publish(corpus_dir, build_dir, dist_dir, version, registry, release, allow_skipped, hub_repo=push_to)
    state = "unchanged (identical bytes already published)" if result.unchanged else "written"
    click.echo(f"v{result.version}: {result.path} {state}; {len(result.files)} files; {result.skipped_documents} raw file(s) skipped in the build")
    if release:
        click.echo(f"registered v{result.version} in {registry or corpus_dir / 'releases.jsonl'}")
    if push_to:
        plan = plan_push(result.path, push_to, private=not public)
        if dry_run:
            for line in plan.describe():
                click.echo(line)
        else:
            click.echo(f"pushed {plan.tag} to {push_to}: {push(plan)}")
    click.echo(f'load it with: datasets.load_dataset("{result.path}", "documents")')


@main.command()
@click.argument("old")
@click.argument("new")
@click.option("--dist", "dist_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("dist"), show_default=True, help="Where versions named as vX.Y.Z are looked up.")
@click.option("--json", "as_json", is_flag=True, help="Print the difference as JSON.")
def diff(old: str, new: str, dist_dir: Path, as_json: bool) -> None:
    """What changed from release OLD to release NEW (versions such as v0.1.0,
    looked up in DIST, or paths): documents added, removed and changed,
    human labels changed, documents that changed split, configs and columns
    added, removed or retyped, and the version bump that needs."""
    from parallel_corpus.release.diff import diff_releases

    def folder(name: str) -> Path:
        path = Path(name)
        if path.is_dir():
            return path
        path = dist_dir / ("v" + name.lstrip("v"))
        if not path.is_dir():
            _fail(f"{name}: no such release folder (looked in {dist_dir})")
        return path

    result = diff_releases(folder(old), folder(new))
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        click.echo(result.markdown(limit=1000))
        click.echo(f"\nneeds at least a {result.required_bump()} bump" if result.required_bump() else "")


@main.command()
@click.argument("targets", nargs=-1, required=True, metavar="DOC...")
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("corpus"), show_default=True, help="Corpus whose rules, and whose recurring segments, clean the documents.")
@click.option("--language", default=None, help="ISO 639-1 code to read dates with (default: the source's declared language).")
@click.option("--removed-only", is_flag=True, help="Show removed lines only.")
def explain(targets: tuple[str, ...], corpus_dir: Path, language: Optional[str], removed_only: bool) -> None:
    """Show what cleaning keeps and removes in each DOC, line by line: the
    block type of a kept line, the reason code and score of a removed one.

    DOC is a source id or raw/ file of the corpus, or the path of any UTF-8
    text file. A dry run: nothing is written.

    \b
    Example:
      parallel-corpus explain 003_fd1355c3401903b1
      parallel-corpus explain article.txt --language sw
    """
    from parallel_corpus.corpus import load_yaml
    from parallel_corpus.stages.document import Stages, explain_document

    try:
        seed = int((load_yaml(corpus_dir / "dataset.yaml") or {}).get("seed", 0))
        stages = Stages.load(corpus_dir, seed)
        for target in targets:
            name, lang, decisions = explain_document(stages, target, language)
            click.echo(f"== {name} ({lang or 'language not declared'})")
            for d in decisions:
                if d.kept and not removed_only:
                    click.echo(f"{d.line:5d}  kept     {d.block_type:<16} {d.text}")
                elif not d.kept:
                    score = "" if d.score is None else f" {d.score:g}"
                    click.echo(f"{d.line:5d}  removed  {d.reason + score:<16} {d.text}")
    except Error:
        raise  # the group's one line
    except (OSError, ValueError) as exc:
        _fail(str(exc))


@main.command("evaluate-alignment")
@click.option("--gold", type=click.Path(path_type=Path, dir_okay=False, exists=True), required=True, help="Gold grouping: JSON {doc_id: group} or TSV doc_id<TAB>group.")
@click.option("--build", "build_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("build"), show_default=True, help="Build whose documents' topic_id is scored.")
def evaluate_alignment(gold: Path, build_dir: Path) -> None:
    """Score the build's topic grouping against a gold grouping: pairwise
    precision, recall and F1, and B-cubed, over the documents both name."""
    import pyarrow.parquet as pq

    from parallel_corpus.align.evaluate import evaluate_alignment as score, read_gold

    files = sorted((build_dir / "data" / "documents").glob("*.parquet"))
    if not files:
        _fail(f"{build_dir}: no built documents: run `parallel-corpus build` first")
    predicted = {}
    for f in files:
        t = pq.read_table(f, columns=["id", "topic_id"])
        predicted.update(zip(t.column("id").to_pylist(), t.column("topic_id").to_pylist()))
    try:
        gold_map = read_gold(gold)
    except (ValueError, OSError) as exc:
        _fail(f"{gold}: {exc}")
    result = score(predicted, gold_map)
    click.echo(json.dumps(result, indent=2, sort_keys=True))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option("--kind", type=click.Choice(["release", "corpus", "annotations", "schemas", "dist"]), default=None,
              help="Check every PATH as this kind only (dist: a folder of releases vX.Y.Z/). Without it, a folder is "
                   "checked as every kind it looks like, so an extra file can add checks but never skip one.")
@click.option("--registry", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Release registry to verify releases against.")
def validate(paths: tuple[Path, ...], kind: Optional[str], registry: Optional[Path]) -> None:
    """Check corpus folders, annotations and releases against schemas/.

    With no PATH, checks this repository: schemas/, corpus/, annotations/ and
    every dist/v*/. Prints `file:row:field: message` for every violation and
    exits 1 if there is any.

    \b
    A release is read as untrusted input: links are named and never followed,
    nothing outside the folder is opened, and every row is checked:
      parallel-corpus validate --kind release path/to/v1.2.0
    """
    from parallel_corpus.release.validate import validate_paths

    if kind and not paths:
        _fail("--kind goes with the PATH(s) to check")
    violations = validate_paths(paths, registry, kind)
    for v in violations:
        click.echo(str(v))
    if violations:
        click.echo(f"{len(violations)} violation(s)", err=True)
        sys.exit(EXIT_INVALID)
    click.echo("valid", err=True)


from parallel_corpus.cli.add import add  # noqa: E402
from parallel_corpus.cli.annotate import annotate  # noqa: E402  (the group needs `main` defined first only for registration)

main.add_command(add)
main.add_command(annotate)
