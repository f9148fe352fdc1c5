"""LabelMe ``mask`` shapes: a base64 PNG of the mask cropped to the box whose corners
are the shape's two points (``mask[y1:y2+1, x1:x2+1]``, integer corners)."""

from __future__ import annotations

import base64
import binascii
from typing import Sequence


class MaskDataError(ValueError):
    """The mask PNG cannot be decoded (message says why)."""


def decode_png_b64(text: str):
    """Decode a base64 PNG into a boolean 2-D array (non-zero = foreground)."""
    import cv2
    import numpy as np

    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MaskDataError("'mask' is not valid base64") from None
    img = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_UNCHANGED) if raw else None
    if img is None:
        raise MaskDataError("'mask' is not a readable PNG image")
    if img.ndim == 3:
        img = img[..., :3].max(axis=2) if img.shape[2] >= 3 else img[..., 0]
    return img != 0


def place_array(crop, corner: tuple[int, int], size: tuple[int, int]):
    """A ``uint8`` 0/1 array of ``size`` (h, w) with ``crop`` pasted with its top left
    at ``corner`` (x, y); parts outside the image are cut off."""
    import numpy as np

    h, w = size
    full = np.zeros((h, w), dtype=np.uint8)
    x0, y0 = corner
    ch, cw = crop.shape
    sx, sy = max(0, -x0), max(0, -y0)
    ex, ey = min(cw, w - x0), min(ch, h - y0)
    if ex > sx and ey > sy:
        full[y0 + sy:y0 + ey, x0 + sx:x0 + ex] = crop[sy:ey, sx:ex]
    return full


def int_corners(points: Sequence[Sequence[float]]) -> tuple[int, int, int, int]:
    """``(x1, y1, x2, y2)`` as labelme computes them (truncation towards zero)."""
    (x1, y1), (x2, y2) = points
    return int(x1), int(y1), int(x2), int(y2)


def tight_box(array) -> tuple[int, int, int, int] | None:
    """Inclusive ``(x1, y1, x2, y2)`` of the foreground, None when empty."""
    import numpy as np

    ys = np.flatnonzero(array.any(axis=1))
    xs = np.flatnonzero(array.any(axis=0))
    if not ys.size:
        return None
    return int(xs[0]), int(ys[0]), int(xs[-1]), int(ys[-1])


def box_holds(array, box: tuple[int, int, int, int]) -> bool:
    """True if ``box`` (inclusive) lies inside the array and covers all its foreground."""
    x1, y1, x2, y2 = box
    h, w = array.shape
    if not (0 <= x1 <= x2 < w and 0 <= y1 <= y2 < h):
        return False
    inside = int(array[y1:y2 + 1, x1:x2 + 1].sum())
    return inside == int(array.sum())


def encode_crop_b64(array, box: tuple[int, int, int, int] | None) -> str:
    """Base64 PNG (8-bit, 0/255) of ``array`` cropped to ``box``; a 1x1 empty PNG when
    ``box`` is None (an empty mask)."""
    import cv2
    import numpy as np

    if box is None:
        crop = np.zeros((1, 1), dtype=np.uint8)
    else:
        x1, y1, x2, y2 = box
        crop = (array[y1:y2 + 1, x1:x2 + 1] != 0).astype(np.uint8) * 255
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(crop))
    if not ok:  # pragma: no cover - OpenCV always encodes a 2-D uint8 PNG
        raise ValueError("cannot encode mask PNG")
    return base64.b64encode(buf.tobytes()).decode("ascii")
