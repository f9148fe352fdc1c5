"""XPath filters over items and annotations (Datumaro-style expressions).

Each item is turned into a small XML element (see :func:`item_to_xml`) and the
expression is evaluated with lxml against it:

- mode ``items``: the item is kept when the expression's XPath boolean value is true
  (``/item[subset="train"]`` selects the item element, so it is non-empty);
- mode ``annotations``: the expression must return nodes; the ``annotation`` elements
  among them are the annotations kept (items stay, possibly empty);
- mode ``items+annotations``: as ``annotations`` and items left without annotations
  are removed (``remove_empty`` forces that in any mode).

Representation::

    <item>
      <id/> <subset/>
      <image> <width/> <height/> <path/> <name/> </image>
      <attributes> one child per item attribute </attributes>
      <annotation>
        <id/> <type/> <label/> <label_id/> <group/> <z_order/>
        <x/> <y/> <w/> <h/> <area/>            (shapes: bounding box and area)
        <points> <point><x/><y/>[<visibility/>]</point>... </points>
        <caption/>                               (captions)
        <attributes> one child per attribute </attributes>
        one direct child per attribute as well (``occluded``, ``is_crowd``, ...)
      </annotation>
    </item>

Attribute values are text: booleans ``True``/``False``, numbers in Python's shortest
form, lists and mappings as sorted JSON. Attributes whose names are not XML names
appear only as ``<attribute name="...">`` inside ``<attributes>``.
"""

from __future__ import annotations

import json
import re
from types import MappingProxyType
from typing import Any, Callable, Mapping

from dsrepo.errors import UsageError
from dsrepo.model.annotations import AnnType, Annotation
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item

MODES = {
    "items": "items", "i": "items",
    "annotations": "annotations", "a": "annotations",
    "items+annotations": "items+annotations", "i+a": "items+annotations",
    "a+i": "items+annotations", "annotations+items": "items+annotations",
}

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_RESERVED = frozenset({"id", "type", "label", "label_id", "group", "z_order", "x", "y", "w", "h",
                       "area", "points", "caption", "attributes", "attribute"})
_AREA_TYPES = (AnnType.bbox, AnnType.polygon, AnnType.mask, AnnType.ellipse)


def _plain(v: Any) -> Any:
    if isinstance(v, (Mapping, MappingProxyType)):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _text(v: Any) -> str:
    if v is None:
        s = ""
    elif isinstance(v, (bool, int, float, str)):
        s = str(v)
    else:
        s = json.dumps(_plain(v), sort_keys=True, ensure_ascii=False, default=str)
    return _BAD_CHARS.sub("\ufffd", s)


def _num(v: float) -> str:
    return repr(float(v))


def _sub(parent, tag: str, text: str | None = None):
    from lxml import etree

    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def _attributes(parent, attrs: Mapping[str, Any], direct: bool) -> None:
    if not attrs:
        return
    box = _sub(parent, "attributes")
    for k in sorted(attrs):
        v = _text(attrs[k])
        valid = bool(_NAME.match(k)) and not k.lower().startswith("xml")
        if valid and k != "attribute":
            _sub(box, k, v)
        else:
            el = _sub(box, "attribute", v)
            el.set("name", _BAD_CHARS.sub("\ufffd", k))
        if direct and valid and k not in _RESERVED:
            _sub(parent, k, v)


