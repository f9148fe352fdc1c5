"""32-bit RGBA instance bitmaps: pixel value ``R + 256*G + 256**2*B`` is the
instance (annotation) id, 0 is unlabelled; alpha is ignored on read, 255 on write.

This is how the Segments.ai SDK reads them (alpha zeroed, the RGBA bytes viewed as a
little-endian uint32).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dsrepo.errors import DatasetError

MAX_ID = (1 << 24) - 1


def read_ids(path: Path, source: object, where: str) -> np.ndarray:
    """The ``(h, w)`` uint32 instance-id array of the bitmap at ``path``."""
    try:
        buf = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise DatasetError(f"cannot read segmentation bitmap {path.name}: {e.strerror or e}", source, where) from None
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    if img is None:
        raise DatasetError(f"cannot decode segmentation bitmap {path.name}", source, where)
    if img.dtype != np.uint8:
        raise DatasetError(f"segmentation bitmap {path.name} must have 8 bits per channel, got {img.dtype}",
                           source, where)
    if img.ndim == 2:
        return img.astype(np.uint32)
    if img.shape[2] not in (3, 4):
        raise DatasetError(f"segmentation bitmap {path.name} has {img.shape[2]} channels, expected RGB(A)",
                           source, where)
    b, g, r = (img[:, :, c].astype(np.uint32) for c in range(3))
    return r | (g << 8) | (b << 16)


def encode_ids(ids: np.ndarray) -> bytes:
    """PNG bytes (RGBA, alpha 255) of a uint32 instance-id array."""
    h, w = ids.shape
    out = np.empty((h, w, 4), dtype=np.uint8)
    out[:, :, 2] = ids & 0xFF
    out[:, :, 1] = (ids >> 8) & 0xFF
    out[:, :, 0] = (ids >> 16) & 0xFF
    out[:, :, 3] = 255
    ok, data = cv2.imencode(".png", out, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 BGRA
        raise OSError("PNG encoding failed")
    return data.tobytes()
