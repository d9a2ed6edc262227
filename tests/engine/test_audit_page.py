"""The audit page: the build writes report.html and report/docs-*.html beside
report.json, with every published document, its removed lines and their
reasons, its spans at their code-point offsets; hostile text shows as text;
the same build gives the same bytes; pages are cut by documents and bytes;
and in a real headless Chromium every document is there, Arabic runs right
to left and Devanagari renders (skipped, with the apt line, where Chromium
or the Noto fonts are absent)."""

from __future__ import annotations

import hashlib
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Optional

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import CORPUS, SWAHILI_ID, build_cli, load_script, tree_bytes
from parallel_corpus.engine import audit_page
from parallel_corpus.engine.spill import Spill
from parallel_corpus import schema
from parallel_corpus.records import Assignment, parquet_name

HOSTILE_LINE = "Habari <script>alert('x')</script> & <img src=x onerror=alert(1)> za Umoja wa Mataifa na Urusi leo"
HOSTILE_OUTLET = '<b onmouseover="alert(1)">Evil</b> & co'


def built(corpus: Path, out: Path) -> Path:
    return built_with(corpus, out)


def built_with(corpus: Path, out: Path, *extra: str) -> Path:
    result = build_cli(corpus, out, *extra)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    """The repository's corpus, built once for this module."""
    return built(CORPUS, tmp_path_factory.mktemp("seeds") / "build")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """The seeds with markup in an article's text and in its outlet and URL."""
    corpus = tmp_path_factory.mktemp("hostile") / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("releases.jsonl"))
    raw = corpus / "raw" / f"{SWAHILI_ID}.txt"
    data = (HOSTILE_LINE + "\n<script>document.title='owned'</script>\n" + raw.read_text(encoding="utf-8")).encode("utf-8")
    raw.write_bytes(data)
    lines = (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines):
        record = json.loads(line)
        if record["id"] == SWAHILI_ID:
            record.update(sha256=hashlib.sha256(data).hexdigest(), outlet=HOSTILE_OUTLET, url="javascript:alert(1)")
            lines[n] = json.dumps(record, ensure_ascii=False)
    (corpus / "sources.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return built(corpus, corpus.parent / "build")


def published(build: Path) -> dict[str, dict]:
    rows = {}
    for path in sorted((build / "data" / "documents").glob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            rows[row["id"]] = row
    return rows


class Sections(HTMLParser):
    """Per document section: its attributes, the reasons of its removed lines,
    and the marks' (text, label) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.docs: dict[str, dict] = {}
        self.current: dict | None = None
        self.stack: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "a":
            self.links.append(a["href"])
        if tag == "section" and "doc" in classes:
            self.current = self.docs[a["id"]] = {"attrs": a, "reasons": [], "marks": [], "removed": [], "text": []}
        self.stack.append("why" if "why" in classes else "mark" if tag == "mark" else "small" if tag == "small" else "del" if tag == "del" else tag)

    def handle_endtag(self, tag):
        self.stack.pop()

    def handle_data(self, data):
        if self.current is None:
            return
        self.current["text"].append(data)
        top = self.stack[-1] if self.stack else ""
        if top == "why":
            self.current["reasons"].append(data)
        elif top == "mark":
            self.current["marks"].append([data, None])
        elif top == "small" and "mark" in self.stack:
            self.current["marks"][-1][1] = data
        elif top == "del":
            self.current["removed"].append(data)


def parsed(build: Path) -> Sections:
    parser = Sections()
    for page in [build / "report.html", *sorted((build / "report").glob("docs-*.html"))]:
        parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_every_document_is_shown_with_its_removed_lines_their_reasons_and_its_spans(seeds: Path) -> None:
    rows = published(seeds)
    shown = parsed(seeds)
    assert set(shown.docs) == set(rows)
    for doc_id, row in rows.items():
        doc = shown.docs[doc_id]
        assert doc["attrs"]["lang"] == row["language"]
        assert doc["attrs"]["dir"] == ("rtl" if row["language"] == "ar" else "ltr")
        assert sorted(doc["reasons"]) == sorted(r["reason"] for r in row["removed_lines"])
        assert doc["removed"] == [r["text"] for r in sorted(row["removed_lines"], key=lambda r: r["line"])]
        # Each mark is text[start:end] of its span, labelled with the QID or,
        # without one, the canonical name; dates with their ISO date.
        expected = {(e["text"], e["qid"] or e["canonical"]) for e in row["entities"]} | {(d["text"], str(d["date"])) for d in row["dates"] if d["date_end"] in (None, d["date"])}
        assert {tuple(m) for m in doc["marks"]} <= expected | {(d["text"], f"{d['date']}–{d['date_end']}") for d in row["dates"]}
        assert len(doc["marks"]) >= 0.9 * (len(row["entities"]) + len(row["dates"]))
    arabic = next(r for r in rows.values() if r["language"] == "ar" and r["removed_lines"])
    assert any(label is None or label.startswith("Q") for _, label in shown.docs[arabic["id"]]["marks"])
    index = (seeds / "report.html").read_text(encoding="utf-8")
    for reason in {r["reason"] for row in rows.values() for r in row["removed_lines"]}:
        assert f"<td>{reason}</td>" in index or f">{reason}</td>" in index


def test_an_entity_without_a_qid_shows_its_canonical_name(seeds: Path) -> None:
    rows = published(seeds)
    nameless = [(doc_id, e) for doc_id, row in rows.items() for e in row["entities"] if e["qid"] is None]
    assert nameless, "the seeds hold an entity without a QID (Lavrov's)"
    doc_id, entity = nameless[0]
    assert [entity["text"], entity["canonical"]] in parsed(seeds).docs[doc_id]["marks"]


def test_markup_in_an_article_or_its_source_shows_as_text(hostile: Path) -> None:
    pages = [hostile / "report.html", *sorted((hostile / "report").glob("docs-*.html"))]
    html = "".join(p.read_text(encoding="utf-8") for p in pages)
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<b " not in lowered
    assert "href=\"javascript" not in lowered
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    text = "".join(parsed(hostile).docs[SWAHILI_ID]["text"])
    assert "<script>alert('x')</script> & <img src=x onerror=alert(1)>" in text
    assert HOSTILE_OUTLET in text


def test_the_same_build_gives_the_same_pages(seeds: Path, tmp_path: Path) -> None:
    again = built(CORPUS, tmp_path / "build")
    pages = {k: v for k, v in tree_bytes(seeds).items() if k == "report.html" or k.startswith("report/")}
    assert pages and pages == {k: v for k, v in tree_bytes(again).items() if k == "report.html" or k.startswith("report/")}


def test_pages_are_cut_by_documents_and_by_bytes(seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "build"
    shutil.copytree(seeds / "data", copy / "data")
    monkeypatch.setattr(audit_page, "PAGE_DOCS", 2)
    audit_page.write_audit_page(copy)
    names = sorted(p.name for p in (copy / "report").iterdir())
    assert names == ["docs-train-00001.html", "docs-train-00002.html", "docs-train-00003.html"]
    shown = parsed(copy)
    assert set(shown.docs) == set(published(seeds))
    first = (copy / "report" / "docs-train-00001.html").read_text(encoding="utf-8")
    last = (copy / "report" / "docs-train-00003.html").read_text(encoding="utf-8")
    assert 'href="docs-train-00002.html">next page' in first and "previous page" not in first
    assert 'href="docs-train-00002.html">previous page' in last and "next page" not in last
    assert [link for link in shown.links if link.startswith("report/")] == [f"report/{n}" for n in names]

    # A page closes before the document that would take it past PAGE_BYTES;
    # a document larger than that still gets a page of its own.
    monkeypatch.setattr(audit_page, "PAGE_DOCS", 100)
    monkeypatch.setattr(audit_page, "PAGE_BYTES", 1)
    shutil.rmtree(copy / "report")
    audit_page.write_audit_page(copy)
    assert len(list((copy / "report").iterdir())) == len(published(seeds))


def test_spans_are_code_point_offsets_clipped_to_their_block_and_never_nested() -> None:
    text = "😀 Putin met 𝒢uterres on 3 May"
    row = {
        "entities": [
            {"qid": "Q7747", "type": "person", "canonical": "Vladimir Putin", "start": 2, "end": 7, "text": "Putin", "source": "pipeline"},
            {"qid": None, "type": "person", "canonical": "António Guterres", "start": 12, "end": 20, "text": "𝒢uterres", "source": "human"},
            # Overlaps the one before: not marked.
            {"qid": "Q1", "type": "place", "canonical": "X", "start": 15, "end": 22, "text": "erres o", "source": "pipeline"},
        ],
        "dates": [{"start": 24, "end": 29, "text": "3 May", "date": "2021-05-03", "date_end": None, "precision": "day"}],
    }
    spans = audit_page._spans(row)
    assert [(s, e) for s, e, _, _ in spans] == [(2, 7), (12, 20), (24, 29)]
    out = audit_page._marked(text, 0, len(text), spans)
    assert '<mark class="e" title="Vladimir Putin, person">Putin<small>Q7747</small></mark>' in out
    assert '<mark class="e h" title="António Guterres, person, human">𝒢uterres<small>António Guterres</small></mark>' in out
    assert '3 May<small>2021-05-03</small></mark>' in out
    # A block that starts inside a span shows the part inside it, marked.
    assert audit_page._marked(text, 4, 11, spans).startswith('<mark class="e" title="Vladimir Putin, person">tin<small')


def test_a_failed_page_leaves_the_previous_build_in_place(seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "build"
    shutil.copytree(seeds, out)
    before = tree_bytes(out)

    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr("parallel_corpus.engine.build.write_pages", broken)
    assert build_cli(CORPUS, out).exit_code != 0
    assert tree_bytes(out) == before


def test_no_audit_page_builds_without_it(tmp_path: Path) -> None:
    out = built_with(CORPUS, tmp_path / "build", "--no-audit-page")
    assert (out / "report.json").is_file()
    assert not (out / "report.html").exists() and not (out / "report").exists()


def browser_check():
    check = load_script("check-audit-page")
    missing = check.missing_tools()
    if missing:
        pytest.skip(f"no {' '.join(missing)} here: `sudo apt-get install {' '.join(missing)}` (as for scripts/check-labelstudio-rtl)")
    return check


def test_in_chromium_every_seed_document_is_shown_arabic_runs_right_to_left_and_devanagari_renders(seeds: Path, tmp_path: Path) -> None:
    check = browser_check()
    result = check.check(seeds / "report.html", screenshot=tmp_path / "audit.png")
    assert result["failures"] == []
    rows = published(seeds)
    assert result["documents"] == len(rows) == 5
    assert result["rtl_blocks"] == sum(len(r["blocks"]) for r in rows.values() if r["language"] == "ar") > 0
    assert result["devanagari"]["distinct"] == len(result["devanagari"]["letters"]) == 5
    for doc_id, row in rows.items():
        section = result["sections"][doc_id]
        assert section["dir"] == ("rtl" if row["language"] == "ar" else "ltr")
        assert sorted(r["reason"] for r in section["removed"]) == sorted(r["reason"] for r in row["removed_lines"])
        assert all(r["struck"] and r["shown"] for r in section["removed"])
    assert (tmp_path / "audit.png").read_bytes().startswith(b"\x89PNG")


def test_in_chromium_hostile_markup_runs_nothing_and_shows_as_text(hostile: Path) -> None:
    check = browser_check()
    result = check.check(hostile / "report.html")
    # The check counts scripts, images and loaded resources on every page as failures.
    assert result["failures"] == []
    assert "<script>alert('x')</script>" in result["sections"][SWAHILI_ID]["text"]


def test_the_check_fails_when_a_document_is_missing_or_arabic_runs_left_to_right(seeds: Path, tmp_path: Path) -> None:
    check = browser_check()
    broken = tmp_path / "build"
    shutil.copytree(seeds, broken)
    page = broken / "report" / "docs-train-00001.html"
    html = page.read_text(encoding="utf-8").replace('dir="rtl"', 'dir="ltr"')
    gone = next(iter(published(seeds)))
    html = html.replace(f'id="{gone}"', 'id="someone-else"')
    page.write_text(html, encoding="utf-8")
    failures = check.check(broken / "report.html")["failures"]
    assert any("someone-else is not in the build's Parquet" in f for f in failures)
    assert any(f"have no section: {gone}" in f for f in failures)
    assert any("is Arabic but runs ltr" in f for f in failures)


def test_the_articles_the_workers_make_are_the_ones_the_rows_give(seeds: Path, tmp_path: Path) -> None:
    # The build's pages use the articles made with the rows; pages made from
    # the published rows alone must be the same bytes.
    copy = tmp_path / "build"
    shutil.copytree(seeds / "data", copy / "data")
    audit_page.write_audit_page(copy)
    assert _pages(copy) == _pages(seeds)


def _spill_of(build: Path, folder: Path, rows_a_part: int = 3, article: Callable[[int, dict], Optional[str]] = lambda i, row: audit_page.article_of(row)):
    """A spill of a build's published rows, as pass one leaves it: in id
    order, the splits mixed, parts of a few rows; and the build's topics and
    splits."""
    rows = sorted((row for path in (build / "data" / "documents").glob("*.parquet") for row in pq.read_table(path).to_pylist()), key=lambda r: r["id"])
    spill = Spill(folder)
    for k in range(0, len(rows), rows_a_part):
        part = [dict(row, **{audit_page.ARTICLE_COLUMN: article(k + i, row)}) for i, row in enumerate(rows[k : k + rows_a_part])]
        spill.add_batch(pa.RecordBatch.from_pylist(part, schema=audit_page.spill_schema()))
    assignments = {r["id"]: Assignment(r["topic_id"], r["topic_title"], r["event_id"], r["topic_source"], r["topic_score"], tuple(r["topic_evidence"])) for r in rows}
    return spill, assignments, {r["topic_id"]: r["split"] for r in rows}


def test_the_page_made_from_the_spill_is_the_page_of_the_published_rows(seeds: Path, tmp_path: Path) -> None:
    # The build writes its pages from the spill; pages made from the
    # published Parquet alone must be the same bytes, and so the index. One
    # topic is moved to another split, so that the spill's rows mix the
    # splits; the first part's rows lack every other article (made from the
    # rows read again whole), the second part's have theirs.
    spill, assignments, split_of_topic = _spill_of(seeds, tmp_path / "spill", article=lambda i, row: None if i < 3 and i % 2 == 0 else audit_page.article_of(row))
    moved = sorted(split_of_topic)[0]
    split_of_topic[moved] = "test"
    published = tmp_path / "published"
    rows = sorted(pq.read_table(seeds / "data" / "documents").to_pylist(), key=lambda r: r["id"])
    for split in ("train", "test"):
        chosen = [dict(r, split=split) for r in rows if split_of_topic[r["topic_id"]] == split]
        assert chosen, "both splits must hold rows, or this test proves less"
        path = published / "data" / "documents" / parquet_name(split)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(chosen, schema=schema.arrow_schema("documents")), path)
    audit_page.write_audit_page(published)
    from_spill = tmp_path / "build"
    pages = audit_page.write_pages(from_spill, audit_page.SpillRows(spill, assignments, split_of_topic))
    audit_page.write_index(from_spill, audit_page.summarize(published), pages)
    assert _pages(from_spill) == _pages(published)
    assert (from_spill / audit_page.INDEX).read_bytes() == (published / audit_page.INDEX).read_bytes()


def test_the_page_reads_the_spill_once_and_a_batch_whole_only_for_a_missing_article(seeds: Path, tmp_path: Path, monkeypatch) -> None:
    spill, assignments, split_of_topic = _spill_of(seeds, tmp_path / "spill", article=lambda i, row: None if i == 4 else audit_page.article_of(row))
    asked, whole = [], []
    rows_of = spill.rows

    def rows(columns):
        asked.append(columns)
        for batch, read_whole in rows_of(columns):
            yield batch, lambda read_whole=read_whole: whole.append(1) or read_whole()

    monkeypatch.setattr(spill, "rows", rows)
    found = list(audit_page.SpillRows(spill, assignments, split_of_topic).batches())
    assert asked == [audit_page.SPILL_COLUMNS]
    assert len(whole) == 1
    published_rows = {r["id"]: r for r in pq.read_table(seeds / "data" / "documents").to_pylist()}
    shown = [(row, article) for batch, made in found for row, article in zip(batch.to_pylist(), made)]
    assert [row["id"] for row, _ in shown] == sorted(published_rows)
    for row, article in shown:
        assert {k: row[k] for k in audit_page.READ_COLUMNS} == {k: published_rows[row["id"]][k] for k in audit_page.READ_COLUMNS}
        assert article == audit_page.article_of(published_rows[row["id"]]).encode("utf-8")


def test_the_workers_make_the_articles_rows_read_back_lack(seeds: Path) -> None:
    table = pq.read_table(seeds / "data" / "documents" / "train-00000-of-00001.parquet")
    rows = table.to_pylist()
    made = [audit_page.article_of(row) for row in rows]
    spilled = [dict(row, **{audit_page.ARTICLE_COLUMN: article if i % 2 else None}) for i, (row, article) in enumerate(zip(rows, made))]
    batch = pa.RecordBatch.from_pylist(spilled, schema=audit_page.spill_schema())
    filled = audit_page.missing_articles_made(batch)
    assert filled.column(audit_page.ARTICLE_COLUMN).to_pylist() == made
    others = [name for name in batch.schema.names if name != audit_page.ARTICLE_COLUMN]
    assert filled.select(others).equals(batch.select(others))


def test_an_article_whose_boilerplate_scores_moved_is_the_article_made_again(seeds: Path) -> None:
    # A rebuild that gives a row's `boilerplate` removals new scores puts
    # them in its article instead of making it again: the same bytes.
    row = pq.read_table(seeds / "data" / "documents", columns=audit_page.COLUMNS).slice(0, 1).to_pylist()[0]
    kept = [line for line in row["removed_lines"] if line["reason"] != "boilerplate"][:1]
    row["removed_lines"] = kept + [
        {"line": 900, "text": "Follow us 3.000</div> on <b>social media</b>", "reason": "boilerplate", "score": 3.0},
        {"line": 901, "text": "boilerplate</span> 3.000", "reason": "boilerplate", "score": 7.0},
        {"line": 902, "text": "All rights reserved", "reason": "boilerplate", "score": 3.0},
    ]
    article = audit_page.article_of(row)
    moved = dict(row, removed_lines=[dict(line, score={3.0: 4.0, 7.0: 12.0}.get(line["score"], line["score"])) if line["reason"] == "boilerplate" else line
                                     for line in row["removed_lines"]])
    assert audit_page.rescored_article(article, {3.0: 4.0, 7.0: 12.0}) == audit_page.article_of(moved) != article
    assert audit_page.rescored_article(article, {3.0: 4.0, 7.0: 7.0}) == audit_page.article_of(dict(moved, removed_lines=[
        dict(line, score=4.0) if line["score"] == 3.0 and line["reason"] == "boilerplate" else line for line in row["removed_lines"]]))
    # A score it has no new value for: made again.
    assert audit_page.rescored_article(article, {3.0: 4.0}) is None


def _pages(build: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (build / "report").iterdir()}


def test_a_rows_part_of_its_page_splits_in_three_whatever_its_text_holds(seeds: Path) -> None:
    # The workers hand over a document's part of its page as three pieces
    # joined by NUL: a NUL (or another control) in any text of the row
    # shows as U+FFFD and cannot add a fourth.
    row = pq.read_table(seeds / "data" / "documents", columns=audit_page.COLUMNS).slice(0, 1).to_pylist()[0]
    nul = "a\x00b\x01c"
    row.update(id=nul, title=nul, language_flores=nul, language_source=nul, declared_language=nul, flags=[nul])
    row["source"] = dict(row["source"], file=nul, outlet=nul, url=nul, encoding=nul)
    row["text"] = nul + row["text"][len(nul):]
    for line in row["removed_lines"]:
        line["text"] = nul
    pieces = audit_page.article_of(row).split("\0")
    assert len(pieces) == 3
    assert pieces[0].startswith("<li>") and pieces[1].startswith('<section class="doc"') and pieces[2].endswith("</section>\n")
    assert "a\ufffdb\ufffdc" in pieces[1]
