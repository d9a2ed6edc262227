"""Compact signatures (parallel_corpus.signatures) and the whole-corpus steps
that read them: what the store keeps, what it may drop, and that dropping it
changes no topic and no pair."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
import itertools
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from parallel_corpus.align import ClusterParams, assign_topics, make_pairs, pair_columns, pair_rows, plan_pairs, weighted_keys
from parallel_corpus.corpus import Corpus
from parallel_corpus.stages.document import Stages, process_with_signature
from parallel_corpus.stages.signature import pack, unpack
from parallel_corpus.align.store import SignatureStore
from parallel_corpus.align.splits import assign_splits
from synthetic import make_corpus


def _sig(doc_id: str, language: str = "sw", entities=(), dates=(), keys=(), labels=None, published=None) -> dict:
    return {"id": doc_id, "language": language, "published": published, "entities": list(entities), "dates": list(dates), "keys": list(keys), "labels": labels or {}}


@pytest.fixture(scope="module")
def synthetic_signatures(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """Signatures of a 150-document synthetic corpus, as the build makes them."""
    folder = tmp_path_factory.mktemp("sigs") / "corpus"
    make_corpus(150, folder, seed=5)
    corpus = Corpus(folder)
    stages = Stages.load(folder, int(corpus.dataset()["seed"]))
    return [process_with_signature(s, stages)[1] for s in sorted(corpus.sources(), key=lambda s: s.id)]


def test_the_store_gives_back_entities_dates_published_and_labels() -> None:
    store = SignatureStore()
    store.add(_sig("b", "hi", ["Q2", "Q1"], ["2022-04-26"], ["w:GTRS", "n:2022"], {"Q1": "Guterres", "Q2": "Putin", "w:GTRS": "गुटेरेस"}, dt.date(2022, 4, 26)))
    store.add(_sig("c", "ar", ["Q1"], [], ["w:GTRS"], {"Q1": "Guterres", "w:GTRS": "غوتيريش"}))
    assert store.ids == ["b", "c"] and store.index == {"b": 0, "c": 1}
    assert store.entities(0) == ["Q1", "Q2"] and store.dates(0) == ["2022-04-26"] and store.entities(1) == ["Q1"]
    assert store.published_date(0) == dt.date(2022, 4, 26) and store.published_date(1) is None
    assert dict(store.labels(0)) == {"e:Q1": "Guterres", "e:Q2": "Putin", "w:GTRS": "गुटेरेस"}
    assert dict(store.labels(1)) == {"e:Q1": "Guterres", "w:GTRS": "غوتيريش"}
    assert store.df[store.vocab["w:GTRS"]] == 2 and store.df[store.vocab["n:2022"]] == 1
    # Met in Devanagari and Arabic: a transliterated name, not a word of one language.
    assert store.multi_script[store.vocab["w:GTRS"]] == 1
    with pytest.raises(ValueError, match="duplicate document id"):
        store.add(_sig("b"))


def test_a_key_past_max_df_is_counted_but_no_longer_stored() -> None:
    store = SignatureStore(max_df=2)
    for i in range(4):
        store.add(_sig(f"d{i}", entities=["Q1"], keys=["w:KMN", f"n:{i}"]))
    common = store.vocab["w:KMN"]
    assert store.df[common] == 4
    assert [common in store.doc_keys(d) for d in range(4)] == [True, True, False, False]
    # Entities are kept whatever their frequency: the catalog matches on them.
    assert all(store.entities(d) == ["Q1"] for d in range(4))


def test_an_entity_label_that_differs_from_the_first_is_kept_for_its_document() -> None:
    store = SignatureStore()
    store.add(_sig("a", entities=["Q1"], labels={"Q1": "Guterres"}))
    store.add(_sig("b", entities=["Q1"], labels={"Q1": "António Guterres"}))
    assert dict(store.labels(0))["e:Q1"] == "Guterres"
    assert dict(store.labels(1))["e:Q1"] == "António Guterres"


def test_dropping_keys_past_max_df_changes_no_topic_and_no_pair(synthetic_signatures: list[dict]) -> None:
    """The store drops what can never weigh; keeping everything must give the
    same topics, titles, scores and pair similarities."""
    pruned = SignatureStore.of(synthetic_signatures, max_df=200)
    kept = SignatureStore.of(synthetic_signatures, max_df=10**9)
    assert len(pruned.key_ids) <= len(kept.key_ids)
    small = SignatureStore.of(synthetic_signatures, max_df=3)
    assert len(small.key_ids) < len(kept.key_ids)
    topics = assign_topics(kept, None)
    assert assign_topics(pruned, None) == topics
    with pytest.raises(ValueError, match="make the store with max_df >= 200"):
        assign_topics(small, None)
    assert assign_topics(small, None, replace(ClusterParams.default(), max_df=3)) == assign_topics(synthetic_signatures, None, replace(ClusterParams.default(), max_df=3))
    split_of_topic = assign_splits({a.topic_id for a in topics.values()}, {"train": 0.8, "validation": 0.1, "test": 0.1}, 1)
    assert make_pairs(topics, pruned, split_of_topic, k=4, cross_k=2, seed=9) == make_pairs(topics, kept, split_of_topic, k=4, cross_k=2, seed=9)


def test_topics_do_not_depend_on_the_order_signatures_come_in(synthetic_signatures: list[dict]) -> None:
    shuffled = list(synthetic_signatures)
    random.Random(3).shuffle(shuffled)
    assert assign_topics(shuffled, None) == assign_topics(synthetic_signatures, None)


def test_pairs_come_in_row_groups_of_any_size_with_the_same_rows(synthetic_signatures: list[dict]) -> None:
    store = SignatureStore.of(synthetic_signatures)
    topics = assign_topics(store, None)
    split_of_topic = assign_splits({a.topic_id for a in topics.values()}, {"train": 0.8, "validation": 0.1, "test": 0.1}, 1)
    plan = plan_pairs(topics, store, split_of_topic, k=6, cross_k=2, seed=4)
    weighted = weighted_keys(store)
    for split, planned in plan.items():
        whole = [r for columns in pair_columns(planned, store, weighted, topics, split) for r in pair_rows(columns)]
        in_threes = [pair_rows(columns) for columns in pair_columns(planned, store, weighted, topics, split, rows_at_once=3)]
        assert all(len(rows) <= 3 for rows in in_threes)
        assert [r for rows in in_threes for r in rows] == whole
        assert [r["pair_id"] for r in whole] == sorted(r["pair_id"] for r in whole)
        assert all(r["split"] == split and 0.0 <= r["similarity"] <= 1.0 for r in whole)
        # Documents of one story are more alike than documents of two.
        same = [r["similarity"] for r in whole if r["same_topic"]]
        other = [r["similarity"] for r in whole if not r["same_topic"]]
        if same and other:
            assert sum(same) / len(same) > sum(other) / len(other)


def test_parallel_made_bucket_by_bucket_equals_parallel_made_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny text budget makes one bucket of topics after another; `parallel`
    must be the same, and row groups of any size hold the same rows."""
    import parallel_corpus.engine.build as build_module
    import parallel_corpus.engine.writers as writers_module

    folder = tmp_path / "corpus"
    make_corpus(80, folder, seed=2)
    build_module.build(folder, tmp_path / "whole", annotations_dir=None, log=lambda m: None)
    monkeypatch.setattr(build_module, "PARALLEL_TEXT_BUDGET", 20_000)
    build_module.build(folder, tmp_path / "buckets", annotations_dir=None, log=lambda m: None)
    whole_files = sorted((tmp_path / "whole" / "data" / "parallel").glob("*.parquet"))
    assert whole_files
    for path in whole_files:
        # Row groups hold a fixed number of topics, so even the bytes agree.
        assert (tmp_path / "buckets" / "data" / "parallel" / path.name).read_bytes() == path.read_bytes()
    monkeypatch.setattr(writers_module, "PARALLEL_ROWS", 3)
    build_module.build(folder, tmp_path / "small-groups", annotations_dir=None, log=lambda m: None)
    train = pq.ParquetFile(tmp_path / "small-groups" / "data" / "parallel" / "train-00000-of-00001.parquet")
    assert train.metadata.num_row_groups > 1 and train.metadata.row_group(0).num_rows == 3
    assert train.read().to_pylist() == pq.read_table(tmp_path / "whole" / "data" / "parallel" / "train-00000-of-00001.parquet").to_pylist()


