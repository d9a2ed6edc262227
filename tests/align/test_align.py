"""Catalog assignment on the seeds, clustering without a catalog, linear pairs, metrics."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from parallel_corpus.align import assign_topics, load_catalog, make_pairs
from parallel_corpus.records import Assignment
from parallel_corpus.stages.signature import signature
from parallel_corpus.text.keys import name_keys, number_keys, skeleton
from parallel_corpus.stages.dates import load_calendar
from parallel_corpus.stages.entities import load_gazetteer
from parallel_corpus.align.evaluate import bcubed_scores, evaluate_alignment, pairwise_scores, read_gold
from parallel_corpus.schema import load_schema

from conftest import load_script

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
EXTERNAL = Path(__file__).resolve().parents[3] / "shared" / "external"
SEED_LANGUAGE = {"000": "sw", "001": "hi", "002": "sw", "003": "ar", "004": "ar"}
# What the catalog says of each seed (topic, event).
EXPECTED = {
    "000": ("un-sg-russia-talks", "brics-kazan-2024-10"),
    "001": ("un-sg-russia-talks", "un-sg-moscow-2021-05"),
    "002": ("putin-biden-call-2021-12", "putin-biden-call-2021-12-30"),
    "003": ("un-sg-russia-talks", "un-sg-moscow-2022-04"),
    "004": ("un-sg-russia-talks", "un-sg-moscow-2022-04"),
}
# NTREX figure reached by scripts/measure-ntrex-alignment (pairwise F1 1.000,
# B-cubed F1 1.000); the test allows a small margin.
NTREX_PAIRWISE_F1 = 1.0
NTREX_MARGIN = 0.05


def _seed_rows() -> list[dict]:
    """Seed documents as the build would hand them over, with a trivial cleaner:
    non-empty lines that hold a letter, joined by blank lines; no publication
    date, since the catalog must place the seeds from their text alone."""
    rows = []
    for path in sorted((CORPUS / "raw").glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
        text = "\n\n".join(ln for ln in lines if any(c.isalpha() for c in ln))
        rows.append({"id": path.stem, "language": SEED_LANGUAGE[path.name[:3]], "text": text, "published": None})
    return rows


@pytest.fixture(scope="module")
def seed_signatures() -> list[dict]:
    gazetteer = load_gazetteer(CORPUS)
    calendar = load_calendar(CORPUS)
    return [
        signature(r, gazetteer.find(r["text"], r["language"]), calendar.find_dates(r["text"], r["language"]))
        for r in _seed_rows()
    ]


def test_seeds_assigned_as_the_catalog_says(seed_signatures: list[dict]) -> None:
    catalog = load_catalog(CORPUS)
    assert catalog is not None
    result = assign_topics(seed_signatures, catalog)
    got = {doc_id[:3]: (a.topic_id, a.event_id) for doc_id, a in result.items()}
    assert got == EXPECTED
    for a in result.values():
        assert a.topic_source == "catalog" and 0 < a.score <= 1
        assert "Q311440" in a.evidence or "Q6279" in a.evidence


def test_publication_date_outside_the_window_refuses_the_topic(seed_signatures: list[dict]) -> None:
    catalog = load_catalog(CORPUS)
    moved = [dict(s, published=dt.date(2019, 1, 1)) if s["id"].startswith("002") else s for s in seed_signatures]
    result = assign_topics(moved, catalog)
    assert result[next(s["id"] for s in moved if s["id"].startswith("002"))].topic_source == "cluster"


def test_without_catalog_everything_is_clustered_deterministically(seed_signatures: list[dict], tmp_path: Path) -> None:
    assert load_catalog(tmp_path) is None
    first = assign_topics(seed_signatures, None)
    shuffled = list(seed_signatures)
    random.Random(7).shuffle(shuffled)
    assert assign_topics(shuffled, None) == first
    assert {a.topic_source for a in first.values()} == {"cluster"}
    by_prefix = {k[:3]: a.topic_id for k, a in first.items()}
    # The two Arabic reports of the April 2022 visit belong together.
    assert by_prefix["003"] == by_prefix["004"]
    assert all(a.topic_id.startswith("cluster-") and a.topic_title for a in first.values())


def test_clusters_separate_unrelated_stories() -> None:
    """Three stories, each in three scripts, with no gazetteer entity at all."""
    stories = {
        "quake": [
            ("sw", "Tetemeko la ardhi Sulawesi: watu 832 wamefariki mjini Palu, alisema Sutopo Nugroho."),
            ("hi", "सुलावेसी भूकंप: पालू में 832 लोगों की मौत, सुतोपो नुगरोहो ने कहा।"),
            ("ar", "زلزال سولاويسي: مقتل 832 شخصا في بالو، قال سوتوبو نوجروهو."),
        ],
        "vote": [
            ("sw", "Kura ya maoni Macedonia: asilimia 36 walipiga kura, alisema Zoran Zaev mjini Skopje."),
            ("hi", "मैसेडोनिया जनमत संग्रह: 36 प्रतिशत मतदान, ज़ोरान ज़ाएव ने स्कोप्जे में कहा।"),
            ("ar", "استفتاء مقدونيا: نسبة المشاركة 36 بالمئة، قال زوران زاييف في سكوبيي."),
        ],
        "storm": [
            ("sw", "Kimbunga Rosa kuleta mvua Arizona na Phoenix; inchi 4 za mvua, alisema Ryan Maue."),
            ("hi", "तूफ़ान रोज़ा एरिज़ोना और फ़ीनिक्स में बारिश लाएगा; राएन माउ ने कहा।"),
            ("ar", "الإعصار روزا يجلب الأمطار إلى أريزونا وفينيكس، قال رايان ماو."),
        ],
    }
    sigs, gold = [], {}
    for story, docs in stories.items():
        for lang, text in docs:
            doc_id = f"{lang}-{story}"
            sigs.append(signature({"id": doc_id, "language": lang, "text": text}, [], []))
            gold[doc_id] = story
    result = assign_topics(sigs, None)
    predicted = {k: a.topic_id for k, a in result.items()}
    assert evaluate_alignment(predicted, gold)["pairwise"]["f1"] == 1.0


def test_cross_script_keys() -> None:
    assert skeleton("Trump") == skeleton("ट्रम्प") == skeleton("ترامب") == "TRMB"
    assert skeleton("Nugroho") == skeleton("नुगरोहो") == skeleton("نوجروهو")
    assert number_keys("watu 380,000 na 7.5") == number_keys("380٬000 و ٧٫٥") == ["n:380000", "n:7.5"]
    assert "n:2022" in number_keys("२०२२ में")
    # Latin script: capitalised words inside a sentence only.
    assert name_keys("Watu wengi. Alisema Sutopo Nugroho leo", "sw") == sorted({"w:" + skeleton("Sutopo"), "w:" + skeleton("Nugroho")})


def _toy(n_topics: int, per_topic: int) -> tuple[dict[str, Assignment], list[dict], dict[str, str]]:
    assignments, sigs, split_of = {}, [], {}
    for t in range(n_topics):
        topic = f"t{t:03d}"
        split_of[topic] = ("train", "validation", "test")[t % 3]
        for d in range(per_topic):
            doc_id = f"{topic}-d{d:03d}"
            sigs.append({"id": doc_id, "language": ("sw", "hi", "ar")[d % 3], "entities": [f"Q{t + 1}"], "dates": [], "keys": [f"n:{t}{d}"]})
            assignments[doc_id] = Assignment(topic, topic, None, "cluster", 1.0, ())
    return assignments, sigs, split_of


def test_pairs_are_linear_bounded_and_never_cross_splits() -> None:
    assignments, sigs, split_of = _toy(n_topics=30, per_topic=20)
    k, cross_k = 3, 2
    rows = make_pairs(assignments, sigs, split_of, k=k, cross_k=cross_k, seed=13)
    n_docs = len(sigs)
    assert len(rows) <= n_docs * (k + cross_k)
    drawn_in_topic: Counter[str] = Counter()
    schema = load_schema("pairs")
    for row in rows:
        jsonschema.validate(row, schema)
        assert split_of[row["topic_id_1"]] == split_of[row["topic_id_2"]] == row["split"]
        assert row["id_1"] < row["id_2"]
        assert row["same_topic"] == (row["topic_id_1"] == row["topic_id_2"])
        assert row["num_raters"] == 0 and row["overall"] is None
        if row["same_topic"]:
            drawn_in_topic[row["id_1"]] += 1
            drawn_in_topic[row["id_2"]] += 1
    # No document has more than k in-topic partners (DESIGN: pairs stay linear).
    assert max(drawn_in_topic.values()) <= k
    assert min(drawn_in_topic.values()) >= k - 1
    per_topic_rows = Counter(r["topic_id_1"] for r in rows if r["same_topic"])
    assert max(per_topic_rows.values()) <= 20 * k / 2
    assert any(not r["same_topic"] for r in rows)
    assert len({r["pair_id"] for r in rows}) == len(rows)
    assert make_pairs(assignments, list(reversed(sigs)), split_of, k=k, cross_k=cross_k, seed=13) == rows
    assert make_pairs(assignments, sigs, split_of, k=k, cross_k=cross_k, seed=14) != rows


def test_pairs_with_k_zero_and_a_lone_topic() -> None:
    assignments, sigs, split_of = _toy(n_topics=1, per_topic=5)
    assert make_pairs(assignments, sigs, split_of, k=0, cross_k=3, seed=1) == []
    rows = make_pairs(assignments, sigs, split_of, k=10, cross_k=0, seed=1)
    assert len(rows) == 10  # 5 documents: all 10 pairs, no more


# --- evaluation, by hand ------------------------------------------------------


def test_pairwise_by_hand() -> None:
    gold = {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y", "e": "y"}
    # Predicted pairs: ab, cd, ce, de (4); gold pairs: ab, ac, bc, de (4); shared: ab, de.
    s = pairwise_scores(predicted, gold)
    assert (s["precision"], s["recall"]) == (0.5, 0.5)
    assert s["f1"] == pytest.approx(0.5)


def test_bcubed_by_hand() -> None:
    gold = {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y", "e": "y"}
    # Precision per doc: a 2/2, b 2/2, c 1/3, d 2/3, e 2/3 -> 16/3 / 5 = 16/15... /5
    # = (1 + 1 + 1/3 + 2/3 + 2/3) / 5 = 11/15.
    # Recall per doc: a 2/3, b 2/3, c 1/3, d 2/2, e 2/2 -> (2/3+2/3+1/3+1+1)/5 = 11/15.
    s = bcubed_scores(predicted, gold)
    assert s["precision"] == pytest.approx(11 / 15)
    assert s["recall"] == pytest.approx(11 / 15)


def test_perfect_and_degenerate_groupings() -> None:
    gold = {"a": 1, "b": 1, "c": 2}
    assert evaluate_alignment({"a": "p", "b": "p", "c": "q"}, gold)["pairwise"]["f1"] == 1.0
    singletons = evaluate_alignment({"a": 1, "b": 2, "c": 3}, gold)
    # No predicted pair while gold has some: precision counts as 0, not a free 1.
    assert singletons["pairwise"]["precision"] == 0.0 and singletons["pairwise"]["recall"] == 0.0
    assert singletons["bcubed"]["precision"] == 1.0
    assert singletons["bcubed"]["recall"] == pytest.approx((0.5 + 0.5 + 1) / 3)
    report = evaluate_alignment({"a": 1, "z": 1}, gold)
    assert (report["documents"], report["missing_in_predicted"], report["not_in_gold"]) == (1, 2, 1)


def test_read_gold_json_and_tsv(tmp_path: Path) -> None:
    (tmp_path / "g.json").write_text('{"a": "s1", "b": "s1"}', encoding="utf-8")
    (tmp_path / "g2.json").write_text('[{"id": "a", "topic_id": "s1"}]', encoding="utf-8")
    (tmp_path / "g.tsv").write_text("doc_id\tgroup\na\ts1\nb\ts2\n", encoding="utf-8")
    assert read_gold(tmp_path / "g.json") == {"a": "s1", "b": "s1"}
    assert read_gold(tmp_path / "g2.json") == {"a": "s1"}
    assert read_gold(tmp_path / "g.tsv") == {"a": "s1", "b": "s2"}
    (tmp_path / "bad.tsv").write_text("a\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.tsv:1"):
        read_gold(tmp_path / "bad.tsv")


# --- NTREX: the same 20 stories in sw, hi, ar; no catalog --------------------


def _measure_script():
    return load_script("measure-ntrex-alignment")


@pytest.mark.skipif(
    not (EXTERNAL / "news" / "parallel" / "ntrex-DOCUMENT_IDS.tsv").exists(),
    reason=f"NTREX files not found under {EXTERNAL}/news/parallel (../shared/external is absent)",
)
def test_ntrex_alignment_without_catalog() -> None:
    report = _measure_script().measure(EXTERNAL)
    # 20 stories; two outlets' reports of the Sulawesi earthquake are one event.
    assert report["documents"] == 60 and report["gold_groups"] == 19
    assert report["pairwise"]["f1"] >= NTREX_PAIRWISE_F1 - NTREX_MARGIN
    assert report["bcubed"]["f1"] >= NTREX_PAIRWISE_F1 - NTREX_MARGIN
    # Without our gazetteer at all, names and numbers alone still carry it.
    bare = _measure_script().measure(EXTERNAL, use_gazetteer=False)
    assert bare["pairwise"]["f1"] >= 0.95


def test_topics_yaml_entities_exist_in_gazetteer() -> None:
    catalog = load_catalog(CORPUS)
    qids = {e.key for e in load_gazetteer(CORPUS).entities}
    for topic in catalog.topics:
        assert set(topic.entities) <= qids
        for event in topic.events:
            assert set(event.entities) <= qids
            assert topic.start <= event.start <= event.end


# -- events and topics ---------------------------------------------------------

# Words every document of the small corpora below uses: too common to weigh.
_COMMON = "the news said on this day that people were told about it and more"


def _doc(doc_id: str, words: str, published: str | None = None, language: str = "en") -> dict:
    return {"id": doc_id, "language": language, "text": f"{_COMMON} {words}.", "published": published}


def _filler(n: int) -> list[dict]:
    """Unrelated documents, each with words of its own, so that word rarity means something."""
    return [_doc(f"z{i:02d}", f"filler{i} topic{i} matter{i} subject{i}") for i in range(n)]


def test_an_event_is_bounded_by_dates_and_a_topic_is_not() -> None:
    """One storyline in two bursts a month apart: two events, one topic."""
    story = "ferry capsized near Mkokotoni harbour rescuers divers passengers Zanzibar"
    docs = [
        _doc("a1", story + " first", "2024-01-10"),
        _doc("a2", story + " second", "2024-01-11"),
        _doc("a3", story + " third", "2024-01-12"),
        _doc("b1", story + " inquiry ministry blames the operator", "2024-02-20"),
        _doc("b2", story + " inquiry ministry blames the operator", "2024-02-21"),
    ] + _filler(20)
    sigs = [signature(d, [], []) for d in docs]
    got = assign_topics(sigs, None)
    events = {doc: got[doc].event_id for doc in ("a1", "a2", "a3", "b1", "b2")}
    assert events["a1"] == events["a2"] == events["a3"] != events["b1"] == events["b2"]
    assert all(e.startswith("event-") for e in events.values())
    assert len({got[doc].topic_id for doc in events}) == 1
    # Without dates the five are one event: nothing holds them apart.
    undated = assign_topics([signature(dict(d, published=None), [], []) for d in docs], None)
    assert len({undated[doc].event_id for doc in events}) == 1
    # Unrelated documents are topics of their own.
    assert len({got[f"z{i:02d}"].topic_id for i in range(20)}) == 20
    assert got["z00"].topic_id not in {got["a1"].topic_id}


def test_common_words_never_join_two_documents() -> None:
    """Two documents that share only words most documents use stay apart,
    however many of those words they share."""
    docs = [_doc("x1", "alpha"), _doc("x2", "beta")] + _filler(20)
    got = assign_topics([signature(d, [], []) for d in docs], None)
    assert got["x1"].topic_id != got["x2"].topic_id
    # Sharing rare words of their own joins them.
    docs = [_doc("x1", "alpha Mkokotoni Zanzibar ferry"), _doc("x2", "beta Mkokotoni Zanzibar ferry")] + _filler(20)
    got = assign_topics([signature(d, [], []) for d in docs], None)
    assert got["x1"].topic_id == got["x2"].topic_id


def test_one_shared_key_across_scripts_is_no_evidence() -> None:
    """Across languages only cross-script keys count, and one in common is not
    enough: two stories that both name the EU are not one story."""

    def sig(doc_id: str, language: str, entities: list[str], keys: list[str]) -> dict:
        return {"id": doc_id, "language": language, "published": None, "entities": entities, "dates": [], "keys": keys, "terms": {}, "labels": {}}

    filler = [sig(f"f{i:02d}", "sw", [f"Q9{i:02d}"], [f"n:{1000 + i}"]) for i in range(20)]
    one = [sig("sw-1", "sw", ["Q458"], ["n:5501"]), sig("ar-1", "ar", ["Q458"], ["n:7702"])]
    got = assign_topics(one + filler + [sig("sw-x", "sw", ["Q458"], []), sig("ar-x", "ar", [], ["n:5501"])], None)
    assert got["sw-1"].topic_id != got["ar-1"].topic_id
    two = [sig("sw-1", "sw", ["Q458"], ["n:5501"]), sig("ar-1", "ar", ["Q458"], ["n:5501"])]
    got = assign_topics(two + filler + [sig("sw-x", "sw", ["Q458"], []), sig("ar-x", "ar", [], ["n:5501"])], None)
    assert got["sw-1"].topic_id == got["ar-1"].topic_id


def test_clustering_parameters_come_from_yaml(tmp_path: Path) -> None:
    from parallel_corpus.align import ClusterParams
    from parallel_corpus.corpus import CorpusError

    default = ClusterParams.default()
    assert ClusterParams.load(tmp_path) == default
    (tmp_path / "alignment.yaml").write_text("threshold: 0.5\nevent_days: 10\n", encoding="utf-8")
    mine = ClusterParams.load(tmp_path)
    assert (mine.threshold, mine.event_days, mine.neighbours) == (0.5, 10, default.neighbours)
    for bad, field in (("threshold: high\n", "threshold"), ("neighbours: 100000000\n", "neighbours"), ("thresold: 0.2\n", "thresold")):
        (tmp_path / "alignment.yaml").write_text(bad, encoding="utf-8")
        with pytest.raises(CorpusError) as caught:
            ClusterParams.load(tmp_path)
        message = str(caught.value)
        assert "alignment.yaml" in message and field in message and "\n" not in message
