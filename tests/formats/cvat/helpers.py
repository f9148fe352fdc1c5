"""Round-trip helpers for CVAT tests."""

from __future__ import annotations

from pathlib import Path

import orjson

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.dataset import Dataset
from dsrepo.model.encoding import decode_categories, decode_item, encode_categories, encode_item
from dsrepo.progress import NullProgress


def no_md5(m):
    return None


def encodings(ds: Dataset, with_md5: bool = False) -> list[bytes]:
    """Canonical encodings of every item, in order (media checksums left out unless asked)."""
    return [encode_item(it, None if with_md5 else no_md5) for it in ds]


def through_encoding(ds: Dataset) -> Dataset:
    """The dataset after a trip through the canonical encoding (as the repository stores it)."""
    items = []
    for it in ds:
        path = it.media.path if it.media is not None else None
        items.append(decode_item(encode_item(it, no_md5), resolve_media=lambda md, p=path: p))
    cats = decode_categories(encode_categories(ds.categories))
    meta = orjson.loads(orjson.dumps({k: dict(v) for k, v in ds.subset_meta.items()}))
    return Dataset(cats, items, meta)


def assert_round_trip(src: Path, out: Path, options=None, encode: bool = False,
                      import_options=None) -> tuple[Dataset, Dataset, NullProgress]:
    """import -> export -> import gives equal items (same order) and categories."""
    progress = NullProgress()
    a = import_dataset(src, "cvat", import_options, progress)
    export_dataset(through_encoding(a) if encode else a, out, "cvat", options, progress)
    b = import_dataset(out, "cvat", import_options)
    ea, eb = encodings(a), encodings(b)
    assert len(ea) == len(eb)
    for x, y in zip(ea, eb):
        assert x == y
    assert encode_categories(a.categories) == encode_categories(b.categories)
    return a, b, progress
