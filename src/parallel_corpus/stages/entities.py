"""Gazetteer entity recognition: canonical entities (Wikidata QIDs) found in text.

Input: a document's `text` and its language; output: non-overlapping spans
`{"qid","type","canonical","start","end","text","source"}` whose offsets are
Python code points into that same `text` (DESIGN: every offset is one).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, compress, count
from pathlib import Path
from typing import Any, Iterable

from parallel_corpus.text.tables import WORD_CACHE_SIZE
from parallel_corpus.corpus import CorpusError, load_curated

__all__ = [
    "Gazetteer",
    "Entity",
    "load_gazetteer",
    "normalize_key",
    "key_with_origin",
    "loose_regex",
    "loose_first_chars",
    "loose_prefix_regex",
    "TOKEN_RE",
    "WORD_CHAR_CLASS",
    "split_tokens",
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


def _letter_class() -> str:
    r"""TOKEN_RE's letters-and-marks set over the Basic Multilingual Plane, as one class.

    Derived from `WORD_CHAR_CLASS` itself on this Python's Unicode tables,
    so the two cannot disagree. `re` tests `(?:[^\W\d_]|[marks])` per
    character with a branch and category tests; one class is a single table
    lookup, which makes tokenizing (done for every document) about three
    times faster.
    """
    letters = re.compile(WORD_CHAR_CLASS + "+")
    bmp = "".join(map(chr, range(0x10000)))  # runs of matches are code point ranges
    ranges = []
    for m in letters.finditer(bmp):
        first, last = re.escape(m.group()[0]), re.escape(m.group()[-1])
        ranges.append(first if first == last else f"{first}-{last}")
    return "".join(ranges)


# Tokens and the gaps between them in one `split` (all in C; match objects
# per token cost more than the matching itself). The table-driven class
# covers the BMP; a text with a character beyond it takes TOKEN_RE itself.
_TOKEN_SPLIT = re.compile(f"({TOKEN_RE.pattern})")
_BMP_TOKEN_SPLIT = re.compile(rf"([{_letter_class()}]+|\d+)")
_BEYOND_BMP = re.compile("[\U00010000-\U0010FFFF]")


@lru_cache(maxsize=4)
def split_tokens(text: str) -> tuple[str, ...]:
    """`(gap, token, gap, token, ..., gap)`: TOKEN_RE's tokens with what lies between.

    Token k is `parts[2k + 1]` and the text before it `parts[2k]`, so
    `"".join(parts) == text` and offsets follow from the lengths. Cached
    for the last few texts: the build tokenizes each document for entities
    and again for its alignment signature.
    """
    if text.isascii() or _BEYOND_BMP.search(text) is None:
        return tuple(_BMP_TOKEN_SPLIT.split(text))
    return tuple(_TOKEN_SPLIT.split(text))


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


@lru_cache(maxsize=WORD_CACHE_SIZE)
def key_with_origin(raw: str) -> tuple[str, tuple[int, ...]]:
    """The comparison key of `raw` and, per key character, its raw offset.

    `origin` has one more entry than the key: `len(raw)`, so that a key slice
    `[a, b)` maps to the raw slice `[origin[a], origin[b])` (with trailing
    dropped marks included when `b` is the key's end). Cached because news
    repeats its words: the build calls this for every token of 100k documents.

    Most words map character for character (no mark dropped, no letter
    expanded, no half nasal): their key is one `str.translate` and their
    origin the identity. The rest take `_key_with_origin_general`.
    """
    if raw.isascii():
        # ASCII only folds case: nothing is dropped, decomposed or expanded.
        return raw.lower(), tuple(range(len(raw) + 1))
    key = raw.translate(_CHAR_KEYS)
    if _IRREGULAR not in key and not (_DEVA_VIRAMA in raw and _HALF_NASAL.search(raw)):
        return key, tuple(range(len(raw) + 1))
    return _key_with_origin_general(raw)


_IRREGULAR = "\x00"


class _CharKeys(dict):  # type: ignore[type-arg]
    """Code point -> its one key character, or `_IRREGULAR` when it has none or several.

    A `str.translate` table filled on first sight of each character by
    `_key_with_origin_general`, so the two cannot disagree.
    """

    def __missing__(self, cp: int) -> str:
        key = _key_with_origin_general(chr(cp))[0]
        value = key if len(key) == 1 and key != _IRREGULAR else _IRREGULAR
        self[cp] = value
        return value


_CHAR_KEYS = _CharKeys()
# Where `_key_with_origin_general` reads more than one character: a nasal
# (any letter whose base is one, as ऩ) with a virama before a consonant.
_HALF_NASAL = re.compile(
    "[%s]%s[\u0915-\u0939\u0958-\u095f]"
    % (
        "".join(chr(cp) for cp in range(0x0900, 0x0980) if unicodedata.normalize("NFD", chr(cp))[0] in _DEVA_NASALS),
        _DEVA_VIRAMA,
    )
)


def _key_with_origin_general(raw: str) -> tuple[str, tuple[int, ...]]:
    """`key_with_origin` character by character, for any string."""
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
    return "".join(fragment for fragment, _ in _loose_units(name))


def loose_first_chars(name: str) -> str | None:
    """The characters a match of `loose_regex(name)` can start with (before case folding).

    None when that is not a short list (the name starts with a space or is
    empty). A regex can test this as one class before it tries a long
    alternation of names, which `re` would otherwise try name by name at
    every position of a text.
    """
    units = _loose_units(name)
    return units[0][1] if units else None


def loose_prefix_regex(names: Iterable[str]) -> str:
    """A regex fragment that matches at a position iff some `loose_regex(name)` does.

    For lookaheads only: it is the names' alternation factored into a trie
    (a name that another one extends is enough on its own), so `re` rejects
    a word after a character or two instead of trying every name in turn;
    which name matches, and how far, is left to the real alternation.
    """
    trie: dict[str, Any] = {}
    for name in names:
        node = trie
        for fragment, _ in _loose_units(name):
            node = node.setdefault(fragment, {})
        node[""] = {}  # a name ends here

    def emit(node: dict[str, Any]) -> str:
        if "" in node:
            return ""
        alternatives = [fragment + emit(child) for fragment, child in sorted(node.items())]
        if len(alternatives) == 1:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + ")"

    return emit(trie) if trie else "(?!)"


def _loose_units(name: str) -> list[tuple[str, str | None]]:
    """`loose_regex` one unit at a time: (regex fragment, characters it can start with)."""
    parts: list[tuple[str, str | None]] = []
    for ch in unicodedata.normalize("NFD", name):
        if ch == _DEVA_NUKTA or ch in _DROP_ALWAYS:
            continue
        if ch.isspace():
            if not parts or parts[-1][0] != r"\s+":
                parts.append((r"\s+", None))
            continue
        cp = ord(ch)
        if 0x0600 <= cp <= 0x06FF:
            if cp in _AR_DROP:
                continue
            cls = next((c for c in _AR_CLASSES if ch in c), None)
            parts.append(((f"[{cls}]" if cls else re.escape(ch)) + _AR_MARKS_OPT, cls or ch))
        elif _is_deva_consonant(ch):
            precomposed = _DEVA_PRECOMPOSED_NUKTA.get(ch)
            alt = f"|{precomposed}" if precomposed else ""
            parts.append((f"(?:{re.escape(ch)}{_DEVA_NUKTA}?{alt})", ch + (precomposed or "")))
        elif ch in (_DEVA_ANUSVARA, "\u0901"):
            parts.append(("[\u0901\u0902]", "\u0901\u0902"))
        else:
            parts.append((re.escape(ch), ch))
    return parts


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


@dataclass(frozen=True)
class _Stem:
    """One way to read a token's start: its key with `strip` clitic characters removed.

    Everything that depends on the token alone is settled when the token is
    first met: which aliases could start here, whether a capitalised alias
    sees a capital, and where a one-token alias ends. Only the tokens that
    follow are left to check per occurrence.
    """

    strip: int  # key characters of clitics before the stem
    multi: tuple[_Alias, ...]  # aliases of 2+ tokens whose first token is the stem, longest first
    single: tuple[int, int] | None  # the one-token alias that fits: (end offset in the token, entity)


# A token's candidate readings: (key origin, stems); () when no alias can start there.
_Candidates = tuple[tuple[int, ...], tuple[_Stem, ...]] | tuple[()]

# Distinct raw tokens remembered per language index; news vocabularies are
# large but bounded, and forgetting only costs recomputation.
_MAX_CACHED_TOKENS = WORD_CACHE_SIZE


@dataclass
class _Index:
    """One language's aliases by the key of their first token, plus its clitics."""

    first: dict[str, list[_Alias]]
    prefixes: dict[str, list[str]]  # first character -> prefixes starting with it, shortest first
    min_stem: int
    suffixes: tuple[str, ...]  # every suffix key some alias allows
    # Raw token -> what could start there (see `Gazetteer._candidates`). News
    # repeats its words, and most tokens start no alias: one dict lookup
    # settles them.
    candidates: dict[str, _Candidates] = field(default_factory=dict)


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
            aliases.sort(key=_alias_order)
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
        # parts = [gap, token, gap, token, ..., gap]: token k is parts[2k+1],
        # the gap before it parts[2k], and it spans [bounds[2k], bounds[2k+1]).
        parts = split_tokens(text)
        raws = parts[1::2]
        cache = index.candidates
        # Each distinct token is looked up once; the scan below then only
        # visits tokens where some alias can start.
        distinct = set(raws)
        new = distinct.difference(cache)
        if new:
            if len(cache) + len(new) > _MAX_CACHED_TOKENS:
                # A fresh dict, not clear(): a concurrent call keeps its own.
                cache = index.candidates = {}
                new = distinct
            for raw in new:
                cache[raw] = self._candidates(raw, index)
        starts = list(compress(count(), map(cache.__getitem__, raws)))
        if not starts:
            return []
        bounds = list(accumulate(map(len, parts)))
        found: list[dict[str, Any]] = []
        i = 0
        for k in starts:
            if k < i:
                continue  # inside the previous match
            best = self._match_at(parts, bounds, raws, k, cache[raws[k]])
            if best is None:
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
            i = k + n_tokens
        return found

    def _candidates(self, raw: str, index: _Index) -> _Candidates:
        """What could start at a token `raw`, whatever surrounds it; () if nothing.

        Candidate stems of the token: itself, then with each clitic run
        stripped (shortest first, so "الكرملين" is tried before "كرملين").
        Under each stem the aliases are tried longest first; the checks that
        need only this token are done here, once per distinct token.
        """
        key0, origin0 = key_with_origin(raw)
        if not key0:
            return ()
        stems = [(0, key0)]
        for p in index.prefixes.get(key0[0], ()):
            if key0.startswith(p) and len(key0) - len(p) >= index.min_stem:
                stems.append((len(p), key0[len(p):]))
        out: list[_Stem] = []
        for strip, stem in stems:
            lookups = [stem]
            if index.suffixes:
                # A one-token name with a suffix ("Urusini") is found under
                # the stem without it; the suffix must be one the alias allows.
                lookups += [stem[: -len(x)] for x in index.suffixes if stem.endswith(x) and len(stem) > len(x)]
            aliases = [a for k in lookups for a in index.first.get(k, ())]
            aliases.sort(key=_alias_order)
            multi: list[_Alias] = []
            single: tuple[int, int] | None = None
            for alias in aliases:
                if alias.needs_capital and raw[origin0[strip]].islower():
                    continue
                want_last = alias.tokens[-1]
                if len(alias.tokens) > 1:
                    if stem == alias.tokens[0]:
                        multi.append(alias)
                    continue
                if stem == want_last:
                    single = (len(raw), alias.entity)
                elif any(stem == want_last + sfx for sfx in alias.suffixes):
                    # The suffix stays outside the span.
                    single = (origin0[strip + len(want_last)], alias.entity)
                else:
                    continue
                # Aliases are sorted longest first: one-token aliases come
                # last, and the first that fits is the one taken.
                break
            if multi or single is not None:
                out.append(_Stem(strip, tuple(multi), single))
        return (origin0, tuple(out)) if out else ()

    def _match_at(
        self,
        parts: tuple[str, ...],
        bounds: list[int],
        raws: tuple[str, ...],
        i: int,
        candidates: _Candidates,
    ) -> tuple[int, int, int, int] | None:
        """The longest alias starting at token `i`: (start, end, tokens used, entity).

        Among stems, more tokens win, then the shorter clitic strip.
        """
        origin0, stems = candidates  # type: ignore[misc]
        s0 = bounds[2 * i]
        best: tuple[int, int, int, int] | None = None
        best_rank: tuple[int, int] | None = None
        for stem in stems:
            result = None
            for alias in stem.multi:
                result = _extend(parts, bounds, raws, i, alias)
                if result is not None:
                    end, n_tokens, entity = result[0], result[1], alias.entity
                    break
            if result is None:
                if stem.single is None:
                    continue
                end, n_tokens, entity = s0 + stem.single[0], 1, stem.single[1]
            rank = (-n_tokens, stem.strip)
            if best_rank is None or rank < best_rank:
                best_rank = rank
                best = (s0 + origin0[stem.strip], end, n_tokens, entity)
        return best


def _extend(
    parts: tuple[str, ...], bounds: list[int], raws: tuple[str, ...], i: int, alias: _Alias
) -> tuple[int, int] | None:
    """Whether a multi-token `alias` whose first token fits token `i` continues
    over the tokens after it; (end offset, tokens used)."""
    n = len(alias.tokens)
    if i + n > len(raws):
        return None
    last = n - 1
    for j in range(1, n):
        k = i + j
        # Between two words of one name only spaces or a hyphen may stand.
        gap = parts[2 * k]
        if gap != " " and not _NAME_GAP.fullmatch(gap):
            return None
        key, origin = key_with_origin(raws[k])
        want = alias.tokens[j]
        if key != want:
            if j == last and key.startswith(want) and key[len(want):] in alias.suffixes:
                # A suffixed last word ends the span before its suffix.
                return bounds[2 * k] + origin[len(want)], n
            return None
    return bounds[2 * (i + last) + 1], n


def _alias_order(alias: _Alias) -> tuple[int, int, int]:
    """Longest alias first (tokens, then characters); entity order breaks ties."""
    return (-len(alias.tokens), -sum(map(len, alias.tokens)), alias.entity)


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
    duplicates = sorted(q for q, n in Counter(qids).items() if n > 1)
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
