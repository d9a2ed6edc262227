"""The fold of a word is written once (`text/fold.py`): every stage that
compares words (the cleaner's line fold, the gazetteer's keys, the month
names of `dates`, the alignment's word keys) erases the same marks and drops
the same Arabic clitics on the same word, and `text/` builds on no stage."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from parallel_corpus.stages.clean.pieces import stems
from parallel_corpus.stages.clean.rules import fold as fold_line
from parallel_corpus.stages.entities import load_gazetteer
from parallel_corpus.text.fold import (
    ARABIC_ARTICLE,
    ARABIC_CONJUNCTIONS,
    ARABIC_CONTRACTIONS,
    ARABIC_MARKS,
    ARABIC_PREFIX_SLOTS,
    ARABIC_PREPOSITIONS,
    ARABIC_VOWEL_MARKS,
    ARABIC_WORD_CLITICS,
    ARTICLE_WITH_CLITICS,
    DEVANAGARI_NUKTA,
    FOLDED_MARKS,
    TATWEEL,
    clitic_runs,
    key_with_origin,
    without_clitics,
)
from parallel_corpus.text.keys import name_keys, skeleton, token_word_keys
from parallel_corpus.text.loose import ARABIC_LOOSE_CLASSES, loose_regex
from parallel_corpus.text.tokens import split_tokens

REPO = Path(__file__).resolve().parents[2]
TEXT = REPO / "src" / "parallel_corpus" / "text"

# A name and a common word of each script the marks belong to.
ARABIC_WORDS = ["الكرملين", "بوتين", "فبراير"]
DEVANAGARI_WORDS = ["जेलेंस्की", "फेसबुक"]


def _with_mark(word: str, mark: str, after: int = -1) -> str:
    """`word` with `mark` after its letter `after` (its last by default).

    After the last letter of these words no mark composes with the letter:
    the cleaner's line fold is of NFC text, where ا, و or ي and a hamza
    above are one letter (أ, ؤ, ئ), a variant only the key merges.
    """
    at = len(word) if after == -1 else after + 1
    return word[:at] + mark + word[at:]


def _every_fold(word: str) -> dict[str, object]:
    """What each stage that compares words makes of one word."""
    return {
        "cleaner": fold_line(word),
        "cleaner stems": stems(word, fold_line),
        "key": key_with_origin(word)[0],
        "word key": token_word_keys(word, "xx"),
        "tokens": len(split_tokens(word)),
    }


@pytest.mark.parametrize("mark", sorted(ARABIC_MARKS))
@pytest.mark.parametrize("word", ARABIC_WORDS)
def test_every_stage_erases_each_arabic_mark(word: str, mark: str) -> None:
    marked = _with_mark(word, mark)
    assert _every_fold(marked) == _every_fold(word), f"U+{ord(mark):04X}"
    # Name keys keep consonants only: a mark is never one.
    assert name_keys(marked, "ar") == name_keys(word, "ar")


@pytest.mark.parametrize("word", DEVANAGARI_WORDS)
def test_every_stage_erases_the_nukta(word: str) -> None:
    marked = _with_mark(word, DEVANAGARI_NUKTA, after=0)  # ज़, फ़
    assert _every_fold(marked) == _every_fold(word)
    # The cross-script skeleton alone reads the nukta, on purpose: ज़ is z, ज is j.
    assert skeleton("ज़ेलेंस्की") != skeleton("जेलेंस्की")


def test_folded_marks_are_the_arabic_marks_and_the_nukta() -> None:
    assert FOLDED_MARKS == ARABIC_MARKS | {DEVANAGARI_NUKTA}
    # Vocalisation (fatha), a Quranic mark and the tatweel.
    assert {"\u064e", "\u06d6", TATWEEL} <= ARABIC_MARKS


@pytest.mark.parametrize("mark", sorted({chr(cp) for lo, hi in ARABIC_VOWEL_MARKS for cp in range(lo, hi + 1)} | {TATWEEL}))
def test_a_loose_pattern_matches_what_the_key_merges(mark: str) -> None:
    # Vocalisation and tatweel inside a month name still find the month.
    for word in ARABIC_WORDS:
        assert re.fullmatch(loose_regex(word), _with_mark(word, mark))


@pytest.mark.parametrize("letters", ARABIC_LOOSE_CLASSES)
def test_each_loose_letter_class_is_one_letter_to_the_key(letters: str) -> None:
    # A loose pattern may find only what the key then reads as the same name:
    # a month name matched in one spelling must be looked up in it.
    assert len({key_with_origin(c)[0] for c in letters}) == 1, letters


def test_the_word_clitics_are_one_clitic_then_the_article() -> None:
    assert set(ARABIC_WORD_CLITICS) == {"و", "ف", "ب", "ل", "ك", "ال", "وال", "فال", "بال", "كال", "لل"}
    assert [len(c) for c in ARABIC_WORD_CLITICS] == sorted((len(c) for c in ARABIC_WORD_CLITICS), reverse=True)
    assert without_clitics("والصين") == ["صين", "الصين"]
    assert without_clitics("وال") == []  # nothing is left


def test_the_corpus_gazetteer_reads_the_same_arabic_clitics() -> None:
    """entities.yaml's `prefix_slots` may differ per corpus; the repository's
    are the constants the word keys and the cleaner use."""
    morphology = yaml.safe_load((REPO / "corpus" / "entities.yaml").read_text(encoding="utf-8"))["morphology"]["ar"]
    assert tuple(tuple(slot) for slot in morphology["prefix_slots"]) == ARABIC_PREFIX_SLOTS
    assert morphology["contractions"] == ARABIC_CONTRACTIONS


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer(REPO / "corpus")


@pytest.mark.parametrize("clitic", ARABIC_WORD_CLITICS)
def test_a_clitic_leaves_the_name_to_every_stage(gazetteer, clitic: str) -> None:
    """A name carrying a clitic is found by the gazetteer (the clitic left
    outside the span), has the word key and the name keys of the bare name,
    and, after the article, the cleaner's stem."""
    # (A name that opens with a clitic's letter, as بوتين, loses it to the
    # word key either way: that one is not a test of the clitic.)
    name = "موسكو"
    word = clitic + name
    found = gazetteer.find(f"قال {word} أمس", "ar")
    assert [(d["qid"], d["text"]) for d in found] == [("Q649", name)]
    assert token_word_keys(word, "ar") == token_word_keys(name, "ar")
    assert set(name_keys(name, "ar")) <= set(name_keys(word, "ar"))
    if clitic.endswith(ARABIC_ARTICLE):
        assert stems(word, fold_line) == stems(name, fold_line)


