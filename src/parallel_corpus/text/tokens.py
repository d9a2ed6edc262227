"""Words of a text: its tokens and the gaps between them, and the key of a phrase.

A token is a run of letters with their marks (a Devanagari vowel sign or an
Arabic harakah belongs to its word) or a run of digits. The gazetteer, the
alignment keys and the month names of `dates` all cut text here, so they
agree on where a word ends.
"""

from __future__ import annotations

import re
from functools import lru_cache

from parallel_corpus.text.fold import WORD_MARKS, char_class, key_with_origin

__all__ = ["WORD_CHAR_CLASS", "TOKEN_RE", "split_tokens", "normalize_key"]

_MARKS = char_class(WORD_MARKS)
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


def normalize_key(raw: str) -> str:
    """The script-tolerant key of a word or phrase: each token's
    `key_with_origin`, joined by single spaces."""
    return " ".join(key_with_origin(tok)[0] for tok in TOKEN_RE.findall(raw))
