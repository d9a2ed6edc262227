"""The house's rules, checked on the source: data walks one way.

Rooms stand in layers: the base modules (errors, records, jsontext, files,
schema, corpus, `_fast/`, `text/`) under `stages/` (one document), under
`intake/` (articles into a corpus folder), under `align/` (the whole
corpus), under `annotate/`, under `engine/` (running a build), under
`release/`, under `cli/`. A module may import its own layer
and the ones below, never one above, and no import chain may come back to
where it started. Imports under `if TYPE_CHECKING:` are for the type
checker only and do not count; imports inside functions do.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "parallel_corpus"

LAYERS = {"base": 0, "stages": 1, "intake": 2, "align": 3, "annotate": 4, "engine": 5, "release": 6, "cli": 7}
_BASE = {"errors", "records", "jsontext", "files", "schema", "corpus", "_fast", "text"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _room(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__main__",):
        return "face"
    return "base" if parts[1] in _BASE else parts[1]


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def _imports(module: str, path: Path) -> set[str]:
    """The package's modules that `module` imports (resolved to the deepest
    module that exists: `from a.b import c` is `a.b.c` when c is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) if node.level else (node.module or "")
            names = [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            base, names = "", [a.name for a in node.names]
        else:
            continue
        for name in names:
            target = name if name in MODULES else base
            if target in MODULES and target != module:
                out.add(target)
    return out


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def test_the_check_sees_the_package() -> None:
    # A check that found no module, or no import, could not fail.
    assert "parallel_corpus.engine.build" in GRAPH and "parallel_corpus.stages.document" in GRAPH
    assert "parallel_corpus.stages.document" in GRAPH["parallel_corpus.engine.build"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _room(m) != "face"))
def test_no_import_climbs_to_a_higher_room(module: str) -> None:
    mine = LAYERS[_room(module)]
    above = sorted(t for t in GRAPH[module] if _room(t) != "face" and LAYERS[_room(t)] > mine)
    assert not above, f"{module} ({_room(module)}) imports {above} from a room above it"


def test_no_import_cycle() -> None:
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        seen[module] = 1
        stack.append(module)
        for target in sorted(GRAPH[module]):
            if seen.get(target) == 1:
                cycle = stack[stack.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in seen:
                visit(target)
        stack.pop()
        seen[module] = 2

    for module in sorted(GRAPH):
        if module not in seen:
            visit(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_opens_with_its_job(module: str) -> None:
    doc = ast.get_docstring(ast.parse(MODULES[module].read_text(encoding="utf-8")))
    assert doc and len(doc.split()) >= 5, f"{MODULES[module]} does not open with a docstring saying its job"
