"""The scripts run as the README writes them: `scripts/NAME` starts itself
under the repository's .venv whatever interpreter started it, says in one
line how to make the venv when there is none, and answers --help with what
it measures and how to run it. check-labelstudio-rtl installs no system
package and finds the login scripts/labelstudio keeps."""

from __future__ import annotations

import ast
import os
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


@pytest.mark.parametrize("name", ["labelstudio", "check-labelstudio-rtl"])
def test_shell_scripts_answer_help(name: str) -> None:
    done = subprocess.run([BASH, str(SCRIPTS / name), "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert f"scripts/{name}" in done.stdout and "#" not in done.stdout.splitlines()[0]


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


def fake_bin(folder: Path, tools: dict[str, str]) -> Path:
    """A folder of executables: each tool's shell body, plus the few real
    commands the script uses before it checks for anything."""
    folder.mkdir()
    for real in ("dirname", "cat", "grep", "sed"):
        found = shutil.which(real)
        if found:
            (folder / real).symlink_to(found)
    for name, body in tools.items():
        (folder / name).write_text(f"#!{BASH}\n{body}\n", encoding="utf-8")
        (folder / name).chmod(0o755)
    return folder


def test_check_labelstudio_rtl_says_what_is_missing_and_installs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "installed"
    recorder = f'echo "$0 $*" >> {marker}; exit 0'
    path = fake_bin(tmp_path / "bin", {"apt-get": recorder, "sudo": recorder, "apt": recorder})
    env = dict(os.environ, PATH=str(path))
    done = subprocess.run([BASH, str(SCRIPTS / "check-labelstudio-rtl")], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1
    assert not marker.exists(), f"it ran {marker.read_text()}"
    (line,) = done.stderr.splitlines()
    assert line.startswith("scripts/check-labelstudio-rtl: missing chromium chromium-driver fontconfig fonts-noto-core curl: ")
    assert "`sudo apt-get install chromium chromium-driver fontconfig fonts-noto-core curl`" in line


def test_check_labelstudio_rtl_logs_in_with_the_login_labelstudio_start_kept(tmp_path: Path) -> None:
    """With the server of `scripts/labelstudio start` in the environment, the
    login comes from its state folder; another server's needs a password."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPTS / "check-labelstudio-rtl", repo / "scripts")
    # curl reads the header piped to it: leaving it unread fails the pipe at random.
    present = {"chromium": "exit 0", "chromedriver": "exit 0", "fc-list": "echo NotoSansDevanagari-Regular.ttf", "curl": "cat >/dev/null"}
    path = fake_bin(tmp_path / "bin", present)
    state = tmp_path / "state"
    state.mkdir()
    (state / "port").write_text("8123\n")
    (state / "login").write_text("someone@example.com\nsecret-password\n")
    base = dict(os.environ, PATH=str(path), LABEL_STUDIO_STATE_DIR=str(state), LABEL_STUDIO_API_KEY="k")
    base.pop("LABEL_STUDIO_PASSWORD", None)

    def run(url: str) -> str:
        done = subprocess.run([BASH, str(repo / "scripts" / "check-labelstudio-rtl")], capture_output=True, text=True, timeout=60, env=dict(base, LABEL_STUDIO_URL=url))
        assert done.returncode == 1
        return done.stderr.strip()

    # The login was read: the next step fails for want of .labelstudio/venv.
    assert run("http://127.0.0.1:8123") == f"scripts/check-labelstudio-rtl: no {repo / '.labelstudio' / 'venv'}: run scripts/labelstudio start once (it creates it), then this again"
    assert "LABEL_STUDIO_PASSWORD is not set" in run("http://127.0.0.1:9999")
