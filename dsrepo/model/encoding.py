"""Canonical, deterministic encoding of items and categories, and content hashes.

The encoding is JSON produced by orjson with sorted keys and no whitespace. Numbers
are normalised before encoding: coordinates are floats (coerced by the annotation
classes), ``-0.0`` becomes ``0.0``, NaN/inf are rejected, numpy scalars become
Python numbers, tuples become lists. orjson writes floats as the shortest string
that round-trips (a property of the value, not of the machine), so the same content
gives the same bytes - and the same hash - on any machine and run.

The encoding is also the repository's storage format: :func:`decode_item` inverts
:func:`encode_item` exactly. Default-valued fields are omitted to keep objects small.

Hash: BLAKE2b with a 20-byte digest, hex encoded (40 characters).
"""

from __future__ import annotations

import hashlib
from types import MappingProxyType
from typing import Any, Callable, Mapping

import orjson

from dsrepo.model.annotations import (
    ANNOTATION_CLASSES,
    EMPTY,
    AnnType,
    Annotation,
    Bbox,
    Caption,
    Ellipse,
    Label,
    Mask,
    Points,
)
from dsrepo.model.categories import Categories, LabelCategory, PointsCategory
from dsrepo.model.item import Item
from dsrepo.model.media import Image

ENCODING_VERSION = 1
_OPTS = orjson.OPT_SORT_KEYS

ChecksumFn = Callable[[Image], "str | None"]


