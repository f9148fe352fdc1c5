"""imagenet import: class-per-folder layout.

``<root>/<label>/<image>`` (flat) or ``<root>/<subset>/<label>/<image>`` (subsets).
With ``--layout auto`` the subsets layout is used when no image lies directly in a
top-level folder and some image lies one level deeper; otherwise the layout is flat.
Images in ``no_label`` folders are items without labels. An image file name found in
several label folders of a subset is one item with one Label per folder. Labels are
the label folder names (all subsets), sorted. Other images (at the root, or nested
deeper than the layout allows) are ignored with one warning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.common.media import is_image_name
from dsrepo.model.annotations import Label
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.model.media import Image
from dsrepo.progress import Progress

NO_LABEL = "no_label"


@dataclass(frozen=True, slots=True)
class _Listing:
    dirs: tuple[str, ...]
    images: tuple[str, ...]


@dataclass(slots=True)
class _Entry:
    """One item being collected: its first image file and its label folder names."""

    path: Path
    name: str
    labels: list[str] = field(default_factory=list)


def listdir(folder: Path) -> _Listing:
    """Sorted non-hidden sub-folders and image files of ``folder``."""
    dirs, images = [], []
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name.startswith("."):
                    continue
                if e.is_dir():
                    dirs.append(e.name)
                elif is_image_name(e.name):
                    images.append(e.name)
    except OSError as e:
        raise DatasetError(f"cannot list folder: {e.strerror or e}", folder) from None
    return _Listing(tuple(sorted(dirs)), tuple(sorted(images)))


def guess_layout(root: Path, top: _Listing) -> str:
    """``"subsets"`` if images lie only at depth 3 (``subset/label/image``), else ``"flat"``."""
    deeper = False
    for d in top.dirs:
        sub = listdir(root / d)
        if sub.images:
            return "flat"
        deeper = deeper or any(listdir(root / d / s).images for s in sub.dirs)
    return "subsets" if deeper else "flat"


class _Collector:
    """Gathers items subset by subset, in first-seen order."""

    def __init__(self) -> None:
        self.subsets: dict[str, dict[str, _Entry]] = {}
        self.labels: set[str] = set()
        self.ignored = 0

    def add_label_dir(self, subset: str, folder: Path, label: str) -> None:
        listing = listdir(folder)
        self.ignored += sum(_count_images(folder / d) for d in listing.dirs)
        if label != NO_LABEL:
            self.labels.add(label)
        entries = self.subsets.setdefault(subset, {})
        local: dict[str, str] = {}
        for name in listing.images:
            item_id = os.path.splitext(name)[0]
            if item_id in local:
                raise DatasetError(f"images {local[item_id]!r} and {name!r} have the same item id {item_id!r}",
                                   folder)
            local[item_id] = name
            entry = entries.get(item_id)
            if entry is None:
                entry = entries[item_id] = _Entry(folder / name, name)
            if label != NO_LABEL:
                entry.labels.append(label)


def _count_images(folder: Path) -> int:
    n = 0
    for _dirpath, _dirs, files in os.walk(folder):
        n += sum(1 for f in files if is_image_name(f))
    return n


def load_imagenet(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import an imagenet folder (items built lazily; sizes from image headers)."""
    root = Path(path).absolute()
    if not root.is_dir():
        raise DatasetError("not a folder", root)
    top = listdir(root)
    layout = options.get("layout") or "auto"
    if layout == "auto":
        layout = guess_layout(root, top)
    col = _Collector()
    col.ignored += len(top.images)
    empty: list[str] = []
    if layout == "flat":
        col.subsets[DEFAULT_SUBSET] = {}
        for label in top.dirs:
            col.add_label_dir(DEFAULT_SUBSET, root / label, label)
    else:
        for subset in top.dirs:
            sub = listdir(root / subset)
            col.ignored += len(sub.images)
            col.subsets[subset] = {}
            for label in sub.dirs:
                col.add_label_dir(subset, root / subset / label, label)
            if not col.subsets[subset]:
                empty.append(subset)
    if col.ignored:
        progress.warn(f"imagenet: {col.ignored} images outside <{'subset/' if layout == 'subsets' else ''}"
                      f"label>/ folders ignored in {root}")
    names = sorted(col.labels)
    index = {n: i for i, n in enumerate(names)}
    plan = [(s, item_id, e) for s, entries in col.subsets.items() for item_id, e in entries.items()]

    def items() -> Iterator[Item]:
        for subset, item_id, e in plan:
            image = Image(path=str(e.path), name=e.name)
            anns = tuple(Label(label=i) for i in sorted({index[n] for n in e.labels}))
            yield Item(id=item_id, subset=subset, media=image.with_(size=image.header_size()), annotations=anns)

    return Dataset(Categories.from_names(names), items, subset_meta={s: {} for s in empty},
                   length=len(plan), media_root=str(root))
