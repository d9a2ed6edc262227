"""Every QID of corpus/entities.yaml against the reference list of QIDs that
public copies of Wikidata give (../shared/reference/wikidata-qids.tsv).

The reference says, per entity, the QID the project carried, the one a public
source gives (empty when none was found) and a status: `confirmed`, `wrong`
or `unverified`. The gazetteer must agree with every QID a source gives, and
must not claim as verified what no source confirms.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from parallel_corpus.stages.entities import load_gazetteer

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference" / "wikidata-qids.tsv"


@pytest.fixture(scope="module")
def reference() -> dict[str, dict[str, str]]:
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} is absent: the reference list of QIDs lives beside the repo in ../shared/reference")
    with REFERENCE.open(encoding="utf-8", newline="") as f:
        return {row["canonical"]: row for row in csv.DictReader(f, delimiter="\t")}


def test_every_qid_agrees_with_the_reference_or_is_unverified(reference: dict[str, dict[str, str]]) -> None:
    gazetteer = load_gazetteer(REPO / "corpus")
    wrong = []
    for entity in gazetteer.entities:
        row = reference.get(entity.canonical)
        if row is None:
            # An entity the reference does not know must not claim a check.
            if entity.verified:
                wrong.append(f"{entity.canonical}: verified, but the reference does not list it")
            continue
        given = row["qid_verified"] or None
        if given is not None and entity.qid != given:
            wrong.append(f"{entity.canonical}: {entity.qid}, but a public source gives {given}")
        elif given is None and entity.verified:
            wrong.append(f"{entity.canonical}: marked verified, but no public source confirms {entity.qid}")
        elif row["status"] == "wrong" and entity.qid == row["qid_in_project"]:
            wrong.append(f"{entity.canonical}: {entity.qid} is another item")
        if given is not None and not entity.verified:
            wrong.append(f"{entity.canonical}: {entity.qid} is confirmed by {row['source'][:60]}...; mark it verified")
    assert not wrong, "\n".join(wrong)


def test_the_reference_covers_the_gazetteer(reference: dict[str, dict[str, str]]) -> None:
    names = {e.canonical for e in load_gazetteer(REPO / "corpus").entities}
    assert names == set(reference), f"only in entities.yaml: {sorted(names - set(reference))}; only in the reference: {sorted(set(reference) - names)}"
