"""Topic-level alignment: documents to catalog topics, the rest to clusters, then pairs.

Input: one compact signature per document (entities, dates, number and
name keys; built by `signature`), and optionally the topic catalog of
`corpus/topics.yaml`. Output: an `Assignment` per document id and the rows
of the `pairs` config. Everything here is near-linear in the number of
documents: candidates come from an inverted index over signature keys, never
from comparing all pairs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import math
import random
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from array import array
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .caching import WORD_CACHE_SIZE, CharTable
from .config import CorpusError, check_curated, load_yaml
from .entities import split_tokens
from .signatures import SignatureStore, as_date

__all__ = [
    "Assignment",
    "Catalog",
    "Topic",
    "Event",
    "ClusterParams",
    "load_catalog",
    "signature",
    "name_keys",
    "skeleton",
    "assign_topics",
    "make_pairs",
    "plan_pairs",
    "pair_columns",
    "pair_rows",
    "similarities",
    "weighted_keys",
]

# ---------------------------------------------------------------------------
# Cross-script keys.
#
# A story translated into Swahili, Hindi and Arabic keeps its numbers and
# transliterates its names: "Trump", "ट्रम्प", "ترامب". Reducing a word to a
# skeleton of consonant classes (vowels, semivowels and h dropped; letters
# that the scripts confuse put in one class) makes those three meet as
# "TRMB". These are properties of the scripts, not curated word lists.
# ---------------------------------------------------------------------------

_LATIN_DIGRAPHS = [("sch", "S"), ("sh", "S"), ("ch", "S"), ("ts", "S"), ("th", "T"), ("ph", "F"), ("kh", "K"), ("gh", "G"), ("ck", "K"), ("dh", "D"), ("zh", "S"), ("qu", "K")]
_LATIN = {
    "b": "B", "p": "B", "f": "F", "v": "F", "k": "K", "q": "K", "c": "K", "g": "G", "j": "G",
    "t": "T", "d": "D", "s": "S", "z": "S", "x": "KS", "l": "L", "r": "R", "m": "M", "n": "N",
}
_ARABIC = {
    "ب": "B", "پ": "B", "ف": "F", "ڤ": "F", "ك": "K", "ک": "K", "ق": "K", "خ": "K",
    "ج": "G", "غ": "G", "گ": "G", "ت": "T", "ط": "T", "ث": "T", "د": "D", "ض": "D", "ذ": "D",
    "س": "S", "ص": "S", "ز": "S", "ش": "S", "ظ": "S", "چ": "S", "ل": "L", "ر": "R", "م": "M", "ن": "N",
}
_DEVANAGARI = {
    "ब": "B", "भ": "B", "प": "B", "फ": "F", "व": "F", "क": "K", "ख": "K", "ग": "G", "घ": "G",
    "ज": "G", "झ": "G", "त": "T", "थ": "T", "ट": "T", "ठ": "T", "द": "D", "ध": "D", "ड": "D",
    "ढ": "D", "स": "S", "श": "S", "ष": "S", "च": "S", "छ": "S", "ल": "L", "र": "R", "म": "M",
    "न": "N", "ण": "N", "ङ": "N", "ञ": "N", "\u0902": "N",
}
# Nukta letters: ज़ is z, फ़ is f, ड़/ढ़ are flaps written r in Latin.
_DEVA_NUKTA_CLASS = {"ज": "S", "फ": "F", "ड": "R", "ढ": "R", "क": "K", "ख": "K", "ग": "G"}
_ARABIC_CLITICS = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف", "ك")


@lru_cache(maxsize=WORD_CACHE_SIZE)
def skeleton(word: str) -> str:
    """The consonant-class skeleton of one word in Latin, Arabic or Devanagari.

    Repeated classes collapse ("Harrison" = "Harison"); words of other scripts
    give "". Deterministic and table-driven, so a new script is a new table.
    Per character the work is `str.translate` over the tables (see
    `caching.CharTable`); only a Devanagari nukta, which changes the letter before
    it, is read character by character.
    """
    w = unicodedata.normalize("NFD", word)
    if w and "a" <= w[0].lower() <= "z":
        if not w.isascii():
            w = w.translate(_WITHOUT_MARKS)
        w = w.lower()
        # c is s before e/i/y ("Cecil"), k elsewhere.
        w = re.sub(r"c(?=[eiy])", "s", w)
        for digraph, cls in _LATIN_DIGRAPHS:
            w = w.replace(digraph, cls)
        # A digraph's class is already upper case and stays.
        classes = w.translate(_LATIN_CLASSES)
    elif "\u093c" not in w:
        classes = w.translate(_ARABIC_DEVANAGARI_CLASSES)
    else:
        out: list[str] = []
        n = len(w)
        for i, c in enumerate(w):
            if c in _ARABIC:
                out.append(_ARABIC[c])
            elif c in _DEVANAGARI:
                nukta = i + 1 < n and w[i + 1] == "\u093c"
                out.append(_DEVA_NUKTA_CLASS.get(c, _DEVANAGARI[c]) if nukta else _DEVANAGARI[c])
        classes = "".join(out)
    return _REPEATED.sub(r"\1", classes)


_WITHOUT_MARKS = CharTable(lambda c: "" if unicodedata.combining(c) else c)
_LATIN_CLASSES = CharTable(lambda c: c if c.isupper() else _LATIN.get(c, ""))
_ARABIC_DEVANAGARI_CLASSES = CharTable(lambda c: _ARABIC.get(c) or _DEVANAGARI.get(c) or "")
_REPEATED = re.compile(r"(.)\1+", re.DOTALL)


def name_keys(text: str, language: str | None, min_consonants: int = 3) -> list[str]:
    """Skeleton keys of the words that may be names, sorted and unique.

    Latin-script text capitalises names, so there only capitalised words that
    do not open a sentence count; Arabic and Devanagari have no capitals, so
    every word counts and rarity (document frequency) sorts names from words
    later. Arabic words also give their skeleton without leading clitics
    (و ب ل ف ك ال), since a name may carry them.
    """
    parts = split_tokens(text)
    tokens = parts[1::2]
    if not tokens:
        return []
    gaps = parts[0:-1:2]  # gaps[k] is the text between token k-1 and token k
    cache = _NAME_KEY_CACHE.setdefault(min_consonants, {})
    # News repeats its words: each distinct word is reduced once, and its
    # keys are remembered for the next documents.
    distinct = set(tokens)
    new = distinct.difference(cache)
    if new:
        if len(cache) + len(new) > _MAX_CACHED_WORDS:
            # A fresh dict, not clear(): a concurrent call keeps its own.
            cache = _NAME_KEY_CACHE[min_consonants] = {}
            new = distinct
        for tok in new:
            cache[tok] = _word_name_keys(tok, min_consonants)
    keys: set[str] = set()
    capitalised: list[tuple[str, tuple[str, ...]]] = []
    for tok in distinct:
        latin, word_keys = cache[tok]
        if not word_keys:
            continue
        if latin:
            capitalised.append((tok, word_keys))
        else:
            keys.update(word_keys)
    if capitalised:
        # A capitalised Latin word counts if one of its occurrences does not
        # open a sentence; whether one does depends only on the gap before it.
        opening = {gap for gap in set(gaps) if _gap_opens_sentence(gap)}
        inside = {tok for tok, gap in zip(tokens[1:], gaps[1:]) if gap not in opening}
        # Before the first word lies the start of the text, not a word.
        if not _opens_sentence(text, len(gaps[0])):
            inside.add(tokens[0])
        for tok, word_keys in capitalised:
            if tok in inside:
                keys.update(word_keys)
    return sorted(keys)


# Distinct words remembered by `name_keys` (per `min_consonants`); forgetting
# only costs recomputation.
_NAME_KEY_CACHE: dict[int, dict[str, tuple[bool, tuple[str, ...]]]] = {}
_MAX_CACHED_WORDS = WORD_CACHE_SIZE


def _word_name_keys(tok: str, min_consonants: int) -> tuple[bool, tuple[str, ...]]:
    """The keys one word gives `name_keys`, and whether they count only off a sentence start.

    (True, keys) for a capitalised Latin word, (False, keys) for an Arabic
    or Devanagari word (with and without its clitics), (False, ()) for
    anything else.
    """
    first = tok[0]
    if first.isdigit():
        return False, ()
    latin = False
    if "a" <= first.lower() <= "z" or first in "ÁÉÍÓÚáéíóú":
        if not first.isupper():
            return False, ()
        latin, variants = True, [tok]
    elif "\u0600" <= first <= "\u06ff":
        variants = [tok] + [tok[len(c):] for c in _ARABIC_CLITICS if tok.startswith(c) and len(tok) - len(c) >= 3]
    elif "\u0900" <= first <= "\u097f":
        variants = [tok]
    else:
        return False, ()
    keys = {"w:" + sk for v in variants if len(sk := skeleton(v)) >= min_consonants}
    return latin, tuple(sorted(keys))


_SENTENCE_LEAD = " \t\"'“”«»("
_SENTENCE_END = ".!?:\n\u0964\u061f"


def _gap_opens_sentence(gap: str) -> bool:
    """Whether a word after `gap` (and after another word) opens a sentence.

    The same test as `_opens_sentence`: the gap holds everything between
    the two words, and a word character never ends a sentence.
    """
    rest = gap.rstrip(_SENTENCE_LEAD)
    return bool(rest) and rest[-1] in _SENTENCE_END


def _opens_sentence(text: str, pos: int) -> bool:
    j = pos - 1
    while j >= 0 and text[j] in _SENTENCE_LEAD:
        j -= 1
    return j < 0 or text[j] in _SENTENCE_END


_NUMBER = re.compile(r"\d+(?:[.,\u066b\u066c]\d+)*")


def number_keys(text: str) -> list[str]:
    """Numbers of two digits or more, in any script's digits, as "n:<value>".

    "380,000", "380٬000" and "३८०,०००" meet as "n:380000"; "7.5" and "7٫5"
    as "n:7.5". Single digits are too common to say anything about a story.
    """
    keys: set[str] = set()
    for raw in set(_NUMBER.findall(text)):
        keys.update(_number_keys_of(raw))
    return sorted(keys)


@lru_cache(maxsize=WORD_CACHE_SIZE)
def _number_keys_of(raw: str) -> tuple[str, ...]:
    """The keys of one written number (cached: years and counts recur across news)."""
    keys: set[str] = set()
    digits = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in raw)
    # A group of exactly three digits after a separator is thousands;
    # anything else after "." or "٫" is a decimal part.
    parts = re.split(r"([.,\u066b\u066c])", digits)
    value = parts[0]
    for sep, grp in zip(parts[1::2], parts[2::2]):
        if sep in ",\u066c" and len(grp) == 3:
            value += grp
        elif sep in ".\u066b":
            value += "." + grp
        else:
            keys.add("n:" + value.lstrip("0"))
            value = grp
    value = value.lstrip("0") or "0"
    if len(value.split(".")[0]) >= 2 or "." in value:
        keys.add("n:" + value)
    return tuple(k for k in keys if len(k) > 3 or "." in k)


def signature(
    doc_row: Mapping[str, Any],
    entities: Iterable[Mapping[str, Any]],
    dates: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """The record alignment works on, made where the document is (a worker
    sends it back; the build keeps it in a `SignatureStore`).

    `doc_row` needs `id`, `language`, `text` and may have `published`
    (date, ISO string or None); `entities` and `dates` are what
    `Gazetteer.find` and `Calendar.find_dates` returned for its text.
    `labels` maps a few keys to a surface form, for naming clusters.
    """
    text = str(doc_row.get("text") or "")
    language = doc_row.get("language")
    published = as_date(doc_row.get("published"))
    qids: dict[str, str] = {}
    for e in entities:
        qids.setdefault(str(e["qid"]), str(e.get("canonical") or e.get("text") or e["qid"]))
    # `date` may be a datetime.date (from `find_dates`) or its ISO string
    # (from a row already shaped for Parquet).
    day_dates = sorted(
        {x.isoformat() for d in dates if d.get("precision") == "day" and (x := as_date(d.get("date"))) is not None}
    )
    keys = number_keys(text) + name_keys(text, language)
    labels = dict(sorted(qids.items()))
    # Surface forms for the name keys that open the document (its headline),
    # which is where a curator looks first.
    key_set = set(keys)
    for word in split_tokens(text[:300])[1::2]:
        sk = skeleton(word)
        if len(sk) >= 3 and f"w:{sk}" in key_set and f"w:{sk}" not in labels:
            labels[f"w:{sk}"] = word
    return {
        "id": str(doc_row["id"]),
        "language": language,
        "published": published,
        "entities": sorted(qids),
        "dates": day_dates,
        "keys": keys,
        "labels": labels,
    }


# ---------------------------------------------------------------------------
# The topic catalog.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    id: str
    title: str
    start: dt.date
    end: dt.date
    place: str | None
    entities: tuple[str, ...]
    min_entities: int


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    start: dt.date
    end: dt.date
    entities: tuple[str, ...]
    min_entities: int
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Catalog:
    topics: tuple[Topic, ...]

    @property
    def by_id(self) -> dict[str, Topic]:
        return {t.id: t for t in self.topics}


def load_catalog(corpus_dir: str | Path) -> Catalog | None:
    """Read `topics.yaml` from a corpus folder; None when the folder has none.

    A corpus without a catalog is aligned by clustering alone (DESIGN).
    """
    path = Path(corpus_dir)
    if path.is_dir():
        path = path / "topics.yaml"
    if not path.exists():
        return None
    # Dates as ISO strings before the schema sees them (YAML reads them as dates).
    data = _plain(load_yaml(path))
    check_curated(data, path, "topics")
    topics = []
    seen: set[str] = set()
    for t in data["topics"]:
        events = tuple(
            Event(
                id=e["id"],
                title=e["title"],
                start=as_date(e["window"]["start"]),  # type: ignore[arg-type]
                end=as_date(e["window"]["end"]),  # type: ignore[arg-type]
                place=e.get("place"),
                entities=tuple(e.get("entities") or ()),
                min_entities=int(e.get("min_entities", math.ceil(len(e.get("entities") or ()) / 2))),
            )
            for e in t.get("events") or []
        )
        for ident in [t["id"], *(e.id for e in events)]:
            if ident in seen:
                raise CorpusError(f"{path}: duplicate id {ident}: topic and event ids must be unique")
            seen.add(ident)
        entities = tuple(t["entities"])
        topics.append(
            Topic(
                id=t["id"],
                title=t["title"],
                start=as_date(t["window"]["start"]),  # type: ignore[arg-type]
                end=as_date(t["window"]["end"]),  # type: ignore[arg-type]
                entities=entities,
                min_entities=int(t.get("min_entities", len(entities))),
                events=events,
            )
        )
    return Catalog(tuple(topics))


def _plain(value: Any) -> Any:
    """YAML reads 2021-05-12 as a date; the schema (like JSON) speaks strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------------
