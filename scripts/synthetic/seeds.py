"""The seed text of a synthetic corpus: the sentences of a real corpus's seed
articles, with every person, place, organisation and date the pipeline finds
turned into a slot ({P0}, {GL3}, {DATE}), so each story fills the same
sentences with its own invented names.

The package's own cleaner, gazetteer and date finder cut them, so site chrome
never enters the pool and every mention the pipeline would find is replaced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from synthetic.common import GENERATOR_VERSION, LANGUAGES, PERSONS_PER_TOPIC, PLACES_PER_TOPIC, SyntheticError

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?।؟])\s+")


@dataclass
class SeedText:
    """Sentences of the seed corpus as format strings, per language.

    Every entity mention is a slot ({P0} ...), every date {DATE}, so each
    topic fills the same sentences with its own names and date.
    """

    sentences: dict[str, list[str]]
    chrome_phrases: dict[str, list[str]]
    metadata_labels: dict[str, list[str]]
    months: dict[str, list[list[str]]]  # language -> 12 lists of spellings
    vocabulary: set[str]  # normalized tokens of the seeds: invented names avoid them
    entities_yaml: dict[str, Any]  # `languages` and `morphology` of the seed gazetteer
    fingerprint: str  # sha256 over every input file, recorded in the manifest
    global_slots: dict[str, int] = field(default_factory=dict)  # "GO"/"GL" -> how many
    copied_files: dict[str, bytes] = field(default_factory=dict)


def load_seed_text(seed_corpus: Path) -> SeedText:
    """Cut the seed articles into slot-bearing sentences with the package's own
    cleaner, gazetteer and date finder, so chrome never enters the pool and
    every mention the pipeline would find is replaced."""
    from parallel_corpus.stages.clean import CleaningRules, clean
    from parallel_corpus.corpus import Corpus, load_yaml
    from parallel_corpus.stages.dates import load_calendar
    from parallel_corpus.stages.entities import load_gazetteer
    from parallel_corpus.text.tokens import TOKEN_RE, normalize_key
    from parallel_corpus.stages.ingest import read_source

    corpus = Corpus(Path(seed_corpus))
    needed = ["sources.jsonl", "dataset.yaml", "cleaning.yaml", "languages.yaml", "dates.yaml", "entities.yaml"]
    missing = [n for n in needed if not corpus.has(n)]
    if missing:
        raise SyntheticError(f"{seed_corpus}: seed corpus lacks {', '.join(missing)}")
    digest = hashlib.sha256(f"generator {GENERATOR_VERSION}\n".encode())
    copied: dict[str, bytes] = {}
    for name in needed:
        data = corpus.path(name).read_bytes()
        digest.update(f"{name} {len(data)}\n".encode())
        digest.update(data)
        copied[name] = data
    calendar = load_calendar(corpus.root)
    gazetteer = load_gazetteer(corpus.path("entities.yaml"))
    rules = CleaningRules.load(corpus.path("cleaning.yaml"), calendar.match_leading_date)
    cleaning = load_yaml(corpus.path("cleaning.yaml")) or {}
    dates = load_yaml(corpus.path("dates.yaml")) or {}
    entities_doc = load_yaml(corpus.path("entities.yaml")) or {}

    # First pass: mentions per paragraph, to rank the seeds' entities by type.
    paragraphs: list[tuple[str, str, list[dict[str, Any]], list[dict[str, Any]]]] = []
    counts: dict[tuple[str, str], int] = {}
    vocabulary: set[str] = set()
    for source in sorted(corpus.sources(), key=lambda s: s.id):
        if source.language not in LANGUAGES:
            continue
        raw = read_source(corpus, source).text
        digest.update(f"raw/{source.file} {source.sha256}\n".encode())
        cleaned = clean(raw, rules, source.language)
        for block in cleaned.blocks:
            if block.type != "paragraph" or len(block.text) < 60:
                continue
            text = block.text
            vocabulary.update(normalize_key(t) for t in TOKEN_RE.findall(text))
            ents = [e for e in gazetteer.find(text, source.language) if e["type"] in ("person", "place", "organisation")]
            found_dates = calendar.find_dates(text, source.language, reference=dt.date(2022, 1, 1))
            for e in ents:
                counts[(e["type"], e["qid"])] = counts.get((e["type"], e["qid"]), 0) + 1
            paragraphs.append((source.language, text, ents, found_dates))
    if not paragraphs:
        raise SyntheticError(f"{seed_corpus}: no sw/hi/ar paragraph of 60 characters or more in the seed articles")

    rank = _slot_of_entity(counts, [[e["qid"] for e in ents] for _, _, ents, _ in paragraphs])
    sentences: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for lang, text, ents, found_dates in paragraphs:
        spans: list[tuple[int, int, str]] = []
        for e in ents:
            slot = rank[e["qid"]]
            if slot.startswith("P") and len(TOKEN_RE.findall(e["text"])) == 1:
                slot += "s"
            spans.append((e["start"], e["end"], slot))
        for d in found_dates:
            spans.append((d["start"], d["end"], "DATE" if d.get("precision") == "day" else "YEAR"))
        spans.sort()
        parts: list[str] = []
        pos = 0
        for start, end, slot in spans:
            if start < pos:
                continue  # overlapping finds: keep the first
            parts.append(_escape(text[pos:start]))
            parts.append("{" + slot + "}")
            pos = end
        parts.append(_escape(text[pos:]))
        for sentence in _SENTENCE_SPLIT.split("".join(parts)):
            if len(sentence) >= 30:
                sentences[lang].append(sentence)
    empty = [lang for lang in LANGUAGES if not sentences[lang]]
    if empty:
        raise SyntheticError(f"{seed_corpus}: the seed articles have no usable sentence in {', '.join(empty)}")

    month_keys = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december")
    months = {}
    for lang in LANGUAGES:
        table = ((dates.get("languages") or {}).get(lang) or {}).get("months") or {}
        if any(not table.get(k) for k in month_keys):
            raise SyntheticError(f"{seed_corpus}/dates.yaml: {lang} lacks a spelling for some month")
        months[lang] = [list(table[k]) for k in month_keys]
    return SeedText(
        sentences=sentences,
        chrome_phrases={k: list(v or []) for k, v in (cleaning.get("chrome_phrases") or {}).items()},
        metadata_labels={k: list(v or []) for k, v in (cleaning.get("metadata_labels") or {}).items()},
        months=months,
        vocabulary=vocabulary,
        entities_yaml={k: entities_doc[k] for k in ("languages", "morphology") if k in entities_doc},
        fingerprint=digest.hexdigest(),
        global_slots={p: sum(1 for v in rank.values() if v.startswith(p)) for p in ("GO", "GL")},
        copied_files=copied,
    )


def _slot_of_entity(counts: dict[tuple[str, str], int], mentions: Sequence[Sequence[str]]) -> dict[str, str]:
    """The slot each seed entity becomes, so that two entities named in one
    paragraph never become the same invented one ("Putin and Putin").

    People become the story's own people (P0-P2) and frequent places its own
    places (L0-L3), colouring the co-occurrence graph greedily, most frequent
    first. Organisations and the places that do not fit stay one fixed
    invented entity each across the whole corpus (GO*, GL*), as the UN or
    Syria are the same in every story.
    """
    together: dict[str, set[str]] = {}
    for qids in mentions:
        for q in qids:
            together.setdefault(q, set()).update(x for x in qids if x != q)
    slot: dict[str, str] = {}
    global_index = {"organisation": 0, "place": 0}
    own = {"person": ("P", PERSONS_PER_TOPIC), "place": ("L", PLACES_PER_TOPIC)}
    for (etype, qid), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if etype in own and (etype == "person" or count >= 3):
            letter, size = own[etype]
            used = {slot[q] for q in together.get(qid, ()) if q in slot}
            free = [f"{letter}{i}" for i in range(size) if f"{letter}{i}" not in used]
            if free:
                slot[qid] = free[0]
                continue
            if etype == "person":
                slot[qid] = f"P{len(slot) % size}"  # more people in one paragraph than a story has
                continue
        prefix = "GO" if etype == "organisation" else "GL"
        slot[qid] = f"{prefix}{global_index[etype]}"
        global_index[etype] += 1
    return slot



def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")
