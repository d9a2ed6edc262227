"""Compact signatures: what the whole-corpus steps keep of every document.

Input: `stages.signature.signature()` records (entity QIDs, day dates,
number and name keys, word keys with their counts, a few surface labels),
one per document, in id order; output: a
`SignatureStore` that holds them as integers in flat arrays over a shared
vocabulary of keys, with each key's document frequency. Alignment and pairs
read only this store, so the driver of a build holds a few hundred bytes per
document, whatever the corpus size.

A key met in more than `max_df` documents can never weigh in clustering or
similarity (`align` drops such keys), so once a key passes that count it is
no longer stored for later documents: memory follows the rare keys, not the
common words. Entities and dates are always kept, since the topic catalog
matches on them whatever their frequency.
"""

from __future__ import annotations

import datetime as dt
import sys
from array import array
from itertools import repeat
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parallel_corpus.stages.signature import DATE, ENTITY, decoded, pack, unpack_run

__all__ = ["SignatureStore", "ENTITY", "DATE"]


class SignatureStore:
    """Signatures of a corpus, document by document in the order added."""

    def __init__(self, max_df: int = 200):
        self.max_df = max_df
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.languages: list[Optional[str]] = []
        self.published = array("i")  # date ordinal, 0 where unknown
        # The key vocabulary: "e:Q…", "d:2022-04-26", "n:…", "w:…" (name
        # skeletons), "t:sw:…" (a language's words).
        self.vocab: dict[str, int] = {}
        self.keys: list[str] = []
        self._key_array = pa.array([], pa.large_string())  # the same keys, each ending in NUL, for `add_many`'s look-ups
        self.df = array("i")
        # The script (first two letters of the language) a key was first met
        # in, and whether it was met in another: a name key met across
        # scripts is a transliterated name, one met in one script a word.
        self._first_script = array("i")
        self.multi_script = bytearray()
        self._scripts: dict[str, int] = {}
        # Per document: its stored key ids (entities, then dates, then the
        # rest, each ascending by key), how many times the document has each
        # (a word's count; 1 for any other key), and how many are entities
        # and dates.
        self.key_start = array("q", [0])
        self.key_ids = array("i")
        self.key_counts = array("H")
        self.entity_count = array("i")
        self.date_count = array("i")
        # Labels that name clusters: per document (key id, label id) pairs
        # for its headline's name and word keys; an entity's label is its canonical
        # name, the same in every document, kept once (with the rare
        # document that says otherwise kept apart).
        self.label_start = array("q", [0])
        self.label_keys = array("i")
        self.label_values = array("i")
        self._label_vocab: dict[str, int] = {}
        self.label_names: list[str] = []
        self.entity_labels: dict[int, str] = {}
        self.entity_label_exceptions: dict[int, dict[int, str]] = {}
        # What the whole-corpus steps derive from the store once (see
        # `align.weighted_keys`), kept with it.
        self.derived: dict[Any, Any] = {}

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of(cls, signatures: Iterable[Mapping[str, Any]], max_df: int = 200) -> "SignatureStore":
        """A store of signatures in id order, whatever order they come in."""
        store = cls(max_df)
        store.add_many(sorted(signatures, key=lambda s: str(s["id"])))
        return store

    def _label(self, text: str) -> int:
        v = self._label_vocab.get(text)
        if v is None:
            v = self._label_vocab[text] = len(self.label_names)
            self.label_names.append(text)
        return v

    def add(self, sig: Mapping[str, Any]) -> None:
        """One document's signature (`stages.signature.signature`), after the previous one."""
        self.add_many([sig])

    def add_many(self, sigs: Sequence[Any]) -> None:
        """Signatures of consecutive documents, after the previous ones, as
        records (`stages.signature.signature`) or packed (`pack`, how a
        build's workers and its cache hand them over): the same store as
        adding them one by one, worked out with array operations over the
        whole run (a document has hundreds of keys, and the driver of a
        build adds every document's).

        Keys get ids in the order they are first met (a document's entities,
        dates, then its name and number keys and its words). A key's
        document frequency counts every document that holds it, but a
        document stores a key only while that count, itself included, is at
        most max_df. Entities and dates are stored whatever their count.
        A run that cannot be read (an id out of order, a count that is no
        number) raises ValueError and leaves the store as it was."""
        if not sigs:
            return
        run = unpack_run([s if isinstance(s, (bytes, bytearray, memoryview)) else pack(s) for s in sigs])
        first_doc = len(self.ids)
        last = self.ids[-1] if self.ids else None
        for doc_id in run.ids:  # read whole before anything is stored
            if doc_id in self.index or doc_id == last:
                raise ValueError(f"duplicate document id in signatures: {doc_id}")
            if last is not None and doc_id < last:
                # Pairs and clusters read store order as id order.
                raise ValueError(f"signatures must come in id order: {doc_id} after {last}")
            last = doc_id
        # Key ids: the known ones looked up, the new ones numbered in the
        # order they are first met. Dictionary-encoding the known keys (each
        # once, in id order, as `unpack_run` gives names: ending in NUL)
        # followed by the run's names does both in one hash pass: a name
        # gets the index of the first string equal to it. With the run's
        # strings split at once (`unpack_run`), adding 100,000 signatures
        # took 22.4 s in runs of 2,048, against 32.3 s with a Python string
        # and a dict look-up a name. Each run hashes the known keys again:
        # that grows with the vocabulary (159,116 keys at 100,000 documents).
        # Below, no step sorts by more than one key, nor stably where the
        # values are distinct: on 99,000 saved signatures of the synthetic
        # corpus, in runs of 2,048, that took adding from 10.9-11.4 s to 8.8 s.
        known = len(self.keys)
        encoded = pc.dictionary_encode(pa.concat_arrays([self._key_array, run.names]))
        try:
            new = decoded(encoded.dictionary.slice(known))
        except UnicodeDecodeError as exc:
            raise ValueError(f"not a packed signature ({exc})") from None
        ids = encoded.indices.to_numpy()[known:].astype(np.int64)

        for doc_id in run.ids:
            self.index[doc_id] = len(self.ids)
            self.ids.append(doc_id)
        self.languages += [sys.intern(language) if language is not None else None for language in run.languages]
        self.published += run.ordinals
        scripts = array("i", [self._scripts.setdefault(str(language or "?")[:2], len(self._scripts)) for language in run.languages])
        self._key_array = encoded.dictionary
        vocab = self.vocab
        for name in new:
            vocab[name] = len(self.keys)
            self.keys.append(sys.intern(name))

        n = len(run.ids)
        per_part = np.frombuffer(run.sizes, dtype=np.int64).reshape(n, 3)
        # Each name's document (in this run) and part: 0 entity, 1 date, 2 the rest.
        part = np.repeat(np.tile(np.arange(3, dtype=np.int64), n), per_part.ravel())
        doc = np.repeat(np.arange(n, dtype=np.int64), per_part.sum(axis=1))
        script = np.frombuffer(scripts, dtype=np.int32)[doc]

        self.df.frombytes(bytes(4 * len(new)))
        self.multi_script.extend(bytes(len(new)))
        # How many keys the vocabulary held once each document was added: a
        # label names an entity met by then, in that document or before.
        met = np.full(n, known, dtype=np.int64)
        if new:
            # The new keys were numbered in the order they are first met, so
            # each first meeting is where the run's highest id so far grows
            # (by one): found in one pass, without sorting the run.
            highest = np.maximum.accumulate(np.where(ids >= known, ids, known - 1))
            first_at = np.flatnonzero(np.diff(highest, prepend=known - 1) > 0)
            self._first_script.frombytes(script[first_at].astype(np.int32).tobytes())
            met += np.searchsorted(doc[first_at], np.arange(n), side="right")
        first_script = np.frombuffer(self._first_script, dtype=np.int32)
        multi = np.frombuffer(self.multi_script, dtype=np.uint8)
        multi[ids[script != first_script[ids]]] = 1
        del first_script, multi

        # A document's entities and dates: distinct, ascending; every one met
        # counts towards its key's document frequency.
        df = np.frombuffer(self.df, dtype=np.int32)
        named = part < 2
        _count(df, ids[named])
        # The rest: the first of a key's names in a document, counted once; stored
        # while the key's count up to this document is at most max_df.
        vocabulary = known + len(new)
        rest = np.flatnonzero(~named)
        pair = doc[rest] * vocabulary + ids[rest]
        rest = rest[_first_of_each(pair)]
        rest_ids = ids[rest]
        # By key, then document, as one integer (a (document, key) pair is
        # met once here): one sort instead of a sort by two keys.
        order = np.argsort(rest_ids * n + doc[rest])
        sorted_ids = rest_ids[order]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        run_of = np.arange(len(sorted_ids)) - np.repeat(starts, np.diff(np.r_[starts, len(sorted_ids)]))
        rank = np.empty(len(rest), dtype=np.int64)
        rank[order] = df[sorted_ids] + run_of + 1
        _count(df, rest_ids)
        del df
        kept = rest[rank <= self.max_df]

        # Per document: entities, then dates, then the stored rest, each by key id.
        chosen = np.concatenate([np.flatnonzero(named), kept])
        chosen = chosen[np.argsort((doc[chosen] * 3 + part[chosen]) * vocabulary + ids[chosen], kind="stable")]
        keep = np.ones(len(chosen), dtype=bool)
        same = (doc[chosen][1:] == doc[chosen][:-1]) & (ids[chosen][1:] == ids[chosen][:-1])
        keep[1:] = ~same
        chosen = chosen[keep]
        self.key_ids.frombytes(ids[chosen].astype(np.int32).tobytes())
        counts = np.frombuffer(run.counts, dtype=np.uint16)
        self.key_counts.frombytes(np.where(part[chosen] < 2, 1, counts[chosen]).astype(np.uint16).tobytes())
        per_doc = np.bincount(doc[chosen] * 3 + part[chosen], minlength=3 * n).reshape(n, 3)
        self.entity_count.frombytes(per_doc[:, 0].astype(np.int32).tobytes())
        self.date_count.frombytes(per_doc[:, 1].astype(np.int32).tobytes())
        ends = len(self.key_ids) - len(chosen) + np.cumsum(per_doc.sum(axis=1))
        self.key_start.frombytes(ends.astype(np.int64).tobytes())
        stored_rest = chosen[part[chosen] == 2]
        self._add_labels(run, first_doc, met, doc[stored_rest] * len(self.keys) + ids[stored_rest])

    def _add_labels(self, run: Any, first_doc: int, met: np.ndarray, stored: np.ndarray) -> None:
        """The run's labels: of each document's stored name and word keys
        (`stored`: document in the run times the vocabulary's size plus key
        id, for every stored key of the rest part), and of the entities among
        the keys met by the time it was added (`met`)."""
        vocab = self.vocab
        # Name and word keys: kept where the document stored the key.
        label_docs = np.frombuffer(run.label_docs, dtype=np.int64)
        k = np.fromiter(map(vocab.get, run.label_keys, repeat(-1)), dtype=np.int64, count=len(run.label_keys))
        held = np.flatnonzero((k >= 0) & np.isin(label_docs * len(self.keys) + k, stored))
        values = run.label_values
        self.label_keys.frombytes(k[held].astype(np.int32).tobytes())
        self.label_values.extend(map(self._label, map(values.__getitem__, held.tolist())))
        per_doc = np.bincount(label_docs[held], minlength=len(run.ids))
        self.label_start.frombytes((len(self.label_keys) - len(held) + np.cumsum(per_doc)).astype(np.int64).tobytes())
        # Entities: the first name met is every document's; one that says
        # otherwise is kept apart. The keys met by a document's turn only.
        docs = np.frombuffer(run.entity_label_docs, dtype=np.int64)
        k = np.fromiter(map(vocab.get, run.entity_label_keys, repeat(-1)), dtype=np.int64, count=len(run.entity_label_keys))
        known = np.flatnonzero((k >= 0) & (k < met[docs]))
        entity_labels, exceptions = self.entity_labels, self.entity_label_exceptions
        values = run.entity_label_values
        for i, key, d in zip(known.tolist(), k[known].tolist(), docs[known].tolist()):
            label = values[i]
            if entity_labels.setdefault(key, label) != label:
                exceptions.setdefault(first_doc + d, {})[key] = label

    # -- reading -------------------------------------------------------------

    def doc_keys(self, doc: int) -> array:
        return self.key_ids[self.key_start[doc] : self.key_start[doc + 1]]

    def entities(self, doc: int) -> list[str]:
        """The document's entity QIDs, ascending."""
        start = self.key_start[doc]
        return sorted(self.keys[k][len(ENTITY):] for k in self.key_ids[start : start + self.entity_count[doc]])

    def dates(self, doc: int) -> list[str]:
        """The document's day dates (ISO), ascending."""
        start = self.key_start[doc] + self.entity_count[doc]
        return sorted(self.keys[k][len(DATE):] for k in self.key_ids[start : start + self.date_count[doc]])

    def published_date(self, doc: int) -> Optional[dt.date]:
        ordinal = self.published[doc]
        return dt.date.fromordinal(ordinal) if ordinal else None

    def labels(self, doc: int) -> Iterator[tuple[str, str]]:
        """(key, label) for the document's entity and headline name keys."""
        exceptions = self.entity_label_exceptions.get(doc, {})
        start = self.key_start[doc]
        for k in self.key_ids[start : start + self.entity_count[doc]]:
            label = exceptions.get(k, self.entity_labels.get(k))
            if label is not None:
                yield self.keys[k], label
        for i in range(self.label_start[doc], self.label_start[doc + 1]):
            yield self.keys[self.label_keys[i]], self.label_names[self.label_values[i]]


def _count(df: np.ndarray, ids: np.ndarray) -> None:
    """One more document for each key id in `ids` (an id may recur)."""
    df += np.bincount(ids, minlength=len(df)).astype(df.dtype)


def _first_of_each(values: np.ndarray) -> np.ndarray:
    """Positions of the first of each distinct value, ascending: what
    `np.unique(values, return_index=True)` gives, sorted, without the
    stable sort it needs (the smallest position of each run of equal
    values after any sort)."""
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(values)
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return np.sort(np.minimum.reduceat(order, starts))
