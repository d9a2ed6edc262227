"""langdetect's detector, vectorized: its shipped profiles and its algorithm,
its answers, at a fraction of its cost.

Input: text (or n-grams already extracted from it); output: langdetect's
ranked (language, probability) list. langdetect reads a text one character
at a time through pure-Python objects, which is most of the time a corpus
build spends on language. Here the same steps run as whole-string
operations (`str.translate`, `re`, `map`) and the random trials as NumPy
vector products, drawing from the same seeded `random.Random` in the same
order, so every n-gram list and every probability equals langdetect's
(`tests/_fast/test_ngram_detector.py` compares them on real news in all three
languages). Two choices make the answer the same on every machine, which
langdetect alone is not: the languages are in sorted order (langdetect takes
`os.listdir` order), and sums run left to right in float64 (Python 3.12's
`sum` compensates rounding, 3.11's does not).

Measured (`scripts/bench-fast-paths`): the ranked probabilities of 300
synthetic news documents (1.0 M characters) take 2.08 CPU s with
langdetect, 0.39 s here, 5.3x less; a corpus of 100,000 documents is about
8 minutes of langdetect alone (`scripts/bench`).
"""

from __future__ import annotations

import json
import math
import random
import re
from functools import partial
from itertools import chain
from operator import add, is_not
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from parallel_corpus.text.tables import WORD_CACHE_SIZE, CharTable

__all__ = ["Detector", "profiles_directory"]

# langdetect's constants (langdetect.detector.Detector).
_ALPHA = 0.5
_ALPHA_WIDTH = 0.05
_ITERATION_LIMIT = 1000
_PROB_THRESHOLD = 0.1
_CONV_THRESHOLD = 0.99999
_BASE_FREQ = 10000
_N_TRIAL = 7
_MAX_TEXT_LENGTH = 10000
# langdetect's smoothing of an n-gram's probability (alpha / BASE_FREQ).
_SMOOTHING = _ALPHA / _BASE_FREQ

# langdetect's cleaning counts Latin letters ('A'..'z', as it compares) and
# every character from U+0300 on: it means to spare "Latin Extended
# Additional", but compares that block's number with its name, so it spares
# nothing. The same counts, reproduced.
_LATIN = re.compile("[A-z]")
_FROM_U0300 = re.compile("[^\u0000-\u02ff]")


def profiles_directory() -> Path:
    """langdetect's shipped profiles: no download, the installed package's data."""
    from langdetect.detector_factory import PROFILES_DIRECTORY

    return Path(PROFILES_DIRECTORY)


def _case_mark(ch: str) -> str:
    return "U" if ch.isupper() else "l"


class _WordGrams(dict):
    """Row numbers of a word's n-grams with the space after it, computed on
    first sight; cleared when it grows past `limit` so that memory stays
    bounded on a corpus of any vocabulary."""

    def __init__(self, lookup, case: CharTable, limit: int = WORD_CACHE_SIZE):
        super().__init__()
        self._lookup = lookup
        self._case = case
        self._limit = limit
        self[""] = ()

    def __missing__(self, word: str) -> tuple[int, ...]:
        if len(self) >= self._limit:
            self.clear()
            self[""] = ()
        grams = self[word] = self._grams(" " + word + " ")
        return grams

    def last_word(self, word: str) -> tuple[int, ...]:
        """The text's last word, which no space follows."""
        return self._grams(" " + word)

    def _grams(self, s: str) -> tuple[int, ...]:
        """At each position after the opening space, the 1-, 2- and 3-gram
        ending there (a 3-gram only from the word's second letter on, a
        lone space never), except inside a run of capitals ("UN", "BBC"),
        where langdetect skips the position."""
        unigrams = list(s[1:])
        bigrams = list(map(add, s[:-1], s[1:]))
        trigrams = [""]
        trigrams += map(add, bigrams[:-1], s[2:])
        cases = s.translate(self._case)
        capital = cases.find("UU")
        while capital != -1:
            unigrams[capital] = bigrams[capital] = trigrams[capital] = ""
            capital = cases.find("UU", capital + 1)
        return tuple(filter(partial(is_not, None), map(self._lookup, chain.from_iterable(zip(unigrams, bigrams, trigrams)))))


