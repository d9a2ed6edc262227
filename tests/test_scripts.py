"""The scripts run as the README writes them: `scripts/NAME` starts itself
under the repository's .venv whatever interpreter started it, says in one
line how to make the venv when there is none, and answers --help with what
it measures and how to run it."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SCRIPTS

PYTHON_SCRIPTS = sorted(p.name for p in SCRIPTS.iterdir() if p.is_file() and p.read_text(encoding="utf-8").startswith("#!/usr/bin/env python3"))
SHELL_SCRIPTS = sorted(p.name for p in SCRIPTS.iterdir() if p.is_file() and p.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash"))
BASH = shutil.which("bash") or "/bin/bash"


def outside_python() -> str:
    """An interpreter that is not a virtualenv's: the one the venv was made from."""
    for candidate in (Path(sys.base_prefix) / "bin" / "python3", Path("/usr/bin/python3")):
        if candidate.exists():
            return str(candidate)
    pytest.skip("no interpreter outside the virtualenv to start a script with")


def repo_copy(tmp_path: Path, venv: bool) -> Path:
    """A repository of scripts/ alone, with .venv this test's virtualenv or none."""
    repo = tmp_path / "repo"
    shutil.copytree(SCRIPTS, repo / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "scripts" / "probe").write_text("#!/usr/bin/env python3\nimport _venv\nimport sys\nprint(sys.prefix)\n", encoding="utf-8")
    if venv:
        (repo / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return repo


def test_every_script_is_known_and_every_python_script_imports_the_venv_helper_first() -> None:
    assert set(PYTHON_SCRIPTS) | set(SHELL_SCRIPTS) == {p.name for p in SCRIPTS.iterdir() if p.is_file() and "." not in p.name}
    for name in PYTHON_SCRIPTS:
        tree = ast.parse((SCRIPTS / name).read_text(encoding="utf-8"))
        imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) and not (isinstance(n, ast.ImportFrom) and n.module == "__future__")]
        first = imports[0]
        assert isinstance(first, ast.Import) and first.names[0].name == "_venv", f"scripts/{name}: import _venv before anything else"


@pytest.mark.parametrize("name", PYTHON_SCRIPTS)
def test_help_says_what_it_does_and_how_to_run_it(name: str) -> None:
    done = subprocess.run([sys.executable, str(SCRIPTS / name), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    doc = ast.get_docstring(ast.parse((SCRIPTS / name).read_text(encoding="utf-8")))
    assert done.stdout.startswith(f"usage: {name} ")
    assert doc.splitlines()[0] in done.stdout, "the docstring's first line says what it does"
    assert f"scripts/{name}" in done.stdout, "the help shows how to run it"


def test_a_script_started_by_another_interpreter_restarts_under_the_venv(tmp_path: Path) -> None:
    repo = repo_copy(tmp_path, venv=True)
    python = outside_python()
    probe = subprocess.run([python, "-S", str(repo / "scripts" / "probe")], capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert Path(probe.stdout.strip()).resolve() == Path(sys.prefix).resolve()
    # A real script, which needs the venv's packages, with arguments kept.
    out = tmp_path / "corpus"
    done = subprocess.run([python, "-S", str(repo / "scripts" / "make-synthetic-corpus"), "12", str(out), "--seed", "2", "--from", str(SCRIPTS.parent / "corpus")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(list((out / "raw").iterdir())) == 12


def test_without_a_venv_a_script_says_how_to_make_one_in_one_line(tmp_path: Path) -> None:
    repo = repo_copy(tmp_path, venv=False)
    done = subprocess.run([outside_python(), "-S", str(repo / "scripts" / "bench"), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"scripts/bench: no virtualenv at {repo / '.venv'}: run `make venv` (or `make dataset`) first"]