def _annotation(parent, ann: Annotation, cats: Categories) -> None:
    el = _sub(parent, "annotation")
    _sub(el, "id", str(ann.id))
    _sub(el, "type", ann.type.value)
    if ann.label is not None:
        name = cats.labels[ann.label].name if ann.label < len(cats.labels) else ""
        _sub(el, "label", _text(name))
        _sub(el, "label_id", str(ann.label))
    _sub(el, "group", str(ann.group))
    _sub(el, "z_order", str(ann.z_order))
    t = ann.type
    if t is AnnType.caption:
        _sub(el, "caption", _text(ann.caption))  # type: ignore[union-attr]
    elif t is not AnnType.label:
        x, y, w, h = ann.get_bbox()  # type: ignore[union-attr]
        for tag, v in (("x", x), ("y", y), ("w", w), ("h", h)):
            _sub(el, tag, _num(v))
        if t in _AREA_TYPES:
            _sub(el, "area", _num(ann.get_area()))  # type: ignore[union-attr]
        if t in (AnnType.polygon, AnnType.polyline, AnnType.points):
            pts = ann.points  # type: ignore[union-attr]
            vis = ann.visibility if t is AnnType.points else None  # type: ignore[union-attr]
            box = _sub(el, "points")
            for i in range(0, len(pts), 2):
                pt = _sub(box, "point")
                _sub(pt, "x", _num(pts[i]))
                _sub(pt, "y", _num(pts[i + 1]))
                if vis is not None:
                    _sub(pt, "visibility", str(vis[i // 2]))
    _attributes(el, ann.attributes, direct=True)


def item_element(item: Item, categories: Categories, image_info: bool = True):
    """The lxml element representing ``item`` (see the module docstring). With
    ``image_info=False`` image width/height are left out (no header reads)."""
    from lxml import etree

    root = etree.Element("item")
    _sub(root, "id", _text(item.id))
    _sub(root, "subset", _text(item.subset))
    m = item.media
    if m is not None:
        img = _sub(root, "image")
        size = m.header_size() if image_info else None
        if size is not None:
            _sub(img, "width", str(size[1]))
            _sub(img, "height", str(size[0]))
        _sub(img, "path", _text(m.path or m.name or ""))
        if m.name:
            _sub(img, "name", _text(m.name))
    _attributes(root, item.attributes, direct=False)
    for ann in item.annotations:
        _annotation(root, ann, categories)
    return root


def item_to_xml(item: Item, categories: Categories) -> str:
    """Pretty-printed XML text of ``item`` as filters see it (for ``--dry-run``)."""
    from lxml import etree

    return etree.tostring(item_element(item, categories), pretty_print=True, encoding="unicode")


def compile_expr(expr: str) -> Callable[[Any], Any]:
    """Compile an XPath expression; :class:`UsageError` naming it when invalid."""
    from lxml import etree

    if not isinstance(expr, str) or not expr.strip():
        raise UsageError(f"filter: empty XPath expression {expr!r}")
    try:
        xp = etree.XPath(expr, smart_strings=False)
        xp(etree.Element("item"))  # surface evaluation errors (unknown functions, variables)
    except etree.XPathError as e:
        raise UsageError(f"filter: bad XPath expression {expr!r}: {e}") from None
    return xp


def _truth(result: Any) -> bool:
    if isinstance(result, float):
        return result == result and result != 0.0
    return bool(result)


def filter_dataset(dataset: Dataset, expr: str, mode: str = "items", remove_empty: bool = False) -> Dataset:
    """Keep the items (``mode="items"``), annotations (``"annotations"``) or both
    (``"items+annotations"``) that ``expr`` selects; ``remove_empty`` also drops items
    left without annotations. Lazy; categories and subset meta are unchanged.
    Bad expressions or modes raise :class:`UsageError`."""
    kind = MODES.get(mode)
    if kind is None:
        raise UsageError(f"filter: unknown mode {mode!r} (known: items, annotations, items+annotations)")
    xp = compile_expr(expr)
    cats = dataset.categories
    image_info = "image" in expr
    drop_empty = remove_empty or kind == "items+annotations"

    if kind == "items":
        def keep_item(item: Item) -> Item | None:
            if drop_empty and not item.annotations:
                return None
            return item if _truth(xp(item_element(item, cats, image_info))) else None

        return dataset.map_items(keep_item)

    def keep_anns(item: Item) -> Item | None:
        if not item.annotations:
            return None if drop_empty else item
        root = item_element(item, cats, image_info)
        result = xp(root)
        if not isinstance(result, list):
            raise UsageError(f"filter: expression {expr!r} must select annotation elements "
                             f"in {kind} mode, it gives a {type(result).__name__}")
        first = len(root) - len(item.annotations)
        keep = sorted({root.index(n) - first for n in result
                       if getattr(n, "tag", None) == "annotation" and n.getparent() is root})
        if not keep and drop_empty:
            return None
        if len(keep) == len(item.annotations):
            return item
        return item.with_(annotations=tuple(item.annotations[i] for i in keep))

    return dataset.map_items(keep_anns)
