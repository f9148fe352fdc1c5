"""Decoding and validating one COCO annotation file.

Fast path: ``msgspec`` typed decoding into small Structs, with segmentations,
keypoints and boxes kept as :class:`msgspec.Raw` (zero-copy slices of the file
bytes, decoded per item when the item is built). Records with keys the Structs do
not know, numbers that are not valid JSON (``NaN``) or wrong types make the fast
path fail; the slow path then decodes record by record with full checks, so it
either loads the file (keeping unknown keys) or raises a :class:`DatasetError`
naming the file and the record.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Annotated, Union

import msgspec
from msgspec import UNSET, Meta, Raw, Struct, UnsetType

from dsrepo.errors import DatasetError
from dsrepo.formats.common.files import safe_relpath

_EXTRA = "__dsrepo_extra__"
_BIG_KEYS = ("images", "annotations", "categories")


class CSeg(Struct, forbid_unknown_fields=True):
    """One panoptic segment of ``segments_info``."""

    id: int
    category_id: int
    area: Union[int, float, UnsetType] = UNSET
    bbox: Union[Raw, UnsetType] = UNSET
    iscrowd: Union[bool, int, UnsetType] = UNSET
    attributes: Union[dict, UnsetType] = UNSET
    extra: Union[dict, None] = msgspec.field(default=None, name=_EXTRA)


class CImage(Struct, forbid_unknown_fields=True):
    """One record of ``images`` (COCO's optional keys declared, others in ``extra``)."""

    id: Union[int, str]
    file_name: str
    width: Union[Annotated[int, Meta(gt=0)], UnsetType] = UNSET
    height: Union[Annotated[int, Meta(gt=0)], UnsetType] = UNSET
    license: Any = UNSET
    coco_url: Any = UNSET
    flickr_url: Any = UNSET
    date_captured: Any = UNSET
    extra: Union[dict, None] = msgspec.field(default=None, name=_EXTRA)


class CAnn(Struct, forbid_unknown_fields=True):
    """One record of ``annotations`` for any task."""

    image_id: Union[int, str]
    id: Union[int, UnsetType] = UNSET
    category_id: Union[int, UnsetType] = UNSET
    segmentation: Union[Raw, UnsetType] = UNSET
    area: Union[int, float, UnsetType] = UNSET
    bbox: Union[Raw, UnsetType] = UNSET
    iscrowd: Union[bool, int, UnsetType] = UNSET
    keypoints: Union[Raw, UnsetType] = UNSET
    num_keypoints: Union[int, UnsetType] = UNSET
    caption: Union[str, UnsetType] = UNSET
    score: Union[int, float, UnsetType] = UNSET
    attributes: Union[dict, UnsetType] = UNSET
    file_name: Union[str, UnsetType] = UNSET
    segments_info: Union[list[CSeg], UnsetType] = UNSET
    extra: Union[dict, None] = msgspec.field(default=None, name=_EXTRA)


IMAGE_KEYS = frozenset(f for f in CImage.__struct_fields__ if f != "extra")
ANN_KEYS = frozenset(f for f in CAnn.__struct_fields__ if f != "extra")
SEG_KEYS = frozenset(f for f in CSeg.__struct_fields__ if f != "extra")

_TOP = msgspec.json.Decoder(dict[str, Raw])
_IMAGES = msgspec.json.Decoder(list[CImage])
_ANNS = msgspec.json.Decoder(list[CAnn])
_RAWS = msgspec.json.Decoder(list[Raw])
_ANY = msgspec.json.Decoder()


@dataclass(slots=True)
class ParsedFile:
    """A decoded, validated annotation file."""

    path: Path
    task: str
    subset: str
    keys: list[str]
    top: dict[str, Any]
    images: list[CImage]
    anns: list[CAnn]
    categories: list[dict] | None
    data: bytes  # kept alive: Raw values point into it


def _fail(path: Path, message: str, where: str | None = None) -> DatasetError:
    return DatasetError(message, path, where)


def _nonfinite(v: Any, where: str) -> str | None:
    if isinstance(v, float) and not math.isfinite(v):
        return where
    if isinstance(v, dict):
        for k, x in v.items():
            if (w := _nonfinite(x, f"{where}.{k}")):
                return w
    elif isinstance(v, list):
        for i, x in enumerate(v):
            if (w := _nonfinite(x, f"{where}[{i}]")):
                return w
    return None


def _json_error(path: Path, data: bytes) -> DatasetError:
    """Describe why ``data`` is not valid JSON (slow: only on the error path)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return _fail(path, f"not UTF-8 text (byte {e.start})")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        return _fail(path, f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})")
    except RecursionError:
        return _fail(path, "invalid JSON: nested too deeply")
    # Valid for Python's json: NaN/Infinity, which JSON does not allow. Name the record.
    if isinstance(doc, dict):
        for i, d in enumerate(doc.get("images") or []):
            _slow_image(path, d, i)
        for i, d in enumerate(doc.get("annotations") or []):
            _slow_ann(path, d, i)
    where = _nonfinite(doc, "$")
    if where:
        return _fail(path, f"NaN or Infinity is not valid JSON (at {where})")
    return _fail(path, "invalid JSON")


def _loads_lenient(raw: bytes) -> Any:
    """Decode a record; non-standard NaN/Infinity become float NaN/inf for checks."""
    try:
        return _ANY.decode(raw)
    except msgspec.DecodeError:
        return json.loads(bytes(raw).decode("utf-8"))


def _type(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null", int: "an integer", float: "a number"}.get(type(v), type(v).__name__)


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_bbox(v: Any) -> str | None:
    """Problem with a COCO ``bbox`` value, or None."""
    if not isinstance(v, list) or len(v) != 4 or not all(_num(x) for x in v):
        return f"bbox must be a list of 4 numbers, got {_short(v)}"
    if not all(math.isfinite(x) for x in v):
        return "bbox contains a non-finite number"
    if v[2] < 0:
        return "bbox has negative width"
    if v[3] < 0:
        return "bbox has negative height"
    return None


def check_segmentation(v: Any) -> str | None:
    """Problem with a COCO ``segmentation`` value (polygons or RLE), or None."""
    if isinstance(v, list):
        for i, part in enumerate(v):
            if not isinstance(part, list) or not all(_num(x) for x in part):
                return f"segmentation polygon {i} must be a list of numbers"
            if not all(math.isfinite(x) for x in part):
                return f"segmentation polygon {i} contains a non-finite number"
            if len(part) % 2:
                return f"segmentation polygon {i} has an odd number of coordinates ({len(part)})"
        return None
    if isinstance(v, dict):
        size, counts = v.get("size"), v.get("counts")
        if not (isinstance(size, list) and len(size) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                                  and x >= 0 for x in size)):
            return "RLE size must be [height, width]"
        if isinstance(counts, list):
            if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
                return "RLE counts must be non-negative integers"
            if sum(counts) != size[0] * size[1]:
                return f"RLE counts sum to {sum(counts)}, expected height*width = {size[0] * size[1]}"
            return None
        if isinstance(counts, str):
            return None
        return "RLE counts must be a list of integers or a string"
    return f"segmentation must be a list of polygons or an RLE object, got {_type(v)}"


def _short(v: Any) -> str:
    s = json.dumps(v) if not isinstance(v, float) or math.isfinite(v) else str(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _where_ann(d: Any, index: int) -> str:
    if isinstance(d, dict) and isinstance(d.get("id"), int) and not isinstance(d.get("id"), bool):
        return f"annotation id {d['id']}"
    return f"annotation #{index}"


def _where_img(d: Any, index: int) -> str:
    if isinstance(d, dict) and isinstance(d.get("id"), (int, str)) and not isinstance(d.get("id"), bool):
        return f"image id {d['id']}"
    return f"image #{index}"


def _split_extra(d: dict, known: frozenset) -> tuple[dict, dict | None]:
    std = {k: v for k, v in d.items() if k in known}
    extra = {k: v for k, v in d.items() if k not in known}
    return std, (extra or None)


def _slow_image(path: Path, d: Any, index: int) -> CImage:
    where = _where_img(d, index)
    if not isinstance(d, dict):
        raise _fail(path, f"must be an object, got {_type(d)}", f"image #{index}")
    if "id" not in d:
        raise _fail(path, "missing id", where)
    if not isinstance(d["id"], (int, str)) or isinstance(d["id"], bool):
        raise _fail(path, f"id must be an integer or a string, got {_short(d['id'])}", where)
    if not isinstance(d.get("file_name"), str):
        raise _fail(path, "missing file_name" if "file_name" not in d else
                    f"file_name must be a string, got {_short(d['file_name'])}", where)
    for k in ("width", "height"):
        if k in d and not (isinstance(d[k], int) and not isinstance(d[k], bool) and d[k] > 0):
            raise _fail(path, f"{k} must be a positive integer, got {_short(d[k])}", where)
    std, extra = _split_extra(d, IMAGE_KEYS)
    return CImage(**std, extra=extra)


def _raw(v: Any) -> Raw:
    return Raw(msgspec.json.encode(v))


def _slow_seg(path: Path, s: Any, where: str, k: int) -> CSeg:
    w = f"{where}: segments_info[{k}]"
    if not isinstance(s, dict):
        raise _fail(path, f"must be an object, got {_type(s)}", w)
    for key in ("id", "category_id"):
        if not (isinstance(s.get(key), int) and not isinstance(s.get(key), bool)):
            raise _fail(path, f"{key} must be an integer, got {_short(s.get(key))}", w)
    if "bbox" in s and (msg := check_bbox(s["bbox"])):
        raise _fail(path, msg, w)
    if "area" in s and not (_num(s["area"]) and math.isfinite(s["area"])):
        raise _fail(path, f"area must be a number, got {_short(s['area'])}", w)
    if "attributes" in s and not isinstance(s["attributes"], dict):
        raise _fail(path, f"attributes must be an object, got {_type(s['attributes'])}", w)
    if "iscrowd" in s and not isinstance(s["iscrowd"], (int, bool)):
        raise _fail(path, f"iscrowd must be 0 or 1, got {_short(s['iscrowd'])}", w)
    std, extra = _split_extra(s, SEG_KEYS)
    if "bbox" in std:
        std["bbox"] = _raw(std["bbox"])
    return CSeg(**std, extra=extra)


def _slow_ann(path: Path, d: Any, index: int) -> CAnn:
    where = _where_ann(d, index)
    if not isinstance(d, dict):
        raise _fail(path, f"must be an object, got {_type(d)}", where)
    if "id" in d and not (isinstance(d["id"], int) and not isinstance(d["id"], bool)):
        raise _fail(path, f"id must be an integer, got {_short(d['id'])}", where)
    if "image_id" not in d:
        raise _fail(path, "missing image_id", where)
    if not isinstance(d["image_id"], (int, str)) or isinstance(d["image_id"], bool):
        raise _fail(path, f"image_id must be an integer or a string, got {_short(d['image_id'])}", where)
    if "category_id" in d and not (isinstance(d["category_id"], int) and not isinstance(d["category_id"], bool)):
        raise _fail(path, f"category_id must be an integer, got {_short(d['category_id'])}", where)
    if "bbox" in d and (msg := check_bbox(d["bbox"])):
        raise _fail(path, msg, where)
    if "segmentation" in d and (msg := check_segmentation(d["segmentation"])):
        raise _fail(path, msg, where)
    for k in ("area", "score"):
        if k in d and not (_num(d[k]) and math.isfinite(d[k])):
            raise _fail(path, f"{k} must be a finite number, got {_short(d[k])}", where)
    if "keypoints" in d:
        kp = d["keypoints"]
        if not isinstance(kp, list) or len(kp) % 3 or not all(_num(x) and math.isfinite(x) for x in kp):
            raise _fail(path, "keypoints must be a list of x, y, visibility triples", where)
    if "caption" in d and not isinstance(d["caption"], str):
        raise _fail(path, f"caption must be a string, got {_short(d['caption'])}", where)
    if "attributes" in d and not isinstance(d["attributes"], dict):
        raise _fail(path, f"attributes must be an object, got {_type(d['attributes'])}", where)
    if "iscrowd" in d and not (isinstance(d["iscrowd"], (int, bool))):
        raise _fail(path, f"iscrowd must be 0 or 1, got {_short(d['iscrowd'])}", where)
    if "num_keypoints" in d and not (isinstance(d["num_keypoints"], int) and not isinstance(d["num_keypoints"], bool)):
        raise _fail(path, f"num_keypoints must be an integer, got {_short(d['num_keypoints'])}", where)
    if "file_name" in d and not isinstance(d["file_name"], str):
        raise _fail(path, f"file_name must be a string, got {_short(d['file_name'])}", where)
    segs = None
    if "segments_info" in d:
        if not isinstance(d["segments_info"], list):
            raise _fail(path, f"segments_info must be a list, got {_type(d['segments_info'])}", where)
        segs = [_slow_seg(path, s, where, k) for k, s in enumerate(d["segments_info"])]
    std, extra = _split_extra(d, ANN_KEYS)
    if segs is not None:
        std["segments_info"] = segs
    for k in ("segmentation", "bbox", "keypoints"):
        if k in std:
            std[k] = _raw(std[k])
    return CAnn(**std, extra=extra)


def _slow_list(path: Path, raw: Raw | None, key: str, fn) -> list:
    if raw is None:
        return []
    try:
        items = _RAWS.decode(raw)
    except msgspec.ValidationError:
        raise _fail(path, f"'{key}' must be a list, got {_type(_loads_lenient(raw))}") from None
    except msgspec.DecodeError:
        raise _json_error(path, bytes(raw)) from None
    out = []
    for i, r in enumerate(items):
        try:
            d = _loads_lenient(r)
        except (ValueError, RecursionError):
            raise _fail(path, "invalid JSON", f"{key[:-1]} #{i}") from None
        out.append(fn(path, d, i))
    return out


def _decode_top(path: Path, data: bytes) -> dict[str, Raw]:
    try:
        top = _TOP.decode(data)
    except msgspec.ValidationError:
        try:
            kind = _type(_ANY.decode(data))
        except msgspec.DecodeError:
            kind = "something else"
        raise _fail(path, f"expected a JSON object with 'images', 'annotations' and 'categories', got {kind}") from None
    except msgspec.DecodeError:
        raise _json_error(path, data) from None
    if "images" not in top:
        raise _fail(path, "no 'images' list (not a COCO annotation file?)")
    return top


def _check_image_names(path: Path, images: list[CImage]) -> None:
    for i, im in enumerate(images):
        n = im.file_name
        if (not n or "\\" in n or n[0] == "/" or ".." in n or "//" in n or n.startswith("./")
                or "/./" in n or n.endswith("/") or (len(n) > 1 and n[1] == ":")):
            safe_relpath(n, path, f"image id {im.id}")


def compact(data: bytes) -> bytes:
    """``data`` without insignificant whitespace when its start has some (pretty-printed or
    ``json.dumps``-spaced files; tokens are kept exactly as spelled), else as it is, and as
    it is when it is not valid JSON (the decoder then reports the error on the original
    bytes). Raw segmentations, boxes and keypoints are then compact, so records spaced
    differently fingerprint alike (:mod:`dsrepo.formats.coco.fingerprint`)."""
    head = data[:65536]
    if b", " not in head and b": " not in head and b"\n" not in head and b"\t" not in head:
        return data
    try:
        return msgspec.json.format(data, indent=-1)
    except msgspec.DecodeError:
        return data


def parse_file(path: Path, task: str, subset: str) -> ParsedFile:
    """Read and validate ``path``; DatasetError naming the file and record on bad input."""
    try:
        data = compact(path.read_bytes())
    except OSError as e:
        raise _fail(path, f"cannot read: {e.strerror or e}") from None
    top = _decode_top(path, data)
    keys = list(top)
    small = {}
    for k in keys:
        if k not in _BIG_KEYS:
            try:
                small[k] = _ANY.decode(top[k])
            except msgspec.DecodeError:
                small[k] = _loads_lenient(top[k])
    try:
        images = _IMAGES.decode(top["images"])
        anns = _ANNS.decode(top["annotations"]) if "annotations" in top else []
    except (msgspec.ValidationError, msgspec.DecodeError):
        images = _slow_list(path, top["images"], "images", _slow_image)
        anns = _slow_list(path, top.get("annotations"), "annotations", _slow_ann)
    _check_image_names(path, images)
    categories = None
    if "categories" in top:
        try:
            categories = _ANY.decode(top["categories"])
        except msgspec.DecodeError:
            categories = _loads_lenient(top["categories"])
        _check_categories(path, categories)
    return ParsedFile(path, task, subset, keys, small, images, anns, categories, data)


def _check_categories(path: Path, cats: Any) -> None:
    if not isinstance(cats, list):
        raise _fail(path, f"'categories' must be a list, got {_type(cats)}")
    seen = set()
    for i, c in enumerate(cats):
        if not isinstance(c, dict):
            raise _fail(path, f"must be an object, got {_type(c)}", f"category #{i}")
        cid = c.get("id")
        if not (isinstance(cid, int) and not isinstance(cid, bool)):
            raise _fail(path, f"id must be an integer, got {_short(cid)}", f"category #{i}")
        where = f"category id {cid}"
        if cid in seen:
            raise _fail(path, "listed twice", where)
        seen.add(cid)
        if not isinstance(c.get("name"), str):
            raise _fail(path, f"name must be a string, got {_short(c.get('name'))}", where)
        if "supercategory" in c and not isinstance(c["supercategory"], str):
            raise _fail(path, f"supercategory must be a string, got {_short(c['supercategory'])}", where)
        kp = c.get("keypoints")
        if kp is not None and not (isinstance(kp, list) and all(isinstance(n, str) for n in kp)):
            raise _fail(path, "keypoints must be a list of names", where)
        sk = c.get("skeleton")
        if sk is not None and not (isinstance(sk, list) and all(
                isinstance(e, list) and len(e) == 2 and all(isinstance(x, int) for x in e) for e in sk)):
            raise _fail(path, "skeleton must be a list of [a, b] point index pairs", where)
