"""The dataset card: `DATASET_CARD.md` (prose kept in the repo) rendered with
YAML front matter and statistics into a release's `README.md`.

The YAML is what the Hub and `datasets.load_dataset` read (configs, features,
splits); it is derived from `schemas/` and the Parquet files, never typed by
hand. Every figure in the card is computed from the release's own data, and
nothing depends on the current time, so a card is as reproducible as the data.
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Optional

import pyarrow.parquet as pq
import yaml

from parallel_corpus import schema
from parallel_corpus.records import CONFIGS, REMOVAL_REASONS, parquet_name
from parallel_corpus.align.splits import SPLIT_ORDER
from parallel_corpus._fast.yamlfast import safe_load

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
CARD_TEMPLATE_NAME = "DATASET_CARD.md"
CHANGELOG_HEADING = "## Changelog"
COVERAGE_CHART = "coverage.png"

_FALLBACK_TEMPLATE = """# {{pretty_name}}

{{description}}

## Loading

{{load_snippets}}

## Statistics

{{statistics}}

## Cleaning

{{cleaning}}

## Topics

{{topics}}

## Annotations

{{annotations}}

## Changelog

{{changelog}}
"""


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def document_languages(dataset: dict[str, Any], report: dict[str, Any]) -> list[str]:
    """The card's `language`: the dataset's languages, then any other its
    documents are in (an article in a language the corpus did not plan for
    is still in the data, and `validate` holds rows to this list)."""
    found = {lang for t in report.get("topics", []) for lang in t.get("languages", {})}
    return [*dataset["languages"], *sorted(found - set(dataset["languages"]))]


# The card's keys in the order the card has always written them (the Hub's
# own writers sort the configs by name and put `pretty_name` late).
_FRONT_MATTER_ORDER = [
    "pretty_name", "language", "license", "multilinguality", "size_categories", "source_datasets",
    "task_categories", "task_ids", "tags", "configs", "dataset_info",
]


def front_matter(dataset: dict[str, Any], splits: dict[str, dict[str, dict[str, int]]], languages: Optional[list[str]] = None) -> dict[str, Any]:
    """The card's YAML as the Hub reads it: `huggingface_hub.DatasetCardData`
    holds the metadata, and `datasets` writes each config's `dataset_info`
    (features and splits) as `push_to_hub` does, through the public
    `DatasetInfosDict.to_dataset_card_data`, so their YAML forms have one
    home: the libraries that read them back. Configs in publishing order,
    `documents` first, the default."""
    from datasets.info import DatasetInfo, DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from huggingface_hub import DatasetCardData

    present = {config: [s for s in SPLIT_ORDER if s in splits[config]] for config in CONFIGS if config in splits}
    configs = [
        {
            "config_name": config,
            "data_files": [{"split": s, "path": f"data/{config}/{parquet_name(s)}"} for s in names],
            **({"default": True} if config == "documents" else {}),
        }
        for config, names in present.items()
    ]
    num_docs = sum(v["num_examples"] for v in splits["documents"].values())
    card = DatasetCardData(
        pretty_name=dataset["pretty_name"],
        language=list(languages if languages is not None else dataset["languages"]),
        license=dataset["license"],
        multilinguality="multilingual",
        size_categories=[_size_category(num_docs)],
        source_datasets=["original"],
        task_categories=["translation", "text-classification", "token-classification", "sentence-similarity"],
        task_ids=["named-entity-recognition", "topic-classification"],
        tags=["parallel-corpus", "comparable-corpus", "news", "label-studio"],
        configs=configs,
    )
    infos = DatasetInfosDict({
        config: DatasetInfo(
            features=schema.features(config),
            splits=SplitDict({s: SplitInfo(name=s, num_bytes=splits[config][s]["num_bytes"], num_examples=splits[config][s]["num_examples"]) for s in names}),
            dataset_size=sum(splits[config][s]["num_bytes"] for s in names),
        )
        for config, names in present.items()
    })
    infos.to_dataset_card_data(card)
    written = card["dataset_info"]
    # One config is written as a mapping, several as a list sorted by name.
    by_name = {info["config_name"]: info for info in ([written] if isinstance(written, dict) else written)}
    card["dataset_info"] = [{"config_name": config, **{k: v for k, v in by_name[config].items() if k != "config_name"}} for config in present]
    data = card.to_dict()
    return {key: data.get(key) for key in _FRONT_MATTER_ORDER}  # a None dropped by to_dict is written as null, as before


# What a person typed (an annotator's topic id, a title, a file name) is
# shown as text: HTML is escaped, and so is every character Markdown would
# read as structure: a table's pipe, a code span's backtick, a link's
# brackets, emphasis, a line break that would end the table row.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]|]")
# A plain identifier is shown in a code span, as it always was.
_PLAIN_ID = re.compile(r"[\w.:/@+-]+")


def escape_text(value: Any) -> str:
    """`value` as inert Markdown and HTML text, on one line (`html.escape`,
    Markdown's punctuation escaped, line breaks as spaces)."""
    flat = " ".join(str(value).split())
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), html.escape(flat, quote=False))


