"""Month-name dates in sw/hi/ar/en and the glued-dateline test the cleaner uses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parallel_corpus.corpus import CorpusError
from parallel_corpus.stages.dates import Calendar, find_dates, load_calendar, match_leading_date

REPO = Path(__file__).resolve().parents[2]
RAW = REPO / "corpus" / "raw"


@pytest.fixture(scope="module")
def calendar() -> Calendar:
    return load_calendar(REPO / "corpus")


def _one(calendar: Calendar, text: str, language: str, reference: dt.date | None = None) -> dict:
    found = calendar.find_dates(text, language, reference)
    assert len(found) == 1, found
    d = found[0]
    assert text[d["start"] : d["end"]] == d["text"]
    return d


@pytest.mark.parametrize(
    ("text", "language", "expected", "span"),
    [
        ("tarehe 31 Desemba 2021 mjini", "sw", dt.date(2021, 12, 31), "31 Desemba 2021"),
        ("tarehe 30 Disemba 2021 mjini", "sw", dt.date(2021, 12, 30), "30 Disemba 2021"),
        ("Januari 10, 2022 Geneva", "sw", dt.date(2022, 1, 10), "Januari 10, 2022"),
        ("15 मार्च 2022 को", "hi", dt.date(2022, 3, 15), "15 मार्च 2022"),
        ("15 फ़रवरी 2022 को", "hi", dt.date(2022, 2, 15), "15 फ़रवरी 2022"),
        ("15 फरवरी 2022 को", "hi", dt.date(2022, 2, 15), "15 फरवरी 2022"),
        ("३ दिसम्बर २०२१ को", "hi", dt.date(2021, 12, 3), "३ दिसम्बर २०२१"),
        ("في 26 أبريل 2022 قال", "ar", dt.date(2022, 4, 26), "26 أبريل 2022"),
        ("في ٢٦ ابريل ٢٠٢٢ قال", "ar", dt.date(2022, 4, 26), "٢٦ ابريل ٢٠٢٢"),
        ("في 24 شباط/فبراير 2022، بدت", "ar", dt.date(2022, 2, 24), "24 شباط/فبراير 2022"),
        ("في 1 كانون الثاني 2023 بدأ", "ar", dt.date(2023, 1, 1), "1 كانون الثاني 2023"),
        ("في 1 تشرين الأول 2023 بدأ", "ar", dt.date(2023, 10, 1), "1 تشرين الأول 2023"),
        ("on 3rd March 2020 in", "en", dt.date(2020, 3, 3), "3rd March 2020"),
        ("on May 12, 2021 in", "en", dt.date(2021, 5, 12), "May 12, 2021"),
    ],
)
def test_day_month_year(calendar: Calendar, text: str, language: str, expected: dt.date, span: str) -> None:
    d = _one(calendar, text, language)
    assert (d["text"], d["date"], d["precision"]) == (span, expected, "day")


def test_range_keeps_both_ends(calendar: Calendar) -> None:
    d = _one(calendar, "गुटेरेस ने 12-13 मई, 2021 तक मॉस्को", "hi")
    assert d["text"] == "12-13 मई, 2021"
    assert (d["date"], d["date_end"], d["precision"]) == (dt.date(2021, 5, 12), dt.date(2021, 5, 13), "day")


def test_month_year_and_year_word(calendar: Calendar) -> None:
    d = _one(calendar, "जून 2020 में", "hi")
    assert (d["date"], d["precision"]) == (dt.date(2020, 6, 1), "month")
    d = _one(calendar, "كان موالياً لروسيا في عام 2014.", "ar")
    assert (d["text"], d["date"], d["precision"]) == ("2014", dt.date(2014, 1, 1), "year")


def test_year_less_date_needs_reference(calendar: Calendar) -> None:
    text = "ومنذ بدء الهجوم الروسي على أوكرانيا في 24 شباط/فبراير، بدت"
    assert calendar.find_dates(text, "ar") == []
    d = _one(calendar, text, "ar", reference=dt.date(2022, 4, 26))
    assert (d["text"], d["date"]) == ("24 شباط/فبراير", dt.date(2022, 2, 24))
    # Nearest to the reference: a January reference puts "30 December" in the year before.
    d = _one(calendar, "siku ya Alkhamis (Disemba 30)", "sw", reference=dt.date(2022, 1, 2))
    assert d["date"] == dt.date(2021, 12, 30)


def test_month_name_inside_a_word_is_no_date(calendar: Calendar) -> None:
    assert calendar.find_dates("5 مايكل 2020", "ar") == []
    assert calendar.find_dates("5 Meiji 2020", "sw") == []


def test_impossible_dates_are_skipped(calendar: Calendar) -> None:
    assert calendar.find_dates("31 Februari 2021", "sw") == []
    assert calendar.find_dates("2021-13-40", "en") == []


def test_seed_dates(calendar: Calendar) -> None:
    text = (RAW / "002_076a20e44c8b20f2.txt").read_text(encoding="utf-8")
    found = calendar.find_dates(text, "sw", reference=dt.date(2021, 12, 31))
    assert [(d["text"], d["date"]) for d in found] == [
        ("31 Desemba 2021", dt.date(2021, 12, 31)),
        ("Disemba 30", dt.date(2021, 12, 30)),
        ("Januari 10", dt.date(2022, 1, 10)),
        ("Januari 10", dt.date(2022, 1, 10)),
    ]


@pytest.mark.parametrize(
    ("line", "language", "expected"),
    [
        ("31 Desemba 2021Katika mazungumzo ya saa nzima", "sw", (15, dt.date(2021, 12, 31))),
        ("Alhamisi, 30 Disemba 2021 Biden", "sw", (25, dt.date(2021, 12, 30))),
        ("१२ मई २०२१ संयुक्त", "hi", (10, dt.date(2021, 5, 12))),
        ("الثلاثاء ٢٦ أبريل ٢٠٢٢قال الرئيس", "ar", (22, dt.date(2022, 4, 26))),
        ("December 31, 2021WASHINGTON", "en", (17, dt.date(2021, 12, 31))),
        ("31 Desemba 2021", "swh_Latn", (15, dt.date(2021, 12, 31))),
    ],
)
def test_match_leading_date(calendar: Calendar, line: str, language: str, expected: tuple[int, dt.date]) -> None:
    assert match_leading_date(line, language, calendar) == expected
    end = expected[0]
    assert line[end:end + 1] != " " or line[:end].strip()


@pytest.mark.parametrize(
    "line",
    ["Katika mazungumzo ya 31 Desemba 2021", "Desemba 2021 ilikuwa", "31 Desemba ni siku", "2021 Katika", ""],
)
def test_match_leading_date_refuses(calendar: Calendar, line: str) -> None:
    assert match_leading_date(line, "sw", calendar) is None


def test_unknown_language_uses_every_table(calendar: Calendar) -> None:
    found = find_dates("31 Desemba 2021 / 26 أبريل 2022", None, calendar)
    assert [d["date"] for d in found] == [dt.date(2021, 12, 31), dt.date(2022, 4, 26)]


@settings(max_examples=300, deadline=None)
@given(text=st.text(), language=st.sampled_from(["sw", "hi", "ar", "en", "xx", None]))
def test_never_raises_and_spans_are_exact(calendar: Calendar, text: str, language: str | None) -> None:
    for d in calendar.find_dates(text, language, reference=dt.date(2022, 1, 1)):
        assert text[d["start"] : d["end"]] == d["text"]
        assert d["precision"] in {"day", "month", "year"}
    result = calendar.match_leading_date(text, language)
    assert result is None or 0 < result[0] <= len(text)


@settings(max_examples=200, deadline=None)
@given(
    day=st.integers(1, 28),
    month=st.integers(1, 12),
    year=st.integers(1900, 2100),
    tail=st.text(alphabet=st.characters(categories=["L"]), max_size=8),
    digits=st.sampled_from(["0123456789", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९"]),
)
def test_dateline_roundtrip_any_digits(calendar: Calendar, day: int, month: int, year: int, tail: str, digits: str) -> None:
    names = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"]
    conv = str.maketrans("0123456789", digits)
    head = f"{str(day).translate(conv)} {names[month - 1]} {str(year).translate(conv)}"
    assert calendar.match_leading_date(head + tail, "ar") == (len(head), dt.date(year, month, day))


def test_missing_table_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="dates.yaml: no such file"):
        load_calendar(tmp_path)
    (tmp_path / "dates.yaml").write_text("version: 1\nlanguages: {sw: {orders: [dmy]}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="months"):
        load_calendar(tmp_path)
