"""Annotations -> LabelMe shape objects for the exporter (honest about what labelme
cannot hold: every dropped annotation is counted in the LossTracker)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from dsrepo.errors import ExportError
from dsrepo.formats.common.lossy import LossTracker, kind_word
from dsrepo.formats.labelme import geometry, masks
from dsrepo.formats.labelme.parse import NS
from dsrepo.model.annotations import AnnType, Annotation, Visibility

_DROPPED_KIND = {AnnType.label: kind_word(AnnType.label), AnnType.caption: kind_word(AnnType.caption),
                 AnnType.ellipse: "non-circular " + kind_word(AnnType.ellipse)}


def plain(value: Any) -> Any:
    """A JSON-writable copy of ``value``: mappings become dicts with sorted keys,
    tuples lists, numpy scalars Python numbers (so exports are byte-stable)."""
    if isinstance(value, Mapping):
        return {str(k): plain(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return plain(item())
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return plain(tolist())
    return str(value)


def ns_meta(meta: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The ``"labelme"`` part of a meta mapping (empty when absent or malformed)."""
    m = (meta or {}).get(NS)
    return m if isinstance(m, Mapping) else {}


def _raw_pairs(raw: Any) -> list[tuple[float, float]] | None:
    if not isinstance(raw, (list, tuple)):
        return None
    out = []
    for p in raw:
        if not (isinstance(p, (list, tuple)) and len(p) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)):
            return None
        out.append((float(p[0]), float(p[1])))
    return out


def _kept_points(ann: Annotation, shape_type: str, m: Mapping[str, Any]) -> Any | None:
    """The points stored at import, if they still describe ``ann`` as ``shape_type``."""
    raw = m.get("p")
    pts = _raw_pairs(raw)
    if pts is None or geometry.count_error(shape_type, len(pts)):
        return None
    try:
        rebuilt = geometry.build(shape_type, pts)
    except ValueError:
        return None
    if geometry.geometry_key(rebuilt) != geometry.geometry_key(ann):
        return None
    return plain(raw)


def _numbers(pts: list[list[float]], m: Mapping[str, Any]) -> list[list[Any]]:
    if m.get("int"):
        ints = geometry.as_ints(pts)
        if ints is not None:
            return ints
    return pts


def _geometry(ann: Annotation, m: Mapping[str, Any],
              loss: LossTracker) -> tuple[str, Any, str | None] | None:
    """``(shape_type, points, mask base64)``, or None when the annotation is dropped."""
    if ann.type is AnnType.mask:
        arr = ann.image  # type: ignore[union-attr]
        kept = _raw_pairs(m.get("p"))
        if kept is not None and len(kept) == 2 and masks.box_holds(arr, masks.int_corners(kept)):
            return "mask", plain(m["p"]), masks.encode_crop_b64(arr, masks.int_corners(kept))
        box = masks.tight_box(arr)
        pts = [[0.0, 0.0], [0.0, 0.0]] if box is None else [[float(box[0]), float(box[1])],
                                                            [float(box[2]), float(box[3])]]
        return "mask", _numbers(pts, m), masks.encode_crop_b64(arr, box)
    canon = geometry.canonical(ann)
    if canon is None:
        loss.drop(_DROPPED_KIND.get(ann.type) or kind_word(ann.type))
        return None
    st, pts = canon
    if ann.type is AnnType.points:
        vis = ann.visibility  # type: ignore[union-attr]
        absent = sum(1 for v in vis if v == Visibility.absent)
        hidden = sum(1 for v in vis if v == Visibility.hidden)
        if absent:
            loss.drop("absent keypoints", absent)
        if hidden:
            loss.drop("hidden keypoint visibility (written as visible)", hidden)
        if not pts:
            return None
    want = m.get("st")
    if isinstance(want, str) and want in geometry.compatible_types(ann) \
            and geometry.count_error(want, len(pts)) is None:
        st = want
    kept_pts = _kept_points(ann, st, m)
    return st, (kept_pts if kept_pts is not None else _numbers(pts, m)), None


def shape_of(ann: Annotation, labels: Sequence[str], item_id: str,
             loss: LossTracker) -> dict | None:
    """The shape object for ``ann`` (None if labelme cannot hold it)."""
    m = ns_meta(ann.meta)
    if ann.label is None:
        label = ""
    elif ann.label < len(labels):
        label = labels[ann.label]
    else:
        raise ExportError(f"item {item_id!r}: label index {ann.label} is not in the categories "
                          f"({len(labels)} labels)")
    geo = _geometry(ann, m, loss)
    if geo is None:
        return None
    st, points, mask = geo
    attrs = ann.attributes
    desc = m.get("d")
    desc_attr = not isinstance(desc, str) and isinstance(attrs.get("description"), str)
    if desc_attr:
        desc = attrs["description"]
    flags = {k: attrs[k] for k in attrs if not (desc_attr and k == "description")}
    group_id = ann.group if ann.group else (0 if m.get("g0") else None)
    shape = {"label": label, "points": points, "group_id": group_id,
             "description": desc if isinstance(desc, str) else "", "shape_type": st,
             "flags": plain(flags), "mask": mask}
    extra = m.get("x")
    if isinstance(extra, Mapping):
        for k in sorted(extra):
            if k not in shape or (k == "mask" and shape["mask"] is None):
                shape[k] = plain(extra[k])
    return shape
