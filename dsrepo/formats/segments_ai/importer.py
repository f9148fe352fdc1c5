"""Segments.ai import: parse and validate every release file, build items lazily."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from dsrepo.errors import DatasetError
from dsrepo.formats.segments_ai.assets import assets_dir
from dsrepo.formats.segments_ai.bitmap import read_ids
from dsrepo.formats.segments_ai.parse import NS, ReleaseFile, SSample, Settings, parse_release
from dsrepo.formats.segments_ai.spec import looks_like_release
from dsrepo.model.annotations import Bbox, Mask, Points, Polygon, Polyline
from dsrepo.model.categories import Categories, LabelCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.model.media import Image
from dsrepo.progress import Progress

FILE_PREFIX = "release_"


def release_files(path: Path) -> list[tuple[str, Path]]:
    """``(subset, file)`` pairs of a release file or a folder of them.

    ``release_<subset>.json`` names its subset; any other single release is
    ``default``; several other files are named by their stem."""
    if path.is_file():
        files = [path]
    else:
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".json" and p.is_file()
                       and looks_like_release(p))
        if not files:
            raise DatasetError("no Segments.ai release file (*.json with a 'dataset') in this folder", path)
    out = []
    seen: dict[str, Path] = {}
    for f in files:
        subset = subset_of(f.name, len(files))
        if subset in seen:
            raise DatasetError(f"gives subset {subset!r} like {seen[subset].name}", f)
        seen[subset] = f
        out.append((subset, f))
    return out


def subset_of(file_name: str, n_files: int) -> str:
    """Subset of a release file name (see :func:`release_files`)."""
    stem = file_name[:-5] if file_name.lower().endswith(".json") else file_name
    if stem.startswith(FILE_PREFIX) and len(stem) > len(FILE_PREFIX):
        return stem[len(FILE_PREFIX):]
    return DEFAULT_SUBSET if n_files == 1 else stem


def _label_category(c: Mapping[str, Any]) -> LabelCategory:
    defs = c.get("attributes") or []
    m: dict[str, Any] = {"id": c["id"]}
    for k in ("color", "attributes"):
        if k in c:
            m[k] = c[k]
    extra = {k: v for k, v in c.items() if k not in ("id", "name", "color", "attributes")}
    if extra:
        m["x"] = extra
    return LabelCategory(c["name"], attributes=tuple(d["name"] for d in defs), meta={NS: m})


def merge_categories(files: list[ReleaseFile]) -> tuple[Categories, list[dict[int, int]]]:
    """One label list for all files (by category id) and each file's id -> index map."""
    labels: list[LabelCategory] = []
    colors: dict[int, tuple[int, int, int]] = {}
    by_id: dict[int, int] = {}
    maps = []
    for f in files:
        m = {}
        for c in f.categories:
            idx = by_id.get(c["id"])
            if idx is None:
                idx = by_id[c["id"]] = len(labels)
                labels.append(_label_category(c))
                if c.get("color") is not None:
                    colors[idx] = tuple(c["color"][:3])
            elif labels[idx].name != c["name"]:
                raise DatasetError(f"category id {c['id']} is {c['name']!r} here but {labels[idx].name!r} in "
                                   f"{files[0].path.name}", f.path)
            m[c["id"]] = idx
        maps.append(m)
    return Categories(labels=tuple(labels), colormap=colors), maps


def build_item(s: SSample, subset: str, labels: Mapping[int, int], source: Path) -> Item:
    """The item of one sample (decodes its bitmap)."""
    size = None
    if s.image_path is not None:
        image = Image(path=str(s.image_path), name=s.name)
        size = image.header_size()
        image = image.with_(size=size) if size else image
        if not image.has_file:
            image = Image(name=s.name)
    else:
        image = Image(name=s.name)
    ids = read_ids(s.bitmap_path, source, s.where) if s.bitmap_path is not None else None
    anns = []
    if ids is not None:
        instance_ids = {a.id for a in s.anns if a.kind is None}
        present = np.unique(ids)
        unknown = [int(v) for v in present if v and int(v) not in instance_ids]
        if unknown:
            raise DatasetError(f"segmentation bitmap {s.bitmap_path.name} has instance id {unknown[0]} that is not "
                               "in the label's annotations", source, s.where)
    for a in s.anns:
        common = dict(id=a.id, label=None if a.category_id is None else labels[a.category_id],
                      attributes=a.attributes, meta={NS: a.extra} if a.extra else {})
        if a.kind is None:
            if ids is not None:
                anns.append(Mask.from_array(ids == a.id, **common))
        elif a.kind == "bbox":
            x0, y0, x1, y1 = a.points
            anns.append(Bbox(x=min(x0, x1), y=min(y0, y1), w=abs(x1 - x0), h=abs(y1 - y0), **common))
        elif a.kind == "polygon":
            anns.append(Polygon(points=a.points, **common))
        elif a.kind == "polyline":
            anns.append(Polyline(points=a.points, **common))
        else:
            anns.append(Points(points=a.points, **common))
    return Item(id=s.item_id, subset=subset, media=image, annotations=tuple(anns),
                attributes=s.image_attributes, meta={NS: s.meta} if s.meta else {})


def load_segments(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import a Segments.ai release file (or a folder of them)."""
    pairs = release_files(path)
    root = pairs[0][1].parent
    statuses = tuple(s.lower() for s in options.get("status") or ())
    st = Settings(root=root, assets=assets_dir(root, options.get("assets")), labelset=options.get("labelset"),
                  statuses=None if "all" in statuses or not statuses else frozenset(statuses),
                  skip_missing_bitmaps=options.get("missing_bitmaps") == "skip")
    files: list[ReleaseFile] = []
    with progress.task("reading Segments.ai releases", total=len(pairs)) as t:
        for _subset, f in pairs:
            files.append(parse_release(f, st))
            t.advance()
    cats, maps = merge_categories(files)
    missing = sum(s.bitmap_missing for f in files for s in f.samples)
    if missing:
        progress.warn(f"segments_ai: {missing} segmentation bitmaps not found; those samples are imported "
                      "without their masks")
    subset_meta = {subset: {NS: f.meta} for (subset, _p), f in zip(pairs, files)}
    total = sum(len(f.samples) for f in files)

    def items() -> Iterator[Item]:
        for (subset, _p), f, m in zip(pairs, files, maps):
            for s in f.samples:
                yield build_item(s, subset, m, f.path)

    return Dataset(cats, items, subset_meta, length=total, media_root=str(root))
