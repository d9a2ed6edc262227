"""A guard on cleaning's measured figures: chrome removed and content kept on
the gold-labelled real news beside the repository (../shared/external/gold,
scored as its PROTOCOL.md says, by the code of scripts/measure-cleaning).

The floors are the figures the rules reached; a change that removes less
chrome, or loses a sentence of content, fails here. Content kept must stay at
1.000 on the gold: losing a sentence is worse than leaving a promo in.
"""

from __future__ import annotations

import sys

import pytest

from conftest import EXTERNAL, external, load_script

# language: (chrome removed, chrome strings) reached by the rules
FLOORS = {"sw": (6, 6), "hi": (63, 99), "ar": (55, 55)}


@pytest.fixture(scope="module")
def figures(stages):
    external("gold")
    tools = EXTERNAL.parent / "tools"
    for name in ("external_docs.py", "cleaning-f1"):
        if not (tools / name).exists():
            pytest.skip(f"{tools / name} is absent: it reads or scores the gold's articles")
    sys.path.insert(0, str(tools))
    try:
        return load_script("measure-cleaning").measure(EXTERNAL, stages, ["sw", "hi", "ar"])
    finally:
        sys.path.remove(str(tools))


@pytest.mark.parametrize("language", sorted(FLOORS))
def test_chrome_removed_does_not_fall(figures, language):
    removed, total = FLOORS[language]
    got = figures[language, "all"]
    assert got.chrome_total == total, "the gold changed: measure again and set the floors"
    assert got.chrome_removed >= removed, f"{language}: chrome removed {got.chrome_removed}/{total}, was {removed}/{total}"


@pytest.mark.parametrize("language", sorted(FLOORS))
def test_no_sentence_of_content_is_lost(figures, language):
    got = figures[language, "all"]
    assert got.content_kept == got.content_total, f"{language}: content kept {got.content_kept}/{got.content_total}"
