"""The vectorized detector gives langdetect's own answers: the same n-grams in
the same order and the same probabilities, on the seeds, on real news and on
generated text that exercises each of langdetect's character rules."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parallel_corpus._fast.ngram_detector import Detector

REPO = Path(__file__).resolve().parents[2]
EXTERNAL = REPO.parent / "shared" / "external" / "news"
SEED = 20240521
# Python 3.12 made `sum` of floats compensated; langdetect's normalization
# uses it, ours sums left to right as 3.11 does. Bits agree only before 3.12.
EXACT = sys.version_info < (3, 12)


@pytest.fixture(scope="module")
def reference():
    """langdetect itself, seeded, and our detector with langdetect's language
    order (its `os.listdir` order), so that every float step is comparable."""
    from langdetect import DetectorFactory
    from langdetect import detector_factory

    DetectorFactory.seed = SEED
    detector_factory.init_factory()
    factory = detector_factory._factory
    factory.seed = SEED
    return factory, Detector(SEED, languages=factory.langlist)


def _langdetect(factory, text: str) -> tuple[list[str], list[tuple[str, float]]]:
    from langdetect.lang_detect_exception import LangDetectException

    d = factory.create()
    d.append(text)
    d.cleaning_text()
    grams = d._extract_ngrams()
    d = factory.create()
    d.append(text)
    try:
        ranked = [(p.lang, p.prob) for p in d.get_probabilities()]
    except LangDetectException:
        ranked = []
    return grams, ranked


def _assert_same(reference, text: str) -> None:
    factory, ours = reference
    grams, ranked = _langdetect(factory, text)
    names = {row: gram for gram, row in ours.index.items()}
    assert [names[r] for r in ours.ngrams(text).tolist()] == grams, text[:80]
    got = ours.probabilities(text)
    if EXACT:
        assert got == ranked, text[:80]
    else:
        assert [lang for lang, _ in got] == [lang for lang, _ in ranked]
        assert all(math.isclose(a, b, rel_tol=1e-9) for (_, a), (_, b) in zip(got, ranked))


def _external_texts(limit_chars: int = 6_000) -> list[str]:
    texts = []
    for path in sorted(EXTERNAL.rglob("*")):
        if path.is_file() and path.suffix in {".tsv", ".csv", ".txt", ".xml", ""}:
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            texts.append(text[:limit_chars])
            texts.extend(line for line in text.splitlines()[:30] if line.strip())
    return texts


def test_seeds_whole_and_line_by_line(reference):
    raw = sorted((REPO / "corpus" / "raw").glob("*.txt"))
    assert raw
    for path in raw:
        text = path.read_bytes().decode("utf-8-sig")
        _assert_same(reference, text)
        for line in text.splitlines():
            _assert_same(reference, line)


@pytest.mark.skipif(not EXTERNAL.is_dir(), reason="../shared/external/news is absent (real news written by others)")
def test_real_news_in_three_languages(reference):
    texts = _external_texts()
    assert len(texts) > 200
    for text in texts:
        _assert_same(reference, text)


# Characters that meet each rule: capitals in runs (skipped), Latin-1 signs,
# Romanian commas, Arabic Farsi yeh, Vietnamese marks to compose, kana, CJK,
# Hangul, digits and punctuation (spaces to langdetect), URLs and e-mail
# addresses (blanked), a Greek symbol that is upper case with no lower case.
_ALPHABET = list("ABCXYZabcxyz İIiÀÉéÿ×÷ȘșȚț ابتی ھ हिंदीक़ ं 中文国 ひらカタ 한국 ạẠệ ΑΒαβϒ ǅ 0123,.!?'\n\t") + ["a\u0300", "e\u0301", "http://x.org/a?b=1 ", " me@mail.example "]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=80).map("".join))
def test_generated_text(reference, text):
    _assert_same(reference, text)


def test_language_order_is_fixed_and_text_without_letters_has_no_answer():
    detector = Detector(SEED)
    assert detector.languages == sorted(detector.languages)
    assert detector.probabilities(".") == []
    assert detector.probabilities("") == []
    assert detector.probabilities_of_ngrams(detector.ngrams("   ")) == []


def test_posterior_prefers_the_language_of_the_text():
    detector = Detector(SEED)
    grams = detector.ngrams("Katibu Mkuu wa Umoja wa Mataifa amewasili mjini Moscow kwa mazungumzo na viongozi wa Urusi.")
    posterior = detector.posterior(grams, ["sw", "en", "ar"])
    assert set(posterior) == {"sw", "en", "ar"}
    assert max(posterior, key=posterior.get) == "sw"
    assert math.isclose(sum(posterior.values()), 1.0)
    assert detector.posterior(detector.ngrams("..."), ["sw"]) == {}
