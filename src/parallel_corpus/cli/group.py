"""The command group every `parallel-corpus` group is made of: it turns a
refusal of the library into its one line and exit 1.

Every room raises an `errors.Error` subclass whose message names file, row,
field and what to do, so the command line catches that one class here, once,
instead of a tuple of room errors in each command; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from parallel_corpus.errors import Error

EXIT_INVALID = 1


def fail(message: str, code: int = EXIT_INVALID) -> None:
    """`error: message` on stderr and exit `code`: what every refusal prints."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class Group(click.Group):
    """A click group whose commands' `Error`s become one line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Error as exc:
            fail(str(exc))
