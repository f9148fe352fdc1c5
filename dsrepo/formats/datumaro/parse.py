"""Reading one Datumaro annotation file: top-level fields eagerly, items as raw JSON.

The file is decoded once with msgspec into zero-copy :class:`msgspec.Raw` slices (one
per item) plus each item's id; items are decoded and validated when they are built.
Malformed JSON and wrong top-level types raise a DatasetError naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import msgspec
import orjson

from dsrepo.errors import DatasetError
from dsrepo.formats.datumaro.cats import parse_categories
from dsrepo.formats.datumaro.schema import MEDIA_TYPES_OK, NS, PRIVATE, TOP_KEYS, is_int, kind, show
from dsrepo.model.categories import Categories

_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])


class _Head(msgspec.Struct):
    id: Union[str, int]


_HEADS = msgspec.json.Decoder(list[_Head])


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """One ``<subset>.json``: categories, subset meta and the items' raw JSON and ids."""

    path: Path
    subset: str
    categories: Categories
    has_labels: bool
    subset_meta: dict
    raws: tuple[msgspec.Raw, ...]
    ids: tuple[str, ...]


def _json_error(data: bytes, err: Exception) -> str:
    """A readable message for undecodable JSON (line and column when possible)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"not UTF-8 text (byte {e.start})"
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        return f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
    except ValueError as e:
        return f"invalid JSON: {e}"
    return f"invalid JSON: {err}"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def _decode(decoder: msgspec.json.Decoder, data: Any, path: Path, full: bytes) -> Any:
    try:
        return decoder.decode(data)
    except msgspec.DecodeError as e:
        raise DatasetError(_json_error(full, e), path) from None


def _loads(raw: msgspec.Raw | bytes, path: Path, full: bytes) -> Any:
    try:
        return orjson.loads(memoryview(raw))
    except orjson.JSONDecodeError as e:
        raise DatasetError(_json_error(full, e), path) from None


def _item_ids(items_raw: msgspec.Raw, raws: list[msgspec.Raw], path: Path) -> list[str]:
    try:
        heads = _HEADS.decode(items_raw)
    except msgspec.ValidationError:
        heads = None
    if heads is None:  # slow path: find the bad record for a precise message
        for i, r in enumerate(raws):
            d = orjson.loads(memoryview(r))
            if not isinstance(d, dict):
                raise DatasetError(f"expected an object, got {kind(d)}", path, f"item #{i}")
            v = d.get("id")
            if not (isinstance(v, str) or is_int(v)):
                raise DatasetError(f"id must be a string, got {show(v)}", path, f"item #{i}")
        raise DatasetError("bad item records", path)  # pragma: no cover - msgspec and orjson disagree
    ids = []
    seen: dict[str, int] = {}
    for i, h in enumerate(heads):
        iid = h.id if isinstance(h.id, str) else str(h.id)
        if not iid:
            raise DatasetError("id must be a non-empty string", path, f"item #{i}")
        if iid in seen:
            raise DatasetError(f"item id {iid!r} is listed twice (items #{seen[iid]} and #{i})", path)
        seen[iid] = i
        ids.append(iid)
    return ids


def _version(top: dict, path: Path) -> None:
    """Accept 1.x files and legacy files (Datumaro < 1.0, no version key)."""
    v = top.get("dm_format_version")
    if v is not None and (not isinstance(v, str) or not v.startswith("1.")):
        raise DatasetError(f"dm_format_version {show(v)} is not supported (expected 1.x)", path)


def read_file(path: Path, subset: str) -> ParsedFile:
    """Parse the annotation file ``path`` of ``subset`` (items stay raw)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"cannot read: {e.strerror or e}", path) from None
    if data.lstrip()[:1] not in (b"{", b""):
        value = _loads(data, path, data)
        raise DatasetError(f"expected a JSON object with 'items', got {kind(value)}", path)
    raw_top = _decode(_TOP, data, path, data)
    top = {k: _loads(v, path, data) for k, v in raw_top.items() if k != "items"}
    if "items" not in raw_top:
        raise DatasetError("no 'items' list (not a Datumaro annotation file?)", path)
    items_raw = raw_top["items"]
    try:
        raws = _RAW_LIST.decode(items_raw)
    except msgspec.ValidationError:
        raise DatasetError(f"'items' must be a list, got {kind(orjson.loads(memoryview(items_raw)))}", path) from None
    ids = _item_ids(items_raw, raws, path)
    media_type = top.get("media_type", 2)
    if not is_int(media_type) or media_type not in MEDIA_TYPES_OK:
        raise DatasetError(f"media_type {show(media_type)} is not supported (only images: 2)", path)
    cats, cat_extra = parse_categories(top.get("categories"), path)
    infos = top.get("infos")
    if infos is not None and not isinstance(infos, dict):
        raise DatasetError(f"'infos' must be an object, got {kind(infos)}", path)
    _version(top, path)  # written back as FORMAT_VERSION, with media_type 2 (images)
    native: dict[str, Any] = {}
    if infos:
        native["infos"] = infos
    if cat_extra:
        native["categories"] = cat_extra
    x = {k: v for k, v in top.items() if k not in TOP_KEYS}
    if x:
        native["x"] = x
    meta: dict[str, Any] = {NS: native}
    priv = top.get(PRIVATE)
    if priv is not None:
        sm = priv.get("subset_meta") if isinstance(priv, dict) else None
        if not isinstance(sm, dict):
            raise DatasetError(f"{PRIVATE}.subset_meta must be an object, got {show(priv)}", path)
        meta.update((k, v) for k, v in sm.items() if k != NS)
    lc = (top.get("categories") or {}).get("label")
    return ParsedFile(path, subset, cats, bool(lc and lc.get("labels")), meta, tuple(raws), tuple(ids))
