"""The package as a packaging tool and a type checker see it: one version,
typed, and every library the code imports declared in pyproject.toml (an
undeclared one works here only because another package happened to pull it in)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions, requires, version

import parallel_corpus
from conftest import REPO

SRC = REPO / "src" / "parallel_corpus"


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_version_is_written_once() -> None:
    assert parallel_corpus.__version__ == version("parallel-corpus")
    assert not re.search(r"__version__\s*=\s*['\"]", (SRC / "__init__.py").read_text(encoding="utf-8"))


def test_the_package_says_it_is_typed() -> None:
    assert (SRC / "py.typed").is_file()
    assert '"py.typed"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")


def test_every_imported_library_is_declared() -> None:
    declared = {_name(r) for r in requires("parallel-corpus") or []}
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
