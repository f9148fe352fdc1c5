"""Shared import plumbing: where an item's files are, and building items lazily.

An :class:`Entry` is one listed image: its subset, id, media name and the image and
label file paths relative to the dataset root. Items are built from entries on
iteration (label file read, image header read for the size), so importing a large
dataset costs only the listing until the items are used.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from dsrepo.errors import DatasetError
from dsrepo.formats.yolo.labels import LineRules, parse_text
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import Progress


@dataclass(frozen=True, slots=True)
class Entry:
    """One image of a subset: ``image`` and ``label`` are root-relative POSIX paths;
    ``meta`` the item's ``meta["yolo"]`` (layout details needed to write it back)."""

    subset: str
    id: str
    name: str
    image: str
    label: str
    meta: Mapping[str, Any] = field(default_factory=dict)


def split_name(rel: str, base: str) -> tuple[str, str]:
    """``(id, name)`` of image ``rel`` under folder ``base`` ("" = the root): the name
    is the path relative to ``base``, the id the name without its extension."""
    name = rel[len(base) + 1:] if base and rel.startswith(base + "/") else rel
    stem, _ext = posixpath.splitext(name)
    return (stem or name), name


def check_unique(entries: Sequence[Entry], source: object) -> None:
    """DatasetError when two entries of a subset share an id (they would be one item)."""
    seen: dict[tuple[str, str], str] = {}
    for e in entries:
        other = seen.setdefault((e.subset, e.id), e.image)
        if other != e.image:
            raise DatasetError(f"images {other!r} and {e.image!r} have the same item id {e.id!r} "
                               f"in subset {e.subset!r}", source)


def read_text(path: Path, what: str = "file") -> str:
    """UTF-8 text of ``path`` (BOM removed); DatasetError if unreadable or not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"cannot read {what}: {e.strerror or e}", path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DatasetError(f"{what} is not UTF-8 text (byte {e.start})", path) from None
    return text[1:] if text.startswith("\ufeff") else text


def build_item(root: Path, entry: Entry, rules: LineRules, ns: str) -> tuple[Item, int]:
    """The item of ``entry`` (layout meta under ``meta[ns]``) and its count of
    coordinates outside [0, 1]."""
    img_path = root / entry.image
    has_img = img_path.is_file()
    media = Image(path=str(img_path) if has_img else None, name=entry.name)
    size = media.header_size() if has_img else None
    if size is not None:
        media = media.with_(size=size)
    label_path = root / entry.label
    meta = dict(entry.meta)
    if label_path.is_file():
        parsed = parse_text(read_text(label_path, "label file"), rules, size, label_path)
        anns, outside = parsed.annotations, parsed.outside
    else:
        anns, outside = (), 0
        meta["nl"] = True
    item = Item(id=entry.id, subset=entry.subset, media=media, annotations=anns,
                meta={ns: meta} if meta else {})
    return item, outside


def lazy_dataset(root: Path, categories: Categories, entries: Sequence[Entry], rules: LineRules,
                 subset_meta: Mapping[str, Mapping[str, Any]], progress: Progress, ns: str) -> Dataset:
    """A Dataset building items from ``entries`` on each iteration. Values outside
    [0, 1] are kept; the first complete pass warns once with their count."""
    entries = tuple(entries)
    warned = [False]

    def items() -> Iterator[Item]:
        outside = files = 0
        for e in entries:
            item, out = build_item(root, e, rules, ns)
            if out:
                outside += out
                files += 1
            yield item
        if outside and not warned[0]:
            warned[0] = True
            progress.warn(f"{root}: {outside} normalized coordinates outside [0, 1] in {files} label "
                          "file(s), kept as they are")

    return Dataset(categories, items, subset_meta, length=len(entries), media_root=str(root))


def absolute_root(path: Path) -> Path:
    """``path`` made absolute without resolving symlinks."""
    return Path(os.path.abspath(path))
