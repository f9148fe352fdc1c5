"""Polygon parts of a COCO segmentation, decoded on first use.

Importing a train2017-sized file builds ~1.7 million polygon parts; turning every
segmentation's JSON into float tuples (and fingerprinting them) was about half of the
import. A :class:`LazyPolygon` is a :class:`~dsrepo.model.annotations.Polygon` whose
``points`` slot holds ``(segmentation, part number)`` until ``points`` or ``meta`` is
first read: then the record's segmentation (and bbox) is decoded and checked once for all its
parts, the geometry fingerprint (``g``) and integer spelling (``ints``) are added to the
lead part's COCO meta, and the object becomes a plain ``Polygon`` (same slots, its class
switched), equal in every way to one built eagerly.

Equality, hashing, ``repr``, copying, pickling and ``dataclasses.replace`` decode first,
so a lazy part is indistinguishable from a plain one except by ``type()``. A malformed
segmentation raises DatasetError (file and annotation id) when it is first read.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence, Union

import msgspec
import orjson

from dsrepo.errors import DatasetError
from dsrepo.formats.coco.meta import fp_bytes, int_spec
from dsrepo.formats.coco.parse import UNSET, _loads_lenient, check_bbox, check_segmentation
from dsrepo.model.annotations import Polygon, _Common, _Shape

_POINTS = _Shape.__dict__["points"]  # the slot descriptors, bypassing LazyPolygon's properties
_META = _Common.__dict__["meta"]
_POLY = msgspec.json.Decoder(list[tuple[float, ...]])
_NUMS = msgspec.json.Decoder(list[Union[int, float]])
_ANY = msgspec.json.Decoder()
_JSON_NUMBERS = b"0123456789.,-[]"


def bbox_values(raw: Any) -> tuple[list | None, str | None]:
    """A record's bbox JSON as given (ints stay ints), or ``(None, error message)``."""
    try:
        v = _NUMS.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        v = None
    if v is None or len(v) != 4 or v[2] < 0 or v[3] < 0:
        return None, check_bbox(v if v is not None else _loads_lenient(raw)) or "invalid bbox"
    return v, None


def decode_polygons(raw: bytes) -> tuple[list, str | None]:
    """The parts of polygon segmentation JSON ``raw`` as float tuples (``-0.0`` as
    ``0.0``), or ``([], error message)`` if it is not a list of even-length lists of numbers."""
    try:
        parts = _POLY.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        try:
            v = _ANY.decode(raw)
        except msgspec.DecodeError:
            v = None
        return [], check_segmentation(v) or "invalid segmentation"
    for k, p in enumerate(parts):
        if len(p) % 2:
            return [], f"segmentation polygon {k} has an odd number of coordinates ({len(p)})"
    if b"-0" in raw:  # the model stores -0.0 as 0.0
        parts = [tuple(v + 0.0 for v in p) for p in parts]
    return parts, None


def note_polygons(raw: bytes, parts: list, m: dict) -> None:
    """Record in COCO meta ``m`` the geometry fingerprint of ``parts`` and which numbers
    of their JSON ``raw`` were integers."""
    m["g"] = fp_bytes(orjson.dumps(parts))
    spec = int_spec(raw)
    if spec is not None:
        m["ints"] = {"segmentation": spec}


class Segmentation:
    """One record's polygon segmentation as raw JSON (``[[...], ...]``) and its bbox JSON
    (None if the record has none), decoded once."""

    __slots__ = ("raw", "count", "bbox", "path", "number", "record_id", "lead_meta", "_parts", "_plain")

    def __init__(self, raw: bytes, count: int, bbox: bytes | None, path: Any, number: int, record_id: Any,
                 lead_meta: dict) -> None:
        self.raw = raw
        self.count = count
        self.bbox = bbox
        self.path = path
        self.number = number  # the record's position and id, for error messages
        self.record_id = record_id
        self.lead_meta = lead_meta
        self._parts: list | None = None
        self._plain: bool | None = None

    def plain(self) -> bool:
        """Whether ``raw`` can be copied into an export as it is: compact JSON of plain
        decimal numbers (no whitespace, exponents or ``-0``, which the decoded form
        would spell differently). Numbers keep their spelling in the source file (a
        writer that prints ``1.50`` or 17 digits is copied, not re-spelled)."""
        if self._plain is None:
            raw = self.raw
            self._plain = not raw.translate(None, _JSON_NUMBERS) and b"-0" not in raw
        return self._plain

    def meta(self) -> dict:
        """The lead part's COCO meta with the record's ``bbox`` (decoded on first use)."""
        m = self.lead_meta
        if self.bbox is not None and "bbox" not in m:
            v, msg = bbox_values(self.bbox)
            if msg is not None:
                raise self._error(msg)
            m["bbox"] = v
        return m

    def _error(self, msg: str) -> DatasetError:
        where = f"annotation id {self.record_id}" if self.record_id is not UNSET else f"annotation #{self.number}"
        return DatasetError(msg, self.path, where)

    def parts(self) -> list:
        """The parts as float tuples (``-0.0`` as ``0.0``); sets ``g`` and ``ints`` in the
        lead part's COCO meta. DatasetError if the JSON is not a list of even-length
        lists of numbers."""
        if self._parts is not None:
            return self._parts
        raw = self.raw
        parts, msg = decode_polygons(raw)
        if msg is not None:
            raise self._error(msg)
        if len(parts) != self.count:
            raise self._error("invalid segmentation")
        note_polygons(raw, parts, self.meta())
        self._parts = parts
        return parts


