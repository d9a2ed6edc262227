"""`croissant.json`: MLCommons Croissant metadata of a release.

One FileObject per Parquet file, with its sha256, and one RecordSet per
(config, split) whose fields are the config's scalar columns, typed from
`schemas/`. Nested columns (blocks, entities, documents of a topic) are
described in the card; Croissant readers get every scalar column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from parallel_corpus import schema
from parallel_corpus.records import split_of_parquet_name

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"

# The Croissant 1.0 JSON-LD context, as the specification publishes it.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


def _data_type(t: pa.DataType) -> str | None:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "sc:Text"
    if pa.types.is_integer(t):
        return "sc:Integer"
    if pa.types.is_floating(t):
        return "sc:Float"
    if pa.types.is_boolean(t):
        return "sc:Boolean"
    if pa.types.is_date(t):
        return "sc:Date"
    return None


def _cite_as(dataset: dict[str, Any]) -> str:
    year = str(dataset.get("release_date") or "")[:4]
    fields = [f"title = {{{dataset['pretty_name']}}}", f"version = {{{dataset['version']}}}"]
    if year:
        fields.append(f"year = {{{year}}}")
    if dataset.get("homepage"):
        fields.append(f"url = {{{dataset['homepage']}}}")
    return "@misc{" + dataset["name"] + ", " + ", ".join(fields) + "}"


def metadata(dataset: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
    """The Croissant document of a release whose files (path -> sha256) are given."""
    distribution = []
    record_sets = []
    for path, digest in sorted(files.items()):
        parts = Path(path).parts
        split = split_of_parquet_name(parts[2]) if len(parts) == 3 and parts[0] == "data" else None
        if split is None:
            continue
        config = parts[1]
        file_id = f"{config}-{split}-parquet"
        distribution.append({
            "@type": "cr:FileObject", "@id": file_id, "name": file_id,
            "contentUrl": path, "encodingFormat": "application/x-parquet", "sha256": digest,
        })
        fields = []
        for f in schema.arrow_schema(config):
            dtype = _data_type(f.type)
            if dtype is None:
                continue
            fields.append({
                "@type": "cr:Field", "@id": f"{config}_{split}/{f.name}", "name": f.name,
                "description": schema.load_schema(config)["properties"][f.name].get("description", f.name),
                "dataType": dtype,
                "source": {"fileObject": {"@id": file_id}, "extract": {"column": f.name}},
            })
        record_sets.append({
            "@type": "cr:RecordSet", "@id": f"{config}_{split}", "name": f"{config}_{split}",
            "description": f"The {split} split of the `{config}` config (scalar columns).",
            "field": fields,
        })
    out: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": dataset["name"],
        "description": (dataset.get("description") or dataset["pretty_name"]).strip(),
        "conformsTo": CONFORMS_TO,
        "license": dataset["license"],
        "version": dataset["version"],
        "citeAs": _cite_as(dataset),
        "inLanguage": list(dataset["languages"]),
    }
    if dataset.get("homepage"):
        out["url"] = dataset["homepage"]
    if dataset.get("release_date"):
        out["datePublished"] = str(dataset["release_date"])
    out["distribution"] = distribution
    out["recordSet"] = record_sets
    return out


def write(path: Path, dataset: dict[str, Any], files: dict[str, str]) -> None:
    path.write_text(json.dumps(metadata(dataset, files), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
