"""The README and docs/ held to the code they describe.

Pages drift when the code moves and nobody runs what they say. So: every
command and option of `parallel-corpus` has help text and its line in
docs/cli.md (and cli.md names nothing that is gone), and the README's
table a row per command and a link to every page of docs/; every command line of
a ```bash block in README.md and docs/*.md, and every inline
`.venv/bin/parallel-corpus ...`, names a command and options that exist
(resolved through the click group, never run), `scripts/...` files that
exist and are executable, `make` targets the Makefile has, and repository
files that exist; every link between the pages lands on a file and heading;
and every `parallel_corpus.` module path a page names imports. Commands are written one way, as they run in a fresh clone after
`make dataset` (`.venv/bin/parallel-corpus`, `.venv/bin/python -m pytest`,
`scripts/...` bare), so a line written another way fails too.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shlex
from pathlib import Path
from typing import Iterator, Optional

import click
import pytest
from click.testing import CliRunner

from conftest import REPO
from parallel_corpus.cli import main

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
CLI_PAGE = REPO / "docs" / "cli.md"
PROGRAM = ".venv/bin/parallel-corpus"
PYTHON = ".venv/bin/python"
# Folders that commands write; a path under them need not exist in a checkout.
OUTPUT_FOLDERS = {"build", "dist", ".bench", ".labelstudio", ".venv", ".git", ".hypothesis"}
# How a line must not start: these run only inside an activated virtualenv.
BARE = {"parallel-corpus", "pytest", "pip", "pip3", "python", "python3"}
# A word of capitals (FILE, ID, ORG), an ellipsis or a glob marks a placeholder, not a file.
PLACEHOLDER = re.compile(r"[A-Z]{2,}|[…*?<>{}]|\.\.\.")

# --- the command line -------------------------------------------------------


def commands(group: click.Command = main, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command under the group, the group itself first, with its path of names."""
    yield path, group
    if isinstance(group, click.Group):
        for name in sorted(group.commands):
            yield from commands(group.commands[name], (*path, name))


COMMANDS = dict(commands())


def options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option)]


def long_name(option: click.Option) -> str:
    return next(o for o in option.opts if o.startswith("--"))


OPTIONS = [(" ".join(path), long_name(o)) for path, command in COMMANDS.items() for o in options(command)]


@pytest.mark.parametrize("path", [" ".join(p) for p in COMMANDS], ids=lambda p: p or "parallel-corpus")
def test_every_command_has_help(path: str) -> None:
    command = COMMANDS[tuple(path.split())]
    assert (command.help or "").strip(), f"parallel-corpus {path}: no help text: give the command a docstring"
    shown = CliRunner().invoke(main, [*path.split(), "--help"])
    assert shown.exit_code == 0 and (command.help or "").split("\n")[0].split()[0] in shown.output, shown.output


@pytest.mark.parametrize(
    "path,option",
    OPTIONS,
    ids=[f"{p or 'parallel-corpus'} {o}" for p, o in OPTIONS],
)
def test_every_option_has_help(path: str, option: str) -> None:
    found = next(o for o in options(COMMANDS[tuple(path.split())]) if long_name(o) == option)
    assert (found.help or "").strip(), f"parallel-corpus {path} {option}: no help text: give it help=..."


# --- docs/cli.md ------------------------------------------------------------


def cli_page(text: str) -> dict[tuple[str, ...], set[str]]:
    """docs/cli.md's sections: a command's path -> the options its lines name.

    A section is a heading "## `parallel-corpus PATH`"; an option's line is a
    list item that opens with the option in backticks ("- `--out DIR` ...",
    "- `-q`, `--quiet`: ...")."""
    sections: dict[tuple[str, ...], set[str]] = {}
    current: Optional[set[str]] = None
    for line in text.splitlines():
        heading = re.fullmatch(r"## `parallel-corpus((?: [a-z-]+)*)`", line.strip())
        if heading:
            current = sections.setdefault(tuple(heading.group(1).split()), set())
        elif line.startswith("## "):
            current = None
        elif current is not None and line.startswith("- `"):
            lead = re.match(r"- ((?:`[^`]+`(?:, | )?)+)", line)
            current.update(span.split()[0] for span in re.findall(r"`([^`]+)`", lead.group(1)) if span.startswith("-"))
    return sections


