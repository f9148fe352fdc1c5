"""Rasterizing COCO objects, and ``--crop-covered`` (objects in front cut those behind)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from dsrepo.formats.coco import objects as ob
from dsrepo.model import masks
from dsrepo.model.annotations import Mask, Polygon


def rasterize(obj: ob.Obj, h: int, w: int, boxes: bool = False) -> np.ndarray:
    """Boolean ``(h, w)`` pixels of an object (boxes only when ``boxes`` and nothing else)."""
    acc = np.zeros((h, w), dtype=bool)
    for m in obj.masks:
        img = m.image
        hh, ww = min(h, img.shape[0]), min(w, img.shape[1])
        acc[:hh, :ww] |= img[:hh, :ww].astype(bool)
    polys = [list(p.points) for p in obj.polys if len(p.points) >= 6]
    polys += [ob.ellipse_polygon(e) for e in obj.ellipses]
    if polys:
        acc |= masks.decode(masks.from_polygons(polys, h, w)).astype(bool)
    if boxes and not obj.masks and not polys:
        for b in obj.boxes:
            x0, y0 = max(0, int(round(b.x))), max(0, int(round(b.y)))
            x1, y1 = min(w, int(round(b.x + b.w))), min(h, int(round(b.y + b.h)))
            acc[y0:y1, x0:x1] = True
    return acc


def _rebuilt(obj: ob.Obj, pixels: np.ndarray) -> ob.Obj:
    lead = obj.leader
    common = dict(id=lead.id, group=lead.group, label=lead.label, z_order=lead.z_order,
                  attributes=lead.attributes, meta=lead.meta)
    new = ob.Obj(leader=lead, boxes=list(obj.boxes))
    if obj.masks:
        new.masks = [Mask.from_array(pixels, **common)]
    else:
        parts = ob.mask_polygons(masks.encode(pixels))
        new.polys = [Polygon(points=p, **common) for p in parts]
    return new


def crop_covered(objs: Sequence[ob.Obj], size: tuple[int, int] | None) -> list[ob.Obj]:
    """Objects with the pixels covered by later / higher-``z_order`` objects removed.

    Needs the image size; without it objects are returned unchanged."""
    if not size:
        return list(objs)
    h, w = size
    order = sorted(range(len(objs)), key=lambda i: objs[i].leader.z_order)
    covered = np.zeros((h, w), dtype=bool)
    out = list(objs)
    for i in reversed(order):
        obj = objs[i]
        if not (obj.masks or obj.polys or obj.ellipses):
            continue
        pix = rasterize(obj, h, w)
        kept = pix & ~covered
        covered |= pix
        if not np.array_equal(kept, pix):
            out[i] = _rebuilt(obj, kept)
    return out
