"""Counting what a dataset contains."""

from __future__ import annotations

from collections import Counter
from typing import Any

from dsrepo.model.dataset import Dataset


def summarize(dataset: Dataset) -> dict[str, Any]:
    """Counts of items and annotations, overall, per subset and per annotation type,
    plus the label count. One pass over the items."""
    subsets: dict[str, dict[str, int]] = {}
    types: Counter[str] = Counter()
    n_items = n_anns = 0
    for item in dataset:
        s = subsets.setdefault(item.subset, {"items": 0, "annotations": 0})
        s["items"] += 1
        s["annotations"] += len(item.annotations)
        n_items += 1
        n_anns += len(item.annotations)
        for a in item.annotations:
            types[a.type.value] += 1
    for s in dataset.subset_meta:
        subsets.setdefault(s, {"items": 0, "annotations": 0})
    return {
        "items": n_items,
        "annotations": n_anns,
        "labels": len(dataset.categories.labels),
        "subsets": subsets,
        "annotation_types": dict(sorted(types.items())),
    }
