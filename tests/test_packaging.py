"""The package as a packaging tool and a type checker see it: one version,
typed, and every library the code imports declared in pyproject.toml (an
undeclared one works here only because another package happened to pull it in).

The metadata checked is the wheel's, built from a copy of this tree without
the network (pip wheel --no-build-isolation --no-index, with the dev extra's
setuptools), not the installed one, which can be older than the tree."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from email.message import Message
from email.parser import Parser
from importlib.metadata import packages_distributions, version
from typing import NamedTuple

import pytest

import parallel_corpus
from conftest import REPO

SRC = REPO / "src" / "parallel_corpus"


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


class Wheel(NamedTuple):
    metadata: Message
    files: list[str]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Wheel:
    """METADATA of a wheel built from a copy of the tree (building in the
    tree would leave build/ and an egg-info behind)."""
    setuptools = pytest.importorskip("setuptools", reason="the dev extra installs setuptools to build the wheel")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools.__version__} cannot write License-Expression: pip install -c constraints.txt -e '.[dev]'")
    root = tmp_path_factory.mktemp("wheel")
    tree = root / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tree / name)
    shutil.copytree(REPO / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", "-w", str(root / "out"), str(tree)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = (root / "out").glob("parallel_corpus-*.whl")
    with zipfile.ZipFile(built) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        return Wheel(Parser().parsestr(z.read(name).decode("utf-8")), z.namelist())


@pytest.fixture(scope="module")
def metadata(wheel: Wheel) -> Message:
    return wheel.metadata


def test_the_version_is_written_once(metadata: Message) -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    (written,) = re.findall(r'^version = "([^"]+)"', pyproject, flags=re.M)
    assert metadata["Version"] == written
    assert not (REPO / "setup.py").exists() and not (REPO / "setup.cfg").exists()
    literal = re.compile(r"""^\s*(__version__|VERSION|version)\s*(:\s*str\s*)?=\s*['"]\d""", re.M)
    assert not [str(p) for p in SRC.rglob("*.py") if literal.search(p.read_text(encoding="utf-8"))]
    assert parallel_corpus.__version__ == version("parallel-corpus"), "the package reads its version from the installed metadata"


def test_the_metadata_says_licence_classifiers_and_python(metadata: Message) -> None:
    assert metadata["License-Expression"] == "Apache-2.0"
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and "Programming Language :: Python :: 3 :: Only" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")], "License-Expression replaces licence classifiers (PEP 639)"
    assert metadata["Requires-Python"] == ">=3.10"


def test_the_package_says_it_is_typed_and_ships_its_data(wheel: Wheel) -> None:
    files = wheel.files
    for name in ("parallel_corpus/py.typed", "parallel_corpus/__main__.py"):
        assert name in files, name
    assert any(f.startswith("parallel_corpus/schemas/") and f.endswith(".json") for f in files)
    assert not any("synthetic" in f.split("/")[1:2] for f in files), "the synthetic-corpus generator stays in scripts/"


def test_every_imported_library_is_declared(metadata: Message) -> None:
    declared = {_name(r) for r in metadata.get_all("Requires-Dist") or []}
    providers = packages_distributions()
    imported: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "parallel_corpus" and top not in sys.stdlib_module_names:
                    imported.setdefault(top, str(path.relative_to(REPO)))
    assert imported, "the check found no third-party import, so it could not fail"
    missing = {
        top: where for top, where in imported.items()
        if not {_name(d) for d in providers.get(top, [top])} & declared
    }
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_the_distributed_extra_has_what_each_way_to_a_cluster_needs(metadata: Message) -> None:
    distributed = [r for r in metadata.get_all("Requires-Dist") or [] if 'extra == "distributed"' in r]
    (ray,) = [r for r in distributed if _name(r) == "ray"]
    assert "client" in re.search(r"\[([^\]]*)\]", ray).group(1).split(","), ray  # ray:// addresses need Ray Client
    pins = (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
    assert any(p.startswith("grpcio==") for p in pins) and any(p.startswith("ray==") for p in pins)
