"""The card's front matter, made through `huggingface_hub.DatasetCardData`
and `datasets`' own `dataset_info` writer, is the YAML the card wrote by hand
before, with the Hub's licence and creator keys added and tasks that fit
comparable (not translated) news: keys, configs and splits in the same
order, features as `datasets` reads them."""

from __future__ import annotations

from typing import Any

import datasets
import pytest
import yaml

from parallel_corpus import schema
from parallel_corpus.align.splits import SPLIT_ORDER
from parallel_corpus.release.card import front_matter, front_matter_of

DATASET = {
    "pretty_name": "A corpus (sw, hi, ar) with a title longer than eighty characters, as cards have", "languages": ["sw", "hi", "ar"],
    "license": "other", "license_name": "news-outlets-terms", "license_link": "README.md",
}


def former_front_matter(dataset: dict[str, Any], splits: dict[str, Any]) -> dict[str, Any]:
    """The front matter as the card wrote it by hand before, with the keys added since (the reference)."""
    configs, infos = [], []
    for config in ("documents", "parallel", "pairs", "annotations"):
        if config not in splits:
            continue
        present = [s for s in SPLIT_ORDER if s in splits[config]]
        configs.append({"config_name": config, "data_files": [{"split": s, "path": f"data/{config}/{s}-00000-of-00001.parquet"} for s in present], **({"default": True} if config == "documents" else {})})
        infos.append({
            "config_name": config,
            "features": schema.features(config)._to_yaml_list(),
            "splits": [{"name": s, "num_bytes": splits[config][s]["num_bytes"], "num_examples": splits[config][s]["num_examples"]} for s in present],
            "dataset_size": sum(splits[config][s]["num_bytes"] for s in present),
        })
    return {
        "pretty_name": dataset["pretty_name"], "language": list(dataset["languages"]), "license": dataset["license"],
        "license_name": dataset["license_name"], "license_link": dataset["license_link"],
        "annotations_creators": ["machine-generated"], "language_creators": ["found"], "multilinguality": "multilingual",
        "size_categories": ["n<1K"], "source_datasets": ["original"],
        "task_categories": ["sentence-similarity", "text-retrieval", "token-classification", "text-classification"],
        "task_ids": ["semantic-similarity-scoring", "document-retrieval", "named-entity-recognition", "topic-classification"],
        "tags": ["comparable-corpus", "news", "cross-lingual", "wikidata", "label-studio"],
        "configs": configs, "dataset_info": infos,
    }


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def _splits(configs: list[str], names: list[str]) -> dict[str, Any]:
    return {c: {s: {"num_bytes": 100 * (i + 1) + j, "num_examples": i + j + 1} for j, s in enumerate(reversed(names))} for i, c in enumerate(configs)}


@pytest.mark.parametrize(
    "splits",
    [
        _splits(["documents"], ["train"]),
        _splits(["documents", "parallel", "pairs"], ["train"]),
        _splits(["documents", "parallel", "pairs", "annotations"], ["train", "validation", "test"]),
        _splits(["documents", "annotations"], ["test", "train"]),
    ],
    ids=["one config", "three configs", "every config and split", "two configs"],
)
def test_the_yaml_is_the_one_the_card_always_wrote(splits):
    assert _dump(front_matter(DATASET, splits)) == _dump(former_front_matter(DATASET, splits))


def test_datasets_reads_the_features_back():
    splits = _splits(["documents", "parallel", "pairs", "annotations"], ["train"])
    meta = front_matter_of("---\n" + _dump(front_matter(DATASET, splits)) + "---\n")
    for info in meta["dataset_info"]:
        assert datasets.Features._from_yaml_list(info["features"]) == schema.features(info["config_name"])


def test_a_licence_on_the_hubs_list_is_not_named_again():
    meta = front_matter(DATASET | {"license": "cc-by-4.0"}, _splits(["documents"], ["train"]))
    assert meta["license"] == "cc-by-4.0" and "license_name" not in meta and "license_link" not in meta