SECTIONS = cli_page(CLI_PAGE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [" ".join(p) for p in COMMANDS], ids=lambda p: p or "parallel-corpus")
def test_every_command_has_its_section_in_cli_md(path: str) -> None:
    assert tuple(path.split()) in SECTIONS, f"docs/cli.md: no section '## `parallel-corpus {path}`'".replace("  ", " ")


@pytest.mark.parametrize("path,option", OPTIONS + [("", "--help")], ids=[f"{p or 'parallel-corpus'} {o}" for p, o in OPTIONS + [("", "--help")]])
def test_every_option_has_its_line_in_cli_md(path: str, option: str) -> None:
    documented = SECTIONS.get(tuple(path.split()), set())
    assert option in documented, f"docs/cli.md: parallel-corpus {path} {option} has no line '- `{option} ...`: what it does' in its section"


def test_cli_md_names_only_commands_and_options_that_exist() -> None:
    problems = []
    for path, named in SECTIONS.items():
        command = COMMANDS.get(path)
        if command is None:
            problems.append(f"docs/cli.md: '## `parallel-corpus {' '.join(path)}`' is no command")
            continue
        known = {name for o in options(command) for name in o.opts} | {"-h", "--help"}
        problems += [f"docs/cli.md: parallel-corpus {' '.join(path)} has no option {n}" for n in sorted(named - known)]
    assert not problems, "\n".join(problems)


def test_the_readme_table_names_every_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Commands") :].split("\n## ", 1)[0]
    named = set(re.findall(r"`([a-z][a-z-]*)[ `]", table))
    missing = sorted(set(main.commands) - named)
    assert not missing, f"README.md: the Commands table has no row for {missing}"


def test_the_readme_links_every_page_of_docs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in sorted((REPO / "docs").glob("*.md")) if f"](docs/{p.name})" not in readme]
    assert not missing, f"README.md: 'Read on' links no {missing}"


# --- command lines in the pages -----------------------------------------------


def bash_lines(page: Path) -> Iterator[tuple[int, str]]:
    """(line number, command line) of every ```bash block, continuations joined."""
    inside = False
    pending, start = "", 0
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            inside = line.strip() == "```bash"
            continue
        if not inside:
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole, pending = pending + line, ""
        if whole.strip() and not whole.lstrip().startswith("#"):
            yield start, whole.strip()


