"""Images inside zip archives, and writing an item's image for image-only formats.

:class:`ZipImage` is an :class:`~dsrepo.model.media.Image` whose bytes live in a zip
entry: ``md5``, ``size`` and ``name`` are known from import, pixels are decoded on
first access of ``data`` (so ``load()`` and the shared ``save_image`` helper work),
and :meth:`ZipImage.read_bytes` gives the original entry bytes for byte-exact copies.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsrepo.errors import ExportError
from dsrepo.model.media import Image

_DATA_SLOT = Image.__dict__["data"]  # the slot behind Image.data


@dataclass(frozen=True, slots=True)
class ZipImage(Image):
    """An image stored as entry ``entry`` of the zip file ``archive``."""

    archive: str = field(default="", compare=False)
    entry: str = field(default="", compare=False)

    def read_bytes(self) -> bytes:
        """The entry's original bytes; ``OSError`` if the archive cannot be read."""
        try:
            with zipfile.ZipFile(self.archive) as zf:
                return zf.read(self.entry)
        except OSError:
            raise
        except Exception as e:  # BadZipFile, zlib.error, KeyError, EOFError, RuntimeError (encrypted)
            raise OSError(f"{self.archive}: cannot read entry {self.entry!r}: {e}") from None


def _zip_data(self: ZipImage) -> Any:
    """Decoded pixels of the entry (decoded once, then kept with the image)."""
    value = _DATA_SLOT.__get__(self, type(self))
    if value is None:
        import cv2
        import numpy as np

        value = cv2.imdecode(np.frombuffer(self.read_bytes(), dtype=np.uint8), cv2.IMREAD_UNCHANGED)
        if value is None:
            raise OSError(f"{self.archive}: cannot decode image entry {self.entry!r}")
        _DATA_SLOT.__set__(self, value)
    return value


def _set_zip_data(self: ZipImage, value: Any) -> None:
    _DATA_SLOT.__set__(self, value)


# ``data`` stays a dataclass field of Image; on ZipImage it is read through this property.
ZipImage.data = property(_zip_data, _set_zip_data)  # type: ignore[assignment,method-assign]


def _encode(media: Image, ext: str) -> bytes:
    import cv2

    try:
        img = media.load()
    except OSError as e:
        raise ExportError(f"cannot read image {media.name or media.path}: {e}") from None
    ok, buf = cv2.imencode(ext, img)
    if not ok:
        raise ExportError(f"cannot encode image {media.name or media.path} as {ext}")
    return buf.tobytes()


def can_write(media: Image | None) -> bool:
    """True if :func:`image_bytes` / :func:`write_image` can produce this image."""
    if media is None:
        return False
    if isinstance(media, ZipImage):
        return bool(media.archive)
    return media.has_file or _DATA_SLOT.__get__(media, type(media)) is not None


def image_bytes(media: Image, ext: str) -> bytes:
    """The image encoded as ``ext`` (``.png``...): the original bytes when the extension
    is unchanged (file or zip entry), else pixels re-encoded with OpenCV.
    Call only when :func:`can_write` is true; ExportError if the image is unreadable."""
    if media.ext == ext.lower():
        try:
            if isinstance(media, ZipImage):
                return media.read_bytes()
            if media.has_file:
                return Path(media.path).read_bytes()  # type: ignore[arg-type]
        except OSError as e:
            raise ExportError(f"cannot read image {media.name or media.path}: {e}") from None
    return _encode(media, ext)


def write_image(media: Image, dest: Path, ext: str) -> None:
    """Write the image to ``dest`` as ``ext``; files with the same extension are copied
    byte for byte. Call only when :func:`can_write` is true."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if media.ext == ext.lower() and not isinstance(media, ZipImage) and media.has_file:
        if os.path.abspath(media.path) != os.path.abspath(dest):  # type: ignore[arg-type]
            try:
                shutil.copyfile(media.path, dest)  # type: ignore[arg-type]
            except OSError as e:
                raise ExportError(f"cannot copy image {media.path} to {dest}: {e}") from None
        return
    dest.write_bytes(image_bytes(media, ext))


def target_ext(media: Image | None, image_ext: str | None) -> str:
    """Extension to save an image with: ``--image-ext``, else the original (spelled as
    in the original name, so ``A.JPG`` stays ``.JPG``), else ``.jpg``."""
    ext = image_ext or (os.path.splitext(media.name or media.path or "")[1] if media is not None else "")
    ext = ext or ".jpg"
    return ext if ext.startswith(".") else "." + ext


def warn_missing(progress: Any, format_name: str, missing: list[str]) -> None:
    """One warning naming the first few items whose image could not be written."""
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        progress.warn(f"{format_name}: {len(missing)} images not saved (no image file): {shown}")
