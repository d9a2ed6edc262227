"""The per-document alignment signature: what the whole-corpus steps keep of a
document (entity QIDs, day dates, number, name and word keys), made where
the document is, so a worker sends back a few hundred bytes instead of the
text."""

from __future__ import annotations

import datetime as dt
import json
import struct
from array import array
from typing import Any, Iterable, Mapping, NamedTuple, Optional, Sequence

import numpy as np
import pyarrow as pa

from parallel_corpus.records import as_date
from parallel_corpus.stages.entities import entity_key
from parallel_corpus.text.keys import name_keys, number_keys, skeleton, token_word_keys, word_keys
from parallel_corpus.text.tokens import split_tokens

__all__ = ["signature", "pack", "unpack", "packed_id", "PackedRun", "unpack_run", "decoded", "ENTITY", "DATE", "NAME_LABEL_PREFIXES"]

# Prefixes of entity and date keys in the store's vocabulary.
ENTITY = "e:"
DATE = "d:"


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


# -- the packed form ------------------------------------------------------------------------
#
# A signature crosses from a worker to the driver, and is kept in the build
# cache, as bytes: a header, a count per name, and every string of it in one
# UTF-8 text split at NUL. The driver adds 100,000 of them to its store, and
# reading this form is one `split` per document where a dict (or its JSON)
# made a Python object per key, which was most of a rebuild's pass one.
#
# Header: flags (bit 0: the strings are a JSON list, for the rare signature
# with a NUL inside a string; bit 1: no language), the published date's
# ordinal (0: none), and how many entities, dates, keys, terms, labels of
# name and word keys, and labels of entities. Then a uint16 count per name
# (entities, dates and keys 1; a term its count, at most 65,535 as the store
# keeps it). Then the strings: id, language, the names (entities and dates
# with their prefixes), the name labels' keys and values, the entity labels'
# keys (with the entity prefix) and values.
_HEAD = struct.Struct("<BiIIIIII")
# Label keys that name one of the document's own keys; any other label key
# is an entity's QID.
NAME_LABEL_PREFIXES = ("w:", "n:", "d:", "t:")
_JSON = 1
_NO_LANGUAGE = 2
_MAX_COUNT = 65535


def pack(sig: Mapping[str, Any]) -> bytes:
    """A `signature()` record as bytes (see above). A count that is not a
    whole number of at least 0 raises ValueError, as the store would."""
    language = sig.get("language")
    published = as_date(sig.get("published"))
    entities = [ENTITY + str(q) for q in sig.get("entities") or ()]
    dates = [DATE + str(d) for d in sig.get("dates") or ()]
    keys = [str(k) for k in sig.get("keys") or ()]
    terms = sig.get("terms") or {}
    labels = {str(k): str(v) for k, v in (sig.get("labels") or {}).items()}
    named = {k: v for k, v in labels.items() if k.startswith(NAME_LABEL_PREFIXES)}
    of_entities = {ENTITY + k: v for k, v in labels.items() if not k.startswith(NAME_LABEL_PREFIXES)}
    try:
        term_counts = [min(int(c), _MAX_COUNT) for c in terms.values()]
        counts = array("H", [1] * (len(entities) + len(dates) + len(keys)) + term_counts)
    except (TypeError, OverflowError) as exc:
        raise ValueError(f"signature {sig.get('id')}: a term count is not a count ({exc})") from None
    strings = [str(sig["id"]), str(language) if language is not None else "", *entities, *dates, *keys, *map(str, terms), *named, *named.values(), *of_entities, *of_entities.values()]
    text = "\0".join(strings)
    flags = 0 if language is not None else _NO_LANGUAGE
    if text.count("\0") != len(strings) - 1:
        flags |= _JSON
        text = json.dumps(strings, ensure_ascii=False)
    if counts.itemsize != 2:  # pragma: no cover - "H" is two bytes on every platform CPython runs on
        raise RuntimeError("array('H') is not 16-bit here")
    if _BIG_ENDIAN:  # pragma: no cover
        counts.byteswap()
    head = _HEAD.pack(flags, published.toordinal() if published else 0, len(entities), len(dates), len(keys), len(terms), len(named), len(of_entities))
    return head + counts.tobytes() + text.encode("utf-8")


