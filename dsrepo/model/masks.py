"""Mask maths on COCO RLE, delegated to pycocotools (imported lazily).

RLE dicts here use ``size`` ``(h, w)`` and ``counts`` either a compressed ``str`` or
an uncompressed sequence of ints (column-major run lengths, starting with zeros).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence


def _mask_utils():
    from pycocotools import mask as mask_utils

    return mask_utils


def compressed(rle: Mapping[str, Any]) -> dict:
    """Return the pycocotools form ``{"size": [h, w], "counts": bytes}``."""
    h, w = (int(v) for v in rle["size"])
    counts = rle["counts"]
    if isinstance(counts, str):
        return {"size": [h, w], "counts": counts.encode("ascii")}
    if isinstance(counts, bytes):
        return {"size": [h, w], "counts": counts}
    return _mask_utils().frPyObjects({"size": [h, w], "counts": list(counts)}, h, w)


def encode(array: Any) -> dict:
    """Encode a 2-D array (non-zero = 1) to ``{"size": (h, w), "counts": str}``."""
    import numpy as np

    a = np.asfortranarray(np.asarray(array) != 0, dtype=np.uint8)
    if a.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {a.shape}")
    r = _mask_utils().encode(a)
    return {"size": (int(r["size"][0]), int(r["size"][1])), "counts": r["counts"].decode("ascii")}


def decode(rle: Mapping[str, Any]):
    """Decode to a ``uint8`` ``(h, w)`` array of 0/1."""
    return _mask_utils().decode(compressed(rle))


def area(rle: Mapping[str, Any]) -> int:
    """Number of foreground pixels."""
    return int(_mask_utils().area(compressed(rle)))


def bbox(rle: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """Tight ``x, y, w, h`` box of the foreground (zeros when empty)."""
    b = _mask_utils().toBbox(compressed(rle))
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def uncompressed_counts(rle: Mapping[str, Any]) -> list[int]:
    """Column-major run lengths (zeros first) of any RLE form."""
    import numpy as np

    counts = rle["counts"]
    if not isinstance(counts, (str, bytes)):
        return [int(c) for c in counts]
    flat = decode(rle).flatten(order="F")
    if flat.size == 0:
        return [0]
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat[0] == 1:
        runs = [0] + runs
    return [int(r) for r in runs]


def from_polygons(polygons: Sequence[Sequence[float]], h: int, w: int) -> dict:
    """Rasterise polygon parts (flat coordinate lists) into one compressed RLE."""
    mu = _mask_utils()
    parts = [list(map(float, p)) for p in polygons if len(p) >= 6]
    if not parts:
        import numpy as np

        return encode(np.zeros((h, w), dtype=np.uint8))
    r = mu.merge(mu.frPyObjects(parts, h, w))
    return {"size": (int(r["size"][0]), int(r["size"][1])), "counts": r["counts"].decode("ascii")}


def iou(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """Intersection over union of two masks of the same size."""
    r = _mask_utils().iou([compressed(a)], [compressed(b)], [0])
    return float(r[0][0])
