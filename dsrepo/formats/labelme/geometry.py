"""LabelMe shapes <-> dsrepo annotations (geometry only).

A shape is ``shape_type`` plus a list of ``[x, y]`` points. ``build`` turns validated
float points into an annotation without label; ``canonical`` gives the points the
exporter writes for an annotation; ``geometry_key`` compares two annotations'
geometry, so the exporter can tell whether points kept from the original file still
describe the annotation. Masks (a base64 PNG of the box crop) live in ``masks.py``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from dsrepo.model.annotations import (
    AnnType, Annotation, Bbox, Ellipse, Points, Polygon, Polyline, Visibility,
)

SHAPE_TYPES = ("circle", "line", "linestrip", "mask", "point", "points", "polygon", "rectangle")

# shape_type -> (minimum, maximum or None) number of points
POINT_COUNTS: dict[str, tuple[int, int | None]] = {
    "rectangle": (2, None), "circle": (2, 2), "mask": (2, 2), "polygon": (3, None),
    "line": (2, None), "linestrip": (2, None), "point": (1, 1), "points": (1, None),
}

Pairs = Sequence[tuple[float, float]]


def count_error(shape_type: str, n: int) -> str | None:
    """Message when ``n`` points do not fit ``shape_type`` (None if they do)."""
    lo, hi = POINT_COUNTS[shape_type]
    if hi == lo and n != lo:
        return f"{shape_type} needs {lo} point{'s' if lo > 1 else ''}, got {n}"
    if n < lo:
        return f"{shape_type} needs at least {lo} points, got {n}"
    return None


def _flat(pts: Pairs) -> list[float]:
    return [c for p in pts for c in p]


def build(shape_type: str, pts: Pairs, **common: Any) -> Annotation:
    """The annotation of a non-mask shape (points already validated and counted)."""
    if shape_type == "rectangle":
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        x0, y0 = min(xs), min(ys)
        return Bbox(x=x0, y=y0, w=max(xs) - x0, h=max(ys) - y0, **common)
    if shape_type == "circle":
        (cx, cy), (px, py) = pts
        r = math.hypot(px - cx, py - cy)
        return Ellipse(x1=cx - r, y1=cy - r, x2=cx + r, y2=cy + r, **common)
    if shape_type == "polygon":
        return Polygon(points=_flat(pts), **common)
    if shape_type in ("line", "linestrip"):
        return Polyline(points=_flat(pts), **common)
    if shape_type in ("point", "points"):
        return Points(points=_flat(pts), **common)
    raise ValueError(f"no annotation for shape_type {shape_type!r}")


def _pairs(flat: Sequence[float]) -> list[list[float]]:
    return [[flat[i], flat[i + 1]] for i in range(0, len(flat), 2)]


def is_circle(e: Ellipse) -> bool:
    """True if the ellipse's box is square (up to float noise): labelme can hold it."""
    w, h = e.x2 - e.x1, e.y2 - e.y1
    return abs(w - h) <= 1e-9 * max(1.0, abs(w), abs(h))


def canonical(ann: Annotation) -> tuple[str, list[list[float]]] | None:
    """``(shape_type, points)`` the exporter writes for ``ann`` by default; None when
    labelme cannot hold it (labels, captions, non-circular ellipses, masks)."""
    t = ann.type
    if t is AnnType.bbox:
        return "rectangle", [[ann.x, ann.y], [ann.x + ann.w, ann.y + ann.h]]  # type: ignore[union-attr]
    if t is AnnType.ellipse:
        if not is_circle(ann):  # type: ignore[arg-type]
            return None
        cx = (ann.x1 + ann.x2) / 2  # type: ignore[union-attr]
        cy = (ann.y1 + ann.y2) / 2  # type: ignore[union-attr]
        return "circle", [[cx, cy], [cx + (ann.x2 - ann.x1) / 2, cy]]  # type: ignore[union-attr]
    if t is AnnType.polygon:
        return "polygon", _pairs(ann.points)  # type: ignore[union-attr]
    if t is AnnType.polyline:
        return "linestrip", _pairs(ann.points)  # type: ignore[union-attr]
    if t is AnnType.points:
        vis = ann.visibility  # type: ignore[union-attr]
        pts = _pairs(ann.points)  # type: ignore[union-attr]
        kept = [p for p, v in zip(pts, vis) if v != Visibility.absent]
        return ("point" if len(kept) == 1 else "points"), kept
    return None


def compatible_types(ann: Annotation) -> tuple[str, ...]:
    """Shape types that import as ``ann``'s annotation type."""
    return {
        AnnType.bbox: ("rectangle",), AnnType.ellipse: ("circle",), AnnType.polygon: ("polygon",),
        AnnType.polyline: ("linestrip", "line"), AnnType.points: ("point", "points"),
        AnnType.mask: ("mask",),
    }.get(ann.type, ())


def geometry_key(ann: Annotation) -> tuple:
    """The geometry of ``ann`` as a comparable tuple (common fields excluded)."""
    t = ann.type
    if t is AnnType.bbox:
        return (t, ann.x, ann.y, ann.w, ann.h)  # type: ignore[union-attr]
    if t is AnnType.ellipse:
        return (t, ann.x1, ann.y1, ann.x2, ann.y2)  # type: ignore[union-attr]
    if t is AnnType.points:
        return (t, ann.points, ann.visibility)  # type: ignore[union-attr]
    if t in (AnnType.polygon, AnnType.polyline):
        return (t, ann.points)  # type: ignore[union-attr]
    return (t,)


def same_numbers(raw: Any, pts: Sequence[Sequence[float]]) -> str | None:
    """How raw JSON points relate to float points ``pts``: ``"float"`` when identical
    (floats, equal values), ``"int"`` when all raw numbers are ints of equal value,
    None otherwise."""
    if not isinstance(raw, list) or len(raw) != len(pts):
        return None
    kinds = set()
    for r, p in zip(raw, pts):
        if not isinstance(r, list) or len(r) != 2:
            return None
        for a, b in zip(r, p):
            if a != b:
                return None
            kinds.add(type(a))
    if kinds <= {float}:
        return "float"
    if kinds == {int}:
        return "int"
    return None


def as_ints(pts: Sequence[Sequence[float]]) -> list[list[Any]] | None:
    """``pts`` with integer-valued floats as ints (None if any value is fractional)."""
    out = []
    for p in pts:
        row = []
        for v in p:
            if not float(v).is_integer():
                return None
            row.append(int(v))
        out.append(row)
    return out
