"""Render annotations, labels and the ``<meta>`` tree as CVAT XML text."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from dsrepo.formats.cvat import fmt
from dsrepo.formats.cvat.meta import LABELS_SLOT, NS, cvat_meta, value_text
from dsrepo.model.annotations import AnnType

SPECIAL = ("occluded", "source", "rotation", "track_id", "keyframe", "outside")
TAGS = {AnnType.bbox: "box", AnnType.polygon: "polygon", AnnType.polyline: "polyline",
        AnnType.points: "points", AnnType.ellipse: "ellipse", AnnType.mask: "mask", AnnType.label: "tag"}


def geometry(ann: Any) -> list[tuple[str, str]] | None:
    """The coordinate XML attributes of ``ann`` (None for an empty mask)."""
    t = ann.type
    if t is AnnType.bbox:
        return [("xtl", fmt.num(ann.x)), ("ytl", fmt.num(ann.y)),
                ("xbr", fmt.end(ann.x, ann.w)), ("ybr", fmt.end(ann.y, ann.h))]
    if t in (AnnType.polygon, AnnType.polyline, AnnType.points):
        return [("points", fmt.points(ann.points))]
    if t is AnnType.ellipse:
        cx, rx = fmt.centre_radius(ann.x1, ann.x2)
        cy, ry = fmt.centre_radius(ann.y1, ann.y2)
        return [("cx", cx), ("cy", cy), ("rx", rx), ("ry", ry)]
    if t is AnnType.mask:
        out = fmt.mask_rle(ann.image, cvat_meta(ann.meta).get("box"))
        if out is None:
            return None
        rle, (left, top, width, height) = out
        return [("rle", rle), ("left", str(left)), ("top", str(top)), ("width", str(width)),
                ("height", str(height))]
    return []


def _flag(v: Any) -> str:
    return "1" if v is True or v == 1 or v == "1" or v == "true" else "0"


def shape_attrs(ann: Any, label: str, geom: list[tuple[str, str]], track: Mapping[str, Any] | None,
                with_track_info: bool) -> list[tuple[str, str]]:
    """XML attributes of a shape: CVAT's order, then track data, then kept extras.

    ``track`` holds ``frame``/``keyframe``/``outside`` for a ``<track>`` child (which
    has no label/source/group: the track carries them)."""
    a = ann.attributes
    is_tag = ann.type is AnnType.label
    if track is not None:
        out = [("frame", str(track["frame"])), ("keyframe", _flag(track["keyframe"])),
               ("outside", _flag(track["outside"]))]
        if not is_tag:
            out.append(("occluded", _flag(a.get("occluded"))))
        out += geom
    else:
        out = [("label", label), ("source", str(a.get("source", "manual")))]
        if not is_tag:
            out.append(("occluded", _flag(a.get("occluded"))))
        out += geom
    if not is_tag:
        out.append(("z_order", str(int(ann.z_order))))
        if "rotation" in a and ann.type in (AnnType.bbox, AnnType.ellipse):
            out.append(("rotation", fmt.num(float(a["rotation"]))))
    if track is None and ann.group:
        out.append(("group_id", str(int(ann.group))))
    if with_track_info and isinstance(a.get("track_id"), int):
        out += [("track_id", str(a["track_id"])), ("keyframe", _flag(a.get("keyframe"))),
                ("outside", _flag(a.get("outside")))]
    used = {k for k, _ in out}
    extra = cvat_meta(ann.meta).get("x") or {}
    out += [(k, str(v)) for k, v in sorted(extra.items()) if k not in used and k not in SPECIAL]
    return out


def attribute_children(attrs: Mapping[str, Any], order: Sequence[str], indent: str) -> list[str]:
    """``<attribute name=..>value</attribute>`` lines: spec order, then the rest sorted."""
    names = [n for n in order if n in attrs and n not in SPECIAL]
    names += sorted(n for n in attrs if n not in SPECIAL and n not in set(order))
    return [f'{indent}<attribute name="{fmt.attr(n)}">{fmt.text(value_text(attrs[n]))}</attribute>'
            for n in names]


def element(tag: str, attrs: list[tuple[str, str]], children: list[str], indent: str) -> list[str]:
    """An element's lines (children already rendered with deeper indentation)."""
    if not children:
        return [indent + fmt.open_tag(tag, attrs)[:-1] + "/>"]
    return [indent + fmt.open_tag(tag, attrs), *children, f"{indent}</{tag}>"]


# -- meta ------------------------------------------------------------------------------


def _spec_lines(spec: Mapping[str, Any], ind: str) -> list[str]:
    values = "\n".join(str(v) for v in spec.get("values") or ())
    return [f"{ind}<attribute>",
            f"{ind}  <name>{fmt.text(str(spec['name']))}</name>",
            f"{ind}  <mutable>{'True' if spec.get('mutable') else 'False'}</mutable>",
            f"{ind}  <input_type>{fmt.text(str(spec.get('input_type', 'text')))}</input_type>",
            f"{ind}  <default_value>{fmt.text(str(spec.get('default_value', '')))}</default_value>",
            f"{ind}  <values>{fmt.text(values)}</values>",
            f"{ind}</attribute>"]


def label_lines(labels: Sequence[tuple[str, Mapping[str, Any], list[Mapping[str, Any]]]], ind: str) -> list[str]:
    """``<labels>`` from ``(name, cvat label meta, attribute specs)`` triples."""
    out = [f"{ind}<labels>"]
    for name, m, specs in labels:
        out.append(f"{ind}  <label>")
        out.append(f"{ind}    <name>{fmt.text(name)}</name>")
        for k in ("color", "type"):
            if isinstance(m.get(k), str):
                out.append(f"{ind}    <{k}>{fmt.text(m[k])}</{k}>")
        for node in m.get("x") or ():
            out += tree_lines(node, ind + "    ", [])
        out.append(f"{ind}    <attributes>")
        for s in specs:
            out += _spec_lines(s, ind + "      ")
        out.append(f"{ind}    </attributes>")
        out.append(f"{ind}  </label>")
    out.append(f"{ind}</labels>")
    return out


def tree_lines(node: Any, ind: str, labels: list[str]) -> list[str]:
    """Lines of a meta tree node; the labels placeholder becomes ``labels``."""
    if node == LABELS_SLOT:
        return labels
    tag, val = node[0], node[1]
    if isinstance(val, list):
        out = [f"{ind}<{tag}>"]
        for c in val:
            out += tree_lines(c, ind + "  ", labels)
        return out + [f"{ind}</{tag}>"]
    return [f"{ind}<{tag}>{fmt.text(str(val))}</{tag}>"]


def with_labels_slot(tree: list) -> list:
    """``tree`` (a ``meta`` node) with a labels placeholder in its task/project node."""
    def has(n: Any) -> bool:
        return n == LABELS_SLOT or (isinstance(n, list) and isinstance(n[1], list) and any(has(c) for c in n[1]))

    if has(tree):
        return tree
    kids = list(tree[1]) if isinstance(tree[1], list) else []
    for i, n in enumerate(kids):
        if n[0] in ("project", "task") and isinstance(n[1], list):
            kids[i] = [n[0], [*n[1], LABELS_SLOT]]
            return [tree[0], kids]
    return [tree[0], [["task", [LABELS_SLOT]], *kids]]


__all__ = ["NS", "TAGS", "SPECIAL", "geometry", "shape_attrs", "attribute_children", "element",
           "label_lines", "tree_lines", "with_labels_slot"]