# Assignment.
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assignment:
    topic_id: str
    topic_title: str
    event_id: str | None
    topic_source: str  # "catalog" | "cluster"
    score: float
    evidence: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic_id": self.topic_id,
            "topic_title": self.topic_title,
            "event_id": self.event_id,
            "topic_source": self.topic_source,
            "score": self.score,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class ClusterParams:
    """Knobs of the clustering; the defaults are what `scripts/measure-ntrex-alignment` reports.

    `threshold` is the least average-link similarity at which two clusters
    merge; `max_df_fraction`/`max_df` drop keys too common to tell stories
    apart (they also bound the candidate pairs an inverted index yields);
    `neighbours` keeps each document's strongest candidate links only.
    A name key met in one language only is far more often a common word
    of that language than a transliterated name; it weighs
    `single_script_name_weight` of a name key met across scripts.
    The defaults were chosen on the 20 NTREX stories (see the report of
    `scripts/measure-ntrex-alignment`): F1 stays >= 0.93 for thresholds
    0.15-0.25, so they are not balanced on a knife edge, but they were
    not validated on unseen stories.
    """

    threshold: float = 0.2
    max_df_fraction: float = 0.2
    max_df: int = 200
    neighbours: int = 30
    entity_weight: float = 2.0
    date_weight: float = 1.5
    number_weight: float = 1.0
    name_weight: float = 1.0
    single_script_name_weight: float = 0.1
    min_df_limit: int = 5


