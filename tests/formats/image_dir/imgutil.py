"""Small helpers shared by the image_dir / image_zip / imagenet tests: tiny real images,
zip writing as common tools do, and canonical-encoding comparisons."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import cv2
import numpy as np

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.dataset import Dataset
from dsrepo.model.encoding import decode_categories, decode_item, encode_categories, encode_item
from dsrepo.progress import NullProgress


def image_bytes(h: int, w: int, ext: str = ".png", seed: int = 0) -> bytes:
    """Encoded bytes of an ``h`` x ``w`` colour image with deterministic content."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, size=(h, w, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(ext, arr)
    assert ok
    return buf.tobytes()


def make_image(path: Path, h: int = 4, w: int = 6, seed: int = 0) -> Path:
    """Write a tiny image whose format follows ``path``'s extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(h, w, path.suffix.lower(), seed))
    return path


def make_zip(path: Path, entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A zip with ``entries`` in the given order (as `zip -r` or an OS archiver writes them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries.items():
            if name.endswith("/"):
                zf.writestr(zipfile.ZipInfo(name), b"")
            else:
                zf.writestr(name, data)
    return path


def encodings(ds: Dataset) -> list[bytes]:
    """Canonical encodings of every item, in order (media md5 from the file or zip entry)."""
    return [encode_item(it) for it in ds]


def assert_same_dataset(a: Dataset, b: Dataset) -> None:
    """Items equal one by one in order (canonical encoding) and equal categories."""
    ea, eb = encodings(a), encodings(b)
    assert len(ea) == len(eb)
    for x, y in zip(ea, eb):
        assert x == y
    assert encode_categories(a.categories) == encode_categories(b.categories)


def through_encoding(ds: Dataset) -> Dataset:
    """The dataset as the repository reads it back: items decoded from their canonical
    encoding, media resolved to the original file path."""
    items = []
    for it in ds:
        path = it.media.path if it.media is not None else None
        items.append(decode_item(encode_item(it), resolve_media=lambda md, p=path: p))
    return Dataset(decode_categories(encode_categories(ds.categories)), items,
                   {k: dict(v) for k, v in ds.subset_meta.items()})


def place_media(ds: Dataset, src_root: Path, dest_root: Path) -> None:
    """Copy every item's image to the same relative place under ``dest_root`` (what the
    repository does before re-importing an export written without media)."""
    for it in ds:
        if it.media is not None and it.media.path and Path(it.media.path).is_file():
            rel = Path(it.media.path).relative_to(src_root)
            (dest_root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(it.media.path, dest_root / rel)


def roundtrip(src: Path, out: Path, fmt: str, options=None, import_options=None) -> tuple[Dataset, Dataset, list]:
    """import(src) -> export(out) -> import(out); returns both datasets and the warnings."""
    progress = NullProgress()
    ds = import_dataset(src, fmt, import_options, progress)
    export_dataset(ds, out, fmt, options, progress)
    return ds, import_dataset(out, fmt, import_options, progress), progress.warnings


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` as relative POSIX path -> bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
