"""What every part of the synthetic-corpus generator shares: its version, its
languages, where the repository is, and its one error."""

from __future__ import annotations

from pathlib import Path

# Bumped whenever the same (N, seed, seed corpus) would give other bytes:
# a change of code or of a line of templates/*.yaml.
GENERATOR_VERSION = 1
# The generator's name in every synthetic.json.
GENERATOR_NAME = "scripts/synthetic"
LANGUAGES = ("sw", "hi", "ar")
# Entities a story owns: the seed sentences' slots P0-P2 and L0-L3.
PERSONS_PER_TOPIC = 3
PLACES_PER_TOPIC = 4
REPO = Path(__file__).resolve().parents[2]


class SyntheticError(ValueError):
    """The synthetic corpus cannot be made; the message says why in one line."""
