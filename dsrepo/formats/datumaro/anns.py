"""One Datumaro annotation record to and from a dsrepo annotation."""

from __future__ import annotations

from typing import Any, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.datumaro.cats import join_private, split_private
from dsrepo.formats.datumaro.schema import (
    COMMON_KEYS, PRIVATE, SUPPORTED_TYPES, TYPE_KEYS, TYPE_NAMES, get_dict, get_int, is_int, numbers, show,
    sort_keys,
)
from dsrepo.model.annotations import (
    AnnType, Annotation, Bbox, Caption, Ellipse, Label, Mask, Points, Polygon, Polyline,
)

_RLE_CHARS = frozenset(chr(c) for c in range(48, 112))  # pycocotools' compressed RLE alphabet
_SHAPES = {"polygon": Polygon, "polyline": Polyline}


def type_name(d: Mapping[str, Any], path: object, where: str) -> str:
    """The annotation's type name; numbers are read with Datumaro 1.x's AnnotationType order."""
    t = d.get("type")
    if isinstance(t, str):
        if t not in TYPE_NAMES:
            raise DatasetError(f"unknown annotation type {show(t)}", path, where)
        return t
    if is_int(t):
        if not 0 <= t < len(TYPE_NAMES):
            raise DatasetError(f"unknown annotation type {t}", path, where)
        return TYPE_NAMES[t]
    raise DatasetError(f"type must be an annotation type name, got {show(t)}", path, where)


def is_supported(name: str) -> bool:
    """True if dsrepo has a class for the Datumaro annotation type ``name``."""
    return name in SUPPORTED_TYPES


def _label(d: Mapping[str, Any], n_labels: int, path: object, where: str) -> int | None:
    v = d.get("label_id")
    if v is None:
        return None
    if not is_int(v) or v < 0:
        raise DatasetError(f"label_id must be a non-negative integer, got {show(v)}", path, where)
    if v >= n_labels:
        have = f"{n_labels} labels" if n_labels else "no labels defined"
        raise DatasetError(f"label_id {v} is out of range ({have})", path, where)
    return v


def _runs(s: str) -> list[int] | None:
    """Run lengths of a compressed COCO RLE string (None if it ends mid-number).

    Checked before pycocotools sees the mask: it decodes without bounds checks."""
    runs: list[int] = []
    p, n = 0, len(s)
    while p < n:
        x = k = 0
        while True:
            if p >= n:
                return None
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            p += 1
            k += 1
            if not c & 0x20:
                if c & 0x10:
                    x |= -1 << (5 * k)
                break
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    return runs


def _rle(d: Mapping[str, Any], path: object, where: str) -> dict:
    rle = d.get("rle")
    if not isinstance(rle, dict):
        raise DatasetError(f"rle must be an object with counts and size, got {show(rle)}", path, where)
    size, counts = rle.get("size"), rle.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(is_int(v) and v >= 0 for v in size)):
        raise DatasetError(f"rle.size must be [height, width], got {show(size)}", path, where)
    if not isinstance(counts, str) or not set(counts) <= _RLE_CHARS:
        raise DatasetError(f"rle.counts must be a compressed COCO RLE string, got {show(counts)}", path, where)
    runs = _runs(counts)
    if runs is None or any(r < 0 for r in runs) or sum(runs) != size[0] * size[1]:
        got = "a malformed string" if runs is None else f"runs summing to {sum(runs)}"
        raise DatasetError(f"rle.counts does not describe a {size[0]}x{size[1]} mask ({got})", path, where)
    out = {"size": size, "counts": counts}
    form = get_dict(d, PRIVATE, path, where).get("rle_counts")
    if form == "uncompressed":
        from dsrepo.model import masks

        out["counts"] = masks.uncompressed_counts(out)
    elif isinstance(form, list):
        out["counts"] = form
    return out


