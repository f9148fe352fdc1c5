"""Reading and validating a Segments.ai release file into compact sample records.

Pixels are not touched here: bitmaps are only located (and checked to exist), so a
release is validated completely before any item is built.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsrepo.errors import DatasetError
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.common.media import is_image_name
from dsrepo.formats.segments_ai.assets import resolve_url
from dsrepo.formats.segments_ai.jsonio import is_int, is_num, load_json, short, type_name

NS = "segments_ai"
GROUND_TRUTH = "ground-truth"
VECTOR_TYPES = ("bbox", "polygon", "polyline", "point")
SAMPLE_KEYS = ("name", "attributes", "labels")
LABEL_ATTR_KEYS = ("annotations", "segmentation_bitmap", "image_attributes")
ANN_KEYS = ("id", "category_id", "type", "points", "attributes")


@dataclass(frozen=True, slots=True)
class Settings:
    """Import options, resolved: ``statuses`` is None for every status."""

    root: Path
    assets: Path
    labelset: str | None
    statuses: frozenset[str] | None
    skip_missing_bitmaps: bool


@dataclass(frozen=True, slots=True)
class SAnn:
    """One annotation: ``kind`` None is an instance of the bitmap, else a vector type."""

    id: int
    category_id: int | None
    kind: str | None
    points: tuple[float, ...]
    attributes: dict
    extra: dict


@dataclass(frozen=True, slots=True)
class SSample:
    """One sample that passed the status filter."""

    item_id: str
    name: str
    where: str
    image_path: Path | None
    bitmap_path: Path | None
    bitmap_missing: bool
    anns: tuple[SAnn, ...]
    image_attributes: dict
    meta: dict


@dataclass(frozen=True, slots=True)
class ReleaseFile:
    """A parsed release: its categories (raw dicts), samples and file-level meta."""

    path: Path
    categories: list
    samples: list
    meta: dict


def item_id_of(name: str, source: object, where: str) -> str:
    """Item id of a sample name: the safe relative path without its image extension."""
    rel = safe_relpath(name, source, where)
    return os.path.splitext(rel)[0] if is_image_name(rel) and os.path.splitext(rel)[0] else rel


def _obj(v: Any, path: Path, where: str, what: str, optional: bool = True) -> dict:
    if v is None and optional:
        return {}
    if not isinstance(v, dict):
        raise DatasetError(f"{what} must be an object, got {type_name(v)}", path, where)
    return v


def _extra(d: dict, known: tuple[str, ...]) -> dict:
    return {k: v for k, v in d.items() if k not in known}


def _find_categories(doc: dict, ds: dict, path: Path, labelset: str | None) -> tuple[list, list]:
    """(categories, key path to them inside ``doc``)."""
    ta = ds.get("task_attributes")
    if ta is not None:
        ta = _obj(ta, path, "dataset", "task_attributes")
        cats = ta.get("categories", [])
        return cats, ["dataset", "task_attributes", "categories"]
    tasks = ds.get("tasks")
    if tasks is None:
        return [], []
    if not isinstance(tasks, list):
        raise DatasetError(f"tasks must be a list, got {type_name(tasks)}", path, "dataset")
    chosen = None
    for k, t in enumerate(tasks):
        t = _obj(t, path, f"task #{k}", "task", optional=False)
        attrs = _obj(t.get("attributes"), path, f"task #{k}", "attributes")
        if "categories" in attrs and (chosen is None or t.get("name") == labelset):
            chosen = (attrs["categories"], ["dataset", "tasks", k, "attributes", "categories"])
    return chosen if chosen is not None else ([], [])


def check_categories(cats: Any, path: Path) -> list:
    """Validate the category list; returns it."""
    if not isinstance(cats, list):
        raise DatasetError(f"categories must be a list, got {type_name(cats)}", path)
    seen: set[int] = set()
    for i, c in enumerate(cats):
        if not isinstance(c, dict):
            raise DatasetError(f"must be an object, got {type_name(c)}", path, f"category #{i}")
        if not is_int(c.get("id")):
            raise DatasetError(f"id must be an integer, got {short(c.get('id'))}", path, f"category #{i}")
        where = f"category id {c['id']}"
        if c["id"] in seen:
            raise DatasetError("listed twice", path, where)
        seen.add(c["id"])
        if not isinstance(c.get("name"), str):
            raise DatasetError(f"name must be a string, got {short(c.get('name'))}", path, where)
        color = c.get("color")
        if color is not None and not (isinstance(color, list) and len(color) in (3, 4)
                                      and all(is_int(x) and 0 <= x <= 255 for x in color)):
            raise DatasetError(f"color must be [r, g, b] or [r, g, b, a] with values 0-255, got {short(color)}",
                               path, where)
        attrs = c.get("attributes")
        if attrs is not None and not (isinstance(attrs, list) and all(
                isinstance(a, dict) and isinstance(a.get("name"), str) for a in attrs)):
            raise DatasetError("attributes must be a list of objects with a name", path, where)
    return cats


def _choose_labelset(doc_ds: dict, samples: list, wanted: str | None, path: Path) -> str:
    if wanted:
        return wanted
    names: dict[str, None] = {}
    for ls in doc_ds.get("labelsets") or ():
        if isinstance(ls, dict) and isinstance(ls.get("name"), str):
            names.setdefault(ls["name"], None)
    for s in samples:
        labels = s.get("labels") if isinstance(s, dict) else None
        if isinstance(labels, dict):
            for k in labels:
                names.setdefault(k, None)
    if GROUND_TRUTH in names or not names:
        return GROUND_TRUTH
    if len(names) == 1:
        return next(iter(names))
    raise DatasetError(f"several labelsets ({', '.join(sorted(names))}): choose one with --labelset", path)


def _points(v: Any, path: Path, where: str) -> tuple[float, ...]:
    if not isinstance(v, list) or not all(isinstance(p, list) and len(p) == 2 and all(is_num(x) for x in p)
                                          for p in v):
        raise DatasetError(f"points must be a list of [x, y] numbers, got {short(v)}", path, where)
    return tuple(float(x) for p in v for x in p)


def _annotation(a: Any, k: int, path: Path, where: str, cat_ids: set) -> SAnn:
    if not isinstance(a, dict):
        raise DatasetError(f"must be an object, got {type_name(a)}", path, f"{where}: annotation #{k}")
    if not is_int(a.get("id")) or a["id"] <= 0:
        raise DatasetError(f"id must be a positive integer, got {short(a.get('id'))}", path,
                           f"{where}: annotation #{k}")
    w = f"{where}: annotation id {a['id']}"
    cid = a.get("category_id")
    if cid is not None and not is_int(cid):
        raise DatasetError(f"category_id must be an integer, got {short(cid)}", path, w)
    if cid is not None and cid not in cat_ids:
        raise DatasetError(f"category_id {cid} is not in the categories", path, w)
    attrs = _obj(a.get("attributes"), path, w, "attributes")
    kind = a.get("type")
    pts: tuple[float, ...] = ()
    if kind is not None:
        if kind not in VECTOR_TYPES:
            raise DatasetError(f"unsupported annotation type {short(kind)} (supported: {', '.join(VECTOR_TYPES)})",
                               path, w)
        pts = _points(a.get("points"), path, w)
        need = {"bbox": (4,), "point": (2,)}.get(kind)
        if need and len(pts) not in need:
            raise DatasetError(f"a {kind} needs {need[0] // 2} points, got {len(pts) // 2}", path, w)
    return SAnn(a["id"], cid, kind, pts, dict(attrs), _extra(a, ANN_KEYS))


def _sample(s: Any, i: int, path: Path, st: Settings, labelset: str, cat_ids: set) -> SSample | None:
    where = f"sample #{i}"
    if not isinstance(s, dict):
        raise DatasetError(f"must be an object, got {type_name(s)}", path, where)
    name = s.get("name")
    if not isinstance(name, str) or not name:
        raise DatasetError(f"name must be a non-empty string, got {short(name)}", path, where)
    where = f"sample {name!r}"
    item_id = item_id_of(name, path, where)
    attrs = _obj(s.get("attributes"), path, where, "attributes")
    image = _obj(attrs.get("image"), path, where, "attributes.image")
    labels = _obj(s.get("labels"), path, where, "labels")
    label = _obj(labels.get(labelset), path, where, f"label {labelset!r}")
    status = label.get("label_status", "UNLABELED") if label else "UNLABELED"
    if not isinstance(status, str):
        raise DatasetError(f"label_status must be a string, got {short(status)}", path, where)
    if st.statuses is not None and status.lower() not in st.statuses:
        return None
    meta: dict[str, Any] = {}
    url = image.get("url")
    image_path = None
    if url is not None:
        if not isinstance(url, str) or not url:
            raise DatasetError(f"image url must be a non-empty string, got {short(url)}", path, where)
        meta["url"] = url
        image_path = resolve_url(url, st.root, st.assets, path, where)
    for key, d, known in (("sample", s, SAMPLE_KEYS), ("sattrs", attrs, ("image",)), ("image", image, ("url",))):
        if x := _extra(d, known):
            meta[key] = x
    lattrs = _obj(label.get("attributes"), path, where, "label attributes")
    if label:
        meta["label"] = _extra(label, ("attributes",))
        if x := _extra(lattrs, LABEL_ATTR_KEYS):
            meta["lattrs"] = x
    anns_raw = lattrs.get("annotations", [])
    if not isinstance(anns_raw, list):
        raise DatasetError(f"annotations must be a list, got {type_name(anns_raw)}", path, where)
    anns = tuple(_annotation(a, k, path, where, cat_ids) for k, a in enumerate(anns_raw))
    seen: set[int] = set()
    for a in anns:
        if a.id in seen:
            raise DatasetError(f"annotation id {a.id} is listed twice", path, where)
        seen.add(a.id)
    bitmap = _obj(lattrs.get("segmentation_bitmap"), path, where, "segmentation_bitmap")
    bitmap_path, missing = None, False
    if bitmap:
        burl = bitmap.get("url")
        if not isinstance(burl, str) or not burl:
            raise DatasetError(f"segmentation_bitmap url must be a non-empty string, got {short(burl)}", path, where)
        if x := _extra(bitmap, ("url",)):
            meta["bitmap"] = x
        bitmap_path = resolve_url(burl, st.root, st.assets, path, where)
        if bitmap_path is None or not bitmap_path.is_file():
            if not st.skip_missing_bitmaps:
                raise DatasetError(f"segmentation bitmap {burl!r} not found (looked for {bitmap_path}; "
                                   "use --assets DIR or --missing-bitmaps skip)", path, where)
            bitmap_path, missing = None, True
    if not bitmap and any(a.kind is None for a in anns):
        first = next(a for a in anns if a.kind is None)
        raise DatasetError(f"annotation id {first.id} has no type and the label has no segmentation_bitmap",
                           path, where)
    ia = _obj(lattrs.get("image_attributes"), path, where, "image_attributes")
    return SSample(item_id, name, where, image_path, bitmap_path, missing, anns, dict(ia), meta)


def parse_release(path: Path, st: Settings) -> ReleaseFile:
    """Read and validate one release file; DatasetError names the file and sample."""
    doc = load_json(path)
    if not isinstance(doc, dict):
        raise DatasetError(f"expected a release object with a 'dataset', got {type_name(doc)}", path)
    ds = doc.get("dataset")
    if not isinstance(ds, dict):
        raise DatasetError("no 'dataset' object (not a Segments.ai release file?)", path)
    samples = ds.get("samples", [])
    if not isinstance(samples, list):
        raise DatasetError(f"samples must be a list, got {type_name(samples)}", path, "dataset")
    if ds.get("labelsets") is not None and not isinstance(ds["labelsets"], list):
        raise DatasetError(f"labelsets must be a list, got {type_name(ds['labelsets'])}", path, "dataset")
    labelset = _choose_labelset(ds, samples, st.labelset, path)
    cats, cat_path = _find_categories(doc, ds, path, labelset)
    cats = check_categories(cats, path)
    cat_ids = {c["id"] for c in cats}
    out = []
    seen: dict[str, str] = {}
    for i, s in enumerate(samples):
        rec = _sample(s, i, path, st, labelset, cat_ids)
        if rec is None:
            continue
        if rec.item_id in seen:
            raise DatasetError(f"name gives item id {rec.item_id!r} like {seen[rec.item_id]}", path, rec.where)
        seen[rec.item_id] = rec.where
        out.append(rec)
    skeleton = {k: v for k, v in doc.items()}
    skeleton["dataset"] = {k: (None if k == "samples" else v) for k, v in ds.items()}
    skeleton = copy.deepcopy(skeleton)
    if cat_path:
        _set(skeleton, cat_path, None)
    meta = {"file": path.name, "doc": skeleton, "cat_path": cat_path, "labelset": labelset}
    return ReleaseFile(path, cats, out, meta)


def _set(doc: Any, keys: list, value: Any) -> None:
    for k in keys[:-1]:
        doc = doc[k]
    doc[keys[-1]] = value