def escape_code(value: Any) -> str:
    """An identifier in a code span; one that a code span cannot hold as it is
    (a backtick, a pipe, markup) as escaped text instead."""
    value = str(value)
    return f"`{value}`" if _PLAIN_ID.fullmatch(value) else escape_text(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _statistics(release: Path, dataset: dict[str, Any]) -> str:
    files = sorted((release / "data" / "documents").glob("*.parquet"))
    per_lang: dict[str, Counter] = defaultdict(Counter)
    inherited = Counter()
    blocks_total = Counter()
    for f in files:
        t = pq.read_table(f, columns=["language", "language_flores", "text", "blocks", "split"])
        for lang, flores, text, blocks, split in zip(*(t.column(c).to_pylist() for c in ("language", "language_flores", "text", "blocks", "split"))):
            key = f"{escape_text(lang)} ({escape_text(flores)})"
            per_lang[key]["documents"] += 1
            per_lang[key]["characters"] += len(text)
            per_lang[key]["tokens"] += len(text.split())
            per_lang[key][split] += 1
            for b in blocks:
                blocks_total[key] += 1
                inherited[key] += b["language_inherited"]
    rows = [[k, c["documents"], c["characters"], c["tokens"], *(c[s] for s in SPLIT_ORDER), f"{inherited[k]}/{blocks_total[k]}"] for k, c in sorted(per_lang.items())]
    total = Counter()
    for c in per_lang.values():
        total.update(c)
    rows.append(["**all**", total["documents"], total["characters"], total["tokens"], *(total[s] for s in SPLIT_ORDER), f"{sum(inherited.values())}/{sum(blocks_total.values())}"])
    return _table(["language", "documents", "characters", "whitespace tokens", *SPLIT_ORDER, "blocks inheriting the document's language"], rows)


def _cleaning(report: dict[str, Any]) -> str:
    """Every reason code of the registry, what it removes, and how many
    lines (or pieces of lines) this release lost to it."""
    removed = report.get("removed_lines_by_reason", {})
    known = list(REMOVAL_REASONS)
    order = sorted(set(known) | set(removed), key=lambda r: (-removed.get(r, 0), known.index(r) if r in known else len(known), r))
    rows = [[f"`{reason}`", REMOVAL_REASONS.get(reason, ""), removed.get(reason, 0)] for reason in order]
    text = _table(["reason", "what it removes", "removed"], rows)
    skipped = report.get("skipped", [])
    if skipped:
        text += f"\n\n{len(skipped)} raw file(s) were not built:\n\n" + "\n".join(f"- {escape_code(s['file'])}: {escape_text(s['reason'])}" for s in skipped)
    return text


def _topics(report: dict[str, Any], dataset: dict[str, Any]) -> str:
    topics = report.get("topics", [])
    if not topics:
        return "No topic."
    languages = list(dataset["languages"])
    extra = sorted({l for t in topics for l in t["languages"]} - set(languages))
    cols = languages + extra
    rows = [[escape_code(t["topic_id"]), escape_text(t["title"] or ""), escape_text(t["topic_source"]), escape_text(t["split"]), *(t["languages"].get(l, 0) for l in cols)] for t in topics]
    out = _table(["topic", "title", "source", "split", *map(escape_text, cols)], rows)
    used = {t["split"] for t in topics}
    wanted = [s for s in SPLIT_ORDER if dataset["splits"].get(s, 0) > 0]
    if len(used) < len(wanted):
        out += (
            f"\n\nWith {len(topics)} topic(s) and {len(wanted)} requested splits, every topic is in "
            f"{', '.join(sorted(used))}: splits are by topic, so a split is only made when there are topics to fill it."
        )
    return out


def _annotations(report: dict[str, Any]) -> str:
    """Counts of human annotations and the agreement between annotators."""
    ann = report.get("annotations") or {}
    if not ann:
        return "No human annotation is merged into this release yet: every label is the pipeline's."
    lines = [
        f"{ann['records']} human annotation(s); {ann['documents_with_human_labels']} document(s) carry human labels "
        f"and {ann['pairs_rated']} pair(s) human ratings.",
        "",
        _table(["kind/status", "annotations"], [[escape_text(k), v] for k, v in ann["by_kind_and_status"].items()]),
    ]
    if ann.get("stale_annotations"):
        lines += ["", f"Not applied, because the text changed since it was annotated: {', '.join(escape_code(d) for d in ann['stale_annotations'])}."]
    agreement = ann.get("agreement") or {}

    def fmt(v: Any) -> str:
        return "n/a (fewer than two annotators on any item)" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    rows = [[f"documents: {k}", fmt(v)] for k, v in (agreement.get("documents") or {}).items()]
    rows += [[f"pairs: {k}", fmt(v)] for k, v in (agreement.get("pairs") or {}).items()]
    if rows:
        lines += ["", "Agreement between annotators (Krippendorff's alpha; nominal for language, topic and event, interval for ratings; mean pairwise exact-match F1 for entity spans):", "", _table(["measure", "value"], rows)]
    return "\n".join(lines)


def _gazetteer(report: dict[str, Any]) -> str:
    g = report.get("gazetteer") or {}
    if not g:
        return "No gazetteer: documents carry no entity QIDs."
    return (
        f"The gazetteer names {g['entities']} entities; {g['unverified_qids']} of their Wikidata QIDs are "
        f"unverified (typed from memory, not yet checked against Wikidata), so treat those QIDs as likely, not certain."
    )


def _load_snippets(dataset: dict[str, Any], splits: dict[str, Any]) -> str:
    version = dataset["version"]
    lines = ["```python", "from datasets import load_dataset", ""]
    for config in splits:
        lines.append(f'{config} = load_dataset("dist/v{version}", "{config}", split="train")')
    lines += ["", "# from the Hub, pinned to this release:", f'# load_dataset("ORG/{dataset["name"]}", "documents", revision="v{version}")', "```"]
    return "\n".join(lines)


def _schema_table(config: str) -> str:
    props = schema.load_schema(config)["properties"]
    rows = [[f"`{name}`", f"`{schema.arrow_type(p)}`", (p.get("description") or "").replace("|", "\\|")] for name, p in props.items()]
    return _table(["column", "type", "meaning"], rows)


def render(dataset: dict[str, Any], splits: dict[str, Any], report: dict[str, Any], release: Path, template_path: Optional[Path] = None, changelog: str = "") -> str:
    """The release's README.md: YAML front matter, then the card."""
    template = template_path.read_text(encoding="utf-8") if template_path and template_path.is_file() else _FALLBACK_TEMPLATE
    values = {
        "pretty_name": dataset["pretty_name"],
        "name": dataset["name"],
        "version": dataset["version"],
        "release_date": str(dataset.get("release_date") or ""),
        "license": dataset["license"],
        "description": (dataset.get("description") or "").strip(),
        "load_snippets": _load_snippets(dataset, splits),
        "statistics": _statistics(release, dataset),
        "cleaning": _cleaning(report),
        "topics": _topics(report, dataset),
        "annotations": _annotations(report),
        "gazetteer": _gazetteer(report),
        "coverage_chart": f"![Documents per topic and language]({COVERAGE_CHART})",
        "documents_columns": _schema_table("documents"),
        "parallel_columns": _schema_table("parallel"),
        "pairs_columns": _schema_table("pairs"),
        "changelog": changelog or "First release of this dataset in this registry.",
    }

    def substitute(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    body = _PLACEHOLDER.sub(substitute, template)
    # `DatasetCardData.to_yaml` folds a line at 80 columns (a long pretty_name
    # would become two lines) and takes no width: the same dump, unfolded.
    header = yaml.safe_dump(front_matter(dataset, splits, document_languages(dataset, report)), sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{header}---\n\n{body.strip()}\n"


def read_front_matter(readme: Path) -> dict[str, Any]:
    """The YAML block of a card; raises ValueError when there is none."""
    return front_matter_of(readme.read_text(encoding="utf-8"))


def front_matter_of(text: str) -> dict[str, Any]:
    """The YAML block of a card's text (for a reader that has read it already)."""
    if not text.startswith("---\n"):
        raise ValueError("no YAML front matter")
    end = text.find("\n---", 4)
    if end < 0:
        raise ValueError("YAML front matter is not closed with ---")
    data = safe_load(text[4:end])
    if not isinstance(data, dict):
        raise ValueError("YAML front matter is not a mapping")
    return data
