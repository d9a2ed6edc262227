"""Gazetteer entity recognition: canonical entities (Wikidata QIDs) found in text.

Input: a document's `text` and its language; output: non-overlapping spans
`{"qid","type","canonical","start","end","text","source"}` whose offsets are
Python code points into that same `text` (DESIGN: every offset is one).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate, compress, count
from pathlib import Path
from typing import Any, Optional

from parallel_corpus.corpus import CorpusError, load_curated
from parallel_corpus.text.fold import ARABIC_ARTICLE, clitic_runs, key_with_origin
from parallel_corpus.text.languages import ANY_LANGUAGE, LanguageCodes
from parallel_corpus.text.tables import WORD_CACHE_SIZE
from parallel_corpus.text.tokens import TOKEN_RE, normalize_key, split_tokens

# The fold of a word, its tokens and the loose patterns of names live in
# `text/` (`fold`, `tokens`, `loose`), shared with `dates` and the alignment
# keys; the gazetteer is built on them.
__all__ = ["Gazetteer", "Entity", "load_gazetteer"]

# ---------------------------------------------------------------------------
# The gazetteer.
# ---------------------------------------------------------------------------

# Between two words of one name only spaces or a hyphen (or maqaf) may stand.
_NAME_GAP = re.compile(r"\s{1,3}|\s?[-\u2010\u2011\u05be]\s?")


@dataclass(frozen=True)
class Entity:
    """One canonical entity of `corpus/entities.yaml`."""

    qid: Optional[str]
    type: str
    canonical: str
    aliases: dict[str, tuple[str, ...]]
    verified: bool
    qid_source: str

    @property
    def key(self) -> str:
        """How the catalog and the aligner name this entity (see `entity_key`)."""
        return self.qid or self.canonical


def entity_key(mention: dict[str, Any]) -> Optional[str]:
    """The name of a mention's entity wherever entities are compared: its QID,
    or the canonical name of a gazetteer entity that has none (no source gave
    it one). A human span no entity covers has neither, and names nothing:
    two such spans must not count as the same entity."""
    return mention.get("qid") or mention.get("canonical") or None


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
    codes: LanguageCodes = field(default_factory=LanguageCodes)
    _indexes: dict[str, _Index] = field(default_factory=dict, repr=False)

    def resolve(self, language: str | None) -> str:
        """Our alias table for `language` (ISO 639-1/3 or FLORES); `*` = all of them."""
        return self.codes.resolve(language)

    def _index(self, language: str | None) -> _Index:
        lang = self.resolve(language)
        if lang in self._indexes:
            return self._indexes[lang]
        langs = self.codes.names if lang == ANY_LANGUAGE else [lang]
        first: dict[str, list[_Alias]] = {}
        prefixes: set[str] = set()
        min_stem = 2
        for lg in langs:
            morph = self.morphology.get(lg, {})
            prefixes |= _clitic_runs(morph)
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
    if tokens[0].startswith(ARABIC_ARTICLE) and len(tokens[0]) - len(ARABIC_ARTICLE) >= 2:
        variants.append((tokens[0][len(ARABIC_ARTICLE):],) + tokens[1:])
    return variants


def _clitic_runs(morph: dict[str, Any]) -> set[str]:
    """Every clitic run a language's `prefix_slots` allow, as keys (see `fold.clitic_runs`)."""
    slots = [[normalize_key(str(item)) for item in slot] for slot in morph.get("prefix_slots", [])]
    contractions = {normalize_key(str(long)): normalize_key(str(short)) for long, short in (morph.get("contractions") or {}).items()}
    return clitic_runs(slots, contractions)


def load_gazetteer(path: str | Path) -> Gazetteer:
    """Read `entities.yaml` (a corpus folder or the file), validated by its schema."""
    data = load_curated(path, "entities.yaml", "entities")
    keys = [e["qid"] or e["canonical"] for e in data["entities"]]
    duplicates = sorted(q for q, n in Counter(keys).items() if n > 1)
    if duplicates:
        raise CorpusError(f"{path}: duplicate entities: {', '.join(duplicates)}: keep one entity per QID (or per canonical name, for one without a QID) and merge their aliases")
    unsourced = [e["canonical"] for e in data["entities"] if e["qid"] is None and e["qid_checked"]["verified"]]
    if unsourced:
        raise CorpusError(f"{path}: {unsourced[0]}: `qid_checked.verified` is true but `qid` is null: set the QID the source gives, or `verified: false`")
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
    codes = LanguageCodes({lang: (spec or {}).get("codes", []) for lang, spec in (data.get("languages") or {}).items()})
    # A language with aliases but no entry under `languages` names itself.
    codes.add_names(lang for e in entities for lang in e.aliases)
    return Gazetteer(entities=entities, morphology=data.get("morphology") or {}, codes=codes)
