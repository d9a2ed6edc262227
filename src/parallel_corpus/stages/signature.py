"""The per-document alignment signature: what the whole-corpus steps keep of a
document (entity QIDs, day dates, number, name and word keys), made where
the document is, so a worker sends back a few hundred bytes instead of the
text."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from parallel_corpus.records import as_date
from parallel_corpus.stages.entities import entity_key
from parallel_corpus.text.keys import name_keys, number_keys, skeleton, token_word_keys, word_keys
from parallel_corpus.text.tokens import split_tokens

__all__ = ["signature"]


def signature(
    doc_row: Mapping[str, Any],
    entities: Iterable[Mapping[str, Any]],
    dates: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """The record alignment works on, made where the document is (a worker
    sends it back; the build keeps it in a `SignatureStore`).

    `doc_row` needs `id`, `language`, `text` and may have `published`
    (date, ISO string or None); `entities` and `dates` are what
    `Gazetteer.find` and `Calendar.find_dates` returned for its text.
    `keys` are number and name keys (they meet across scripts), `terms`
    the document's own words with their counts (they meet within its
    language); `labels` maps a few keys to a surface form, for naming
    clusters.
    """
    text = str(doc_row.get("text") or "")
    language = doc_row.get("language")
    published = as_date(doc_row.get("published"))
    qids: dict[str, str] = {}
    for e in entities:
        key = entity_key(e)
        if key is not None:
            qids.setdefault(key, str(e.get("canonical") or e.get("text") or key))
    # `date` may be a datetime.date (from `find_dates`) or its ISO string
    # (from a row already shaped for Parquet).
    day_dates = sorted(
        {x.isoformat() for d in dates if d.get("precision") == "day" and (x := as_date(d.get("date"))) is not None}
    )
    keys = number_keys(text) + name_keys(text, language)
    terms = word_keys(text, language)
    labels = dict(sorted(qids.items()))
    # Surface forms for the name and word keys that open the document (its
    # headline), which is where a curator looks first.
    key_set = set(keys)
    head = text[:300]
    for word in split_tokens(head)[1::2]:
        sk = skeleton(word)
        if len(sk) >= 3 and f"w:{sk}" in key_set and f"w:{sk}" not in labels:
            labels[f"w:{sk}"] = word
    # The words of the headline's first dozen tokens, enough to title a cluster.
    for key, word in list(zip(token_word_keys(head, language), split_tokens(head)[1::2]))[:12]:
        if key and key in terms and key not in labels:
            labels[key] = word
    return {
        "id": str(doc_row["id"]),
        "language": language,
        "published": published,
        "entities": sorted(qids),
        "dates": day_dates,
        "keys": keys,
        "terms": dict(sorted(terms.items())),
        "labels": labels,
    }

