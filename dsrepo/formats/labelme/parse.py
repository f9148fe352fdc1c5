"""Reading one LabelMe JSON file: validation with precise errors, file-level fields,
and shapes turned into annotations (label names resolved later by the importer).

Round-trip data (see docs/formats/labelme.md) lives under ``meta["labelme"]``:

item.meta["labelme"]
    ``v`` the file's ``version`` (None when absent), ``x`` unknown top-level keys,
    ``ip`` ``imagePath`` exactly as written when it differs from the path the exporter
    would write, ``img`` the base64 ``imageData`` of an image that has no file.
annotation.meta["labelme"]
    ``p`` the points exactly as written when they differ from the exporter's points
    for the annotation (order, redundant corners, circle rim point, mask box),
    ``int`` when they were written as integers, ``st`` a ``shape_type`` other than
    the default one (``line``; ``points`` holding one point), ``g0`` for
    ``group_id: 0``, ``d`` a description that a flag named ``description`` displaced,
    ``x`` unknown shape keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import orjson

from dsrepo.errors import DatasetError
from dsrepo.formats.labelme import geometry, masks
from dsrepo.model.annotations import Annotation

NS = "labelme"
TOP_KEYS = ("version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth")
SHAPE_KEYS = ("label", "points", "group_id", "description", "shape_type", "flags", "mask")


@dataclass(frozen=True, slots=True)
class Header:
    """File-level fields of a LabelMe file."""

    version: Any
    flags: Mapping[str, Any]
    image_path: str | None
    image_data: str | None
    size: tuple[int, int] | None
    extra: Mapping[str, Any]


def read_json(path: Path) -> dict:
    """The JSON object in ``path``; DatasetError for unreadable, non-JSON or non-object files."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"cannot read file: {e.strerror}", path) from None
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise DatasetError(f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})", path) from None
    if not isinstance(doc, dict):
        raise DatasetError("expected a JSON object at the top level", path)
    return doc


def _int_or_none(doc: Mapping[str, Any], key: str, path: Path) -> int | None:
    v = doc.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise DatasetError(f"{key!r} must be a positive integer or null, got {v!r}", path)
    return v


def parse_header(doc: Mapping[str, Any], path: Path) -> Header:
    """Validate and extract everything but the shapes."""
    if "shapes" not in doc:
        raise DatasetError("missing 'shapes' (not a labelme file?)", path)
    if not isinstance(doc["shapes"], list):
        raise DatasetError("'shapes' must be a list", path)
    flags = doc.get("flags")
    if flags is None:
        flags = {}
    elif not isinstance(flags, dict):
        raise DatasetError("'flags' must be an object", path)
    image_path = doc.get("imagePath")
    if image_path is not None and not isinstance(image_path, str):
        raise DatasetError(f"'imagePath' must be a string or null, got {image_path!r}", path)
    image_data = doc.get("imageData")
    if image_data is not None and not isinstance(image_data, str):
        raise DatasetError("'imageData' must be a base64 string or null", path)
    h = _int_or_none(doc, "imageHeight", path)
    w = _int_or_none(doc, "imageWidth", path)
    extra = {k: v for k, v in doc.items() if k not in TOP_KEYS}
    return Header(doc.get("version"), flags, image_path, image_data or None,
                  (h, w) if h is not None and w is not None else None, extra)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _points(raw: Any, path: Path, where: str) -> list[tuple[float, float]]:
    if not isinstance(raw, list):
        raise DatasetError("'points' must be a list of [x, y] pairs", path, where)
    out = []
    for j, p in enumerate(raw):
        if not (isinstance(p, list) and len(p) == 2 and _is_number(p[0]) and _is_number(p[1])):
            text = repr(p)
            text = text if len(text) <= 40 else text[:37] + "..."
            raise DatasetError(f"points[{j}] is not a pair of finite numbers: {text}", path, where)
        out.append((float(p[0]), float(p[1])))
    return out


