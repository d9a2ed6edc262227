"""Month-name dates in Swahili, Hindi, Arabic and English text.

Input: text, its language and a `Calendar` loaded from `corpus/dates.yaml`;
output: date spans with code-point offsets, and the dateline test the cleaner
uses to split "31 Desemba 2021Katika ..." into a dateline and a sentence.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parallel_corpus.corpus import load_curated
from parallel_corpus.text.fold import key_with_origin
from parallel_corpus.text.languages import ANY_LANGUAGE, LanguageCodes
from parallel_corpus.text.loose import loose_first_chars, loose_prefix_regex, loose_regex
from parallel_corpus.text.tokens import WORD_CHAR_CLASS

__all__ = [
    "Calendar",
    "load_calendar",
    "find_dates",
    "match_leading_date",
]

_MIN_YEAR, _MAX_YEAR = 1800, 2199
_DASH = r"\s*[-\u2010-\u2015]\s*"
_COMMA = "[,\u060c]"  # Latin and Arabic commas
# A word does not continue after a month name: "ماي" must not match inside
# "مايكل", "Mei" not inside "Meiji". Marks count as word characters.
_END_OF_WORD = rf"(?!{WORD_CHAR_CLASS})"
_START_OF_WORD = rf"(?<!{WORD_CHAR_CLASS})"


def _day(name: str, suffixes: str) -> str:
    return rf"(?<!\d)(?P<{name}>\d{{1,2}})(?:{suffixes})?"


def _year(name: str) -> str:
    # No lookahead for letters: a year glued to the next word ("2021Katika")
    # is exactly what a pasted dateline looks like.
    return rf"(?P<{name}>\d{{4}})(?!\d)"


@dataclass
class _Language:
    """One language's tables and its compiled patterns."""

    month_of: dict[str, int]
    month_names: list[str]
    weekday_names: list[str]
    orders: list[str]
    year_words: list[str]
    day_suffixes: list[str]
    finder: re.Pattern[str] = field(init=False)
    leading: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        # The raw spellings, not the keys: `loose_regex` tolerates the
        # Arabic and nukta variants but not every key merge (सितम्बर/सितंबर).
        months = _alternation(self.month_names)
        weekdays = _alternation(self.weekday_names) if self.weekday_names else None
        suffixes = "|".join(re.escape(s) for s in self.day_suffixes) or "(?!)"

        def month(name: str) -> str:
            # "شباط/فبراير", "فبراير (شباط)": two names of one month.
            return (
                rf"{_START_OF_WORD}(?P<{name}>{months}){_END_OF_WORD}"
                rf"(?:\s*[/(]\s*(?P<{name}b>{months}){_END_OF_WORD}\s*\)?)?"
            )

        shapes = {
            "dmy": rf"{_day('d1', suffixes)}(?:{_DASH}(?P<d1e>\d{{1,2}})(?:{suffixes})?)?\s+"
            rf"{month('m1')}(?:\.?\s*{_COMMA}?\s*{_year('y1')})?",
            "mdy": rf"{month('m2')}\.?\s+{_day('d2', suffixes)}"
            rf"(?:{_DASH}(?P<d2e>\d{{1,2}})(?:{suffixes})?)?(?!\d)(?:\s*{_COMMA}?\s*{_year('y2')})?",
            "my": rf"{month('m3')}\.?\s*{_COMMA}?\s*{_year('y3')}",
        }
        # Branches in their order of preference: those that open with a
        # digit (an ISO date, day-month-year), then those that open with a
        # word (month-day-year, month-year, "mwaka 2014").
        digit_branches = [r"(?<!\d)(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})(?!\d)"]
        if "dmy" in self.orders:
            digit_branches.append(shapes["dmy"])
        word_branches = [shapes[o] for o in ("mdy", "my") if o in self.orders]
        openers = list(self.month_names) if word_branches else []
        if self.year_words:
            words = _alternation(self.year_words)
            word_branches.append(rf"{_START_OF_WORD}(?:{words})\s+{_year('y4')}")
            openers += self.year_words
        # `finditer` tries the pattern at every position of the text. Each
        # group of branches is guarded by what all its branches open with
        # (a digit; a word start where a month name or year word begins,
        # tested as a trie, not name by name), and the whole by one
        # character class, so most positions fail after one table lookup.
        # Guards only filter: matches are unchanged. (Without month names
        # the alternation is empty and matches anywhere: no name guards.)
        names_guard = bool(self.month_names)
        opener_gate = f"(?={loose_prefix_regex(openers)})" if names_guard else ""
        groups = [rf"(?=\d)(?:{'|'.join(f'(?:{b})' for b in digit_branches)})"]
        if word_branches:
            groups.append(rf"{_START_OF_WORD}{opener_gate}(?:{'|'.join(f'(?:{b})' for b in word_branches)})")
        first = _first_chars(openers) if names_guard else None
        gate = rf"(?=[\d{first}])" if first is not None else ""
        self.finder = re.compile(gate + "(?:" + "|".join(groups) + ")", re.IGNORECASE)

        lead = r"\s*"
        if weekdays:
            lead += rf"(?:{_START_OF_WORD}(?:{weekdays}){_END_OF_WORD}\.?\s*{_COMMA}?\s*)?"
        full = [rf"{_day('d1', suffixes)}\s+{month('m1')}\.?\s*{_COMMA}?\s*{_year('y1')}"]
        if "mdy" in self.orders:
            full.append(rf"{month('m2')}\.?\s+{_day('d2', suffixes)}\s*{_COMMA}?\s*{_year('y2')}")
        self.leading = re.compile(
            lead + "(?:" + "|".join(f"(?:{b})" for b in full) + ")", re.IGNORECASE
        )

    def month_number(self, raw: str) -> int | None:
        return self.month_of.get(key_with_origin_text(raw))


