"""Export side: model annotations -> COCO object records (instances, stuff, keypoints).

A COCO object is a group of annotations: Polygon parts, Masks, Ellipses (written as
polygons) and Bboxes sharing a group (or, without a group, an id and label). The
first annotation is the leader; its ``meta["coco"]`` carries what was read from the
file. ``area`` and ``bbox`` from meta are written only while the geometry fingerprint
``g`` still matches the geometry being written; otherwise they are recomputed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import orjson

from dsrepo.formats.coco.meta import apply_int_spec, coco_meta, fp_bytes, rle_json
from dsrepo.model.annotations import AnnType, Annotation, Bbox, Ellipse, Mask, Points, Polygon

SHAPES = (AnnType.bbox, AnnType.polygon, AnnType.mask, AnnType.ellipse)
SHAPE_SET = frozenset(SHAPES)
_ELLIPSE_POINTS = 32


@dataclass(slots=True)
class Obj:
    """One COCO object under construction."""

    leader: Annotation
    polys: list = field(default_factory=list)
    masks: list = field(default_factory=list)
    boxes: list = field(default_factory=list)
    ellipses: list = field(default_factory=list)
    points: Points | None = None

    def add(self, a: Annotation) -> None:
        t = a.type
        if t is AnnType.polygon:
            self.polys.append(a)
        elif t is AnnType.mask:
            self.masks.append(a)
        elif t is AnnType.bbox:
            self.boxes.append(a)
        elif t is AnnType.ellipse:
            self.ellipses.append(a)


def group_key(a: Annotation, index: int) -> tuple:
    """Annotations with the same key form one COCO object."""
    if a.group:
        return ("g", a.group)
    if a.id:
        return ("i", a.id, a.label)
    return ("n", index)


def group_objects(anns: Sequence[tuple[int, Annotation]]) -> list[Obj]:
    """Objects from ``(index in item, annotation)`` pairs, in order of first appearance."""
    objs: dict[Any, Obj] = {}
    polygon = AnnType.polygon
    for i, a in anns:
        g = a.group
        k = g if g else group_key(a, i)
        o = objs.get(k)
        if o is None:
            o = objs[k] = Obj(leader=a)
        if a.type is polygon:
            o.polys.append(a)
        else:
            o.add(a)
    return list(objs.values())


def ellipse_polygon(e: Ellipse) -> list[float]:
    """A 32-point polygon approximating an ellipse (coordinates rounded to 1e-4)."""
    cx, cy = (e.x1 + e.x2) / 2, (e.y1 + e.y2) / 2
    rx, ry = abs(e.x2 - e.x1) / 2, abs(e.y2 - e.y1) / 2
    out = []
    for k in range(_ELLIPSE_POINTS):
        t = 2 * math.pi * k / _ELLIPSE_POINTS
        out += [round(cx + rx * math.cos(t), 4) + 0.0, round(cy + ry * math.sin(t), 4) + 0.0]
    return out


def _union(boxes: Sequence[tuple[float, float, float, float]]) -> list[float]:
    if len(boxes) == 1:
        return list(boxes[0])
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return [x0, y0, x1 - x0, y1 - y0]


def _poly_extent(parts: Sequence[Sequence[float]]) -> list[float]:
    xs = [v for p in parts for v in p[0::2]]
    ys = [v for p in parts for v in p[1::2]]
    if not xs:
        return [0.0, 0.0, 0.0, 0.0]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _canvas(size: tuple[int, int] | None, parts: Sequence[Sequence[float]]) -> tuple[int, int]:
    if size:
        return size
    x, y, w, h = _poly_extent(parts)
    return (max(1, int(math.ceil(y + h)) + 1), max(1, int(math.ceil(x + w)) + 1))


def _poly_area(parts: Sequence[Sequence[float]], size: tuple[int, int] | None) -> float:
    from dsrepo.model import masks

    usable = [p for p in parts if len(p) >= 6]
    if not usable:
        return 0.0
    h, w = _canvas(size, usable)
    return float(masks.area(masks.from_polygons(usable, h, w)))


def _merged_mask(obj: Obj, polys: list[list[float]], size: tuple[int, int] | None) -> dict:
    """One RLE for all masks and polygon parts of an object."""
    import numpy as np

    from dsrepo.model import masks

    if obj.masks:
        h, w = obj.masks[0].size
    else:
        h, w = _canvas(size, polys)
    acc = np.zeros((h, w), dtype=np.uint8)
    for m in obj.masks:
        img = m.image
        hh, ww = min(h, img.shape[0]), min(w, img.shape[1])
        acc[:hh, :ww] |= img[:hh, :ww]
    if polys:
        acc |= masks.decode(masks.from_polygons(polys, h, w))
    return masks.encode(acc)


def mask_polygons(rle: dict) -> list[list[float]]:
    """Outer contours of a mask as polygons (holes are filled)."""
    import cv2
    import numpy as np

    from dsrepo.model import masks

    img = np.ascontiguousarray(masks.decode(rle))
    contours, _ = cv2.findContours(img, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        pts = c.reshape(-1, 2).astype(float)
        if len(pts) >= 3:
            out.append([float(v) for v in pts.flatten()])
    return out


@dataclass(slots=True)
class Ctx:
    """Export settings and counters shared by every object of one export."""

    mode: str = "guess"
    allow_attributes: bool = True
    ellipses: int = 0
    converted_masks: int = 0


def segmentation(obj: Obj, ctx: Ctx, size: tuple[int, int] | None, m: dict) -> tuple[Any, bytes | None, str]:
    """``(segmentation value, its JSON, kind)``; kind is "poly", "rle" or "none".

    Returns the imported form untouched when the fingerprint matches."""
    polys = [list(p.points) for p in obj.polys]
    if obj.ellipses:
        ctx.ellipses += len(obj.ellipses)
        polys += [ellipse_polygon(e) for e in obj.ellipses]
    if obj.masks and not polys and len(obj.masks) == 1 and ctx.mode != "polygons":
        rle = obj.masks[0].rle
        return None, rle_json(rle["size"], rle["counts"]), "rle"
    if polys and not obj.masks and ctx.mode != "mask":
        return polys, orjson.dumps(polys), "poly"
    if not polys and not obj.masks:
        return [], None, "none"
    if ctx.mode == "polygons":
        ctx.converted_masks += len(obj.masks)
        for mk in obj.masks:
            polys += mask_polygons(mk.rle)
        return polys, orjson.dumps(polys), "poly"
    rle = _merged_mask(obj, polys, size)
    return None, rle_json(rle["size"], rle["counts"]), "rle"


def _bbox_of_seg(kind: str, seg: Any, seg_json: bytes | None) -> list[float]:
    if kind == "poly":
        return _poly_extent(seg)
    if kind == "rle":
        from dsrepo.model import masks

        d = orjson.loads(seg_json)  # type: ignore[arg-type]
        return list(masks.bbox(d))
    return [0.0, 0.0, 0.0, 0.0]


def _area_of_seg(kind: str, seg: Any, seg_json: bytes | None, size, bbox: list[float]) -> float:
    if kind == "poly":
        return _poly_area(seg, size)
    if kind == "rle":
        from dsrepo.model import masks

        return float(masks.area(orjson.loads(seg_json)))  # type: ignore[arg-type]
    return bbox[2] * bbox[3]


def object_fields(obj: Obj, ctx: Ctx, size: tuple[int, int] | None, m: dict,
                  box_override: list[float] | None = None) -> dict:
    """``segmentation``, ``area``, ``bbox`` of an object (as JSON fragments/values).

    ``m`` is the leader's coco meta. A kept value is exactly the one read from the file."""
    seg, seg_json, kind = segmentation(obj, ctx, size, m)
    ints = m.get("ints") or ()
    g = m.get("g")
    if kind == "none":
        boxes = [b.get_bbox() for b in obj.boxes]
        bbox = _union(boxes) if boxes else (box_override or [0.0, 0.0, 0.0, 0.0])
        same = g is not None and g == fp_bytes(orjson.dumps([float(v) for v in bbox]))
        out: dict[str, Any] = {"segmentation": orjson.Fragment(b"[]")}
        out["bbox"] = apply_int_spec(bbox, ints["bbox"]) if "bbox" in ints and same else bbox
        out["area"] = m["area"] if same and "area" in m else bbox[2] * bbox[3]
        out["_same"] = same
        return out
    same = g is not None and g == fp_bytes(seg_json if kind == "rle" else orjson.dumps(seg))
    if same and "segmentation" in ints and kind == "poly":
        spec, start, parts = ints["segmentation"], 0, []
        for p in seg:
            parts.append(apply_int_spec(p, spec, start))
            start += len(p)
        seg_json = orjson.dumps(parts)
    out = {"segmentation": orjson.Fragment(seg_json)}
    if obj.boxes:
        bbox = _union([b.get_bbox() for b in obj.boxes])
        out["bbox"] = apply_int_spec(bbox, ints["bbox"]) if "bbox" in ints and same else bbox
    elif same and "bbox" in m:
        out["bbox"] = m["bbox"]
    else:
        out["bbox"] = _bbox_of_seg(kind, seg, seg_json)
    if same and "area" in m:
        out["area"] = m["area"]
    else:
        b = out["bbox"]
        out["area"] = _area_of_seg(kind, seg, seg_json, size, [float(v) for v in b])
    out["_same"] = same
    return out


