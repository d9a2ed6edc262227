"""The prose of the invented parts of a synthetic article, read from
templates/<language>.yaml, so the sentences are edited as text, not code.

Each key of a language's file is a list of format strings, one drawn per use:
title, subtitle, heading, caption, caption_label, credit, section, read_more
and metadata are the page around the article; topic is the story's own
sentence (its date and figure, what the three languages share); unique a
sentence of this document alone; org the pattern of an organisation's name
({X}); outlets the names of the invented news sites. Slots: {P0}-{P2} a
person's full name and {P0s}-{P2s} the family name, {L0}-{L3} a place,
{O0} {O1} an organisation, {DATE} the story's date, {NUM} its headline figure,
{N1} {N2} figures of this document only, {TITLE} the article's title.
templates/en.yaml holds the English organisation pattern, the canonical form
the gazetteer records.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from synthetic.common import LANGUAGES, SyntheticError

FOLDER = Path(__file__).resolve().parent / "templates"
KEYS = (
    "outlets", "title", "subtitle", "heading", "caption", "caption_label", "credit",
    "topic", "unique", "section", "read_more", "metadata", "org",
)


def _read(path: Path, keys: tuple[str, ...]) -> dict[str, list[str]]:
    """A template file's lists, or one line naming the file and key at fault."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SyntheticError(f"{path}: cannot read it ({exc.__class__.__name__}): restore it from git") from None
    if not isinstance(data, dict):
        raise SyntheticError(f"{path}: not a mapping of template lists")
    for key in keys:
        value = data.get(key)
        if not value or not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise SyntheticError(f"{path}: {key} must be a non-empty list of strings")
    return {key: data[key] for key in keys}


def load() -> tuple[dict[str, dict[str, list[str]]], str]:
    """(language -> key -> templates, the English organisation pattern)."""
    text = {lang: _read(FOLDER / f"{lang}.yaml", KEYS) for lang in LANGUAGES}
    org_en = _read(FOLDER / "en.yaml", ("org",))["org"][0]
    return text, org_en


TEXT, ORG_EN = load()
