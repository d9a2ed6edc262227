"""Human annotations: Label Studio tasks out, exports back in, checked, stored
under `annotations/`, and turned into the overrides the build applies.

    controls     the Label Studio vocabulary, read from schemas/labelstudio/*.xml
    labelstudio  the client: projects, tasks with predictions, exports
    exports      an export (JSON, JSON-MIN, 0.x completions) into checked records
    spans        entity spans against the text they were made on
    store        annotations/*.jsonl: read, merge (the newest updated_at wins), write
    overrides    what the build applies, read from the store
    agreement    agreement between annotators, for the report and the card
"""