def _catalog_match(sig: Mapping[str, Any], catalog: Catalog) -> Assignment | None:
    """The best catalog topic (and event) for one signature, or None.

    A topic fits when the document names at least `min_entities` of its
    defining entities and its publication date (when known) lies in the
    topic's window; dates the text mentions only add evidence, since news
    also recalls the past ("since 2014"). Among a topic's events the one
    whose defining entities and dates fit best wins; a tie leaves no event.
    """
    doc_entities = set(sig.get("entities") or [])
    published = as_date(sig.get("published"))
    mentioned = [d for d in (as_date(x) for x in sig.get("dates") or []) if d is not None]
    best: tuple[float, str, Assignment] | None = None
    for topic in catalog.topics:
        shared = [q for q in topic.entities if q in doc_entities]
        if len(shared) < topic.min_entities:
            continue
        if published is not None and not (topic.start <= published <= topic.end):
            continue
        in_window = [d for d in mentioned if topic.start <= d <= topic.end]
        entity_part = len(shared) / max(1, len(topic.entities))
        date_part = 1.0 if (published is not None or in_window) else 0.5
        event_id, event_score, event_evidence = _best_event(topic, doc_entities, published, mentioned)
        score = round(0.6 * entity_part + 0.2 * date_part + 0.2 * event_score, 4)
        evidence = tuple(
            sorted(set(shared) | set(event_evidence) | {d.isoformat() for d in in_window})
        )
        assignment = Assignment(topic.id, topic.title, event_id, "catalog", score, evidence)
        key = (score, topic.id)
        if best is None or key[0] > best[0] or (key[0] == best[0] and key[1] < best[1]):
            best = (score, topic.id, assignment)
    return best[2] if best else None


