"""Comparison helpers for COCO round-trip tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.dataset import Dataset
from dsrepo.model.encoding import decode_categories, decode_item, encode_categories, encode_item
from dsrepo.progress import NullProgress


def strict_diff(a: Any, b: Any, path: str = "$") -> str | None:
    """First difference between two JSON values, types included (1 != 1.0, True != 1)."""
    if type(a) is not type(b):
        return f"{path}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"
    if isinstance(a, dict):
        if set(a) != set(b):
            return f"{path}: keys {sorted(set(a) ^ set(b))} differ"
        for k in a:
            d = strict_diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = strict_diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def assert_same_files(src_dir: Path, dst_dir: Path, names: list[str] | None = None) -> None:
    """Every annotation file loads to exactly the same JSON (json and pycocotools)."""
    from pycocotools.coco import COCO

    names = names or sorted(p.name for p in src_dir.glob("*.json"))
    assert sorted(p.name for p in dst_dir.glob("*.json")) == sorted(names)
    for n in names:
        a = json.loads((src_dir / n).read_text(encoding="utf-8"))
        b = json.loads((dst_dir / n).read_text(encoding="utf-8"))
        d = strict_diff(a, b)
        assert d is None, f"{n}: {d}"
        if n.startswith("panoptic_"):
            continue  # panoptic files have no annotation ids: pycocotools cannot index them
        ca, cb = COCO(str(src_dir / n)), COCO(str(dst_dir / n))
        assert ca.dataset == cb.dataset
        assert ca.anns == cb.anns and ca.imgs == cb.imgs and ca.cats == cb.cats


def through_encoding(ds: Dataset) -> Dataset:
    """The dataset after every item, the categories and subset meta went through the
    canonical encoding (what the repository stores and reads back)."""
    items = []
    for it in ds:
        path = it.media.path if it.media is not None else None
        data = encode_item(it, checksum=lambda m: None)
        back = decode_item(data, resolve_media=lambda md, p=path: p)
        assert encode_item(back, checksum=lambda m: None) == data
        items.append(back)
    cats = decode_categories(encode_categories(ds.categories))
    meta = orjson.loads(orjson.dumps({k: dict(v) for k, v in ds.subset_meta.items()}))
    return Dataset(cats, items, meta)


def roundtrip(src: Path, out: Path, fmt: str = "coco", export_fmt: str | None = None, options=None,
              import_options=None, encode: bool = False) -> tuple[Dataset, NullProgress]:
    progress = NullProgress()
    ds = import_dataset(src, fmt, import_options, progress)
    if encode:
        ds = through_encoding(ds)
    export_dataset(ds, out, export_fmt or fmt, options, progress)
    return ds, progress
