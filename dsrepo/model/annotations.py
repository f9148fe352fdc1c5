"""Annotation types.

Every annotation is a small frozen dataclass sharing the common fields
``id``, ``group``, ``label`` (index into ``Categories.labels`` or ``None``),
``z_order``, ``attributes`` (user-visible: ``is_crowd``, ``score``, ``occluded``, …)
and ``meta`` (format-private data kept only for lossless round trips, e.g. COCO's
stored ``area``; transforms that change geometry drop it).

Coordinates are always Python floats (coerced on construction) so the canonical
encoding never depends on whether a file wrote ``1`` or ``1.0``.
Masks hold COCO RLE and decode lazily with pycocotools.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from types import MappingProxyType
from typing import Any, Mapping, Sequence, Union

EMPTY: Mapping[str, Any] = MappingProxyType({})


class AnnType(str, Enum):
    """Names used in the canonical encoding; never renumber or rename."""

    label = "label"
    bbox = "bbox"
    polygon = "polygon"
    polyline = "polyline"
    points = "points"
    mask = "mask"
    caption = "caption"
    ellipse = "ellipse"


class Visibility:
    """Keypoint visibility codes (as in COCO)."""

    absent = 0
    hidden = 1
    visible = 2


def _floats(values: Sequence[Any], what: str) -> tuple[float, ...]:
    out = []
    for v in values:
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"{what}: coordinate is not a finite number: {v!r}")
        out.append(f + 0.0)  # -0.0 -> 0.0
    return tuple(out)


def _frozen_map(m: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not m:
        return EMPTY
    if isinstance(m, MappingProxyType):
        return m
    return MappingProxyType(dict(m))


def _thawed(v: Any) -> Any:
    """``v`` with every mapping proxy in it (at any depth) as a dict: picklable."""
    c = v.__class__
    if c is MappingProxyType or c is dict:
        return {k: _thawed(x) for k, x in v.items()}
    if c is tuple or c is list:
        return c(_thawed(x) for x in v)
    return v


def _rebuilt(cls: type, values: dict[str, Any]) -> Any:
    return cls(**values)


def _hashable(v: Any) -> Any:
    c = v.__class__
    if c is MappingProxyType or c is dict:
        return frozenset((k, _hashable(x)) for k, x in v.items())
    if c is tuple or c is list:
        return tuple(_hashable(x) for x in v)
    return v


def hash_frozen(obj: Any) -> int:
    """``__hash__`` of the model's frozen dataclasses: from their fields, mappings by
    content, so that equal objects hash equal (TypeError for an unhashable value inside,
    e.g. an array in ``meta``)."""
    return hash((obj.__class__.__name__, *(_hashable(getattr(obj, f.name)) for f in fields(obj))))


def reduce_frozen(obj: Any) -> tuple:
    """``__reduce__`` of the model's frozen dataclasses, whose read-only mappings cannot
    be pickled as they are: the object is rebuilt through its constructor from its
    fields, mappings as dicts (so pickling, ``copy`` and ``deepcopy`` work)."""
    return _rebuilt, (obj.__class__, {f.name: _thawed(getattr(obj, f.name)) for f in fields(obj)})


@dataclass(frozen=True, slots=True)
class _Common:
    id: int = 0
    group: int = 0
    label: int | None = None
    z_order: int = 0
    attributes: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    meta: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    def _post(self) -> None:
        object.__setattr__(self, "attributes", _frozen_map(self.attributes))
        object.__setattr__(self, "meta", _frozen_map(self.meta))
        if self.label is not None and (not isinstance(self.label, int) or self.label < 0):
            raise ValueError(f"label index must be a non-negative int, got {self.label!r}")

    def with_(self, **changes: Any):
        """A copy with ``changes`` applied (dataclasses.replace)."""
        return replace(self, **changes)

    __reduce__ = reduce_frozen


@dataclass(frozen=True, slots=True)
class Label(_Common):
    """Image-level class label."""

    type = AnnType.label

    def __post_init__(self) -> None:
        self._post()


@dataclass(frozen=True, slots=True)
class Caption(_Common):
    """Free-text caption."""

    caption: str = ""
    type = AnnType.caption

    def __post_init__(self) -> None:
        self._post()
        if not isinstance(self.caption, str):
            raise ValueError("caption must be a string")


@dataclass(frozen=True, slots=True)
class Bbox(_Common):
    """Axis-aligned box ``x, y, w, h`` (rotation, if any, in attributes['rotation'])."""

    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    type = AnnType.bbox

    def __post_init__(self) -> None:
        self._post()
        x, y, w, h = _floats((self.x, self.y, self.w, self.h), "bbox")
        if w < 0 or h < 0:
            raise ValueError(f"bbox has negative size: w={w}, h={h}")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "w", w)
        object.__setattr__(self, "h", h)

    def get_bbox(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.w, self.h)

    def get_area(self) -> float:
        return self.w * self.h


@dataclass(frozen=True, slots=True)
class Ellipse(_Common):
    """Ellipse inscribed in the box ``(x1, y1)-(x2, y2)``."""

    x1: float = 0.0
    y1: float = 0.0
    x2: float = 0.0
    y2: float = 0.0
    type = AnnType.ellipse

    def __post_init__(self) -> None:
        self._post()
        vals = _floats((self.x1, self.y1, self.x2, self.y2), "ellipse")
        for name, v in zip(("x1", "y1", "x2", "y2"), vals):
            object.__setattr__(self, name, v)

    def get_bbox(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2 - self.x1, self.y2 - self.y1)

    def get_area(self) -> float:
        return math.pi * (self.x2 - self.x1) * (self.y2 - self.y1) / 4.0


def _bbox_of(points: Sequence[float]) -> tuple[float, float, float, float]:
    if not points:
        return (0.0, 0.0, 0.0, 0.0)
    xs = points[0::2]
    ys = points[1::2]
    x0, y0 = min(xs), min(ys)
    return (x0, y0, max(xs) - x0, max(ys) - y0)


@dataclass(frozen=True, slots=True)
class _Shape(_Common):
    points: tuple[float, ...] = ()

    def _post_shape(self) -> None:
        self._post()
        pts = _floats(self.points, self.type.value)
        if len(pts) % 2:
            raise ValueError(f"{self.type.value}: odd number of coordinates ({len(pts)})")
        object.__setattr__(self, "points", pts)

    def get_bbox(self) -> tuple[float, float, float, float]:
        return _bbox_of(self.points)


@dataclass(frozen=True, slots=True)
class Polygon(_Shape):
    """Closed polygon, flat ``x0, y0, x1, y1, …`` (at least 3 points)."""

    type = AnnType.polygon

    def __post_init__(self) -> None:
        self._post_shape()

    def get_area(self) -> float:
        p = self.points
        n = len(p) // 2
        s = 0.0
        for i in range(n):
            j = (i + 1) % n
            s += p[2 * i] * p[2 * j + 1] - p[2 * j] * p[2 * i + 1]
        return abs(s) / 2.0


@dataclass(frozen=True, slots=True)
class Polyline(_Shape):
    """Open polyline, flat ``x0, y0, x1, y1, …``."""

    type = AnnType.polyline

    def __post_init__(self) -> None:
        self._post_shape()


@dataclass(frozen=True, slots=True)
class Points(_Shape):
    """Keypoints, flat coordinates plus one visibility code per point."""

    visibility: tuple[int, ...] = ()
    type = AnnType.points

    def __post_init__(self) -> None:
        self._post_shape()
        n = len(self.points) // 2
        vis = tuple(int(v) for v in self.visibility) if self.visibility else (Visibility.visible,) * n
        if len(vis) != n:
            raise ValueError(f"points: {n} points but {len(vis)} visibility values")
        if any(v not in (0, 1, 2) for v in vis):
            raise ValueError(f"points: visibility must be 0, 1 or 2, got {vis}")
        object.__setattr__(self, "visibility", vis)

    def get_bbox(self) -> tuple[float, float, float, float]:
        vis_pts: list[float] = []
        for i, v in enumerate(self.visibility):
            if v != Visibility.absent:
                vis_pts += self.points[2 * i : 2 * i + 2]
        return _bbox_of(vis_pts)


@dataclass(frozen=True, slots=True)
class Mask(_Common):
    """Binary mask held as COCO RLE ``{"size": [h, w], "counts": str | list[int]}``.

    ``counts`` is kept exactly as given (compressed string or uncompressed list) so a
    COCO round trip writes the same segmentation. Pixels decode lazily via ``image``.
    """

    rle: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    type = AnnType.mask

    def __post_init__(self) -> None:
        self._post()
        rle = self.rle
        size = rle.get("size")
        counts = rle.get("counts")
        if not (isinstance(size, (list, tuple)) and len(size) == 2):
            raise ValueError("mask RLE needs size [h, w]")
        h, w = int(size[0]), int(size[1])
        if isinstance(counts, bytes):
            counts = counts.decode("ascii")
        elif isinstance(counts, (list, tuple)):
            counts = tuple(int(c) for c in counts)
            if sum(counts) != h * w:
                raise ValueError(f"mask RLE counts sum to {sum(counts)}, expected h*w = {h * w}")
        elif not isinstance(counts, str):
            raise ValueError("mask RLE counts must be a string or a list of ints")
        object.__setattr__(self, "rle", MappingProxyType({"size": (h, w), "counts": counts}))

    @classmethod
    def from_array(cls, array: Any, **common: Any) -> "Mask":
        """Build from a 2-D array (non-zero = foreground); stored as compressed RLE."""
        from dsrepo.model import masks

        return cls(rle=masks.encode(array), **common)

    @property
    def size(self) -> tuple[int, int]:
        return self.rle["size"]  # type: ignore[return-value]

    @property
    def is_compressed(self) -> bool:
        return isinstance(self.rle["counts"], str)

    def compressed_rle(self) -> dict:
        """RLE with a compressed ``counts`` string (pycocotools form, bytes counts)."""
        from dsrepo.model import masks

        return masks.compressed(self.rle)

    @property
    def image(self):
        """Decoded ``uint8`` array of shape ``(h, w)`` with values 0/1."""
        from dsrepo.model import masks

        return masks.decode(self.rle)

    def get_area(self) -> float:
        from dsrepo.model import masks

        return float(masks.area(self.rle))

    def get_bbox(self) -> tuple[float, float, float, float]:
        from dsrepo.model import masks

        return masks.bbox(self.rle)


Annotation = Union[Label, Caption, Bbox, Ellipse, Polygon, Polyline, Points, Mask]

ANNOTATION_CLASSES: dict[AnnType, type] = {
    AnnType.label: Label,
    AnnType.caption: Caption,
    AnnType.bbox: Bbox,
    AnnType.ellipse: Ellipse,
    AnnType.polygon: Polygon,
    AnnType.polyline: Polyline,
    AnnType.points: Points,
    AnnType.mask: Mask,
}

for _cls in ANNOTATION_CLASSES.values():  # (set after the dataclass decorator, which adds its own)
    _cls.__hash__ = hash_frozen  # type: ignore[method-assign]
