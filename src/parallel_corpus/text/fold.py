"""The fold of a word: what is erased or merged so that two spellings of one
word compare equal, and the Arabic proclitics a word may carry.

Arabic marks (vocalisation, Quranic marks, tatweel) and letter variants, the
Devanagari nukta, nasals and vowel variants, Latin case and accents. Written
once here because the cleaner's line fold, the gazetteer, the month names of
`dates` and the alignment's word keys must agree on them: a mark that one of
them erases and another keeps makes one word two words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

from parallel_corpus.text.tables import WORD_CACHE_SIZE, CharTable

__all__ = [
    "ARABIC_VOWEL_MARKS",
    "QURANIC_MARKS",
    "TATWEEL",
    "ARABIC_MARKS",
    "DEVANAGARI_NUKTA",
    "FOLDED_MARKS",
    "WORD_MARKS",
    "INVISIBLE",
    "char_class",
    "without_combining_marks",
    "key_with_origin",
    "ARABIC_VARIANTS",
    "DEVANAGARI_VIRAMA",
    "DEVANAGARI_ANUSVARA",
    "DEVANAGARI_CANDRABINDU",
    "is_devanagari_consonant",
    "ARABIC_CONJUNCTIONS",
    "ARABIC_PREPOSITIONS",
    "ARABIC_ARTICLE",
    "ARABIC_PREFIX_SLOTS",
    "ARABIC_CONTRACTIONS",
    "ARABIC_WORD_CLITICS",
    "ARTICLE_WITH_CLITICS",
    "clitic_runs",
    "without_clitics",
]

# ---------------------------------------------------------------------------
# Marks: (first, last) code point ranges.
# ---------------------------------------------------------------------------

# Arabic vocalisation: harakat, tanwin, shadda, sukun, hamza and maddah above
# and below (U+064B-U+065F), and the superscript alef (U+0670). Written in
# some texts, left out in most: a word is the same word with or without them.
ARABIC_VOWEL_MARKS: tuple[tuple[int, int], ...] = ((0x064B, 0x065F), (0x0670, 0x0670))
# The small high and low letters and stops of Quranic orthography
# (U+06D6-U+06ED), met in quotations of the Quran.
QURANIC_MARKS: tuple[tuple[int, int], ...] = ((0x06D6, 0x06ED),)
# The tatweel (kashida) only stretches a word for layout: "غوتيـريش".
TATWEEL = "\u0640"
# The Devanagari nukta: ज़/ज, फ़/फ are spelled both ways in one outlet.
DEVANAGARI_NUKTA = "\u093c"


def _chars(ranges: Iterable[tuple[int, int]]) -> frozenset[str]:
    return frozenset(chr(cp) for lo, hi in ranges for cp in range(lo, hi + 1))


def char_class(ranges: Iterable[tuple[int, int]]) -> str:
    """The inside of a regex character class holding `ranges` ("\\u064b-\\u065f\\u0670")."""
    return "".join(chr(lo) if lo == hi else f"{chr(lo)}-{chr(hi)}" for lo, hi in ranges)


# What every fold erases from an Arabic word.
ARABIC_MARKS: frozenset[str] = _chars(ARABIC_VOWEL_MARKS + QURANIC_MARKS) | {TATWEEL}
# What every fold erases, whatever the script: the Arabic marks and the nukta.
FOLDED_MARKS: frozenset[str] = ARABIC_MARKS | {DEVANAGARI_NUKTA}

# Combining marks that sit inside the words of the scripts we meet (Latin
# accents, Cyrillic and Hebrew marks, Arabic honorifics, vocalisation and
# Quranic marks, Devanagari vowel signs and nukta, Bengali signs) and the
# zero-width joiners of Indic and Arabic words. Python's `\w` excludes Mn/Mc
# marks, so a word would otherwise break at every vowel sign.
WORD_MARKS: tuple[tuple[int, int], ...] = (
    (0x0300, 0x036F), (0x0483, 0x0489), (0x0591, 0x05C7), (0x0610, 0x061A),
    *ARABIC_VOWEL_MARKS, *QURANIC_MARKS,
    (0x0900, 0x0903), (0x093A, 0x094F), (0x0951, 0x0957), (0x0962, 0x0962), (0x0963, 0x0963),
    (0x0981, 0x0983), (0x09BC, 0x09D7), (0x200C, 0x200C), (0x200D, 0x200D),
)

# Characters that change how a word is drawn, never which word it is: the
# zero-width non-joiner and joiner, the soft hyphen, the direction marks.
INVISIBLE: frozenset[str] = frozenset("\u200c\u200d\u00ad\u200e\u200f")

_WITHOUT_COMBINING = CharTable(lambda c: "" if unicodedata.combining(c) else c)


def without_combining_marks(text: str) -> str:
    """`text` without its combining marks (of a decomposed text: its accents)."""
    return text.translate(_WITHOUT_COMBINING)


# ---------------------------------------------------------------------------
# Letter variants.
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

ARABIC_VARIANTS = {
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
DEVANAGARI_VIRAMA = "\u094d"
DEVANAGARI_ANUSVARA = "\u0902"
DEVANAGARI_CANDRABINDU = "\u0901"
_DEVA_NASALS = set("ङञणनम")
_DEVA_MAP = {
    DEVANAGARI_CANDRABINDU: DEVANAGARI_ANUSVARA,  # candrabindu ~ anusvara
    "\u0949": "\u093e",  # ॉ (English "o" in मॉस्को) ~ ा (मास्को)
    "\u0911": "\u0906",  # ऑ ~ आ
}


def is_devanagari_consonant(ch: str) -> bool:
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
    if _IRREGULAR not in key and not (DEVANAGARI_VIRAMA in raw and _HALF_NASAL.search(raw)):
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
        DEVANAGARI_VIRAMA,
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
        if ch in INVISIBLE:
            i += 1
            continue
        if 0x0600 <= cp <= 0x06FF:
            if ch in ARABIC_MARKS:
                i += 1
                continue
            mapped = ARABIC_VARIANTS.get(ch, ch)
        elif 0x0900 <= cp <= 0x097F:
            # A precomposed nukta letter (क़, U+0958) keeps its base only.
            base = unicodedata.normalize("NFD", ch)[0]
            if base == DEVANAGARI_NUKTA:
                i += 1
                continue
            if (
                base in _DEVA_NASALS
                and i + 2 < n
                and raw[i + 1] == DEVANAGARI_VIRAMA
                and is_devanagari_consonant(raw[i + 2])
            ):
                # A half nasal before a consonant is the anusvara's twin:
                # सितम्बर == सितंबर.
                out.append(DEVANAGARI_ANUSVARA)
                origin.append(i)
                i += 2
                continue
            mapped = _DEVA_MAP.get(base, base)
        else:
            mapped = without_combining_marks(unicodedata.normalize("NFKD", ch)).casefold()
        for c in mapped:
            out.append(c)
            origin.append(i)
        i += 1
    origin.append(n)
    return "".join(out), tuple(origin)


# ---------------------------------------------------------------------------
# Arabic proclitics.
#
# An Arabic word may open with a conjunction, then a preposition, then the
# article: و + ب + ال + ... ("وبالكرملين"), one of each at most; ل before ال
# drops the alif ("للأمم"). The gazetteer reads its slots from entities.yaml
# (a corpus may widen or narrow what a name may carry); the word keys and the
# cleaner's stems, which have no corpus at hand, use these.
# ---------------------------------------------------------------------------

ARABIC_CONJUNCTIONS: tuple[str, ...] = ("و", "ف")
ARABIC_PREPOSITIONS: tuple[str, ...] = ("ب", "ل", "ك")
ARABIC_ARTICLE = "ال"
ARABIC_PREFIX_SLOTS: tuple[tuple[str, ...], ...] = (ARABIC_CONJUNCTIONS, ARABIC_PREPOSITIONS, (ARABIC_ARTICLE,))
ARABIC_CONTRACTIONS: dict[str, str] = {"لال": "لل"}


def clitic_runs(
    slots: Sequence[Iterable[str]], contractions: Mapping[str, str] | None = None, keep_long: bool = True
) -> set[str]:
    """Every clitic run the slots allow (one optional item per slot, in order),
    with each contraction applied where its long form occurs.

    With `keep_long` the uncontracted run stays a run too ("لال" beside
    "لل"), as the gazetteer has always read entities.yaml; without it only
    the written form is one.
    """
    runs = {""}
    for slot in slots:
        runs |= {r + item for r in runs for item in slot}
    for long, short in (contractions or {}).items():
        longs = {r for r in runs if long in r}
        runs |= {r.replace(long, short) for r in longs}
        if not keep_long:
            runs -= longs
    runs.discard("")
    return runs


# The clitics a word key and a name key drop: one conjunction or preposition
# at most, then the article ("والصين" is "الصين" is "صين"), longest first.
# Two clitics before a word ("وب") are rare enough in a word of three letters
# to be more often part of it.
ARABIC_WORD_CLITICS: tuple[str, ...] = tuple(
    sorted(
        clitic_runs((ARABIC_CONJUNCTIONS + ARABIC_PREPOSITIONS, (ARABIC_ARTICLE,)), ARABIC_CONTRACTIONS, keep_long=False),
        key=lambda run: (-len(run), run),
    )
)

# The article and the clitics before it, at the start of a word (not
# contracted: a crude stem is enough for the cleaner's word overlap).
ARTICLE_WITH_CLITICS = re.compile(
    "^" + "".join(f"(?:[{''.join(slot)}])?" for slot in (ARABIC_CONJUNCTIONS, ARABIC_PREPOSITIONS)) + f"(?:{ARABIC_ARTICLE})"
)


def without_clitics(word: str, clitics: Sequence[str] = ARABIC_WORD_CLITICS, min_stem: int = 3) -> list[str]:
    """`word` without each of `clitics` it opens with, in the order of
    `clitics` (longest first for `ARABIC_WORD_CLITICS`), where at least
    `min_stem` characters are left."""
    return [word[len(c):] for c in clitics if word.startswith(c) and len(word) - len(c) >= min_stem]
