"""How much the per-word caches of the per-document stages keep.

News repeats its words, so the stages remember what they worked out for a
word (its n-grams, its key, its skeleton). Each cache forgets when full, and
forgetting only costs recomputation. One bound for all of them: 32,768 words
hold the frequent vocabulary of a corpus, and they are full after a few
thousand documents, so memory stops growing there instead of following the
vocabulary of a corpus of any size.
"""

WORD_CACHE_SIZE = 1 << 15
