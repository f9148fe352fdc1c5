"""COCO annotation records -> model annotations (one task at a time, per item)."""

from __future__ import annotations

from typing import Any, Union

import msgspec
import orjson

from dsrepo.errors import DatasetError
from dsrepo.formats.coco.meta import NS, fp_bytes, only_ints, rle_json
from dsrepo.formats.coco.parse import UNSET, CAnn, check_segmentation
from dsrepo.formats.coco.tasks import CAPTIONS, LABELS, PANOPTIC, PERSON_KEYPOINTS
from dsrepo.model.annotations import Bbox, Caption, Label, Mask, Points, Polygon

_POLY = msgspec.json.Decoder(list[list[float]])
_NUMS = msgspec.json.Decoder(list[Union[int, float]])
_FLOATS = msgspec.json.Decoder(list[float])
_ANY = msgspec.json.Decoder()
FRESH_GROUP = 1 << 40

_COMMON = ("id", "image_id", "score", "attributes")
STD_KEYS = {
    "instances": frozenset(_COMMON + ("category_id", "segmentation", "area", "bbox", "iscrowd")),
    PERSON_KEYPOINTS: frozenset(_COMMON + ("category_id", "segmentation", "area", "bbox", "iscrowd",
                                           "keypoints", "num_keypoints")),
    CAPTIONS: frozenset(_COMMON + ("caption",)),
    LABELS: frozenset(_COMMON + ("category_id",)),
    PANOPTIC: frozenset(("image_id", "file_name", "segments_info")),
}
_FIELDS = [f for f in CAnn.__struct_fields__ if f != "extra"]


def _err(ctx, i: int, a: CAnn, msg: str) -> DatasetError:
    where = f"annotation id {a.id}" if a.id is not UNSET else f"annotation #{i}"
    return DatasetError(msg, ctx.pf.path, where)


def _value(v: Any) -> Any:
    return _ANY.decode(v) if isinstance(v, msgspec.Raw) else v


def extras(a: Any, std: frozenset, fields=None) -> dict:
    """Keys of record ``a`` that are not standard for its task (unknown keys included)."""
    x = {}
    for f in fields or _FIELDS:
        if f not in std:
            v = getattr(a, f)
            if v is not UNSET:
                x[f] = _value(v) if not isinstance(v, list) else [msgspec.to_builtins(s) for s in v]
    if a.extra:
        x.update(a.extra)
    return x


def _label(ctx, a: Any, m: dict, omit: list) -> int | None:
    cid = a.category_id
    if cid is UNSET:
        omit.append("category_id")
        return None
    lab = ctx.label_map.get(cid)
    if lab is None:
        m["cat"] = cid
    return lab


def _attrs(a: Any, m: dict, omit: list) -> dict:
    attrs: dict[str, Any] = {}
    if a.attributes is not UNSET:
        attrs.update(a.attributes)
        if not a.attributes:
            m["ae"] = 1
    if getattr(a, "score", UNSET) is not UNSET:
        attrs["score"] = a.score
    ic = a.iscrowd
    if ic is UNSET:
        omit.append("iscrowd")
    else:
        if type(ic) is not int or ic not in (0, 1):
            m["ic"] = ic
        if ic:
            attrs["is_crowd"] = True
        else:
            attrs.pop("is_crowd", None)
    return attrs


def _ids(ctx, i: int, a: CAnn) -> tuple[int, int]:
    if a.id is UNSET or i in ctx.dups:
        return 0, FRESH_GROUP + i
    return a.id, a.id


def _finish_meta(m: dict, omit: list, x: dict) -> dict:
    if omit:
        m["omit"] = omit
    if x:
        m["x"] = x
    return {NS: m} if m else {}


def _shapes(ctx, i: int, a: CAnn, label, attrs: dict, aid: int, group: int, m: dict, tag: str | None):
    """Polygon parts, a Mask, or nothing (no/empty segmentation); sets ``g`` and ``ints``."""
    raw = bytes(a.segmentation)
    part_meta = {NS: {"task": tag}} if tag else {}
    if raw[:1] == b"{":
        d = _ANY.decode(raw)
        msg = check_segmentation(d)
        if msg:
            raise _err(ctx, i, a, msg)
        try:
            mask = Mask(rle={"size": d["size"], "counts": d["counts"]}, id=aid, group=group, label=label,
                        attributes=attrs, meta=part_meta)
        except ValueError as e:
            raise _err(ctx, i, a, f"segmentation: {e}") from None
        m["g"] = fp_bytes(rle_json(mask.rle["size"], mask.rle["counts"]))
        return [mask]
    try:
        parts = _POLY.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        try:
            v = _ANY.decode(raw)
        except msgspec.DecodeError:
            v = None
        raise _err(ctx, i, a, check_segmentation(v) or "invalid segmentation") from None
    if not parts:
        return []
    polys = []
    for k, p in enumerate(parts):
        if len(p) % 2:
            raise _err(ctx, i, a, f"segmentation polygon {k} has an odd number of coordinates ({len(p)})")
        polys.append(Polygon(points=p, id=aid, group=group, label=label, attributes=attrs, meta=part_meta))
    m["g"] = fp_bytes(orjson.dumps([p.points for p in polys]))
    if only_ints(raw):
        m["ints"] = ["segmentation"]
    return polys


def _bbox(ctx, i, a, label, attrs, aid, group, meta) -> Bbox:
    x, y, w, h = _NUMS.decode(a.bbox)
    return Bbox(x=x, y=y, w=w, h=h, id=aid, group=group, label=label, attributes=attrs, meta=meta)