def _best_event(
    topic: Topic, doc_entities: set[str], published: dt.date | None, mentioned: list[dt.date]
) -> tuple[str | None, float, list[str]]:
    scored: list[tuple[float, str, list[str]]] = []
    for event in topic.events:
        if published is not None and not (event.start <= published <= event.end + dt.timedelta(days=14)):
            continue
        shared = [q for q in event.entities if q in doc_entities]
        if len(shared) < event.min_entities:
            continue
        in_window = [d.isoformat() for d in mentioned if event.start <= d <= event.end]
        # A publication date has passed the window test above.
        date_part = 1.0 if (in_window or published is not None) else 0.0
        score = 0.7 * len(shared) / max(1, len(event.entities)) + 0.3 * date_part
        scored.append((round(score, 4), event.id, shared + in_window))
    if not scored:
        return None, 0.0, []
    scored.sort(key=lambda s: (-s[0], s[1]))
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None, 0.0, []
    return scored[0][1], scored[0][0], scored[0][2]


def _key_weights(store: SignatureStore, params: ClusterParams) -> np.ndarray:
    """Inverse-document-frequency weight per key of the store's vocabulary, by
    key kind; 0 for a key that cannot weigh.

    Keys in one document say nothing about pairs and keys in too many say
    nothing about stories; both get no weight. A name key met in one
    language only is more likely a common word of that language than a
    transliterated name, so it counts less.
    """
    n = len(store)
    # A small corpus keeps every shared key: "in most of 5 documents" is
    # still evidence there, while in 100k documents it is noise.
    limit = min(params.max_df, max(params.min_df_limit, int(params.max_df_fraction * n)))
    weights = np.zeros(len(store.keys))
    kind_weight = {"e:": params.entity_weight, "d:": params.date_weight, "n:": params.number_weight}
    for k, c in enumerate(store.df):
        if c < 2 or c > limit:
            continue
        key = store.keys[k]
        w = kind_weight.get(key[:2])
        if w is None:
            w = params.name_weight if store.multi_script[k] else params.single_script_name_weight
        # math.log, not NumPy's: its last bit does not depend on the processor.
        weights[k] = w * (math.log(n / c) + 0.1)
    return weights


class _WeightedKeys:
    """Every document's weighted keys as one flat array (ascending key ids per
    document) with their squared weights, and each document's norm: the
    vectors of the cosine similarity, in arrays, summed in key order so that
    a similarity is the same bits whichever document it is computed from."""

    def __init__(self, store: SignatureStore, weights: np.ndarray):
        ids = np.frombuffer(store.key_ids, dtype=np.int32) if len(store.key_ids) else np.zeros(0, dtype=np.int32)
        starts = np.frombuffer(store.key_start, dtype=np.int64)
        doc_of = np.repeat(np.arange(len(store), dtype=np.int32), np.diff(starts))
        keep = weights[ids] > 0
        # Stored order is entities, dates, rest; sort each document's keys by id.
        order = np.lexsort((ids[keep], doc_of[keep]))
        self.weights = weights
        # Squared weights by key: looked up where needed rather than stored
        # per occurrence (int32 ids keep the arrays at 8 bytes a key).
        self.w2_of_key = weights**2
        self.keys = ids[keep][order]
        self.docs = doc_of[keep][order]
        del ids, doc_of, keep, order
        self.start = np.searchsorted(self.docs, np.arange(len(store) + 1))
        sums = np.zeros(len(store))
        np.add.at(sums, self.docs, self.w2_of_key[self.keys])  # unbuffered: in order, one addition at a time
        self.norm = np.sqrt(sums)
        self.norm[self.norm == 0] = 1.0
        self.vocabulary = len(weights)


