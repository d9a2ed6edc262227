"""Synthetic corpora: N raw news articles (sw, hi, ar) in a corpus folder, for tests and benchmarks.

Input: the seed articles of a real corpus folder (`corpus/` of this repo) and
its curated YAML; output: a corpus folder of the same shape (raw/,
sources.jsonl, dataset.yaml, cleaning/languages/dates/entities.yaml) whose
documents look like real news to every stage: site chrome around the text,
glued datelines, repeated captions, and about ten documents per story
(topic) that share invented people, places, a date and a figure, spelled
consistently in Latin, Devanagari and Arabic script. Same N and seed (and
the same seed corpus) give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import yaml

__all__ = ["GENERATOR_VERSION", "SyntheticError", "SeedText", "load_seed_text", "make_corpus"]

# Bumped whenever the same (N, seed, seed corpus) would give other bytes.
GENERATOR_VERSION = 1
LANGUAGES = ("sw", "hi", "ar")
# Synthetic QIDs live far above the QIDs our gazetteer uses, so a synthetic
# entity can never be mistaken for a real one ("Q900000123").
QID_BASE = 900_000_000
# Entities a topic owns (people and places) and how many of the corpus-wide
# organisations it names; organisations recur across stories, as the UN does.
PERSONS_PER_TOPIC = 3
PLACES_PER_TOPIC = 4
ORGS_PER_TOPIC = 2
GLOBAL_ORGS = 24
# Beyond this many people and places, topics draw from a shared pool (the
# same politician appears in many stories) so the gazetteer, which every
# worker loads, stays the size of a real one. 7,000 = every topic its own up
# to 10,000 documents.
DEFAULT_MAX_ENTITIES = 7000
MIN_BYTES, MAX_BYTES = 2000, 9000
DATE_RANGE = (dt.date(2015, 1, 1), dt.date(2025, 12, 31))

# Syllables of invented names: (Latin, Devanagari consonant, Arabic
# consonant). Every consonant has one letter per script and the vowels a/i/u
# are written long in Arabic (ا ي و) and with a matra in Devanagari, so one
# syllable string has one spelling per script and the cross-script skeleton
# keys of `align` meet ("Kalimu" = "कालिमू" = "كاليمو" = KLM).
_CONSONANTS = (
    ("b", "ब", "ب"), ("d", "द", "د"), ("f", "फ़", "ف"), ("g", "ग", "غ"), ("k", "क", "ك"),
    ("l", "ल", "ل"), ("m", "म", "م"), ("n", "न", "ن"), ("r", "र", "ر"), ("s", "स", "س"),
    ("sh", "श", "ش"), ("t", "त", "ت"), ("z", "ज़", "ز"),
)
_VOWELS = {"a": ("ा", "ा", "ا"), "i": ("ि", "ी", "ي"), "u": ("ु", "ू", "و")}  # (inner, final) matra, Arabic letter

# Text of the invented parts of an article, per language. {P0} is a person's
# full name, {P0s} the family name, {L0} a place, {O0} an organisation,
# {DATE} the story's date, {NUM} its headline figure, {N1} {N2} figures of
# this document only (which keep every document unique after cleaning).
_TEXT: dict[str, dict[str, Sequence[str]]] = {
    "sw": {
        "title": (
            "{P0} akutana na {P1} mjini {L0}",
            "{P0s} na {P1s} wajadili mzozo wa {L1}",
            "Mazungumzo ya {L0}: {P0s} amuonya {P1s}",
            "{O0} latoa wito wa amani {L1}",
        ),
        "subtitle": (
            "Viongozi hao walizungumza kwa saa mbili kuhusu hali ya {L1}",
            "{P2} asema mazungumzo yataendelea wiki ijayo",
        ),
        "heading": ("{P0s} amuonya {P1s}", "Hali ya {L1}", "Mkutano wa {L0}"),
        "caption": ("{P0s} na {P1s} mjini {L0}", "{P2} akiwasili {L0}"),
        "caption_label": ("Maelezo ya picha, {P0s} akiwa {L0}",),
        "credit": ("Chanzo cha picha, Getty Images", "Chanzo cha picha, {O1}"),
        "topic": (
            "Mnamo {DATE}, {O0} lilisema watu {NUM} waliathirika na mzozo huo katika eneo la {L1}.",
            "Kwa mujibu wa {O0}, watu {NUM} walikimbia makazi yao katika jimbo la {L1} tangu {DATE}.",
        ),
        "unique": (
            "Mwandishi wetu aliripoti kutoka {L2} kwamba magari {N1} na wanajeshi {N2} walionekana karibu na mpaka.",
            "Takwimu za {O1} zinaonyesha kuwa tani {N1} za msaada zilifika, huku familia {N2} zikisubiri.",
        ),
        "section": ("Habari za Dunia", "Siasa", "Kimataifa", "Afrika Mashariki"),
        "read_more": ("Soma zaidi: {TITLE}", "Soma pia: {TITLE}"),
        "metadata": ("Imechapishwa: Imesasishwa:", "Imechapishwa: {DATE}"),
        "org": ("Shirika la {X}",),
    },
    "hi": {
        "title": (
            "{P0} ने {L0} में {P1} से मुलाक़ात की",
            "{L1} संकट पर {P0s} और {P1s} की बातचीत",
            "{O0} ने {L1} में शांति की अपील की",
        ),
        "subtitle": (
            "दोनों नेताओं ने {L1} की स्थिति पर दो घंटे तक चर्चा की",
            "{P2} ने कहा कि बातचीत अगले सप्ताह जारी रहेगी",
        ),
        "heading": ("{P0s} की चेतावनी", "{L1} की स्थिति", "{L0} में बैठक"),
        "caption": ("{L0} में {P0s} और {P1s}", "{L0} पहुँचते हुए {P2}"),
        "caption_label": ("इमेज कैप्शन, {L0} में {P0s}",),
        "credit": ("इमेज स्रोत, Getty Images", "इमेज स्रोत, {O1}"),
        "topic": (
            "{O0} ने {DATE} को बताया कि {L1} क्षेत्र में इस संकट से {NUM} लोग प्रभावित हुए हैं।",
            "{O0} के अनुसार {DATE} से अब तक {L1} प्रांत के {NUM} लोग अपना घर छोड़ चुके हैं।",
        ),
        "unique": (
            "हमारे संवाददाता ने {L2} से बताया कि सीमा के पास {N1} वाहन और {N2} सैनिक देखे गए।",
            "{O1} के आँकड़ों के अनुसार {N1} टन सहायता पहुँची है, जबकि {N2} परिवार अब भी प्रतीक्षा कर रहे हैं।",
        ),
        "section": ("दुनिया", "अंतरराष्ट्रीय", "विदेश समाचार"),
        "read_more": ("यह भी पढ़ें: {TITLE}", "ये भी पढ़ें: {TITLE}"),
        "metadata": ("प्रकाशित: अपडेट:", "प्रकाशित: {DATE}"),
        "org": ("{X} संगठन",),
    },
    "ar": {
        "title": (
            "{P0} يلتقي {P1} في {L0}",
            "{P0s} يبلغ {P1s}: نأمل في نتائج إيجابية لمحادثات {L1}",
            "{O0} تدعو إلى وقف إطلاق النار في {L1}",
        ),
        "subtitle": (
            "{P0s} دعا بعد اجتماع مع {P2s} إلى وقف إطلاق النار في {L1}",
            "الزعيمان بحثا الوضع في {L1} لمدة ساعتين",
        ),
        "heading": ("{P0s} من {L0} إلى {L1}", "الوضع في {L1}", "اجتماع {L0}"),
        "caption": ("{P0s} و{P1s} في {L0}", "{P2} لدى وصوله إلى {L0}"),
        "caption_label": ("التعليق على الصورة، {P0s} في {L0}",),
        "credit": ("مصدر الصورة، Getty Images", "مصدر الصورة، {O1}"),
        "topic": (
            "وقالت {O0} في {DATE} إن {NUM} شخصا تضرروا من الأزمة في منطقة {L1}.",
            "وبحسب {O0}، نزح {NUM} شخص من إقليم {L1} منذ {DATE}.",
        ),
        "unique": (
            "وأفاد مراسلنا من {L2} بأن {N1} مركبة و{N2} جنديا شوهدوا قرب الحدود.",
            "وتظهر بيانات {O1} أن {N1} طنا من المساعدات وصلت، بينما لا تزال {N2} عائلة تنتظر.",
        ),
        "section": ("شؤون دولية", "العالم", "أخبار عربية ودولية"),
        "read_more": ("اقرأ أيضا: {TITLE}", "اقرأ المزيد: {TITLE}"),
        "metadata": ("نشر في: آخر تحديث:", "نشر في: {DATE}"),
        "org": ("منظمة {X}",),
    },
}
_ORG_EN = "{X} Organisation"
_OUTLETS = {"sw": ("Habari Sinteti", "Sauti ya Pwani"), "hi": ("समाचार सिंथेटिक", "Synthetic Samachar"), "ar": ("الأخبار التركيبية", "Akhbar Synthetic")}
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?।؟])\s+")


class SyntheticError(ValueError):
    """The synthetic corpus cannot be made; the message says why in one line."""


# -- seed text -------------------------------------------------------------------


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
    from parallel_corpus.stages.entities import TOKEN_RE, load_gazetteer, normalize_key
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


# -- invented entities --------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticEntity:
    qid: str
    type: str
    # language -> (full form, short form); "en" is the canonical Latin form
    names: dict[str, tuple[str, str]]

    @property
    def canonical(self) -> str:
        return self.names["en"][0]


def _spell(syllables: Sequence[tuple[int, str]]) -> tuple[str, str, str]:
    """(Latin, Devanagari, Arabic) of a name given as (consonant, vowel) syllables."""
    latin, deva, arab = [], [], []
    for i, (c, v) in enumerate(syllables):
        lat_c, deva_c, arab_c = _CONSONANTS[c]
        inner, final, arab_v = _VOWELS[v]
        latin.append(lat_c + v)
        deva.append(deva_c + (final if i == len(syllables) - 1 else inner))
        arab.append(arab_c + arab_v)
    word = "".join(latin)
    return word[0].upper() + word[1:], "".join(deva), "".join(arab)


class _NameMaker:
    """Unique invented words, none of which is a word of the seed texts."""

    def __init__(self, rng: random.Random, vocabulary: set[str]):
        from parallel_corpus.stages.entities import normalize_key

        self._rng = rng
        self._taken: set[tuple[tuple[int, str], ...]] = set()
        self._vocabulary = vocabulary
        self._normalize = normalize_key

    def word(self, syllables: int, unique: bool = True) -> tuple[str, str, str]:
        """A new word; with `unique=False` it may repeat one made before (given
        names recur: many people are called Maria)."""
        for _ in range(10_000):
            key = tuple((self._rng.randrange(len(_CONSONANTS)), self._rng.choice("aiu")) for _ in range(syllables))
            if unique and key in self._taken:
                continue
            forms = _spell(key)
            if any(self._normalize(f) in self._vocabulary for f in forms):
                continue
            self._taken.add(key)
            return forms
        raise SyntheticError(f"ran out of invented {syllables}-syllable names: lower --max-entities")


def _person(qid: str, maker: _NameMaker) -> SyntheticEntity:
    given, family = maker.word(2, unique=False), maker.word(3)
    names = {}
    for i, lang in enumerate(("en", "hi", "ar")):
        names[lang] = (f"{given[i]} {family[i]}", family[i])
    names["sw"] = names["en"]
    return SyntheticEntity(qid, "person", names)


def _place(qid: str, maker: _NameMaker) -> SyntheticEntity:
    latin, deva, arab = maker.word(3)
    names = {"en": (latin, latin), "sw": (latin, latin), "hi": (deva, deva), "ar": (arab, arab)}
    return SyntheticEntity(qid, "place", names)


def _organisation(qid: str, maker: _NameMaker) -> SyntheticEntity:
    latin, deva, arab = maker.word(2)
    names = {"en": (_ORG_EN.format(X=latin),) * 2}
    for lang, x in (("sw", latin), ("hi", deva), ("ar", arab)):
        full = _TEXT[lang]["org"][0].format(X=x)
        names[lang] = (full, full)
    return SyntheticEntity(qid, "organisation", names)


def _entities_yaml(entities: Sequence[SyntheticEntity], head: dict[str, Any]) -> str:
    """The gazetteer beside the corpus, written line by line (PyYAML's dumper
    is slow for thousands of entries); strings are JSON, which YAML reads."""
    out = [
        "# Synthetic gazetteer written by scripts/make-synthetic-corpus: invented",
        "# people, places and organisations with synthetic QIDs (Q9000...), none of",
        "# them real. Spellings are consistent across Latin, Devanagari and Arabic.",
        "version: 1",
    ]
    if head:
        out.append(yaml.safe_dump(head, allow_unicode=True, sort_keys=True, default_flow_style=None, width=1000).rstrip())
    out.append("entities:")
    for e in entities:
        out.append(f"  - qid: {e.qid}")
        out.append(f"    type: {e.type}")
        out.append(f"    canonical: {json.dumps(e.canonical, ensure_ascii=False)}")
        out.append('    qid_checked: {verified: false, source: "synthetic: invented by scripts/make-synthetic-corpus", confidence: low}')
        out.append("    aliases:")
        for lang in ("en", "sw", "hi", "ar"):
            full, short = e.names[lang]
            forms = [full] if full == short else [full, short]
            out.append(f"      {lang}: [{', '.join(json.dumps(f, ensure_ascii=False) for f in forms)}]")
    return "\n".join(out) + "\n"


# -- topics and documents -----------------------------------------------------------


@dataclass
class _Topic:
    index: int
    date: dt.date
    number: int
    persons: list[SyntheticEntity]
    places: list[SyntheticEntity]
    orgs: list[SyntheticEntity]

    @property
    def id(self) -> str:
        return f"syn-topic-{self.index:06d}"


def _format_date(date: dt.date, lang: str, seed_text: SeedText, rng: random.Random) -> str:
    spellings = seed_text.months[lang][date.month - 1]
    month = spellings[0]
    # Levantine outlets write two names of a month: "24 شباط/فبراير".
    if lang == "ar" and len(spellings) > 1 and rng.random() < 0.3:
        month = f"{spellings[1]}/{spellings[0]}"
    return f"{date.day} {month} {date.year}"


def _format_number(n: int, lang: str, rng: random.Random) -> str:
    if lang == "ar" and rng.random() < 0.3:
        return f"{n:,}".replace(",", "٬").translate(_ARABIC_INDIC)
    return f"{n:,}" if rng.random() < 0.7 else str(n)


def _slots(topic: _Topic, lang: str, seed_text: SeedText, rng: random.Random, corpus_wide: dict[str, dict[str, str]]) -> dict[str, str]:
    slots: dict[str, str] = dict(corpus_wide[lang])
    for letter, group in (("P", topic.persons), ("L", topic.places), ("O", topic.orgs)):
        for i, e in enumerate(group):
            full, short = e.names[lang]
            slots[f"{letter}{i}"] = full
            slots[f"{letter}{i}s"] = short
    slots["DATE"] = _format_date(topic.date, lang, seed_text, rng)
    slots["YEAR"] = str(topic.date.year)
    slots["NUM"] = _format_number(topic.number, lang, rng)
    return slots


def _document(
    index: int, topic: _Topic, lang: str, seed_text: SeedText, rng: random.Random, corpus_wide: dict[str, dict[str, str]]
) -> tuple[bytes, Optional[str]]:
    """The raw bytes of one article and its declared publication date."""
    texts = _TEXT[lang]
    slots = _slots(topic, lang, seed_text, rng, corpus_wide)
    slots["N1"] = _format_number(rng.randrange(12, 9_999), lang, rng)
    # Unique per document, so no two documents are the same after cleaning.
    slots["N2"] = _format_number(10_000 + index, lang, rng)
    fill = lambda template: template.format_map(slots)  # noqa: E731
    title = fill(rng.choice(texts["title"]))
    slots["TITLE"] = title

    header: list[str] = []
    if rng.random() < 0.15:
        header += ["."] * rng.randint(1, 4)
    labelled = rng.random() < 0.3
    if labelled:
        header.append(rng.choice(texts["section"]))
    header.append(title)
    if labelled or rng.random() < 0.4:
        header.append(fill(rng.choice(texts["subtitle"])))
    if rng.random() < 0.3:
        header.append(fill(rng.choice(texts["metadata"])))

    # Everything but the prose first, so the prose can fill the size band
    # without ever pushing the file past MAX_BYTES.
    crlf = rng.random() < 0.05
    bom = rng.random() < 0.02
    dateline = rng.random()
    inserts: list[list[str]] = []
    if rng.random() < 0.4:
        inserts.append([fill(rng.choice(texts["heading"]))])
    if rng.random() < 0.35:
        caption = fill(rng.choice(texts["caption"]))
        inserts.append([caption, caption])  # the page prints a caption twice
    if rng.random() < 0.2:
        inserts.append([fill(rng.choice(texts["credit"])), fill(rng.choice(texts["caption_label"]))])
    if rng.random() < 0.2:
        inserts.append([fill(rng.choice(texts["read_more"]))])
    trailer: list[str] = []
    phrases = seed_text.chrome_phrases.get(lang) or []
    english = seed_text.chrome_phrases.get("en") or []
    if phrases and rng.random() < 0.5:
        trailer.append(rng.choice(phrases))
    if phrases and rng.random() < 0.3:
        trailer.append(" ".join(rng.sample(phrases, min(2, len(phrases)))))
    if english and rng.random() < 0.2:
        trailer.append(rng.choice(english).capitalize())
    if rng.random() < 0.1:
        trailer.append(".")
    sep = "\n\n" if rng.random() < 0.5 else "\n"
    final_newline = rng.random() < 0.7

    def cost(line: str) -> int:
        # Bytes of a line with its separator, counted as CRLF (the worst case).
        return len(line.encode("utf-8")) + 2 * len(sep)

    fixed = 3 + cost(slots["DATE"]) + sum(cost(x) for x in header + trailer) + sum(cost(x) for group in inserts for x in group)
    budget = MAX_BYTES - fixed
    target = min(budget, rng.randint(MIN_BYTES + 300, MAX_BYTES - 600) - fixed)

    # Paragraphs: the story's sentence first (its date and figure are what
    # the other languages share), this document's own sentence second, then
    # seed sentences, each used once before any repeats, while they fit.
    pool = seed_text.sentences[lang]
    drawn = itertools.cycle(rng.sample(pool, len(pool)))
    paragraphs = [[fill(rng.choice(texts["topic"]))], [fill(rng.choice(texts["unique"]))]]
    size = sum(cost(" ".join(p)) for p in paragraphs)
    for _ in range(200):
        if size >= target:
            break
        sentence = fill(next(drawn))
        extra = len(sentence.encode("utf-8")) + 1
        if size + extra + 2 * len(sep) > budget:
            break
        if len(paragraphs) < 3 or rng.random() < 0.4:
            paragraphs.append([sentence])
            size += extra + 2 * len(sep)
        else:
            paragraphs[-1].append(sentence)
            size += extra
    body = [" ".join(p) for p in paragraphs]
    if dateline < 0.15:
        body[0] = slots["DATE"] + body[0]  # a dateline glued by a lost line break
    elif dateline < 0.25:
        body.insert(0, slots["DATE"])
    for group in inserts:
        at = rng.randint(1, len(body))
        body[at:at] = group

    text = sep.join(header + body + trailer) + ("\n" if final_newline else "")
    if crlf:
        text = text.replace("\n", "\r\n")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    assert len(data) <= MAX_BYTES, len(data)
    published = None
    if rng.random() < 0.8:
        published = (topic.date + dt.timedelta(days=rng.randint(0, 2))).isoformat()
    return data, published


def _topic_sizes(n: int, rng: random.Random) -> list[int]:
    """About ten documents per story, between 6 and 14; the last story may be smaller."""
    sizes: list[int] = []
    left = n
    while left > 0:
        size = min(left, rng.randint(6, 14))
        sizes.append(size)
        left -= size
    if len(sizes) > 1 and sizes[-1] < 3:
        last = sizes.pop()  # (not `sizes[-2] += sizes.pop()`: the index is taken before the pop)
        sizes[-1] += last
    return sizes


def _dataset_yaml(original: bytes) -> bytes:
    """The seed corpus's dataset.yaml with version 0.0.0 and a name that says
    synthetic, so a synthetic build is never published as the real dataset."""
    text = original.decode("utf-8")
    replacements = {
        "version": "0.0.0",
        "name": "synthetic-parallel-news",
        "pretty_name": '"Synthetic parallel news (sw, hi, ar) for tests and benchmarks"',
    }
    for key, value in replacements.items():
        text, n = re.subn(rf"(?m)^{key}:.*$", f"{key}: {value}", text, count=1)
        if n == 0:
            raise SyntheticError(f"dataset.yaml of the seed corpus has no top-level {key}:")
    text = re.sub(
        r"(?ms)^description:.*?(?=^\S)",
        "description: >-\n  Synthetic news articles generated by scripts/make-synthetic-corpus from\n"
        "  the seed articles of this repository, with invented people and places.\n",
        text,
        count=1,
    )
    return text.encode("utf-8")


def _topics_yaml(topics: Sequence[_Topic]) -> str:
    out = ["# Synthetic topic catalog (make-synthetic-corpus --catalog).", "version: 1", "topics:"]
    for t in topics:
        start = (t.date - dt.timedelta(days=3)).isoformat()
        end = (t.date + dt.timedelta(days=7)).isoformat()
        title = f"Synthetic story {t.index}: {t.persons[0].canonical} and {t.persons[1].canonical} in {t.places[0].canonical}"
        out += [
            f"  - id: {t.id}",
            f"    title: {json.dumps(title)}",
            f"    entities: [{t.persons[0].qid}, {t.places[1].qid}]",
            "    min_entities: 2",
            f"    window: {{start: {start}, end: {end}}}",
        ]
    return "\n".join(out) + "\n"


def make_corpus(
    n: int,
    out_dir: Path,
    seed: int = 0,
    seed_corpus: Optional[Path] = None,
    catalog: bool = False,
    max_entities: int = DEFAULT_MAX_ENTITIES,
    force: bool = False,
) -> dict[str, Any]:
    """Write a synthetic corpus folder of `n` documents to `out_dir`; return its manifest.

    The folder is written beside `out_dir` and renamed into place at the end,
    so a reader never sees half a corpus. Besides the corpus files it holds
    `gold-topics.tsv` (document id, story id: the truth for
    `parallel-corpus evaluate-alignment --gold`) and `synthetic.json` (what
    made it: N, seed, generator version, fingerprint of the seed corpus).
    """
    if n < 1:
        raise SyntheticError(f"N must be at least 1, got {n}")
    if max_entities < PERSONS_PER_TOPIC + PLACES_PER_TOPIC:
        raise SyntheticError(f"--max-entities must be at least {PERSONS_PER_TOPIC + PLACES_PER_TOPIC}")
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not force:
        raise SyntheticError(f"{out_dir} exists and is not empty: remove it or pass --force")
    seed_corpus = Path(seed_corpus) if seed_corpus is not None else Path(__file__).resolve().parents[2] / "corpus"
    seed_text = load_seed_text(seed_corpus)

    rng = random.Random(f"parallel-corpus synthetic v{GENERATOR_VERSION} seed {seed}")
    sizes = _topic_sizes(n, rng)
    maker = _NameMaker(rng, seed_text.vocabulary)
    next_qid = iter(range(QID_BASE + 1, QID_BASE + 10**8))
    qid = lambda: f"Q{next(next_qid)}"  # noqa: E731
    orgs = [_organisation(qid(), maker) for _ in range(max(GLOBAL_ORGS, seed_text.global_slots.get("GO", 0)))]
    global_places = [_place(qid(), maker) for _ in range(seed_text.global_slots.get("GL", 0))]
    corpus_wide = {
        lang: {**{f"GO{i}": e.names[lang][0] for i, e in enumerate(orgs)}, **{f"GL{i}": e.names[lang][0] for i, e in enumerate(global_places)}}
        for lang in LANGUAGES
    }
    own = PERSONS_PER_TOPIC + PLACES_PER_TOPIC
    pool_persons = min(PERSONS_PER_TOPIC * len(sizes), max_entities * PERSONS_PER_TOPIC // own)
    pool_places = min(PLACES_PER_TOPIC * len(sizes), max_entities * PLACES_PER_TOPIC // own)
    persons = [_person(qid(), maker) for _ in range(pool_persons)]
    places = [_place(qid(), maker) for _ in range(pool_places)]
    span_days = (DATE_RANGE[1] - DATE_RANGE[0]).days
    topics: list[_Topic] = []
    for t in range(len(sizes)):
        if pool_persons >= PERSONS_PER_TOPIC * len(sizes):
            tp = persons[t * PERSONS_PER_TOPIC : (t + 1) * PERSONS_PER_TOPIC]
            tl = places[t * PLACES_PER_TOPIC : (t + 1) * PLACES_PER_TOPIC]
        else:
            tp = rng.sample(persons, PERSONS_PER_TOPIC)
            tl = rng.sample(places, PLACES_PER_TOPIC)
        topics.append(
            _Topic(
                index=t + 1,
                date=DATE_RANGE[0] + dt.timedelta(days=rng.randrange(span_days + 1)),
                number=rng.randrange(1_000, 999_999),
                persons=tp,
                places=tl,
                orgs=rng.sample(orgs, ORGS_PER_TOPIC),
            )
        )
    # Story of every document slot, each story in all three languages, the
    # slots shuffled: a crawl lists articles by time, not by story.
    slots: list[tuple[int, str]] = []
    for t, size in enumerate(sizes):
        offset = rng.randrange(len(LANGUAGES))
        slots += [(t, LANGUAGES[(offset + k) % len(LANGUAGES)]) for k in range(size)]
    rng.shuffle(slots)
    assert len(slots) == n, (len(slots), n)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        raw = staging / "raw"
        raw.mkdir()
        width = max(6, len(str(n)))
        sources: list[str] = []
        gold: list[str] = []
        languages: dict[str, int] = {}
        total_bytes = 0
        for i, (t, lang) in enumerate(slots):
            doc_id = f"{i:0{width}d}_{hashlib.sha256(f'{seed}:{i}'.encode()).hexdigest()[:16]}"
            data, published = _document(i, topics[t], lang, seed_text, rng, corpus_wide)
            (raw / f"{doc_id}.txt").write_bytes(data)
            total_bytes += len(data)
            languages[lang] = languages.get(lang, 0) + 1
            outlet = rng.choice(_OUTLETS[lang]) if rng.random() < 0.9 else None
            record = {
                "id": doc_id,
                "file": f"{doc_id}.txt",
                "sha256": hashlib.sha256(data).hexdigest(),
                "language": lang if rng.random() < 0.97 else None,
                "outlet": outlet,
                "url": f"https://news.example/{lang}/{doc_id}" if outlet else None,
                "published": published,
                "license": None,
            }
            sources.append(json.dumps(record, ensure_ascii=False))
            gold.append(f"{doc_id}\t{topics[t].id}")
        (staging / "sources.jsonl").write_text("\n".join(sources) + "\n", encoding="utf-8")
        (staging / "gold-topics.tsv").write_text("\n".join(gold) + "\n", encoding="utf-8")
        (staging / "dataset.yaml").write_bytes(_dataset_yaml(seed_text.copied_files["dataset.yaml"]))
        for name in ("cleaning.yaml", "languages.yaml", "dates.yaml"):
            (staging / name).write_bytes(seed_text.copied_files[name])
        (staging / "entities.yaml").write_text(_entities_yaml(orgs + global_places + persons + places, seed_text.entities_yaml), encoding="utf-8")
        if catalog:
            (staging / "topics.yaml").write_text(_topics_yaml(topics), encoding="utf-8")
        manifest = {
            "generator": "parallel_corpus.synthetic",
            "generator_version": GENERATOR_VERSION,
            "documents": n,
            "seed": seed,
            "catalog": catalog,
            "max_entities": max_entities,
            "topics": len(topics),
            "entities": len(orgs) + len(global_places) + len(persons) + len(places),
            "languages": dict(sorted(languages.items())),
            "raw_bytes": total_bytes,
            "seed_corpus_fingerprint": seed_text.fingerprint,
        }
        (staging / "synthetic.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.rename(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest
