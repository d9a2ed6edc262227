"""`croissant.json`: MLCommons Croissant metadata of a release.

One FileObject per Parquet file, with its sha256, and one RecordSet per
(config, split) with a Field for every column of the config, typed from
`schemas/`: a struct is a Field with `subField`s, a list is `repeated`, and
a list of structs is a repeated Field whose subFields are read from each
element (`extract.column` names the Parquet column, `transform.jsonPath` the
key inside it: the shape `mlcroissant` reads from a Parquet column of
structs, since pandas hands it each element as a dict). The dataset carries
the Responsible-AI fields (`rai:`) that the card's sections also say, computed
from the same release.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import pyarrow as pa

from parallel_corpus import schema
from parallel_corpus.errors import Error
from parallel_corpus.records import split_of_parquet_name

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
# The Responsible-AI vocabulary the `rai:` fields follow.
RAI_CONFORMS_TO = "http://mlcommons.org/croissant/RAI/1.0"

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


def _kind(prop: dict[str, Any]) -> str:
    """The JSON type of a property, null aside (as `schema.arrow_type` reads it)."""
    t = prop.get("type", "string")
    return next((x for x in t if x != "null"), "null") if isinstance(t, list) else t


def _leaf_type(prop: dict[str, Any], where: str) -> str:
    dtype = _data_type(schema.arrow_type(prop))
    if dtype is None:
        raise Error(f"schemas: {where} has a type Croissant cannot name ({schema.arrow_type(prop)}): give it a scalar type")
    return dtype


def _field(field_id: str, name: str, prop: dict[str, Any], file_id: str, column: str, key: Optional[str]) -> dict[str, Any]:
    """The Field of one column (`key` None) or of one key inside a struct
    column. A list is `repeated`; a list of structs is repeated and its
    subFields are read from each element by key; a list inside such an
    element is a repeated subField."""
    repeated = _kind(prop) == "array"
    inner = prop["items"] if repeated else prop
    out: dict[str, Any] = {
        "@type": "cr:Field", "@id": field_id, "name": name,
        "description": prop.get("description") or inner.get("description") or f"`{field_id}`",
    }
    if _kind(inner) == "object":
        if key is not None:
            raise Error(f"schemas: {field_id} is a struct inside a struct: Croissant readers cannot read it from one Parquet column; flatten it")
        out["subField"] = [
            _field(f"{field_id}/{child}", child, child_prop, file_id, column, child)
            for child, child_prop in inner["properties"].items()
        ]
    else:
        if _kind(inner) == "array":
            raise Error(f"schemas: {field_id} is a list of lists: Croissant 1.0 has no shape for it; make it a list of structs")
        out["dataType"] = _leaf_type(inner, field_id)
        source: dict[str, Any] = {"fileObject": {"@id": file_id}, "extract": {"column": column}}
        if key is not None:
            source["transform"] = {"jsonPath": key}
        out["source"] = source
    if repeated:
        out["repeated"] = True
    return out


def record_set_fields(config: str, split: str, file_id: str) -> list[dict[str, Any]]:
    """A Field for every column of `config`, nested ones with their subFields."""
    props = schema.load_schema(config)["properties"]
    return [_field(f"{config}_{split}/{name}", name, prop, file_id, name, None) for name, prop in props.items()]


def metadata(dataset: dict[str, Any], files: dict[str, str], rai: Optional[dict[str, Any]] = None, cite_as: Optional[str] = None, license_text: Optional[str] = None) -> dict[str, Any]:
    """The Croissant document of a release whose files (path -> sha256) are
    given; `rai` holds the Responsible-AI fields (`card.responsible_ai`)."""
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
        record_sets.append({
            "@type": "cr:RecordSet", "@id": f"{config}_{split}", "name": f"{config}_{split}",
            "description": f"The {split} split of the `{config}` config: one record per row, every column.",
            "field": record_set_fields(config, split, file_id),
        })
    out: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": dataset["name"],
        "description": (dataset.get("description") or dataset["pretty_name"]).strip(),
        "conformsTo": [CONFORMS_TO, RAI_CONFORMS_TO] if rai else CONFORMS_TO,
        "license": license_text or dataset["license"],
        "version": dataset["version"],
        "citeAs": cite_as or dataset["name"],
        "inLanguage": list(dataset["languages"]),
    }
    if dataset.get("homepage"):
        out["url"] = dataset["homepage"]
    if dataset.get("release_date"):
        out["datePublished"] = str(dataset["release_date"])
    for key, value in (rai or {}).items():
        out[f"rai:{key}"] = value
    out["distribution"] = distribution
    out["recordSet"] = record_sets
    return out


def write(path: Path, dataset: dict[str, Any], files: dict[str, str], rai: Optional[dict[str, Any]] = None, cite_as: Optional[str] = None, license_text: Optional[str] = None) -> None:
    path.write_text(json.dumps(metadata(dataset, files, rai, cite_as, license_text), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
