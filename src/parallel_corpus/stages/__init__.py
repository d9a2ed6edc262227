"""The per-document stages: one document in, one row out, pure functions of
the document and the corpus's curated configuration."""
