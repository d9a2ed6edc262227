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
from typing import Any, Iterable, Iterator, Mapping, Optional

from parallel_corpus.records import as_date

__all__ = ["SignatureStore", "ENTITY", "DATE"]

ENTITY = "e:"
DATE = "d:"


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
        for sig in sorted(signatures, key=lambda s: str(s["id"])):
            store.add(sig)
        return store

    def _key(self, name: str, script: int) -> int:
        k = self.vocab.get(name)
        if k is None:
            k = self._new_key(name, script)
        elif not self.multi_script[k] and self._first_script[k] != script:
            self.multi_script[k] = 1
        self.df[k] += 1
        return k

    def _new_key(self, name: str, script: int) -> int:
        k = self.vocab[name] = len(self.keys)
        self.keys.append(sys.intern(name))
        self.df.append(0)
        self._first_script.append(script)
        self.multi_script.append(0)
        return k

    def _label(self, text: str) -> int:
        v = self._label_vocab.get(text)
        if v is None:
            v = self._label_vocab[text] = len(self.label_names)
            self.label_names.append(text)
        return v

    def add(self, sig: Mapping[str, Any]) -> None:
        """One document's signature (`stages.signature.signature`), after the previous one."""
        doc = len(self.ids)
        doc_id = str(sig["id"])
        if doc_id in self.index:
            raise ValueError(f"duplicate document id in signatures: {doc_id}")
        if self.ids and doc_id < self.ids[-1]:
            # Pairs and clusters read store order as id order.
            raise ValueError(f"signatures must come in id order: {doc_id} after {self.ids[-1]}")
        self.index[doc_id] = doc
        self.ids.append(doc_id)
        language = sig.get("language")
        self.languages.append(sys.intern(language) if isinstance(language, str) else language)
        published = as_date(sig.get("published"))
        self.published.append(published.toordinal() if published else 0)
        script_name = str(language or "?")[:2]
        script = self._scripts.setdefault(script_name, len(self._scripts))
        entities = sorted({self._key(ENTITY + str(q), script) for q in sig.get("entities") or []})
        dates = sorted({self._key(DATE + str(d), script) for d in sig.get("dates") or []})
        # `_key` inlined: a document has hundreds of name, number and word
        # keys, and the driver of a parallel build adds every document's.
        rest: dict[int, int] = {}
        vocab, df, first_script, multi_script, max_df = self.vocab, self.df, self._first_script, self.multi_script, self.max_df
        terms = sig.get("terms") or {}
        for name, count in [*((str(k), 1) for k in sig.get("keys") or ()), *((str(k), int(c)) for k, c in terms.items())]:
            k = vocab.get(name)
            if k is None:
                k = self._new_key(name, script)
            elif first_script[k] != script and not multi_script[k]:
                multi_script[k] = 1
            if k in rest:
                continue
            count_df = df[k] + 1
            df[k] = count_df
            # The count includes this document: past max_df it never weighs.
            if count_df <= max_df:
                rest[k] = min(count, 65535)
        self.key_ids.extend(entities)
        self.key_ids.extend(dates)
        ordered = sorted(rest)
        self.key_ids.extend(ordered)
        self.key_counts.extend([1] * (len(entities) + len(dates)))
        self.key_counts.extend([rest[k] for k in ordered])
        self.key_start.append(len(self.key_ids))
        self.entity_count.append(len(entities))
        self.date_count.append(len(dates))
        stored = rest
        for key, label in (sig.get("labels") or {}).items():
            key = str(key)
            if key.startswith(("w:", "n:", "d:", "t:")):
                k = self.vocab.get(key)
                if k is not None and k in stored:
                    self.label_keys.append(k)
                    self.label_values.append(self._label(str(label)))
                continue
            k = self.vocab.get(ENTITY + key)
            if k is None:
                continue
            first = self.entity_labels.setdefault(k, str(label))
            if first != label:
                self.entity_label_exceptions.setdefault(doc, {})[k] = str(label)
        self.label_start.append(len(self.label_keys))

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
