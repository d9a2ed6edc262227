"""The dataset card: a release's `README.md`, made with `huggingface_hub`'s
card API (`DatasetCardData` for the YAML, `DatasetCard.from_template` for the
body) from `DATASET_CARD.md`, a Jinja template that keeps the sections of the
Hub's dataset card template and fills them with this dataset.

The YAML is what the Hub and `datasets.load_dataset` read (configs, features,
splits); it is derived from `schemas/` and the Parquet files, never typed by
hand. Every figure in the card is computed from the release's own data and
facts (licence, authors, contact) come from `corpus/dataset.yaml`; nothing
depends on the current time, so a card is as reproducible as the data. The
Responsible-AI texts of the card (uses, limitations, biases, personal
information) are the ones `croissant.json` carries as `rai:` fields.
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pyarrow.parquet as pq
import yaml

from parallel_corpus import schema
from parallel_corpus.errors import Error, Problem
from parallel_corpus.records import CONFIGS, REMOVAL_REASONS, parquet_name
from parallel_corpus.align.splits import SPLIT_ORDER
from parallel_corpus._fast.yamlfast import safe_load

CARD_TEMPLATE_NAME = "DATASET_CARD.md"
CHANGELOG_HEADING = "## Changelog"
COVERAGE_CHART = "coverage.png"
# What the Hub's template writes where nothing was filled in; a card of ours never holds it.
HUB_PLACEHOLDER = "[More Information Needed]"
# Every text is a news article found online, written by the outlet's journalists.
LANGUAGE_CREATORS = ["found"]
# What the data supports, as the Hub names tasks (the articles are comparable,
# not translations: no `translation`).
TASK_CATEGORIES = ["sentence-similarity", "text-retrieval", "token-classification", "text-classification"]
TASK_IDS = ["semantic-similarity-scoring", "document-retrieval", "named-entity-recognition", "topic-classification"]
TAGS = ["comparable-corpus", "news", "cross-lingual", "wikidata", "label-studio"]


class CardError(Error, ValueError):
    """The card cannot be written from these inputs; nothing was written."""


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


# The card's keys in the order the card writes them (the Hub's own writers
# sort the configs by name and put `pretty_name` late).
_FRONT_MATTER_ORDER = [
    "pretty_name", "language", "license", "license_name", "license_link", "annotations_creators", "language_creators",
    "multilinguality", "size_categories", "source_datasets", "task_categories", "task_ids", "tags", "configs", "dataset_info",
]


def annotations_creators(dataset: dict[str, Any], human_annotations: int) -> list[str]:
    """The Hub's `annotations_creators`: the pipeline's labels are
    machine-generated; people's are listed only when the release carries some."""
    out = ["machine-generated"]
    if human_annotations:
        out.append(dataset.get("human_annotations_creators") or "expert-generated")
    return out


