"""The fold as a regular expression over raw text: a pattern that matches a
name in the spellings `fold.key_with_origin` merges.

Used where a regex over raw text is simpler than a token lookup (month and
weekday names in `dates`, which sit inside date shapes of digits and
punctuation).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable

from parallel_corpus.text.fold import (
    ARABIC_MARKS,
    ARABIC_VOWEL_MARKS,
    DEVANAGARI_ANUSVARA,
    DEVANAGARI_CANDRABINDU,
    DEVANAGARI_NUKTA,
    INVISIBLE,
    TATWEEL,
    char_class,
    is_devanagari_consonant,
)

__all__ = ["loose_regex", "loose_first_chars", "loose_prefix_regex", "ARABIC_LOOSE_CLASSES"]

# The Arabic letters a loose pattern lets stand for each other: a subset of
# `fold.ARABIC_VARIANTS`, whose ڤ/ف, پ/ب and چ/تش are spellings of foreign
# names, not of month and weekday names (widening the classes would change
# which dates are found). A test checks that the key merges each class, so
# a name found in one spelling is looked up in it.
ARABIC_LOOSE_CLASSES = ("اأإآٱ", "يىیئ", "ةه", "كک", "وؤ", "غجگ")
# The marks a loose pattern lets follow an Arabic letter: vocalisation and
# tatweel (the key also erases the Quranic marks, which news does not put on
# a month's name).
_AR_MARKS_OPT = f"[{char_class(ARABIC_VOWEL_MARKS)}{TATWEEL}]*"
# क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़ also exist as single code points (U+0958-U+095F).
_DEVA_PRECOMPOSED_NUKTA = {
    unicodedata.normalize("NFD", chr(cp))[0]: chr(cp) for cp in range(0x0958, 0x0960)
}


def loose_regex(name: str) -> str:
    """A regex fragment matching `name` in any spelling that `normalize_key` merges.

    Compile with re.IGNORECASE for Latin script.
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
        if ch == DEVANAGARI_NUKTA or ch in INVISIBLE:
            continue
        if ch.isspace():
            if not parts or parts[-1][0] != r"\s+":
                parts.append((r"\s+", None))
            continue
        cp = ord(ch)
        if 0x0600 <= cp <= 0x06FF:
            if ch in ARABIC_MARKS:
                continue
            cls = next((c for c in ARABIC_LOOSE_CLASSES if ch in c), None)
            parts.append(((f"[{cls}]" if cls else re.escape(ch)) + _AR_MARKS_OPT, cls or ch))
        elif is_devanagari_consonant(ch):
            precomposed = _DEVA_PRECOMPOSED_NUKTA.get(ch)
            alt = f"|{precomposed}" if precomposed else ""
            parts.append((f"(?:{re.escape(ch)}{DEVANAGARI_NUKTA}?{alt})", ch + (precomposed or "")))
        elif ch in (DEVANAGARI_ANUSVARA, DEVANAGARI_CANDRABINDU):
            parts.append((f"[{DEVANAGARI_CANDRABINDU}{DEVANAGARI_ANUSVARA}]", DEVANAGARI_CANDRABINDU + DEVANAGARI_ANUSVARA))
        else:
            parts.append((re.escape(ch), ch))
    return parts
