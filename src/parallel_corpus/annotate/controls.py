"""The Label Studio vocabulary, read from the label configs we send to the server.

`schemas/labelstudio/<kind>.xml` is what annotators see and what every export is
made of: its control names, their targets, the entity labels, the language
choices and the rating scale. Those files are the one home of that vocabulary;
this module parses them once (they are ours, so `xml.etree` is enough) and
everything that reads or writes Label Studio data imports the names from here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from parallel_corpus import schema

KINDS = ("documents", "pairs")


@dataclass(frozen=True)
class Control:
    """One control tag of a label config: what it is called, what it labels, what it offers."""

    name: str
    tag: str  # Labels | Choices | TextArea
    to_name: str  # the Text it labels
    values: tuple[str, ...]  # its Label or Choice values, in config order (none for dynamic Choices)
    role: str  # spans | rating | the record column it fills (language, cleaning, topic_id, event_id, comment)
    options_field: Optional[str] = None  # dynamic Choices: the task data field listing the choices (`value="$field"`)


@dataclass(frozen=True)
class LabelConfig:
    """The parts of one label config the code relies on."""

    kind: str
    controls: dict[str, Control]
    text_fields: dict[str, str]  # Text name -> the task data field it shows
    rtl_texts: frozenset[str]  # Texts shown right-to-left


def _walk(el: ET.Element, rtl: bool = False) -> Iterator[tuple[ET.Element, bool]]:
    """Every element with whether an enclosing View sets `direction: rtl`."""
    rtl = rtl or "direction: rtl" in (el.get("style") or "")
    yield el, rtl
    for child in el:
        yield from _walk(child, rtl)


def _role(tag: str, name: str, values: tuple[str, ...]) -> str:
    """Spans for Labels; a rating for Choices that are a number scale; otherwise the control
    is named for the record column it fills (`language`, `cleaning`, `topic_id`, ...)."""
    if tag == "Labels":
        return "spans"
    if tag == "Choices" and values and all(v.isdigit() for v in values):
        return "rating"
    return name


def config_path(kind: str) -> Path:
    """Where the label config of `kind` is shipped."""
    return schema.schemas_dir() / "labelstudio" / f"{kind}.xml"


def _parse(kind: str) -> LabelConfig:
    path = config_path(kind)
    try:
        root = ET.fromstring(path.read_bytes())
    except (OSError, ET.ParseError) as exc:
        raise RuntimeError(f"{path}: cannot read the label config ({exc}): reinstall parallel-corpus") from exc
    controls: dict[str, Control] = {}
    text_fields: dict[str, str] = {}
    rtl_texts: set[str] = set()
    for el, rtl in _walk(root):
        if el.tag == "Text":
            text_fields[el.get("name", "")] = (el.get("value") or "").lstrip("$")
            if rtl:
                rtl_texts.add(el.get("name", ""))
        elif el.tag in ("Labels", "Choices", "TextArea"):
            name = el.get("name", "")
            values = tuple(c.get("value", "") for c in el if c.tag in ("Label", "Choice"))
            dynamic = (el.get("value") or "").startswith("$")
            controls[name] = Control(name, el.tag, el.get("toName", ""), values, _role(el.tag, name, values),
                                     el.get("value", "")[1:] if dynamic else None)
    return LabelConfig(kind, controls, text_fields, frozenset(rtl_texts))


CONFIGS: dict[str, LabelConfig] = {kind: _parse(kind) for kind in KINDS}

# from_name -> role, per kind. Documents have two span controls: the right-to-left view has its own Text.
CONTROLS: dict[str, dict[str, str]] = {kind: {c.name: c.role for c in cfg.controls.values()} for kind, cfg in CONFIGS.items()}
# Text (to_name) -> task data field holding the text, over every config.
TEXT_FIELDS: dict[str, str] = {t: f for cfg in CONFIGS.values() for t, f in cfg.text_fields.items()}
# Span control -> the Text it marks, over every config.
SPAN_TARGETS: dict[str, str] = {c.name: c.to_name for cfg in CONFIGS.values() for c in cfg.controls.values() if c.role == "spans"}

RATING_DIMENSIONS: tuple[str, ...] = tuple(c.name for c in CONFIGS["pairs"].controls.values() if c.role == "rating")
# The record column of a rating: `entities` already names the spans.
RATING_COLUMN: dict[str, str] = {d: ("entities_rating" if d == "entities" else d) for d in RATING_DIMENSIONS}
RATING_SCALE: tuple[int, ...] = tuple(sorted({int(v) for d in RATING_DIMENSIONS for v in CONFIGS["pairs"].controls[d].values}))

ENTITY_LABELS: tuple[str, ...] = next(c.values for c in CONFIGS["documents"].controls.values() if c.role == "spans")
LANGUAGES: tuple[str, ...] = CONFIGS["documents"].controls["language"].values

# The choice that proposes a topic or event the catalog lacks ("other: a new topic"). Catalog ids
# match ^[a-z0-9][a-z0-9-]*$ (schemas/topics.schema.json), so this value can never be one of them.
# A record holding it is a proposal for a curator: the build lists it and applies no topic from it.
NEW_CHOICE = "(new)"
# Controls whose choices come from the catalog, per task: record column -> the task data field.
CATALOG_CONTROLS: dict[str, str] = {
    c.role: c.options_field for c in CONFIGS["documents"].controls.values() if c.role in ("topic_id", "event_id") and c.options_field
}


def span_control(kind: str, rtl: bool) -> Control:
    """The span control of `kind` whose Text is shown right-to-left (or not)."""
    cfg = CONFIGS[kind]
    found: Optional[Control] = next(
        (c for c in cfg.controls.values() if c.role == "spans" and (c.to_name in cfg.rtl_texts) == rtl), None
    )
    if found is None:
        raise RuntimeError(f"schemas/labelstudio/{kind}.xml has no {'right-to-left' if rtl else 'left-to-right'} span control")
    return found
