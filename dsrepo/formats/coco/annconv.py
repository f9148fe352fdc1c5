"""COCO annotation records -> model annotations (one task at a time, per item)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

import msgspec
import orjson

from dsrepo.errors import DatasetError
from dsrepo.formats.coco.lazyseg import bbox_values, decode_polygons, lazy_parts, note_polygons
from dsrepo.formats.coco.meta import NS, fp_bytes, int_spec, rle_json
from dsrepo.formats.coco.parse import UNSET, CAnn, check_segmentation
from dsrepo.formats.coco.tasks import CAPTIONS, LABELS, PANOPTIC, PERSON_KEYPOINTS
from dsrepo.model.annotations import EMPTY, Bbox, Caption, Label, Mask, Points, Polygon, _frozen_map

frozen = _frozen_map
_CROWD = MappingProxyType({"is_crowd": True})
_SET = object.__setattr__
_new = object.__new__

_FLOATS = msgspec.json.Decoder(list[float])
_ANY = msgspec.json.Decoder()
FRESH_GROUP = 1 << 40
_TAGGED = {t: MappingProxyType({"coco": {"task": t}}) for t in ("stuff", "person_keypoints", "panoptic")}

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


def _slot_setters() -> tuple | None:
    """Slot setters of Polygon's fields in declaration order, or None if the model's
    fields are not the ones :func:`fast_polygon` knows (it then validates normally)."""
    import dataclasses

    names = tuple(f.name for f in dataclasses.fields(Polygon))
    if names != ("id", "group", "label", "z_order", "attributes", "meta", "points"):
        return None
    out = []
    for n in names:
        for cls in Polygon.__mro__:
            d = cls.__dict__.get(n)
            if d is not None and hasattr(d, "__set__"):
                out.append(d.__set__)
                break
        else:
            return None
    return tuple(out)


_PSET = _slot_setters()


def fast_polygon(points: tuple, aid: int, group: int, label: int | None, attributes: Mapping,
                 meta: Mapping) -> Polygon:
    """``Polygon(points=points, ...)`` without re-validating coordinates.

    Only for values the model would store unchanged: a tuple of finite floats of even
    length without ``-0.0`` (JSON decoding guarantees finiteness; callers check the
    rest), and ``attributes``/``meta`` already frozen. Falls back to the validating
    constructor if the model's fields change; tests/formats/coco/test_fast_paths.py
    checks both give equal objects."""
    if _PSET is None:
        return Polygon(points=points, id=aid, group=group, label=label, attributes=attributes, meta=meta)
    p = _new(Polygon)
    s_id, s_group, s_label, s_z, s_attrs, s_meta, s_points = _PSET
    s_id(p, aid)
    s_group(p, group)
    s_label(p, label)
    s_z(p, 0)
    s_attrs(p, attributes)
    s_meta(p, meta)
    s_points(p, points)
    return p


def _err(ctx, i: int, a: CAnn, msg: str) -> DatasetError:
    where = f"annotation id {a.id}" if a.id is not UNSET else f"annotation #{i}"
    return DatasetError(msg, ctx.pf.path, where)


def _value(v: Any) -> Any:
    return _ANY.decode(v) if isinstance(v, msgspec.Raw) else v


_NONSTD: dict[tuple, tuple[str, ...]] = {}


def extras(a: Any, std: frozenset, fields=None) -> dict:
    """Keys of record ``a`` that are not standard for its task (unknown keys included)."""
    key = (std, tuple(fields or ()))
    names = _NONSTD.get(key)
    if names is None:
        names = _NONSTD[key] = tuple(f for f in (fields or _FIELDS) if f not in std)
    x = {}
    for f in names:
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


def _ids(ctx, i: int, a: CAnn, omit: list) -> tuple[int, int]:
    if a.id is UNSET:
        omit.append("id")
    if a.id is UNSET or i in ctx.dups:
        return 0, FRESH_GROUP + i
    return a.id, a.id


def _finish_meta(m: dict, omit: list, x: dict) -> dict:
    if omit:
        m["omit"] = omit
    if x:
        m["x"] = x
    return {NS: m} if m else {}


def _seg_plan(ctx, i: int, a: CAnn, m: dict, lazy: bool = False) -> tuple[str, Any]:
    """Decode a segmentation: ``("rle", rle)``, ``("poly", parts)`` or ``("none", None)``;
    sets ``g`` (and ``ints``) in ``m``. With ``lazy``, compact polygon lists are not
    decoded: ``("lazy", (raw JSON, number of parts))`` (see :mod:`.lazyseg`)."""
    raw = bytes(a.segmentation)
    if lazy and raw[:2] == b"[[" and _PSET is not None:
        return "lazy", (raw, raw.count(b"[") - 1)
    if raw[:1] == b"{":
        d = _ANY.decode(raw)
        msg = check_segmentation(d)
        if msg:
            raise _err(ctx, i, a, msg)
        counts = d["counts"]
        m["g"] = fp_bytes(rle_json(d["size"], counts))
        return "rle", {"size": d["size"], "counts": counts}
    parts, msg = decode_polygons(raw)
    if msg is not None:
        raise _err(ctx, i, a, msg)
    if not parts:
        return "none", None
    note_polygons(raw, parts, m)
    return "poly", parts


def _make_shapes(ctx, i: int, a: CAnn, plan: tuple[str, Any], label, attrs: Mapping, aid: int, group: int,
                 lead_meta: Mapping, part_meta: Mapping) -> list:
    kind, value = plan
    if kind == "rle":
        try:
            return [Mask(rle=value, id=aid, group=group, label=label, attributes=attrs, meta=lead_meta)]
        except ValueError as e:
            raise _err(ctx, i, a, f"segmentation: {e}") from None
    out = []
    meta = lead_meta
    for p in value or ():
        out.append(fast_polygon(p, aid, group, label, attrs, meta))
        meta = part_meta
    return out


def _bbox_values(ctx, i: int, a: CAnn) -> list:
    """The record's bbox as given (ints stay ints); DatasetError if it is not a valid box."""
    v, msg = bbox_values(a.bbox)
    if msg is not None:
        raise _err(ctx, i, a, msg)
    return v


