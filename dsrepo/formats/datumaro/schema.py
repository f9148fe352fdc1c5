"""Constants and small value checks shared by the Datumaro importer and exporter.

Datumaro (1.x) writes annotation types by *name* (``"type": "bbox"``). Numeric type
ids are also accepted on import and read with Datumaro 1.x's ``AnnotationType`` order
(:data:`TYPE_NAMES`); older Datumaro releases numbered types differently, but they
never wrote numbers into this format.

Round-trip data dsrepo needs but Datumaro has no field for is written under the
private key :data:`PRIVATE` (``"dsrepo"``) of annotations, items, labels and files;
Datumaro ignores unknown keys, so its files stay readable by Datumaro.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any, Mapping

from dsrepo.errors import DatasetError

FORMAT_VERSION = "1.0"
MEDIA_TYPE_IMAGE = 2
MEDIA_TYPES_OK = (1, 2)  # MediaElement (generic) and Image
DEFAULT_IMAGE_EXT = ".jpg"

NS = "datumaro"  # namespace of Datumaro-native round-trip data in dsrepo meta
PRIVATE = "dsrepo"  # private key in Datumaro JSON for dsrepo data Datumaro cannot hold

# Datumaro 1.x AnnotationType, index = numeric value.
TYPE_NAMES = (
    "unknown", "label", "mask", "points", "polygon", "polyline", "bbox", "caption", "cuboid_3d",
    "super_resolution_annotation", "depth_annotation", "ellipse", "hash_key", "feature_vector", "tabular",
    "rotated_bbox", "cuboid_2d",
)
SUPPORTED_TYPES = frozenset({"label", "mask", "points", "polygon", "polyline", "bbox", "caption", "ellipse"})

COMMON_KEYS = ("id", "type", "attributes", "group", "label_id", "z_order", PRIVATE)
TYPE_KEYS = {
    "label": (),
    "mask": ("rle",),
    "points": ("points", "visibility"),
    "polygon": ("points",),
    "polyline": ("points",),
    "bbox": ("bbox",),
    "caption": ("caption",),
    "ellipse": ("points",),
}
ITEM_KEYS = ("id", "annotations", "attr", "image", "media", PRIVATE)
TOP_KEYS = ("dm_format_version", "media_type", "infos", "categories", "items", PRIVATE)


def kind(value: Any) -> str:
    """JSON kind name of ``value`` for error messages ("an object", "a string", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number"


def show(value: Any, limit: int = 40) -> str:
    """Short JSON-like rendering of ``value`` for error messages."""
    import orjson

    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_int(v: Any) -> bool:
    """True for JSON integers (not booleans)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v: Any) -> bool:
    """True for finite JSON numbers (not booleans)."""
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and math.isfinite(v))


def get_int(d: Mapping[str, Any], key: str, default: int, path: object, where: str) -> int:
    """``d[key]`` as an int (``default`` when missing or null); DatasetError otherwise."""
    v = d.get(key)
    if v is None:
        return default
    if not is_int(v):
        raise DatasetError(f"{key} must be an integer, got {show(v)}", path, where)
    return v


def get_dict(d: Mapping[str, Any], key: str, path: object, where: str) -> dict:
    """``d[key]`` as a dict (``{}`` when missing or null); DatasetError otherwise."""
    v = d.get(key)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise DatasetError(f"{key} must be an object, got {kind(v)}", path, where)
    return v


def numbers(v: Any, key: str, path: object, where: str, count: int | None = None,
            even: bool = False) -> list[float]:
    """A list of finite numbers (exactly ``count`` of them, or an even number)."""
    if count is not None:
        need = f"a list of {count} numbers"
    else:
        need = "a list of numbers (x, y pairs)" if even else "a list of numbers"
    if not isinstance(v, list) or (count is not None and len(v) != count) or (even and len(v) % 2):
        raise DatasetError(f"{key} must be {need}, got {show(v)}", path, where)
    for x in v:
        if not is_num(x):
            raise DatasetError(f"{key} must be {need}, got {show(x)} in {show(v)}", path, where)
    return [float(x) for x in v]


def sort_keys(value: Any) -> Any:
    """``value`` as plain JSON values (read-only mappings become dicts, tuples lists) with
    every dict's keys sorted, recursively: deterministic output whatever the input order."""
    t = type(value)
    if t is dict or t is MappingProxyType or (t not in _SCALARS and isinstance(value, Mapping)):
        if not value:
            return {}
        return {k: sort_keys(value[k]) for k in sorted(value)}
    if t is list or t is tuple:
        return [sort_keys(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """Meta/attribute mappings (possibly read-only proxies, tuples) as plain JSON values."""
    t = type(value)
    if t is dict or t is MappingProxyType or (t not in _SCALARS and isinstance(value, Mapping)):
        return {k: plain(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [plain(v) for v in value]
    return value


_SCALARS = (str, int, float, bool, type(None))
