"""Export of panoptic records: one PNG segment map + ``segments_info`` per image."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from dsrepo.formats.coco import objects as ob
from dsrepo.formats.coco.crop import rasterize
from dsrepo.formats.coco.meta import coco_meta, fp_bytes, rle_json
from dsrepo.formats.coco.panoptic import encode_ids
from dsrepo.formats.coco.tasks import PANOPTIC
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.common.lossy import COVERED_PIXELS, HIDDEN_SHAPES

MAX_SEGMENT_ID = (1 << 24) - 1


def _size(router: Any, objs: list) -> tuple[int, int] | None:
    if router.size:
        return router.size
    for o in objs:
        if o.masks:
            return o.masks[0].size
    return None


def _bbox(region: np.ndarray) -> list[int]:
    ys = np.flatnonzero(region.any(axis=1))
    xs = np.flatnonzero(region.any(axis=0))
    if not len(xs):
        return [0, 0, 0, 0]
    return [int(xs[0]), int(ys[0]), int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1)]


def _unchanged(obj: ob.Obj, m: dict) -> bool:
    if len(obj.masks) != 1 or obj.polys or obj.ellipses or "g" not in m:
        return False
    rle = obj.masks[0].rle
    return fp_bytes(rle_json(rle["size"], rle["counts"])) == m["g"]


def emit_panoptic(router: Any, shapes: list, tf: Any, k: int) -> bool:
    """Write the item's segment map and add its record to ``tf``; False if it has none."""
    exp, item = router.exp, router.item
    pan = coco_meta(item.meta).get("pan")
    objs = router._objects(shapes)
    if not objs and not isinstance(pan, dict):
        return False
    pan = pan if isinstance(pan, dict) else {}
    name = pan.get("f") if isinstance(pan.get("f"), str) else item.id + ".png"
    size = _size(router, objs)
    segs = []
    if size is not None:
        h, w = size
        ids = np.zeros((h, w), dtype=np.uint32)
        used: set[int] = set()
        planned = []
        for obj in objs:
            sid = obj.leader.id
            ok = isinstance(sid, int) and 0 < sid <= MAX_SEGMENT_ID and sid not in used
            if ok:
                used.add(sid)
            planned.append([obj, sid if ok else None, rasterize(obj, h, w, boxes=True)])
        nxt = max(used, default=0) + 1
        for p in planned:
            if p[1] is None:
                while nxt in used:
                    nxt += 1
                p[1] = nxt
                used.add(nxt)
            ids[p[2]] = p[1]
        for obj, sid, pix in planned:
            lead = obj.leader
            m = coco_meta(lead.meta)
            region = ids == sid
            area = int(region.sum())
            own = int(pix.sum())
            same = _unchanged(obj, m) and area == own
            if area < own:  # later shapes cover some pixels: one segment id per pixel
                if not area:
                    exp.tracker.drop(HIDDEN_SHAPES)
                    continue
                exp.tracker.drop(COVERED_PIXELS, result="shapes cropped")
            if lead.label is not None:
                tf.labels_used.add(lead.label)
            rec: dict[str, Any] = {"id": sid}
            rec.update(ob.common_fields(lead, m, exp.ctx, exp.cat_id(lead.label, m)))
            rec["area"] = m["area"] if same and "area" in m else area
            rec["bbox"] = m["bbox"] if same and "bbox" in m else _bbox(region)
            segs.append(ob.finish(rec, m, same))
        rel = safe_relpath(f"annotations/{PANOPTIC}_{item.subset}/{name}", None, f"item {item.id}")
        dest = Path(exp.tmp) / "out" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(encode_ids(ids))
        exp.files.append(rel.replace(os.sep, "/"))
    elif objs:
        exp.no_size += 1
    rec = {"file_name": name, "segments_info": segs}
    if "segments_info" in (pan.get("omit") or ()) and not segs:
        rec.pop("segments_info")
    for key, v in (pan.get("x") or {}).items():
        rec.setdefault(key, v)
    o = pan.get("o")
    tf.add_ann(k, 0, o if isinstance(o, int) and not isinstance(o, bool) else None, rec)
    return True
