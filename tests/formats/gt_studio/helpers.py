"""Round-trip helpers: import, export without media, place media as the repository does, re-import."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.dataset import Dataset
from dsrepo.model.encoding import decode_categories, decode_item, encode_categories, encode_item
from dsrepo.progress import NullProgress


def through_encoding(ds: Dataset) -> Dataset:
    """The dataset after items and categories went through the canonical encoding."""
    items = []
    for it in ds:
        path = it.media.path if it.media is not None else None
        back = decode_item(encode_item(it), resolve_media=lambda md, p=path: p)
        items.append(back)
    return Dataset(decode_categories(encode_categories(ds.categories)), items,
                   {k: dict(v) for k, v in ds.subset_meta.items()}, media_root=ds.media_root)


def place_media(ds: Dataset, out: Path) -> None:
    """Copy each item's image to the same path relative to the export folder."""
    for it in ds:
        if it.media is not None and it.media.has_file:
            rel = os.path.relpath(it.media.path, ds.media_root)
            assert not rel.startswith(".."), rel
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(it.media.path, out / rel)


def assert_invariant(src: Path, out: Path, fmt: str, import_options=None, encode: bool = False) -> Dataset:
    """import -> export (no media) -> import gives equal item encodings (same order) and categories."""
    p = NullProgress()
    first = import_dataset(src, fmt, import_options, p)
    if encode:
        first = through_encoding(first)
    export_dataset(first, out, fmt, None, p)
    place_media(first, out)
    second = import_dataset(out, fmt, import_options, p)
    a, b = [encode_item(i) for i in first], [encode_item(i) for i in second]
    assert len(a) == len(b) and a
    for x, y in zip(a, b):
        assert x == y
    assert encode_categories(first.categories) == encode_categories(second.categories)
    assert p.warnings == []
    return second
