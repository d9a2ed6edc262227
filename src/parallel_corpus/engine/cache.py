"""The build cache: per-document results kept between builds, so that a
rebuild runs the per-document stages only on new or changed documents.

A document's entries are addressed by its `base` key: the sha256 of its raw
bytes (read and hashed by every build: a file changed under the same name is
a new key), of its line in sources.jsonl, and of everything else the stages
read (`fingerprint`: the package's code and version, Python's and the
libraries' versions, langdetect's profiles, the curated YAML the stages load,
the seed and the dataset's languages). Change any of these and every key
changes: none of the old entries is read again.

- `docs/`: one file a document: its distinct segment keys, for the
  corpus-level count of recurring segments (`stages.clean.boilerplate`), so
  that a rebuild does not decode and segment every document again to count
  them; the answers its cleaning got when it asked how many documents of
  the corpus hold a segment, read with the keys, so that the documents those
  answers no longer hold for are known before pass one and go to the
  workers with the new ones; and what pass one made of it: its `Skip`, or
  the pack and row that hold its result;
- `packs/`: the results themselves, one Arrow record batch for the
  documents of a block that were built together (named by the sha256 of its
  bytes), so that a rebuild copies runs of rows instead of decoding them one
  by one: each row with its article for the audit page
  (`audit_page.spill_schema`), so that a rebuild does not render the pages
  of unchanged documents again, its report entry (JSON) and its alignment
  signature as the workers hand it over (`stages.signature.pack`), so that
  a hit reaches the signature store without a Python object per key;
- `index/`: one file a fingerprint: the segment keys and answers of every
  document of the last build with it, the pack and row of its result, and
  its raw file's status and digest (`RawFiles`; about 180 bytes a document),
  so that the count reads one file instead of an entry per document and
  hashes only the raw files whose status changed, and pass one reads a pack
  for every 256 documents instead of an entry for each (on 100,000
  documents, 100,000 reads of files not read for minutes, from disk). It
  only spares reads: a document it does not hold, or all of them when it is
  gone or broken, is looked up in `docs/`. Two corpora built with the same
  fingerprint and one cache keep the index of the last one built.

A document's cleaning depends on the rest of the corpus only through those
answers, so its entry serves only while each answer is on the same side of
`shapes.boilerplate_min_documents`. An answer that moved on the same side
reaches the row only as the score of a `boilerplate` removal
(`pieces._boilerplate` scores it with the count), which is set to the new
count; where the removals cannot be told apart, the document is built again.

Every file is written under a temporary name and renamed into place, and
read back only if its header, length and checksum agree: a torn, truncated
or foreign file, or a result whose pack is gone, is a miss, never an error.
So builds can share the folder, and deleting it (or any file in it) at any
time costs only time. Past its limit, the least recently used files go first
(a hit refreshes a file's time at most once an hour). What is read back is
trusted as the build's own output: point the cache only at a folder nobody
else writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import secrets
import stat
import struct
import sys
import time
import zlib
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Optional, Sequence

import numpy as np
import pyarrow as pa

from parallel_corpus.corpus import Corpus, CorpusError, Source, unsafe_relative_path
from parallel_corpus.records import Skip
from parallel_corpus.engine.audit_page import ARTICLE_COLUMN, missing_articles_made, rescored_article, spill_schema
from parallel_corpus.engine.spill import block_part, sealed
from parallel_corpus.engine.executors import map_chunks, map_tasks, process_chunk_recorded, run_documents, worker_stages
from parallel_corpus.engine.writers import join_batches
from parallel_corpus.stages.clean.boilerplate import Boilerplate
from parallel_corpus.stages.document import ChunkResult, Stages
from parallel_corpus.stages.signature import packed_id

log = logging.getLogger(__name__)

# Bumped whenever the layout or an entry's bytes change.
FORMAT = 7
MAGIC = b"PCCACHE" + bytes([FORMAT])
# MAGIC, crc32 of what follows it (the header's four counts included),
# then: the number of segment keys (8 bytes each, first), the length of the
# compressed part that follows the keys and answers, its length
# uncompressed, and the number of answers (key and documents, 8 bytes
# each: 16 an answer, after the keys). Uncompressed, the compressed part
# is the length of a JSON text and that text: the document's Skip, or the
# pack and row of its row (whose report entry and signature the pack holds).
_HEADER = struct.Struct("<8sIIIII")
_META = struct.Struct("<I")
_CRC_FROM = 12  # the CRC covers the file from here on
# What the cache may hold before the least recently used files go.
DEFAULT_LIMIT_BYTES = 4 * 1024**3
# Trimmed down to this share of the limit, so that trimming is rare.
_TRIM_TO = 0.8
# A hit refreshes its file's time when it is older than this.
_TOUCH_AFTER = 3600.0
# Sources per result handed to pass one (and per pack): a hit is one row,
# so pass one gets batches the size of its spill's (build.SPILL_ROWS).
BLOCK_SOURCES = 256
# Packs kept decoded while a build reads: a block's hits come from the
# packs of the blocks around it in the last build.
_OPEN_PACKS = 4
# Consecutive blocks a worker serves in one task. A block of a rebuild
# mostly straddles two packs of the last build, which its neighbours share:
# blocks handed out one by one alternate between the workers, and each
# worker decoded nearly every pack (twice the packs read); in runs of four,
# a pack is decoded again only where two runs meet (1.25 times).
RUN_BLOCKS = 4
# The curated files of a corpus the per-document stages read (`Stages.load`);
# of dataset.yaml they read the seed and the languages only.
STAGE_FILES = ("cleaning.yaml", "languages.yaml", "dates.yaml", "entities.yaml")
_CODEC = pa.Codec("lz4")
_NONE = bytes(32)
# What a pack holds after the spill's columns: each row's report entry
# (JSON) and packed signature (`stages.signature.pack`).
_PACK_EXTRA = (pa.field("cache_entry", pa.binary()), pa.field("cache_signature", pa.binary()))


def pack_schema() -> pa.Schema:
    schema = spill_schema()
    for field in _PACK_EXTRA:
        schema = schema.append(field)
    return schema


def default_dir() -> Optional[Path]:
    """Where the cache lives unless told: the user's cache folder
    ($XDG_CACHE_HOME, else ~/.cache), outside any build, release or corpus.
    None where the user has no home folder (a container run under an
    unnamed uid, say): the build then goes without a cache."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):
            return None
    return Path(base) / "parallel-corpus"


def fingerprint(corpus: Corpus, seed: int) -> bytes:
    """sha256 of everything the per-document stages read besides a document
    and its source line."""
    h = hashlib.sha256()
    for name, data in fingerprint_parts(corpus, seed):
        h.update(struct.pack("<Q", len(name)) + name.encode() + struct.pack("<Q", len(data)) + data)
    return h.digest()