def similarities(weighted: _WeightedKeys, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of the weighted key sets of documents a[i] and b[i],
    in [0, 1]; 0 where either has no weighted key."""
    out = np.zeros(len(a))
    for lo in range(0, len(a), 20_000):
        pa, pb = a[lo : lo + 20_000], b[lo : lo + 20_000]
        pair = np.arange(len(pa))
        la = weighted.start[pa + 1] - weighted.start[pa]
        lb = weighted.start[pb + 1] - weighted.start[pb]
        # Each pair's keys of both documents, as codes pair * V + key: a code
        # met twice is a key the two share.
        rows = np.concatenate([_ranges(weighted.start[pa], la), _ranges(weighted.start[pb], lb)])
        owner = np.concatenate([np.repeat(pair, la), np.repeat(pair, lb)])
        codes = owner * weighted.vocabulary + weighted.keys[rows].astype(np.int64)
        order = np.argsort(codes, kind="stable")
        codes, rows, owner = codes[order], rows[order], owner[order]
        twice = np.flatnonzero(codes[1:] == codes[:-1])
        dots = np.zeros(len(pa))
        np.add.at(dots, owner[twice], weighted.w2_of_key[weighted.keys[rows[twice]]])
        sims = dots / (weighted.norm[pa] * weighted.norm[pb])
        out[lo : lo + len(pa)] = np.minimum(1.0, sims)
    return out


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of range(starts[i], starts[i] + lengths[i])."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + offsets


# Documents whose candidates are gathered in one vector step.
_GRAPH_BLOCK = 128


@dataclass
class _Edges:
    """The candidate graph as three arrays, in the order its links were made
    (document by document, best first): (i, j, s) stands for graph[i][j] =
    graph[j][i] = s. Arrays cost a few bytes a link where a dict of dicts
    costs a hundred, and the order lets each connected part be rebuilt as
    the same dicts the whole graph would give."""

    i: np.ndarray
    j: np.ndarray
    s: np.ndarray


def _candidate_graph(store: SignatureStore, docs: Sequence[int], weighted: _WeightedKeys, params: ClusterParams) -> _Edges:
    """Similarities of documents that share a weighted key, each kept to its
    top neighbours; local indexes into `docs`.

    An inverted index (key -> documents, only keys of bounded frequency)
    gives each document its candidates; a document's similarities to all of
    them come from one vector sum, and only its `neighbours` best are kept,
    so memory stays at `neighbours` links a document.
    """
    if len(docs) == len(store):
        # Every document (no catalog): the store's arrays as they are.
        keys, owners = weighted.keys, weighted.docs
    else:
        local = np.full(len(store), -1, dtype=np.int32)
        local[np.asarray(docs, dtype=np.int64)] = np.arange(len(docs), dtype=np.int32)
        member = local[weighted.docs] >= 0
        keys, owners = weighted.keys[member], local[weighted.docs[member]]
    norm = weighted.norm[np.asarray(docs, dtype=np.int64)]
    # Postings: for each key, its documents in ascending local order.
    order = np.lexsort((owners, keys))
    posting_docs = owners[order]
    posting_start = np.searchsorted(keys[order], np.arange(weighted.vocabulary + 1))
    # Weighted keys come grouped by document, in document order.
    doc_start = np.searchsorted(owners, np.arange(len(docs) + 1))
    n = len(docs)
    # At most `neighbours` links a document: the arrays are made once, at
    # their largest, and filled in order (a list of pieces joined at the end
    # would hold every link twice at the peak).
    links_i = np.empty(n * params.neighbours, dtype=np.int32)
    links_j = np.empty(n * params.neighbours, dtype=np.int32)
    links_s = np.empty(n * params.neighbours)
    made = 0
    # Documents go a block at a time through the same vector steps, so the
    # per-call cost of NumPy is paid per block, not per document.
    for lo in range(0, n, _GRAPH_BLOCK):
        hi = min(n, lo + _GRAPH_BLOCK)
        mine = slice(doc_start[lo], doc_start[hi])
        my_keys = keys[mine]
        if not len(my_keys):
            continue
        lengths = posting_start[my_keys + 1] - posting_start[my_keys]
        candidates = posting_docs[_ranges(posting_start[my_keys], lengths)].astype(np.int64)
        contributions = np.repeat(weighted.w2_of_key[my_keys], lengths)
        who = np.repeat(owners[mine].astype(np.int64), lengths)
        others = candidates != who
        codes = who[others] * n + candidates[others]
        if not len(codes):
            continue
        found, inverse = np.unique(codes, return_inverse=True)
        # bincount adds in input order: for each pair, the shared keys in
        # ascending order, the same order whichever of the two documents it
        # is computed from, so both directions give the same bits.
        dots = np.bincount(inverse.ravel(), weights=contributions[others], minlength=len(found))
        first, second = found // n, found % n
        sims = dots / (norm[first] * norm[second])
        first, second, sims = _contenders(first, second, sims, lo, hi, params.neighbours)
        # Each document's links, best first (ties: the lower index first),
        # and only its `neighbours` best.
        order = np.lexsort((second, -sims, first))
        first, second, sims = first[order], second[order], sims[order]
        rank = np.arange(len(first)) - np.searchsorted(first, first, side="left")
        best = rank < params.neighbours
        kept = int(best.sum())
        links_i[made : made + kept] = first[best]
        links_j[made : made + kept] = second[best]
        links_s[made : made + kept] = sims[best]
        made += kept
    return _Edges(links_i[:made], links_j[:made], links_s[:made])


def _contenders(first: np.ndarray, second: np.ndarray, sims: np.ndarray, lo: int, hi: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The links of documents lo..hi-1 (grouped by `first`, ascending) that
    can be among each one's `k` best: those at least as similar as its k-th
    best, ties included.

    In a large corpus a document shares some key with a thousand others and
    keeps 30: sorting all of them by similarity cost most of the alignment.
    One selection per row of a padded matrix finds each k-th best first, and
    only the few links that reach it are sorted."""
    row_start = np.searchsorted(first, np.arange(lo, hi + 1))
    longest = int(np.diff(row_start).max())
    # Padding must not outgrow the links themselves (one document with far
    # more candidates than its block's others): those blocks sort them all.
    if longest <= k or (hi - lo) * longest > 8 * len(first):
        return first, second, sims
    row = first - lo
    # Similarities are >= 0: the padding (-1) never reaches a k-th best.
    padded = np.full((hi - lo, longest), -1.0)
    padded[row, np.arange(len(first)) - row_start[row]] = sims
    kth = np.partition(padded, longest - k, axis=1)[:, longest - k]
    keep = np.flatnonzero(sims >= kth[row])
    return first[keep], second[keep], sims[keep]


def _components(n: int, edges: _Edges, threshold: float) -> np.ndarray:
    """The connected part of each node over the links of at least `threshold`
    (its smallest node): two clusters can only merge through such a link, so
    average linkage can run on each part alone."""
    strong = edges.s >= threshold
    a, b = edges.i[strong], edges.j[strong]
    label = np.arange(n)
    while True:
        low = np.minimum(label[a], label[b])
        before = label.copy()
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        label = label[label]  # follow to the root
        if np.array_equal(label, before):
            return label


def _clusters(n: int, edges: _Edges, threshold: float) -> list[tuple[list[int], list[float]]]:
    """Average-linkage clusters over the candidate graph, part by part, each
    with its members' scores (mean similarity to the other members), ordered
    by first member. Only one part's graph is ever held as dicts."""
    # int32 labels: the per-link arrays below are the step's largest.
    part = _components(n, edges, threshold).astype(np.int32)
    sizes = np.bincount(part, minlength=n)
    clusters: list[tuple[list[int], list[float]]] = [([i], [0.0]) for i in np.flatnonzero(sizes[part] == 1).tolist()]
    part_of_link = part[edges.i]
    inside = np.flatnonzero((part_of_link == part[edges.j]) & (sizes[part_of_link] > 1))
    part_of_link = part_of_link[inside]
    # A stable sort keeps each part's links in the order they were made, so
    # its dicts are filled as the whole graph's would be.
    by_part_order = np.argsort(part_of_link, kind="stable")
    order = inside[by_part_order]
    parts, starts = np.unique(part_of_link[by_part_order], return_index=True)
    del part_of_link, inside, by_part_order
    # Each part's nodes, ascending, from one sort of all nodes by part.
    by_part = np.argsort(part, kind="stable")
    node_start = np.searchsorted(part[by_part], np.arange(n + 1))
    for p, lo, hi in zip(parts.tolist(), starts.tolist(), [*starts[1:].tolist(), len(order)]):
        nodes = by_part[node_start[p] : node_start[p + 1]].tolist()
        local = {node: k for k, node in enumerate(nodes)}
        graph: dict[int, dict[int, float]] = defaultdict(dict)
        sel = order[lo:hi]
        for x, y, s in zip(edges.i[sel].tolist(), edges.j[sel].tolist(), edges.s[sel].tolist()):
            graph[local[x]][local[y]] = s
            graph[local[y]][local[x]] = s
        for group in _average_link(len(nodes), graph, threshold):
            scores = []
            for k in group:
                others = [graph.get(k, {}).get(m, 0.0) for m in group if m != k]
                scores.append(round(sum(others) / len(others), 4) if others else 0.0)
            clusters.append(([nodes[k] for k in group], scores))
    clusters.sort(key=lambda c: c[0][0])
    return clusters


def _average_link(n: int, graph: Mapping[int, Mapping[int, float]], threshold: float) -> list[list[int]]:
    """Average-linkage agglomeration over a sparse similarity graph.

    Clusters merge, best first, while the mean similarity over all their
    document pairs (missing links count as 0) reaches `threshold`. Average
    linkage resists the chaining that joins two stories through one shared
    number, which single linkage (connected components) does not.
    """
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    link: dict[int, dict[int, float]] = {i: dict(graph.get(i, {})) for i in range(n)}
    heap: list[tuple[float, int, int]] = []
    for i in range(n):
        for j, s in link[i].items():
            if i < j and s >= threshold:
                heapq.heappush(heap, (-s, i, j))
    next_id = n
    while heap:
        neg, a, b = heapq.heappop(heap)
        if a not in members or b not in members:
            continue
        total = link[a].get(b, 0.0)
        avg = total / (len(members[a]) * len(members[b]))
        if abs(avg + neg) > 1e-12:
            continue  # stale entry
        if avg < threshold:
            break
        c = next_id
        next_id += 1
        members[c] = sorted(members.pop(a) + members.pop(b))
        la, lb = link.pop(a), link.pop(b)
        merged: dict[int, float] = defaultdict(float)
        for other, s in list(la.items()) + list(lb.items()):
            if other in (a, b):
                continue
            merged[other] += s
        link[c] = dict(merged)
        for other, s in merged.items():
            link[other].pop(a, None)
            link[other].pop(b, None)
            link[other][c] = s
            avg_oc = s / (len(members[c]) * len(members[other]))
            if avg_oc >= threshold:
                heapq.heappush(heap, (-avg_oc, min(c, other), max(c, other)))
    return sorted(members.values(), key=lambda m: m[0])


def _cluster_id(member_ids: Sequence[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(member_ids)).encode("utf-8")).hexdigest()
    return f"cluster-{digest[:12]}"


def _cluster_title(store: SignatureStore, members: Sequence[int], weights: np.ndarray) -> tuple[str, list[str]]:
    """A title for a curator from the keys most members share, and that evidence."""
    counts: Counter[str] = Counter()
    labels: dict[str, str] = {}
    for doc in members:
        counts.update(store.keys[k] for k in set(store.doc_keys(doc)) if weights[k] > 0)
        for k, v in store.labels(doc):
            labels.setdefault(k, v)
    # What most members share first; rarity breaks ties.
    ranked = sorted(counts, key=lambda k: (-counts[k], -weights[store.vocab[k]], k))
    shared = [k for k in ranked if counts[k] >= 2] or ranked
    evidence = shared[:8]
    words = []
    for k in evidence[:5]:
        if k.startswith("n:"):
            words.append(k[2:])
        elif k.startswith("d:"):
            words.append(k[2:])
        else:
            words.append(labels.get(k, k[2:]))
    title = ", ".join(words) if words else "unlabelled documents"
    return f"[candidate] {title}", [k.split(":", 1)[1] for k in evidence]


def assign_topics(
    signatures: Sequence[Mapping[str, Any]] | SignatureStore,
    catalog: Catalog | None,
    params: ClusterParams | None = None,
) -> dict[str, Assignment]:
    """A topic for every document: a catalog topic where one fits, else a cluster.

    Documents that fit no catalog topic (all of them without a catalog) are
    grouped by average-linkage clustering of their entity, date, number and
    name-key signatures into candidate topics with deterministic ids
    (`cluster-<sha256 of sorted member ids>`) and a title from their top keys,
    for a curator to name. A document alone in its cluster still gets one.
    The result does not depend on input order.
    """
    params = params or ClusterParams()
    store = signatures if isinstance(signatures, SignatureStore) else SignatureStore.of(signatures, params.max_df)
    if store.max_df < params.max_df:
        raise ValueError(f"the signature store dropped keys past {store.max_df} documents, but max_df is {params.max_df}: make the store with max_df >= {params.max_df}")
    result: dict[str, Assignment] = {}
    rest: list[int] = []
    for doc in range(len(store)):
        match = None
        if catalog is not None:
            sig = {"entities": store.entities(doc), "dates": store.dates(doc), "published": store.published_date(doc)}
            match = _catalog_match(sig, catalog)
        if match is not None:
            result[store.ids[doc]] = match
        else:
            rest.append(doc)
    if rest:
        # Weights come from the whole corpus: a key's rarity is a corpus fact.
        weighted = weighted_keys(store, params)
        weights = weighted.weights
        edges = _candidate_graph(store, rest, weighted, params)
        clusters = _clusters(len(rest), edges, params.threshold)
        del edges
        for group, scores in clusters:
            members = [rest[i] for i in group]
            title, evidence = _cluster_title(store, members, weights)
            cid = _cluster_id([store.ids[d] for d in members])
            shared_evidence = tuple(evidence)
            for i, score in zip(group, scores):
                result[store.ids[rest[i]]] = Assignment(cid, title, None, "cluster", score, shared_evidence)
    return result


# ---------------------------------------------------------------------------
# Pairs.
# ---------------------------------------------------------------------------

_RATINGS = ("geography", "entities", "time", "narrative", "overall", "style", "tone")


def _seeded(seed: int, *parts: str) -> random.Random:
    """A Random seeded from `seed` and names, never from Python's salted `hash()`."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _in_topic_pairs(docs: Sequence[str], k: int, rng: random.Random) -> list[tuple[str, str]]:
    """Pairs inside one topic in which no document has more than `k` partners.

    The documents are put in a seeded random order on a circle and each is
    joined to its neighbours up to distance k//2 (and, for odd k and an even
    count, to the document opposite): every document gets min(k, n-1)
    partners or k-1, and the topic yields about n*k/2 pairs, never n².
    """
    n = len(docs)
    if n < 2 or k <= 0:
        return []
    order = sorted(docs)
    rng.shuffle(order)
    if n - 1 <= k:
        return [(order[i], order[j]) for i in range(n) for j in range(i + 1, n)]
    pairs: set[tuple[str, str]] = set()
    for i in range(n):
        for step in range(1, k // 2 + 1):
            pairs.add(tuple(sorted((order[i], order[(i + step) % n]))))  # type: ignore[arg-type]
        if k % 2 == 1 and n % 2 == 0:
            pairs.add(tuple(sorted((order[i], order[(i + n // 2) % n]))))  # type: ignore[arg-type]
    return sorted(pairs)


def plan_pairs(
    assignments: Mapping[str, Assignment],
    store: SignatureStore,
    split_of_topic: Mapping[str, str],
    k: int,
    cross_k: int,
    seed: int,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The pairs of the `pairs` config, per split: (pair ids as integers,
    first document, second document), documents as store indexes with the
    smaller id first, ordered by pair id.

    Linear in documents: in-topic partners follow a seeded circle (see
    `_in_topic_pairs`), so no document has more than `k` in-topic partners;
    each document then draws `cross_k` partners from other topics of the
    same split (those also count for the partner, so a document may sit in
    more cross-topic rows than `cross_k`), so no test document is ever paired
    with a train document. A pair is planned once.
    """
    if k < 0 or cross_k < 0:
        raise ValueError("k and cross_k must be >= 0")
    members: dict[str, list[str]] = defaultdict(list)
    for doc_id in sorted(assignments):
        if doc_id in store.index:
            members[assignments[doc_id].topic_id].append(doc_id)
    topics_of_split: dict[str, list[str]] = defaultdict(list)
    for topic_id in sorted(members):
        if topic_id not in split_of_topic:
            raise ValueError(f"topic {topic_id} has no split")
        topics_of_split[split_of_topic[topic_id]].append(topic_id)
    n = len(store)
    index = store.index
    # Store indexes follow id order, so the smaller index is the smaller id.
    codes = array("q")
    for topic_id in sorted(members):
        for a, b in _in_topic_pairs(members[topic_id], k, _seeded(seed, "topic", topic_id)):
            i, j = sorted((index[a], index[b]))
            codes.append(i * n + j)
    if cross_k:
        place = {t: i for topics in topics_of_split.values() for i, t in enumerate(topics)}
        for topic_id in sorted(members):
            split_topics = topics_of_split[split_of_topic[topic_id]]
            if len(split_topics) < 2:
                continue
            mine = place[topic_id]
            for doc_id in members[topic_id]:
                rng = _seeded(seed, "cross", doc_id)
                # Draw a topic, then a document in it: O(cross_k), not O(split size).
                for _ in range(cross_k):
                    # The r-th of the split's other topics, without listing them.
                    r = rng.randrange(len(split_topics) - 1)
                    t = split_topics[r if r < mine else r + 1]
                    other = members[t][rng.randrange(len(members[t]))]
                    i, j = sorted((index[doc_id], index[other]))
                    codes.append(i * n + j)
    unique = np.unique(np.frombuffer(codes, dtype=np.int64)) if codes else np.zeros(0, dtype=np.int64)
    first, second = unique // max(n, 1), unique % max(n, 1)
    pair_ids = np.zeros(len(unique), dtype=np.uint64)
    split_names = sorted({split_of_topic[t] for t in members})
    split_of_pair = np.zeros(len(unique), dtype=np.int64)
    for p, (i, j) in enumerate(zip(first.tolist(), second.tolist())):
        a, b = store.ids[i], store.ids[j]
        split_a, split_b = split_of_topic[assignments[a].topic_id], split_of_topic[assignments[b].topic_id]
        assert split_a == split_b, "pairs never cross splits"
        pair_ids[p] = int(hashlib.sha256(f"{a}\x1f{b}".encode("utf-8")).hexdigest()[:16], 16)
        split_of_pair[p] = split_names.index(split_a)
    plan = {}
    for number, split in enumerate(split_names):
        chosen = np.flatnonzero(split_of_pair == number)
        # By pair id; the (first, second) order breaks a tie of two ids' digests.
        chosen = chosen[np.argsort(pair_ids[chosen], kind="stable")]
        plan[split] = (pair_ids[chosen], first[chosen], second[chosen])
    return plan