class Detector:
    """langdetect's profiles as one float64 matrix (n-gram x language) and its
    detection as vector arithmetic. Built once per process (about 0.5 s)."""

    def __init__(self, seed: int, languages: Optional[Sequence[str]] = None, directory: Optional[Path] = None):
        from langdetect.utils.ngram import NGram

        self.seed = seed
        directory = Path(directory) if directory is not None else profiles_directory()
        # langdetect names each profile file after its language.
        paths = {p.name: p for p in directory.iterdir() if not p.name.startswith(".") and p.is_file()}
        order = list(languages) if languages is not None else sorted(paths)
        if sorted(order) != sorted(paths):
            raise ValueError(f"languages {order} are not the profiles in {directory}")
        self.languages: list[str] = order
        self._column = {lang: i for i, lang in enumerate(order)}
        # One profile in memory at a time, its column kept as two arrays:
        # the whole JSON of 55 profiles would triple the peak memory of a
        # process that only needs the matrix.
        index: dict[str, int] = {}
        columns: list[tuple[np.ndarray, np.ndarray]] = []
        for lang in order:
            profile = json.loads(paths[lang].read_text(encoding="utf-8"))
            if profile.get("name") != lang:
                raise ValueError(f"{paths[lang]}: profile of {profile.get('name')!r}, not {lang!r}")
            n_words = profile["n_words"]
            rows: list[int] = []
            values: list[float] = []
            for gram, freq in profile["freq"].items():
                if 1 <= len(gram) <= 3:
                    rows.append(index.setdefault(gram, len(index)))
                    # langdetect's own arithmetic: 1.0 * freq / n_words[len - 1].
                    values.append(1.0 * freq / n_words[len(gram) - 1])
            columns.append((np.array(rows, dtype=np.int64), np.array(values, dtype=np.float64)))
            del profile, rows, values
        self.table = np.zeros((len(index), len(order)), dtype=np.float64)
        for column, (rows_of, values_of) in enumerate(columns):
            self.table[rows_of, column] = values_of
        del columns
        # langdetect never emits a lone space nor a trigram with a space in
        # the middle (its buffer restarts at every space); leaving them out of
        # the index lets a plain membership test stand for those rules.
        for gram in [g for g in index if g == " " or (len(g) == 3 and g[1] == " ")]:
            del index[gram]
        self.index = index
        self._normalize = CharTable(NGram.normalize)
        self._word_grams = _WordGrams(index.get, CharTable(_case_mark))
        self._normalize_vi = NGram.normalize_vi
        from langdetect.detector import Detector

        self._url = Detector.URL_RE
        self._mail = Detector.MAIL_RE
        self._log_tables: dict[tuple[int, ...], np.ndarray] = {}

    # -- n-grams ---------------------------------------------------------------

    def ngrams(self, text: str) -> np.ndarray:
        """Row numbers of the n-grams langdetect samples from `text`, in its
        order: the text as `Detector.append` keeps it (URLs and e-mail
        addresses blanked, Vietnamese marks composed, the first 10,000
        characters), Latin letters dropped from a mostly non-Latin text, each
        character normalized, and at every position the 1-, 2- and 3-gram that
        end there inside the current word, except inside a run of capitals."""
        text = self._url.sub(" ", text)
        text = self._mail.sub(" ", text)
        text = self._normalize_vi(text)[:_MAX_TEXT_LENGTH]
        latin = len(text) - len(_LATIN.sub("", text))
        non_latin = len(text) - len(_FROM_U0300.sub("", text))
        if latin * 2 < non_latin:
            text = _LATIN.sub("", text)
        # Normalized, the text is words between spaces, and langdetect's
        # buffer restarts at every space: a word's n-grams depend on the word
        # alone (and on whether a space follows it). News repeats its words,
        # so each word's n-grams are worked out once.
        words = text.translate(self._normalize).split(" ")
        last = words.pop()
        found = chain.from_iterable(map(self._word_grams.__getitem__, words))
        if last:
            found = chain(found, self._word_grams.last_word(last))
        return np.fromiter(found, dtype=np.int64)

    # -- detection -------------------------------------------------------------

    def probabilities(self, text: str) -> list[tuple[str, float]]:
        """langdetect's ranked (language, probability) for a text, as a plain
        seeded `detect_langs` gives them; empty where it finds no n-gram it
        knows (a lone "." makes langdetect raise)."""
        return self.probabilities_of_ngrams(self.ngrams(text))

    def probabilities_of_ngrams(self, grams: np.ndarray) -> list[tuple[str, float]]:
        """langdetect's `get_probabilities` on n-grams already extracted: seven seeded
        trials of random n-gram draws, each multiplying every language's
        probability until one passes 0.99999; ranked, those above 0.1.
        Empty when there is no n-gram (where langdetect raises)."""
        if len(grams) == 0:
            return []
        table = self.table
        size = len(self.languages)
        rng = random.Random()
        rng.seed(self.seed)
        total = np.zeros(size)
        for _ in range(_N_TRIAL):
            prob = np.full(size, 1.0 / size)
            alpha = _ALPHA + rng.gauss(0.0, 1.0) * _ALPHA_WIDTH
            weight = alpha / _BASE_FREQ
            i = 0
            while True:
                prob *= weight + table[rng.choice(grams)]
                if i % 5 == 0:
                    # Left-to-right sum, as langdetect's `sum` on Python 3.11.
                    prob /= np.cumsum(prob)[-1]
                    if prob.max() > _CONV_THRESHOLD or i >= _ITERATION_LIMIT:
                        break
                i += 1
            total += prob / _N_TRIAL
        ranked = [(lang, float(p)) for lang, p in zip(self.languages, total) if p > _PROB_THRESHOLD]
        # langdetect's stable `sort(reverse=True)` on probability alone.
        ranked.sort(key=lambda item: item[1], reverse=True)
        return ranked

    def posterior(self, grams: np.ndarray, candidates: Sequence[str]) -> dict[str, float]:
        """Naive-Bayes posterior over a few candidate languages from the same
        profiles (with langdetect's smoothing): deterministic, no sampling,
        one vector sum per block. Empty when no n-gram is known."""
        columns = tuple(self._column[c] for c in dict.fromkeys(candidates) if c in self._column)
        if len(grams) == 0 or not columns:
            return {}
        totals = self._logs(columns)[grams].sum(axis=0).tolist()
        # math.exp, as math.log for the table: NumPy's vectorized versions
        # may round the last bit by the processor's instruction set.
        top = max(totals)
        weights = [math.exp(v - top) for v in totals]
        norm = 0.0
        for w in weights:
            norm += w
        return {self.languages[c]: w / norm for c, w in zip(columns, weights)}

    def prepare(self, candidates: Sequence[str]) -> None:
        """Make the table `posterior` needs for these candidates now: in a
        process that forks workers, they then share it instead of each
        making its own."""
        columns = tuple(self._column[c] for c in dict.fromkeys(candidates) if c in self._column)
        if columns:
            self._logs(columns)

    def _logs(self, columns: tuple[int, ...]) -> np.ndarray:
        """log(p + smoothing) of every n-gram for these languages, made once
        per process and set of languages (about 0.1 s)."""
        logs = self._log_tables.get(columns)
        if logs is None:
            log = math.log
            rows = self.table[:, columns].tolist()
            logs = self._log_tables[columns] = np.array([[log(p + _SMOOTHING) for p in row] for row in rows])
        return logs