def instance_object(ctx, i: int, a: CAnn, tag: str | None) -> list:
    """An instances/stuff record: Polygon parts, a Mask, or a Bbox (no segmentation)."""
    m: dict[str, Any] = {}
    omit: list[str] = []
    if not ctx.natural:
        m["o"] = i
    if tag:
        m["task"] = tag
    aid, group = _ids(ctx, i, a)
    label = _label(ctx, a, m, omit)
    attrs = _attrs(a, m, omit)
    x = extras(a, STD_KEYS["instances"])
    if a.area is not UNSET:
        m["area"] = a.area
    else:
        omit.append("area")
    shapes = _shapes(ctx, i, a, label, attrs, aid, group, m, tag) if a.segmentation is not UNSET else []
    if a.segmentation is UNSET:
        omit.append("segmentation")
    if shapes:
        if a.bbox is not UNSET:
            m["bbox"] = _NUMS.decode(a.bbox)
        else:
            omit.append("bbox")
        meta = _finish_meta(m, omit, x)
        shapes[0] = shapes[0].with_(meta=meta)
        return shapes
    if a.bbox is UNSET:
        omit.append("bbox")
        m["g"] = fp_bytes(orjson.dumps([0.0, 0.0, 0.0, 0.0]))
        return [Bbox(id=aid, group=group, label=label, attributes=attrs, meta=_finish_meta(m, omit, x))]
    box = _bbox(ctx, i, a, label, attrs, aid, group, None)
    m["g"] = fp_bytes(orjson.dumps([box.x, box.y, box.w, box.h]))
    if only_ints(bytes(a.bbox)):
        m["ints"] = ["bbox"]
    return [box.with_(meta=_finish_meta(m, omit, x))]


def keypoints_object(ctx, i: int, a: CAnn, shared_g: int | None) -> list:
    """A person_keypoints record: Points + Bbox, plus its segmentation shapes unless they
    are the same as those of the instances record with this id (``shared_g`` is then that
    record's geometry fingerprint)."""
    m: dict[str, Any] = {}
    omit: list[str] = []
    ints: list[str] = []
    if not ctx.natural:
        m["o"] = i
    aid, group = _ids(ctx, i, a)
    label = _label(ctx, a, m, omit)
    attrs = _attrs(a, m, omit)
    x = extras(a, STD_KEYS[PERSON_KEYPOINTS])
    tagged = {NS: {"task": PERSON_KEYPOINTS}}
    if a.area is not UNSET:
        m["area"] = a.area
    else:
        omit.append("area")
    if a.keypoints is UNSET:
        omit.append("keypoints")
        pts: list[float] = []
        vis: list[int] = []
    else:
        raw = bytes(a.keypoints)
        try:
            kp = _FLOATS.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            raise _err(ctx, i, a, "keypoints must be a list of x, y, visibility triples") from None
        if len(kp) % 3:
            raise _err(ctx, i, a, "keypoints must be a list of x, y, visibility triples")
        vis = []
        for v in kp[2::3]:
            if v not in (0.0, 1.0, 2.0):
                raise _err(ctx, i, a, f"keypoint visibility must be 0, 1 or 2, got {v:g}")
            vis.append(int(v))
        pts = [c for xy in zip(kp[0::3], kp[1::3]) for c in xy]
        if only_ints(raw):
            ints.append("keypoints")
    n_vis = sum(1 for v in vis if v)
    if a.num_keypoints is UNSET:
        omit.append("num_keypoints")
    elif a.num_keypoints != n_vis:
        m["nk"] = [a.num_keypoints, n_vis]
    out: list = []
    if a.segmentation is UNSET:
        omit.append("segmentation")
    elif shared_g is not None:
        m["sh"] = 1
        m["g"] = shared_g
    else:
        out = _shapes(ctx, i, a, label, attrs, aid, group, m, PERSON_KEYPOINTS)
        if "ints" in m:
            ints += m.pop("ints")
    if a.bbox is not UNSET:
        out.insert(0, _bbox(ctx, i, a, label, attrs, aid, group, tagged))
        if only_ints(bytes(a.bbox)):
            ints.append("bbox")
        if "g" not in m:
            b = out[0]
            m["g"] = fp_bytes(orjson.dumps([b.x, b.y, b.w, b.h]))
    else:
        omit.append("bbox")
    if ints:
        m["ints"] = ints
    points = Points(points=pts, visibility=vis, id=aid, group=group, label=label, attributes=attrs,
                    meta=_finish_meta(m, omit, x))
    return [points] + out


def caption(ctx, i: int, a: CAnn) -> list:
    """A captions record."""
    m: dict[str, Any] = {}
    omit: list[str] = []
    if not ctx.natural:
        m["o"] = i
    aid, group = _ids(ctx, i, a)
    attrs = _attrs_plain(a, m)
    if a.caption is UNSET:
        omit.append("caption")
    x = extras(a, STD_KEYS[CAPTIONS])
    return [Caption(caption=a.caption if a.caption is not UNSET else "", id=aid, attributes=attrs,
                    meta=_finish_meta(m, omit, x))]


def _attrs_plain(a: CAnn, m: dict) -> dict:
    attrs: dict[str, Any] = {}
    if a.attributes is not UNSET:
        attrs.update(a.attributes)
        if not a.attributes:
            m["ae"] = 1
    if a.score is not UNSET:
        attrs["score"] = a.score
    return attrs


def label(ctx, i: int, a: CAnn) -> list:
    """A labels record (image-level class with optional score)."""
    m: dict[str, Any] = {}
    omit: list[str] = []
    if not ctx.natural:
        m["o"] = i
    aid, _group = _ids(ctx, i, a)
    lab = _label(ctx, a, m, omit)
    attrs = _attrs_plain(a, m)
    x = extras(a, STD_KEYS[LABELS])
    return [Label(label=lab, id=aid, attributes=attrs, meta=_finish_meta(m, omit, x))]
