"""Reading and validating GT Studio JSON files (one per image) into compact records.

A file is ``{"annotations": {"rectangles": [...], "polygons": [...], "lines": [...],
"landmarks": [...], "cuboids": [...], "raster": {...}}, "image_url": "..."}``;
coordinates are normalised to 0..1 by the image width and height.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsrepo.errors import DatasetError
from dsrepo.formats.segments_ai.assets import is_absolute_url, resolve_url, url_basename
from dsrepo.formats.segments_ai.jsonio import is_num, short, type_name
from dsrepo.formats.gt_studio.geometry import natural_sorted

NS = "gt_studio"
SHAPE_KINDS = ("rectangles", "polygons")
KIND_ORDER = ("rectangles", "lines", "landmarks", "cuboids", "polygons")
RECT_KEYS = ("label", "attributes", "coordinates")
POLY_KEYS = ("label", "attributes", "points", "edges", "type")
RASTER_KEYS = ("url", "legend", "instances")


@dataclass(frozen=True, slots=True)
class Shape:
    """A rectangle (``points`` = normalised x0, y0, x1, y1) or polygon (flat, natural order)."""

    kind: str
    label: str | None
    points: tuple[float, ...]
    attributes: dict
    meta: dict
    raw: dict


@dataclass(frozen=True, slots=True)
class Raster:
    """A raster mask: PNG path (None if missing), colour legend and instances."""

    path: Path | None
    url: str
    legend: dict
    instances: list


@dataclass(frozen=True, slots=True)
class GTDoc:
    """One parsed file."""

    path: Path
    item_id: str
    image_path: Path | None
    image_name: str | None
    shapes: tuple[Shape, ...]
    raster: Raster | None
    meta: dict


def parse_hex(color: str) -> int | None:
    """``0xRRGGBB`` of a ``#rrggbb`` colour string (any case), or None."""
    if len(color) != 7 or color[0] != "#":
        return None
    try:
        return int(color[1:], 16)
    except ValueError:
        return None


def _label(v: Any, path: Path, where: str) -> str | None:
    if v is None or isinstance(v, str):
        return v or None
    raise DatasetError(f"label must be a string, got {short(v)}", path, where)


def _attrs(v: Any, path: Path, where: str) -> dict:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise DatasetError(f"attributes must be an object, got {type_name(v)}", path, where)
    return v


def _xy(p: Any, path: Path, where: str) -> tuple[float, float]:
    if not (isinstance(p, dict) and is_num(p.get("x")) and is_num(p.get("y"))):
        raise DatasetError(f"point must be {{\"x\": number, \"y\": number}}, got {short(p)}", path, where)
    return float(p["x"]), float(p["y"])


def _rectangle(r: Any, k: int, path: Path) -> Shape:
    where = f"rectangle #{k}"
    if not isinstance(r, dict):
        raise DatasetError(f"must be an object, got {type_name(r)}", path, where)
    coords = r.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise DatasetError(f"coordinates must be a non-empty list, got {short(coords)}", path, where)
    xy = [_xy(p, path, where) for p in coords]
    xs, ys = [p[0] for p in xy], [p[1] for p in xy]
    meta = {k2: v for k2, v in r.items() if k2 not in RECT_KEYS}
    return Shape("rectangles", _label(r.get("label"), path, where), (min(xs), min(ys), max(xs), max(ys)),
                 _attrs(r.get("attributes"), path, where), meta, r)


def _chain(keys: list[str]) -> dict:
    n = len(keys)
    return {f"e{i + 1}": [keys[i], keys[(i + 1) % n]] for i in range(n)}


def _polygon(r: Any, k: int, path: Path) -> Shape:
    where = f"polygon #{k}"
    if not isinstance(r, dict):
        raise DatasetError(f"must be an object, got {type_name(r)}", path, where)
    pts = r.get("points")
    if not isinstance(pts, dict) or len(pts) < 3:
        raise DatasetError(f"points must be an object of at least 3 named points, got {short(pts)}", path, where)
    keys = natural_sorted(pts)
    flat = tuple(v for key in keys for v in _xy(pts[key], path, f"{where}: point {key!r}"))
    edges = r.get("edges")
    if edges is not None and not isinstance(edges, dict):
        raise DatasetError(f"edges must be an object, got {type_name(edges)}", path, where)
    meta = {k2: v for k2, v in r.items() if k2 not in POLY_KEYS}
    if keys != [f"p{i + 1}" for i in range(len(keys))]:
        meta["keys"] = keys
    if edges is not None and edges != _chain(keys):
        meta["edges"] = edges
    elif edges is None:
        meta["no_edges"] = True
    return Shape("polygons", _label(r.get("label"), path, where), flat, _attrs(r.get("attributes"), path, where),
                 meta, r)


