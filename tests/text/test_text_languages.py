"""Language codes are read one way (`text/languages.py`): the gazetteer, the
calendar and the language table name the same language for the same code."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from parallel_corpus.stages.dates import load_calendar
from parallel_corpus.stages.entities import load_gazetteer
from parallel_corpus.stages.langid import LanguageTable
from parallel_corpus.text.languages import ANY_LANGUAGE, LanguageCodes

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def test_a_code_names_its_language_whatever_its_case_or_region() -> None:
    codes = LanguageCodes({"sw": ["swh", "swh_Latn"], "ar": ["arb"]})
    assert codes.resolve("sw") == codes.resolve("SW") == codes.resolve("swh_Latn") == "sw"
    # The head of an unknown code: a region, a script.
    assert codes.resolve("sw-KE") == codes.resolve("swh_Arab") == "sw"
    assert codes.resolve("arb_Arab") == "ar"
    assert codes.resolve(None) == codes.resolve("") == codes.resolve("xx-yy") == ANY_LANGUAGE
    assert codes.lookup("sw-KE") is None and codes.lookup("SWH") == "sw"
    assert codes.names == ["ar", "sw"]


def test_a_language_name_wins_and_the_first_listing_claims_a_code() -> None:
    codes = LanguageCodes({"zh-cn": ["zh"], "zh-tw": ["zh", "zh-cn"]})
    assert codes.lookup("zh") == "zh-cn"
    assert codes.lookup("zh-cn") == "zh-cn"  # its own name, not zh-tw's listing
    codes.add_names(["zh", "yue"])
    assert codes.lookup("zh") == "zh-cn" and codes.lookup("yue") == "yue"


@pytest.fixture(scope="module")
def tables():
    return load_gazetteer(CORPUS), load_calendar(CORPUS), LanguageTable.load(CORPUS / "languages.yaml")


def _listed_codes() -> set[str]:
    codes: set[str] = set()
    for name in ("entities.yaml", "dates.yaml"):
        for lang, spec in yaml.safe_load((CORPUS / name).read_text(encoding="utf-8"))["languages"].items():
            codes |= {lang, *(spec or {}).get("codes", [])}
    return codes


@pytest.mark.parametrize("code", sorted(_listed_codes()) + ["sw-KE", "hi_IN", "zh-cn", "xx", ""])
def test_the_gazetteer_and_the_calendar_resolve_a_code_alike(tables, code: str) -> None:
    gazetteer, calendar, table = tables
    assert gazetteer.resolve(code) == calendar.resolve(code)
    # And to a language the language table knows by its ISO 639-1 code.
    if gazetteer.resolve(code) != ANY_LANGUAGE:
        assert table.get(gazetteer.resolve(code)).iso639_1 == gazetteer.resolve(code)


def test_the_language_table_names_langdetect_and_iso_codes(tables) -> None:
    table = tables[2]
    assert table.get("zh-tw").script == "Hant"
    assert table.get("zh").code == "zh-cn"  # the first language of that ISO 639-1 code
    assert table.get("ar").flores == "arb_Arab"
    # An unknown code is named as it is, never guessed from its head.
    assert table.get("zh-hk").script == "Zyyy" and table.get("und").code == "und"


def test_two_tables_of_the_same_codes_are_equal() -> None:
    # The stages' tables are dataclasses compared by value.
    assert LanguageCodes({"sw": ["swh"]}) == LanguageCodes({"sw": ["swh"]}) != LanguageCodes({"sw": []})
