"""What a build sets on a document row once the corpus is aligned: its topic,
event and split, and a human's labels.

Two steps need it: pass two, which writes the `documents` Parquet, and the
audit page, which shows the same rows. The page reads the build's spill,
not the Parquet, so both set the columns here, the same way.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pyarrow as pa

# The columns alignment decides, in the `documents` schema.
COLUMNS = ("topic_id", "topic_title", "event_id", "topic_source", "topic_score", "topic_evidence", "split")


def placement_arrays(ids: Sequence[str], assignments: Mapping[str, Any], split_of_topic: Mapping[str, str], arrow_schema: pa.Schema) -> dict[str, pa.Array]:
    """The documents' topic, event and split columns (`COLUMNS`), typed as
    `arrow_schema` has them."""
    chosen = [assignments[i] for i in ids]
    values = {
        "topic_id": [a.topic_id for a in chosen],
        "topic_title": [a.topic_title for a in chosen],
        "event_id": [a.event_id for a in chosen],
        "topic_source": [a.topic_source for a in chosen],
        "topic_score": [a.score for a in chosen],
        "topic_evidence": [list(a.evidence) for a in chosen],
        "split": [split_of_topic[a.topic_id] for a in chosen],
    }
    return {name: pa.array(values[name], type=arrow_schema.field(name).type) for name in COLUMNS}


def with_topics(batch: pa.RecordBatch, assignments: Mapping[str, Any], split_of_topic: Mapping[str, str], overrides: Any, arrow_schema: pa.Schema) -> pa.RecordBatch:
    """The batch as `arrow_schema` (`documents`) has it: its topic, event and
    split columns set, and human labels applied."""
    ids = batch.column("id").to_pylist()
    placed = placement_arrays(ids, assignments, split_of_topic, arrow_schema)
    columns = [placed[f.name] if f.name in placed else batch.column(f.name) for f in arrow_schema]
    batch = pa.RecordBatch.from_arrays(columns, schema=arrow_schema)
    if overrides is not None and any(i in overrides.documents for i in ids):
        # Human labels are rare: only a batch that holds one goes through Python rows.
        rows = batch.to_pylist()
        for row in rows:
            overrides.apply_to_document(row)
        batch = pa.RecordBatch.from_pylist(rows, schema=arrow_schema)
    return batch