def _load(p: "LazyPolygon") -> None:
    if p.__class__ is LazyPolygon:
        seg, k = _POINTS.__get__(p)
        pts = seg.parts()[k]
        if p.__class__ is LazyPolygon:  # (another thread may have finished first)
            _POINTS.__set__(p, pts)
            object.__setattr__(p, "__class__", Polygon)


class LazyPolygon(Polygon):
    """A Polygon part whose points are decoded on first use (see the module docstring)."""

    __slots__ = ()

    @property  # type: ignore[override]
    def points(self) -> tuple[float, ...]:
        _load(self)
        return _POINTS.__get__(self)

    @property  # type: ignore[override]
    def meta(self):
        _load(self)
        return _META.__get__(self)

    def __eq__(self, other: object) -> bool:
        _load(self)
        return self == other

    def __hash__(self) -> int:
        _load(self)
        return hash(self)

    def __repr__(self) -> str:
        _load(self)
        return repr(self)

    def __reduce_ex__(self, protocol):  # type: ignore[override]
        _load(self)
        return self.__reduce_ex__(protocol)

    def __copy__(self) -> Polygon:
        _load(self)
        return copy.copy(self)

    def __deepcopy__(self, memo: dict) -> Polygon:
        _load(self)
        return copy.deepcopy(self, memo)


def peek_meta(a: Any) -> Mapping[str, Any]:
    """``a.meta`` without decoding a lazy part (its lead's ``g``/``ints`` may be missing)."""
    return _META.__get__(a) if a.__class__ is LazyPolygon else a.meta


def unread_segmentation(polys: Sequence[Any]) -> tuple[bytes, Mapping[str, Any]] | None:
    """``(segmentation JSON, lead part's meta)`` when ``polys`` are all the parts of one
    imported segmentation, in order, none read yet, and its JSON is spelled as the writer
    would write it (:meth:`Segmentation.plain`); else None. The exporter then copies the
    JSON (and the record's area and bbox, which still describe it) without decoding."""
    first = polys[0]
    if first.__class__ is not LazyPolygon:
        return None
    seg, k = _POINTS.__get__(first)
    if k != 0 or len(polys) != seg.count:
        return None
    for j in range(1, len(polys)):
        p = polys[j]
        if p.__class__ is not LazyPolygon or _POINTS.__get__(p) != (seg, j):
            return None
    if not seg.plain():
        return None
    seg.meta()
    return seg.raw, _META.__get__(first)


def lazy_parts(raw: bytes, count: int, bbox: bytes | None, ctx: Any, i: int, a: Any, aid: int, group: int, label: int | None,
               attrs: Any, lead_meta_proxy: Any, lead_meta: dict, part_meta: Any, setters: tuple) -> list:
    """``count`` LazyPolygon parts of segmentation ``raw`` (record ``a``, number ``i``, its
    bbox JSON ``bbox``):
    the first with ``lead_meta_proxy`` (wrapping ``lead_meta``, which gets ``g``/``ints``
    when decoded), the rest with ``part_meta``. ``setters`` are Polygon's slot setters
    in field order (see :func:`dsrepo.formats.coco.annconv.fast_polygon`)."""
    seg = Segmentation(raw, count, bbox, ctx.pf.path, i, a.id, lead_meta)
    s_id, s_group, s_label, s_z, s_attrs, s_meta, s_points = setters
    new = object.__new__
    out = []
    meta = lead_meta_proxy
    for k in range(count):
        p = new(LazyPolygon)
        s_id(p, aid)
        s_group(p, group)
        s_label(p, label)
        s_z(p, 0)
        s_attrs(p, attrs)
        s_meta(p, meta)
        s_points(p, (seg, k))
        out.append(p)
        meta = part_meta
    return out
