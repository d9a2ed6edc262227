"""The `parallel-corpus` command: flags in, one library call per command."""

from parallel_corpus.cli.commands import main

__all__ = ["main"]