def _bbox(ctx, i, a, label, attrs, aid, group, meta) -> Bbox:
    x, y, w, h = _bbox_values(ctx, i, a)
    return Bbox(x=x, y=y, w=w, h=h, id=aid, group=group, label=label, attributes=attrs, meta=meta)


INST_NONSTD = ("keypoints", "num_keypoints", "caption", "file_name", "segments_info")


def instance_object(ctx, i: int, a: CAnn, tag: str | None, lazy: bool = True) -> list:
    """An instances/stuff record: Polygon parts (LazyPolygon parts with ``lazy``), a Mask,
    or a Bbox (no segmentation).

    Written inline for speed: this runs for every object of a 118k-image file."""
    m: dict[str, Any] = {"o": i} if not ctx.natural else {}
    omit: list[str] = []
    if tag:
        m["task"] = tag
    aid = a.id
    if aid is UNSET or i in ctx.dups:
        if aid is UNSET:
            omit.append("id")
        aid, group = 0, FRESH_GROUP + i
    else:
        group = aid
    cid = a.category_id
    if cid is UNSET:
        omit.append("category_id")
        label = None
    else:
        label = ctx.label_map.get(cid)
        if label is None:
            m["cat"] = cid
    ic = a.iscrowd
    if a.attributes is UNSET and a.score is UNSET and ic is not UNSET and ic.__class__ is int and 0 <= ic <= 1:
        attrs = _CROWD if ic else EMPTY
    else:
        attrs = frozen(_attrs(a, m, omit))
    x = None
    for f in INST_NONSTD:
        if getattr(a, f) is not UNSET:
            x = extras(a, STD_KEYS["instances"])
            break
    if a.extra is not None:
        x = extras(a, STD_KEYS["instances"])
    if a.area is not UNSET:
        m["area"] = a.area
    else:
        omit.append("area")
    seg = a.segmentation
    plan = _seg_plan(ctx, i, a, m, lazy) if seg is not UNSET else ("none", None)
    if seg is UNSET:
        omit.append("segmentation")
    if plan[0] != "none":
        box = a.bbox
        if box is UNSET:
            omit.append("bbox")
        elif plan[0] != "lazy":  # (a lazy segmentation decodes its record's bbox with it)
            m["bbox"] = _bbox_values(ctx, i, a)
        if omit:
            m["omit"] = omit
        if x:
            m["x"] = x
        lead = MappingProxyType({NS: m})
        part_meta = _TAGGED[tag] if tag else EMPTY
        kind, value = plan
        if kind == "lazy":
            return lazy_parts(value[0], value[1], None if box is UNSET else bytes(box), ctx, i, a, aid, group,
                              label, attrs, lead, m, part_meta, _PSET)
        if kind == "rle":
            try:
                return [Mask(rle=value, id=aid, group=group, label=label, attributes=attrs, meta=lead)]
            except ValueError as e:
                raise _err(ctx, i, a, f"segmentation: {e}") from None
        out = [fast_polygon(value[0], aid, group, label, attrs, lead)]
        for p in value[1:]:
            out.append(fast_polygon(p, aid, group, label, attrs, part_meta))
        return out
    if a.bbox is UNSET:
        omit.append("bbox")
        vals = [0.0, 0.0, 0.0, 0.0]
    else:
        vals = [float(v) + 0.0 for v in _bbox_values(ctx, i, a)]
        spec = int_spec(bytes(a.bbox))
        if spec is not None:
            m["ints"] = {"bbox": spec}
    m["g"] = fp_bytes(orjson.dumps(vals))
    return [Bbox(x=vals[0], y=vals[1], w=vals[2], h=vals[3], id=aid, group=group, label=label, attributes=attrs,
                 meta=_finish_meta(m, omit, x or {}))]