def ann_from_json(d: Mapping[str, Any], t: str, n_labels: int, path: object, where: str) -> Annotation:
    """Build the dsrepo annotation of supported type ``t`` from record ``d``.

    Unknown keys go to ``meta["datumaro"]["x"]``; the private ``dsrepo`` key restores
    other meta and the original form of uncompressed mask counts."""
    common: dict[str, Any] = dict(
        id=get_int(d, "id", 0, path, where), group=get_int(d, "group", 0, path, where),
        label=_label(d, n_labels, path, where), z_order=get_int(d, "z_order", 0, path, where),
        attributes=get_dict(d, "attributes", path, where),
        meta=split_private(d, COMMON_KEYS + TYPE_KEYS[t], path, where),
    )
    try:
        if t == "label":
            return Label(**common)
        if t == "caption":
            cap = d.get("caption")
            if not isinstance(cap, str):
                raise DatasetError(f"caption must be a string, got {show(cap)}", path, where)
            return Caption(caption=cap, **common)
        if t == "bbox":
            x, y, w, h = numbers(d.get("bbox"), "bbox", path, where, count=4)
            return Bbox(x=x, y=y, w=w, h=h, **common)
        if t == "ellipse":
            x1, y1, x2, y2 = numbers(d.get("points"), "points", path, where, count=4)
            return Ellipse(x1=x1, y1=y1, x2=x2, y2=y2, **common)
        if t == "mask":
            return Mask(rle=_rle(d, path, where), **common)
        pts = numbers(d.get("points"), "points", path, where, even=True)
        if t == "points":
            vis = d.get("visibility")
            if vis is not None and (not isinstance(vis, list) or not all(is_int(v) for v in vis)):
                raise DatasetError(f"visibility must be a list of integers, got {show(vis)}", path, where)
            return Points(points=pts, visibility=tuple(vis or ()), **common)
        return _SHAPES[t](points=pts, **common)
    except ValueError as e:  # geometry checks of the model classes
        raise DatasetError(str(e), path, where) from None


def _rle_json(ann: Mask) -> tuple[dict, Any]:
    """The compressed ``rle`` record, and how to restore uncompressed counts from it
    (None when the mask already holds a compressed string)."""
    size = [int(v) for v in ann.rle["size"]]
    counts = ann.rle["counts"]
    if isinstance(counts, str):
        return {"counts": counts, "size": size}, None
    from dsrepo.model import masks

    compact = masks.compressed(ann.rle)["counts"].decode("ascii")
    same = masks.uncompressed_counts({"size": size, "counts": compact}) == list(counts)
    return {"counts": compact, "size": size}, ("uncompressed" if same else list(counts))


def ann_to_json(ann: Annotation) -> dict:
    """The Datumaro record of ``ann``: the keys Datumaro writes for the type, plus
    label_id/z_order where Datumaro has none but dsrepo holds a value, unknown keys
    and the private ``dsrepo`` key."""
    t = ann.type
    out: dict[str, Any] = {"id": ann.id, "type": t.value, "attributes": sort_keys(ann.attributes),
                           "group": ann.group}
    rle_form = None
    if t is AnnType.label or t is AnnType.caption:
        if t is AnnType.label or ann.label is not None:
            out["label_id"] = ann.label
        if ann.z_order:
            out["z_order"] = ann.z_order
        if t is AnnType.caption:
            out["caption"] = ann.caption  # type: ignore[union-attr]
        return join_private(out, ann.meta)
    out["label_id"] = ann.label
    if t is AnnType.mask:
        out["rle"], rle_form = _rle_json(ann)  # type: ignore[arg-type]
        out["z_order"] = ann.z_order
    elif t is AnnType.bbox:
        out["z_order"] = ann.z_order
        out["bbox"] = [ann.x, ann.y, ann.w, ann.h]  # type: ignore[union-attr]
    elif t is AnnType.ellipse:
        out["points"] = [ann.x1, ann.y1, ann.x2, ann.y2]  # type: ignore[union-attr]
        out["z_order"] = ann.z_order
    else:
        out["points"] = list(ann.points)  # type: ignore[union-attr]
        out["z_order"] = ann.z_order
        if t is AnnType.points:
            out["visibility"] = list(ann.visibility)  # type: ignore[union-attr]
    return join_private(out, ann.meta, rle_counts=rle_form)


__all__ = ["type_name", "is_supported", "ann_from_json", "ann_to_json"]
