"""Cross-script keys: what a story keeps when it is told in another script.

A story translated into Swahili, Hindi and Arabic keeps its numbers and
transliterates its names; these functions reduce both to keys that meet
across scripts, and reduce a document's own words to keys that meet within
its language. Properties of the scripts, not curated word lists.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from parallel_corpus.text.fold import DEVANAGARI_ANUSVARA, DEVANAGARI_NUKTA, key_with_origin, without_clitics, without_combining_marks
from parallel_corpus.text.tables import WORD_CACHE_SIZE, CharTable
from parallel_corpus.text.tokens import split_tokens

__all__ = ["skeleton", "name_keys", "number_keys", "word_keys", "token_word_keys"]

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
    "न": "N", "ण": "N", "ङ": "N", "ञ": "N", DEVANAGARI_ANUSVARA: "N",
}
# Nukta letters: ज़ is z, फ़ is f, ड़/ढ़ are flaps written r in Latin.
_DEVA_NUKTA_CLASS = {"ज": "S", "फ": "F", "ड": "R", "ढ": "R", "क": "K", "ख": "K", "ग": "G"}


@lru_cache(maxsize=WORD_CACHE_SIZE)
def skeleton(word: str) -> str:
    """The consonant-class skeleton of one word in Latin, Arabic or Devanagari.

    Repeated classes collapse ("Harrison" = "Harison"); words of other scripts
    give "". Deterministic and table-driven, so a new script is a new table.
    Per character the work is `str.translate` over the tables (see
    `tables.CharTable`); only a Devanagari nukta, which changes the letter before
    it, is read character by character.
    """
    w = unicodedata.normalize("NFD", word)
    if w and "a" <= w[0].lower() <= "z":
        if not w.isascii():
            w = without_combining_marks(w)
        w = w.lower()
        # c is s before e/i/y ("Cecil"), k elsewhere.
        w = re.sub(r"c(?=[eiy])", "s", w)
        for digraph, cls in _LATIN_DIGRAPHS:
            w = w.replace(digraph, cls)
        # A digraph's class is already upper case and stays.
        classes = w.translate(_LATIN_CLASSES)
    elif DEVANAGARI_NUKTA not in w:
        classes = w.translate(_ARABIC_DEVANAGARI_CLASSES)
    else:
        out: list[str] = []
        n = len(w)
        for i, c in enumerate(w):
            if c in _ARABIC:
                out.append(_ARABIC[c])
            elif c in _DEVANAGARI:
                nukta = i + 1 < n and w[i + 1] == DEVANAGARI_NUKTA
                out.append(_DEVA_NUKTA_CLASS.get(c, _DEVANAGARI[c]) if nukta else _DEVANAGARI[c])
        classes = "".join(out)
    return _REPEATED.sub(r"\1", classes)


_LATIN_CLASSES = CharTable(lambda c: c if c.isupper() else _LATIN.get(c, ""))
_ARABIC_DEVANAGARI_CLASSES = CharTable(lambda c: _ARABIC.get(c) or _DEVANAGARI.get(c) or "")
_REPEATED = re.compile(r"(.)\1+", re.DOTALL)


def name_keys(text: str, language: str | None, min_consonants: int = 3) -> list[str]:
    """Skeleton keys of the words that may be names, sorted and unique.

    Latin-script text capitalises names, so there only capitalised words that
    do not open a sentence count; Arabic and Devanagari have no capitals, so
    every word counts and rarity (document frequency) sorts names from words
    later. Arabic words also give their skeleton without each clitic run
    they open with (`fold.ARABIC_WORD_CLITICS`), since a name may carry them.
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
        variants = [tok] + without_clitics(tok)
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



def word_keys(text: str, language: str | None) -> dict[str, int]:
    """The document's own words as "t:LANGUAGE:word" keys with their counts.

    Within one language, two reports of a story share far more of their
    content words than two unrelated articles do; how rare a word is in the
    corpus (its weight, worked out by `align.cluster`) sorts content words
    from common ones, so no word list is needed. A word is its
    script-tolerant key (`fold.key_with_origin`: case, Arabic letter
    variants and marks, nukta folded) and an Arabic word also loses its
    longest clitic run (`fold.ARABIC_WORD_CLITICS`), as "والصين" is "الصين"
    is "صين". Digits are left to `number_keys`. The language is in the key,
    so a word's document frequency is counted in its own language.
    """
    counts: dict[str, int] = {}
    for key in token_word_keys(text, language):
        if key:
            counts[key] = counts.get(key, 0) + 1
    return counts


def token_word_keys(text: str, language: str | None) -> list[str]:
    """The word key of each token of `split_tokens(text)`, "" where it has none."""
    cache = _WORD_KEY_CACHE_HOLDER[0]
    if len(cache) > _MAX_CACHED_WORDS:
        cache = _WORD_KEY_CACHE_HOLDER[0] = {}
    prefix = f"t:{language or '?'}:"
    out = []
    for tok in split_tokens(text)[1::2]:
        word = cache.get(tok)
        if word is None:
            word = cache[tok] = _word_key(tok)
        out.append(prefix + word if word else "")
    return out


def _word_key(tok: str) -> str:
    """One token's word key ("" for a number or a one-letter token)."""
    if tok[0].isdigit():
        return ""
    key = key_with_origin(tok)[0]
    if "\u0600" <= tok[0] <= "\u06ff":
        # The longest clitic run the word opens with goes.
        stems = without_clitics(key)
        if stems:
            key = stems[0]
    return key if len(key) >= 2 else ""


# Word keys already worked out (forgetting only costs recomputation).
_WORD_KEY_CACHE_HOLDER: list[dict[str, str]] = [{}]
