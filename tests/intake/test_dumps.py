"""`parallel-corpus add --from tsv|csv|jsonl|trec`: each row or document of
a dump becomes one raw file (title, blank line, text) and one line; a bad
row is named by its line and skipped (or refuses all with --strict); what
makes the rest of a dump untrustworthy refuses it in one line; readers
stream, cap fields, and expand no entity."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from pathlib import Path

import pytest
from conftest import error_lines, invoke

from parallel_corpus.intake.add import AddOptions, add, published_date
from parallel_corpus.intake.dumps import DumpError, element_text, read_dump

from _intake import fresh_corpus, lines, warnings


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    return fresh_corpus(tmp_path)


SW_TEXT = ("Katibu Mkuu wa Umoja wa Mataifa amekutana na Rais wa Urusi mjini Moscow. "
           "Mazungumzo yao yalihusu vita vya Ukraine na njia za kufikia amani ya kudumu.")
SW_TEXT_2 = ("Mkutano wa viongozi ulifanyika jana jijini Nairobi, ambapo walijadili uchumi na biashara "
             "kati ya nchi za Afrika Mashariki na washirika wao.")


def run(corpus: Path, *args):
    return invoke("add", "--corpus", corpus, *args)


def raw_text(corpus: Path, record: dict) -> str:
    return (corpus / "raw" / record["file"]).read_text(encoding="utf-8")


def tsv(path: Path, rows: list[list[str]], delimiter: str = "\t") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


# -- TSV and CSV ----------------------------------------------------------------------


def test_a_tsv_row_becomes_title_blank_line_text(fresh, tmp_path):
    dump = tsv(tmp_path / "news.tsv", [
        ["category", "headline", "text", "url"],
        ["politics", "Guterres  mjini\nMoscow", SW_TEXT, "https://example.org/1"],
        ["business", "", SW_TEXT_2, ""],
    ])
    result = run(fresh, dump, "--from", "tsv", "--text", "text", "--title", "headline", "--url", "url", "--language", "sw", "--outlet", "BBC Swahili")
    assert result.exit_code == 0, result.output
    first, second = lines(fresh)
    assert raw_text(fresh, first) == f"Guterres mjini Moscow\n\n{SW_TEXT}\n"
    assert raw_text(fresh, second) == f"{SW_TEXT_2}\n"
    assert (first["url"], second["url"], first["outlet"], first["language"]) == ("https://example.org/1", None, "BBC Swahili", "sw")
    assert first["file"].startswith("000_") and second["file"].startswith("001_")
    assert invoke("validate", fresh).exit_code == 0


def test_a_csv_with_quoted_multiline_text_names_bad_rows_by_their_first_line(fresh, tmp_path):
    dump = tmp_path / "hindi.csv"
    dump.write_text(
        '0,1\n'
        'india,"पहला पैराग्राफ़ यहाँ है.\n\nदूसरा पैराग्राफ़ यहाँ है और यह काफ़ी लंबा है ताकि भाषा पहचानी जा सके."\n'
        'sport,"एक","दो"\n'
        'india,""\n'
        'world,"तीसरा लेख: संयुक्त राष्ट्र महासचिव ने मास्को में रूसी राष्ट्रपति से मुलाकात की और शांति पर बात की."\n',
        encoding="utf-8",
    )
    result = run(fresh, dump, "--from", "csv", "--text", "1")
    assert result.exit_code == 0, result.output
    assert warnings(result) == [
        f"warning: {dump}:5:-: 3 fields where the header has 2",
        f"warning: {dump}:6:1: no text: an article needs one",
    ]
    added = lines(fresh)
    assert [(r["language"], r["language_source"]) for r in added] == [("hi", "detected"), ("hi", "detected")]
    assert raw_text(fresh, added[0]).startswith("पहला पैराग्राफ़ यहाँ है.\n\nदूसरा")


def test_strict_refuses_the_whole_dump_at_its_first_bad_row(fresh, tmp_path):
    dump = tsv(tmp_path / "news.tsv", [["headline", "text"], ["A", SW_TEXT], ["B", ""], ["C", SW_TEXT_2]])
    result = run(fresh, dump, "--from", "tsv", "--text", "text", "--language", "sw", "--strict")
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: {dump}:3:text: no text: an article needs one: nothing was added (--strict)"]
    assert not (fresh / "raw").exists() and not (fresh / "sources.jsonl").exists()


@pytest.mark.parametrize(
    "content,fmt,args,expected",
    [
        ("headline\tbody\nA\tB\n", "tsv", (), "{path}:1:-: no column 'text' in the header (its columns: headline, body): name one column of the header with --text, --title, --url, --published, --id"),
        ("text\ttext\nA\tB\n", "tsv", (), "{path}:1:-: more than one column 'text' in the header (its columns: text, text): name one column of the header with --text, --title, --url, --published, --id"),
        ("\n", "csv", (), "{path}:1:-: no header row: a CSV dump opens with its column names"),
        ('text\n"never closed\n' + "x\n" * 10, "csv", (), "{path}:2:-: not readable as CSV from here: unexpected end of data: fix the dump (or check --from)"),
    ],
)
def test_a_dump_that_cannot_be_trusted_is_refused_in_one_line(fresh, tmp_path, content, fmt, args, expected):
    path = tmp_path / f"dump.{fmt}"
    path.write_text(content, encoding="utf-8")
    result = run(fresh, path, "--from", fmt, "--text", "text", "--language", "sw", *args)
    assert result.exit_code == 1
    assert error_lines(result) == ["error: " + expected.format(path=path)]
    assert not (fresh / "sources.jsonl").exists()


def test_a_field_over_the_cap_refuses_a_csv_dump(fresh, tmp_path):
    dump = tsv(tmp_path / "news.csv", [["text"], [SW_TEXT], ["x" * 500], [SW_TEXT_2]], delimiter=",")
    limit = csv.field_size_limit()
    with pytest.raises(DumpError) as caught:
        add(fresh, [dump], AddOptions(fmt="csv", text_field="text", language="sw", max_field=200))
    assert str(caught.value) == f"{dump}:3:-: not readable as CSV from here: a field longer than 200 characters (or a quote never closed): fix the dump (or check --from)"
    assert not (fresh / "sources.jsonl").exists()
    assert csv.field_size_limit() == limit  # the process's limit is restored


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"", "{path}: empty file: no articles"),
        (b"text\n\x00\x01\x02", "{path}: binary file (NUL bytes, no UTF-16 BOM): not a dump"),
        ("text\nمرحبا بكم في الأخبار\n".encode("cp1256"), "{path}:2:-: not utf-8-sig text (invalid continuation byte at byte 5): pass --encoding CODEC (the dump's codec, e.g. cp1256)"),
    ],
)
def test_an_empty_binary_or_wrongly_encoded_dump_is_refused(fresh, tmp_path, data, expected):
    path = tmp_path / "dump.tsv"
    path.write_bytes(data)
    result = run(fresh, path, "--from", "tsv", "--text", "text", "--language", "ar")
    assert result.exit_code == 1
    assert error_lines(result) == ["error: " + expected.format(path=path)]


def test_a_dump_in_another_codec_is_read_with_encoding_and_written_as_utf8(fresh, tmp_path):
    text = "التقى الأمين العام للأمم المتحدة بالرئيس الروسي في موسكو لبحث الحرب في أوكرانيا وسبل السلام."
    path = tmp_path / "ar.tsv"
    path.write_bytes(f"title\ttext\nعنوان\t{text}\n".encode("cp1256"))
    result = run(fresh, path, "--from", "tsv", "--text", "text", "--title", "title", "--encoding", "cp1256")
    assert result.exit_code == 0, result.output
    [record] = lines(fresh)
    assert raw_text(fresh, record) == f"عنوان\n\n{text}\n"
    assert "encoding" not in record and (record["language"], record["language_source"]) == ("ar", "detected")


# -- JSON Lines -----------------------------------------------------------------------


def test_jsonl_rows_with_ids_dates_and_bad_lines(fresh, tmp_path):
    path = tmp_path / "news.jsonl"
    rows = [
        json.dumps({"id": "bbc-1", "title": "Guterres", "body": SW_TEXT, "date": "2022-04-26T10:00:00Z", "site": "BBC"}),
        "{broken",
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "bbc-2", "body": {"nested": True}}),
        "",
        json.dumps({"id": "bad id!", "body": SW_TEXT_2}),
        json.dumps({"id": "bbc-3", "body": SW_TEXT_2, "date": "yesterday"}),
        json.dumps({"id": "bbc-1", "body": SW_TEXT_2 + " Tena."}),
        json.dumps({"id": 4, "body": SW_TEXT_2, "date": "Tue, 26 Apr 2022 23:30:00 -0500"}),
        '{"id": "bbc-5", "body": "Habari \\ud800 za leo"}',
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = run(fresh, path, "--from", "jsonl", "--text", "body", "--title", "title", "--id", "id", "--published", "date",
                 "--outlet-field", "site", "--outlet", "fallback", "--language", "sw")
    assert result.exit_code == 0, result.output
    assert warnings(result) == [
        f"warning: {path}:2:-: not valid JSON: Expecting property name enclosed in double quotes",
        f"warning: {path}:3:-: a JSON list, not an object",
        f"warning: {path}:4:-: 'body' is a JSON dict, not text",
        f"warning: {path}:6:id: 'bad id!' cannot be an id: letters, digits, '_', '.', '-', starting with a letter or digit",
        f"warning: {path}:7:date: 'yesterday' is not a date: give YYYY-MM-DD, an ISO date-time or an RFC 2822 date, or leave it empty",
        f"warning: {path}:8:-: id 'bbc-1' is already in the corpus: give each article its own id",
        f"warning: {path}:10:-: holds '\\ud800', half of a UTF-16 pair: not text",
    ]
    added = lines(fresh)
    assert [(r["id"], r["published"], r["outlet"]) for r in added] == [("bbc-1", "2022-04-26", "BBC"), ("4", "2022-04-26", None)]
    assert [r["file"][:4] for r in added] == ["000_", "001_"]
    assert invoke("validate", fresh).exit_code == 0


def test_a_jsonl_line_over_the_cap_is_skipped_and_the_next_read(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"text": "x" * 5000}) + "\n" + json.dumps({"text": "ok"}) + "\n", encoding="utf-8")
    rows = list(read_dump(path, "jsonl", ["text"], max_field=100))
    assert [(r.line, r.problem, r.fields) for r in rows] == [(1, "a line longer than 400 characters", {}), (2, None, {"text": "ok"})]


# -- TREC -----------------------------------------------------------------------------

ANT_LIKE = """<DOC>
<DOCNO>AL-politic-1-20180218</DOCNO>
<URL>https://example.org/ar/1</URL>
<SRC>alarabia</SRC>
<TITLE>غوتيريش في موسكو &amp; لافروف</TITLE>
<TIME>Sun, 18 Feb 2018 21:35:43 +0400</TIME>
<TEXT>
التقى الأمين العام للأمم المتحدة بوزير الخارجية الروسي في موسكو.
<P>وبحث الجانبان سبل إنهاء الحرب &#x41;&#66; و&lt;السلام&gt;.</P>
</TEXT>
</DOC>
"""


def test_trec_documents_become_articles(fresh, tmp_path):
    folder = tmp_path / "ant" / "Alarabia"
    folder.mkdir(parents=True)
    (folder / "one.txt").write_text(ANT_LIKE, encoding="utf-8")
    second = ANT_LIKE.replace("AL-politic-1-20180218", "AL-politic-2").replace("موسكو.", "موسكو اليوم.")
    (folder / "two.txt").write_text("junk before\n" + second + second.replace("AL-politic-2", "AL-politic-3").replace("اليوم", "أمس"), encoding="utf-8")
    result = run(fresh, tmp_path / "ant", "--from", "trec", "--text", "TEXT", "--title", "TITLE", "--url", "URL",
                 "--published", "TIME", "--id", "DOCNO", "--outlet-field", "SRC")
    assert result.exit_code == 0, result.output
    added = lines(fresh)
    assert [r["id"] for r in added] == ["AL-politic-1-20180218", "AL-politic-2", "AL-politic-3"]
    first = added[0]
    assert (first["url"], first["published"], first["outlet"], first["language"], first["language_source"]) == (
        "https://example.org/ar/1", "2018-02-18", "alarabia", "ar", "detected")
    assert raw_text(fresh, first) == (
        "غوتيريش في موسكو & لافروف\n\n"
        "التقى الأمين العام للأمم المتحدة بوزير الخارجية الروسي في موسكو.\n\n"
        "وبحث الجانبان سبل إنهاء الحرب AB و<السلام>.\n"
    )
    assert invoke("validate", fresh).exit_code == 0


def test_broken_trec_is_read_document_by_document(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_text(
        "<DOC>\n<TEXT>first</TEXT>\n"          # line 1: never closed before the next
        "<DOC>\n<TITLE>t</TITLE>\n</DOC>\n"    # line 3: no TEXT
        "<doc id='x'>\n<text>third &bogus; & bare</text>\n</doc>\n"  # line 6
        "<DOC>\n<TEXT>" + "y" * 1000 + "</TEXT>\n</DOC>\n"  # line 9: over the cap
        "<DOC>\n<TEXT><![CDATA[<kept> &amp; as is]]> after</TEXT>\n</DOC>\n"  # line 12
        "<DOC>\n<TEXT>last, never closed",  # line 15
        encoding="utf-8",
    )
    rows = list(read_dump(path, "trec", ["TEXT", "TITLE"], max_field=100))
    assert [(r.line, r.problem, r.fields.get("TEXT")) for r in rows] == [
        (1, "<DOC> not closed before the next <DOC> (line 3)", None),
        (3, None, None),
        (6, None, "third &bogus; & bare"),
        (9, "<TEXT> longer than 100 characters", None),
        (12, None, "<kept> &amp; as is after"),
        (15, "<DOC> never closed", None),
    ]


def test_a_huge_trec_document_is_skipped_without_holding_it(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("<DOC>\n<TEXT>")
        for _ in range(300):
            fh.write("z" * 9999 + "\n")
        fh.write("</TEXT>\n</DOC>\n<DOC>\n<TEXT>small</TEXT>\n</DOC>\n")
    rows = list(read_dump(path, "trec", ["TEXT"], max_field=10_000))
    assert [(r.line, r.problem, r.fields.get("TEXT")) for r in rows] == [
        (1, "a <DOC> longer than 40000 characters", None),
        (304, None, "small"),
    ]


def test_an_entity_bomb_expands_nothing(fresh, tmp_path):
    """A DTD is text to this reader: a billion-laughs document is one small
    article with its references left as written."""
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
            + "".join(f' <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n' for i in range(1, 10))
            + "]>\n<DOC>\n<TEXT>&lol9; " + SW_TEXT + "</TEXT>\n</DOC>\n")
    path = tmp_path / "bomb.xml"
    path.write_text(bomb, encoding="utf-8")
    result = run(fresh, path, "--from", "trec", "--text", "TEXT", "--language", "sw")
    assert result.exit_code == 0, result.output
    [record] = lines(fresh)
    assert raw_text(fresh, record) == f"&lol9; {SW_TEXT}\n"


def test_a_file_with_no_doc_is_named(fresh, tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text(SW_TEXT, encoding="utf-8")
    result = run(fresh, path, "--from", "trec", "--text", "TEXT", "--language", "sw")
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: {path}:1:-: no <DOC> element: not a TREC file"]


def test_element_text_reads_only_the_xml_entities():
    assert element_text("a &amp; b &nbsp; &#0; &#x110000; &#1575;<br/>c<B>d</B>") == "a & b &nbsp; &#0; &#x110000; ا\ncd"


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2018-02-18", "2018-02-18"),
        ("2018-02-18T23:59:00-05:00", "2018-02-18"),
        ("2018-02-18 10:00", "2018-02-18"),
        ("Sun, 18 Feb 2018 21:35:43 +0400", "2018-02-18"),
        ("  ", None),
        (None, None),
    ],
)
def test_published_dates_are_read_as_written(value, expected):
    assert published_date(value) == expected


@pytest.mark.parametrize("value", ["18/02/2018", "2018-02-30", "February 2018", "Sun, 99 Foo 2018"])
def test_a_date_that_is_no_date_is_refused(value):
    with pytest.raises(ValueError):
        published_date(value)


# -- streaming -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["tsv", "jsonl", "trec"])
def test_readers_stream_a_large_dump_in_bounded_memory(tmp_path, fmt):
    """About 12 MB of rows, read with a peak of Python memory under 1 MB."""
    path = tmp_path / f"big.{fmt}"
    body = "Habari za leo kutoka Nairobi na Moscow. " * 50
    with open(path, "w", encoding="utf-8") as fh:
        if fmt == "tsv":
            fh.write("headline\ttext\n")
        for i in range(6000):
            if fmt == "tsv":
                fh.write(f"Kichwa {i}\t{body}\n")
            elif fmt == "jsonl":
                fh.write(json.dumps({"headline": f"Kichwa {i}", "text": body}) + "\n")
            else:
                fh.write(f"<DOC>\n<TITLE>Kichwa {i}</TITLE>\n<TEXT>{body}</TEXT>\n</DOC>\n")
    assert path.stat().st_size > 12_000_000
    tracemalloc.start()
    try:
        count = sum(1 for row in read_dump(path, fmt, ["text" if fmt != "trec" else "TEXT"]) if row.problem is None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 6000
    assert peak < 1_000_000, peak
