"""Language tagging: seeded, per document and per block, with the document as context."""

from __future__ import annotations

import json

import pytest

from parallel_corpus.stages.clean import clean
from parallel_corpus.stages.langid import tag

from conftest import CORPUS

SOURCES = [json.loads(l) for l in (CORPUS / "sources.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s["id"])
def test_seeds_and_their_paragraphs_are_tagged_right(stages, source):
    text = (CORPUS / "raw" / source["file"]).read_text(encoding="utf-8")
    cleaned = clean(text, stages.rules, source["language"])
    result = tag([b.text for b in cleaned.blocks], stages.languages, stages.detector, source["language"])
    assert result.language.iso639_1 == source["language"]
    assert result.probability > 0.99
    assert result.flags == []
    expected_flores = {"sw": "swh_Latn", "hi": "hin_Deva", "ar": "arb_Arab"}[source["language"]]
    assert result.language.flores == expected_flores
    for block, lang in zip(cleaned.blocks, result.blocks):
        assert lang.language == source["language"], block.text
        if len(block.text) >= 40 and block.type == "paragraph":
            assert not lang.inherited and lang.probability > 0.9


def _doc(stages, blocks, declared="sw"):
    return tag(blocks, stages.languages, stages.detector, declared)


SWAHILI = [
    "Rais wa Urusi Vladimir Putin na Katibu Mkuu wa Umoja wa Mataifa walikutana mjini Kazan wiki hii.",
    "Mazungumzo yao yalihusu vita nchini Ukraine, usalama wa chakula na hali ya Mashariki ya Kati.",
]


def test_an_english_quote_in_swahili_news_is_flagged(stages):
    quote = "\"We are ready to work with all parties to end this war as soon as possible,\" the Secretary-General told reporters."
    result = _doc(stages, [*SWAHILI, quote])
    assert result.language.iso639_1 == "sw"
    assert result.blocks[2].language == "en" and not result.blocks[2].inherited
    assert "code_switching" in result.blocks[2].flags
    assert "mixed_languages" in result.flags


def test_short_blocks_inherit_the_document_language(stages):
    result = _doc(stages, [*SWAHILI, "Tulipambana."])
    assert result.blocks[2].language == "sw" and result.blocks[2].inherited


def test_a_block_in_another_script_keeps_its_language(stages):
    arabic = "قال الرئيس الروسي فلاديمير بوتين للأمين العام للأمم المتحدة إنه ما زال لديه أمل في المحادثات."
    result = _doc(stages, [*SWAHILI, arabic])
    assert result.blocks[2].language == "ar" and "code_switching" in result.blocks[2].flags


def test_a_declared_language_that_disagrees_is_flagged(stages):
    assert "language_mismatch" in _doc(stages, SWAHILI, declared="ar").flags


def test_tagging_is_deterministic(stages):
    blocks = [*SWAHILI, "Kwa mujibu wa Ushakov, Urusi ilikuwa tayari kuzingatia yaliyotakiwa."]
    first = _doc(stages, blocks)
    second = _doc(stages, blocks)
    assert [(b.language, b.probability) for b in first.blocks] == [(b.language, b.probability) for b in second.blocks]


# -- a document's language is the language of most of its own text ---------------------

QUOTES = [
    '"We are very proud of what our farmers and workers have achieved this year, and we will keep investing in them," he said.',
    '"The numbers speak for themselves and the future looks bright for everyone in this country," he added.',
]
SHORT_ARTICLES = {
    # Short lines of the article's own (each too short to be tagged alone)
    # around two long English quotes: langdetect reads the whole as English.
    "hi": ["राष्ट्रपति का बयान", "सोमवार को संसद में बोले", *QUOTES, "विपक्ष ने सवाल उठाए", "कीमतें अभी भी ऊंची हैं"],
    "sw": ["Rais azungumza", "Bunge lilikutana Jumatatu", *QUOTES, "Wapinzani walihoji", "Bei bado ziko juu sana"],
}


@pytest.mark.parametrize("language", sorted(SHORT_ARTICLES))
@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
def test_an_article_quoting_english_stays_in_its_language(stages, language, declared):
    result = _doc(stages, SHORT_ARTICLES[language], language if declared else None)
    assert result.language.iso639_1 == language
    langs = [b.language for b in result.blocks]
    assert langs[2:4] == ["en", "en"] and all("code_switching" in b.flags for b in result.blocks[2:4])
    assert set(langs[:2] + langs[4:]) == {language}
    assert "language_mismatch" not in result.flags


def test_an_english_article_with_a_quoted_line_of_swahili_stays_english(stages):
    english = [
        "The president spoke to parliament on Monday about the state of the economy and the price of food.",
        '"Tunajivunia sana wakulima wetu," he said, before turning to the budget.',
        "Opposition leaders said prices were still far too high for most families in the country.",
    ]
    assert _doc(stages, english, "en").language.iso639_1 == "en"


def test_short_articles_of_ntrex_lines_quoting_english(stages):
    """scripts/measure-langid-quotes: every article stays in its language."""
    from conftest import external, load_script

    folder = external("news", "parallel")
    module = load_script("measure-langid-quotes")
    for language in module.LANGUAGES:
        wrong = [
            (declared, blocks[0][:40])
            for blocks in module.articles(folder, language)
            for declared in (language, None)
            if tag(blocks, stages.languages, stages.detector, declared).language.iso639_1 != language
        ]
        assert wrong == [], language