def keypoints_object(ctx, i: int, a: CAnn, shared_g: int | None, shared_group: int | None = None,
                     shared_box: bool = False) -> list:
    """A person_keypoints record: Points + Bbox, plus its segmentation shapes unless they
    are the same as those of an instances record (``shared_g`` is then that record's
    geometry fingerprint, ``shared_group`` its group, which the keypoints join;
    ``shared_box``: that record is box-only and its Bbox stands for this record's box)."""
    m: dict[str, Any] = {}
    omit: list[str] = []
    ints: dict[str, Any] = {}
    if not ctx.natural:
        m["o"] = i
    aid, group = _ids(ctx, i, a, omit)
    if shared_group is not None:
        group = shared_group
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
        spec = int_spec(raw)
        if spec is not None:
            ints["keypoints"] = spec
    n_vis = sum(1 for v in vis if v)
    if a.num_keypoints is UNSET:
        omit.append("num_keypoints")
    elif a.num_keypoints != n_vis:
        m["nk"] = [a.num_keypoints, n_vis]
    out: list = []
    if a.segmentation is UNSET:
        omit.append("segmentation")
    if shared_g is not None:
        m["sh"] = 1
        m["g"] = shared_g
    elif a.segmentation is not UNSET:
        plan = _seg_plan(ctx, i, a, m)
        if "ints" in m:
            ints.update(m.pop("ints"))
        out = _make_shapes(ctx, i, a, plan, label, frozen(attrs), aid, group, frozen(tagged), frozen(tagged))
    if a.bbox is not UNSET:
        if shared_box:
            _bbox_values(ctx, i, a)  # validated; the instances Bbox stands for it
        else:
            out.insert(0, _bbox(ctx, i, a, label, attrs, aid, group, tagged))
        spec = int_spec(bytes(a.bbox))
        if spec is not None:
            ints["bbox"] = spec
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
    aid, group = _ids(ctx, i, a, omit)
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
    aid, _group = _ids(ctx, i, a, omit)
    lab = _label(ctx, a, m, omit)
    attrs = _attrs_plain(a, m)
    x = extras(a, STD_KEYS[LABELS])
    return [Label(label=lab, id=aid, attributes=attrs, meta=_finish_meta(m, omit, x))]
