"""Build, annotate, validate and publish a topic-aligned multilingual news corpus.

The package turns raw articles in `corpus/raw/` into Hugging Face dataset
folders; every stage is a plain function over dict records so the CLI, tests
and other engines can call the same code.
"""

__version__ = "0.1.0"
