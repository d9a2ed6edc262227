"""The rules about shapes (stages.clean.pieces, the line rules that use word
overlap, and corpus-level boilerplate), on small texts written for each shape
and its look-alike that must stay: every rule here has a case it removes and
a case of content it keeps."""

from __future__ import annotations

import random

import pytest

from parallel_corpus.records import REMOVAL_REASONS
from parallel_corpus.stages.clean import CleaningRules, clean, explain, fold
from parallel_corpus.stages.clean import pieces
from parallel_corpus.stages.clean.boilerplate import Counter
from parallel_corpus.stages.clean import segments_of

PARA = "Viongozi hao walikutana mjini Nairobi siku ya Jumanne kujadili mzozo wa mpakani na biashara ya kikanda."


@pytest.fixture(scope="module")
def rules(stages) -> CleaningRules:
    return stages.rules


def removed(cleaned) -> list[tuple[str, str]]:
    return [(r.reason, r.text) for r in cleaned.removed]


def kept_text(cleaned) -> str:
    return " ".join(b.text for b in cleaned.blocks)


# -- splitting a line ------------------------------------------------------------------


def test_pieces_cover_the_line_and_cut_at_glued_sentence_ends() -> None:
    line = "है.एहसान ने कहा. (थ्री डी में 'शोले')वह आए? Label kubwa: maneno zaidi."
    parts = pieces.split(line)
    assert [p.kind for p in parts] == ["sentence", "sentence", "paren", "sentence", "label", "sentence"]
    assert "".join(line[p.start : p.end] for p in parts).replace(" ", "") == line.replace(" ", "")


def test_a_parenthesis_inside_a_clause_is_not_a_piece() -> None:
    line = "Waziri (aliyeteuliwa mwaka jana na rais) alisema hivyo."
    assert [p.kind for p in pieces.split(line)] == ["sentence"]


# -- pointer stubs -----------------------------------------------------------------------


def test_pointer_glued_to_the_end_of_a_sentence_without_a_full_stop(rules) -> None:
    c = clean(f"Kichwa cha habari\n{PARA} Nchi hizo zimekubaliana kushirikiana zaidi Unaweza kusoma\n", rules, "sw")
    assert removed(c) == [("pointer_stub", "Unaweza kusoma")]
    assert kept_text(c).endswith("kushirikiana zaidi")


def test_pointer_running_into_the_next_sentence_keeps_that_sentence(rules) -> None:
    c = clean(f"Kichwa cha habari\n{PARA} Unaweza kutazama mahojiano yake na BBC Je alifika vipi hadi hapa? Alieleza.\n", rules, "sw")
    assert removed(c) == [("pointer_stub", "Unaweza kutazama mahojiano yake na BBC")]
    assert "Je alifika vipi hadi hapa?" in kept_text(c)


def test_a_sentence_that_opens_with_a_pointer_word_but_closes_like_a_statement_stays(rules) -> None:
    text = f"Kichwa cha habari\n{PARA} Tazama jinsi viongozi walivyokubaliana kwa haraka.\n"
    assert clean(text, rules, "sw").removed == []


# -- calls to the reader -----------------------------------------------------------------


def test_callout_in_capitals_goes_with_its_question(rules) -> None:
    c = clean(f"Kichwa cha habari\n{PARA} TUAMBIE SIMULIZI YAKO: Je, bei zimekuathiri vipi? Serikali inasema itasaidia.\n", rules, "sw")
    assert [r for r, _ in removed(c)] == ["call_to_reader", "call_to_reader"]
    assert kept_text(c).endswith("Serikali inasema itasaidia.")


def test_a_column_name_in_capitals_before_a_statement_stays(rules) -> None:
    text = f"Kichwa cha habari\n{PARA} WARIDI WA BBC: Nilijaribu kuzungumza naye mara mbili.\n"
    assert clean(text, rules, "sw").removed == []


# -- parentheses and glued headlines ---------------------------------------------------------


def test_headline_in_parentheses_between_sentences_but_not_a_source_credit(rules) -> None:
    c = clean(f"Kichwa cha habari\n{PARA} (Mvua kubwa yaharibu mashamba ya wakulima) Mazungumzo yataendelea kesho.\n", rules, "sw")
    assert removed(c) == [("related_link", "(Mvua kubwa yaharibu mashamba ya wakulima)")]
    credit = f"Kichwa cha habari\n{PARA} Chelsea wanamtaka mshambuliaji huyo. (Gazzetta dello Sport - in Italian) Arsenal nao wanamfuatilia.\n"
    assert clean(credit, rules, "sw").removed == []


