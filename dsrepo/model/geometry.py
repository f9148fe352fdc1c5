"""Geometry comparisons between annotations: IoU and point distances.

Boxes use exact arithmetic; polygons, ellipses and masks are rasterised with
pycocotools on the smallest canvas holding both shapes. :func:`similarities` gives
the same numbers for many pairs at once (polygon pairs rasterised in one call).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from dsrepo.model.annotations import AnnType, Annotation


def bbox_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """IoU of two ``x, y, w, h`` boxes (0 when both are empty)."""
    ax2, ay2 = a[0] + a[2], a[1] + a[3]
    bx2, by2 = b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    if union <= 0:
        return 1.0 if a == b else 0.0
    return inter / union


def _rle_on_canvas(ann: Annotation, h: int, w: int) -> dict | None:
    from dsrepo.model import masks

    t = ann.type
    if t is AnnType.polygon:
        return masks.compressed(masks.from_polygons([ann.points], h, w))  # type: ignore[union-attr]
    if t is AnnType.ellipse:
        import cv2
        import numpy as np

        canvas = np.zeros((h, w), np.uint8)
        cx, cy = (ann.x1 + ann.x2) / 2, (ann.y1 + ann.y2) / 2  # type: ignore[union-attr]
        ax, ay = abs(ann.x2 - ann.x1) / 2, abs(ann.y2 - ann.y1) / 2  # type: ignore[union-attr]
        cv2.ellipse(canvas, (round(cx), round(cy)), (round(ax), round(ay)), 0, 0, 360, 1, -1)
        return masks.compressed(masks.encode(canvas))
    if t is AnnType.mask:
        rle = masks.compressed(ann.rle)  # type: ignore[union-attr]
        if tuple(rle["size"]) == (h, w):
            return rle
        import numpy as np

        img = masks.decode(ann.rle)  # type: ignore[union-attr]
        canvas = np.zeros((h, w), np.uint8)
        hh, ww = min(h, img.shape[0]), min(w, img.shape[1])
        canvas[:hh, :ww] = img[:hh, :ww]
        return masks.compressed(masks.encode(canvas))
    return None


def shape_iou(a: Annotation, b: Annotation) -> float:
    """IoU of two area annotations (bbox, polygon, ellipse, mask, in any combination).

    Boxes against boxes are exact; anything else is rasterised. Non-area types
    (points, polylines) compare by their bounding boxes.
    """
    ta, tb = a.type, b.type
    area_types = (AnnType.polygon, AnnType.ellipse, AnnType.mask)
    if ta not in area_types and tb not in area_types:
        return bbox_iou(a.get_bbox(), b.get_bbox())  # type: ignore[union-attr]
    from pycocotools import mask as mu

    ba, bb = a.get_bbox(), b.get_bbox()  # type: ignore[union-attr]
    if ta is AnnType.mask or tb is AnnType.mask:
        size = (a if ta is AnnType.mask else b).size  # type: ignore[union-attr]
        h, w = size
        if ta is AnnType.mask and tb is AnnType.mask:
            w, h = max(w, b.size[1]), max(h, b.size[0])  # type: ignore[union-attr]
    else:
        w = int(math.ceil(max(ba[0] + ba[2], bb[0] + bb[2]))) + 1
        h = int(math.ceil(max(ba[1] + ba[3], bb[1] + bb[3]))) + 1
    ra = _rle_on_canvas(a, h, w) if ta in area_types else _box_rle(ba, h, w)
    rb = _rle_on_canvas(b, h, w) if tb in area_types else _box_rle(bb, h, w)
    return float(mu.iou([ra], [rb], [0])[0][0])


def _box_rle(box: tuple[float, float, float, float], h: int, w: int) -> Any:
    import numpy as np
    from pycocotools import mask as mu

    return mu.frPyObjects(np.array([box], dtype=np.float64), h, w)[0]


def point_distance(a: Annotation, b: Annotation) -> float:
    """Largest displacement between corresponding points (inf if the counts differ)."""
    pa, pb = a.points, b.points  # type: ignore[union-attr]
    if len(pa) != len(pb):
        return math.inf
    best = 0.0
    for i in range(0, len(pa), 2):
        best = max(best, math.hypot(pa[i] - pb[i], pa[i + 1] - pb[i + 1]))
    return best


def similarity(a: Annotation, b: Annotation) -> float:
    """A 0..1 similarity used for matching: IoU for area types and boxes; for points and
    polylines ``1 / (1 + max displacement / scale)``; 1/0 for labels and captions."""
    t = a.type
    if t is not b.type and {t, b.type} - {AnnType.bbox, AnnType.polygon, AnnType.mask, AnnType.ellipse}:
        return 0.0
    if t in (AnnType.label, AnnType.caption):
        if t is AnnType.caption:
            return 1.0 if a.caption == b.caption else 0.0  # type: ignore[union-attr]
        return 1.0 if a.label == b.label else 0.0
    if t in (AnnType.points, AnnType.polyline):
        d = point_distance(a, b)
        if math.isinf(d):
            return 0.0
        box = a.get_bbox()  # type: ignore[union-attr]
        scale = max(1.0, math.hypot(box[2], box[3]))
        return 1.0 / (1.0 + d / scale * 10)
    return shape_iou(a, b)


_MAX_CANVAS = 1 << 28  # pixels; pycocotools keeps run positions in 32-bit ints
_CHUNK = 100  # polygon pairs per pycocotools call (its area() fails on 256+ masks: a uint8 count)


def _polygon_ious(pairs: Sequence[tuple[Sequence[float], Sequence[float]]]) -> list[float]:
    """IoU of polygon pairs (flat point lists), rasterised together on one canvas holding
    them all: a larger canvas rasterises each polygon to the same pixels (only pixels past
    its edge are clipped), and ``i / (area a + area b - i)`` is the division
    ``pycocotools.mask.iou`` makes, so the numbers equal :func:`shape_iou`'s."""
    from pycocotools import mask as mu

    w = h = 0
    for pa, pb in pairs:
        w = max(w, math.ceil(max(*pa[0::2], *pb[0::2])) + 1)
        h = max(h, math.ceil(max(*pa[1::2], *pb[1::2])) + 1)
    if w * h > _MAX_CANVAS:
        from dsrepo.model.annotations import Polygon

        return [shape_iou(Polygon(points=pa), Polygon(points=pb)) for pa, pb in pairs]
    n = len(pairs)
    rles = mu.frPyObjects([list(pa) for pa, _pb in pairs] + [list(pb) for _pa, pb in pairs], h, w)
    areas = mu.area(rles).tolist()
    inter = mu.area([mu.merge([rles[k], rles[n + k]], intersect=True) for k in range(n)]).tolist()
    return [0.0 if i == 0 else i / (areas[k] + areas[n + k] - i) for k, i in enumerate(inter)]