def test_documents_are_written_in_row_groups_of_exactly_a_thousand(tmp_path: Path) -> None:
    import pyarrow as pa

    from parallel_corpus.engine.writers import SplitWriter

    arrow_schema = pa.schema([("id", pa.string()), ("n", pa.int64())])
    with SplitWriter(tmp_path, arrow_schema) as writer:
        n = 0
        for size in (7, 993, 250, 1, 749, 500):
            writer.add("train", pa.RecordBatch.from_pylist([{"id": f"d{n + i}", "n": n + i} for i in range(size)], schema=arrow_schema))
            n += size
    file = pq.ParquetFile(tmp_path / "train-00000-of-00001.parquet")
    assert [file.metadata.row_group(i).num_rows for i in range(file.metadata.num_row_groups)] == [1000, 1000, 500]
    assert file.read().column("n").to_pylist() == list(range(2500))


@pytest.mark.parametrize("threads", [1, 3])
def test_each_document_keeps_exactly_its_best_links_ties_to_the_lower_index(threads: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The candidate graph picks each document's `neighbours` best links
    from sparse products, without sorting all of them: it must keep the same
    links, in the same order and to the last bit, as the pairwise
    `similarities` of every document that shares a key. Few keys shared by
    many documents give rows far longer than `neighbours` and many ties;
    three languages with words of their own and entities in common bring in
    the cosine across languages and its count of shared keys. Blocks of 16
    documents, worked on by one thread or three, give the same links."""
    import numpy as np

    from parallel_corpus.align import graph
    from parallel_corpus.align.cluster import similarities
    from parallel_corpus.align.graph import candidate_graph

    monkeypatch.setattr(graph, "_BLOCK", 16)

    rng = random.Random(3)
    store = SignatureStore()
    for d in range(300):
        language = ("sw", "hi", "ar")[d % 3]
        terms = {f"t:{language}:w{rng.randrange(4)}": 1 for _ in range(rng.randrange(0, 2))}
        sig = _sig(f"d{d:03}", language, entities=[f"Q{rng.randrange(12)}" for _ in range(rng.randrange(1, 4))], keys=[f"n:{rng.randrange(6)}"])
        store.add({**sig, "terms": terms})
    params = replace(ClusterParams.default(), neighbours=4, across_min_shared=2)
    weighted = weighted_keys(store, params)
    # The threshold only decides which rows can skip their weak links (at
    # 0.75 some rows have fewer than 4 links that strong, at 0.1 none): the
    # links kept must not depend on it.
    for subset, threshold in itertools.product((list(range(len(store))), list(range(0, len(store), 2))), (0.1, 0.75)):
        params = replace(params, threshold=threshold)
        links = candidate_graph(subset, weighted, params, threads)
        expected: dict[tuple[int, int], float] = {}
        keys_of = [set(weighted.keys[weighted.start[d] : weighted.start[d + 1]].tolist()) for d in subset]
        ties_at_the_cut = 0
        for a in range(len(subset)):
            shared = [b for b in range(len(subset)) if b != a and keys_of[a] & keys_of[b]]
            sims = similarities(weighted, np.full(len(shared), subset[a]), np.array([subset[b] for b in shared], dtype=np.int64))
            # A pair across languages with too few keys in common is no link.
            ranked = sorted((-s, b) for s, b in zip(sims.tolist(), shared) if s > 0)
            k = params.neighbours
            ties_at_the_cut += len(ranked) > k and ranked[k - 1][0] == ranked[k][0]
            for s, b in ranked[:k]:
                expected[(min(a, b), max(a, b))] = -s
        got = {(lo, hi): s for lo, hi, s in zip(links.lo.tolist(), links.hi.tolist(), links.s.tolist())}
        assert got == expected and len(got) == len(links.s)
        assert list(got) == sorted(got), "each link once, by (lo, hi)"
        assert ties_at_the_cut >= 10, "the fixture should tie many documents' k-th and next best links"
        across = sum(store.languages[subset[a]] != store.languages[subset[b]] for a, b in got)
        assert 0 < across < len(got), "links both within and across languages"


def test_a_cosine_is_the_same_bits_in_any_order_of_addition(synthetic_signatures: list[dict]) -> None:
    """Unit values sit on a grid of 2**-26, so every product and partial
    sum of a cosine is exact: forwards, backwards or with one rounding at
    the end (fsum, as a fused multiply-add would), the bits agree. Without
    the grid, sums of a few dozen products differ in their last bits by
    order, and a build on another processor could tip a tie."""
    import math

    import numpy as np

    from parallel_corpus.align.cluster import similarities

    store = SignatureStore.of(synthetic_signatures)
    weighted = weighted_keys(store, ClusterParams.default())
    rng = random.Random(11)
    checked = 0
    for _ in range(400):
        a, b = rng.sample(range(len(store)), 2)
        if weighted.language[a] != weighted.language[b]:
            continue
        ka = dict(zip(weighted.keys[weighted.start[a] : weighted.start[a + 1]].tolist(), weighted.unit[weighted.start[a] : weighted.start[a + 1]].tolist()))
        kb = dict(zip(weighted.keys[weighted.start[b] : weighted.start[b + 1]].tolist(), weighted.unit[weighted.start[b] : weighted.start[b + 1]].tolist()))
        products = [ka[k] * kb[k] for k in sorted(set(ka) & set(kb))]
        if len(products) < 3:
            continue
        forwards = sum(products)
        assert forwards == sum(reversed(products)) == math.fsum(products)
        assert min(1.0, forwards) == similarities(weighted, np.array([a]), np.array([b]))[0]
        checked += 1
    assert checked > 20


def test_titles_rank_shared_keys_by_members_then_weight_then_name(synthetic_signatures: list[dict]) -> None:
    """The titles of all topics are ranked in one NumPy pass; each must be
    what ranking that topic's keys alone, plainly, gives: keys that two
    members hold (where there are such), by how many members hold them,
    then weight, then name; the top 8 as evidence."""
    from collections import Counter

    from parallel_corpus.align.cluster import _cluster_titles, _key_text

    store = SignatureStore.of(synthetic_signatures)
    weighted = weighted_keys(store, ClusterParams.default())
    rng = random.Random(5)
    docs = list(range(len(store)))
    rng.shuffle(docs)
    # Random topics of 1 to 12 documents, singletons included.
    topics, at = [], 0
    while at < len(docs):
        size = rng.randrange(1, 13)
        topics.append(sorted(docs[at : at + size]))
        at += size
    got = _cluster_titles(store, topics, weighted)
    for members, (title, evidence) in zip(topics, got):
        held = Counter(k for d in members for k in weighted.keys[weighted.start[d] : weighted.start[d + 1]].tolist())
        if any(c >= 2 for c in held.values()):
            held = Counter({k: c for k, c in held.items() if c >= 2})
        ranked = sorted(held, key=lambda k: (-held[k], -weighted.weights[k], store.keys[k]))[:8]
        assert evidence == [_key_text(store.keys[k]) for k in ranked]
        assert title.startswith("[candidate] ") and len(title) > len("[candidate] ")
    assert sum(len(m) == 1 for m in topics) > 0 and sum(len(m) > 5 for m in topics) > 0


def _one_by_one(sigs: list[dict], max_df: int) -> dict:
    """What the store holds after these signatures, worked out document by
    document and key by key, as the definition says (`SignatureStore.add_many`):
    the oracle its array operations must match."""
    vocab: dict[str, int] = {}
    df: list[int] = []
    first_script: list[int] = []
    multi: list[int] = []
    scripts: dict[str, int] = {}
    key_ids: list[int] = []
    key_counts: list[int] = []
    key_start, entity_count, date_count, label_keys, label_values, label_start = [0], [], [], [], [], [0]
    label_names: dict[str, int] = {}
    entity_labels: dict[int, str] = {}
    exceptions: dict[int, dict[int, str]] = {}

    def key(name: str, script: int) -> int:
        if name not in vocab:
            vocab[name] = len(df)
            df.append(0)
            first_script.append(script)
            multi.append(0)
        k = vocab[name]
        if first_script[k] != script:
            multi[k] = 1
        return k

    for doc, sig in enumerate(sigs):
        script = scripts.setdefault(str(sig["language"])[:2], len(scripts))
        named = []
        for prefix, part in (("e:", "entities"), ("d:", "dates")):
            ks = [key(prefix + str(v), script) for v in sig.get(part) or ()]
            for k in ks:
                df[k] += 1
            named.append(sorted(set(ks)))
        rest: dict[int, int] = {}
        for name, count in [*((k, 1) for k in sig.get("keys") or ()), *(sig.get("terms") or {}).items()]:
            k = key(name, script)
            if k in rest:
                continue
            df[k] += 1
            rest[k] = min(count, 65535) if df[k] <= max_df else -1
        stored = sorted(k for k, c in rest.items() if c >= 0)
        key_ids += named[0] + named[1] + stored
        key_counts += [1] * (len(named[0]) + len(named[1])) + [rest[k] for k in stored]
        key_start.append(len(key_ids))
        entity_count.append(len(named[0]))
        date_count.append(len(named[1]))
        for name, label in (sig.get("labels") or {}).items():
            if name[:2] in ("w:", "n:", "d:", "t:"):
                if vocab.get(name) in stored:
                    label_keys.append(vocab[name])
                    label_values.append(label_names.setdefault(label, len(label_names)))
            elif "e:" + name in vocab:  # an entity met by now, in this document or before
                k = vocab["e:" + name]
                if entity_labels.setdefault(k, label) != label:
                    exceptions.setdefault(doc, {})[k] = label
        label_start.append(len(label_keys))
    return {
        "keys": sorted(vocab, key=vocab.__getitem__), "df": df, "multi_script": multi, "first_script": first_script, "key_start": key_start,
        "key_ids": key_ids, "key_counts": key_counts, "entity_count": entity_count, "date_count": date_count, "label_keys": label_keys,
        "label_values": label_values, "label_start": label_start, "label_names": list(label_names), "entity_labels": entity_labels,
        "exceptions": exceptions, "published": [s["published"].toordinal() if s["published"] else 0 for s in sigs],
        "languages": [s["language"] for s in sigs],
    }


def _held(store: SignatureStore) -> dict:
    return {
        "keys": store.keys, "df": list(store.df), "multi_script": list(store.multi_script), "first_script": list(store._first_script),
        "key_start": list(store.key_start), "key_ids": list(store.key_ids), "key_counts": list(store.key_counts),
        "entity_count": list(store.entity_count), "date_count": list(store.date_count), "label_keys": list(store.label_keys),
        "label_values": list(store.label_values), "label_start": list(store.label_start), "label_names": store.label_names,
        "entity_labels": store.entity_labels, "exceptions": store.entity_label_exceptions, "published": list(store.published),
        "languages": store.languages,
    }


@pytest.mark.parametrize("max_df", [1, 3, 200])
def test_signatures_added_in_runs_make_the_store_the_definition_says(max_df: int) -> None:
    # Keys recur within and across documents, scripts and runs; counts pass
    # 65,535; some documents hold nothing; the cut at max_df falls inside runs.
    rng = random.Random(max_df)
    sigs = []
    for d in range(120):
        language = rng.choice(["sw", "hi", "ar", "sw"])
        keys = [rng.choice(["n:1", "n:2", "w:GTRS", "w:PTN", f"w:X{d % 7}"]) for _ in range(rng.randrange(0, 6))]
        terms = {f"t:{language}:w{rng.randrange(9)}": rng.choice([1, 2, 70000]) for _ in range(rng.randrange(0, 5))}
        entities = sorted({f"Q{rng.randrange(6)}" for _ in range(rng.randrange(0, 3))})
        dates = sorted({f"2022-04-2{rng.randrange(3)}" for _ in range(rng.randrange(0, 2))})
        labels = {k: k.lower() for k in [*keys, *terms][:3]}
        # Entities' names, which documents may spell otherwise; and a name for
        # an entity the document does not hold (met before, or not yet).
        labels.update({q: rng.choice(["Guterres", "António Guterres"]) for q in [*entities, f"Q{rng.randrange(8)}"]})
        published = dt.date(2022, 4, 1 + d % 28) if d % 3 else None
        sigs.append({**_sig(f"d{d:03}", language, entities, dates, keys, labels, published), "terms": terms})
    expected = _one_by_one(sigs, max_df)
    assert any(c == 65535 for c in expected["key_counts"]), "a count past 65,535 should be met"
    if max_df < 200:
        assert any(df > max_df for df in expected["df"]), "the cut at max_df should be met"
    for run in (1, 7, 64, len(sigs)):
        store = SignatureStore(max_df)
        for i in range(0, len(sigs), run):
            store.add_many(sigs[i : i + run])
        assert _held(store) == expected, f"runs of {run}"
        assert [store.entities(d) for d in range(len(sigs))] == [s["entities"] for s in sigs]
    # Packed, as a build's workers and its cache hand them over; mixed with records.
    packed = [pack(s) if i % 3 else s for i, s in enumerate(sigs)]
    store = SignatureStore(max_df)
    for i in range(0, len(sigs), 7):
        store.add_many(packed[i : i + 7])
    assert _held(store) == expected


def test_a_packed_signature_gives_back_its_record(synthetic_signatures: list[dict]) -> None:
    for sig in synthetic_signatures[:40]:
        assert unpack(pack(sig)) == sig
    # A NUL inside a string (a label taken from the text) cannot split the
    # strings apart; no language, no date, and counts past what the store keeps.
    odd = {**_sig("x\0y", None, ["Q1"], [], ["w:A\0B"], {"w:A\0B": "a\0b", "Q1": "n\0"}), "terms": {"t:?:z": 70000, "t:?:\0": 1}}
    back = unpack(pack(odd))
    assert back == {**odd, "terms": {"t:?:z": 65535, "t:?:\0": 1}}
    store = SignatureStore()
    store.add_many([pack(odd)])
    assert store.ids == ["x\0y"] and store.languages == [None] and list(store.labels(0)) == [("e:Q1", "n\0"), ("w:A\0B", "a\0b")]


@pytest.mark.parametrize("bad", [b"", b"\x00" * 8, pack(_sig("c", keys=["w:X"]))[:30], pack(_sig("c", keys=["w:X"])).replace(b"w:X", b"\xff:X"), pack(_sig("c")) + b"\0more"])
def test_bytes_that_are_no_packed_signature_leave_the_store_as_it_was(bad: bytes) -> None:
    store = SignatureStore()
    store.add_many([_sig("0")])
    with pytest.raises(ValueError, match="not a packed signature"):
        store.add_many([pack(_sig("b")), bad])
    assert store.ids == ["0"]


def test_a_run_that_cannot_be_stored_leaves_the_store_as_it_was() -> None:
    store = SignatureStore()
    store.add_many([_sig("b", entities=["Q1"], keys=["w:GTRS"])])
    before = _held(store)
    for run in ([_sig("c", keys=["w:X"]), _sig("a")], [_sig("c"), _sig("c")], [_sig("d"), {**_sig("e"), "terms": {"t:sw:x": "many"}}]):
        with pytest.raises(ValueError):
            store.add_many(run)
        assert _held(store) == before and store.ids == ["b"]
    store.add_many([_sig("c"), _sig("d")])  # documents without any key
    assert store.ids == ["b", "c", "d"] and list(store.key_start) == [0, 2, 2, 2]
