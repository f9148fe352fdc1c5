"""image_dir import: every image under a folder (recursively) becomes one item.

Item id = path relative to the folder without extension (``a/b`` for ``a/b.jpg``),
subset ``default``, no annotations; sizes come from image headers (lazily, when items
are iterated). Hidden files and folders (name starting with ``.``) are skipped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.common.media import is_image_name
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.model.media import Image
from dsrepo.progress import Progress


def list_images(root: Path) -> list[str]:
    """Relative POSIX paths of the images under ``root``, sorted; hidden entries and
    symlinked folders are skipped. DatasetError if ``root`` cannot be listed."""
    found: list[str] = []
    try:
        for folder, dirs, files in os.walk(root, onerror=_raise):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            rel = os.path.relpath(folder, root)
            for f in files:
                if not f.startswith(".") and is_image_name(f):
                    found.append(f if rel == "." else f"{rel}/{f}".replace(os.sep, "/"))
    except OSError as e:
        raise DatasetError(f"cannot list folder: {e.strerror or e}", e.filename or root) from None
    return sorted(found)


def _raise(e: OSError) -> None:
    raise e


def check_unique_ids(names: list[str], source: object) -> list[tuple[str, str]]:
    """``(id, name)`` for each image name; DatasetError when two names share an id."""
    seen: dict[str, str] = {}
    out = []
    for name in names:
        item_id = os.path.splitext(name)[0]
        other = seen.get(item_id)
        if other is not None:
            raise DatasetError(f"images {other!r} and {name!r} have the same item id {item_id!r}", source)
        seen[item_id] = name
        out.append((item_id, name))
    return out


def load_image_dir(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import the folder ``path`` as an unannotated dataset (items built lazily)."""
    root = Path(path).absolute()
    if not root.is_dir():
        raise DatasetError("not a folder", root)
    entries = check_unique_ids(list_images(root), root)

    def items() -> Iterator[Item]:
        for item_id, name in entries:
            image = Image(path=str(root / name), name=name)
            yield Item(id=item_id, subset=DEFAULT_SUBSET, media=image.with_(size=image.header_size()))

    return Dataset(Categories(), items, length=len(entries), media_root=str(root))
