"""One synthetic article: the raw bytes a crawl of a news site would give.

The story's sentence (its date and figure, what the three languages share),
a sentence of this document alone, then seed sentences filled with the
story's invented names, inside site chrome (sections, captions printed
twice, credits, "read more" links, stray dots, a dateline glued to the first
sentence, CRLF and BOM now and then), between MIN_BYTES and MAX_BYTES.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass
from typing import Optional

from synthetic.names import SyntheticEntity
from synthetic.seeds import SeedText
from synthetic.templates import TEXT

MIN_BYTES, MAX_BYTES = 2000, 9000
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@dataclass
class Topic:
    """A story: its date, headline figure and the entities it names."""

    index: int
    date: dt.date
    number: int
    persons: list[SyntheticEntity]
    places: list[SyntheticEntity]
    orgs: list[SyntheticEntity]

    @property
    def id(self) -> str:
        return f"syn-topic-{self.index:06d}"


def _format_date(date: dt.date, lang: str, seed_text: SeedText, rng: random.Random) -> str:
    spellings = seed_text.months[lang][date.month - 1]
    month = spellings[0]
    # Levantine outlets write two names of a month: "24 شباط/فبراير".
    if lang == "ar" and len(spellings) > 1 and rng.random() < 0.3:
        month = f"{spellings[1]}/{spellings[0]}"
    return f"{date.day} {month} {date.year}"


def _format_number(n: int, lang: str, rng: random.Random) -> str:
    if lang == "ar" and rng.random() < 0.3:
        return f"{n:,}".replace(",", "٬").translate(_ARABIC_INDIC)
    return f"{n:,}" if rng.random() < 0.7 else str(n)


def _slots(topic: Topic, lang: str, seed_text: SeedText, rng: random.Random, corpus_wide: dict[str, dict[str, str]]) -> dict[str, str]:
    slots: dict[str, str] = dict(corpus_wide[lang])
    for letter, group in (("P", topic.persons), ("L", topic.places), ("O", topic.orgs)):
        for i, e in enumerate(group):
            full, short = e.names[lang]
            slots[f"{letter}{i}"] = full
            slots[f"{letter}{i}s"] = short
    slots["DATE"] = _format_date(topic.date, lang, seed_text, rng)
    slots["YEAR"] = str(topic.date.year)
    slots["NUM"] = _format_number(topic.number, lang, rng)
    return slots


def document(
    index: int, topic: Topic, lang: str, seed_text: SeedText, rng: random.Random, corpus_wide: dict[str, dict[str, str]]
) -> tuple[bytes, Optional[str]]:
    """The raw bytes of one article and its declared publication date."""
    texts = TEXT[lang]
    slots = _slots(topic, lang, seed_text, rng, corpus_wide)
    slots["N1"] = _format_number(rng.randrange(12, 9_999), lang, rng)
    # Unique per document, so no two documents are the same after cleaning.
    slots["N2"] = _format_number(10_000 + index, lang, rng)
    fill = lambda template: template.format_map(slots)  # noqa: E731
    title = fill(rng.choice(texts["title"]))
    slots["TITLE"] = title

    header: list[str] = []
    if rng.random() < 0.15:
        header += ["."] * rng.randint(1, 4)
    labelled = rng.random() < 0.3
    if labelled:
        header.append(rng.choice(texts["section"]))
    header.append(title)
    if labelled or rng.random() < 0.4:
        header.append(fill(rng.choice(texts["subtitle"])))
    if rng.random() < 0.3:
        header.append(fill(rng.choice(texts["metadata"])))

    # Everything but the prose first, so the prose can fill the size band
    # without ever pushing the file past MAX_BYTES.
    crlf = rng.random() < 0.05
    bom = rng.random() < 0.02
    dateline = rng.random()
    inserts: list[list[str]] = []
    if rng.random() < 0.4:
        inserts.append([fill(rng.choice(texts["heading"]))])
    if rng.random() < 0.35:
        caption = fill(rng.choice(texts["caption"]))
        inserts.append([caption, caption])  # the page prints a caption twice
    if rng.random() < 0.2:
        inserts.append([fill(rng.choice(texts["credit"])), fill(rng.choice(texts["caption_label"]))])
    if rng.random() < 0.2:
        inserts.append([fill(rng.choice(texts["read_more"]))])
    trailer: list[str] = []
    phrases = seed_text.chrome_phrases.get(lang) or []
    english = seed_text.chrome_phrases.get("en") or []
    if phrases and rng.random() < 0.5:
        trailer.append(rng.choice(phrases))
    if phrases and rng.random() < 0.3:
        trailer.append(" ".join(rng.sample(phrases, min(2, len(phrases)))))
    if english and rng.random() < 0.2:
        trailer.append(rng.choice(english).capitalize())
    if rng.random() < 0.1:
        trailer.append(".")
    sep = "\n\n" if rng.random() < 0.5 else "\n"
    final_newline = rng.random() < 0.7

    def cost(line: str) -> int:
        # Bytes of a line with its separator, counted as CRLF (the worst case).
        return len(line.encode("utf-8")) + 2 * len(sep)

    fixed = 3 + cost(slots["DATE"]) + sum(cost(x) for x in header + trailer) + sum(cost(x) for group in inserts for x in group)
    budget = MAX_BYTES - fixed
    target = min(budget, rng.randint(MIN_BYTES + 300, MAX_BYTES - 600) - fixed)

    # Paragraphs: the story's sentence first (its date and figure are what
    # the other languages share), this document's own sentence second, then
    # seed sentences, each used once before any repeats, while they fit.
    pool = seed_text.sentences[lang]
    drawn = itertools.cycle(rng.sample(pool, len(pool)))
    paragraphs = [[fill(rng.choice(texts["topic"]))], [fill(rng.choice(texts["unique"]))]]
    size = sum(cost(" ".join(p)) for p in paragraphs)
    for _ in range(200):
        if size >= target:
            break
        sentence = fill(next(drawn))
        extra = len(sentence.encode("utf-8")) + 1
        if size + extra + 2 * len(sep) > budget:
            break
        if len(paragraphs) < 3 or rng.random() < 0.4:
            paragraphs.append([sentence])
            size += extra + 2 * len(sep)
        else:
            paragraphs[-1].append(sentence)
            size += extra
    body = [" ".join(p) for p in paragraphs]
    if dateline < 0.15:
        body[0] = slots["DATE"] + body[0]  # a dateline glued by a lost line break
    elif dateline < 0.25:
        body.insert(0, slots["DATE"])
    for group in inserts:
        at = rng.randint(1, len(body))
        body[at:at] = group

    text = sep.join(header + body + trailer) + ("\n" if final_newline else "")
    if crlf:
        text = text.replace("\n", "\r\n")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    assert len(data) <= MAX_BYTES, len(data)
    published = None
    if rng.random() < 0.8:
        published = (topic.date + dt.timedelta(days=rng.randint(0, 2))).isoformat()
    return data, published
