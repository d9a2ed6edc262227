"""`validate` on a release someone else made: every hostile case is a
`file:row:field: message` line and exit 1, never a traceback, a hang, a file
read outside the folder, or a byte written inside it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ALIAS_BOMB, CORPUS, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parallel_corpus.engine.build import build
from parallel_corpus.release.publish import publish
from parallel_corpus.release.validate import MAX_LINES_PER_FILE, MAX_TEXT_BYTES

DOCS = Path("data") / "documents" / "train-00000-of-00001.parquet"
LINE = re.compile(r"[^:\n]+:[^:\n]*:[^\n]*?: [^\n]+")


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("untrusted")
    build(CORPUS, tmp / "build", annotations_dir=None, log=lambda m: None)
    return publish(CORPUS, tmp / "build", tmp / "dist", registry=tmp / "releases.jsonl").path


@pytest.fixture
def release(published, tmp_path) -> Path:
    dst = tmp_path / "in" / published.name
    shutil.copytree(published, dst)
    return dst


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry of a folder, links as their targets (never followed), files by sha256."""
    out: dict[str, tuple] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_file() and p.stat().st_blocks * 512 < p.stat().st_size // 8:
                # A sparse file planted by a test: hashing it would take hours.
                st = p.stat()
                out[rel] = ("sparse", st.st_size, st.st_mtime_ns, st.st_mode)
            elif p.is_file():
                digest = hashlib.sha256()
                with open(p, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        digest.update(chunk)
                out[rel] = ("file", digest.hexdigest(), p.stat().st_mode)
            elif p.is_dir():
                out[rel] = ("dir",)
            else:
                out[rel] = ("other", p.lstat().st_mode)
    return out


def check(folder: Path, *extra, timeout: float = 30) -> list[str]:
    """Run `validate` on a folder: exit 1, only violation lines, no write, in bounded time."""
    before = snapshot(folder)
    started = time.monotonic()
    out = invoke("validate", *extra, folder)
    assert time.monotonic() - started < timeout
    assert out.exception is None or isinstance(out.exception, SystemExit), out.exception
    assert out.exit_code == 1, out.output
    lines = out.stdout.splitlines()
    assert lines and all(LINE.fullmatch(l) for l in lines), lines
    assert snapshot(folder) == before
    return lines


def rewrite(path: Path, change) -> None:
    """The Parquet file with its rows passed through `change` (same schema)."""
    table = pq.read_table(path)
    rows = table.to_pylist()
    change(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)


def edit_card(release: Path, old: str, new: str) -> None:
    readme = release / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert old in text
    readme.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_published_release_is_valid_as_a_release(published):
    out = invoke("validate", "--kind", "release", published)
    assert out.exit_code == 0, out.output


# -- 1. the kind is asked for, or every kind the folder looks like ---------------------


@pytest.mark.parametrize("flag", [(), ("--kind", "release")])
def test_extra_corpus_files_do_not_turn_a_release_into_a_corpus(release, flag):
    (release / "sources.jsonl").write_text("", encoding="utf-8")
    (release / "dataset.yaml").write_text("name: x\n", encoding="utf-8")
    path = release / DOCS
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    lines = check(release, *flag)
    assert [l for l in lines if l.startswith(f"{path}:-:-: not a readable Parquet file: ")] != []


def test_corpus_files_linked_into_a_release_are_not_read_through_the_link(release, tmp_path):
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text("{}\n", encoding="utf-8")
    (release / "sources.jsonl").symlink_to(outside)
    (release / "notes.jsonl").symlink_to(outside)
    lines = check(release)
    assert f"{release / 'sources.jsonl'}:-:-: a symbolic link: a release holds its own files; it was not followed: replace the link by the file" in lines
    for kind in ("corpus", "annotations"):
        assert f"{release}:-:-: not checked as {kind} as well: it holds links or special files (named above), and nothing they point to is opened" in lines
    assert not any(str(outside) in l for l in lines)


def test_kind_corpus_checks_a_release_as_a_corpus_only(release):
    lines = check(release, "--kind", "corpus")
    assert f"{release / 'dataset.yaml'}:-:-: missing: a corpus needs a dataset.yaml" in lines
    assert not any(l.startswith(str(release / "data") + "/") for l in lines)


def test_kind_without_a_path_is_refused():
    out = invoke("validate", "--kind", "release")
    assert out.exit_code == 1 and "error: --kind goes with the PATH(s) to check" in out.stderr


# -- 2. nothing outside the folder ------------------------------------------------------


def test_a_symlinked_file_is_a_line_and_never_followed(release, tmp_path):
    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as fh:
        fh.truncate(1 << 40)  # 1 TiB of holes: hashing it would take hours
    (release / "coverage.png").unlink()
    (release / "coverage.png").symlink_to(huge)
    lines = check(release)
    assert f"{release / 'coverage.png'}:-:-: a symbolic link: a release holds its own files; it was not followed: replace the link by the file" in lines
    assert f"{release / 'coverage.png'}:-:-: listed in checksums.sha256 but missing as a regular file of the release (not opened)" in lines


def test_a_symlinked_folder_is_a_line_and_its_files_are_not_opened(release, tmp_path):
    outside = tmp_path / "outside"
    shutil.move(release / "data" / "documents", outside)
    (release / "data" / "documents").symlink_to(outside, target_is_directory=True)
    lines = check(release)
    assert f"{release / 'data' / 'documents'}:-:-: a symbolic link: a release holds its own files; it was not followed: replace the link by the file" in lines
    assert (
        f"{release / DOCS}:-:-: config documents split train declares it, but it is not a regular file of the release "
        "(a link, a folder, or under one): not opened"
    ) in lines


def test_a_pipe_in_a_release_is_a_line_and_does_not_block(release):
    os.mkfifo(release / "data" / "pipe")
    lines = check(release, timeout=20)
    assert f"{release / 'data' / 'pipe'}:-:-: not a regular file (a pipe, socket or device): it was not opened; remove it" in lines


@pytest.mark.parametrize("path, why", [
    ("/etc/passwd", "an absolute path"),
    ("../../outside.parquet", "it climbs out of its folder (..)"),
    ("data/documents/../../../x.parquet", "it climbs out of its folder (..)"),
    ("data/documents/*.parquet", "a glob pattern"),
    ("README.md", "not under data/"),
])
def test_a_card_path_that_is_not_a_plain_path_under_data_is_not_opened(release, tmp_path, path, why):
    (tmp_path / "outside.parquet").write_bytes((release / DOCS).read_bytes())
    edit_card(release, f"path: {DOCS.as_posix()}", f"path: {path}")
    lines = check(release)
    assert (
        f"{release / 'README.md'}:-:configs[0].data_files[0].path: {path!r} is {why}, not a plain relative path of a file under data/: "
        "not opened; name the file as data/documents/train-00000-of-00001.parquet and republish"
    ) in lines


def test_a_card_of_hundreds_of_megabytes_is_a_line_not_read(release):
    readme = release / "README.md"
    with open(readme, "r+b") as fh:
        fh.truncate(300 * 1024 * 1024)  # sparse: costs no disk
    lines = check(release, timeout=20)
    assert lines[-1] == f"{readme}:-:-: {300 * 1024 * 1024} bytes, more than the {MAX_TEXT_BYTES} a card may have: not read; republish the release"
    assert lines[:-1] == [l for l in lines[:-1] if re.fullmatch(re.escape(f"{readme}:-:-: a sparse file ({300 * 1024 * 1024} bytes, ") + r"\d+ on disk\): not hashed; a release holds real files: replace it", l)]


def test_a_sparse_file_in_a_release_is_a_line_and_not_hashed(release):
    big = release / "data" / "documents" / "extra.bin"
    with open(big, "wb") as fh:
        fh.truncate(1 << 40)  # 1 TiB of holes
    lines = check(release, timeout=20)
    assert any(re.fullmatch(re.escape(f"{big}:-:-: a sparse file ({1 << 40} bytes, ") + r"\d+ on disk\): not hashed; a release holds real files: replace it", l) for l in lines)


def test_card_yaml_nested_deep_is_a_line_and_not_parsed(release):
    edit_card(release, "license: other", "license: " + "[" * 100_000 + "]" * 100_000)
    lines = check(release, timeout=10)
    assert lines == [f"{release / 'README.md'}:7:-: unreadable card YAML: [ and {{ nested more than 100 levels deep: not parsed; republish the release"]


def test_an_oversized_croissant_and_checksums_are_lines_not_read(release):
    for name in ("croissant.json", "checksums.sha256"):
        with open(release / name, "r+b") as fh:
            fh.truncate(MAX_TEXT_BYTES + 1)
    lines = check(release, timeout=20)
    assert f"{release / 'croissant.json'}:-:-: {MAX_TEXT_BYTES + 1} bytes, more than the {MAX_TEXT_BYTES} croissant.json may have: not read; republish the release" in lines
    assert f"{release / 'checksums.sha256'}:-:-: {MAX_TEXT_BYTES + 1} bytes, more than the {MAX_TEXT_BYTES} checksums.sha256 may have: not read; republish the release" in lines


# -- 3. values, not only types ----------------------------------------------------------


def test_a_row_in_the_wrong_split_is_a_line(release):
    def change(rows):
        rows[1]["split"] = "test"
        rows[2]["split"] = "dev"

    rewrite(release / DOCS, change)
    lines = check(release)
    path = release / DOCS
    assert f"{path}:1:split: 'test' in the file of split train: a row belongs to its file's split; republish the release" in lines
    assert f"{path}:2:split: 'dev' in the file of split train: a row belongs to its file's split; republish the release" in lines
    assert any(l.startswith(f"{path}:2:split: 'dev' is not one of ['train', 'validation', 'test']: the value breaks schemas/documents.schema.json") for l in lines)


def test_a_split_name_outside_train_validation_test_is_a_line(release):
    edit_card(release, "  - name: train", "  - name: dev")
    lines = check(release)
    assert f"{release / 'README.md'}:-:dataset_info[0].splits[0].name: 'dev' is not a split: use train, validation, test" in lines


def test_a_duplicate_id_is_a_line(release):
    def change(rows):
        rows[3]["id"] = rows[0]["id"]

    rewrite(release / DOCS, change)
    lines = check(release)
    assert f"{release / DOCS}:3:id: '000_579473158ea377e1' is also row 0 of split train: ids are unique within config documents; republish the release" in lines


def test_a_language_that_is_not_a_code_is_a_line(release):
    def change(rows):
        rows[0]["language"] = "Swahili"
        rows[0]["blocks"][0]["language"] = "../x"

    rewrite(release / DOCS, change)
    lines = check(release)
    assert f"{release / DOCS}:0:language: 'Swahili' is not a language code (ISO 639-1, as sw or ar): republish the release" in lines
    assert f"{release / DOCS}:0:blocks[0].language: '../x' is not a language code (ISO 639-1, as sw or ar): republish the release" in lines


def test_a_document_in_a_language_the_card_does_not_declare_is_a_line(release):
    """`zz` has the form of a code; the card's `language` list is what the
    release declares, and a document's language must be in it (a block may
    quote any language)."""
    def change(rows):
        rows[1]["language"] = "zz"
        rows[1]["blocks"][0]["language"] = "en"

    rewrite(release / DOCS, change)
    lines = check(release)
    assert f"{release / DOCS}:1:language: 'zz' is not a language of the card (ar, hi, sw): republish the release" in lines
    assert not [l for l in lines if ":1:blocks[0].language:" in l]


def test_offsets_outside_the_text_or_off_their_span_are_lines(release):
    def change(rows):
        n = len(rows[0]["text"])
        rows[0]["entities"][0]["end"] = n + 5
        rows[0]["entities"][1]["text"] = "not here"
        rows[0]["blocks"][0]["start"] = n + 1
        rows[0]["blocks"][0]["end"] = n + 2

    rewrite(release / DOCS, change)
    lines = check(release)
    path = release / DOCS
    text = pq.read_table(path).column("text")[0].as_py()
    e1 = pq.read_table(path).column("entities")[0].as_py()[1]
    n = len(text)
    assert f"{path}:0:entities[0]: offsets 40..{n + 5} fall outside the text ({n} characters): republish the release" in lines
    assert f"{path}:0:blocks[0]: offsets {n + 1}..{n + 2} fall outside the text ({n} characters): republish the release" in lines
    assert f"{path}:0:entities[1].text: 'not here' is not text[{e1['start']}:{e1['end']}] ({text[e1['start']:e1['end']]!r}): the offsets or the span are wrong; republish the release" in lines


def test_a_file_declared_twice_is_read_once(release):
    edit_card(release, "path: data/parallel/train-00000-of-00001.parquet", f"path: {DOCS.as_posix()}")
    lines = check(release)
    assert f"{release / 'README.md'}:-:configs[1].data_files[0].path: '{DOCS.as_posix()}' is declared already at configs[0].data_files[0]: name each file once and republish" in lines


def test_annotation_spans_that_do_not_fit_their_text_are_lines(tmp_path):
    from parallel_corpus.release.validate import _check_rows

    span = {"start": 3, "end": 9, "text": "Nairobi", "label": "place", "verification": "verified", "exported_start": 3, "exported_end": 9}
    found = [str(v) for v in _check_rows(tmp_path / "a.parquet", [{"key": "t1/a1", "split": "train", "entities": [span]}], 0, "annotations", "train", {})]
    assert f"{tmp_path / 'a.parquet'}:0:entities[0]: offsets 3..9 do not span the 7 character(s) of its text: republish the release" in found


def test_a_text_that_changed_under_its_hash_is_a_line(release):
    def change(rows):
        rows[0]["text"] = rows[0]["text"].replace("a", "o", 1)

    rewrite(release / DOCS, change)
    lines = check(release)
    assert f"{release / DOCS}:0:text_sha256: is not the sha256 of the text: the text or its hash changed; republish the release" in lines


def test_lines_per_file_are_capped(release):
    def change(rows):
        for row in rows:
            for e in row["entities"]:
                e["text"] = "x"

    rewrite(release / DOCS, change)
    lines = check(release)
    mine = [l for l in lines if l.startswith(f"{release / DOCS}:") and ":-:sha256: " not in l]
    assert len(mine) == MAX_LINES_PER_FILE + 1
    assert re.fullmatch(re.escape(f"{release / DOCS}:-:-: and ") + r"\d+" + re.escape(f" more violation(s) in this file (the first {MAX_LINES_PER_FILE} are shown)"), mine[-1])


# -- 4. rows counted from the data ------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def forge_num_rows(path: Path, rows: int, forged: int) -> None:
    """Rewrite the footer's FileMetaData.num_rows (thrift compact: field 3, i64),
    leaving the row groups and their data alone."""
    data = path.read_bytes()
    size = int.from_bytes(data[-8:-4], "little")
    start = len(data) - 8 - size
    old, new = b"\x16" + _varint(rows * 2), b"\x16" + _varint(forged * 2)
    assert len(old) == len(new)
    at = data.find(old, start)
    while at >= 0:
        candidate = data[:at] + new + data[at + len(old):]
        path.write_bytes(candidate)
        try:
            meta = pq.read_metadata(path)
            if meta.num_rows == forged and sum(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) == rows:
                return
        except Exception:
            pass
        at = data.find(old, at + 1)
    path.write_bytes(data)
    raise AssertionError("no num_rows to forge")


def test_a_forged_footer_the_card_repeats_is_caught_by_counting_the_data(release):
    path = release / DOCS
    forge_num_rows(path, 5, 6)
    edit_card(release, "num_examples: 5", "num_examples: 6")
    lines = check(release)
    assert f"{path}:-:num_rows: the footer says 6 rows, the data holds 5: the footer is forged or damaged; republish the file" in lines
    assert f"{path}:-:num_examples: 5 rows, the card's documents/train split says 6" in lines


def test_a_truncated_parquet_file_is_one_line(release):
    path = release / DOCS
    path.write_bytes(path.read_bytes()[:-100])
    lines = check(release)
    about = [l for l in lines if l.startswith(f"{path}:-:-:")]
    assert len(about) == 1 and about[0].startswith(f"{path}:-:-: not a readable Parquet file: ")


def test_an_unexpected_error_of_a_library_is_a_line_naming_the_file(release, monkeypatch):
    from parallel_corpus import schema

    def boom(*args, **kwargs):
        raise RuntimeError("boom\nwith a second line")

    monkeypatch.setattr(schema, "record_errors", boom)
    lines = check(release)
    assert f"{release / DOCS}:-:-: could not be checked (RuntimeError: boom with a second line): the file is damaged; republish the release" in lines


# -- 5. croissant.json -------------------------------------------------------------------


def test_croissant_nested_too_deeply_is_a_line(release):
    (release / "croissant.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    lines = check(release)
    assert f"{release / 'croissant.json'}:1:-: not valid JSON: nested too deeply to read: republish the release" in lines


def test_croissant_that_is_not_an_object_is_a_line(release):
    (release / "croissant.json").write_text("[1, 2]\n", encoding="utf-8")
    assert f"{release / 'croissant.json'}:-:-: not a JSON object: republish the release" in check(release)


def test_croissant_whose_files_differ_from_the_release_is_a_line(release):
    path = release / "croissant.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    docs = next(k for k, d in enumerate(meta["distribution"]) if d["contentUrl"] == DOCS.as_posix())
    meta["distribution"][docs]["sha256"] = "0" * 64
    pairs = next(k for k, d in enumerate(meta["distribution"]) if "pairs" in d["contentUrl"])
    meta["distribution"][pairs]["contentUrl"] = "/etc/passwd"
    path.write_text(json.dumps(meta), encoding="utf-8")
    lines = check(release)
    actual = hashlib.sha256((release / DOCS).read_bytes()).hexdigest()
    assert f"{path}:-:distribution[{docs}].sha256: is '{'0' * 64}', {DOCS.as_posix()} has sha256 {actual}: the file changed after publishing; republish the release" in lines
    assert f"{path}:-:distribution[{pairs}].contentUrl: '/etc/passwd' is not a Parquet file of this release: republish the release" in lines
    assert f"{path}:-:distribution: does not list data/pairs/train-00000-of-00001.parquet: republish the release" in lines


def test_croissant_fields_that_read_outside_the_release_or_its_columns_are_lines(release):
    """The nested Fields are accepted as publish writes them; a Field that
    reads a file the distribution does not list, a column the config does not
    have, a jsonPath that is an expression, or nests without end, is a line."""
    path = release / "croissant.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    docs = next(k for k, r in enumerate(meta["recordSet"]) if r["name"].startswith("documents_"))
    fields = meta["recordSet"][docs]["field"]
    by_name = {f["name"]: k for k, f in enumerate(fields)}
    fields[by_name["id"]]["source"]["fileObject"]["@id"] = "elsewhere"
    fields[by_name["text"]]["source"]["extract"]["column"] = "password"
    blocks = fields[by_name["blocks"]]
    blocks["subField"][0]["source"]["transform"] = {"jsonPath": "$..*"}
    fields[by_name["title"]] = {"@type": "cr:Field", "name": "deep", "subField": [{"subField": [{"subField": [{"name": "x"}]}]}]}
    path.write_text(json.dumps(meta), encoding="utf-8")
    lines = check(release)
    at = f"recordSet[{docs}].field"
    assert f"{path}:-:{at}[{by_name['id']}].source: reads 'elsewhere', not a Parquet file of the distribution: republish the release" in lines
    assert f"{path}:-:{at}[{by_name['text']}].source: reads column 'password', not a column of documents: republish the release" in lines
    assert f"{path}:-:{at}[{by_name['blocks']}].subField[0].source.transform: {{'jsonPath': '$..*'}} is not a jsonPath naming one key: republish the release" in lines
    assert f"{path}:-:{at}[{by_name['title']}].subField[0].subField[0].subField: Fields nested more than 3 deep: republish the release" in lines
    path.write_text(json.dumps(meta | {"recordSet": {"field": []}}), encoding="utf-8")
    assert f"{path}:-:recordSet: must be a list of objects: republish the release" in check(release)


@pytest.mark.parametrize("link", ["../../etc/passwd", "javascript:alert(1)", "http://example.org/terms", "LICENSE.md", "[1]"])
def test_a_card_licence_link_out_of_the_release_is_a_line(release, link):
    edit_card(release, "license_link: README.md", f"license_link: {link!r}" if link != "[1]" else "license_link: [1]")
    lines = check(release)
    readme = release / "README.md"
    why = "is not a file of the release" if link == "LICENSE.md" else "is neither an https URL nor a file of the release"
    shown = "[1]" if link == "[1]" else repr(link)
    assert f"{readme}:-:license_link: {shown} {why}: republish the release" in lines


def test_a_card_creator_the_hub_does_not_know_is_a_line(release):
    edit_card(release, "language_creators:\n- found", "language_creators:\n- robots")
    lines = check(release)
    assert any(l.startswith(f"{release / 'README.md'}:-:language_creators: 'robots' is not one of the Hub's") for l in lines), lines


def test_a_malformed_checksums_line_is_a_line(release):
    sums = release / "checksums.sha256"
    sums.write_text("not a checksum\n" + sums.read_text(encoding="utf-8"), encoding="utf-8")
    assert f"{sums}:1:-: not a `sha256  path` line: republish the release" in check(release)


# -- 6. fuzz: any mutation is lines, exit 0 or 1 ------------------------------------------


@st.composite
def mutations(draw):
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "card"]))
    return kind, draw(st.integers(min_value=0, max_value=10**9)), draw(st.binary(min_size=1, max_size=64)), draw(st.text(max_size=40))


