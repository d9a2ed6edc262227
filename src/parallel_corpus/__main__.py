"""`python -m parallel_corpus` is the `parallel-corpus` command, for a
checkout whose virtualenv is not on PATH."""

from parallel_corpus.cli import main

main(prog_name="parallel-corpus")
