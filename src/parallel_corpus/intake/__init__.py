"""Intake: articles from outside into a corpus folder.

`add` copies single files, or turns each row or document of a news dump
(`dumps`: TSV, CSV, JSON Lines, TREC-style XML) into one raw file, and
appends their lines to `sources.jsonl`: bytes pinned by sha256, the codec
decided as the build decides it, the language given or detected by the
build's own tagger. It stands above `stages` (it reuses ingest's decoding and
the language tagger) and below everything that reads a finished corpus.
"""