def _common(shape: Mapping[str, Any], path: Path, where: str) -> tuple[int, dict, dict]:
    """``(group, attributes, meta)`` from group_id, flags, description and unknown keys."""
    meta: dict[str, Any] = {}
    gid = shape.get("group_id")
    if gid is not None and (isinstance(gid, bool) or not isinstance(gid, int)):
        raise DatasetError(f"'group_id' must be an integer or null, got {gid!r}", path, where)
    if gid == 0:
        meta["g0"] = 1
    flags = shape.get("flags")
    if flags is None:
        flags = {}
    elif not isinstance(flags, dict):
        raise DatasetError("'flags' must be an object", path, where)
    attrs = dict(flags)
    desc = shape.get("description")
    if desc is not None and not isinstance(desc, str):
        raise DatasetError(f"'description' must be a string or null, got {desc!r}", path, where)
    if desc:
        if "description" in attrs:
            meta["d"] = desc
        else:
            attrs["description"] = desc
    extra = {k: v for k, v in shape.items() if k not in SHAPE_KEYS}
    if shape.get("mask") is not None and shape.get("shape_type") != "mask":
        extra["mask"] = shape["mask"]
    if extra:
        meta["x"] = extra
    return gid or 0, attrs, meta


def _note_points(meta: dict, raw: Any, canon: list[list[float]]) -> None:
    kind = geometry.same_numbers(raw, canon)
    if kind == "int":
        meta["int"] = 1
    elif kind is None:
        meta["p"] = raw


def parse_shape(shape: Any, path: Path, where: str,
                size: tuple[int, int] | None) -> tuple[str | None, Annotation]:
    """``(label name or None for "", annotation without label)`` of one shape."""
    if not isinstance(shape, dict):
        raise DatasetError("expected an object", path, where)
    if "label" not in shape:
        raise DatasetError("missing 'label'", path, where)
    label = shape["label"]
    if not isinstance(label, str):
        raise DatasetError(f"'label' must be a string, got {label!r}", path, where)
    st = shape.get("shape_type")
    if st is None:
        st = "polygon"
    if not isinstance(st, str) or st not in geometry.SHAPE_TYPES:
        raise DatasetError(f"unsupported shape_type {st!r} (expected one of {', '.join(geometry.SHAPE_TYPES)})",
                           path, where)
    if "points" not in shape:
        raise DatasetError("missing 'points'", path, where)
    raw = shape["points"]
    pts = _points(raw, path, where)
    err = geometry.count_error(st, len(pts))
    if err:
        raise DatasetError(err, path, where)
    group, attrs, meta = _common(shape, path, where)
    common: dict[str, Any] = dict(group=group, attributes=attrs)
    if st == "mask":
        ann, canon = _mask(shape, pts, size, path, where, common)
    else:
        ann = geometry.build(st, pts, **common)
        ctype, canon = geometry.canonical(ann)  # type: ignore[misc]
        if ctype != st:
            meta["st"] = st
    _note_points(meta, raw, canon)
    if meta:
        ann = ann.with_(meta={NS: meta})
    return (label or None), ann


def _mask(shape: Mapping[str, Any], pts, size, path: Path, where: str,
          common: dict) -> tuple[Annotation, list[list[float]]]:
    data = shape.get("mask")
    if not isinstance(data, str) or not data:
        raise DatasetError("mask shape needs a base64 PNG in 'mask'", path, where)
    if size is None:
        raise DatasetError("mask shape needs the image size (imageHeight/imageWidth or a readable image)",
                           path, where)
    try:
        crop = masks.decode_png_b64(data)
    except masks.MaskDataError as e:
        raise DatasetError(str(e), path, where) from None
    x1, y1, _x2, _y2 = masks.int_corners(pts)
    full = masks.place_array(crop, (x1, y1), size)
    box = masks.tight_box(full)
    canon = [[0.0, 0.0], [0.0, 0.0]] if box is None else [[float(box[0]), float(box[1])],
                                                           [float(box[2]), float(box[3])]]
    from dsrepo.model.annotations import Mask

    return Mask.from_array(full, **common), canon


def parse_shapes(doc: Mapping[str, Any], path: Path,
                 size: tuple[int, int] | None) -> list[tuple[str | None, Annotation]]:
    """Every shape of a validated document, in file order."""
    return [parse_shape(s, path, f"shapes[{i}]", size) for i, s in enumerate(doc["shapes"])]