def common_fields(leader: Annotation, m: Any, ctx: Ctx, cat_id: Any, crowd_key: bool = True) -> dict:
    """``category_id``, ``iscrowd``, ``score`` and ``attributes`` of a record."""
    out: dict[str, Any] = {}
    if cat_id is not None:
        out["category_id"] = cat_id
    attrs = leader.attributes
    if not attrs and crowd_key and not m.get("ae"):
        ic = m.get("ic")
        out["iscrowd"] = ic if ic is not None and not ic else 0
        return out
    if crowd_key:
        crowd = bool(attrs.get("is_crowd", False))
        ic = m.get("ic")
        out["iscrowd"] = ic if ic is not None and bool(ic) == crowd else int(crowd)
    if "score" in attrs:
        out["score"] = attrs["score"]
    if ctx.allow_attributes:
        custom = {k: v for k, v in attrs.items() if k not in ("is_crowd", "score")}
        if custom or m.get("ae"):
            out["attributes"] = custom
    return out


def keypoint_fields(p: Points, m: dict) -> dict:
    """``keypoints`` and ``num_keypoints`` of a Points annotation."""
    spec = (m.get("ints") or {}).get("keypoints")
    kp: list[Any] = []
    pts = p.points
    for i, v in enumerate(p.visibility):
        kp += [pts[2 * i], pts[2 * i + 1], v]
    if spec is not None:
        kp = apply_int_spec(kp, spec)
    kp[2::3] = p.visibility
    n = sum(1 for v in p.visibility if v)
    nk = m.get("nk")
    keep = isinstance(nk, list) and len(nk) == 2 and nk[1] == n
    return {"keypoints": kp, "num_keypoints": nk[0] if keep else n}


def finish(rec: dict, m: dict, same: bool) -> dict:
    """Drop keys the source record did not have (only while unchanged), add extra keys."""
    if same:
        for k in m.get("omit") or ():
            rec.pop(k, None)
    else:
        for k in m.get("omit") or ():
            if k in ("iscrowd", "num_keypoints"):
                rec.pop(k, None)
    x = m.get("x")
    if x:
        for k, v in x.items():
            rec.setdefault(k, v)
    return rec


__all__ = ["Obj", "Ctx", "group_objects", "object_fields", "common_fields", "keypoint_fields", "finish",
           "SHAPES", "Bbox", "Mask", "Polygon", "coco_meta"]