def card_data(dataset: dict[str, Any], splits: dict[str, dict[str, dict[str, int]]], languages: Optional[list[str]] = None, human_annotations: int = 0):
    """The card's metadata as `huggingface_hub.DatasetCardData`, with each
    config's `dataset_info` (features and splits) written by `datasets` as
    `push_to_hub` does, through the public `DatasetInfosDict.to_dataset_card_data`,
    so their YAML forms have one home: the libraries that read them back.
    Configs in publishing order, `documents` first, the default."""
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
    # A licence that is not on the Hub's list is named and linked (the schema
    # of dataset.yaml requires both with `license: other`).
    licence = {k: dataset[k] for k in ("license_name", "license_link") if dataset["license"] == "other" and dataset.get(k)}
    card = DatasetCardData(
        pretty_name=dataset["pretty_name"],
        language=list(languages if languages is not None else dataset["languages"]),
        license=dataset["license"],
        **licence,
        annotations_creators=annotations_creators(dataset, human_annotations),
        language_creators=list(LANGUAGE_CREATORS),
        multilinguality="multilingual",
        size_categories=[_size_category(num_docs)],
        source_datasets=["original"],
        task_categories=list(TASK_CATEGORIES),
        task_ids=list(TASK_IDS),
        tags=list(TAGS),
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
    return card


def ordered(data: dict[str, Any]) -> dict[str, Any]:
    """Card metadata in the card's key order; keys the card does not write last."""
    return {**{k: data[k] for k in _FRONT_MATTER_ORDER if k in data}, **{k: v for k, v in data.items() if k not in _FRONT_MATTER_ORDER}}


def front_matter(dataset: dict[str, Any], splits: dict[str, dict[str, dict[str, int]]], languages: Optional[list[str]] = None, human_annotations: int = 0) -> dict[str, Any]:
    """The card's YAML as the Hub reads it (see `card_data`), in the card's order."""
    return ordered(card_data(dataset, splits, languages, human_annotations).to_dict())


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


@dataclass(frozen=True)
class QidCounts:
    """How far the gazetteer's Wikidata QIDs can be trusted, from the build report."""

    verified: int  # a public source gives this QID for this entity
    unverified: int  # typed from memory, or no QID known at all
    without_qid: int  # of the unverified: no source gives one, documents carry null

    @property
    def entities(self) -> int:
        return self.verified + self.unverified

    def sentence(self) -> str:
        """One sentence for the card and croissant.json: both say the same."""
        missing = f", {self.without_qid} of them with no QID known (their `qid` is null)" if self.without_qid else ""
        return (
            f"Of the gazetteer's {self.entities} entities, {self.verified} have a Wikidata QID verified against a "
            f"public source and {self.unverified} are unverified{missing}; treat an unverified QID as likely, not certain."
        )


def qid_counts(report: dict[str, Any]) -> Optional[QidCounts]:
    """The gazetteer's QID counts from the build report, None without a gazetteer."""
    g = report.get("gazetteer") or {}
    if not g:
        return None
    unverified = int(g.get("unverified_qids", 0))
    return QidCounts(int(g["entities"]) - unverified, unverified, int(g.get("without_qid", 0)))


def _gazetteer(report: dict[str, Any]) -> str:
    counts = qid_counts(report)
    return "No gazetteer: documents carry no entity QIDs." if counts is None else counts.sentence()


@dataclass
class Facts:
    """What the card and croissant.json say about a release, counted from its
    own files and its build report."""

    documents: int = 0
    by_language: dict[str, int] = field(default_factory=dict)  # "sw (swh_Latn)" -> documents
    topics: int = 0
    splits: dict[str, int] = field(default_factory=dict)  # split -> documents
    outlets: Counter = field(default_factory=Counter)  # outlet -> documents
    with_url: int = 0
    with_licence: int = 0
    published: list[str] = field(default_factory=list)  # earliest and latest known date
    dated: int = 0  # documents whose publication date is known
    storylines: list[str] = field(default_factory=list)  # topic titles (ids where untitled)
    people: list[str] = field(default_factory=list)  # canonical names of tagged people
    entity_mentions: int = 0
    qids: Optional[QidCounts] = None
    human_annotations: int = 0
    annotators: int = 0

    @property
    def languages_text(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self.by_language.items())


def facts(release: Path, dataset: dict[str, Any], report: dict[str, Any]) -> Facts:
    """Count what the release holds (documents, languages, outlets, people
    named, annotators) from its Parquet files."""
    out = Facts(qids=qid_counts(report), topics=len(report.get("topics", [])))
    by_language: Counter = Counter()
    dates: list[str] = []
    people: set[str] = set()
    for path in sorted((release / "data" / "documents").glob("*.parquet")):
        t = pq.read_table(path, columns=["language", "language_flores", "published", "entities", "source", "split"])
        for lang, flores, published, entities, source, split in zip(*(t.column(c).to_pylist() for c in t.column_names)):
            out.documents += 1
            by_language[f"{lang} ({flores})"] += 1
            out.splits[split] = out.splits.get(split, 0) + 1
            source = source or {}
            if source.get("outlet"):
                out.outlets[source["outlet"]] += 1
            out.with_url += bool(source.get("url"))
            out.with_licence += bool(source.get("license"))
            if published is not None:
                dates.append(published.isoformat())
            for e in entities or []:
                out.entity_mentions += 1
                if e.get("type") == "person" and e.get("canonical"):
                    people.add(e["canonical"])
    order = {code: i for i, code in enumerate(dataset["languages"])}
    out.by_language = dict(sorted(by_language.items(), key=lambda kv: (order.get(kv[0].split(" ")[0], len(order)), kv[0])))
    out.splits = {s: out.splits[s] for s in sorted(out.splits, key=lambda s: SPLIT_ORDER.index(s) if s in SPLIT_ORDER else len(SPLIT_ORDER))}
    out.published = [min(dates), max(dates)] if dates else []
    out.dated = len(dates)
    out.storylines = [str(t.get("title") or t.get("topic_id")) for t in report.get("topics", [])]
    out.people = sorted(people)
    ann = report.get("annotations") or {}
    out.human_annotations = int(ann.get("records") or 0)
    annotators: set[str] = set()
    for path in sorted((release / "data" / "annotations").glob("*.parquet")):
        annotators.update(a for a in pq.read_table(path, columns=["annotator"]).column("annotator").to_pylist() if a)
    out.annotators = len(annotators)
    return out


# -- Responsible-AI texts: the card's sections and croissant.json's rai: fields --


def use_cases(f: Facts) -> list[str]:
    return [
        "Cross-lingual news retrieval: find the articles of one story in the other languages (`parallel` holds each topic's documents in every language).",
        "News similarity: rank or score document pairs (`pairs`: the pipeline's similarity, and SemEval-2022 Task 8 ratings where people rated a pair).",
        "Named-entity recognition and entity linking with Wikidata QIDs (`documents.entities`: typed spans with character offsets and QIDs).",
        "Topic and event grouping of multilingual news, and the study of language identification and code switching in short news blocks.",
    ]


def out_of_scope(f: Facts) -> list[str]:
    return [
        "Treating the articles as translations of each other: they are *comparable* news, written separately by different "
        "outlets about the same events; sentence-aligned machine-translation training or evaluation on them is out of scope.",
        "Drawing conclusions about the outlets, countries or languages at large: "
        f"{f.documents} article(s) about {f.topics} storyline(s) are not a sample of any of them.",
        "Redistributing the article texts without checking each outlet's terms (see Licensing).",
        "Profiling the people the articles name: the entities are public figures as the news reports them.",
    ]


def limitations(f: Facts, dataset: dict[str, Any]) -> list[str]:
    out = [
        f"Size: this release holds {f.documents} seed document(s) ({f.languages_text}) in {f.topics} topic(s); "
        f"splits are by topic, so the documents are in {', '.join(f'{s} ({n})' for s, n in f.splits.items())}. "
        "Figures measured on it are anecdotes, not benchmarks.",
    ]
    if f.qids is not None:
        out.append(f"Wikidata QIDs. {f.qids.sentence()}")
    out.append(
        f"Provenance: {sum(f.outlets.values())} of {f.documents} document(s) name their outlet, {f.with_url} their URL "
        f"and {f.with_licence} their licence (`source`); the rest are unknown and left null, never guessed."
    )
    out.append(
        "Copyright: the texts belong to their outlets; this dataset's licence field is "
        f"`{dataset['license']}`" + (f" ({dataset['license_name']})" if dataset.get("license_name") else "") + ", not an open licence."
    )
    out.append(
        "Labels: entities, dates, languages, topics and events are the pipeline's (a curated gazetteer, langdetect, "
        "clustering) wherever no person corrected them" + (f"; {f.human_annotations} human annotation(s) are merged." if f.human_annotations else "; no human annotation is merged into this release.")
    )
    return out


def biases(f: Facts, dataset: dict[str, Any]) -> list[str]:
    langs = ", ".join(f"`{code}`" for code in dataset["languages"])
    return [
        f"Coverage: the articles were collected around {len(f.storylines)} storyline(s) "
        f"({'; '.join(escape_text(t) for t in f.storylines) or 'none'}) in {langs}; its topics, outlets and vocabulary reflect that choice.",
        "Outlets: which outlets, and so which editorial viewpoints, are in the data is decided by the articles collected, "
        f"not sampled; {len(f.outlets)} outlet(s) are named in this release.",
        "Entities: the gazetteer lists the people, places and organisations of this storyline with English canonical names; "
        "names it does not list are not tagged, and spellings it lacks in one language are missed there more than in another.",
        "Language identification: langdetect's profiles decide languages; short blocks inherit the document's language.",
    ]


def personal_information(f: Facts) -> list[str]:
    people = f"{len(f.people)} distinct people are tagged as entities" + (f" ({', '.join(escape_text(p) for p in f.people)})" if f.people else "")
    out = [
        f"The texts are published news and name public figures as the news reports them: {people}. "
        "The articles may also name other people (journalists, quoted officials) who are not tagged.",
        "No anonymisation was applied: the texts are kept as the outlets published them.",
    ]
    if f.annotators:
        out.append(f"The `annotations` config names {f.annotators} annotator(s) by the e-mail or Label Studio user id the export gave.")
    else:
        out.append("No annotator is named: this release carries no human annotation (an `annotations` config names annotators by e-mail or Label Studio user id).")
    return out


def data_collection(f: Facts) -> str:
    if not f.published:
        span = " (no publication date is known)"
    elif f.published[0] == f.published[1]:
        span = f" ({f.dated} with a known publication date: {f.published[0]})"
    else:
        span = f" ({f.dated} with a known publication date, from {f.published[0]} to {f.published[1]})"
    return (
        f"{f.documents} news article(s){span}, found online and saved as raw text files, each pinned by its sha256 in the "
        "repository's `corpus/sources.jsonl` with what is known of its outlet, URL, date and licence (null where unknown)."
    )


def preprocessing() -> list[str]:
    return [
        "Decoding (UTF-8, BOM-marked UTF-16 or a declared codec) and Unicode NFC.",
        "Cleaning: site chrome, promos, pointer stubs and other stories' headlines are removed line by line or piece by piece, "
        "each removal recorded with a reason code in `removed_lines`; kept text is verbatim.",
        "Language tagging of each document and block (langdetect, seeded), entity and date matching (curated gazetteer, "
        "month names), topic and event assignment (curated catalog, then clustering).",
    ]


def annotation_protocol(f: Facts) -> list[str]:
    return [
        "The pipeline pre-fills Label Studio tasks with its guesses (entities, topic, event, language); annotators "
        "correct them following the repository's annotator's guide, and rate document pairs on SemEval-2022 Task 8's "
        "scale (1 very similar to 4 very dissimilar).",
        "A human topic, event or language replaces the pipeline's; human entity spans replace the predicted ones; pair "
        "ratings are the mean over raters.",
        f"This release carries {f.human_annotations} human annotation(s).",
    ]


def maintenance_plan() -> str:
    return (
        "Releases are immutable: a version is published once with the sha256 of every file recorded in the repository's "
        "release registry, and errors are fixed by a new version; released documents never change split."
    )


def responsible_ai(dataset: dict[str, Any], f: Facts) -> dict[str, Any]:
    """croissant.json's Responsible-AI fields (the `rai:` vocabulary), the
    same statements as the card's sections."""
    return {
        "dataCollection": data_collection(f),
        "dataCollectionType": ["Found online news articles, saved as raw text by the maintainers"],
        "dataCollectionRawData": "Published news articles of the outlets; the raw files are not in the release, their sha256 is (`documents.source`).",
        "dataPreprocessingProtocol": preprocessing(),
        "dataAnnotationProtocol": annotation_protocol(f),
        "dataAnnotationPlatform": ["Label Studio"],
        "machineAnnotationTools": ["langdetect (seeded)", "curated gazetteer with Wikidata QIDs", "topic catalog and clustering"],
        "dataUseCases": use_cases(f),
        "dataLimitations": [*limitations(f, dataset), *(f"Out of scope: {x}" for x in out_of_scope(f))],
        "dataBiases": biases(f, dataset),
        "personalSensitiveInformation": personal_information(f),
        "dataReleaseMaintenancePlan": maintenance_plan(),
    }


# -- citation -------------------------------------------------------------------------

_BIBTEX_SPECIAL = re.compile(r"[\\{}&%$#_^~]")


def _bibtex_text(value: Any) -> str:
    def esc(m: re.Match[str]) -> str:
        c = m.group(0)
        return {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}.get(c, "\\" + c)

    return _BIBTEX_SPECIAL.sub(esc, " ".join(str(value).split()))


def authors(dataset: dict[str, Any]) -> list[str]:
    return [str(a) for a in dataset.get("authors") or []]


def bibtex(dataset: dict[str, Any]) -> str:
    """The dataset's BibTeX entry, from corpus/dataset.yaml (authors as
    corporate names in double braces, so BibTeX does not split them)."""
    version = dataset["version"]
    fields = [("title", _bibtex_text(dataset["pretty_name"]))]
    if authors(dataset):
        fields.append(("author", " and ".join("{" + _bibtex_text(a) + "}" for a in authors(dataset))))
    year = str(dataset.get("release_date") or "")[:4]
    if year:
        fields.append(("year", year))
    fields.append(("version", _bibtex_text(version)))
    if dataset.get("hub_repo"):
        fields.append(("howpublished", _bibtex_text(f"Hugging Face Hub dataset {dataset['hub_repo']}, revision v{version}")))
    if dataset.get("homepage"):
        fields.append(("url", _bibtex_text(dataset["homepage"])))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    key = re.sub(r"[^A-Za-z0-9_:-]", "-", f"{dataset['name']}-{version}")
    return f"@misc{{{key},\n{body}\n}}"


def _apa(dataset: dict[str, Any]) -> str:
    who = ", ".join(escape_text(a) for a in authors(dataset)) or escape_text(dataset["name"])
    year = str(dataset.get("release_date") or "")[:4] or "n.d."
    where = f" Hugging Face Hub: {escape_code(dataset['hub_repo'])}." if dataset.get("hub_repo") else ""
    url = f" {dataset['homepage']}" if dataset.get("homepage") else ""
    return f"{who}. ({year}). *{escape_text(dataset['pretty_name'])}* (Version {escape_text(dataset['version'])}) [Data set].{where}{url}"


def _sources_citation(f: Facts) -> str:
    """What the sources say of themselves: the outlets and URLs the documents
    carry, which a user quoting an article cites."""
    named = sum(f.outlets.values())
    text = (
        f"The articles are the outlets' work: cite the outlet and URL of each article you quote (`documents.source`). "
        f"{named} of {f.documents} document(s) name their outlet and {f.with_url} their URL"
    )
    if f.outlets:
        text += ": " + ", ".join(f"{escape_text(o)} ({n})" for o, n in sorted(f.outlets.items()))
    return text + "; the sources carry no citation of their own."


def _fence(text: str, info: str) -> str:
    """`text` in a fenced code block whose fence no backtick run inside it closes."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {x}" for x in items)


def load_snippets(dataset: dict[str, Any], splits: dict[str, Any]) -> str:
    """How to load each config: from the Hub repository the release is
    pushed to (`hub_repo`), pinned to the release's tag, else from the
    release folder as `publish` writes it."""
    version = dataset["version"]
    repo = dataset.get("hub_repo")
    where = f'"{repo}"' if repo else f'"dist/v{version}"'
    pin = f', revision="v{version}"' if repo else ""
    lines = ["from datasets import load_dataset", ""]
    lines += [f'{config} = load_dataset({where}, "{config}"{pin})' for config in splits]
    text = _fence("\n".join(lines), "python")
    if repo:
        return text + f"\n\nThe tag `v{version}` pins these bytes; a local copy of this folder loads the same way from its path."
    return text + f"\n\n`dist/v{version}` is the folder `parallel-corpus publish` writes; give its path wherever it is."


def hub_repo_of_card(text: str) -> Optional[str]:
    """The Hub repository a card's Loading section names, or None (a card
    that loads from its release folder)."""
    m = re.search(r'load_dataset\("([^"]+)", "documents", revision="v', text)
    return m.group(1) if m else None


def _schema_table(config: str) -> str:
    props = schema.load_schema(config)["properties"]
    rows = [[f"`{name}`", f"`{schema.arrow_type(p)}`", (p.get("description") or "").replace("|", "\\|")] for name, p in props.items()]
    return _table(["column", "type", "meaning"], rows)


def _configs_summary(splits: dict[str, Any]) -> str:
    meaning = {
        "documents": "one row per article: cleaned text, typed blocks, languages, entities with Wikidata QIDs, dates, topic and event, the lines the cleaner removed",
        "parallel": "one row per topic, holding its documents in every language (N-way, not only pairs)",
        "pairs": "document pairs inside and across topics, with the pipeline's similarity and people's ratings where they rated",
        "annotations": "one row per human annotation, with its Label Studio ids",
    }
    return _bullets([
        f"`{c}` ({sum(s['num_examples'] for s in splits[c].values())} rows): {meaning.get(c, '')}" for c in splits
    ])


def _licensing(dataset: dict[str, Any], f: Facts) -> str:
    name = f" (`{dataset['license_name']}`)" if dataset.get("license_name") else ""
    return (
        f"The dataset's licence field is `{dataset['license']}`{name}: the texts are news articles that belong to "
        f"their outlets, and no open licence covers them. `source.license` of each document says what is known "
        f"({f.with_licence} of {f.documents} document(s) carry one; null where unknown). Use the data for research, "
        f"and check each outlet's terms before redistributing the texts."
    )


def licence_statement(dataset: dict[str, Any]) -> str:
    """The licence as one line, for readers that take text (croissant.json)."""
    if dataset["license"] != "other" or not dataset.get("license_name"):
        return dataset["license"]
    where = dataset.get("license_link") or "the card"
    where = "the card (README.md), section Licensing" if where == "README.md" else where
    return f"other: {dataset['license_name']}: the texts belong to their news outlets; terms in {where}"


def values(dataset: dict[str, Any], splits: dict[str, Any], report: dict[str, Any], release: Path, changelog: str = "") -> dict[str, str]:
    """Every value a card template may name: the Hub template's own variables
    (so its default template renders filled) and this card's sections."""
    f = facts(release, dataset, report)
    who = ", ".join(escape_text(a) for a in authors(dataset)) or "not named in corpus/dataset.yaml"
    licence_line = f"`{dataset['license']}`" + (f" (`{dataset['license_name']}`, see [Licensing](#licensing))" if dataset.get("license_name") else "")
    sources = (
        f"- **Homepage:** {dataset['homepage']}" if dataset.get("homepage") else "- **Homepage:** none published yet"
    ) + ("\n- **Hub repository:** " + escape_code(dataset["hub_repo"]) if dataset.get("hub_repo") else "")
    out = {
        "pretty_name": escape_text(dataset["pretty_name"]),
        "name": dataset["name"],
        "version": dataset["version"],
        "release_date": str(dataset.get("release_date") or "no date"),
        "license": licence_line,
        "description": (dataset.get("description") or "").strip(),
        "load_snippets": load_snippets(dataset, splits),
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
        "configs_summary": _configs_summary(splits),
        "data_collection": data_collection(f),
        "licensing": _licensing(dataset, f),
        "maintenance": maintenance_plan(),
        # The Hub template's variables, by its names.
        "dataset_summary": (dataset.get("description") or dataset["pretty_name"]).strip(),
        "dataset_description": _configs_summary(splits) + "\n\nThe articles are *comparable*, not translations of each other: they report the same events from different outlets.",
        "curators": who,
        "funded_by": "no funder is named in corpus/dataset.yaml",
        "shared_by": who,
        "language": f.languages_text or ", ".join(dataset["languages"]),
        "repo": dataset.get("homepage") or (f"Hugging Face Hub dataset {escape_code(dataset['hub_repo'])}" if dataset.get("hub_repo") else "none published yet"),
        "paper": "none",
        "demo": "none",
        "dataset_sources": sources,
        "direct_use": _bullets(use_cases(f)),
        "out_of_scope_use": _bullets(out_of_scope(f)),
        "dataset_structure": _configs_summary(splits) + "\n\nSplits are made by topic: all documents of a topic are in one split.\n\n" + load_snippets(dataset, splits) + "\n\n" + _statistics(release, dataset),
        "curation_rationale_section": (
            f"Comparable news in {len(dataset['languages'])} languages ({', '.join(dataset['languages'])}) about the same "
            f"storylines ({'; '.join(escape_text(t) for t in f.storylines) or 'none yet'}), to study cross-lingual "
            "alignment and news similarity beyond translation."
        ),
        "data_collection_and_processing_section": data_collection(f) + "\n\n" + _bullets(preprocessing()) + "\n\n" + _gazetteer(report),
        "source_data_producers_section": "Journalists of the outlets wrote the texts" + (f" ({', '.join(escape_text(o) for o in sorted(f.outlets))})." if f.outlets else "; the outlets of this release's documents are not recorded (`source.outlet` is null)."),
        "annotation_process_section": _bullets(annotation_protocol(f)) + "\n\n" + _annotations(report),
        "who_are_annotators_section": (
            f"{f.annotators} annotator(s) in Label Studio, recorded per annotation in the `annotations` config." if f.annotators
            else "Nobody yet: this release carries no human annotation; the labels are the pipeline's."
        ),
        "personal_and_sensitive_information": _bullets(personal_information(f)),
        "bias_risks_limitations": _bullets([*limitations(f, dataset), *biases(f, dataset)]),
        "bias_recommendations": _bullets([
            "Evaluate cross-lingual methods on these articles as comparable documents (same story), not as sentence-aligned translations.",
            "Check an entity's QID on Wikidata before relying on it while it is unverified.",
            "Check each outlet's terms before redistributing the texts, and cite the outlet of an article you quote.",
        ]),
        "citation_bibtex": _fence(bibtex(dataset), "bibtex"),
        "citation_apa": _apa(dataset),
        "sources_citation": _sources_citation(f),
        "glossary": _bullets([
            "**Comparable corpus**: texts in several languages about the same events, written independently (not translations).",
            "**Topic**: a storyline; **event**: one happening inside it (documents a few days apart that share keys).",
            "**QID**: a Wikidata item id (Q…); **verified** when a public source (Wikidata or a file quoting it) gives that QID for that entity (`qid_checked` in `corpus/entities.yaml` names the source).",
            "**FLORES-200 code**: ISO 639-3 language plus ISO 15924 script, e.g. `swh_Latn`.",
        ]),
        "more_information": _licensing(dataset, f) + "\n\n" + maintenance_plan() + "\n\n" + CHANGELOG_HEADING + "\n\n" + (changelog or "First release of this dataset in this registry."),
        "dataset_card_authors": who,
        "dataset_card_contact": escape_text(dataset.get("contact") or "not named in corpus/dataset.yaml"),
    }
    return out


