"""What the per-document stages remember: the bound of every per-word
cache, and the per-character translation tables.

News repeats its words, so the stages remember what they worked out for a
word (its n-grams, its key, its skeleton). Each cache forgets when full, and
forgetting only costs recomputation. One bound for all of them: 32,768 words
hold the frequent vocabulary of a corpus, and they are full after a few
thousand documents, so memory stops growing there instead of following the
vocabulary of a corpus of any size.
"""

from typing import Callable, Optional

WORD_CACHE_SIZE = 1 << 15


class CharTable(dict):  # type: ignore[type-arg]
    """A `str.translate` table filled on first sight of each character from
    `rule`: the per-character rule runs once per distinct character, and the
    text itself is mapped in C."""

    def __init__(self, rule: Callable[[str], Optional[str]]) -> None:
        super().__init__()
        self._rule = rule

    def __missing__(self, codepoint: int) -> Optional[str]:
        value = self[codepoint] = self._rule(chr(codepoint))
        return value
