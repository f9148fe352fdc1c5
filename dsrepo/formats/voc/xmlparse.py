"""Safe parsing of VOC annotation XML files into compact records.

Files are parsed with lxml configured not to resolve entities, load DTDs or use the
network; any DOCTYPE or ENTITY declaration is refused up front (VOC files never have
one), so entity bombs and external entities fail with a DatasetError. Elements dsrepo
does not model are kept as compact XML fragments so an export can write them back.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from dsrepo.errors import DatasetError

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                          remove_blank_text=True, remove_comments=True, remove_pis=True)
FLAGS = ("truncated", "occluded", "difficult")
_ITEM_FIELDS = ("filename", "size", "segmented", "object")
_OBJECT_FIELDS = ("name", "pose", "bndbox", "part", "actions", "attributes") + FLAGS
_INT_RE = re.compile(r"-?(0|[1-9][0-9]*)")
_FLOAT_RE = re.compile(r"-?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))([eE][-+]?[0-9]+)?")


@dataclass(frozen=True, slots=True)
class XmlPart:
    """A person-layout part: label name and box corners."""

    name: str
    box: tuple[float, float, float, float]
    where: str


@dataclass(frozen=True, slots=True)
class XmlObject:
    """One ``<object>``: label name, box corners ``(xmin, ymin, xmax, ymax)``, the
    original ``xmax``/``ymax`` strings, attributes (flags, pose, actions, custom ones),
    parts and unmodelled child elements."""

    name: str
    box: tuple[float, float, float, float]
    box_text: tuple[str, str]
    attributes: dict[str, Any]
    actions: tuple[str, ...]
    parts: tuple[XmlPart, ...]
    extra: tuple[str, ...]
    where: str


@dataclass(frozen=True, slots=True)
class XmlRecord:
    """One annotation file: image file name, size ``(h, w)`` (None if absent or 0),
    depth text, the layout of top-level elements (``elems``: tag names of modelled
    elements, XML fragments of the others) and the objects."""

    path: Path
    filename: str | None
    size: tuple[int, int] | None
    depth: str | None
    elems: tuple[str, ...]
    objects: tuple[XmlObject, ...]


def parse_bool(text: str | None) -> bool:
    """VOC flag text: ``1``/``true``/``yes`` (any case) is True, anything else False."""
    return (text or "").strip().lower() in ("1", "true", "yes")


def parse_value(text: str | None) -> Any:
    """A custom attribute value: bool for true/false, int or float for numbers, else the text."""
    s = (text or "").strip()
    low = s.lower()
    if low in ("true", "false"):
        return low == "true"
    if _INT_RE.fullmatch(s):
        return int(s)
    if _FLOAT_RE.fullmatch(s):
        f = float(s)
        if math.isfinite(f):
            return f
    return text or ""


def _text(el: Any) -> str | None:
    return el.text.strip() if el is not None and el.text is not None else None


def _fragment(el: Any) -> str:
    return etree.tostring(el, encoding="unicode", with_tail=False)


def _number(box: Any, tag: str, path: Path, where: str) -> tuple[float, str]:
    el = box.find(tag)
    raw = _text(el)
    if not raw:
        raise DatasetError(f"bndbox has no {tag}", path, where)
    try:
        v = float(raw)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise DatasetError(f"{tag} is not a number: {raw!r}", path, where)
    return v, raw


def _box(el: Any, path: Path, where: str) -> tuple[tuple[float, float, float, float], tuple[str, str]]:
    box = el.find("bndbox")
    if box is None:
        raise DatasetError("object has no bndbox", path, where)
    (x1, _), (y1, _), (x2, sx), (y2, sy) = (_number(box, t, path, where) for t in ("xmin", "ymin", "xmax", "ymax"))
    if x2 < x1 or y2 < y1:
        raise DatasetError(f"bndbox has xmax < xmin or ymax < ymin ({x1}, {y1}, {x2}, {y2})", path, where)
    return (x1, y1, x2, y2), (sx, sy)


def _object(el: Any, k: int, path: Path) -> XmlObject:
    where = f"object #{k} (line {el.sourceline})"
    name = _text(el.find("name"))
    if not name:
        raise DatasetError("object has no name", path, where)
    box, box_text = _box(el, path, where)
    attrs: dict[str, Any] = {f: parse_bool(_text(el.find(f))) for f in FLAGS}
    pose = _text(el.find("pose"))
    if pose:
        attrs["pose"] = pose
    actions = []
    for act in el.iterfind("actions/*"):
        if isinstance(act.tag, str):
            attrs[act.tag] = parse_bool(act.text)
            actions.append(act.tag)
    for attr in el.iterfind("attributes/attribute"):
        aname = _text(attr.find("name"))
        if not aname:
            raise DatasetError(f"attribute without a name (line {attr.sourceline})", path, where)
        val = attr.find("value")
        attrs[aname] = parse_value(val.text if val is not None else None)
    parts = []
    for j, p in enumerate(el.iterfind("part"), 1):
        pwhere = f"{where}: part #{j}"
        pname = _text(p.find("name"))
        if not pname:
            raise DatasetError("part has no name", path, pwhere)
        parts.append(XmlPart(pname, _box(p, path, pwhere)[0], pwhere))
    extra = tuple(_fragment(c) for c in el if isinstance(c.tag, str) and c.tag not in _OBJECT_FIELDS)
    return XmlObject(name, box, box_text, attrs, tuple(actions), tuple(parts), extra, where)


def _size(root: Any, path: Path) -> tuple[tuple[int, int] | None, str | None]:
    el = root.find("size")
    if el is None:
        return None, None
    vals = []
    for tag in ("height", "width"):
        raw = _text(el.find(tag))
        try:
            vals.append(int(float(raw)) if raw else 0)
        except ValueError:
            raise DatasetError(f"size/{tag} is not a number: {raw!r}", path, f"line {el.sourceline}") from None
    size = (vals[0], vals[1]) if vals[0] > 0 and vals[1] > 0 else None
    return size, _text(el.find("depth"))


def parse_xml(path: Path) -> XmlRecord:
    """Parse one ``Annotations/<id>.xml``; DatasetError naming the file (and the line or
    object) for malformed XML, DTDs/entities, missing or non-numeric coordinates."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"cannot read: {e.strerror or e}", path) from None
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise DatasetError("DOCTYPE and ENTITY declarations are not allowed in VOC XML", path)
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise DatasetError(f"malformed XML: {e.msg}", path, f"line {e.lineno}") from None
    if root.getroottree().docinfo.doctype:  # e.g. a DTD in UTF-16 text, missed by the byte check
        raise DatasetError("DOCTYPE and ENTITY declarations are not allowed in VOC XML", path)
    if root.tag != "annotation":
        raise DatasetError(f"root element is <{root.tag}>, expected <annotation>", path)
    size, depth = _size(root, path)
    elems: list[str] = []
    for c in root:
        if not isinstance(c.tag, str):
            continue
        if c.tag in _ITEM_FIELDS:
            if c.tag not in elems:
                elems.append(c.tag)
        else:
            elems.append(_fragment(c))
    objects = tuple(_object(el, k, path) for k, el in enumerate(root.iterfind("object"), 1))
    return XmlRecord(path, _text(root.find("filename")), size, depth, tuple(elems), objects)