def key_with_origin_text(raw: str) -> str:
    """The lookup key of a matched month name (spaces collapsed, variants merged)."""
    return " ".join(key_with_origin(part)[0] for part in raw.split())


def _first_chars(names: Any) -> str | None:
    """The characters any of `names` can start with, escaped for a regex class.

    None (no such class) when some name could start with something unlisted.
    """
    chars: set[str] = set()
    for name in names:
        first = loose_first_chars(name)
        if first is None:
            return None
        chars.update(first)
    return "".join(re.escape(c) for c in sorted(chars))


def _alternation(names: Any) -> str:
    # Longest first: a regex alternation takes the first branch that matches,
    # so "تشرين الثاني" must be tried before "تشرين" could ever be.
    unique = sorted(set(names), key=lambda n: (-len(n), n))
    return "|".join(loose_regex(n) for n in unique)


@dataclass
class Calendar:
    """Month and weekday tables per language, with their compiled patterns.

    Built once per corpus by `load_calendar`; patterns compile on first use
    of a language and are reused for every document.
    """

    tables: dict[str, dict[str, Any]]
    _compiled: dict[str, _Language] = field(default_factory=dict, repr=False)
    _codes: LanguageCodes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._codes = LanguageCodes({lang: table.get("codes") or [] for lang, table in self.tables.items()})

    @property
    def languages(self) -> list[str]:
        return sorted(self.tables)

    def resolve(self, language: str | None) -> str:
        """Our table for `language` (ISO 639-1, 639-3 or FLORES); `*` if unknown."""
        return self._codes.resolve(language)

    def _language(self, language: str | None) -> _Language:
        lang = self.resolve(language)
        if lang not in self._compiled:
            tables = self.tables.values() if lang == ANY_LANGUAGE else [self.tables[lang]]
            month_of: dict[str, int] = {}
            month_names: list[str] = []
            weekdays: list[str] = []
            orders: list[str] = []
            year_words: list[str] = []
            suffixes: list[str] = []
            for table in tables:
                for number, names in enumerate(table["months"].values(), start=1):
                    for name in names:
                        month_of[key_with_origin_text(str(name))] = number
                        month_names.append(str(name))
                for names in (table.get("weekdays") or {}).values():
                    weekdays.extend(str(n) for n in names)
                orders.extend(o for o in table.get("orders", ["dmy", "my"]) if o not in orders)
                year_words.extend(str(w) for w in table.get("year_words") or [])
                suffixes.extend(str(s) for s in table.get("day_suffixes") or [])
            self._compiled[lang] = _Language(
                month_of=month_of,
                month_names=month_names,
                weekday_names=weekdays,
                orders=orders,
                year_words=year_words,
                day_suffixes=sorted(set(suffixes), key=lambda s: (-len(s), s)),
            )
        return self._compiled[lang]

    def weekday_names(self) -> list[str]:
        """Every weekday name of every language, as written in dates.yaml."""
        return [str(n) for table in self.tables.values() for names in (table.get("weekdays") or {}).values() for n in names or []]

    def find_dates(
        self, text: str, language: str | None, reference: dt.date | None = None
    ) -> list[dict[str, Any]]:
        """Dates written with month names (and ISO dates) in `text`, in order.

        Each is `{"start","end","text","date","date_end","precision"}`;
        `date_end` differs from `date` only for a range ("12-13 मई, 2021").
        A day and month without a year ("24 شباط/فبراير") get the year that
        puts them nearest to `reference` (the article's publication date);
        without a reference they are skipped, since a guessed year would be a
        wrong fact in the dataset. Never raises on any string.
        """
        table = self._language(language)
        found: list[dict[str, Any]] = []
        for m in table.finder.finditer(text):
            parsed = _parse(m, table, reference)
            if parsed is None:
                continue
            start, end, date, date_end, precision = parsed
            span = text[start:end]
            assert span == m.string[start:end]
            found.append(
                {
                    "start": start,
                    "end": end,
                    "text": span,
                    "date": date,
                    "date_end": date_end,
                    "precision": precision,
                }
            )
        return found

    def match_leading_date(self, line: str, language: str | None) -> tuple[int, dt.date] | None:
        """`(end, date)` when `line` opens with a full day-month-year date.

        `end` is the code-point offset just past the year, so
        `line[:end]` is the dateline and `line[end:]` the text glued to it:
        "31 Desemba 2021Katika ..." -> (15, date(2021, 12, 31)). Leading
        spaces and a weekday ("Alhamisi, ", "الثلاثاء ") are part of the
        dateline. None for anything else, including a date later in the line.
        """
        table = self._language(language)
        m = table.leading.match(line)
        if m is None:
            return None
        parsed = _parse(m, table, None)
        if parsed is None or parsed[4] != "day":
            return None
        return m.end(), parsed[2]