def pair_columns(
    plan: tuple[np.ndarray, np.ndarray, np.ndarray],
    store: SignatureStore,
    weighted: _WeightedKeys,
    assignments: Mapping[str, Assignment],
    split: str,
    rows_at_once: int = 10_000,
) -> Iterator[dict[str, list[Any]]]:
    """The `pairs` config for one split's plan as columns (name -> values),
    `rows_at_once` rows at a time: Arrow builds a table from columns without
    a dict per row (`pairs` of 100,000 documents: 3.6 s instead of 5.1 s)."""
    pair_ids, first, second = plan
    ids, languages = store.ids, store.languages
    for lo in range(0, len(pair_ids), rows_at_once):
        a, b = first[lo : lo + rows_at_once], second[lo : lo + rows_at_once]
        sims = similarities(weighted, a, b)
        a_list, b_list = a.tolist(), b.tolist()
        topic_1 = [assignments[ids[i]].topic_id for i in a_list]
        topic_2 = [assignments[ids[j]].topic_id for j in b_list]
        n = len(a_list)
        columns: dict[str, list[Any]] = {
            "pair_id": [format(pid, "016x") for pid in pair_ids[lo : lo + rows_at_once].tolist()],
            "id_1": [ids[i] for i in a_list],
            "id_2": [ids[j] for j in b_list],
            "language_1": [languages[i] for i in a_list],
            "language_2": [languages[j] for j in b_list],
            "topic_id_1": topic_1,
            "topic_id_2": topic_2,
            "same_topic": [t1 == t2 for t1, t2 in zip(topic_1, topic_2)],
            # Python's round, not NumPy's: correctly rounded, the same bits everywhere.
            "similarity": [round(sim, 6) for sim in sims.tolist()],
        }
        columns.update({name: [None] * n for name in _RATINGS})
        columns["num_raters"] = [0] * n
        columns["split"] = [split] * n
        yield columns