def _apart(ba: Sequence[float], bb: Sequence[float]) -> bool:
    """Two ``x, y, w, h`` boxes are more than 4 pixels apart: rasterising rounds a shape
    by at most a pixel or two beyond its box, so the pixels cannot meet (IoU 0)."""
    return (ba[0] + ba[2] + 4 < bb[0] or bb[0] + bb[2] + 4 < ba[0]
            or ba[1] + ba[3] + 4 < bb[1] or bb[1] + bb[3] + 4 < ba[1])


def _box(p: Sequence[float]) -> tuple[float, float, float, float]:
    xs, ys = p[0::2], p[1::2]
    x0, y0 = min(xs), min(ys)
    return (x0, y0, max(xs) - x0, max(ys) - y0)


def polygon_similarities(pairs: Sequence[tuple[Sequence[float], Sequence[float]]]) -> list[float]:
    """:func:`similarity` of polygon pairs given as flat point lists (the same numbers),
    in bulk: polygons whose boxes are apart score 0 without rasterising, the others are
    rasterised a few hundred pairs per pycocotools call instead of one canvas per pair."""
    out: list[float] = [0.0] * len(pairs)
    todo: list[int] = []
    for k, (pa, pb) in enumerate(pairs):
        if len(pa) < 6 or len(pb) < 6 or max(*pa[0::2], *pb[0::2]) <= -1 or max(*pa[1::2], *pb[1::2]) <= -1:
            from dsrepo.model.annotations import Polygon  # degenerate: as shape_iou does it

            out[k] = shape_iou(Polygon(points=pa), Polygon(points=pb))
        elif not _apart(_box(pa), _box(pb)):
            todo.append(k)
    for start in range(0, len(todo), _CHUNK):
        chunk = todo[start:start + _CHUNK]
        for k, v in zip(chunk, _polygon_ious([pairs[k] for k in chunk])):
            out[k] = v
    return out


def similarities(pairs: Sequence[tuple[Annotation, Annotation]]) -> list[float]:
    """:func:`similarity` of each pair, the same numbers, computed in bulk (see
    :func:`polygon_similarities`; other area shapes whose boxes are apart score 0)."""
    out: list[float] = [0.0] * len(pairs)
    polys: list[int] = []
    area = (AnnType.polygon, AnnType.mask, AnnType.ellipse)
    shapes = (*area, AnnType.bbox)
    for k, (a, b) in enumerate(pairs):
        ta, tb = a.type, b.type
        if ta is AnnType.polygon and tb is AnnType.polygon:
            polys.append(k)
        elif (ta in area or tb in area) and ta in shapes and tb in shapes \
                and _apart(a.get_bbox(), b.get_bbox()):  # type: ignore[union-attr]
            out[k] = 0.0
        else:
            out[k] = similarity(a, b)
    if polys:
        vals = polygon_similarities([(pairs[k][0].points, pairs[k][1].points) for k in polys])  # type: ignore[union-attr]
        for k, v in zip(polys, vals):
            out[k] = v
    return out