def inline_commands(page: Path) -> Iterator[tuple[int, str]]:
    """(line number, span) of every inline `.venv/bin/parallel-corpus ...` in prose."""
    text = page.read_text(encoding="utf-8")
    prose = re.sub(r"```.*?```", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    for match in re.finditer(r"`(" + re.escape(PROGRAM) + r"[^`]*)`", prose):
        yield prose.count("\n", 0, match.start()) + 1, " ".join(match.group(1).split())


def segments(line: str) -> list[list[str]]:
    """The simple commands of a shell line (split at &&, ||, |, ;), comments dropped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    out: list[list[str]] = [[]]
    for token in lexer:
        if token in {"&&", "||", "|", ";", "&"}:
            out.append([])
        else:
            out[-1].append(token)
    return [s for s in out if s]


def repository_folders(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.is_dir() and p.name not in OUTPUT_FOLDERS}


def make_targets(makefile: Path) -> set[str]:
    return {
        m.group(1)
        for line in makefile.read_text(encoding="utf-8").splitlines()
        if (m := re.match(r"([A-Za-z0-9_.-]+)\s*:(?!=)", line))
    }


def check_program(words: list[str]) -> list[str]:
    """The subcommand path and every option of a `parallel-corpus` line, resolved through the group."""
    command: click.Command = main
    path: list[str] = []
    problems = []
    for word in (w.strip("[]") for w in words):
        if not word:
            continue
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            known = {n for o in options(command) for n in o.opts} | {"-h", "--help"}
            if re.fullmatch(r"--?[A-Za-z][\w-]*", name) and name not in known:
                problems.append(f"parallel-corpus {' '.join(path)}: no option {name}".replace("  ", " "))
        elif isinstance(command, click.Group):
            sub = command.commands.get(word)
            if sub is None:
                problems.append(f"parallel-corpus {' '.join(path)}: no command {word!r}".replace("  ", " "))
                break
            command, path = sub, [*path, word]
    return problems


def check_paths(words: list[str], root: Path) -> list[str]:
    """Arguments that name a file or folder of the repository must exist."""
    folders = repository_folders(root)
    problems = []
    for word in (w.strip("[]") for w in words):
        if word.startswith("-") and "=" in word:
            word = word.split("=", 1)[1]
        first = word.split("/", 1)[0]
        if first in folders and not PLACEHOLDER.search(word) and not (root / word).exists():
            problems.append(f"{word}: no such file in the repository")
    return problems


def check_line(line: str, root: Path = REPO) -> list[str]:
    """What no longer runs in a command line as a page writes it, as one message each."""
    problems = []
    try:
        parts = segments(line)
    except ValueError as exc:
        return [f"not a shell line ({exc})"]
    for words in parts:
        head, rest = words[0], words[1:]
        while "=" in head and not head.startswith(("-", ".", "/")) and rest:  # VAR=value command
            head, rest = rest[0], rest[1:]
        if head in BARE or head.startswith(("pytest", "pip ")):
            problems.append(f"{head}: write it as it runs in a fresh clone after `make dataset` ({PROGRAM}, {PYTHON} -m pytest, {PYTHON} -m pip)")
        elif head == PROGRAM:
            problems += check_program(rest)
        elif head == PYTHON:
            if rest[:1] and rest[0].startswith("scripts/"):
                problems.append(f"{rest[0]}: run scripts as they are (`{rest[0]} ...`): they find the virtualenv themselves")
            if rest[:2] == ["-m", "pip"] and "install" in rest and "constraints.txt" not in rest:
                problems.append("pip install without -c constraints.txt: the virtualenv holds exact pins")
        elif head.startswith("scripts/"):
            script = root / head
            if not script.is_file():
                problems.append(f"{head}: no such script")
            elif not os.access(script, os.X_OK):
                problems.append(f"{head}: not executable")
        elif head == "make":
            targets = make_targets(root / "Makefile")
            problems += [f"make {t}: the Makefile has no such target" for t in rest if not t.startswith("-") and t not in targets]
        problems += check_paths(rest, root)
    return problems


def page_lines() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        name = page.relative_to(REPO).as_posix()
        found += [(name, n, line) for n, line in bash_lines(page)]
        found += [(name, n, span) for n, span in inline_commands(page)]
    return found


PAGE_LINES = page_lines()


@pytest.mark.parametrize("page,number,line", PAGE_LINES, ids=[f"{p}:{n}" for p, n, _ in PAGE_LINES])
def test_every_command_line_in_the_pages_still_runs(page: str, number: int, line: str) -> None:
    problems = check_line(line)
    assert not problems, f"{page}:{number}: {line}\n" + "\n".join(problems)


def test_the_pages_hold_command_lines() -> None:
    """The parser finds the blocks: a page's commands cannot drop out of the check unseen."""
    on = {page for page, _, line in PAGE_LINES if line.startswith(PROGRAM)}
    assert {"README.md", "docs/curating.md", "docs/annotating.md", "docs/releasing.md", "docs/benchmarks.md"} <= on


@pytest.mark.parametrize(
    "line,expected",
    [
        (f"{PROGRAM} biuld --out build", "no command 'biuld'"),
        (f"{PROGRAM} build --outdir build", "build: no option --outdir"),
        (f"{PROGRAM} annotate push --knd documents", "annotate push: no option --knd"),
        (f"{PROGRAM} annotate pul", "annotate: no command 'pul'"),
        ("scripts/measure-everything --show", "scripts/measure-everything: no such script"),
        ("make dataset && make deploy", "make deploy: the Makefile has no such target"),
        (f"{PYTHON} -m pytest tests/test_nothing.py", "tests/test_nothing.py: no such file"),
        (f"{PROGRAM} validate corpus/nothing.jsonl", "corpus/nothing.jsonl: no such file"),
        ("parallel-corpus validate corpus", "parallel-corpus: write it as it runs"),
        ("pytest tests/test_docs.py", "pytest: write it as it runs"),
        ("pip install -e '.[distributed]'", "pip: write it as it runs"),
        (f"{PYTHON} -m pip install -e '.[distributed]'", "without -c constraints.txt"),
        (f"{PYTHON} scripts/bench --sizes 200", "run scripts as they are"),
    ],
)
def test_a_broken_line_is_caught(line: str, expected: str) -> None:
    assert any(expected in p for p in check_line(line)), check_line(line)


def test_a_script_that_is_not_executable_is_caught(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "tool").write_text("#!/bin/sh\n", encoding="utf-8")
    assert check_line("scripts/tool", tmp_path) == ["scripts/tool: not executable"]


def test_placeholders_and_outputs_are_not_files() -> None:
    assert check_line(f"{PROGRAM} validate dist/vX.Y.Z corpus/raw/FILE build/report.json corpus annotations") == []


# Inline paths under these folders name code, schemas or scripts, which a
# checkout always holds (a corpus or annotations file may be one a command writes).
CODE_FOLDERS = ("src/", "tests/", "scripts/", "schemas/")


def inline_paths() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for span in re.findall(r"`([^`\s]+)`", line):
                if span.startswith(CODE_FOLDERS) and not PLACEHOLDER.search(span):
                    found.append((page.relative_to(REPO).as_posix(), number, span))
    return found


INLINE_PATHS = inline_paths()


@pytest.mark.parametrize("page,number,path", INLINE_PATHS, ids=[f"{p}:{n}:{s}" for p, n, s in INLINE_PATHS])
def test_every_code_path_in_the_pages_exists(page: str, number: int, path: str) -> None:
    assert (REPO / path).exists(), f"{page}:{number}: `{path}` is not in the repository: name where it lives now"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def links() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if not re.match(r"[a-z]+:", target):
                found.append((page.relative_to(REPO).as_posix(), target))
    return found


@pytest.mark.parametrize("page,target", links(), ids=lambda v: v)
def test_every_link_between_the_pages_lands(page: str, target: str) -> None:
    path, _, anchor = target.partition("#")
    file = (REPO / page).parent / path if path else REPO / page
    assert file.is_file(), f"{page}: link to {target}: no such file"
    if anchor:
        headings = {slug(h) for h in re.findall(r"^#+ (.+)$", file.read_text(encoding="utf-8"), re.M)}
        assert anchor in headings, f"{page}: link to {target}: no heading with that anchor"


# --- module paths in the pages ----------------------------------------------


def module_paths() -> list[tuple[str, str]]:
    found = set()
    for page in PAGES:
        for name in re.findall(r"`(parallel_corpus(?:\.\w+)+)`", page.read_text(encoding="utf-8")):
            found.add((page.relative_to(REPO).as_posix(), name))
    return sorted(found)


def resolves(name: str) -> bool:
    """A module, or a name inside one."""
    try:
        if importlib.util.find_spec(name) is not None:
            return True
    except ModuleNotFoundError:
        pass
    module, _, attribute = name.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), attribute)
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("page,name", module_paths(), ids=lambda v: v)
def test_every_module_path_in_the_pages_imports(page: str, name: str) -> None:
    assert resolves(name), f"{page}: `{name}` is no module or name of the package: name the room it lives in now"


def test_a_stale_module_path_is_caught() -> None:
    assert resolves("parallel_corpus.engine.memory") and resolves("parallel_corpus.records.REMOVAL_REASONS")
    assert not resolves("parallel_corpus.memory") and not resolves("parallel_corpus.records.NO_SUCH_NAME")
