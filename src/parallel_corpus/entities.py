"""Gazetteer entity recognition: canonical entities (Wikidata QIDs) found in text.

Input: a document's `text` and its language; output: non-overlapping spans
`{"qid","type","canonical","start","end","text","source"}` whose offsets are
Python code points into that same `text` (DESIGN: every offset is one).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .config import CorpusError, load_curated

__all__ = [
    "Gazetteer",
    "Entity",
    "load_gazetteer",
    "normalize_key",
    "key_with_origin",
    "loose_regex",
    "TOKEN_RE",
    "WORD_CHAR_CLASS",
]

# ---------------------------------------------------------------------------
# Script-tolerant keys.
#
# News in one language spells a foreign name several ways: Arabic hamza seats,
# ى/ي, ة/ه, غ/ج for a hard "g" ("غوتيريش" Levant/Gulf, "جوتيريش" Egypt),
# optional diacritics and tatweel; Devanagari with or without the nukta
# ("ज़ेलेंस्की"/"जेलेंस्की"), a half nasal or an anusvara ("सितम्बर"/"सितंबर").
# Rather than listing every spelling, names and text are compared through a
# key that erases these differences. The key keeps, for each of its
# characters, the raw offset it came from, so a match on keys becomes an exact
# span of the raw text.
# ---------------------------------------------------------------------------

# Combining marks of the scripts we meet (Latin accents, Arabic harakat and
# Quranic marks, Devanagari vowel signs and nukta, Bengali signs) and the
# zero-width joiners that sit inside Indic and Arabic words. Python's `\w`
# excludes Mn/Mc marks, so a word would otherwise break at every vowel sign.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
    "\u06d6-\u06ed\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
    "\u0981-\u0983\u09bc-\u09d7\u200c\u200d"
)
WORD_CHAR_CLASS = rf"(?:[^\W\d_]|[{_MARKS}])"
# A token is a run of letters (with their marks) or a run of digits; anything
# else separates tokens. Digits of any script are `\d` in Python's re.
TOKEN_RE = re.compile(rf"(?:[^\W\d_]|[{_MARKS}])+|\d+")

_AR_DROP = set(range(0x064B, 0x0660)) | {0x0670, 0x0640} | set(range(0x06D6, 0x06EE))
_AR_MAP = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ى": "ي", "ی": "ي", "ئ": "ي",
    "ة": "ه",
    "ک": "ك",
    "ؤ": "و",
    # A foreign hard g is written غ, ج (Egypt), گ or ق; keep ق apart, it is
    # a native consonant far more often than a transcription.
    "غ": "ج", "گ": "ج",
    "ڤ": "ف", "پ": "ب", "چ": "تش",
}
_DEVA_NUKTA = "\u093c"
_DEVA_VIRAMA = "\u094d"
_DEVA_ANUSVARA = "\u0902"
_DEVA_NASALS = set("ङञणनम")
_DEVA_MAP = {
    "\u0901": _DEVA_ANUSVARA,  # candrabindu ~ anusvara
    "\u0949": "\u093e",  # ॉ (English "o" in मॉस्को) ~ ा (मास्को)
    "\u0911": "\u0906",  # ऑ ~ आ
}
# क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़ also exist as single code points (U+0958-U+095F).
_DEVA_PRECOMPOSED_NUKTA = {
    unicodedata.normalize("NFD", chr(cp))[0]: chr(cp) for cp in range(0x0958, 0x0960)
}
_DROP_ALWAYS = {"\u200c", "\u200d", "\u00ad", "\u200e", "\u200f"}


def _is_deva_consonant(ch: str) -> bool:
    return "\u0915" <= ch <= "\u0939" or "\u0958" <= ch <= "\u095f"


@lru_cache(maxsize=200_000)
def key_with_origin(raw: str) -> tuple[str, tuple[int, ...]]:
    """The comparison key of `raw` and, per key character, its raw offset.

    `origin` has one more entry than the key: `len(raw)`, so that a key slice
    `[a, b)` maps to the raw slice `[origin[a], origin[b])` (with trailing
    dropped marks included when `b` is the key's end). Cached because news
    repeats its words: the build calls this for every token of 100k documents.
    """
    out: list[str] = []
    origin: list[int] = []
    n = len(raw)
    i = 0
    while i < n:
        ch = raw[i]
        cp = ord(ch)
        if ch in _DROP_ALWAYS:
            i += 1
            continue
        if 0x0600 <= cp <= 0x06FF:
            if cp in _AR_DROP:
                i += 1
                continue
            mapped = _AR_MAP.get(ch, ch)
        elif 0x0900 <= cp <= 0x097F:
            decomposed = unicodedata.normalize("NFD", ch)
            base = decomposed[0]
            if base == _DEVA_NUKTA:
                i += 1
                continue
            if (
                base in _DEVA_NASALS
                and i + 2 < n
                and raw[i + 1] == _DEVA_VIRAMA
                and _is_deva_consonant(raw[i + 2])
            ):
                # A half nasal before a consonant is the anusvara's twin:
                # सितम्बर == सितंबर.
                out.append(_DEVA_ANUSVARA)
                origin.append(i)
                i += 2
                continue
            mapped = _DEVA_MAP.get(base, base)
        else:
            decomposed = unicodedata.normalize("NFKD", ch)
            mapped = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        for c in mapped:
            out.append(c)
            origin.append(i)
        i += 1
    origin.append(n)
    return "".join(out), tuple(origin)


def normalize_key(raw: str) -> str:
    """The script-tolerant key of a word or phrase (see `key_with_origin`)."""
    return " ".join(key_with_origin(tok)[0] for tok in TOKEN_RE.findall(raw))


_AR_CLASSES = ["اأإآٱ", "يىیئ", "ةه", "كک", "وؤ", "غجگ"]
_AR_MARKS_OPT = "[\u064b-\u065f\u0670\u0640]*"


def loose_regex(name: str) -> str:
    """A regex fragment matching `name` in any spelling that `normalize_key` merges.

    Used where a regex over raw text is simpler than token lookup (month names
    in `dates`); compile with re.IGNORECASE for Latin script.
    """
    parts: list[str] = []
    for ch in unicodedata.normalize("NFD", name):
        if ch == _DEVA_NUKTA or ch in _DROP_ALWAYS:
            continue
        if ch.isspace():
            if not parts or parts[-1] != r"\s+":
                parts.append(r"\s+")
            continue
        cp = ord(ch)
        if 0x0600 <= cp <= 0x06FF:
            if cp in _AR_DROP:
                continue
            cls = next((c for c in _AR_CLASSES if ch in c), None)
            parts.append((f"[{cls}]" if cls else re.escape(ch)) + _AR_MARKS_OPT)
        elif _is_deva_consonant(ch):
            precomposed = _DEVA_PRECOMPOSED_NUKTA.get(ch)
            alt = f"|{precomposed}" if precomposed else ""
            parts.append(f"(?:{re.escape(ch)}{_DEVA_NUKTA}?{alt})")
        elif ch in (_DEVA_ANUSVARA, "\u0901"):
            parts.append("[\u0901\u0902]")
        else:
            parts.append(re.escape(ch))
    return "".join(parts)


# ---------------------------------------------------------------------------
# The gazetteer.
# ---------------------------------------------------------------------------

ANY_LANGUAGE = "*"
# Between two words of one name only spaces or a hyphen (or maqaf) may stand.
_NAME_GAP = re.compile(r"\s{1,3}|\s?[-\u2010\u2011\u05be]\s?")


@dataclass(frozen=True)
class Entity:
    """One canonical entity of `corpus/entities.yaml`."""

    qid: str
    type: str
    canonical: str
    aliases: dict[str, tuple[str, ...]]
    verified: bool
    qid_source: str


@dataclass(frozen=True)
class _Alias:
    tokens: tuple[str, ...]  # keys of the alias's tokens
    entity: int  # index into Gazetteer.entities
    needs_capital: bool  # the alias is capitalised Latin: text must be too
    suffixes: tuple[str, ...]  # keys that may follow the last token (sw -ni)


@dataclass
class _Index:
    """One language's aliases by the key of their first token, plus its clitics."""

    first: dict[str, list[_Alias]]
    prefixes: dict[str, list[str]]  # first character -> prefixes starting with it, shortest first
    min_stem: int
    suffixes: tuple[str, ...]  # every suffix key some alias allows


@dataclass
class Gazetteer:
    """Entities with aliases per language; `find` returns their spans in a text.

    Matching goes token by token with a dict lookup on script-tolerant keys,
    so its cost is linear in the text and independent of the gazetteer's size
    (a regex alternation of thousands of names is not).
    """

    entities: list[Entity]
    morphology: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    _indexes: dict[str, _Index] = field(default_factory=dict, repr=False)

    @property
    def by_qid(self) -> dict[str, Entity]:
        return {e.qid: e for e in self.entities}

    def resolve(self, language: str | None) -> str:
        """Our alias table for `language` (ISO 639-1/3 or FLORES); `*` = all of them."""
        if not language:
            return ANY_LANGUAGE
        key = language.casefold()
        if key in self.codes:
            return self.codes[key]
        return self.codes.get(key.split("_")[0].split("-")[0], ANY_LANGUAGE)

    def _index(self, language: str | None) -> _Index:
        lang = self.resolve(language)
        if lang in self._indexes:
            return self._indexes[lang]
        langs = sorted(self.codes.values()) if lang == ANY_LANGUAGE else [lang]
        langs = sorted(set(langs))
        first: dict[str, list[_Alias]] = {}
        prefixes: set[str] = set()
        min_stem = 2
        for lg in langs:
            morph = self.morphology.get(lg, {})
            prefixes |= _expand_prefixes(morph)
            min_stem = max(min_stem, int(morph.get("min_stem", 2)))
        seen: set[tuple[tuple[str, ...], int]] = set()
        for idx, entity in enumerate(self.entities):
            for lg in langs:
                suffix_rules = self.morphology.get(lg, {}).get("suffixes", {})
                suffixes = tuple(normalize_key(s) for s in suffix_rules.get(entity.type, []))
                for alias in entity.aliases.get(lg, ()):
                    for tokens in _alias_variants(alias):
                        if (tokens, idx) in seen:
                            continue
                        seen.add((tokens, idx))
                        first.setdefault(tokens[0], []).append(
                            _Alias(tokens, idx, _needs_capital(alias), suffixes)
                        )
        for aliases in first.values():
            # Longest alias first, so the first that fits is the longest match.
            aliases.sort(key=lambda a: (-len(a.tokens), -sum(map(len, a.tokens)), a.entity))
        all_suffixes = sorted({sfx for aliases in first.values() for a in aliases for sfx in a.suffixes})
        by_char: dict[str, list[str]] = {}
        for p in sorted(prefixes, key=lambda p: (len(p), p)):
            by_char.setdefault(p[0], []).append(p)
        self._indexes[lang] = _Index(first, by_char, min_stem, tuple(all_suffixes))
        return self._indexes[lang]

    def find(self, text: str, language: str | None) -> list[dict[str, Any]]:
        """Entity mentions in `text`: sorted, non-overlapping, longest match wins.

        Each is `{"qid","type","canonical","start","end","text","source"}` with
        code-point offsets into `text`; a clitic ("لغوتيريش", "وبوتين") or a
        Swahili locative suffix ("Urusini") is left outside the span. Never
        raises on any string.
        """
        index = self._index(language)
        tokens = [(m.start(), m.end(), m.group()) for m in TOKEN_RE.finditer(text)]
        found: list[dict[str, Any]] = []
        i = 0
        while i < len(tokens):
            best = self._match_at(text, tokens, i, index)
            if best is None:
                i += 1
                continue
            start, end, n_tokens, entity_idx = best
            entity = self.entities[entity_idx]
            span = text[start:end]
            assert span and span == text[start:end] and not span[0].isspace() and not span[-1].isspace()
            found.append(
                {
                    "qid": entity.qid,
                    "type": entity.type,
                    "canonical": entity.canonical,
                    "start": start,
                    "end": end,
                    "text": span,
                    "source": "pipeline",
                }
            )
            i += n_tokens
        return found

    def _match_at(
        self, text: str, tokens: list[tuple[int, int, str]], i: int, index: _Index
    ) -> tuple[int, int, int, int] | None:
        """The longest alias starting at token `i`: (start, end, tokens used, entity)."""
        s0, e0, raw0 = tokens[i]
        key0, origin0 = key_with_origin(raw0)
        if not key0:
            return None
        # Candidate stems of the first token: itself, then with each clitic
        # run stripped (shortest first, so "الكرملين" is tried before "كرملين").
        stems = [(0, key0)]
        for p in index.prefixes.get(key0[0], ()):
            if key0.startswith(p) and len(key0) - len(p) >= index.min_stem:
                stems.append((len(p), key0[len(p):]))
        best: tuple[int, int, int, int] | None = None
        best_rank: tuple[int, int] | None = None
        for strip, stem in stems:
            lookups = [stem]
            if index.suffixes:
                # A one-token name with a suffix ("Urusini") is found under
                # the stem without it; `_extend` checks the suffix is allowed.
                lookups += [stem[: -len(x)] for x in index.suffixes if stem.endswith(x) and len(stem) > len(x)]
            aliases = [a for k in lookups for a in index.first.get(k, ())]
            aliases.sort(key=lambda a: (-len(a.tokens), -sum(map(len, a.tokens)), a.entity))
            for alias in aliases:
                result = self._extend(text, tokens, i, alias, strip, stem, origin0)
                if result is None:
                    continue
                end, n_tokens = result
                rank = (-n_tokens, strip)
                if best_rank is None or rank < best_rank:
                    best_rank = rank
                    best = (s0 + origin0[strip], end, n_tokens, alias.entity)
                break  # aliases are sorted longest first
        return best

    def _extend(
        self,
        text: str,
        tokens: list[tuple[int, int, str]],
        i: int,
        alias: _Alias,
        strip: int,
        stem: str,
        origin0: tuple[int, ...],
    ) -> tuple[int, int] | None:
        """Whether `alias` continues over the tokens after `i`; (end offset, tokens)."""
        n = len(alias.tokens)
        if i + n > len(tokens) or (n > 1 and stem != alias.tokens[0]):
            return None
        if alias.needs_capital:
            first_char = tokens[i][2][origin0[strip]]
            if first_char.islower():
                return None
        prev_end = tokens[i][1]
        # Raw offsets (inside its token) of the last token's key characters;
        # for token i they start at the stem, after any stripped clitic.
        last_key, last_origin, last_start = stem, origin0[strip:], tokens[i][0]
        for j in range(1, n):
            s, e, raw = tokens[i + j]
            if not _NAME_GAP.fullmatch(text[prev_end:s]):
                return None
            key, origin = key_with_origin(raw)
            want = alias.tokens[j]
            if key != want and not (j == n - 1 and any(key == want + sfx for sfx in alias.suffixes)):
                return None
            prev_end = e
            last_key, last_origin, last_start = key, origin, s
        want_last = alias.tokens[-1]
        if n == 1:
            if stem != want_last and not any(stem == want_last + sfx for sfx in alias.suffixes):
                return None
            # Offsets of the stem inside token i.
            end = last_start + last_origin[len(want_last)] if stem != want_last else tokens[i][1]
            return end, 1
        if last_key == want_last:
            return prev_end, n
        return last_start + last_origin[len(want_last)], n


def _needs_capital(alias: str) -> bool:
    first = alias[:1]
    return first.isupper()


def _alias_variants(alias: str) -> list[tuple[str, ...]]:
    """Key token sequences an alias is indexed under.

    An Arabic alias that opens with the article is also indexed without it,
    so that "للأمم المتحدة" (ل + ال contracted) still finds "الأمم المتحدة"
    once "لل" is stripped.
    """
    tokens = tuple(key_with_origin(t)[0] for t in TOKEN_RE.findall(alias))
    tokens = tuple(t for t in tokens if t)
    if not tokens:
        return []
    variants = [tokens]
    if tokens[0].startswith("ال") and len(tokens[0]) > 3:
        variants.append((tokens[0][2:],) + tokens[1:])
    return variants


def _expand_prefixes(morph: dict[str, Any]) -> set[str]:
    """Every clitic run the slots allow (one optional item per slot, in order)."""
    runs = {""}
    for slot in morph.get("prefix_slots", []):
        runs |= {r + normalize_key(str(item)) for r in runs for item in slot}
    for long, short in (morph.get("contractions") or {}).items():
        long_key, short_key = normalize_key(str(long)), normalize_key(str(short))
        runs |= {r.replace(long_key, short_key) for r in list(runs) if long_key in r}
    runs.discard("")
    return runs


def load_gazetteer(path: str | Path) -> Gazetteer:
    """Read `entities.yaml` (a corpus folder or the file), validated by its schema."""
    data = load_curated(path, "entities.yaml", "entities")
    qids = [e["qid"] for e in data["entities"]]
    duplicates = sorted({q for q in qids if qids.count(q) > 1})
    if duplicates:
        raise CorpusError(f"{path}: duplicate QIDs: {', '.join(duplicates)}: keep one entity per QID and merge their aliases")
    entities = [
        Entity(
            qid=e["qid"],
            type=e["type"],
            canonical=e["canonical"],
            aliases={str(lg): tuple(str(a) for a in names) for lg, names in e["aliases"].items()},
            verified=bool(e["qid_checked"]["verified"]),
            qid_source=str(e["qid_checked"]["source"]),
        )
        for e in data["entities"]
    ]
    codes: dict[str, str] = {}
    for lang, spec in (data.get("languages") or {}).items():
        codes[str(lang).casefold()] = str(lang)
        for code in (spec or {}).get("codes", []):
            codes[str(code).casefold()] = str(lang)
    for e in entities:
        for lang in e.aliases:
            codes.setdefault(lang.casefold(), lang)
    return Gazetteer(entities=entities, morphology=data.get("morphology") or {}, codes=codes)
