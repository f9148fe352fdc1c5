"""Writing VOC annotation XML (deterministic: fixed element order, 2-space indent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from lxml import etree

from dsrepo.formats.voc.xmlparse import FLAGS

_FRAGMENT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                                   remove_blank_text=True)


def fmt_number(v: float) -> str:
    """``12`` for integral values, else the shortest repr (``12.5``)."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e16 else repr(float(v))


def fmt_value(v: Any) -> str:
    """Text of a custom attribute value (bools as true/false)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


@dataclass(frozen=True, slots=True)
class BoxText:
    """Corner texts ``(xmin, ymin, xmax, ymax)`` of a box."""

    xmin: str
    ymin: str
    xmax: str
    ymax: str


@dataclass(frozen=True, slots=True)
class ObjectOut:
    """One ``<object>`` to write."""

    name: str
    box: BoxText
    flags: tuple[bool, bool, bool]
    pose: str | None
    parts: tuple[tuple[str, BoxText], ...]
    actions: tuple[tuple[str, bool], ...]
    attributes: tuple[tuple[str, str], ...]
    extra: tuple[str, ...]


def _sub(parent: Any, tag: str, text: str | None = None) -> Any:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def _bndbox(parent: Any, box: BoxText) -> None:
    bb = _sub(parent, "bndbox")
    for tag in ("xmin", "ymin", "xmax", "ymax"):
        _sub(bb, tag, getattr(box, tag))


def _append_fragment(parent: Any, text: str) -> None:
    try:
        parent.append(etree.fromstring(text, _FRAGMENT_PARSER))
    except etree.XMLSyntaxError:
        pass  # not a fragment we wrote; meta was edited by hand: skip it


def _object(parent: Any, o: ObjectOut) -> None:
    el = _sub(parent, "object")
    _sub(el, "name", o.name)
    if o.pose is not None:
        _sub(el, "pose", o.pose)
    for tag, v in zip(FLAGS, o.flags):
        _sub(el, tag, "1" if v else "0")
    _bndbox(el, o.box)
    for name, box in o.parts:
        p = _sub(el, "part")
        _sub(p, "name", name)
        _bndbox(p, box)
    if o.actions:
        acts = _sub(el, "actions")
        for name, v in o.actions:
            _sub(acts, name, "1" if v else "0")
    for frag in o.extra:
        _append_fragment(el, frag)
    if o.attributes:
        attrs = _sub(el, "attributes")
        for name, v in o.attributes:
            a = _sub(attrs, "attribute")
            _sub(a, "name", name)
            _sub(a, "value", v)


DEFAULT_ELEMS = ("filename", "size", "segmented", "object")


def annotation_xml(elems: Sequence[str], filename: str, size: tuple[int, int] | None, depth: str | None,
                   segmented: bool, objects: Sequence[ObjectOut]) -> bytes:
    """The XML bytes of one annotation file. ``elems`` gives the top-level layout:
    names of the modelled elements and XML fragments of the others, in order."""
    root = etree.Element("annotation")
    wrote_objects = False
    for e in elems:
        if e.startswith("<"):
            _append_fragment(root, e)
        elif e == "filename":
            _sub(root, "filename", filename)
        elif e == "size":
            s = _sub(root, "size")
            _sub(s, "width", str(size[1]) if size else "0")
            _sub(s, "height", str(size[0]) if size else "0")
            if depth is not None:
                _sub(s, "depth", depth)
        elif e == "segmented":
            _sub(root, "segmented", "1" if segmented else "0")
        elif e == "object" and not wrote_objects:
            wrote_objects = True
            for o in objects:
                _object(root, o)
    if not wrote_objects:
        for o in objects:
            _object(root, o)
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="utf-8", xml_declaration=False, pretty_print=True)
