"""Raster masks: colour PNGs where each colour is one instance (or a legend class)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dsrepo.errors import DatasetError


def hex_of(rgb: int) -> str:
    """``#rrggbb`` of a packed ``0xRRGGBB`` colour."""
    return f"#{rgb:06x}"


def read_rgb(path: Path, source: object, where: str) -> np.ndarray:
    """The ``(h, w)`` array of packed ``0xRRGGBB`` colours of the PNG at ``path``
    (alpha ignored; grey images are read as grey colours)."""
    try:
        buf = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise DatasetError(f"cannot read mask {path.name}: {e.strerror or e}", source, where) from None
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    if img is None:
        raise DatasetError(f"cannot decode mask {path.name}", source, where)
    if img.dtype != np.uint8:
        raise DatasetError(f"mask {path.name} must have 8 bits per channel, got {img.dtype}", source, where)
    if img.ndim == 2:
        g = img.astype(np.uint32)
        return (g << 16) | (g << 8) | g
    b, g, r = (img[:, :, c].astype(np.uint32) for c in range(3))
    return (r << 16) | (g << 8) | b


def encode_rgb(colors: np.ndarray) -> bytes:
    """RGBA PNG bytes (alpha 255) of packed ``0xRRGGBB`` colours."""
    h, w = colors.shape
    out = np.empty((h, w, 4), dtype=np.uint8)
    out[:, :, 0] = colors & 0xFF
    out[:, :, 1] = (colors >> 8) & 0xFF
    out[:, :, 2] = (colors >> 16) & 0xFF
    out[:, :, 3] = 255
    ok, data = cv2.imencode(".png", out, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:  # pragma: no cover
        raise OSError("PNG encoding failed")
    return data.tobytes()


def palette(k: int) -> int:
    """The ``k``-th (from 1) distinct, non-black colour of the export palette."""
    return ((k * 0x9E3779) & 0xFFFFFF) or 0x010101


def contours(mask: np.ndarray) -> list[list[float]]:
    """Outer contours of a binary mask as flat pixel polygons (at least 3 points)."""
    found, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [c.reshape(-1).astype(float).tolist() for c in found if len(c) >= 3]
