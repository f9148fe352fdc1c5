"""Round-trip helpers for LabelMe tests."""

from __future__ import annotations

from pathlib import Path

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.dataset import Dataset
from dsrepo.model.encoding import decode_categories, decode_item, encode_categories, encode_item
from dsrepo.progress import NullProgress


def no_md5(_image) -> None:
    return None


def encoded(ds: Dataset) -> list[bytes]:
    """Canonical encodings of every item, in order (image checksums left out)."""
    return [encode_item(it, checksum=no_md5) for it in ds]


def through_encoding(ds: Dataset) -> Dataset:
    """``ds`` after its items and categories went through the canonical encoding, as the
    repository stores and reads them back (in-memory pixels are not kept)."""
    items = []
    for it in ds:
        path = it.media.path if it.media is not None else None
        items.append(decode_item(encode_item(it), resolve_media=lambda md, p=path: p))
    return Dataset(decode_categories(encode_categories(ds.categories)), items, ds.subset_meta)


def assert_key_invariant(src: Path, out: Path, import_options=None, encode: bool = False) -> Dataset:
    """import -> export (no media) -> import gives equal encodings one by one and equal
    categories, with no warnings; returns the first import."""
    progress = NullProgress()
    first = import_dataset(src, "labelme", import_options, progress)
    exported = through_encoding(first) if encode else first
    export_dataset(exported, out, "labelme", None, progress)
    second = import_dataset(out, "labelme", import_options, progress)
    a, b = encoded(first), encoded(second)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x == y
    assert encode_categories(first.categories) == encode_categories(second.categories)
    assert progress.warnings == []
    return first
