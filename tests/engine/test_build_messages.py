"""Where a build's messages go: the `parallel_corpus` logger for a library
caller, a `log` callback when one is given, and one line each on stderr
from the command line (engine/build.py, cli/group.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from parallel_corpus import build
from parallel_corpus.cli.commands import main
from synthetic import make_corpus

UNLISTED = "warning: raw/stray.txt is not listed in sources.jsonl; it is not built (add a line for it)"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("messages") / "corpus"
    make_corpus(12, path, seed=2)
    (path / "raw" / "stray.txt").write_text("a file nobody listed\n", encoding="utf-8")
    return path


def test_a_library_caller_gets_the_messages_through_logging(corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="parallel_corpus"):
        build(corpus, tmp_path / "out", annotations_dir=None)
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [("parallel_corpus.engine.build", logging.WARNING, UNLISTED)]


def test_a_log_callback_gets_them_instead(corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    said: list[str] = []
    with caplog.at_level(logging.WARNING, logger="parallel_corpus"):
        build(corpus, tmp_path / "out", annotations_dir=None, log=said.append)
    assert said == [UNLISTED]
    assert not caplog.records


def test_the_library_prints_nothing_itself(corpus: Path, tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    library = logging.getLogger("parallel_corpus")
    assert any(isinstance(h, logging.NullHandler) for h in library.handlers)
    saved = library.handlers[:]
    library.handlers = [h for h in saved if isinstance(h, logging.NullHandler)]  # no command line here
    try:
        build(corpus, tmp_path / "out", annotations_dir=None)
    finally:
        library.handlers = saved
    assert UNLISTED not in capfd.readouterr().err


def test_the_command_line_prints_each_message_once_as_a_line(corpus: Path, tmp_path: Path) -> None:
    for run in range(2):  # a second command in the same process adds no second handler
        result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--out", str(tmp_path / f"out{run}"), "--annotations", str(tmp_path / "none"), "-q"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines().count(UNLISTED) == 1, result.output
