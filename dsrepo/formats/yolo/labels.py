"""YOLO label files: one object per line, class index then normalized coordinates.

Line kinds (``tokens`` after the class index):

* box: ``cx cy w h`` (4 values), the box centre and size relative to the image;
* polygon (Ultralytics segmentation / OBB): ``x1 y1 x2 y2 ...`` (6 or more, even);
* pose (Ultralytics, when ``kpt_shape = [K, D]`` is known): ``cx cy w h`` then K
  points of D values (``px py`` or ``px py v``); imported as a Bbox and a Points
  annotation sharing ``group`` (the 1-based position of the object in the file).

Values are written with :data:`PRECISION` decimals. When a line's coordinates are not
what this formatting would write (other precision, ``0.5`` instead of ``0.500000``...),
the coordinate text is kept in the first annotation's ``meta["yolo"]["t"]`` and written
back as is while the annotation still has the geometry that text decodes to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from dsrepo.errors import DatasetError
from dsrepo.model.annotations import Annotation, Bbox, Points, Polygon, Visibility

NS = "yolo"
"""Meta key of annotations (both flavours) and of darknet items and subsets."""
NS_ULTRALYTICS = "yolo_ultralytics"
"""Meta key of Ultralytics items and subsets (layouts differ, so item data is not shared)."""
PRECISION = 6
_FMT = "%.6f"
_ZERO = _FMT % 0.0


@dataclass(frozen=True, slots=True)
class LineRules:
    """How to read lines: number of class names, pose shape (None if not pose),
    whether polygon lines are allowed (Ultralytics) or boxes only (darknet)."""

    classes: int
    kpt_shape: tuple[int, int] | None = None
    polygons: bool = False


@dataclass(frozen=True, slots=True)
class Parsed:
    """Annotations of one label file and the count of coordinates outside [0, 1]."""

    annotations: tuple[Annotation, ...]
    outside: int


def fmt(v: float) -> str:
    """A normalized coordinate as written to label files (fixed precision, no ``-0``)."""
    s = _FMT % v
    return _ZERO if s == "-" + _ZERO else s


def _number(tok: str, path: object, where: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise DatasetError(f"value {tok!r} is not a number", path, where) from None
    if not math.isfinite(v):
        raise DatasetError(f"value {tok!r} is not a finite number", path, where)
    return v


def _class_index(tok: str, classes: int, path: object, where: str) -> int:
    v = _number(tok, path, where)
    if not v.is_integer():
        raise DatasetError(f"class index {tok!r} is not an integer", path, where)
    idx = int(v)
    if idx < 0 or idx >= classes:
        raise DatasetError(f"class index {idx} out of range ({classes} class names)", path, where)
    return idx


def _visibility(tok: str, path: object, where: str) -> int:
    v = _number(tok, path, where)
    if v not in (0.0, 1.0, 2.0):
        raise DatasetError(f"keypoint visibility {tok!r} is not 0, 1 or 2", path, where)
    return int(v)


# -- geometry <-> normalized values ---------------------------------------------------

def box_from_norm(v: Sequence[float], w: int, h: int) -> tuple[float, float, float, float]:
    """Pixel ``x, y, w, h`` of a normalized ``cx, cy, bw, bh``."""
    cx, cy, bw, bh = v
    return ((cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h)


def box_to_norm(box: Sequence[float], w: int, h: int) -> list[float]:
    """Normalized ``cx, cy, bw, bh`` of a pixel box ``x, y, bw, bh``."""
    x, y, bw, bh = box
    return [(x + bw / 2) / w, (y + bh / 2) / h, bw / w, bh / h]


def points_from_norm(v: Sequence[float], w: int, h: int) -> list[float]:
    """Pixel ``x, y, ...`` of normalized points."""
    return [c * (w if i % 2 == 0 else h) for i, c in enumerate(v)]


def points_to_norm(points: Sequence[float], w: int, h: int) -> list[float]:
    """Normalized ``x, y, ...`` of pixel points."""
    return [c / (w if i % 2 == 0 else h) for i, c in enumerate(points)]


# -- parsing ---------------------------------------------------------------------------

def _geometry(kind: str, vals: list[float], vis: list[int], w: int, h: int) -> tuple:
    """Pixel geometry of one line: ``(box or None, points or None, visibility)``."""
    if kind == "polygon":
        return None, points_from_norm(vals, w, h), ()
    box = box_from_norm(vals[:4], w, h)
    if kind == "box":
        return box, None, ()
    return box, points_from_norm(vals[4:], w, h), tuple(vis)


def _split_pose(tokens: list[str], dims: int, path: object, where: str) -> tuple[list[float], list[int]]:
    vals = [_number(t, path, where) for t in tokens[:4]]
    vis: list[int] = []
    for i in range(4, len(tokens), dims):
        px, py = _number(tokens[i], path, where), _number(tokens[i + 1], path, where)
        vals += [px, py]
        if dims == 3:
            vis.append(_visibility(tokens[i + 2], path, where))
        else:
            vis.append(Visibility.absent if px == 0 and py == 0 else Visibility.visible)
    return vals, vis


def _line_kind(n: int, rules: LineRules, path: object, where: str) -> str:
    if rules.kpt_shape is not None:
        k, d = rules.kpt_shape
        if n != 4 + k * d:
            raise DatasetError(f"expected {5 + k * d} values (class, box, {k} keypoints x {d}), got {n + 1}",
                               path, where)
        return "pose"
    if n == 4:
        return "box"
    if not rules.polygons:
        raise DatasetError(f"expected 5 values (class cx cy w h), got {n + 1}", path, where)
    if n >= 6 and n % 2 == 0:
        return "polygon"
    raise DatasetError(f"expected 5 values (box) or class and 3 or more x y pairs (polygon), got {n + 1}",
                       path, where)


def format_values(kind: str, vals: Sequence[float], vis: Sequence[int], dims: int) -> str:
    """Coordinate text of a line (everything after the class index)."""
    if kind != "pose":
        return " ".join(fmt(v) for v in vals)
    out = [fmt(v) for v in vals[:4]]
    for i, v in enumerate(vis):
        px, py = vals[4 + 2 * i], vals[5 + 2 * i]
        if dims == 2 and v == Visibility.absent:
            px = py = 0.0
        out += [fmt(px), fmt(py)]
        if dims == 3:
            out.append(str(int(v)))
    return " ".join(out)


def _renormalized(kind: str, geo: tuple, w: int, h: int) -> list[float]:
    box, pts, _vis = geo
    out: list[float] = []
    if box is not None:
        out += box_to_norm(box, w, h)
    if pts is not None:
        out += points_to_norm(pts, w, h)
    return out


def parse_line(line: str, rules: LineRules, size: tuple[int, int] | None, group: int,
               path: object, where: str) -> tuple[list[Annotation], int]:
    """Annotations of one non-blank line and its count of values outside [0, 1].

    ``size`` is the image ``(h, w)``; None raises a DatasetError (the line needs it)."""
    tokens = line.split()
    label = _class_index(tokens[0], rules.classes, path, where)
    kind = _line_kind(len(tokens) - 1, rules, path, where)
    dims = rules.kpt_shape[1] if rules.kpt_shape else 2
    if kind == "pose":
        vals, vis = _split_pose(tokens[1:], dims, path, where)
    else:
        vals, vis = [_number(t, path, where) for t in tokens[1:]], []
    if size is None:
        raise DatasetError("image size unknown (image file missing or unreadable); "
                           "cannot convert normalized coordinates", path, where)
    h, w = size
    outside = sum(1 for v in vals if v < 0.0 or v > 1.0)
    geo = _geometry(kind, vals, vis, w, h)
    text = " ".join(tokens[1:])
    meta: dict[str, Any] = {}
    if format_values(kind, _renormalized(kind, geo, w, h), vis, dims) != text:
        meta = {NS: {"t": text}}
    box, pts, pvis = geo
    try:
        if kind == "polygon":
            return [Polygon(points=pts, label=label, meta=meta)], outside
        g = group if kind == "pose" else 0
        anns: list[Annotation] = [Bbox(x=box[0], y=box[1], w=box[2], h=box[3], label=label, group=g, meta=meta)]
    except ValueError as e:
        raise DatasetError(f"invalid geometry: {e}", path, where) from None
    if kind == "pose":
        anns.append(Points(points=pts, visibility=pvis, label=label, group=g))
    return anns, outside


def parse_text(text: str, rules: LineRules, size: tuple[int, int] | None, path: object) -> Parsed:
    """All annotations of a label file's ``text`` (blank lines skipped); errors name
    ``path`` and the 1-based line number."""
    anns: list[Annotation] = []
    outside = 0
    objects = 0
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        objects += 1
        got, out = parse_line(line, rules, size, objects, path, f"line {n}")
        anns += got
        outside += out
    return Parsed(tuple(anns), outside)


def kept_text(ann: Annotation, kind: str, box: Bbox | None, pts: Points | None, w: int, h: int,
              dims: int) -> str | None:
    """The stored coordinate text of ``ann`` if it still decodes to exactly the
    geometry of ``box``/``pts`` at size ``w x h``; None otherwise."""
    m = ann.meta.get(NS) if ann.meta else None
    text = m.get("t") if isinstance(m, dict) or hasattr(m, "get") else None
    if not isinstance(text, str):
        return None
    tokens = text.split()
    try:
        if kind == "pose":
            if pts is None or len(tokens) != 4 + len(pts.visibility) * dims:
                return None
            vals, vis = _split_pose(tokens, dims, None, None)
        else:
            vals, vis = [float(t) for t in tokens], []
    except (ValueError, DatasetError):
        return None
    if not all(math.isfinite(v) for v in vals):
        return None
    if kind == "polygon":
        return text if pts is not None and tuple(p + 0.0 for p in points_from_norm(vals, w, h)) == pts.points \
            else None
    if len(vals) < 4 or box is None:
        return None
    bx = box_from_norm(vals[:4], w, h)
    if tuple(v + 0.0 for v in bx) != (box.x, box.y, box.w, box.h):
        return None
    if kind == "box":
        return text if len(vals) == 4 else None
    same = tuple(p + 0.0 for p in points_from_norm(vals[4:], w, h)) == pts.points and tuple(vis) == pts.visibility
    return text if same else None
