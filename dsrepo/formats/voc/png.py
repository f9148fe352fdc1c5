"""Reading and writing VOC mask PNGs.

OpenCV expands palette (indexed) PNGs to BGR, losing the indices. To read the indices
we rewrite the file's ``PLTE`` chunk in memory with a grey ramp (entry ``i`` = ``(i, i,
i)``) and drop ``tRNS``, then let OpenCV decode: every channel then *is* the palette
index, whatever colours (even repeated ones) the file's palette had. Grey PNGs are
read as values; RGB PNGs are returned as colours for the caller to map through the
label colours. Masks are written as 8-bit palette PNGs (or grey with
``--no-apply-colormap``) by a small deterministic encoder (zlib, filter 0).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from dsrepo.errors import DatasetError

_SIG = b"\x89PNG\r\n\x1a\n"
PALETTE, GREY, COLOR = "palette", "grey", "color"


@dataclass(frozen=True, slots=True)
class PngData:
    """A decoded mask PNG: ``kind`` is ``palette``/``grey`` (``values`` is (h, w) of
    indices) or ``color`` (``values`` is (h, w, 3) RGB)."""

    kind: str
    values: np.ndarray


def _chunks(data: bytes, path: Path) -> list[tuple[bytes, bytes]]:
    if not data.startswith(_SIG):
        raise DatasetError("not a PNG file", path)
    out = []
    pos = len(_SIG)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise DatasetError("truncated PNG chunk", path)
        out.append((ctype, body))
        pos += 12 + length
        if ctype == b"IEND":
            break
    if not out or out[0][0] != b"IHDR" or len(out[0][1]) != 13:
        raise DatasetError("PNG has no valid IHDR chunk", path)
    return out


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def _decode(data: bytes, path: Path) -> np.ndarray:
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DatasetError("cannot decode PNG", path)
    return img


def read_mask_png(path: Path) -> PngData:
    """Decode a class or instance mask PNG (see module doc). DatasetError if unreadable."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"cannot read mask: {e.strerror or e}", path) from None
    chunks = _chunks(data, path)
    depth, ctype = chunks[0][1][8], chunks[0][1][9]
    if ctype == 3:
        n = 1 << depth
        ramp = bytes(v for i in range(n) for v in (i, i, i))
        body = [(t, ramp if t == b"PLTE" else b) for t, b in chunks if t != b"tRNS"]
        img = _decode(_SIG + b"".join(_chunk(t, b) for t, b in body), path)
        return PngData(PALETTE, np.ascontiguousarray(img[:, :, 0] if img.ndim == 3 else img))
    img = _decode(data, path)
    if img.ndim == 2:
        return PngData(GREY, img)
    if ctype in (0, 4):
        return PngData(GREY, np.ascontiguousarray(img[:, :, 0]))
    return PngData(COLOR, np.ascontiguousarray(img[:, :, 2::-1]))


def colors_to_indices(rgb: np.ndarray, colors: dict[tuple[int, int, int], int], path: Path) -> np.ndarray:
    """Map an (h, w, 3) RGB mask to indices through ``colors``; DatasetError naming the
    first colour that is not in the map."""
    flat = rgb.reshape(-1, 3).astype(np.uint32)
    keys = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]
    uniq, inv = np.unique(keys, return_inverse=True)
    lut = np.zeros(len(uniq), np.uint8)
    for k, u in enumerate(uniq.tolist()):
        c = ((u >> 16) & 255, (u >> 8) & 255, u & 255)
        if c not in colors:
            raise DatasetError(f"colour {c} is not in the label map", path)
        lut[k] = colors[c]
    return lut[inv].reshape(rgb.shape[:2])


def encode_png(values: np.ndarray, palette: Sequence[tuple[int, int, int]] | None) -> bytes:
    """Deterministic 8-bit PNG of an (h, w) uint8 array: indexed with ``palette`` (256
    colours), or grey when ``palette`` is None."""
    h, w = values.shape
    raw = np.zeros((h, w + 1), np.uint8)
    raw[:, 1:] = values
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 3 if palette is not None else 0, 0, 0, 0)
    out = [_SIG, _chunk(b"IHDR", ihdr)]
    if palette is not None:
        out.append(_chunk(b"PLTE", bytes(c for rgb in palette for c in rgb)))
    out.append(_chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


def png_size(path: Path) -> tuple[int, int] | None:
    """``(h, w)`` from a PNG header, or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if not head.startswith(_SIG) or head[12:16] != b"IHDR":
        return None
    w, h = struct.unpack(">II", head[16:24])
    return (h, w)
