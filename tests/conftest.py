"""Shared fixtures: the repository's corpus, the external real-world material,
and a copy of the corpus that a test may change."""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from click.testing import CliRunner

from parallel_corpus.annotate import labelstudio as ls
from parallel_corpus.cli.commands import main

# A cache of our own per test session: `datasets` keys its cache of a local
# folder by path, and pytest reuses temporary paths across sessions, so a
# shared cache could hand one session another session's release.
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="hf-datasets-cache-")
# Builds run every stage unless a test asks for the build cache: a test that
# compares worker counts must not be served the first build's results, and
# no test writes to the user's ~/.cache.
os.environ["PARALLEL_CORPUS_NO_CACHE"] = "1"

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
EXTERNAL = REPO.parent / "shared" / "external"
SCRIPTS = REPO / "scripts"
# The modules the scripts share (the synthetic-corpus generator `synthetic`,
# `_venv`) are not in the package: tests import them from scripts/.
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))


def load_script(name: str) -> ModuleType:
    """`scripts/NAME` (a file with no .py) as a module, so a test measures
    with the script's own code. It is registered under its name with dashes
    as underscores: a dataclass of the script looks its module up."""
    module_name = name.replace("-", "_")
    loader = importlib.machinery.SourceFileLoader(module_name, str(SCRIPTS / name))
    spec = importlib.util.spec_from_loader(module_name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    loader.exec_module(module)
    return module


def external(*parts: str) -> Path:
    """A path under ../shared/external, or a skip saying why it is absent."""
    path = EXTERNAL.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the real-world material lives beside the repo in ../shared/external")
    return path


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of corpus/ (without releases) to break or extend."""
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst, ignore=shutil.ignore_patterns("releases.jsonl"))
    return dst


@pytest.fixture(scope="session")
def stages():
    from parallel_corpus.stages.document import Stages


    seed = yaml.safe_load((CORPUS / "dataset.yaml").read_text())["seed"]
    return Stages.load(CORPUS, seed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def labelstudio_server(tmp_path_factory):
    """(url, api key) of a real Label Studio server.

    The one in LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY if it answers; otherwise
    one started by scripts/labelstudio (which installs it into .labelstudio/venv
    the first time) on a free port with its own state folder, stopped at the end.
    """

    url, key = os.environ.get("LABEL_STUDIO_URL"), os.environ.get("LABEL_STUDIO_API_KEY")
    if url and key:
        try:
            ls.connect(url, key, timeout=5)
            yield url, key
            return
        except ls.LabelStudioError:
            pass
    state = tmp_path_factory.mktemp("labelstudio")
    port, key = free_port(), secrets.token_hex(20)
    env = dict(os.environ, LABEL_STUDIO_PORT=str(port), LABEL_STUDIO_API_KEY=key, LABEL_STUDIO_STATE_DIR=str(state))
    started = subprocess.run([str(REPO / "scripts" / "labelstudio"), "start"], env=env, capture_output=True, text=True, timeout=900)
    if started.returncode != 0:
        pytest.fail(f"scripts/labelstudio start failed: {started.stderr.strip()}")
    try:
        yield f"http://127.0.0.1:{port}", key
    finally:
        subprocess.run([str(REPO / "scripts" / "labelstudio"), "stop"], env=env, capture_output=True, text=True, timeout=60)


# -- shared by the tests of untrusted input -----------------------------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "labelstudio"


RECORDED = FIXTURES / "documents_export_recorded.json"


CLI = [str(Path(sys.executable).parent / "parallel-corpus")]  # the console script, as a user runs it


SWAHILI_ID = "000_579473158ea377e1"


def invoke(*args) -> "CliRunner":
    return CliRunner().invoke(main, [str(a) for a in args])


def add_raw(corpus: Path, name: str, data: bytes, **fields) -> int:
    """Write raw/NAME and append its sources.jsonl line; returns that line's number."""
    (corpus / "raw" / name).parent.mkdir(parents=True, exist_ok=True)
    (corpus / "raw" / name).write_bytes(data)
    return add_source(corpus, name, hashlib.sha256(data).hexdigest(), **fields)


def add_source(corpus: Path, name: str, sha256: str, **fields) -> int:
    record = {"id": Path(name).stem, "file": name, "sha256": sha256, "language": "sw", "outlet": None, "url": None, "published": None, "license": None}
    record.update(fields)
    lines = (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()
    lines.append(json.dumps(record, ensure_ascii=False))
    (corpus / "sources.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def build_cli(corpus: Path, out: Path, *extra):
    return invoke("build", "--corpus", corpus, "--out", out, "--annotations", out.parent / "no-annotations", "-q", *extra)


def error_lines(result) -> list[str]:
    return [l for l in result.stderr.splitlines() if l.startswith("error:")]


def break_sources_file(value: str, expected: str):
    """Row 2's `file` set to `value` (a NUL in it, a folder's name)."""

    def breaker(corpus: Path) -> str:
        lines = (corpus / "sources.jsonl").read_text(encoding="utf-8").splitlines()
        record = json.loads(lines[1])
        record["file"] = value
        lines[1] = json.dumps(record)
        (corpus / "sources.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (corpus / "raw" / "a-folder").mkdir()
        return f"{corpus / 'sources.jsonl'}:2:file: {expected}"

    return breaker


# Nine levels of nine aliases: a few hundred bytes that unfold into 9**9
# values for whoever walks them.
ALIAS_BOMB = 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 9)
)