def fingerprint_parts(corpus: Corpus, seed: int) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each thing `fingerprint` hashes, in a fixed order."""
    import parallel_corpus
    from parallel_corpus._fast.ngram_detector import profiles_directory

    yield "format", str(FORMAT).encode()
    yield "version", parallel_corpus.__version__.encode()
    yield "python", sys.version.encode()
    # langdetect's probabilities are float sums: another machine's last bits
    # may differ, so a cache shared between machines keeps them apart.
    yield "machine", f"{platform.system()} {platform.machine()}".encode()
    for dist in ("pyarrow", "numpy", "PyYAML", "langdetect", "regex"):
        yield f"dist:{dist}", _dist_version(dist).encode()
    # The code itself: a changed stage must not serve old results, whether
    # or not the version number moved. In a checkout, schemas/ is a link to
    # the top-level folder: followed, since the column types are read there.
    package = Path(parallel_corpus.__file__).parent
    found: list[tuple[str, Path]] = []
    for folder, dirs, files in os.walk(package, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in files:
            path = Path(folder) / name
            if path.suffix in (".py", ".json", ".yaml", ".yml", ".xml", ".txt"):
                found.append((path.relative_to(package).as_posix(), path))
    for name, path in sorted(found):
        yield f"code:{name}", path.read_bytes()
    for path in sorted(profiles_directory().iterdir()):
        yield f"profile:{path.name}", path.read_bytes()
    for name in STAGE_FILES:
        yield f"corpus:{name}", corpus.path(name).read_bytes() if corpus.has(name) else b"\0absent"
    yield "seed", str(int(seed)).encode()
    yield "languages", json.dumps([str(c) for c in corpus.dataset().get("languages") or []]).encode()


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


# A file whose status changed this recently may change again within the
# same tick of the file system's clock and keep its status: its digest is
# not remembered (git's "racy clean" rule).
SETTLED_SECONDS = 2.0
# A file's status as remembered: device, inode, size, modified and changed
# times (ns). Only the kernel sets the changed time: a file written again
# has another, whatever its contents and modified time.
_STATUS = struct.Struct("<qqqqq")
STAMP_BYTES = _STATUS.size + 32


def _status(st: os.stat_result) -> bytes:
    return _STATUS.pack(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class RawFiles:
    """sha256 of the sources' raw bytes as they are now. A plain file under
    raw/ is opened directly (its folder resolved once); anything else goes
    through `Corpus.resolve_raw`, which refuses what leaves raw/.

    `known` maps a plain file's status (`_status`) to the digest its bytes
    had when the last build read them (the index keeps them): a file whose
    status is the same is not read again. Reading 100,000 raw files was most
    of a rebuild's count. After each call, `stamp` is the file's status and
    digest, to be remembered, or b"" (not a plain file under raw/, or
    changed less than SETTLED_SECONDS before it was read)."""

    def __init__(self, corpus: Corpus, known: Optional[dict[bytes, bytes]] = None):
        self.corpus = corpus
        self.raw = os.path.realpath(corpus.raw_dir)
        self._inside: dict[str, bool] = {}
        self.known: dict[bytes, bytes] = known or {}
        self.stamp = b""

    def sha256(self, source: Source) -> Optional[bytes]:
        """None when the file cannot be read (the stages then say why)."""
        self.stamp = b""
        if unsafe_relative_path(source.file) is None:
            path = os.path.join(self.raw, source.file)
            folder = os.path.dirname(path)
            inside = self._inside.get(folder)
            if inside is None:
                real = os.path.realpath(folder)
                inside = self._inside[folder] = real == self.raw or real.startswith(self.raw + os.sep)
            if inside:
                if self.known:
                    try:
                        st = os.lstat(path)
                    except OSError:
                        st = None
                    if st is not None and stat.S_ISREG(st.st_mode):
                        status = _status(st)
                        digest = self.known.get(status)
                        if digest is not None:
                            self.stamp = status + digest
                            return digest
                try:
                    # Not following a link, and not waiting on a FIFO.
                    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
                except OSError:
                    fd = -1
                if fd >= 0:
                    with open(fd, "rb") as fh:
                        # The status before the bytes: a write while they are
                        # read gives the file another status.
                        st = os.fstat(fd)
                        if not stat.S_ISREG(st.st_mode):
                            return None
                        digest = hashlib.sha256(fh.read()).digest()
                        if time.time() - st.st_ctime_ns / 1e9 >= SETTLED_SECONDS:
                            self.stamp = _status(st) + digest
                        return digest
        try:
            with open(self.corpus.resolve_raw(source), "rb") as fh:
                return hashlib.sha256(fh.read()).digest()
        except (CorpusError, OSError):
            return None


# -- the files --------------------------------------------------------------------


@dataclass
class Stats:
    """What one build found in the cache and wrote to it (logged when it
    ends; scripts/bench reads it)."""

    keys_hits: int = 0
    keys_misses: int = 0
    docs_hits: int = 0
    docs_misses: int = 0
    docs_rescored: int = 0
    # Cleaned again by the workers: the answers their cleaning got no longer
    # hold (`BuildCache.stale`).
    docs_stale: int = 0
    # Built where they were read (a worker, or on Ray the build's own
    # process): their entry was found unusable only then (see `documents`).
    docs_here: int = 0
    bytes_written: int = 0
    write_failed: bool = False


class BuildCache:
    """A cache folder, bound to one build's `fingerprint`."""

    def __init__(self, root: Path, fingerprint: bytes, limit_bytes: int = DEFAULT_LIMIT_BYTES):
        self.root = Path(root)
        self.dir = self.root / f"v{FORMAT}"
        self.fingerprint = fingerprint
        self.limit_bytes = int(limit_bytes)
        self.stats = Stats()
        # The base key of every source, in source order, found while the
        # segments are counted (all zeros: its raw file could not be read).
        self.bases = bytearray()
        # The sources the cache has no entry for, with their segment keys;
        # and the answers (key, documents, flattened) of those it has.
        self.fresh = _Lists()
        self.answers = _Lists()
        # What the next index holds of each source, in source order: the row
        # of the index the count read it from (-1: not there), or its keys
        # and answers (`carried_own`; answers None until it is built).
        self.carried = array("q")
        self.carried_own: dict[int, tuple[bytes, Optional[bytes]]] = {}
        self.index: Optional[_Index] = None
        # The pack (a number in `pack_numbers`, -1: none) and row of each
        # source's result as this build served or stored it, for the next index.
        self.place_pack = array("q")
        self.place_row = array("q")
        self.pack_numbers: dict[str, int] = {}
        # Each source's raw file's status and digest (`RawFiles.stamp`; zeros: none).
        self.stamps = bytearray()
        self.arrow_schema = spill_schema()
        self.pack_schema = pack_schema()
        self._prefix = f"{self.dir}{os.sep}"
        self._made: set[str] = set()
        self._packs: OrderedDict[str, Optional[_Pack]] = OrderedDict()

    @classmethod
    def open(cls, root: Path, corpus: Corpus, seed: int, limit_bytes: int = DEFAULT_LIMIT_BYTES) -> "BuildCache":
        return cls(root, fingerprint(corpus, seed), limit_bytes)

    def base(self, digest: Optional[bytes], source: Source) -> bytes:
        """The key of a source whose raw bytes have this sha256."""
        if digest is None:
            return _NONE
        record = json.dumps(source.as_record(), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(self.fingerprint + digest + record).digest()

    def _path(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}{os.sep}{name[:2]}{os.sep}{name}"

    def _read(self, kind: str, name: str) -> Optional[tuple[memoryview, memoryview, memoryview, int]]:
        """(keys bytes, answers bytes, compressed part, its size uncompressed)
        of a file whose header and checksum agree, else None."""
        try:
            with open(self._path(kind, name), "rb") as fh:
                data = fh.read()
                if time.time() - os.fstat(fh.fileno()).st_mtime > _TOUCH_AFTER:
                    try:
                        os.utime(fh.fileno())
                    except OSError:
                        pass  # a cache it may only read still serves
        except OSError:
            return None
        if len(data) < _HEADER.size:
            return None
        magic, crc, nkeys, length, size, nasked = _HEADER.unpack_from(data)
        rest = memoryview(data)[_HEADER.size :]
        if magic != MAGIC or 8 * nkeys + 16 * nasked + length != len(rest) or zlib.crc32(memoryview(data)[_CRC_FROM:]) != crc:
            return None
        plain = 8 * nkeys + 16 * nasked
        return rest[: 8 * nkeys], rest[8 * nkeys : plain], rest[plain:], size

    def _plain(self, kind: str, name: str) -> Optional[bytes]:
        found = self._read(kind, name)
        if found is None:
            return None
        try:
            return _decompressed(found)
        except (pa.ArrowException, ValueError, OSError):  # pyarrow says "buffer too small" as OSError
            return None

    def _write(self, kind: str, name: str, plain: bytes, keys: bytes = b"", asked: bytes = b"") -> bool:
        """Write an entry atomically; a failure (a full disk, the folder
        deleted under the build) turns writing off for this build, never
        the build."""
        if self.stats.write_failed:
            return False
        path = self._path(kind, name)
        folder = os.path.dirname(path)
        # Unique among processes of other machines or containers sharing the folder.
        tmp = os.path.join(folder, f".{name}.tmp{os.getpid()}.{secrets.token_hex(4)}")
        rest = keys + asked + _CODEC.compress(plain, asbytes=True)
        counts = struct.pack("<IIII", len(keys) // 8, len(rest) - len(keys) - len(asked), len(plain), len(asked) // 16)
        data = MAGIC + struct.pack("<I", zlib.crc32(counts + rest)) + counts + rest
        try:
            if folder not in self._made:
                os.makedirs(folder, exist_ok=True)
                self._made.add(folder)
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            self.stats.write_failed = True
            _unlink(tmp)
            log.warning("warning: build cache %s: cannot write (%s); the build goes on without storing its results", self.root, exc.strerror or exc)
            return False
        self.stats.bytes_written += len(data)
        return True

    def keys_of(self, base: bytes, source: Source, stages: Stages) -> list[int]:
        """The document's distinct segment keys, to store with a result built
        again: the stored ones, else made (the entry is gone or broken)."""
        found = self._read("docs", base.hex()) if base != _NONE else None
        return np.frombuffer(found[0], dtype="<u8").tolist() if found is not None else stages.segment_keys([source])

    def get_doc(self, base: bytes, boilerplate: Boilerplate, min_documents: int, doc_id: Optional[str] = None) -> Optional["Item"]:
        """Pass one's result for the document, if stored and still true for
        the corpus's counts of recurring segments: found through its entry
        in `docs/` (`get_row` when the index says where it is)."""
        found = self._read("docs", base.hex()) if base != _NONE else None
        if found is None:
            return None
        try:
            asked = _answers(found[1])
            plain = _decompressed(found)
            (length,) = _META.unpack_from(plain)
            meta = json.loads(plain[_META.size : _META.size + length])
            if meta["skip"] is not None:
                if _moved(asked, boilerplate.counts, min_documents) is None:
                    return None
                return Item(Skip(**meta["skip"]), None, 0, None, None, asked)
            return self.get_row(str(meta["pack"]), int(meta["row"]), asked, boilerplate, min_documents, doc_id)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, OSError, pa.ArrowException):
            return None  # pyarrow says "buffer too small" as OSError

    def get_row(self, name: str, row: int, asked: list[tuple[int, int]], boilerplate: Boilerplate, min_documents: int,
                expected: Optional[str] = None) -> Optional["Item"]:
        """Pass one's result held in row `row` of pack `name`, if still true
        for the corpus's counts (`asked`: the answers its cleaning got) and
        the document `expected` (its id) when given."""
        counts = boilerplate.counts
        moved = _moved(asked, counts, min_documents)
        pack = self._pack(name) if moved is not None else None
        if pack is None or not 0 <= row < len(pack.ids):
            return None
        doc_id, signature = pack.ids[row], pack.signatures[row]
        if expected is not None and doc_id != expected:
            return None
        try:
            entry = json.loads(pack.entries[row])
        except (TypeError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("id") != doc_id or not isinstance(signature, bytes) or packed_id(signature) != doc_id:
            return None
        batch, index = pack.rows, row
        if moved:
            rescored = _rescored(batch.slice(index, 1), asked, counts, min_documents)
            if rescored is None:
                return None
            self.stats.docs_rescored += 1
            batch, index = rescored, 0
        return Item(None, batch, index, entry, signature, asked, (name, row))

    def _pack(self, name: str) -> Optional["_Pack"]:
        if name in self._packs:
            self._packs.move_to_end(name)
            return self._packs[name]
        plain = self._plain("packs", name) if len(name) == 64 else None
        pack = None
        if plain is not None:
            try:
                batch = pa.ipc.read_record_batch(pa.py_buffer(plain), self.pack_schema)
                batch.validate()
                n = len(self.arrow_schema)
                pack = _Pack(pa.RecordBatch.from_arrays(batch.columns[:n], schema=self.arrow_schema), batch.column("id").to_pylist(),
                             batch.column(n).to_pylist(), batch.column(n + 1).to_pylist())
            except (pa.ArrowException, ValueError):
                pack = None
        self._packs[name] = pack
        if len(self._packs) > _OPEN_PACKS:
            self._packs.popitem(last=False)
        return pack

    def stale(self, counts: dict[int, int], min_documents: int) -> list[int]:
        """Positions of the sources whose entry the stored answers say cannot
        serve (`_clean_again`): found before pass one, so that they go to the
        workers with the new documents. The answers are let go."""
        answers, self.answers = self.answers, _Lists()
        found = []
        for n, position in enumerate(answers.positions):
            flat = answers.get(n)
            if _clean_again(list(zip(flat[::2], flat[1::2])), counts, min_documents):
                found.append(position)
        return found

    def put_docs(self, made: list[tuple[bytes, "Item", Sequence[int]]]) -> list[Optional[tuple[str, int]]]:
        """Store documents built together, with their segment keys: their
        results as one pack, then an entry each (an entry never points at a
        pack that was not written). Returns where each document's result
        is (pack and row; None: a Skip, or not stored)."""
        placed: list[Optional[tuple[str, int]]] = [None] * len(made)
        kept = [k for k, (base, item, _) in enumerate(made) if base != _NONE and item.asked is not None]
        rows = [made[k][1] for k in kept if made[k][1].skip is None]
        name = ""
        if rows:
            batch = _joined(rows)
            entries = pa.array([json.dumps(item.entry, ensure_ascii=False, separators=(",", ":")).encode() for item in rows], pa.binary())
            signatures = pa.array([bytes(item.signature or b"") for item in rows], pa.binary())
            plain = pa.RecordBatch.from_arrays([*batch.columns, entries, signatures], schema=self.pack_schema).serialize().to_pybytes()
            name = hashlib.sha256(plain).hexdigest()
            if not self._write("packs", name, plain):
                return placed
        row = 0
        for k in kept:
            base, item, keys = made[k]
            if item.skip is None:
                meta = {"skip": None, "pack": name, "row": row}
                placed[k] = (name, row)
                row += 1
            else:
                meta = {"skip": item.skip.as_dict(), "pack": None, "row": None}
            text = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode()
            if not self._write("docs", base.hex(), _META.pack(len(text)) + text, _u8(keys), _u8(item.asked)):
                break
        return placed

    def place(self, position: int, name: str, row: int) -> None:
        """Where the result of the source at `position` is, for the next index."""
        number = self.pack_numbers.setdefault(name, len(self.pack_numbers))
        self.place_pack[position] = number
        self.place_row[position] = row

    # -- the index ------------------------------------------------------------------------

    def _index_name(self) -> str:
        return hashlib.sha256(b"index" + self.fingerprint).hexdigest()

    def load_index(self) -> Optional["_Index"]:
        """The index the last build with this fingerprint wrote, if it is
        whole (None: the count reads the entries)."""
        plain = self._plain("index", self._index_name())
        return _Index.of(plain) if plain is not None else None

    def write_index(self) -> None:
        """The index of this build: every source with a base key and an entry,
        its keys and answers as `carried` and `carried_own` say (rows of
        `index`, the one the count read), and where its result is
        (`place`)."""
        if self.stats.write_failed:
            return
        bases, stamps, index = self.bases, self.stamps, self.index
        kept, kept_stamps, key_parts, ask_parts, key_ends, ask_ends = [], [], [], [], array("q"), array("q")
        pack_of, row_of = array("q"), array("q")
        numbers: dict[int, int] = {}  # this build's pack numbers -> the index's
        nkeys = nasked = 0
        for i, row in enumerate(self.carried):
            base = bytes(bases[32 * i : 32 * i + 32])
            if base == _NONE:
                continue
            own = self.carried_own.get(i)  # first: a document built again
            if own is not None:
                if own[1] is None:
                    continue  # never built, so never stored
                keys, asked = np.frombuffer(own[0], dtype="<u8"), np.frombuffer(own[1], dtype="<u8")
            elif row >= 0 and index is not None:
                keys, asked = index.keys_of(row), index.asked_of(row)
            else:
                continue
            kept.append(base)
            kept_stamps.append(bytes(stamps[STAMP_BYTES * i : STAMP_BYTES * (i + 1)]))
            key_parts.append(keys)
            ask_parts.append(asked)
            nkeys += len(keys)
            nasked += len(asked)
            key_ends.append(nkeys)
            ask_ends.append(nasked)
            number = self.place_pack[i]
            pack_of.append(numbers.setdefault(number, len(numbers)) if number >= 0 else -1)
            row_of.append(self.place_row[i] if number >= 0 else -1)
        names = {number: name for name, number in self.pack_numbers.items()}
        packs = [bytes.fromhex(names[number]) for number in numbers]
        plain = b"".join([
            _INDEX_HEADER.pack(len(kept), nkeys, nasked, len(packs)), *kept, *kept_stamps, key_ends.tobytes(), ask_ends.tobytes(),
            pack_of.tobytes(), row_of.tobytes(),
            np.concatenate(key_parts).astype("<u8").tobytes() if key_parts else b"",
            np.concatenate(ask_parts).astype("<u8").tobytes() if ask_parts else b"",
            *packs,
        ])
        self._write("index", self._index_name(), plain)

    # -- the limit ------------------------------------------------------------------------

    def finish(self) -> None:
        """After a build: say what was reused, and trim the folder when what it
        may hold (the size last measured plus what was written since) passes
        the limit."""
        s = self.stats
        log.info("build cache %s: %d of %d documents reused (%d with new boilerplate scores), %d of %d segment lists; "
                 "%d cleaned again as their furniture changed, %d entries found unusable when read",
                 self.root, s.docs_hits, s.docs_hits + s.docs_misses, s.docs_rescored, s.keys_hits, s.keys_hits + s.keys_misses, s.docs_stale, s.docs_here)
        self._packs.clear()
        if s.write_failed or not self.dir.is_dir():
            return
        usage_path = self.root / "usage.json"
        try:
            usage = int(json.loads(usage_path.read_text())["bytes"])
        except (OSError, ValueError, KeyError, TypeError):
            usage = None
        total = usage + s.bytes_written if usage is not None else self.limit_bytes + 1
        if total > self.limit_bytes:
            total = trim(self.root, self.limit_bytes)
        tmp = usage_path.with_name(f".usage.json.tmp{os.getpid()}")
        try:
            tmp.write_text(json.dumps({"bytes": total}))
            os.replace(tmp, usage_path)
        except OSError:
            pass


def _u8(values: Any) -> bytes:
    """Integers as the cache stores them (segment keys, and answers as
    flattened (key, documents) pairs): little-endian uint64."""
    return np.asarray(values if values is not None else [], dtype="<u8").tobytes()


def _answers(data: Any) -> list[tuple[int, int]]:
    """Stored answers (`_u8` of flattened pairs) as (key, documents) pairs."""
    return [(int(k), int(c)) for k, c in np.frombuffer(data, dtype="<u8").reshape(-1, 2).tolist()]


def _moved(asked: Sequence[tuple[int, int]], counts: dict[int, int], min_documents: int) -> Optional[bool]:
    """None where an answer moved across the threshold (the document must be
    cleaned again), else whether one at or past it moved (its `boilerplate`
    removals get new scores: `_rescored`)."""
    moved = False
    for key, then in asked:
        now = counts.get(key, 0)
        if now != then:
            if _crosses(then, now, min_documents):
                return None
            moved = moved or then >= min_documents
    return moved


def _decompressed(found: tuple[memoryview, memoryview, memoryview, int]) -> bytes:
    """The compressed part of a file `BuildCache._read` returned, uncompressed
    (raises what pyarrow raises when it is not what its header says)."""
    return _CODEC.decompress(found[2], decompressed_size=found[3], asbytes=True)


def _clean_again(asked: Sequence[tuple[int, int]], counts: dict[int, int], min_documents: int) -> bool:
    """Whether a document's answers alone say it must be cleaned again: one
    moved across the threshold, or two that got the same count then get
    different ones now (a `boilerplate` removal's score is its count then,
    so `_rescored` could not tell which new count it gets). The second is
    cautious: such a document may hold no removal with that score."""
    new_of_old: dict[int, int] = {}
    for key, then in asked:
        now = counts.get(key, 0)
        if _crosses(then, now, min_documents):
            return True
        if then >= min_documents and new_of_old.setdefault(then, now) != now:
            return True
    return False


def _crosses(then: int, now: int, min_documents: int) -> bool:
    """Whether an answer moved across the threshold: cleaning would then
    decide otherwise, and the document must be cleaned again."""
    return (now >= min_documents) != (then >= min_documents)


def trim(folder: Path, limit_bytes: int) -> int:
    """Remove the least recently used files until the cache folder holds at most
    _TRIM_TO of `limit_bytes`, and the temporary files of killed builds;
    returns the bytes left. Another build may be reading or writing: a file
    gone is a miss for it, never an error."""
    files: list[tuple[bool, float, int, str]] = []
    now = time.time()
    try:
        # Every format's folder: another format's files go first.
        kinds = [(v.name == f"v{FORMAT}", os.path.join(v.path, k)) for v in os.scandir(folder) if v.is_dir() and v.name.startswith("v") for k in ("docs", "packs", "index")]
    except OSError:
        kinds = []
    for current, kind in kinds:
        try:
            shards = list(os.scandir(kind))
        except OSError:
            continue
        for shard in shards:
            try:
                entries = list(os.scandir(shard.path))
            except OSError:
                continue
            for e in entries:
                try:
                    st = e.stat()
                except OSError:
                    continue
                if e.name.startswith("."):
                    if now - st.st_mtime > _TOUCH_AFTER:
                        _unlink(e.path)
                    continue
                files.append((current, st.st_mtime, st.st_size, e.path))
    total = sum(f[2] for f in files)
    if total <= limit_bytes:
        return total
    files.sort()
    goal = limit_bytes * _TRIM_TO
    for _, _, size, path in files:
        if total <= goal:
            break
        _unlink(path)
        total -= size
    log.info("build cache %s: trimmed to %.0f MB (limit %.0f MB)", folder, total / 1e6, limit_bytes / 1e6)
    return total


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# -- one document's result ---------------------------------------------------------------


@dataclass
class Item:
    """Pass one's result for one source: its Skip, or its row (row `index`
    of `batch`), report entry and signature; `asked` are the
    (segment key, documents) answers its cleaning got, None when not
    recorded (then it is not stored)."""

    skip: Optional[Skip]
    batch: Optional[pa.RecordBatch]
    index: int
    entry: Optional[dict[str, Any]]
    signature: Optional[bytes]  # packed (`stages.signature.pack`)
    asked: Optional[list[tuple[int, int]]]
    place: Optional[tuple[str, int]] = None  # the pack and row it was read from


class _Pack(NamedTuple):
    """A pack as read: its rows (`spill_schema`), and their ids, report
    entries (JSON) and packed signatures."""

    rows: pa.RecordBatch
    ids: list[str]
    entries: list[bytes]
    signatures: list[bytes]


def items_of(result: ChunkResult, asked: Optional[list[list[tuple[int, int]]]]) -> Iterator[Item]:
    """A chunk's results one source at a time."""
    built = 0
    for i, outcome in enumerate(result.outcomes):
        a = asked[i] if asked is not None else None
        if outcome is not None:
            yield Item(outcome, None, 0, None, None, a)
            continue
        yield Item(None, result.batch, built, result.entries[built], result.signatures[built], a)
        built += 1


def _joined(items: list[Item]) -> pa.RecordBatch:
    """The items' rows as one record batch: a run of consecutive rows of one
    batch is one slice, so that a block read from a few packs is a few
    copies, not one per row."""
    runs: list[pa.RecordBatch] = []
    start = 0
    while start < len(items):
        end = start + 1
        batch, first = items[start].batch, items[start].index
        while end < len(items) and items[end].batch is batch and items[end].index == first + (end - start):
            end += 1
        runs.append(batch.slice(first, end - start))  # type: ignore[union-attr]
        start = end
    return join_batches(runs)


def chunk_of(items: list[Item], articles: bool = False) -> ChunkResult:
    """The items of consecutive sources as one ChunkResult; with `articles`,
    the articles its rows lack made (`audit_page.missing_articles_made`)."""
    result = ChunkResult()
    rows = []
    for item in items:
        result.outcomes.append(item.skip)
        if item.skip is None:
            rows.append(item)
            result.entries.append(item.entry)  # type: ignore[arg-type]
            result.signatures.append(item.signature)  # type: ignore[arg-type]
    if rows:
        result.batch = _joined(rows)
        if articles:
            result.batch = missing_articles_made(result.batch)
    return result


def _rescored(row: pa.RecordBatch, asked: list[tuple[int, int]], counts: dict[int, int], min_documents: int) -> Optional[pa.RecordBatch]:
    """The row with the score of each `boilerplate` removal set to its
    segment's count now. A removal is matched to the answers by its old
    score (the count it got); if answers with that score now differ, None:
    the document is built again."""
    new_of_old: dict[int, set[int]] = {}
    for key, then in asked:
        if then >= min_documents:
            new_of_old.setdefault(then, set()).add(counts.get(key, 0))
    column = row.schema.get_field_index("removed_lines")
    removed = row.column(column).to_pylist()[0] or []
    scores: dict[float, float] = {}
    for line in removed:
        if line["reason"] != "boilerplate":
            continue
        new = new_of_old.get(int(line["score"]))
        if new is None or len(new) != 1 or line["score"] != int(line["score"]):
            return None
        scores[line["score"]] = float(next(iter(new)))
        line["score"] = scores[line["score"]]
    columns = list(row.columns)
    columns[column] = pa.array([removed], type=row.schema.field(column).type)
    # Its article shows the old scores: the new ones put in their place, or
    # where that fails, made again by the worker that read it
    # (`audit_page.missing_articles_made`).
    article = row.schema.get_field_index(ARTICLE_COLUMN)
    shown = row.column(article)[0].as_py()
    columns[article] = pa.array([rescored_article(shown, scores) if shown is not None else None], type=row.schema.field(article).type)
    return pa.RecordBatch.from_arrays(columns, schema=row.schema)


# -- the build's two uses -----------------------------------------------------------------


def segment_keys(cache: BuildCache, corpus_dir: Path, sources: Sequence[Source], seed: int, workers: int, engine: str, stages: Stages) -> Iterator[list[int]]:
    """Each source's distinct segment keys (for `Stages.count_boilerplate`),
    from the cache where it has them (its index, else its entries), else
    made; the made ones are kept (compactly) until pass one stores them with
    the document. Hashes every raw file whose status the index does not
    know (`RawFiles`), and keeps each source's base key and the stored
    answers for pass one, and what the next index holds (`carried`,
    `stamps`). The pool's workers do this chunk by chunk where the build
    has them (`executors.map_chunks`), the index inherited where they are
    forked (spawned ones read the entries)."""
    global _INDEX
    bases = cache.bases = bytearray(32 * len(sources))
    answers = cache.answers = _Lists()
    fresh = cache.fresh = _Lists()
    carried, own = cache.carried, cache.carried_own
    stamps = cache.stamps = bytearray(STAMP_BYTES * len(sources))
    cache.place_pack = array("q", [-1]) * len(sources)
    cache.place_row = array("q", [-1]) * len(sources)
    cache.pack_numbers = {}
    look_up = partial(_look_up, str(cache.root), cache.fingerprint)
    _READERS.clear()  # nothing of an earlier build of this process (nor forked into its workers)
    index = cache.index = cache.load_index()
    # Forked workers read it from here; spawned ones read the entries.
    _INDEX = (str(cache.root), cache.fingerprint, index, index.known()) if index is not None else None
    i = 0
    try:
        for looked_up in map_chunks(look_up, corpus_dir, sources, seed, workers, engine, stages):
            for base, keys, asked, made, row, stamp in looked_up:
                bases[32 * i : 32 * i + 32] = base
                if stamp:
                    stamps[STAMP_BYTES * i : STAMP_BYTES * (i + 1)] = stamp
                carried.append(row)
                if row >= 0:
                    cache.stats.keys_hits += 1
                    answers.add(i, index.asked_of(row).tolist())  # type: ignore[union-attr]
                    yield index.keys_of(row).tolist()  # type: ignore[union-attr]
                elif made is None:
                    cache.stats.keys_hits += 1
                    own[i] = (keys, asked)
                    answers.add(i, np.frombuffer(asked, dtype="<u8").tolist())
                    yield np.frombuffer(keys, dtype="<u8").tolist()
                else:
                    cache.stats.keys_misses += 1
                    own[i] = (_u8(made), None)
                    fresh.add(i, made)
                    yield made
                i += 1
    finally:
        _INDEX = None  # not forked into pass one's workers


# A process's view of the cache folder for `_look_up` and `_serve` (a
# worker's, or the driver's with one worker), made at its first use (a
# worker serves one build; the driver clears it before each use and after
# pass one).
_READERS: dict[tuple[str, bytes], tuple[BuildCache, RawFiles]] = {}
# The index the count read (cache folder, fingerprint, index, its
# `RawFiles.known`), while it runs.
_INDEX: Optional[tuple[str, bytes, "_Index", dict[bytes, bytes]]] = None


def _look_up(root: str, fingerprint: bytes, sources: list[Source]) -> list[tuple[bytes, bytes, bytes, Optional[list[int]], int, bytes]]:
    """(base key, stored segment keys, stored answers, made keys, index row,
    raw file's stamp) of each source: its row in the index where the index
    has the source (keys and answers empty), else the keys and answers as
    stored (bytes) where the cache has it, else its keys made (`made`, None
    on a hit; row -1). The stamp is `RawFiles.stamp`."""
    stages = worker_stages()
    cache, raw = _reader(root, fingerprint, stages)
    index, raw.known = (_INDEX[2], _INDEX[3]) if _INDEX is not None and _INDEX[:2] == (root, fingerprint) else (None, {})
    out: list[tuple[bytes, bytes, bytes, Optional[list[int]], int, bytes]] = []
    for source in sources:
        base = cache.base(raw.sha256(source), source)
        stamp = raw.stamp
        row = index.row.get(base, -1) if index is not None and base != _NONE else -1
        if row >= 0:
            out.append((base, b"", b"", None, row, stamp))
            continue
        found = cache._read("docs", base.hex()) if base != _NONE else None
        if found is None:
            out.append((base, b"", b"", stages.segment_keys([source]), -1, stamp))
        else:
            out.append((base, bytes(found[0]), bytes(found[1]), None, -1, stamp))
    return out


def _reader(root: str, fingerprint: bytes, stages: Stages) -> tuple[BuildCache, RawFiles]:
    """This process's view of the cache folder, made at its first use in a build."""
    readers = _READERS.get((root, fingerprint))
    if readers is None:
        readers = _READERS[(root, fingerprint)] = (BuildCache(Path(root), fingerprint), RawFiles(stages.corpus))
    return readers


class _Lists:
    """Lists of integers of some sources, in source order, in flat arrays:
    a few bytes a list beyond its integers (8 bytes each)."""

    def __init__(self) -> None:
        self.positions = array("q")
        self.ends = array("q")
        self.values = array("Q")

    def add(self, position: int, values: Sequence[int]) -> None:
        self.positions.append(position)
        self.values.extend(values)
        self.ends.append(len(self.values))

    def get(self, n: int) -> list[int]:
        """The list of the nth source added."""
        return self.values[self.ends[n - 1] if n else 0 : self.ends[n]].tolist()

    def merged(self, other: "_Lists") -> "_Lists":
        """Both lists' sources, in source order."""
        if not len(other.positions):
            return self
        out = _Lists()
        a = b = 0
        while a < len(self.positions) or b < len(other.positions):
            if b == len(other.positions) or (a < len(self.positions) and self.positions[a] < other.positions[b]):
                out.add(self.positions[a], self.get(a))
                a += 1
            else:
                out.add(other.positions[b], other.get(b))
                b += 1
        return out


# The index's counts: documents, segment keys, answers' integers, packs.
_INDEX_HEADER = struct.Struct("<QQQQ")


class _Index:
    """A build's segment keys, answers and results' places, by base key
    (`BuildCache.write_index`): base keys (32 bytes each), each raw file's
    status and digest (`RawFiles.stamp`, zeros where none), where each
    document's keys and answers end, its pack (a number into the names at
    the end; -1: none) and row (int64 each), then the keys and the answers'
    integers (uint64), then the packs' names (32 bytes each)."""

    def __init__(self, bases: bytes, stamps: bytes, key_ends: np.ndarray, keys: np.ndarray, ask_ends: np.ndarray, asked: np.ndarray,
                 pack_of: np.ndarray, row_of: np.ndarray, packs: list[str]):
        self.row = {bases[32 * i : 32 * i + 32]: i for i in range(len(key_ends))}
        self.stamps = stamps
        self.key_ends, self.keys, self.ask_ends, self.asked = key_ends, keys, ask_ends, asked
        self.pack_of, self.row_of, self.packs = pack_of, row_of, packs

    def known(self) -> dict[bytes, bytes]:
        """Raw file status -> digest (`RawFiles.known`)."""
        out = {}
        status = _STATUS.size
        for at in range(0, len(self.stamps), STAMP_BYTES):
            stamp = self.stamps[at : at + STAMP_BYTES]
            if stamp[:status] != bytes(status):
                out[stamp[:status]] = stamp[status:]
        return out

    @classmethod
    def of(cls, plain: bytes) -> Optional["_Index"]:
        """The index in these bytes, or None when they do not hold one whole."""
        if len(plain) < _INDEX_HEADER.size:
            return None
        n, nkeys, nasked, npacks = _INDEX_HEADER.unpack_from(plain)
        sizes = [32 * n, STAMP_BYTES * n, 8 * n, 8 * n, 8 * n, 8 * n, 8 * nkeys, 8 * nasked, 32 * npacks]
        if _INDEX_HEADER.size + sum(sizes) != len(plain) or nasked % 2:
            return None
        at = np.cumsum([_INDEX_HEADER.size] + sizes).tolist()
        key_ends, ask_ends, pack_of, row_of = (np.frombuffer(plain, dtype="<i8", count=n, offset=at[k]) for k in (2, 3, 4, 5))
        for ends, total in ((key_ends, nkeys), (ask_ends, nasked)):
            # Each document's part runs forward and the last ends at the total.
            if n and (ends[0] < 0 or (np.diff(ends) < 0).any() or ends[-1] != total) or (not n and total):
                return None
        if (ask_ends % 2).any() or (pack_of < -1).any() or (pack_of >= npacks).any() or (row_of[pack_of >= 0] < 0).any():
            return None
        keys = np.frombuffer(plain, dtype="<u8", count=nkeys, offset=at[6])
        asked = np.frombuffer(plain, dtype="<u8", count=nasked, offset=at[7])
        packs = [plain[at[8] + 32 * k : at[8] + 32 * k + 32].hex() for k in range(npacks)]
        index = cls(plain[at[0] : at[1]], plain[at[1] : at[2]], key_ends, keys, ask_ends, asked, pack_of, row_of, packs)
        return index if len(index.row) == n else None

    def keys_of(self, row: int) -> np.ndarray:
        return self.keys[self.key_ends[row - 1] if row else 0 : self.key_ends[row]]

    def asked_of(self, row: int) -> np.ndarray:
        return self.asked[self.ask_ends[row - 1] if row else 0 : self.ask_ends[row]]

    def place(self, row: int) -> Optional[tuple[str, int, bytes]]:
        """The pack and row of the document's result and its answers (`_u8`),
        or None where the index does not know them (a Skip)."""
        pack = int(self.pack_of[row])
        return (self.packs[pack], int(self.row_of[row]), self.asked_of(row).tobytes()) if pack >= 0 else None


def documents(
    cache: BuildCache, corpus_dir: Path, sources: Sequence[Source], seed: int, workers: int, engine: str, ray_address: Optional[str], stages: Stages,
    articles: bool = True, spill_dir: Optional[Path] = None,
) -> Iterator[ChunkResult]:
    """Pass one's results in source order, BLOCK_SOURCES at a time: stored
    ones read back, the others made and stored. Made are the new or changed
    documents, those whose stored answers the corpus's counts no longer hold
    for (`BuildCache.stale`, known before pass one), and those whose result
    is found unusable only once read: broken or gone since the count, or
    holding a removal `_rescored` cannot match to an answer.

    On the local engine the pool's workers do it all, a block at a time,
    in runs of consecutive blocks (`_serve`, `RUN_BLOCKS`): read the block's results back from their packs (where the
    index says, else where their entries say), build the rest, write the
    block's rows as a part of the build's spill in `spill_dir`, and hand
    the block over as one result, with the rows it built, so the driver
    neither parses entries, nor receives rows, nor waits for single
    documents; it stores what was built (`put_docs`). On
    Ray the driver reads the entries and Ray builds the new documents; what
    Ray builds is not stored (its workers do not record the answers), so
    the entries `stale` would name are read and built in the driver."""
    bases = cache.bases
    if len(bases) != 32 * len(sources):
        raise RuntimeError("the build cache's segment count must run before pass one")
    boilerplate = stages.boilerplate or Boilerplate()
    min_documents = stages.rules.shapes.boilerplate_min_documents
    stale = _Lists()
    for i in cache.stale(boilerplate.counts, min_documents) if engine != "ray" else ():
        stale.add(i, cache.keys_of(bytes(bases[32 * i : 32 * i + 32]), sources[i], stages))
    cache.stats.docs_stale += len(stale.positions)
    cache.fresh = cache.fresh.merged(stale)
    if engine == "ray":
        yield from _documents_on_ray(cache, corpus_dir, sources, seed, workers, engine, ray_address, stages, articles, boilerplate, min_documents)
    else:
        if spill_dir is None:
            raise RuntimeError("the build cache's workers need the spill's folder")
        yield from _documents_served(cache, corpus_dir, sources, seed, workers, engine, stages, articles, spill_dir)
        # What Ray builds is not stored: its index would name entries that are not there.
        cache.write_index()
    cache.index, cache.carried_own = None, {}
    cache.finish()


def _documents_served(cache: BuildCache, corpus_dir: Path, sources: Sequence[Source], seed: int, workers: int, engine: str, stages: Stages, articles: bool,
                      spill_dir: Path) -> Iterator[ChunkResult]:
    bases, fresh, carried, index = cache.bases, cache.fresh, cache.carried, cache.index
    positions = fresh.positions

    def blocks() -> Iterator[tuple[int, list[Source], bytes, list[int], list[Optional[tuple[str, int, bytes]]]]]:
        n = 0
        for start in range(0, len(sources), BLOCK_SOURCES):
            stop = min(start + BLOCK_SOURCES, len(sources))
            build = []
            while n < len(positions) and positions[n] < stop:
                build.append(positions[n] - start)
                n += 1
            # Where the index says each result is: the worker reads the
            # pack, not the entry.
            places = [index.place(carried[i]) if index is not None and carried[i] >= 0 else None for i in range(start, stop)]
            yield start, list(sources[start:stop]), bytes(bases[32 * start : 32 * stop]), build, places

    def runs() -> Iterator[list[Any]]:
        found = blocks()
        while run := list(islice(found, RUN_BLOCKS)):
            yield run

    _READERS.clear()  # nothing of an earlier build of this process (nor forked into its workers)
    try:
        served = map_tasks(partial(_serve_run, str(cache.root), cache.fingerprint, articles, str(spill_dir)), runs(), corpus_dir, seed, workers, engine, stages,
                           ahead=2 * workers + 2)
        yield from _served(cache, (block for run in served for block in run))
    finally:
        _READERS.clear()  # the packs a one-worker build read here


def _served(cache: BuildCache, results: Iterator[Any]) -> Iterator[ChunkResult]:
    """The blocks `_serve` made, in order, with what was built stored."""
    bases, fresh = cache.bases, cache.fresh
    n = 0  # fresh sources met so far
    start = 0
    for chunk, built, asked, here, keys_here, rescored, served, made_rows, made_signatures in results:
        for j, name, row in served:
            cache.place(start + j, name, row)
        row_of, row = [], 0
        for outcome in chunk.outcomes:
            row_of.append(row)
            row += outcome is None
        made = 0  # rows of `made_rows` (the built sources' rows, in order) met so far
        keys_of_here = dict(zip(here, keys_here))
        new: list[tuple[bytes, Item, Sequence[int]]] = []
        new_at: list[int] = []
        for j, answers in zip(built, asked):
            keys = keys_of_here.get(j)
            if keys is None:  # one of the fresh sources, in order
                keys = fresh.get(n)
                n += 1
            outcome, r = chunk.outcomes[j], row_of[j]
            if outcome is not None:
                item = Item(outcome, None, 0, None, None, answers)
            else:
                item = Item(None, made_rows, made, chunk.entries[r], made_signatures[made], answers)
                made += 1
            new.append((bytes(bases[32 * (start + j) : 32 * (start + j) + 32]), item, keys))
            new_at.append(start + j)
            cache.carried_own[start + j] = (_u8(keys), _u8(answers))
        stats = cache.stats
        stats.docs_hits += len(chunk.outcomes) - len(built)
        stats.docs_misses += len(built)
        stats.docs_here += len(here)
        stats.docs_rescored += rescored
        if new:
            for position, placed in zip(new_at, cache.put_docs(new)):
                if placed is not None:
                    cache.place(position, *placed)
        start += len(chunk.outcomes)
        yield chunk


def _serve_run(root: str, fingerprint: bytes, articles: bool, spill_dir: str, run: list[Any]) -> list[Any]:
    """Consecutive blocks (`RUN_BLOCKS`), served in order by one worker (`_serve`)."""
    return [_serve(root, fingerprint, articles, spill_dir, task) for task in run]


def _serve(root: str, fingerprint: bytes, articles: bool, spill_dir: str, task: tuple[int, list[Source], bytes, list[int], list[Optional[tuple[str, int, bytes]]]]
           ) -> tuple[ChunkResult, list[int], list[Any], list[int], list[Sequence[int]], int, list[tuple[int, str, int]], Optional[pa.RecordBatch], list[bytes]]:
    """A block of pass one, in a worker: (its result, its rows written as a
    part of the spill in `spill_dir`; the block's sources built (positions
    in it), their answers, those of them found unusable only once read,
    their segment keys, how many entries were rescored, where the others'
    results were read: position, pack, row; and the rows and signatures of
    the sources built, for the driver to store). `task` is the block's first position,
    its sources, their base keys, the positions of those to build without
    reading, and where the index says each one's result is (pack, row,
    answers; None: look up its entry)."""
    start, sources, bases, build, places = task
    stages = worker_stages()
    cache, _ = _reader(root, fingerprint, stages)
    boilerplate = stages.boilerplate or Boilerplate()
    min_documents = stages.rules.shapes.boilerplate_min_documents
    rescored = cache.stats.docs_rescored
    items: list[Optional[Item]] = [None] * len(sources)
    fresh = set(build)
    here = []
    served = []
    for j in range(len(sources)):
        if j not in fresh:
            place = places[j]
            doc_id = sources[j].id
            item = cache.get_row(place[0], place[1], _answers(place[2]), boilerplate, min_documents, doc_id) if place is not None else None
            if item is None:  # not in the index, or its pack gone: its entry says
                item = cache.get_doc(bases[32 * j : 32 * j + 32], boilerplate, min_documents, doc_id)
            items[j] = item
            if item is None:
                here.append(j)
            elif item.place is not None:
                served.append((j, *item.place))
    built = sorted(fresh.union(here))
    asked: list[Any] = []
    if built:
        made = list(items_of(*process_chunk_recorded([sources[j] for j in built], stages, articles)))
        for j, item in zip(built, made):
            items[j] = item
        asked = [item.asked for item in made]
    keys_here = [cache.keys_of(bases[32 * j : 32 * j + 32], sources[j], stages) for j in here]
    made_rows = [items[j] for j in built if items[j].skip is None]  # type: ignore[union-attr]
    # The rows go into the spill's folder (`engine.spill`); only the few
    # built here cross to the driver, to be stored.
    chunk = sealed(chunk_of(items, articles), block_part(Path(spill_dir), start))  # type: ignore[arg-type]
    return (chunk, built, asked, here, keys_here, cache.stats.docs_rescored - rescored, served, _joined(made_rows) if made_rows else None,  # type: ignore
            [item.signature for item in made_rows])


def _documents_on_ray(
    cache: BuildCache, corpus_dir: Path, sources: Sequence[Source], seed: int, workers: int, engine: str, ray_address: Optional[str], stages: Stages,
    articles: bool, boilerplate: Boilerplate, min_documents: int,
) -> Iterator[ChunkResult]:
    bases, fresh = cache.bases, cache.fresh
    positions = fresh.positions
    runs: Iterator[Any] = run_documents(corpus_dir, _Subset(sources, positions), seed, workers, engine, ray_address, stages, record=True, articles=articles) if positions else iter(())
    made = (item for result, asked in runs for item in items_of(result, asked))
    n = 0  # fresh sources met so far
    try:
        for start in range(0, len(sources), BLOCK_SOURCES):
            items = []
            new: list[tuple[bytes, Item, Sequence[int]]] = []
            for i in range(start, min(start + BLOCK_SOURCES, len(sources))):
                base = bytes(bases[32 * i : 32 * i + 32])
                if n < len(positions) and positions[n] == i:
                    item, keys = next(made), fresh.get(n)
                    n += 1
                else:
                    item = cache.get_doc(base, boilerplate, min_documents)
                    if item is not None:
                        cache.stats.docs_hits += 1
                        items.append(item)
                        continue
                    # Unusable only once read (see `documents`): built here.
                    cache.stats.docs_here += 1
                    item = next(items_of(*process_chunk_recorded([sources[i]], stages, articles)))
                    keys = cache.keys_of(base, sources[i], stages)
                cache.stats.docs_misses += 1
                new.append((base, item, keys))
                items.append(item)
            if new:
                cache.put_docs(new)
            yield chunk_of(items, articles)
    finally:
        made.close()
        close = getattr(runs, "close", None)
        if close is not None:
            close()


class _Subset(Sequence[Source]):
    """The sources at some positions of a source list, parsed when asked for
    (a slice of consecutive positions in one read)."""

    def __init__(self, sources: Sequence[Source], positions: list[int]):
        self.sources = sources
        self.positions = positions

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, index):  # type: ignore[override]
        if not isinstance(index, slice):
            return self.sources[self.positions[index]]
        out: list[Source] = []
        wanted = self.positions[index]
        run = 0
        while run < len(wanted):
            end = run + 1
            while end < len(wanted) and wanted[end] == wanted[end - 1] + 1:
                end += 1
            out.extend(self.sources[wanted[run] : wanted[end - 1] + 1])
            run = end
        return out