def test_question_headline_glued_between_sentences_of_another_subject(rules) -> None:
    line = "राजधानी में बारिश से कई सड़कें बंद रहीं.क्या अंग्रेजों का अत्याचार भूल गए भारतीय?नगर निगम ने पानी निकालने के लिए पंप लगाए."
    c = clean(f"शीर्षक\n{line}\n", rules, "hi")
    assert removed(c) == [("related_link", "क्या अंग्रेजों का अत्याचार भूल गए भारतीय?")]
    assert c.removed[0].score is not None and c.removed[0].score <= rules.shapes.glued_headline_max_overlap
    # Each kept run is a verbatim slice of the line.
    assert all(b.text in line for b in c.blocks[1:])


def test_a_glued_question_that_the_next_sentence_answers_stays(rules) -> None:
    line = "सरकार ने नई नीति पेश की.नई नीति से किसानों को क्या मिलेगा?नई नीति के तहत किसानों को सस्ता कर्ज़ मिलेगा."
    assert clean(f"शीर्षक\n{line}\n", rules, "hi").removed == []


def test_nothing_inside_an_open_quotation_is_a_headline(rules) -> None:
    line = 'उन्होंने कहा, "हम हार नहीं मानेंगे.क्या अंग्रेजों का अत्याचार भूल गए भारतीय?हम लड़ते रहेंगे."'
    assert clean(f"शीर्षक\n{line}\n", rules, "hi").removed == []


# -- lines among their neighbours ----------------------------------------------------------


def test_lone_headline_of_another_story_between_paragraphs(rules) -> None:
    text = (
        "عنوان المقال عن الانتخابات\n"
        "أعلنت اللجنة الانتخابية نتائج الجولة الأولى من الانتخابات الرئاسية في البلاد مساء اليوم.\n"
        "تجميد ممتلكات لاعب كرة القدم الشهير في إسبانيا\n"
        "وقالت اللجنة إن نسبة المشاركة في الانتخابات بلغت ستين في المئة من الناخبين المسجلين.\n"
    )
    c = clean(text, rules, "ar")
    assert [r for r, _ in removed(c)] == ["related_link"]
    own = text.replace("تجميد ممتلكات لاعب كرة القدم الشهير في إسبانيا", "نسبة المشاركة في الانتخابات الرئاسية الأولى")
    assert clean(own, rules, "ar").removed == [], "a subheading that announces the paragraph after it stays"


def test_trailing_leads_of_other_stories_but_not_the_articles_own_dated_paragraphs(rules) -> None:
    head = "مصر والصين توقعان اتفاقيات استثمار\nوقعت مصر، الأحد، عددا من الاتفاقيات مع الشركات الصينية لتنفيذ مشروعات تنموية كبيرة.\nوأشار المتحدث إلى أن الاتفاقيات تشمل محطات للكهرباء ومصانع للمنسوجات في عدة محافظات.\n"
    leads = (
        "قررت الحكومة التونسية، السبت، زيادة أسعار المواد البترولية استجابة لتوصيات صندوق النقد.\n"
        "كشف الرئيس التركي، الأحد، أن بلاده ستبدأ باستخدام العملات المحلية في التبادل التجاري.\n"
        "أعلنت وزارة العدل السعودية، الإثنين، عن تلقي آلاف الطلبات لتنفيذ أحكام مالية جديدة.\n"
    )
    c = clean(head + leads, rules, "ar")
    assert [r for r, _ in removed(c)] == ["other_story_lead"] * 3
    # The same paragraphs told as the article's own story go on with "and".
    own = "".join("و" + line + "\n" for line in leads.splitlines())
    assert clean(head + own, rules, "ar").removed == []


# -- corpus-level boilerplate ----------------------------------------------------------------


def _docs(n: int, furniture: str) -> list[str]:
    return [f"Habari namba {i} kuhusu mji wa Kisumu\n{PARA} Taarifa ya {i} ina maneno yake mwenyewe.\n{furniture}\n" for i in range(n)]