def unpack(packed: bytes) -> dict[str, Any]:
    """The record `pack` was given (counts above 65,535 as 65,535)."""
    run = unpack_run([packed])
    _, _, ne, nd, nk, _, _, _ = _HEAD.unpack_from(packed)
    names, counts = decoded(run.names), run.counts.tolist()
    rest = ne + nd + nk
    return {
        "id": run.ids[0],
        "language": run.languages[0],
        "published": dt.date.fromordinal(run.ordinals[0]) if run.ordinals[0] else None,
        "entities": [n[len(ENTITY) :] for n in names[:ne]],
        "dates": [n[len(DATE) :] for n in names[ne : ne + nd]],
        "keys": names[ne + nd : rest],
        "terms": dict(zip(names[rest:], counts[rest:])),
        "labels": {**dict(zip(run.label_keys, run.label_values)), **{k[len(ENTITY) :]: v for k, v in zip(run.entity_label_keys, run.entity_label_values)}},
    }


def packed_id(packed: bytes) -> Optional[str]:
    """The document id a packed signature opens with; None where the bytes
    are too short for their header or hold no id (a cheap check, for bytes
    read back from a cache)."""
    try:
        flags, _, ne, nd, nk, nt, _, _ = _HEAD.unpack_from(packed)
        start = _HEAD.size + 2 * (ne + nd + nk + nt)
        if len(packed) <= start:
            return None
        if flags & _JSON:
            strings = json.loads(str(packed[start:], "utf-8"))
            return strings[0] if isinstance(strings, list) and strings and isinstance(strings[0], str) else None
        end = packed.find(b"\0", start)
        return str(packed[start : end if end >= 0 else len(packed)], "utf-8")
    except (struct.error, TypeError, UnicodeDecodeError, ValueError):
        return None


class PackedRun(NamedTuple):
    """Packed signatures of consecutive documents, read into flat arrays:
    what `align.store.SignatureStore` adds in one go. The names stay in one
    Arrow array, never a Python string each: a document has hundreds, and
    the store looks them up all at once (`pyarrow.compute`)."""

    ids: list[str]
    languages: list[Any]
    ordinals: array  # published date ordinals, 0 where unknown
    names: pa.LargeStringArray  # every document's names, document after document, each ending in NUL
    counts: array  # uint16, one per name
    sizes: array  # per document: entities, dates, the rest (keys and terms)
    label_docs: array  # the document (its place in the run) of each name label
    label_keys: list[str]
    label_values: list[str]
    entity_label_docs: array  # and of each entity label
    entity_label_keys: list[str]  # with the entity prefix
    entity_label_values: list[str]


