"""Media references: an image on disk and/or in memory.

``size`` is ``(height, width)`` when known (from the annotation file or the image
header) so that most code never decodes pixels. ``md5`` is the content checksum of
the file bytes, computed on demand (the repository caches it); it is what the
canonical encoding records, so the item hash is machine independent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

from dsrepo.digest import file_md5



@dataclass(frozen=True, slots=True)
class Image:
    """An image. ``path`` is an absolute path (or None for in-memory data);
    ``name`` the file name relative to its dataset's image root (e.g. ``"a/b.jpg"``),
    used by exporters to keep original names and extensions."""

    path: str | None = None
    size: tuple[int, int] | None = None
    name: str | None = None
    md5: str | None = None
    data: Any = field(default=None, compare=False, repr=False)  # numpy array, if in memory

    def __post_init__(self) -> None:
        s = self.size
        if s is not None and not (s.__class__ is tuple and len(s) == 2 and s[0].__class__ is int
                                  and s[1].__class__ is int):  # (importers mostly give this already)
            h, w = (int(v) for v in s)
            object.__setattr__(self, "size", (h, w))

    @property
    def has_file(self) -> bool:
        return self.path is not None and os.path.isfile(self.path)

    @property
    def ext(self) -> str:
        """Extension (with dot, lower case) from name or path; "" if unknown."""
        src = self.name or self.path or ""
        return os.path.splitext(src)[1].lower()

    def header_size(self) -> tuple[int, int] | None:
        """``(h, w)`` read from the file header without decoding pixels (None if unreadable)."""
        if self.size is not None:
            return self.size
        if self.data is not None:
            return (int(self.data.shape[0]), int(self.data.shape[1]))
        if not self.has_file:
            return None
        import imagesize

        try:
            w, h = imagesize.get(self.path)
        except Exception:
            return None
        if w is None or h is None or w <= 0 or h <= 0:
            return None
        return (int(h), int(w))

    def load(self):
        """Decode pixels (BGR/gray numpy array via OpenCV). Raises ``OSError`` if unreadable."""
        if self.data is not None:
            return self.data
        if not self.path:
            raise OSError("image has no file and no data")
        import cv2
        import numpy as np

        buf = np.fromfile(self.path, dtype=np.uint8)
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        if img is None:
            raise OSError(f"cannot decode image {self.path}")
        return img

    def checksum(self) -> str | None:
        """md5 of the file bytes (``md5`` if already known)."""
        if self.md5 is not None:
            return self.md5
        if self.has_file:
            return file_md5(self.path)  # type: ignore[arg-type]
        return None

    def with_(self, **changes: Any) -> "Image":
        return replace(self, **changes)