class _Bad(ValueError):
    """A value that cannot be stored; ``path`` is the key path below the value normalised."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg
        self.path: tuple[str, ...] = ()


def _n(value: Any) -> Any:
    """:func:`_norm` without the error context: exact-type fast paths first (this runs
    for every attribute and meta value of every item), the general cases after."""
    t = value.__class__
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        if value - value != 0.0:  # NaN or infinity
            raise _Bad(f"non-finite number {value!r}")
        return value + 0.0  # -0.0 -> 0.0
    if t is dict or t is MappingProxyType:
        out = {}
        for k, v in value.items():
            if k.__class__ is not str and not isinstance(k, str):
                raise _Bad(f"key {k!r} is not a string")
            c = v.__class__
            if c is str or c is int or (c is float and v - v == 0.0 and v != 0.0):
                out[k] = v  # the common plain values, inline
                continue
            if c is list:  # lists of plain numbers (boxes, point lists), inline
                lst = []
                for x in v:
                    cx = x.__class__
                    if cx is float and x - x == 0.0:
                        lst.append(x + 0.0)
                    elif cx is int or cx is str:
                        lst.append(x)
                    else:
                        break
                else:
                    out[k] = lst
                    continue
            try:
                out[k] = _n(v)
            except _Bad as e:
                e.path = (k, *e.path)
                raise
        return out
    if t is list or t is tuple:
        out_l = []
        for v in value:
            c = v.__class__
            if c is float and v - v == 0.0:
                out_l.append(v + 0.0)
            elif c is int or c is str:
                out_l.append(v)
            else:
                out_l.append(_n(v))
        return out_l
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _n(float(value))
    if isinstance(value, Mapping):
        return _n(dict(value))
    if isinstance(value, (list, tuple)):
        return [_n(v) for v in value]
    # numpy scalars and arrays
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return _n(item())
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return _n(tolist())
    raise _Bad(f"value of type {type(value).__name__} cannot be stored")


def _norm(value: Any, where: str) -> Any:
    """Normalise an attribute/meta value into plain JSON types (ValueError naming
    ``where`` and the key path for values that cannot be stored)."""
    try:
        return _n(value)
    except _Bad as e:
        raise ValueError(f"{where}{''.join('.' + k for k in e.path)}: {e.msg}") from None


def plain_value(value: Any, where: str) -> Any:
    """``value`` (an attribute or meta value) in the plain JSON form the canonical
    encoding stores; ValueError naming ``where`` and the key path for a value that
    cannot be stored."""
    return _norm(value, where)


def _default_checksum(image: Image) -> str | None:
    if image.md5 is not None or image.path is not None:
        return image.checksum()
    if image.data is not None:
        import numpy as np

        arr = np.ascontiguousarray(image.data)
        h = hashlib.md5(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.tobytes())
        return h.hexdigest()
    return None


def annotation_to_dict(ann: Annotation) -> dict:
    """Plain-dict form of one annotation (the canonical encoding's building block)."""
    t = ann.type
    d: dict[str, Any] = {"t": t.value}
    if ann.id:
        d["id"] = ann.id
    if ann.group:
        d["g"] = ann.group
    if ann.label is not None:
        d["l"] = ann.label
    if ann.z_order:
        d["z"] = ann.z_order
    if ann.attributes:
        d["a"] = _norm(ann.attributes, "attributes")
    if ann.meta:
        d["m"] = _norm(ann.meta, "meta")
    if t is AnnType.bbox:
        d["b"] = [ann.x, ann.y, ann.w, ann.h]  # type: ignore[union-attr]
    elif t is AnnType.polygon or t is AnnType.polyline:
        d["p"] = ann.points  # type: ignore[union-attr]
    elif t is AnnType.points:
        d["p"] = ann.points  # type: ignore[union-attr]
        d["v"] = ann.visibility  # type: ignore[union-attr]
    elif t is AnnType.mask:
        rle = ann.rle  # type: ignore[union-attr]
        d["r"] = {"size": list(rle["size"]), "counts": rle["counts"]}
    elif t is AnnType.caption:
        d["c"] = ann.caption  # type: ignore[union-attr]
    elif t is AnnType.ellipse:
        d["e"] = [ann.x1, ann.y1, ann.x2, ann.y2]  # type: ignore[union-attr]
    return d


_SET = object.__setattr__
_FLOAT = {float}
_INT = {int}
_VISIBILITY = {0, 1, 2}
_TYPES = {t.value: t for t in AnnType}


def _built(cls: type, d: Mapping[str, Any]) -> Any:
    """An annotation of ``cls`` made without its validating constructor, common fields
    from canonical data ``d``; the caller sets the others (already valid)."""
    obj = object.__new__(cls)
    _SET(obj, "id", d.get("id", 0))
    _SET(obj, "group", d.get("g", 0))
    _SET(obj, "label", d.get("l"))
    _SET(obj, "z_order", d.get("z", 0))
    a = d.get("a")
    _SET(obj, "attributes", MappingProxyType(dict(a)) if a else EMPTY)
    m = d.get("m")
    _SET(obj, "meta", MappingProxyType(dict(m)) if m else EMPTY)
    return obj


def annotation_from_dict(d: Mapping[str, Any]) -> Annotation:
    """Inverse of :func:`annotation_to_dict`. Labels, captions, boxes, polygons,
    polylines and points in canonical form (coordinates all floats, as the encoding
    writes them; visibility codes 0-2) skip the constructor's checks; anything else is
    built - and checked - as usual."""
    t = _TYPES.get(d["t"]) or AnnType(d["t"])
    label = d.get("l")
    if label is None or label.__class__ is int and label >= 0:
        if t is AnnType.bbox:
            b = d["b"]
            if len(b) == 4 and {*map(type, b)} == _FLOAT and b[2] >= 0 and b[3] >= 0:
                obj = _built(Bbox, d)
                _SET(obj, "x", b[0])
                _SET(obj, "y", b[1])
                _SET(obj, "w", b[2])
                _SET(obj, "h", b[3])
                return obj
        elif t is AnnType.polygon or t is AnnType.polyline:
            pts = tuple(d["p"])
            if not len(pts) % 2 and {*map(type, pts)} <= _FLOAT:
                obj = _built(ANNOTATION_CLASSES[t], d)
                _SET(obj, "points", pts)
                return obj
        elif t is AnnType.points:
            pts, vis = tuple(d["p"]), tuple(d.get("v") or ())
            if len(pts) == 2 * len(vis) and {*map(type, pts)} <= _FLOAT and {*vis} <= _VISIBILITY \
                    and {*map(type, vis)} <= _INT:
                obj = _built(Points, d)
                _SET(obj, "points", pts)
                _SET(obj, "visibility", vis)
                return obj
        elif t is AnnType.caption:
            c = d.get("c")
            if c.__class__ is str:
                obj = _built(Caption, d)
                _SET(obj, "caption", c)
                return obj
        elif t is AnnType.label:
            return _built(Label, d)
    common = dict(
        id=d.get("id", 0), group=d.get("g", 0), label=d.get("l"), z_order=d.get("z", 0),
        attributes=d.get("a") or {}, meta=d.get("m") or {},
    )
    if t is AnnType.bbox:
        x, y, w, h = d["b"]
        return Bbox(x=x, y=y, w=w, h=h, **common)
    if t is AnnType.points:
        return Points(points=d["p"], visibility=d["v"], **common)
    if t is AnnType.polygon or t is AnnType.polyline:
        return ANNOTATION_CLASSES[t](points=d["p"], **common)
    if t is AnnType.mask:
        return Mask(rle=d["r"], **common)
    if t is AnnType.caption:
        return Caption(caption=d["c"], **common)
    if t is AnnType.ellipse:
        x1, y1, x2, y2 = d["e"]
        return Ellipse(x1=x1, y1=y1, x2=x2, y2=y2, **common)
    return ANNOTATION_CLASSES[t](**common)


def media_to_dict(image: Image, md5: str | None) -> dict:
    """Plain-dict form of an item's image, recorded with content checksum ``md5``."""
    md: dict[str, Any] = {}
    if md5 is not None:
        md["md5"] = md5
    if image.size is not None:
        md["size"] = list(image.size)
    if image.name is not None:
        md["name"] = image.name
    return md


def item_to_dict(item: Item, checksum: ChecksumFn | None = None) -> dict:
    """Plain-dict form of an item; media is recorded by content checksum, size and name."""
    d: dict[str, Any] = {"id": item.id, "s": item.subset}
    m = item.media
    if m is not None:
        d["media"] = media_to_dict(m, (checksum or _default_checksum)(m))
    if item.annotations:
        d["anns"] = [annotation_to_dict(a) for a in item.annotations]
    if item.attributes:
        d["a"] = _norm(item.attributes, f"item {item.id}: attributes")
    if item.meta:
        d["m"] = _norm(item.meta, f"item {item.id}: meta")
    return d


MediaResolver = Callable[[Mapping[str, Any]], "str | None"]


def item_from_dict(d: Mapping[str, Any], resolve_media: MediaResolver | None = None) -> Item:
    """Inverse of :func:`item_to_dict`. ``resolve_media(media_dict)`` gives the file path."""
    media = None
    md = d.get("media")
    if md is not None:
        path = resolve_media(md) if resolve_media else None
        size = md.get("size")
        media = Image(path=path, size=tuple(size) if size else None, name=md.get("name"), md5=md.get("md5"))
    return Item(
        id=d["id"], subset=d["s"], media=media,
        annotations=tuple(annotation_from_dict(a) for a in d.get("anns", ())),
        attributes=d.get("a") or {}, meta=d.get("m") or {},
    )


def encode_item(item: Item, checksum: ChecksumFn | None = None) -> bytes:
    """Canonical bytes of an item."""
    return orjson.dumps(item_to_dict(item, checksum), option=_OPTS)


def decode_item(data: bytes, resolve_media: MediaResolver | None = None) -> Item:
    """Item from canonical bytes."""
    return item_from_dict(orjson.loads(data), resolve_media)


def categories_to_dict(cats: Categories) -> dict:
    """Plain-dict form of categories."""
    labels = []
    for lab in cats.labels:
        ld: dict[str, Any] = {"name": lab.name}
        if lab.parent:
            ld["parent"] = lab.parent
        if lab.attributes:
            ld["attrs"] = list(lab.attributes)
        if lab.meta:
            ld["m"] = _norm(lab.meta, f"label {lab.name}: meta")
        labels.append(ld)
    d: dict[str, Any] = {"labels": labels}
    if cats.points:
        d["points"] = [
            [int(k), list(pc.labels), [list(j) for j in pc.joints]] for k, pc in sorted(cats.points.items())
        ]
    if cats.colormap:
        d["colors"] = [[int(k), list(v)] for k, v in sorted(cats.colormap.items())]
    if cats.attributes:
        d["attrs"] = list(cats.attributes)
    return d


def categories_from_dict(d: Mapping[str, Any]) -> Categories:
    """Inverse of :func:`categories_to_dict`."""
    labels = tuple(
        LabelCategory(name=ld["name"], parent=ld.get("parent", ""), attributes=tuple(ld.get("attrs", ())),
                      meta=ld.get("m") or {})
        for ld in d.get("labels", ())
    )
    points = {int(k): PointsCategory(labels=tuple(n), joints=tuple(tuple(j) for j in js))
              for k, n, js in d.get("points", ())}
    colormap = {int(k): tuple(v) for k, v in d.get("colors", ())}
    return Categories(labels=labels, points=points, colormap=colormap, attributes=tuple(d.get("attrs", ())))


def encode_categories(cats: Categories) -> bytes:
    """Canonical bytes of categories."""
    return orjson.dumps(categories_to_dict(cats), option=_OPTS)


def decode_categories(data: bytes) -> Categories:
    """Categories from canonical bytes."""
    return categories_from_dict(orjson.loads(data))


def content_hash(data: bytes) -> str:
    """40-hex-digit BLAKE2b digest of ``data``."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def item_hash(item: Item, checksum: ChecksumFn | None = None) -> str:
    """Content hash of an item's canonical encoding."""
    return content_hash(encode_item(item, checksum))


def categories_hash(cats: Categories) -> str:
    """Content hash of the categories' canonical encoding."""
    return content_hash(encode_categories(cats))