_FRONT_MATTER_BLOCK = "---\n{{ card_data }}\n---\n"


def _check_template(template: str, known: set[str], where: str) -> None:
    """A name the template uses that no value fills would render empty: refused."""
    import jinja2
    from jinja2 import meta

    try:
        names = meta.find_undeclared_variables(jinja2.Environment().parse(template))
    except jinja2.TemplateSyntaxError as exc:
        raise CardError(Problem(f"not a Jinja template: {exc.message}", where, str(exc.lineno))) from None
    unknown = sorted(names - known - {"card_data"})
    if unknown:
        raise CardError(Problem(f"names {', '.join(unknown)}, which no card value fills: use one of {', '.join(sorted(known))}", where))


def render(dataset: dict[str, Any], splits: dict[str, Any], report: dict[str, Any], release: Path, template_path: Optional[Path] = None, changelog: str = "") -> str:
    """The release's README.md: `DatasetCard.from_template` on the card
    template (`DATASET_CARD.md`, else the Hub's own dataset card template),
    every variable filled from the release and corpus/dataset.yaml."""
    from huggingface_hub import DatasetCard

    link = dataset.get("license_link")
    if dataset["license"] == "other" and link and not link.startswith("https://") and link != "README.md" and not (release / link).is_file():
        raise CardError(Problem(f"{link!r} is not a file of the release: link README.md (the card) or an https URL", "corpus/dataset.yaml", "-", "license_link"))
    f_values = values(dataset, splits, report, release, changelog)
    data = card_data(dataset, splits, document_languages(dataset, report), int((report.get("annotations") or {}).get("records") or 0))
    if template_path is not None and template_path.is_file():
        template = template_path.read_text(encoding="utf-8")
        if not template.startswith("---"):
            template = _FRONT_MATTER_BLOCK + "\n" + template
        where = str(template_path)
    else:
        template = Path(DatasetCard.default_template_path).read_text(encoding="utf-8")
        where = "the Hub's dataset card template"
    _check_template(template, set(f_values) | set(data.to_dict()), where)
    card = DatasetCard.from_template(data, template_str=template, **f_values)
    # `DatasetCardData.to_yaml` folds a line at 80 columns (a long pretty_name
    # would become two lines) and takes no width: the card's own metadata,
    # read back by `DatasetCard`, dumped unfolded in the card's key order.
    header = yaml.safe_dump(ordered(card.data.to_dict()), sort_keys=False, allow_unicode=True, width=1000)
    body = re.sub(r"\n{3,}", "\n\n", card.text.strip())
    return f"---\n{header}---\n\n{body}\n"


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
