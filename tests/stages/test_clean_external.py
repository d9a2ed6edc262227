"""Cleaning real news nobody here wrote: golden checks on a handful of
articles of ../shared/external/news, a control on chrome-free translations,
and the cleaner's properties on every article there.

The articles are read from beside the repository (never copied into it) with
the readers of `scripts/clean-report`, so the report and these tests see the
same documents; a test skips, saying why, where the material is absent.
Content is checked by line number against the raw file, never quoted here.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict

import pytest

from parallel_corpus.stages.clean import clean, explain, normalize_lines

from conftest import external, load_script


report = load_script("clean-report")


@pytest.fixture(scope="module")
def rules(stages):
    return stages.rules


@pytest.fixture(scope="module")
def articles():
    return list(report.read_external(external("news")))


def article(articles, doc: str):
    found = [a for a in articles if a.doc == doc or a.doc.endswith("/" + doc)]
    if not found:
        pytest.skip(f"{doc} is absent from ../shared/external/news")
    return found[0]


def removed(cleaned):
    return [(r.line, r.reason) for r in cleaned.removed]


def kept_lines(cleaned):
    return sorted({b.line for b in cleaned.blocks})


def assert_other_lines_kept_verbatim(text, cleaned, touched):
    """Every non-blank line not named in `touched` is one block, unchanged."""
    lines = normalize_lines(text)
    by_line = defaultdict(list)
    for block in cleaned.blocks:
        by_line[block.line].append(block.text)
    for number, line in enumerate(lines, start=1):
        if line and number not in touched:
            assert by_line[number] == [line], number


# -- BBC Hindi: the "(... app ... click here ... follow us on Facebook and Twitter)" promo --


def test_hindi_promo_broken_over_lines_and_glued_to_the_last_sentence(rules, articles):
    a = article(articles, "bbc_hindi_sample.csv:3")
    c = clean(a.text, rules, "hi")
    assert removed(c) == [(13, "promo"), (17, "promo"), (21, "promo"), (25, "promo"), (29, "promo")]
    assert [r.text for r in c.removed][1:] == [
        "एंड्रॉएड ऐप के लिए आप",
        "यहां क्लिक कर सकते हैं. आप हमें",
        "फ़ेसबुक और",
        "ट्विटर पर फ़ॉलो भी कर सकते हैं.)",
    ]
    # Line 13 is the article's last paragraph with the promo's "(" glued to
    # it: the paragraph is kept, cut at the "(".
    line13 = normalize_lines(a.text)[12]
    at = line13.rindex("(")
    assert c.removed[0].text == line13[at:] and c.removed[0].text.startswith("(बीबीसी हिन्दी")
    assert [b.text for b in c.blocks if b.line == 13] == [line13[:at].strip()]
    assert_other_lines_kept_verbatim(a.text, c, {13, 17, 21, 25, 29})


def test_hindi_promo_whose_opening_was_lost(rules, articles):
    # Row 7: the "(" went with the link it stood in; the lines that name the
    # app, the click and the platforms, up to the closing ")", are the promo.
    # Line 1 also holds two related stories' headlines in parentheses that
    # stand between sentences (one opening the line): each is cut out, and
    # the sentences around them stay, verbatim, as blocks of their own.
    a = article(articles, "bbc_hindi_sample.csv:7")
    c = clean(a.text, rules, "hi")
    assert removed(c) == [(1, "related_link"), (1, "related_link"), (1, "promo"), (5, "promo"), (9, "promo"), (13, "promo"), (17, "promo")]
    assert [r.text for r in c.removed][:2] == ["(जब अमिताभ के लिए रुक गई लड़ाई)", "(थ्री डी में 'शोले')"]
    assert [r.text for r in c.removed][3:] == ["एंड्रॉएड ऐप के लिए", "यहां क्लिक करें. आप हमें", "फ़ेसबुक और", "ट्विटर पर भी फ़ॉलो कर सकते हैं)"]
    assert kept_lines(c) == [1]
    line = normalize_lines(a.text)[0]
    assert len([b for b in c.blocks if b.line == 1]) == 2 and all(b.text in line for b in c.blocks)


def test_hindi_promo_on_one_line_after_the_last_sentence(rules, articles):
    a = article(articles, "bbc_hindi_sample.csv:12")
    c = clean(a.text, rules, "hi")
    assert removed(c) == [(1, "promo")]
    promo = c.removed[0].text
    assert promo.startswith("(") and promo.endswith(".)") and "क्लिक" in promo and "ट्विटर" in promo
    line = normalize_lines(a.text)[0]
    assert c.text == line[: -len(promo)].strip()


def test_hindi_bbc_monitoring_blurb_inside_the_promo(rules, articles):
    # Row 2: "(BBC Monitoring reports on ... You can read it on Twitter and
    # Facebook.)", 35 words over four lines; the paragraphs before it stay.
    a = article(articles, "bbc_hindi_sample.csv:2")
    c = clean(a.text, rules, "hi")
    assert removed(c) == [(13, "promo"), (17, "promo"), (21, "promo"), (25, "promo")]
    assert c.removed[0].text == "("
    assert kept_lines(c) == [1, 5, 9, 13]


def test_no_hindi_article_keeps_a_promo_fragment(rules, articles):
    hindi = [a for a in articles if a.source == "bbc_hindi"]
    if not hindi:
        pytest.skip("the BBC Hindi sample is absent")
    for a in hindi:
        c = clean(a.text, rules, "hi")
        for block in c.blocks:
            tail = block.text[-60:]
            assert not ("फ़ॉलो" in tail and tail.rstrip(".").endswith(")")), (a.doc, block.line)


# -- Arabic (ANT): link stubs, linked headlines, the BBC app line --------------------


def test_bbc_arabic_read_also_label_and_its_list_of_links(rules, articles):
    a = article(articles, "BB-middleEast-439-20180502.txt")
    c = clean(a.text, rules, "ar")
    assert removed(c) == [(8, "chrome_prefix"), (9, "related_link"), (10, "related_link"), (11, "related_link"), (12, "related_link"), (13, "related_link")]
    assert c.removed[0].text == "اقرأ أيضاً:"
    assert_other_lines_kept_verbatim(a.text, c, {8, 9, 10, 11, 12, 13})


def test_bbc_arabic_linked_headlines_separator_and_app_promo(rules, articles):
    a = article(articles, "BB-sport-289-20180719.txt")
    c = clean(a.text, rules, "ar")
    assert removed(c) == [(9, "related_link"), (10, "related_link"), (14, "punctuation_only"), (15, "promo")]
    # "You can receive notifications ... after downloading the BBC Arabic app
    # on your phone": a sentence, but one that speaks to the reader.
    assert c.removed[-1].text.startswith("يمكنكم") and "تطبيق" in c.removed[-1].text
    assert c.title() == normalize_lines(a.text)[0]
    assert_other_lines_kept_verbatim(a.text, c, {1, 9, 10, 14, 15})


def test_watch_stub_inside_an_article_but_not_as_a_video_title(rules, articles):
    inside = article(articles, "CN-internationalNews-63-20180304.txt")
    c = clean(inside.text, rules, "ar")
    # Line 7 is a "Quick facts: <another story's headline>" link.
    assert removed(c) == [(7, "chrome_prefix"), (12, "chrome_prefix")]
    assert c.removed[0].text.startswith("حقائق سريعة:") and c.removed[1].text.startswith("شاهد..")
    titled = article(articles, "CN-sport-172-20180331.txt")
    c = clean(titled.text, rules, "ar")
    assert c.removed == []
    assert c.title() == normalize_lines(titled.text)[0] and c.title().startswith("شاهد..")


def test_france24_click_here_and_for_more_stubs(rules, articles):
    a = article(articles, "FR-sport-1-20180215.txt")
    c = clean(a.text, rules, "ar")
    assert removed(c) == [(7, "chrome_suffix"), (11, "chrome_prefix")]
    assert c.removed[0].text.endswith("اضغط هنا") and c.removed[1].text.startswith("للمزيد:")
    assert_other_lines_kept_verbatim(a.text, c, {1, 7, 11})


def test_sub_headings_between_paragraphs_are_kept(rules, articles):
    # France24 and Sky News sub-headings stand alone above their paragraph.
    for doc, lines in [("FR-internationalNews-1-20180218.txt", [7, 15]), ("SK-middleEast-1987-20180527.txt", [9])]:
        a = article(articles, doc)
        c = clean(a.text, rules, "ar")
        assert c.removed == []
        types = {b.line: b.type for b in c.blocks}
        assert [types[n] for n in lines] == ["heading"] * len(lines)


# -- Swahili (MasakhaNEWS): one-line bodies -------------------------------------------


def test_swahili_one_line_bodies_lose_only_their_stubs_and_callout(rules, articles):
    swahili = [a for a in articles if a.source == "masakhanews_swa"]
    if not swahili:
        pytest.skip("the MasakhaNEWS Swahili sample is absent")
    removals = {a.doc: [(r.line, r.reason, r.text) for r in clean(a.text, rules, "sw").removed] for a in swahili}
    # Pointers glued into the one-line body (one at its end with no full stop
    # before it, one running on into the next question) and a callout in
    # capitals with the question it asks the reader.
    assert {doc: r for doc, r in removals.items() if r} == {
        "masakhanews_swa_sample.tsv:31": [
            (2, "call_to_reader", "TUAMBIE SIMULIZI YAKO:"),
            (2, "call_to_reader", "Je, maisha yako yameathiriwa vipi na kupanda kwa bei ya vyakula?"),
        ],
        "masakhanews_swa_sample.tsv:35": [(2, "pointer_stub", "Unaweza kusoma")],
        "masakhanews_swa_sample.tsv:41": [(2, "chrome_prefix", "Unaweza pia kusoma:")],
        "masakhanews_swa_sample.tsv:43": [(2, "pointer_stub", "Unaweza kutazama mazungumzo yake na BBC")],
        "masakhanews_swa_sample.tsv:78": [(2, "chrome_prefix", "Unaweza pia kusoma:")],
        "masakhanews_swa_sample.tsv:81": [(2, "pointer_stub", "Maelezo zaidi kuhusu mzozo wa Tigray:")],
    }
    # The question after the pointer stays: it is the article's subheading.
    kept = " ".join(b.text for b in clean(article(articles, "masakhanews_swa_sample.tsv:43").text, rules, "sw").blocks)
    assert "Je ilikuwaje hadi akaambukizwa virusi vya ukimwi?" in kept
    # The label between two sentences is cut out; both sides are kept verbatim.
    a = article(articles, "masakhanews_swa_sample.tsv:78")
    c = clean(a.text, rules, "sw")
    body = normalize_lines(a.text)[1]
    parts = [b.text for b in c.blocks if b.line == 2]
    assert len(parts) == 2 and body == f"{parts[0]} Unaweza pia kusoma: {parts[1]}"


# -- every article -------------------------------------------------------------------

# `scripts/clean-report`'s figures. A change of rules that moves them is a
# change to review: update them with the report's output after checking its
# samples.
EXPECTED_REMOVALS = {
    "bbc_hindi": {"promo": 195, "related_link": 11},
    "masakhanews_swa": {"call_to_reader": 2, "chrome_prefix": 2, "pointer_stub": 3},
    "ant/BBC": {"chrome_prefix": 7, "promo": 6, "punctuation_only": 6, "related_link": 22},
    "ant/CNN": {"chrome_prefix": 2, "other_story_lead": 5},
    "ant/France24": {"chrome_prefix": 4, "chrome_suffix": 3},
    "ant/Alarabia": {},
    "ant/SkyNews": {},
    "ant_jawharafm": {},
    "ntrex/en": {},
    "ntrex/sw": {},
    "ntrex/hi": {},
    "ntrex/ar": {},
}


def test_removed_lines_by_source_and_reason(rules, articles):
    counts: dict[str, Counter] = {source: Counter() for source in {a.source for a in articles}}
    for a in articles:
        counts[a.source].update(r.reason for r in clean(a.text, rules, a.language).removed)
    assert {s: dict(c) for s, c in counts.items()} == {s: e for s, e in EXPECTED_REMOVALS.items() if s in counts}


def test_ntrex_translations_have_no_chrome_to_remove(rules, articles):
    ntrex = [a for a in articles if a.source.startswith("ntrex/")]
    if not ntrex:
        pytest.skip("the NTREX stories are absent")
    assert len(ntrex) == 80
    for a in ntrex:
        c = clean(a.text, rules, a.language)
        assert c.removed == [], a.doc
        assert [b.text for b in c.blocks] == [l for l in normalize_lines(a.text) if l]


def test_removed_prose_is_only_chrome_that_speaks_to_the_reader(rules, articles):
    """Every removed line that looks like a sentence of content (long, or
    ending like a sentence) was read by a person: all are promos, link stubs
    or linked headlines. A new one fails here until someone reads it."""
    prose_like = Counter()
    for a in articles:
        for r in clean(a.text, rules, a.language).removed:
            if report.looks_like_prose(r.text):
                prose_like[(a.source, r.reason)] += 1
    assert dict(prose_like) == {
        ("bbc_hindi", "promo"): 12,
        ("bbc_hindi", "related_link"): 1,
        ("masakhanews_swa", "call_to_reader"): 1,
        ("ant/BBC", "promo"): 6,
        ("ant/CNN", "other_story_lead"): 5,
        ("ant/CNN", "chrome_prefix"): 1,
        ("ant/BBC", "related_link"): 1,
        ("ant/France24", "chrome_prefix"): 1,
        ("ant/France24", "chrome_suffix"): 2,
    }


def test_real_articles_clean_idempotently_and_verbatim(rules, articles):
    if not articles:
        pytest.skip("../shared/external/news holds no article")
    for a in articles:
        first = clean(a.text, rules, a.language)
        second = clean(first.text, rules, a.language)
        assert second.removed == [] and second.text == first.text, a.doc
        normalized = unicodedata.normalize("NFC", a.text)
        assert all(b.text in normalized for b in first.blocks), a.doc


def test_explain_gives_every_line_its_decision(rules, articles):
    a = article(articles, "BB-sport-289-20180719.txt")
    decisions = explain(a.text, rules, "ar")
    lines = normalize_lines(a.text)
    assert [d.line for d in decisions] == [n for n, line in enumerate(lines, start=1) if line]
    assert [(d.line, d.reason) for d in decisions if not d.kept] == [(9, "related_link"), (10, "related_link"), (14, "punctuation_only"), (15, "promo")]
    assert all(d.block_type for d in decisions if d.kept)
