"""Invented people, places and organisations, spelled consistently in Latin,
Devanagari and Arabic script, and the gazetteer that lists them.

No invented word is a word of the seed texts, so a synthetic name is never
mistaken for one the seeds already use; their QIDs (Q9000...) are far above
any real one the gazetteer holds.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any, Sequence

import yaml

from synthetic.common import SyntheticError
from synthetic.templates import ORG_EN, TEXT

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


class NameMaker:
    """Unique invented words, none of which is a word of the seed texts."""

    def __init__(self, rng: random.Random, vocabulary: set[str]):
        from parallel_corpus.text.tokens import normalize_key

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


def person(qid: str, maker: NameMaker) -> SyntheticEntity:
    given, family = maker.word(2, unique=False), maker.word(3)
    names = {}
    for i, lang in enumerate(("en", "hi", "ar")):
        names[lang] = (f"{given[i]} {family[i]}", family[i])
    names["sw"] = names["en"]
    return SyntheticEntity(qid, "person", names)


def place(qid: str, maker: NameMaker) -> SyntheticEntity:
    latin, deva, arab = maker.word(3)
    names = {"en": (latin, latin), "sw": (latin, latin), "hi": (deva, deva), "ar": (arab, arab)}
    return SyntheticEntity(qid, "place", names)


def organisation(qid: str, maker: NameMaker) -> SyntheticEntity:
    latin, deva, arab = maker.word(2)
    names = {"en": (ORG_EN.format(X=latin),) * 2}
    for lang, x in (("sw", latin), ("hi", deva), ("ar", arab)):
        full = TEXT[lang]["org"][0].format(X=x)
        names[lang] = (full, full)
    return SyntheticEntity(qid, "organisation", names)


def entities_yaml(entities: Sequence[SyntheticEntity], head: dict[str, Any]) -> str:
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