def test_a_line_printed_in_several_documents_is_boilerplate(stages, rules) -> None:
    docs = _docs(4, "Fuatilia vipindi vyetu kila Jumamosi usiku")
    counts = stages.count_boilerplate_of(docs)
    c = clean(docs[0], rules, "sw", counts)
    assert removed(c) == [("boilerplate", "Fuatilia vipindi vyetu kila Jumamosi usiku")]
    assert c.removed[0].score == 4.0
    # In fewer documents than the threshold it stays.
    few = stages.count_boilerplate_of(docs[: rules.shapes.boilerplate_min_documents - 1])
    assert clean(docs[0], rules, "sw", few).removed == []


def test_a_recurring_sentence_of_prose_or_source_credit_is_not_boilerplate(stages, rules) -> None:
    background = "Mzozo huo umesababisha vifo vya zaidi ya watu elfu kumi tangu mwaka 2014."
    for furniture in (background, "(Sky Sports)"):
        docs = _docs(5, furniture)
        assert clean(docs[0], rules, "sw", stages.count_boilerplate_of(docs)).removed == [], furniture


def test_boilerplate_counts_do_not_depend_on_document_order(rules) -> None:
    docs = _docs(6, "Fuatilia vipindi vyetu kila Jumamosi usiku") + _docs(3, "Pakua programu yetu leo")
    counts = []
    for seed in (1, 2):
        shuffled = docs[:]
        random.Random(seed).shuffle(shuffled)
        counter = Counter()
        for d in shuffled:
            counter.add_document(segments_of(d, rules.shapes))
        counts.append(counter.result(2).counts)
    assert counts[0] == counts[1] and counts[0]


def test_boilerplate_counter_merges_its_blocks_exactly(monkeypatch) -> None:
    from parallel_corpus.stages.clean import boilerplate

    monkeypatch.setattr(boilerplate, "_BLOCK_KEYS", 3)  # merge after nearly every document
    counter = Counter()
    for i in range(20):
        counter.add_document([fold(f"unique {i}"), "shared line", "every other" if i % 2 else "odd one"])
    result = counter.result(2)
    assert result.documents("shared line") == 20 and result.documents("every other") == 10 and result.documents("odd one") == 10
    assert result.documents("unique 3") == 0


# -- the registry ----------------------------------------------------------------------------


def test_every_reason_the_cleaner_gives_is_registered(rules) -> None:
    text = f"Kichwa\n.\n{PARA} TUAMBIE SIMULIZI YAKO: Je, bei zimekuathiri vipi? (Mvua kubwa yaharibu mashamba ya wakulima) Unaweza kusoma\n"
    for d in explain(text, rules, "sw"):
        assert d.kept or d.reason in REMOVAL_REASONS


def test_a_pattern_with_an_unknown_reason_is_refused() -> None:
    with pytest.raises(ValueError, match=r"cleaning.yaml:-:patterns.0.reason: 'spam' is not a reason code: use one of bare_url, "):
        CleaningRules.from_mapping({"patterns": [{"reason": "spam", "regex": "x"}]})


def test_an_unknown_shape_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="shapes: unknown key"):
        CleaningRules.from_mapping({"shapes": {"boilerplate_min_docs": 2}})


def test_the_curating_page_and_the_card_list_every_reason_code(tmp_path) -> None:
    import re

    from conftest import REPO
    from parallel_corpus.release.card import _cleaning

    page = (REPO / "docs" / "curating.md").read_text(encoding="utf-8")
    section = page[page.index("## Cleaning") : page.index("## Language tagging")]
    listed = set(re.findall(r"^\| `([a-z_]+)`(?: / `([a-z_]+)`|, `([a-z_]+)`)? \|", section, re.M))
    codes = {c for row in listed for c in row if c}
    assert codes == set(REMOVAL_REASONS)
    card = _cleaning({"removed_lines_by_reason": {"promo": 2}})
    assert all(f"`{code}`" in card for code in REMOVAL_REASONS)


def test_explain_command_shows_reason_and_score(tmp_path) -> None:
    from click.testing import CliRunner

    from conftest import CORPUS
    from parallel_corpus.cli.commands import main

    article = tmp_path / "article.txt"
    article.write_text(f"Kichwa cha habari\n{PARA} Nchi hizo zimekubaliana kushirikiana zaidi Unaweza kusoma\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", str(article), "--corpus", str(CORPUS), "--language", "sw"])
    assert result.exit_code == 0, result.output
    assert "removed  pointer_stub     Unaweza kusoma" in result.output and "  kept     " in result.output
    missing = CliRunner().invoke(main, ["explain", str(tmp_path / "nope.txt"), "--corpus", str(CORPUS)])
    assert missing.exit_code == 1 and "nope.txt" in missing.output
