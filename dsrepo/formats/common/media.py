"""Finding and saving images for importers and exporters."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable

from dsrepo.model.item import Item

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pbm", ".pgm", ".ppm",
              ".pxm", ".pnm", ".sr", ".ras", ".exr", ".hdr", ".pic", ".dib", ".jpe", ".gif")


def is_image_name(name: str) -> bool:
    """True if ``name`` has an image extension OpenCV can read."""
    return os.path.splitext(name)[1].lower() in IMAGE_EXTS


def find_image(folder: Path, stem: str, exts: Iterable[str] = IMAGE_EXTS) -> Path | None:
    """The first existing ``folder/stem<ext>`` for ``ext`` in ``exts`` (any case), or None."""
    for ext in exts:
        for e in (ext, ext.upper()):
            p = folder / (stem + e)
            if p.is_file():
                return p
    return None


class ImageLocator:
    """Finds image files under candidate folders (first match wins). Folder listings
    are read once and cached, so looking up a missing image costs no system call."""

    def __init__(self, candidates: Iterable[Path]) -> None:
        seen: list[Path] = []
        for c in candidates:
            if c not in seen and c.is_dir():
                seen.append(c)
        self.roots = [os.path.abspath(r) for r in seen]
        self._listing: dict[str, set[str]] = {}

    def _names(self, root: str) -> set[str]:
        names = self._listing.get(root)
        if names is None:
            try:
                names = set(os.listdir(root))
            except OSError:
                names = set()
            self._listing[root] = names
        return names

    def find(self, rel: str) -> str | None:
        """Absolute path of image ``rel`` (a safe relative path), or None."""
        nested = "/" in rel
        for root in self.roots:
            if nested:
                p = os.path.join(root, rel)
                if os.path.isfile(p):
                    return p
            elif rel in self._names(root):
                return os.path.join(root, rel)
        return None

    def find_stem(self, stem: str) -> tuple[str, str] | None:
        """``(absolute path, file name)`` of an image called ``stem`` + any image extension."""
        for root in self.roots:
            names = self._names(root)
            for ext in IMAGE_EXTS:
                for e in (ext, ext.upper()):
                    if stem + e in names:
                        return os.path.join(root, stem + e), stem + e
        return None


def media_filename(item: Item, image_ext: str | None = None, default_ext: str = ".jpg") -> str:
    """Relative file name to save an item's image under: the id plus the original
    extension, or ``image_ext`` when given."""
    ext = image_ext or (item.media.ext if item.media else "") or default_ext
    if not ext.startswith("."):
        ext = "." + ext
    return item.id + ext


def save_image(item: Item, dest: Path, image_ext: str | None = None) -> bool:
    """Write the item's image to ``dest``. Copies bytes when the extension is unchanged,
    re-encodes with OpenCV otherwise. Returns False if the item has no readable image."""
    media = item.media
    if media is None:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    src_ext = media.ext
    want_ext = dest.suffix.lower()
    if media.has_file and (not image_ext or src_ext == want_ext):
        if os.path.abspath(media.path) != os.path.abspath(dest):  # type: ignore[arg-type]
            shutil.copyfile(media.path, dest)  # type: ignore[arg-type]
        return True
    if not media.has_file and media.data is None:
        return False
    import cv2

    img = media.load()
    ok, buf = cv2.imencode(want_ext or ".png", img)
    if not ok:
        return False
    from dsrepo.formats.common.files import atomic_write_bytes

    atomic_write_bytes(dest, buf.tobytes())
    return True
