"""Round-trip helpers for VOC tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.dataset import Dataset
from dsrepo.model.encoding import decode_categories, decode_item, encode_categories, encode_item
from dsrepo.progress import NullProgress


def through_encoding(ds: Dataset) -> Dataset:
    """The dataset after items, categories and subset meta went through the canonical
    encoding (what the repository stores and reads back)."""
    items = []
    for it in ds:
        path = it.media.path if it.media is not None else None
        back = decode_item(encode_item(it, lambda m: None), resolve_media=lambda md, p=path: p)
        items.append(back)
    cats = decode_categories(encode_categories(ds.categories))
    meta = orjson.loads(orjson.dumps({k: dict(v) for k, v in ds.subset_meta.items()}))
    return Dataset(cats, items, meta)


def encodings(ds: Dataset) -> list[bytes]:
    return [encode_item(it) for it in ds]


def assert_invariant(src: Path, out: Path, fmt: str, encode: bool = False, options=None) -> Dataset:
    """import(src) -> export without media -> (images placed as the repository does) ->
    import: equal canonical encodings one by one and equal categories; no warnings."""
    progress = NullProgress()
    ds = import_dataset(src, fmt, None, progress)
    export_dataset(through_encoding(ds) if encode else ds, out, fmt, options, progress)
    if (src / "JPEGImages").is_dir():
        shutil.copytree(src / "JPEGImages", out / "JPEGImages")
    again = import_dataset(out, fmt, None, progress)
    a, b = encodings(ds), encodings(again)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x == y
    assert encode_categories(ds.categories) == encode_categories(again.categories)
    assert progress.warnings == []
    return ds


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