def unpack_run(packed: Sequence[bytes]) -> PackedRun:
    """Read packed signatures (`pack`) into one PackedRun. Bytes that are not
    a packed signature raise ValueError.

    The strings of the whole run are split at once: their parts joined by
    NUL, the NULs found with numpy, and the bytes between them made one Arrow
    array. Profiled on adding 100,000 signatures, splitting each document's
    text in Python (5.2 s) and looking every name up in a dict (10.9 s)
    were 16 of 36 s."""
    heads = array("q")  # per document: flags, ordinal, then the six counts
    regions: list[Any] = []
    count_parts = []
    for p in packed:
        try:
            head = _HEAD.unpack_from(p)
        except (struct.error, TypeError) as exc:
            raise ValueError(f"not a packed signature ({exc})") from None
        end = _HEAD.size + 2 * sum(head[2:6])
        if len(p) < end:
            raise ValueError("not a packed signature (its counts and strings disagree)")
        heads.extend(head)
        count_parts.append(p[_HEAD.size : end])
        regions.append(p[end:])
    n = len(regions)
    head = np.frombuffer(heads, dtype=np.int64).reshape(n, 8)
    flags, ne, nd, nk, nt, nl, nel = (head[:, i] for i in (0, 2, 3, 4, 5, 6, 7))
    names_of = ne + nd + nk + nt
    per_doc = 2 + names_of + 2 * (nl + nel)  # strings a document holds
    first = np.cumsum(per_doc) - per_doc  # its first string's place in the run
    strings = _strings(regions, per_doc, flags)

    def take(start: np.ndarray, length: np.ndarray) -> pa.Array:
        return strings.take(pa.array(_ranges(start, length)))

    no_language = (flags & _NO_LANGUAGE).astype(bool).tolist()
    try:
        run = PackedRun(
            ids=decoded(strings.take(pa.array(first))),
            languages=[None if absent else language for absent, language in zip(no_language, decoded(strings.take(pa.array(first + 1))))],
            ordinals=array("i", head[:, 1].astype(np.int32).tobytes()),
            names=take(first + 2, names_of),
            counts=array("H"),
            sizes=array("q", np.stack([ne, nd, nk + nt], axis=1).astype(np.int64).tobytes()),
            label_docs=array("q", np.repeat(np.arange(n, dtype=np.int64), nl).tobytes()),
            label_keys=decoded(take(first + 2 + names_of, nl)),
            label_values=decoded(take(first + 2 + names_of + nl, nl)),
            entity_label_docs=array("q", np.repeat(np.arange(n, dtype=np.int64), nel).tobytes()),
            entity_label_keys=decoded(take(first + 2 + names_of + 2 * nl, nel)),
            entity_label_values=decoded(take(first + 2 + names_of + 2 * nl + nel, nel)),
        )
    except UnicodeDecodeError as exc:
        raise ValueError(f"not a packed signature ({exc})") from None
    run.counts.frombytes(b"".join(count_parts))
    if _BIG_ENDIAN:  # pragma: no cover
        run.counts.byteswap()
    return run


def _strings(regions: list[Any], per_doc: np.ndarray, flags: np.ndarray) -> pa.LargeStringArray:
    """Every document's strings, document after document, each ending in
    its NUL (`decoded` drops it), checked to be as many as its header says.
    They are not checked to be UTF-8 here: every one becomes a Python string
    (`decoded`), which checks it, except names equal to a key the store
    holds already."""
    disagree = ValueError("not a packed signature (its counts and strings disagree)")
    if (flags & _JSON).any():  # the rare run with a NUL inside a string: one document at a time
        out: list[str] = []
        for region, f, expected in zip(regions, flags.tolist(), per_doc.tolist()):
            try:
                text = str(region, "utf-8")
                parts = json.loads(text) if f & _JSON else text.split("\0")
            except (TypeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ValueError(f"not a packed signature ({exc})") from None
            if not isinstance(parts, list) or len(parts) != expected or not all(isinstance(x, str) for x in parts):
                raise disagree
            out.extend(x + "\0" for x in parts)
        return pa.array(out, pa.large_string())
    # A NUL after every string: between two of a document, between
    # documents, and at the end. The last string of each document ends where
    # its part of `data` does.
    data = b"\0".join([*regions, b""])
    nul = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0)
    total = int(per_doc.sum())
    if len(nul) != total:
        raise disagree
    region_ends = np.cumsum(np.fromiter(map(len, regions), dtype=np.int64, count=len(regions)) + 1) - 1
    if len(regions) and (nul[np.cumsum(per_doc) - 1] != region_ends).any():
        raise disagree
    offsets = np.empty(total + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = nul + 1
    return pa.LargeStringArray.from_buffers(total, pa.py_buffer(offsets), pa.py_buffer(data))


def decoded(strings: pa.Array) -> list[str]:
    """Strings of `unpack_run` as Python strings, without their NUL (raises
    UnicodeDecodeError where one is not UTF-8)."""
    return [s[:-1] for s in strings.to_pylist()]


def _ranges(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """start[0], start[0] + 1, ... (length[0] of them), then start[1], ...: in one go."""
    total = int(length.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    run_start = np.cumsum(length) - length
    return np.repeat(start - run_start, length) + np.arange(total, dtype=np.int64)


_BIG_ENDIAN = struct.pack("=H", 1) != struct.pack("<H", 1)
