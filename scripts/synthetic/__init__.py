"""Synthetic corpora: N raw news articles (sw, hi, ar) in a corpus folder, for tests and benchmarks.

Input: the seed articles of a real corpus folder (`corpus/` of this repo) and
its curated YAML; output: a corpus folder of the same shape (raw/,
sources.jsonl, dataset.yaml, cleaning/languages/dates/entities.yaml) whose
documents look like real news to every stage: site chrome around the text,
glued datelines, repeated captions, and about ten documents per story
(topic) that share invented people, places, a date and a figure, spelled
consistently in Latin, Devanagari and Arabic script. Same N and seed (and
the same seed corpus) give the same bytes.

Not part of the package: it is run (scripts/make-synthetic-corpus,
scripts/bench) and imported by the tests, with scripts/ on the path.
seeds.py cuts the seed sentences, names.py invents the entities,
articles.py writes one article, make.py the folder; the prose is in
templates/*.yaml.
"""

from synthetic.articles import MAX_BYTES, MIN_BYTES
from synthetic.common import GENERATOR_VERSION, SyntheticError
from synthetic.make import DEFAULT_MAX_ENTITIES, make_corpus
from synthetic.seeds import SeedText, load_seed_text

__all__ = [
    "DEFAULT_MAX_ENTITIES", "GENERATOR_VERSION", "MAX_BYTES", "MIN_BYTES",
    "SeedText", "SyntheticError", "load_seed_text", "make_corpus",
]