def _raster(r: Any, path: Path, root: Path, assets: Path, skip_missing: bool) -> tuple[Raster | None, dict]:
    where = "raster"
    if not isinstance(r, dict):
        raise DatasetError(f"must be an object, got {type_name(r)}", path, where)
    url = r.get("url")
    if not isinstance(url, str) or not url:
        raise DatasetError(f"url must be a non-empty string, got {short(url)}", path, where)
    legend = r.get("legend") or {}
    if not isinstance(legend, dict):
        raise DatasetError(f"legend must be an object, got {type_name(legend)}", path, where)
    instances = r.get("instances") or []
    if not isinstance(instances, list):
        raise DatasetError(f"instances must be a list, got {type_name(instances)}", path, where)
    seen: set[int] = set()
    for k, inst in enumerate(instances):
        if not isinstance(inst, dict) or not isinstance(inst.get("color"), str):
            raise DatasetError(f"must be an object with a colour string, got {short(inst)}", path,
                               f"raster instance #{k}")
        if parse_hex(inst["color"]) is None:
            raise DatasetError(f"colour must be #rrggbb, got {short(inst['color'])}", path, f"raster instance #{k}")
        if parse_hex(inst["color"]) in seen:
            raise DatasetError(f"colour {inst['color']} is used by an earlier instance", path, f"raster instance #{k}")
        seen.add(parse_hex(inst["color"]))
        if "value" in inst and not isinstance(inst["value"], str):
            raise DatasetError(f"value must be a string, got {short(inst['value'])}", path, f"raster instance #{k}")
    for key in legend:
        if parse_hex(key) is None:
            raise DatasetError(f"legend colour must be #rrggbb, got {short(key)}", path, where)
    meta = {"legend": legend}
    if x := {k: v for k, v in r.items() if k not in RASTER_KEYS}:
        meta["x"] = x
    found = resolve_url(url, root, assets, path, where)
    if found is None or not found.is_file():
        if not skip_missing:
            raise DatasetError(f"mask {url!r} not found (looked for {found}; use --assets DIR or "
                               "--missing-masks skip)", path, where)
        return None, meta
    return Raster(found, url, legend, instances), meta


def parse_doc(path: Path, doc: Any, item_id: str, root: Path, assets: Path, skip_missing: bool) -> GTDoc | None:
    """Validate one file's JSON; None when it is not a GT Studio annotation file."""
    if not isinstance(doc, dict) or "annotations" not in doc:
        return None
    anns = doc["annotations"]
    if not isinstance(anns, dict):
        raise DatasetError(f"annotations must be an object of shape lists, got {type_name(anns)}", path)
    meta: dict[str, Any] = {}
    url = doc.get("image_url")
    image_path, image_name = None, None
    if url is not None:
        if not isinstance(url, str) or not url:
            raise DatasetError(f"image_url must be a non-empty string, got {short(url)}", path)
        meta["url"] = url
        image_path = resolve_url(url, root, assets, path, "image_url")
        file_name = url_basename(url) if is_absolute_url(url) else image_path.name
        image_name = item_id + os.path.splitext(file_name)[1].lower()
    if x := {k: v for k, v in doc.items() if k not in ("annotations", "image_url")}:
        meta["x"] = x
    shapes: list[Shape] = []
    other = {}
    kinds = [k for k in SHAPE_KINDS if k in anns] + [k for k in anns if k not in SHAPE_KINDS and k != "raster"]
    for kind in kinds:
        v = anns[kind]
        if v is None:
            continue
        if not isinstance(v, list):
            raise DatasetError(f"{kind} must be a list, got {type_name(v)}", path, "annotations")
        if kind == "rectangles":
            shapes += [_rectangle(r, k, path) for k, r in enumerate(v)]
        elif kind == "polygons":
            shapes += [_polygon(r, k, path) for k, r in enumerate(v)]
        elif v:
            other[kind] = v
    if other:
        meta["other"] = other
    raster = None
    if anns.get("raster") is not None:
        raster, meta["raster"] = _raster(anns["raster"], path, root, assets, skip_missing)
    return GTDoc(path, item_id, image_path, image_name, tuple(shapes), raster, meta)