def test_the_cleaner_drops_the_article_with_its_clitics() -> None:
    runs = clitic_runs((ARABIC_CONJUNCTIONS, ARABIC_PREPOSITIONS, (ARABIC_ARTICLE,)))
    with_article = sorted(r for r in runs if r.endswith(ARABIC_ARTICLE))
    assert len(with_article) == 12
    for run in with_article:
        assert ARTICLE_WITH_CLITICS.sub("", run + "كرملين") == "كرملين", run


def test_clitic_runs_follow_the_slots_and_contractions() -> None:
    runs = clitic_runs(ARABIC_PREFIX_SLOTS, ARABIC_CONTRACTIONS)
    assert {"وبال", "فلل", "لال", "لل", "ك"} <= runs and "بو" not in runs
    assert "لال" not in clitic_runs(ARABIC_PREFIX_SLOTS, ARABIC_CONTRACTIONS, keep_long=False)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted(TEXT.glob("*.py")), ids=lambda p: p.name)
def test_text_imports_no_stage(path: Path) -> None:
    above = sorted(m for m in _imports(path) if m.startswith(("parallel_corpus.stages", "parallel_corpus.align", "parallel_corpus.engine")))
    assert not above, f"{path.name} imports {above}: text/ is below the stages"


def test_importing_text_loads_no_stage() -> None:
    code = (
        "import sys, parallel_corpus.text.keys, parallel_corpus.text.loose, parallel_corpus.text.languages; "
        "print(sorted(m for m in sys.modules if m.startswith(('parallel_corpus.stages', 'parallel_corpus.align'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
