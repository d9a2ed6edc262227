"""The command group every `parallel-corpus` group is made of: it turns a
refusal of the library into its one line and exit 1, and prints the
library's messages (the `parallel_corpus` logger) as lines on stderr.

Every room raises an `errors.Error` subclass whose message names file, row,
field and what to do, so the command line catches that one class here, once,
instead of a tuple of room errors in each command; anything else is a bug and
keeps its traceback.

The library only logs (its package adds a NullHandler); the command line
is where a handler goes, so that a build's `warning: ...`, `skipped: ...`
and `quarantined: ...` lines reach the terminal as they are, above a
progress bar rather than through it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from parallel_corpus.errors import Error

EXIT_INVALID = 1


def fail(message: str, code: int = EXIT_INVALID) -> None:
    """`error: message` on stderr and exit `code`: what every refusal prints."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class LineHandler(logging.Handler):
    """Each record's message, alone, as a line on the current stderr,
    written through tqdm so that a progress bar is redrawn below it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:
            self.handleError(record)


def show_library_messages() -> None:
    """Put one `LineHandler` on the `parallel_corpus` logger, for warnings
    and above. Idempotent: commands invoked many times in one process (the
    tests) print each line once."""
    library = logging.getLogger("parallel_corpus")
    if not any(isinstance(h, LineHandler) for h in library.handlers):
        handler = LineHandler(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(message)s"))
        library.addHandler(handler)


class Group(click.Group):
    """A click group whose commands' `Error`s become one line and exit 1,
    and whose library messages are printed as lines."""

    def invoke(self, ctx: click.Context) -> Any:
        show_library_messages()
        try:
            return super().invoke(ctx)
        except Error as exc:
            fail(str(exc))
