"""The signature store beside the build's driver (`engine.aligner`): a real
forked process fed as pass one reads gives the topics and `pairs` of the
store built in the driver; its errors are raised in the driver as its own;
a child that dies is named with its exit code; and a driver that fails
ends it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from parallel_corpus.align import ClusterParams
from parallel_corpus.corpus import Corpus
from parallel_corpus.engine.aligner import aligner
from parallel_corpus.engine.beside import can_fork
from parallel_corpus.engine.writers import write_pairs
from parallel_corpus.stages.document import Stages, process_with_signature
from parallel_corpus.stages.signature import pack
from synthetic import make_corpus

pytestmark = pytest.mark.skipif(not can_fork(2), reason="the store goes beside the driver only where it can fork (Linux)")


@pytest.fixture(scope="module")
def corpus_and_signatures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[bytes]]:
    """A 120-document synthetic corpus and its packed signatures, in id order."""
    folder = tmp_path_factory.mktemp("aligner") / "corpus"
    make_corpus(120, folder, seed=3)
    corpus = Corpus(folder)
    stages = Stages.load(folder, int(corpus.dataset()["seed"]))
    return folder, [pack(process_with_signature(s, stages)[1]) for s in sorted(corpus.sources(), key=lambda s: s.id)]


def _aligned(folder: Path, signatures: list[bytes], forked: bool, out: Path) -> tuple[dict, list]:
    params = ClusterParams.load(folder)
    dataset = Corpus(folder).dataset()
    (out / "data" / "pairs").mkdir(parents=True)
    with aligner(params.max_df, forked, write_pairs) as store:
        for start in range(0, len(signatures), 7):
            store.add_many(signatures[start : start + 7])
        assignments = store.align(folder, None, params)
        split_of_topic = {a.topic_id: "train" for a in assignments.values()}
        store.write_pairs(out, split_of_topic, dataset, None, params, assignments)
        store.wait()
        assert store.pid is None
    return assignments, sorted((p.name, pq.read_table(p).to_pylist()) for p in (out / "data" / "pairs").iterdir())


def test_the_store_beside_the_driver_gives_the_topics_and_pairs_of_the_one_in_it(corpus_and_signatures, tmp_path: Path) -> None:
    folder, signatures = corpus_and_signatures
    here = _aligned(folder, signatures, False, tmp_path / "here")
    beside = _aligned(folder, signatures, True, tmp_path / "beside")
    assert len({a.topic_id for a in here[0].values()}) > 1
    assert here[1] and here[1][0][1]
    assert beside == here


def test_signatures_the_child_cannot_read_raise_their_error_in_the_driver(corpus_and_signatures) -> None:
    folder, signatures = corpus_and_signatures
    with aligner(200, True, write_pairs) as store:
        store.add_many(signatures[:3])
        store.add_many([b"not a signature"])
        with pytest.raises(ValueError, match="not a packed signature"):
            store.align(folder, None, ClusterParams.load(folder))
        assert store.pid is None


def test_a_child_that_dies_is_an_error_naming_its_exit_code(corpus_and_signatures) -> None:
    folder, signatures = corpus_and_signatures
    with aligner(200, True, write_pairs) as store:
        store.add_many(signatures[:3])
        os.kill(store.pid, 9)
        with pytest.raises(RuntimeError, match="exit code -9"):
            store.align(folder, None, ClusterParams.load(folder))


def test_a_failing_driver_ends_the_child(corpus_and_signatures) -> None:
    _, signatures = corpus_and_signatures
    with pytest.raises(KeyError):
        with aligner(200, True, write_pairs) as store:
            pid = store.pid
            store.add_many(signatures[:3])
            raise KeyError("the driver failed")
    time.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ended and reaped
