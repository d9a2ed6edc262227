"""Facts about the records every stage shares, written once.

`REMOVAL_REASONS` is the closed registry of the reason codes that a removed
line (`documents.removed_lines[].reason`) may carry, each with what it
removes: the cleaner emits only these, a `patterns` entry of
`corpus/cleaning.yaml` must name one of them, and the card and docs/curating.md
list them from here (a test holds the page to it). `SKIP_REASONS` is the
same for a raw file the build leaves out (`report.json`'s `skipped`), each
left out as a `Skip`.

`CONFIGS` and `parquet_name` say what a build writes and a release holds:
`data/<config>/<parquet_name(split)>`, one file per split, the layout the
card's `data_files` point `datasets.load_dataset` at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Optional

REMOVAL_REASONS: dict[str, str] = {
    "punctuation_only": 'a line with no letter or digit ("." or "-----")',
    "chrome_phrase": 'a line made only of `chrome_phrases` ("Most read · Trending topics")',
    "chrome_prefix": 'a short line opening with a link label of `chrome_prefixes` ("Read also: ...", "اقرأ أيضا: ...")',
    "chrome_suffix": 'a short line ending in a link anchor of `chrome_suffixes` ("..., click here")',
    "pointer_stub": 'a stub pointing elsewhere glued into a line: a short piece opening with a `chrome_prefixes` label and not closing like a statement ("Unaweza kusoma", "للمزيد:")',
    "call_to_reader": 'a label calling on the reader (`reader_calls`, or in capitals) with the question it asks ("TELL US YOUR STORY: ...?")',
    "promo": "an app or social promo: text naming a platform, a call and a reader address from `promo_terms`",
    "related_link": "another story's headline: a run of headline-shaped lines, one after a link stub, one alone that shares few words with the paragraphs after it, a headline-shaped parenthesis standing between sentences, or a question glued to the next sentence that shares few words with its neighbours",
    "other_story_lead": "a trailing run of other stories' first sentences, each sharing few words with the title and first paragraph, several naming a day of their own",
    "boilerplate": "a line or sentence printed verbatim in several documents of the corpus (`shapes.boilerplate_min_documents`)",
    "metadata_stub": '"Published: Updated:" labels alone',
    "metadata_line": "a published/updated label with a short value (a date, a byline)",
    "image_credit": '"Image source, ..." and other photo credits',
    "repeated_line": "a line already kept (the second copy of a repeated caption)",
    "section_label": "a short kicker above the title",
    "social_handle": "a line of hashtags or handles only (a `patterns` rule)",
    "bare_url": "a bare URL or e-mail address (a `patterns` rule)",
}


SKIP_REASONS: dict[str, str] = {
    "sha256_mismatch": "the raw file's bytes are not the ones its sha256 in sources.jsonl pins",
    "unreadable": "the raw file is missing, outside raw/, empty, binary, or does not decode",
    "empty_after_cleaning": "nothing was left of the article once cleaned",
    "duplicate": "the same text as another document after cleaning (built once)",
}

# The configs of the dataset, in the order the card lists them.
CONFIGS: tuple[str, ...] = ("documents", "parallel", "pairs", "annotations")


def parquet_name(split: str) -> str:
    """The file of one split of a config: a single shard, named as the Hub names shards."""
    return f"{split}-00000-of-00001.parquet"


def split_of_parquet_name(name: str) -> Optional[str]:
    """The split whose file `name` is (`parquet_name`'s inverse), or None for
    a name `parquet_name` does not give."""
    split = name.split("-", 1)[0]
    return split if split and parquet_name(split) == name else None


@dataclass(frozen=True, slots=True)
class Skip:
    """A raw file the build left out, and why: `reason` is a key of
    SKIP_REASONS, `message` the one line that names the file and what to do."""

    id: str
    file: str
    reason: str
    message: str

    def __post_init__(self) -> None:
        if self.reason not in SKIP_REASONS:
            raise ValueError(f"skip reason {self.reason!r} is not one of {', '.join(SKIP_REASONS)}")

    def as_dict(self) -> dict[str, str]:
        """The entry of `report.json`'s `skipped`."""
        return {"id": self.id, "file": self.file, "reason": self.reason, "message": self.message}


def as_date(value: Any) -> Optional[dt.date]:
    """A date from a date, a datetime or an ISO string (YAML and Parquet give
    dates, JSON gives strings); None for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Assignment:
    topic_id: str
    topic_title: str
    event_id: str | None
    topic_source: str  # "catalog" | "cluster"
    score: float
    evidence: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic_id": self.topic_id,
            "topic_title": self.topic_title,
            "event_id": self.event_id,
            "topic_source": self.topic_source,
            "score": self.score,
            "evidence": list(self.evidence),
        }

