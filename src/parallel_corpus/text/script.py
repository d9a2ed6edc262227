"""Writing systems (ISO 15924) of text, by Unicode block.

Decoding, language tagging and flags all ask "which script is this": a
cp1256 guess is only trusted when it yields Arabic letters, and a block in a
script its language does not use is flagged.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Optional

from parallel_corpus.text.tables import CharTable

# (first, last, ISO 15924) for the scripts langdetect can name; anything else
# is "Zyyy" (common/unknown).
_RANGES = (
    (0x0041, 0x005A, "Latn"), (0x0061, 0x007A, "Latn"), (0x00C0, 0x024F, "Latn"), (0x1E00, 0x1EFF, "Latn"),
    (0x0370, 0x03FF, "Grek"), (0x0400, 0x052F, "Cyrl"), (0x0590, 0x05FF, "Hebr"),
    (0x0600, 0x06FF, "Arab"), (0x0750, 0x077F, "Arab"), (0x08A0, 0x08FF, "Arab"), (0xFB50, 0xFDFF, "Arab"), (0xFE70, 0xFEFF, "Arab"),
    (0x0900, 0x097F, "Deva"), (0xA8E0, 0xA8FF, "Deva"), (0x0980, 0x09FF, "Beng"), (0x0A00, 0x0A7F, "Guru"),
    (0x0A80, 0x0AFF, "Gujr"), (0x0B80, 0x0BFF, "Taml"), (0x0C00, 0x0C7F, "Telu"), (0x0C80, 0x0CFF, "Knda"),
    (0x0D00, 0x0D7F, "Mlym"), (0x0E00, 0x0E7F, "Thai"), (0x1100, 0x11FF, "Hang"), (0xAC00, 0xD7AF, "Hang"),
    (0x3040, 0x30FF, "Jpan"), (0x4E00, 0x9FFF, "Hani"),
)


@lru_cache(maxsize=None)
def _script_of_char(c: str) -> Optional[str]:
    o = ord(c)
    if o < 0x41:
        return None
    for lo, hi, name in _RANGES:
        if lo <= o <= hi:
            return name
    return None


# One character stands for each script in the translated text.
_SCRIPT_NAMES = sorted({name for _, _, name in _RANGES})
_SCRIPT_MARK = {name: chr(0xE000 + i) for i, name in enumerate(_SCRIPT_NAMES)}
_NAME_OF_MARK = {mark: name for name, mark in _SCRIPT_MARK.items()}


def _letter_mark(c: str) -> Optional[str]:
    name = _script_of_char(c) if c.isalpha() else None
    return _SCRIPT_MARK[name] if name else None


_LETTER_MARKS = CharTable(_letter_mark)
_LETTERS_ONLY = CharTable(lambda c: c if c.isalpha() else None)


def dominant_script(text: str, min_share: float = 0.0) -> tuple[Optional[str], float]:
    """The script of most letters and its share of them; None for no letters
    or when the top share is below `min_share`. Ties go to the script met first."""
    marks = text.translate(_LETTER_MARKS)
    if not marks:
        return None, 0.0
    if marks.count(marks[0]) == len(marks):
        # One script only, the common case: no counting needed.
        return (_NAME_OF_MARK[marks[0]] if 1.0 >= min_share else None), 1.0
    mark, n = Counter(marks).most_common(1)[0]
    share = n / len(marks)
    return (_NAME_OF_MARK[mark] if share >= min_share else None), share


def count_letters(text: str) -> int:
    return len(text.translate(_LETTERS_ONLY))


def compatible(script: Optional[str], expected: str) -> bool:
    """Whether text in `script` may be written in a language whose script is `expected`."""
    if script is None:
        return True
    if expected in ("Hans", "Hant"):
        return script == "Hani"
    if expected == "Jpan":
        return script in ("Jpan", "Hani")
    return script == expected
