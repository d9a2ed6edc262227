"""The per-document stages on any input: the cleaner on any text in any
language, the date parser with any reference date."""

from __future__ import annotations

import pytest
from conftest import CORPUS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def cleaning_rules():
    from parallel_corpus.stages.clean import CleaningRules
    from parallel_corpus.stages.dates import load_calendar

    return CleaningRules.load(CORPUS / "cleaning.yaml", load_calendar(CORPUS).match_leading_date)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), language=st.sampled_from(["sw", "hi", "ar", "en", "xx", None]))
def test_fuzz_cleaner_any_text_any_language(cleaning_rules, text, language):
    """test_clean.py fuzzes lists of lines without a language; here any text (with
    \\r, \\x0b, \\u2028 and other line breaks) and a declared language. Only our
    own EmptyDocument may escape, and every block's span is exact."""
    from parallel_corpus.stages.clean import EmptyDocument, clean

    try:
        cleaned = clean(text, cleaning_rules, language)
    except EmptyDocument:
        return
    for block, (start, end) in zip(cleaned.blocks, cleaned.spans()):
        assert cleaned.text[start:end] == block.text


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80), language=st.sampled_from(["sw", "hi", "ar", "en", None]), reference=st.none() | st.dates())
def test_fuzz_date_parser_any_reference_date(text, language, reference):
    """test_dates.py fixes the reference date at 2022-01-01; a document's published
    date can be anything from year 1 to 9999, and a date without a year takes the
    year nearest it."""
    calendar = _calendar()
    for d in calendar.find_dates(text + " 12 Mei", language, reference=reference):
        assert (text + " 12 Mei")[d["start"]:d["end"]] == d["text"]


_CALENDAR = []


def _calendar():
    from parallel_corpus.stages.dates import load_calendar

    if not _CALENDAR:
        _CALENDAR.append(load_calendar(CORPUS))
    return _CALENDAR[0]