CARD_LINE = re.compile(r"^(?P<indent>\s*-?\s*)(?P<key>[a-z_]+): (?P<value>.+)$")


def mutate(release: Path, mutation) -> None:
    kind, n, data, text = mutation
    files = sorted(p for p in release.rglob("*") if p.is_file())
    if kind == "card":
        readme = release / "README.md"
        lines = readme.read_text(encoding="utf-8").split("\n")
        end = lines.index("---", 1)
        i = 1 + n % (end - 1)
        m = CARD_LINE.match(lines[i])
        choice = (n // 7) % 4
        if choice == 0 and m:
            lines[i] = f"{m['indent']}{m['key']}: {json.dumps(text)}"  # any value in place of one
        elif choice == 1:
            del lines[i]
        elif choice == 2:
            lines.insert(i, text)
        else:
            lines[i] = lines[i][: n % (len(lines[i]) + 1)]
        readme.write_text("\n".join(lines), encoding="utf-8")
        return
    path = files[n % len(files)]
    body = bytearray(path.read_bytes())
    at = (n // len(files)) % (len(body) + 1)
    if kind == "flip" and body:
        at = min(at, len(body) - 1)
        body[at] ^= data[0] or 0xFF
    elif kind == "truncate":
        del body[at:]
    else:
        body[at:at] = data
    path.write_bytes(bytes(body))


@settings(max_examples=40, deadline=timedelta(seconds=20), suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutation=mutations())
def test_fuzz_validate_on_mutated_releases(published, mutation):
    with tempfile.TemporaryDirectory() as tmp:
        release = Path(tmp) / published.name
        shutil.copytree(published, release)
        mutate(release, mutation)
        before = snapshot(release)
        out = invoke("validate", "--kind", "release", release)
        assert out.exception is None or isinstance(out.exception, SystemExit), repr(out.exception)
        assert out.exit_code in (0, 1), out.output
        lines = out.stdout.splitlines()
        assert all(LINE.fullmatch(l) for l in lines), lines
        assert (out.exit_code == 1) == bool(lines)
        assert snapshot(release) == before


def test_a_card_with_an_alias_is_one_violation_line(tmp_path) -> None:
    from parallel_corpus.release.validate import validate_release

    (tmp_path / "README.md").write_text("---\nname: x\n" + ALIAS_BOMB + "---\n\ncard\n", encoding="utf-8")
    found = list(validate_release(tmp_path))
    assert len(found) == 1
    assert found[0].file == str(tmp_path / "README.md") and found[0].row == "3"
    assert "unreadable card YAML: anchors and aliases (& and *) are not accepted" in found[0].message
    assert "\n" not in found[0].message


def test_a_card_whose_configs_are_not_mappings_is_one_violation_line(tmp_path) -> None:
    from parallel_corpus.release.validate import validate_release

    (tmp_path / "README.md").write_text("---\nconfigs:\n- just a string\ndataset_info:\n- splits: [{name: train, num_examples: many}]\n---\n", encoding="utf-8")
    found = [str(v) for v in validate_release(tmp_path)]
    readme = tmp_path / "README.md"
    assert found == [
        f"{readme}:-:configs: must be a list of mappings: republish the release",
        f"{readme}:-:dataset_info[0].splits[0].num_examples: must be an integer: republish the release",
    ]