def _number(s: str | None) -> int | None:
    return int(s) if s is not None else None


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    if not (_MIN_YEAR <= year <= _MAX_YEAR):
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _nearest_year(month: int, day: int, reference: dt.date) -> dt.date | None:
    candidates = [
        d
        for y in (reference.year - 1, reference.year, reference.year + 1)
        if (d := _make_date(y, month, day)) is not None
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda d: (abs((d - reference).days), d))


def _parse(
    m: re.Match[str], table: _Language, reference: dt.date | None
) -> tuple[int, int, dt.date, dt.date, str] | None:
    """Turn one regex match into (start, end, date, date_end, precision), or None."""
    g = m.groupdict()
    start, end = m.start(), m.end()
    if g.get("iy") is not None:
        d = _make_date(int(g["iy"]), int(g["im"]), int(g["id"]))
        return (start, end, d, d, "day") if d else None
    if g.get("y4") is not None:
        year = int(g["y4"])
        d = _make_date(year, 1, 1)
        return (m.start("y4"), m.end("y4"), d, d, "year") if d else None
    for mg, dg, deg, yg in (("m1", "d1", "d1e", "y1"), ("m2", "d2", "d2e", "y2"), ("m3", None, None, "y3")):
        if g.get(mg) is None:
            continue
        month = table.month_number(g[mg])
        if month is None:
            return None
        day = _number(g.get(dg)) if dg else None
        day_end = _number(g.get(deg)) if deg else None
        year = _number(g.get(yg))
        if day is None:
            if year is None:
                return None
            d = _make_date(year, month, 1)
            return (start, end, d, d, "month") if d else None
        if year is None:
            if reference is None:
                return None
            d = _nearest_year(month, day, reference)
            if d is None:
                return None
            year = d.year
        else:
            d = _make_date(year, month, day)
            if d is None:
                return None
        d_end = d
        if day_end is not None:
            d_end = _make_date(year, month, day_end) or d
            if d_end < d:
                d_end = d
        return start, end, d, d_end, "day"
    return None


def load_calendar(corpus_dir: str | Path) -> Calendar:
    """Read `dates.yaml` from a corpus folder (or that file itself).

    The build passes its `--corpus` folder, so another corpus can bring its
    own month spellings; a missing or malformed file is a one-line error.
    """
    data = load_curated(corpus_dir, "dates.yaml", "dates")
    tables = {str(lang): table for lang, table in data["languages"].items()}
    return Calendar(tables=tables)


def find_dates(
    text: str, language: str | None, calendar: Calendar, reference: dt.date | None = None
) -> list[dict[str, Any]]:
    """Function form of `Calendar.find_dates`."""
    return calendar.find_dates(text, language, reference)


def match_leading_date(line: str, language: str | None, calendar: Calendar) -> tuple[int, dt.date] | None:
    """Function form of `Calendar.match_leading_date`."""
    return calendar.match_leading_date(line, language)
