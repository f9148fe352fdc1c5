"""Parse CVAT shape elements (box, polygon, polyline, points, ellipse, mask, tag)
into annotations. Shared by ``<image>`` children and ``<track>`` children."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dsrepo.errors import DatasetError
from dsrepo.formats.cvat.meta import NS, typed_value
from dsrepo.formats.cvat.xmlsafe import where
from dsrepo.model.annotations import Bbox, Ellipse, Label, Mask, Points, Polygon, Polyline

SHAPES = ("box", "polygon", "polyline", "points", "ellipse", "mask")
_COMMON = ("label", "occluded", "z_order", "group_id", "source")
_OWN = {
    "box": ("xtl", "ytl", "xbr", "ybr", "rotation"),
    "polygon": ("points",), "polyline": ("points",), "points": ("points",),
    "ellipse": ("cx", "cy", "rx", "ry", "rotation"),
    "mask": ("rle", "left", "top", "width", "height"),
    "tag": (),
}
TRACK_KEYS = ("frame", "keyframe", "outside")


@dataclass(frozen=True, slots=True)
class ShapeCtx:
    """What parsing a shape needs: the file, label lookup, attribute spec lookup,
    the image size ``(h, w)`` (for masks) and a warning counter."""

    path: Path
    label_index: Callable[[str, Any], int]
    spec: Callable[[int, str], Any]
    size: tuple[int, int] | None
    count: Callable[[str], None]


def number(el, key: str, path: Path, default: str | None = None) -> float:
    """The float XML attribute ``key`` of ``el``; DatasetError if missing or not a number."""
    raw = el.get(key, default)
    if raw is None:
        raise DatasetError(f"missing attribute {key!r}", path, where(el))
    try:
        v = float(raw)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise DatasetError(f"attribute {key}: expected a number, got {raw!r}", path, where(el))
    return v


def integer(el, key: str, path: Path, default: str | None = None) -> int:
    """The integer XML attribute ``key`` of ``el``; DatasetError if missing or not an integer."""
    raw = el.get(key, default)
    if raw is None:
        raise DatasetError(f"missing attribute {key!r}", path, where(el))
    try:
        return int(raw.strip())
    except ValueError:
        raise DatasetError(f"attribute {key}: expected an integer, got {raw!r}", path, where(el)) from None


def flag(el, key: str) -> bool:
    """A 0/1 XML attribute (also accepts true/false)."""
    return el.get(key, "0").strip().lower() in ("1", "true")


def _points(el, path: Path) -> list[float]:
    raw = el.get("points")
    if raw is None:
        raise DatasetError("missing attribute 'points'", path, where(el))
    out: list[float] = []
    for pair in raw.split(";") if raw.strip() else ():
        xy = pair.split(",")
        try:
            if len(xy) != 2:
                raise ValueError
            x, y = float(xy[0]), float(xy[1])
        except ValueError:
            x = y = math.nan
        if not (math.isfinite(x) and math.isfinite(y)):
            shown = raw if len(raw) <= 60 else raw[:57] + "..."
            raise DatasetError(f"attribute points: expected 'x,y;x,y;...', got {shown!r}", path, where(el))
        out += (x, y)
    return out


def _mask(el, ctx: ShapeCtx) -> Mask:
    path = ctx.path
    raw = el.get("rle")
    if raw is None:
        raise DatasetError("missing attribute 'rle'", path, where(el))
    try:
        counts = [int(c) for c in raw.replace(" ", "").split(",")] if raw.strip() else []
    except ValueError:
        raise DatasetError(f"attribute rle: expected comma-separated run lengths, got "
                           f"{raw[:40]!r}", path, where(el)) from None
    left, top = integer(el, "left", path), integer(el, "top", path)
    width, height = integer(el, "width", path), integer(el, "height", path)
    if left < 0 or top < 0 or width <= 0 or height <= 0:
        raise DatasetError(f"mask box left={left} top={top} width={width} height={height} is invalid",
                           path, where(el))
    if any(c < 0 for c in counts):
        raise DatasetError("attribute rle: negative run length", path, where(el))
    if sum(counts) != width * height:
        raise DatasetError(f"attribute rle: run lengths sum to {sum(counts)}, expected width*height = "
                           f"{width * height}", path, where(el))
    crop = np.repeat((np.arange(len(counts)) % 2).astype(np.uint8), counts).reshape(height, width)
    if ctx.size is None:
        ctx.count("masks on images of unknown size (canvas set to the mask box)")
        h, w = top + height, left + width
    else:
        h, w = ctx.size
    canvas = np.zeros((h, w), dtype=np.uint8)
    r1, c1 = min(h, top + height), min(w, left + width)
    if r1 < top + height or c1 < left + width:
        ctx.count("masks extending past the image (clipped)")
    if r1 > top and c1 > left:
        canvas[top:r1, left:c1] = crop[: r1 - top, : c1 - left]
    box = [min(left, w), min(top, h), max(0, c1 - left), max(0, r1 - top)]
    return Mask.from_array(canvas, meta={NS: {"box": box}})


def _attributes(el, ctx: ShapeCtx, label: int | None) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for c in el:
        if c.tag != "attribute":
            continue
        name = c.get("name")
        if not name:
            raise DatasetError("<attribute> without a name", ctx.path, where(c))
        spec = ctx.spec(label, name) if label is not None else None
        attrs[name] = typed_value(c.text or "", spec)
    return attrs


def parse_shape(el, ctx: ShapeCtx, extra_known: tuple[str, ...] = ()) -> Any:
    """One shape or ``<tag>`` element as an annotation.

    XML attributes become fields (``z_order``, ``group_id``) or attributes
    (``occluded``, ``source``, ``rotation``); ``<attribute>`` children are typed by
    the label's spec. Unknown XML attributes are kept in ``meta["cvat"]["x"]``."""
    tag = el.tag
    name = el.get("label")
    if name is None:
        raise DatasetError("missing attribute 'label'", ctx.path, where(el))
    label = ctx.label_index(name, el)
    attrs = _attributes(el, ctx, label)
    common: dict[str, Any] = {"label": label, "group": integer(el, "group_id", ctx.path, "0")}
    if tag != "tag":
        common["z_order"] = integer(el, "z_order", ctx.path, "0")
        attrs["occluded"] = flag(el, "occluded")
    attrs["source"] = el.get("source", "manual")
    if el.get("rotation") is not None and tag in ("box", "ellipse"):
        attrs["rotation"] = number(el, "rotation", ctx.path)
    known = _COMMON + _OWN.get(tag, ()) + extra_known
    extra = {k: v for k, v in el.attrib.items() if k not in known}
    meta: dict[str, Any] = {}
    if tag == "box":
        x0, y0 = number(el, "xtl", ctx.path), number(el, "ytl", ctx.path)
        x1, y1 = number(el, "xbr", ctx.path), number(el, "ybr", ctx.path)
        if x1 < x0 or y1 < y0:
            raise DatasetError(f"box has xbr < xtl or ybr < ytl ({x0}, {y0}, {x1}, {y1})", ctx.path, where(el))
        ann: Any = Bbox(x=x0, y=y0, w=x1 - x0, h=y1 - y0, attributes=attrs, **common)
    elif tag == "polygon":
        ann = Polygon(points=_points(el, ctx.path), attributes=attrs, **common)
    elif tag == "polyline":
        ann = Polyline(points=_points(el, ctx.path), attributes=attrs, **common)
    elif tag == "points":
        ann = Points(points=_points(el, ctx.path), attributes=attrs, **common)
    elif tag == "ellipse":
        cx, cy = number(el, "cx", ctx.path), number(el, "cy", ctx.path)
        rx, ry = number(el, "rx", ctx.path), number(el, "ry", ctx.path)
        if rx < 0 or ry < 0:
            raise DatasetError(f"ellipse has a negative radius ({rx}, {ry})", ctx.path, where(el))
        ann = Ellipse(x1=cx - rx, y1=cy - ry, x2=cx + rx, y2=cy + ry, attributes=attrs, **common)
    elif tag == "mask":
        m = _mask(el, ctx)
        meta = dict(m.meta[NS])
        ann = m.with_(attributes=attrs, **common)
    else:
        ann = Label(attributes=attrs, **common)
    if extra:
        meta["x"] = dict(sorted(extra.items()))
    return ann.with_(meta={NS: meta}) if meta else ann
