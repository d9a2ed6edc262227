"""A guard on the clustering's measured figures: topic grouping at the level
of events on the real news beside the repository, as ../shared/tools/grouping-f1
builds and scores it (by the code of scripts/measure-grouping).

The floors are the figures the clustering reached with the parameters of
align/clustering.yaml; a change that joins unrelated articles or splits an
event's reports fails here. It runs the real build (`.venv/bin/parallel-corpus`,
as the tool does) on both sets.
"""

from __future__ import annotations


import pytest

from conftest import EXTERNAL, REPO, external, load_script

# set: (precision, recall) reached over all its judged pairs; no pair of
# members of two different events shares a topic in either set.
FLOORS = {"ntrex": (1.0, 1.0), "ant": (0.991, 0.965)}


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    external("news", "parallel")
    external("news", "arabic", "ant_events", "events.tsv")
    tool = EXTERNAL.parent / "tools" / "grouping-f1"
    if not tool.exists():
        pytest.skip(f"{tool} is absent: it builds and scores the sets")
    if not (REPO / ".venv" / "bin" / "parallel-corpus").exists():
        pytest.skip("grouping-f1 builds with .venv/bin/parallel-corpus: run `make test`, which makes it")
    return load_script("measure-grouping").measure(["ntrex", "ant"], base=tmp_path_factory.mktemp("grouping"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FLOORS))
def test_grouping_does_not_fall(figures, name):
    precision, recall = FLOORS[name]
    got = figures[name, "all"]
    assert got.precision >= precision, f"{name}: precision {got.precision:.3f}, was {precision}; joined wrongly: {got.joined_wrongly[:3]}"
    assert got.recall >= recall, f"{name}: recall {got.recall:.3f}, was {recall}; split wrongly: {got.split_wrongly[:3]}"
    assert got.unrelated == 0.0, f"{name}: members of different events share a topic ({got.unrelated:.3f})"