def pair_rows(
    plan: tuple[np.ndarray, np.ndarray, np.ndarray],
    store: SignatureStore,
    weighted: _WeightedKeys,
    assignments: Mapping[str, Assignment],
    split: str,
    rows_at_once: int = 10_000,
) -> Iterator[list[dict[str, Any]]]:
    """Rows of the `pairs` config for one split's plan, `rows_at_once` at a time."""
    for columns in pair_columns(plan, store, weighted, assignments, split, rows_at_once):
        names = list(columns)
        yield [dict(zip(names, values)) for values in zip(*columns.values())]


def weighted_keys(store: SignatureStore, params: ClusterParams | None = None) -> _WeightedKeys:
    """The weighted keys of the store's documents (clustering and pair
    similarities use the same), made once per store and parameters."""
    params = params or ClusterParams()
    made = store.derived.get(("weighted", params))
    if made is None:
        made = store.derived[("weighted", params)] = _WeightedKeys(store, _key_weights(store, params))
    return made


def make_pairs(
    assignments: Mapping[str, Assignment],
    signatures: Sequence[Mapping[str, Any]] | SignatureStore,
    split_of_topic: Mapping[str, str],
    k: int,
    cross_k: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Rows of the `pairs` config, every split together, sorted by pair_id
    (see `plan_pairs`; a build writes them split by split with `pair_rows`)."""
    store = signatures if isinstance(signatures, SignatureStore) else SignatureStore.of(signatures)
    weighted = weighted_keys(store)
    rows = []
    for split, plan in plan_pairs(assignments, store, split_of_topic, k, cross_k, seed).items():
        for chunk in pair_rows(plan, store, weighted, assignments, split):
            rows.extend(chunk)
    rows.sort(key=lambda r: r["pair_id"])
    return rows
