"""Datumaro ``categories`` (label / mask colormap / points) to and from dsrepo Categories."""

from __future__ import annotations

from typing import Any, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.datumaro.schema import NS, PRIVATE, get_dict, is_int, kind, plain, show, sort_keys
from dsrepo.model.categories import Categories, LabelCategory, PointsCategory

_LABEL_KEYS = ("name", "parent", "attributes", PRIVATE)
_LABEL_CAT_KEYS = ("labels", "attributes", "label_groups")


def _strings(v: Any, key: str, path: object, where: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise DatasetError(f"{key} must be a list of strings, got {show(v)}", path, where)
    return tuple(v)


def split_private(d: Mapping[str, Any], known: tuple[str, ...], path: object, where: str) -> dict:
    """dsrepo meta of a Datumaro record: its private ``dsrepo.meta`` namespaces plus the
    record's unknown keys under ``meta["datumaro"]["x"]``."""
    meta: dict[str, Any] = {}
    priv = get_dict(d, PRIVATE, path, where)
    pm = priv.get("meta")
    if pm is not None:
        if not isinstance(pm, dict):
            raise DatasetError(f"{PRIVATE}.meta must be an object, got {kind(pm)}", path, where)
        meta.update((k, v) for k, v in pm.items() if k != NS)
    extra = {k: v for k, v in d.items() if k not in known}
    if extra:
        meta[NS] = {"x": extra}
    return meta


def join_private(out: dict, meta: Mapping[str, Any], **private: Any) -> dict:
    """Inverse of :func:`split_private`: add unknown keys and the private ``dsrepo`` key to ``out``."""
    native = meta.get(NS) or {}
    for k, v in sorted((native.get("x") or {}).items()):
        if k not in out:
            out[k] = sort_keys(v)
    others = {k: v for k, v in meta.items() if k != NS}
    priv: dict[str, Any] = {}
    if others:
        priv["meta"] = sort_keys(others)
    priv.update((k, v) for k, v in private.items() if v is not None)
    if priv:
        out[PRIVATE] = priv
    return out


def _labels(lc: Mapping[str, Any], path: object) -> tuple[list[LabelCategory], dict]:
    raw = lc.get("labels")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise DatasetError(f"labels must be a list, got {kind(raw)}", path, "categories.label")
    labels = []
    for i, ld in enumerate(raw):
        where = f"categories.label.labels[{i}]"
        if not isinstance(ld, dict):
            raise DatasetError(f"expected an object, got {kind(ld)}", path, where)
        name = ld.get("name")
        if not isinstance(name, str):
            raise DatasetError(f"name must be a string, got {show(name)}", path, where)
        parent = ld.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise DatasetError(f"parent must be a string, got {show(parent)}", path, where)
        labels.append(LabelCategory(name, parent or "", _strings(ld.get("attributes"), "attributes", path, where),
                                    split_private(ld, _LABEL_KEYS, path, where)))
    extra: dict[str, Any] = {}
    groups = lc.get("label_groups")
    if groups:
        extra["label_groups"] = groups
    x = {k: v for k, v in lc.items() if k not in _LABEL_CAT_KEYS}
    if x:
        extra["label_x"] = x
    return labels, extra


def _label_ref(v: Any, n_labels: int, path: object, where: str) -> int:
    if not is_int(v) or v < 0:
        raise DatasetError(f"label_id must be a non-negative integer, got {show(v)}", path, where)
    if n_labels and v >= n_labels:
        raise DatasetError(f"label_id {v} is out of range ({n_labels} labels)", path, where)
    return v


def _colormap(mc: Mapping[str, Any], n: int, path: object) -> dict[int, tuple[int, int, int]]:
    raw = mc.get("colormap") or []
    if not isinstance(raw, list):
        raise DatasetError(f"colormap must be a list, got {kind(raw)}", path, "categories.mask")
    out = {}
    for i, c in enumerate(raw):
        where = f"categories.mask.colormap[{i}]"
        if not isinstance(c, dict):
            raise DatasetError(f"expected an object, got {kind(c)}", path, where)
        lid = _label_ref(c.get("label_id"), n, path, where)
        rgb = tuple(c.get(k) for k in ("r", "g", "b"))
        if not all(is_int(v) and 0 <= v <= 255 for v in rgb):
            raise DatasetError(f"r, g, b must be integers 0-255, got {show(list(rgb))}", path, where)
        out[lid] = rgb  # type: ignore[assignment]
    return out


def _points(pc: Mapping[str, Any], n: int, path: object) -> dict[int, PointsCategory]:
    raw = pc.get("items") or []
    if not isinstance(raw, list):
        raise DatasetError(f"items must be a list, got {kind(raw)}", path, "categories.points")
    out = {}
    for i, p in enumerate(raw):
        where = f"categories.points.items[{i}]"
        if not isinstance(p, dict):
            raise DatasetError(f"expected an object, got {kind(p)}", path, where)
        lid = _label_ref(p.get("label_id"), n, path, where)
        names = _strings(p.get("labels"), "labels", path, where)
        joints = p.get("joints") or []
        if not isinstance(joints, list) or not all(
                isinstance(j, list) and len(j) == 2 and all(is_int(v) for v in j) for j in joints):
            raise DatasetError(f"joints must be a list of [int, int] pairs, got {show(joints)}", path, where)
        out[lid] = PointsCategory(names, tuple((a, b) for a, b in joints))
    return out


def parse_categories(raw: Any, path: object) -> tuple[Categories, dict]:
    """Categories of one annotation file, plus Datumaro-only data (label groups, unknown
    category kinds) to keep in subset meta. DatasetError names the offending entry."""
    if raw is None:
        return Categories(), {}
    if not isinstance(raw, dict):
        raise DatasetError(f"'categories' must be an object, got {kind(raw)}", path)
    extra: dict[str, Any] = {}
    labels: list[LabelCategory] = []
    attrs: tuple[str, ...] = ()
    lc = raw.get("label")
    if lc is not None:
        if not isinstance(lc, dict):
            raise DatasetError(f"expected an object, got {kind(lc)}", path, "categories.label")
        labels, extra = _labels(lc, path)
        attrs = _strings(lc.get("attributes"), "attributes", path, "categories.label")
    n = len(labels)
    colormap: dict = {}
    points: dict = {}
    mc = raw.get("mask")
    if mc is not None:
        if not isinstance(mc, dict):
            raise DatasetError(f"expected an object, got {kind(mc)}", path, "categories.mask")
        colormap = _colormap(mc, n, path)
    pc = raw.get("points")
    if pc is not None:
        if not isinstance(pc, dict):
            raise DatasetError(f"expected an object, got {kind(pc)}", path, "categories.points")
        points = _points(pc, n, path)
    other = {k: v for k, v in raw.items() if k not in ("label", "mask", "points")}
    if other:
        extra["x"] = other
    return Categories(labels=tuple(labels), points=points, colormap=colormap, attributes=attrs), extra


def categories_json(cats: Categories, extra: Mapping[str, Any]) -> dict:
    """The ``categories`` object Datumaro writes for ``cats`` (``extra``: what
    :func:`parse_categories` kept aside)."""
    labels = []
    for lab in cats.labels:
        ld = {"name": lab.name, "parent": lab.parent, "attributes": list(lab.attributes)}
        labels.append(join_private(ld, lab.meta))
    lc: dict[str, Any] = {"labels": labels, "label_groups": plain(extra.get("label_groups") or []),
                          "attributes": list(cats.attributes)}
    for k, v in sorted((extra.get("label_x") or {}).items()):
        lc.setdefault(k, sort_keys(v))
    out: dict[str, Any] = {"label": lc}
    if cats.colormap:
        out["mask"] = {"colormap": [{"label_id": k, "r": c[0], "g": c[1], "b": c[2]}
                                    for k, c in sorted(cats.colormap.items())]}
    if cats.points:
        out["points"] = {"items": [{"label_id": k, "labels": list(pc.labels), "joints": [list(j) for j in pc.joints]}
                                   for k, pc in sorted(cats.points.items())]}
    for k, v in sorted((extra.get("x") or {}).items()):
        out.setdefault(k, sort_keys(v))
    return out
