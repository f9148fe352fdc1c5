"""The ``<meta>`` block of CVAT XML: labels with attribute specs, and everything else
kept as a small JSON tree for lossless round trips.

Round-trip data lives under the ``"cvat"`` key of meta mappings (plain JSON values):

LabelCategory.meta["cvat"]
    ``attrs`` attribute specs ``{name, mutable, input_type, default_value, values}``,
    ``color`` and ``type`` when given, ``x`` other label children as a tree.
Dataset.subset_meta[subset]["cvat"]
    ``file`` the XML file (relative path) the subset came from, ``layout``
    (``single``/``files``/``dirs``), ``mode`` (``images``/``video``), ``meta`` the
    ``<meta>`` tree with a ``["labels", None]`` placeholder where the labels were.
Item.meta["cvat"] / annotation meta["cvat"]
    ``x`` XML attributes this package does not interpret, ``raw`` unsupported elements
    (skeleton, cuboid, ...) as XML text, ``box`` a mask's ``[left, top, width, height]``,
    ``o`` an image's position in a file whose image ids are not in ascending order.
"""

from __future__ import annotations

import math
import re
from collections import abc
from types import MappingProxyType
from typing import Any, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.cvat.xmlsafe import where
from dsrepo.model.categories import LabelCategory

NS = "cvat"
LABELS_SLOT = ["labels", None]
_NONE: Mapping[str, Any] = MappingProxyType({})
_INT = re.compile(r"[-+]?\d+")
_LABEL_KNOWN = ("name", "color", "type", "attributes")


def cvat_meta(meta: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The ``"cvat"`` part of a meta mapping (empty if absent or malformed)."""
    m = meta.get(NS) if meta else None
    return m if isinstance(m, abc.Mapping) else _NONE


def to_tree(el) -> list:
    """``[tag, text]`` for a leaf element, ``[tag, [children...]]`` otherwise."""
    kids = [c for c in el if isinstance(c.tag, str)]
    if not kids:
        return [el.tag, (el.text or "").strip()]
    return [el.tag, [to_tree(c) for c in kids]]


def tree_find(tree: Any, *path: str) -> Any:
    """The value of the first node at ``path`` below ``tree`` (a node), or None."""
    node = tree
    for tag in path:
        if not isinstance(node, list) or not isinstance(node[1], list):
            return None
        node = next((c for c in node[1] if isinstance(c, list) and c and c[0] == tag), None)
        if node is None:
            return None
    return node[1]


def _bool(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "yes")


def parse_spec(el, path) -> dict:
    """One ``<attribute>`` spec of a label as a normalised dict."""
    get = {c.tag: (c.text or "") for c in el if isinstance(c.tag, str)}
    name = get.get("name", "").strip()
    if not name:
        raise DatasetError("label attribute without a name", path, where(el))
    values = get.get("values", "")
    return {"name": name, "mutable": _bool(get.get("mutable", "False")),
            "input_type": get.get("input_type", "text").strip() or "text",
            "default_value": get.get("default_value", ""),
            "values": values.split("\n") if values else []}


def parse_label(el, path) -> LabelCategory:
    """A ``<label>`` element as a LabelCategory (specs and extras in ``meta["cvat"]``)."""
    m: dict[str, Any] = {}
    name = None
    specs: list[dict] = []
    extra = []
    for c in el:
        if not isinstance(c.tag, str):
            continue
        if c.tag == "name":
            name = (c.text or "").strip()
        elif c.tag in ("color", "type"):
            m[c.tag] = (c.text or "").strip()
        elif c.tag == "attributes":
            specs = [parse_spec(a, path) for a in c if a.tag == "attribute"]
        else:
            extra.append(to_tree(c))
    if not name:
        raise DatasetError("label without a name", path, where(el))
    m["attrs"] = specs
    if extra:
        m["x"] = extra
    return LabelCategory(name=name, attributes=tuple(s["name"] for s in specs), meta={NS: m})


def parse_meta(el, path) -> tuple[list, list[LabelCategory] | None]:
    """``(tree with a labels placeholder, labels or None)`` of a ``<meta>`` element.

    The labels are the first ``<labels>`` under ``project`` or ``task``."""
    labels = None
    for top in el:
        if top.tag in ("project", "task"):
            lab = top.find("labels")
            if lab is not None:
                labels = [parse_label(x, path) for x in lab if x.tag == "label"]
                tree = to_tree(el)
                for node in tree[1]:
                    if node[0] == top.tag and isinstance(node[1], list):
                        node[1] = [LABELS_SLOT if c[0] == "labels" else c for c in node[1]]
                        break
                return tree, labels
    return to_tree(el), labels


def task_subset(tree: Any) -> str:
    """The task's ``<subset>`` in a task-level meta tree ("" if none)."""
    v = tree_find(tree, "task", "subset")
    return v if isinstance(v, str) else ""


def frame_size(tree: Any) -> tuple[int, int] | None:
    """``(h, w)`` from ``task/original_size`` (video exports), or None."""
    w = tree_find(tree, "task", "original_size", "width")
    h = tree_find(tree, "task", "original_size", "height")
    try:
        return (int(h), int(w)) if h and w else None
    except ValueError:
        return None


def task_size(tree: Any) -> int | None:
    """The task's frame count ``task/size`` when the frames are simply 0..size-1."""
    size = tree_find(tree, "task", "size")
    flt = tree_find(tree, "task", "frame_filter")
    if flt or not isinstance(size, str) or not size.isdigit():
        return None
    return int(size)


# -- attribute values ------------------------------------------------------------------


def spec_map(label: LabelCategory | None) -> dict[str, Mapping[str, Any]]:
    """Attribute specs of ``label`` by name."""
    if label is None:
        return {}
    specs = cvat_meta(label.meta).get("attrs") or ()
    return {s["name"]: s for s in specs if isinstance(s, abc.Mapping) and "name" in s}


def typed_value(text: str, spec: Mapping[str, Any] | None) -> Any:
    """An attribute value typed by its spec: checkbox -> bool, number -> int/float."""
    kind = spec.get("input_type") if spec else None
    if kind == "checkbox":
        low = text.strip().lower()
        if low in ("true", "false"):
            return low == "true"
    elif kind == "number":
        t = text.strip()
        if _INT.fullmatch(t):
            return int(t)
        try:
            f = float(t)
        except ValueError:
            return text
        return f if math.isfinite(f) else text
    return text


def value_text(value: Any) -> str:
    """The XML text of an attribute value (inverse of :func:`typed_value`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value + 0.0)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    import orjson

    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
