"""Panoptic segmentation: PNG segment maps (id = R + 256*G + 256^2*B) <-> masks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dsrepo.errors import DatasetError
from dsrepo.formats.coco.annconv import extras
from dsrepo.formats.coco.meta import NS, fp_bytes, rle_json
from dsrepo.formats.coco.parse import UNSET, CAnn, CSeg
from dsrepo.formats.coco.tasks import PANOPTIC
from dsrepo.model.annotations import Mask

_SEG_STD = frozenset(("id", "category_id", "area", "bbox", "iscrowd", "attributes"))
_SEG_FIELDS = [f for f in CSeg.__struct_fields__ if f != "extra"]


def read_ids(path: Path) -> np.ndarray:
    """Segment-id map (uint32) of a panoptic PNG."""
    import cv2

    buf = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    if img is None:
        raise OSError("cannot decode")
    b, g, r = (img[..., k].astype(np.uint32) for k in range(3))
    return r + (g << 8) + (b << 16)


def encode_ids(ids: np.ndarray) -> bytes:
    """PNG bytes of a segment-id map (deterministic for the same map)."""
    import cv2

    ids = ids.astype(np.uint32)
    bgr = np.stack([(ids >> 16) & 255, (ids >> 8) & 255, ids & 255], axis=-1).astype(np.uint8)
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise OSError("cannot encode PNG")
    return buf.tobytes()


def _find_png(ctx, name: str) -> Path | None:
    for d in ctx.pan_dirs:
        p = d / name
        if p.is_file():
            return p
    return None


def panoptic_masks(ctx, i: int, a: CAnn, item_id: str, pan_meta: dict) -> list:
    """Masks of one panoptic record; fills ``pan_meta`` (PNG name, position, extras)."""
    path = ctx.pf.path
    where = f"image id {a.image_id}"
    if a.file_name is UNSET:
        raise DatasetError("panoptic record has no file_name", path, where)
    if a.file_name != item_id + ".png":
        pan_meta["f"] = a.file_name
    if not ctx.natural:
        pan_meta["o"] = i
    x = extras(a, frozenset(("image_id", "file_name", "segments_info")))
    if x:
        pan_meta["x"] = x
    segs = a.segments_info if a.segments_info is not UNSET else []
    if a.segments_info is UNSET:
        pan_meta["omit"] = ["segments_info"]
    if not segs:
        return []
    png = _find_png(ctx, a.file_name)
    if png is None:
        raise DatasetError(f"segment map {a.file_name!r} not found (looked in "
                           f"{', '.join(str(d) for d in ctx.pan_dirs) or 'no panoptic folder'})", path, where)
    try:
        ids = read_ids(png)
    except OSError:
        raise DatasetError(f"cannot read segment map {png}", path, where) from None
    out = []
    listed = set()
    for s in segs:
        listed.add(s.id)
        out.append(_segment_mask(ctx, s, ids == s.id, where))
    present = np.unique(ids)
    stray = [int(v) for v in present if v and int(v) not in listed]
    if stray:
        ctx.progress.warn(f"{path.name}: image id {a.image_id}: {len(stray)} segment ids in "
                          f"{a.file_name} are not in segments_info; their pixels are ignored")
    return out


def _segment_mask(ctx, s: CSeg, pixels: np.ndarray, where: str) -> Mask:
    m: dict[str, Any] = {"task": PANOPTIC}
    omit = []
    attrs: dict[str, Any] = {}
    if s.attributes is not UNSET:
        attrs.update(s.attributes)
        if not s.attributes:
            m["ae"] = 1
    if s.iscrowd is UNSET:
        omit.append("iscrowd")
    else:
        if type(s.iscrowd) is not int or s.iscrowd not in (0, 1):
            m["ic"] = s.iscrowd
        if s.iscrowd:
            attrs["is_crowd"] = True
    label = ctx.label_map.get(s.category_id)
    if label is None:
        m["cat"] = s.category_id
    if s.area is not UNSET:
        m["area"] = s.area
    else:
        omit.append("area")
    if s.bbox is not UNSET:
        from dsrepo.formats.coco.parse import _loads_lenient, check_bbox

        box = _loads_lenient(bytes(s.bbox))
        msg = check_bbox(box)
        if msg:
            raise DatasetError(msg, ctx.pf.path, f"{where}: segment id {s.id}")
        m["bbox"] = box
    else:
        omit.append("bbox")
    mask = Mask.from_array(pixels, id=s.id, group=s.id, label=label, attributes=attrs)
    m["g"] = fp_bytes(rle_json(mask.rle["size"], mask.rle["counts"]))
    x = extras(s, _SEG_STD, _SEG_FIELDS)
    if omit:
        m["omit"] = omit
    if x:
        m["x"] = x
    return mask.with_(meta={NS: m})

