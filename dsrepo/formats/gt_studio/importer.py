"""GT Studio import: validate every JSON file up front, build items lazily."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from dsrepo.errors import DatasetError
from dsrepo.formats.gt_studio.geometry import to_normal, to_pixel
from dsrepo.formats.gt_studio.parse import NS, GTDoc, parse_doc, parse_hex
from dsrepo.formats.gt_studio.raster import contours, hex_of, read_rgb
from dsrepo.formats.segments_ai.assets import assets_dir
from dsrepo.formats.segments_ai.jsonio import load_json
from dsrepo.model.annotations import Bbox, Mask, Polygon
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import Progress


def gt_files(path: Path) -> tuple[Path, list[tuple[str, Path]]]:
    """Dataset root and ``(item id, file)`` of every ``*.json`` under it (sorted)."""
    if path.is_file():
        return path.parent, [(path.stem, path)]
    files = []
    for p in sorted(path.rglob("*.json")):
        rel = p.relative_to(path)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            files.append((rel.with_suffix("").as_posix(), p))
    return path, files


def instance_label(inst: Mapping[str, Any], legend: Mapping[str, Any]) -> str | None:
    """Label name of a raster instance: its value before `` #``, else its legend entry."""
    value = inst.get("value")
    if isinstance(value, str) and value.split(" #")[0].strip():
        return value.split(" #")[0].strip()
    c = parse_hex(inst["color"])
    v = next((v for k, v in legend.items() if parse_hex(k) == c), None)
    return v if isinstance(v, str) and v else None


def _image(doc: GTDoc) -> Image | None:
    if doc.image_path is None and doc.image_name is None and doc.raster is None:
        return None
    im = Image(path=str(doc.image_path) if doc.image_path else None, name=doc.image_name)
    if not im.has_file:
        im = im.with_(path=None)
    size = im.header_size()
    if size is None and doc.raster is not None:
        size = Image(path=str(doc.raster.path)).header_size()
    return im.with_(size=size) if size else im


def _raster_masks(doc: GTDoc, labels: Mapping[str, int], as_polygons: bool, size) -> list:
    r = doc.raster
    colors = read_rgb(r.path, doc.path, "raster")
    inst_by = {parse_hex(i["color"]): i for i in r.instances}
    legend_by = {parse_hex(k): (k, v) for k, v in r.legend.items()}
    present = set(int(c) for c in np.unique(colors))
    for c in sorted(present):
        if c and c not in inst_by and c not in legend_by:
            raise DatasetError(f"mask {r.path.name} has colour {hex_of(c)} that is not in the raster's instances "
                               "or legend", doc.path, "raster")
    parts: list[tuple[np.ndarray, str | None, dict]] = []
    for c, inst in inst_by.items():
        extra = {k: v for k, v in inst.items() if k != "color"}
        parts.append((colors == c, instance_label(inst, r.legend), {"color": inst["color"], "instance": extra}))
    for c, (key, value) in sorted(legend_by.items()):
        if c in inst_by or c not in present or not c:
            continue
        if not isinstance(value, str) or not value:
            raise DatasetError(f"legend entry {key} must be a label name, got {value!r}", doc.path, "raster")
        parts.append((colors == c, value, {"color": key, "legend": True}))
    out: list = []
    for px, name, meta in parts:
        label = labels[name] if name else None
        if not as_polygons:
            out.append(Mask.from_array(px, label=label, meta={NS: meta}))
            continue
        h, w = size if size else px.shape
        for flat in contours(px):
            pts = [to_pixel(to_normal(v, w if i % 2 == 0 else h), w if i % 2 == 0 else h) for i, v in enumerate(flat)]
            out.append(Polygon(points=pts, label=label))
    return out


def build_item(doc: GTDoc, image: Image | None, labels: Mapping[str, int], as_polygons: bool) -> Item:
    """The item of one parsed file (decodes its raster)."""
    size = image.size if image is not None else None
    meta = dict(doc.meta)
    anns: list = []
    unplaced: dict[str, list] = {}
    for s in doc.shapes:
        if size is None:
            unplaced.setdefault(s.kind, []).append(s.raw)
            continue
        common = dict(label=labels[s.label] if s.label else None, attributes=s.attributes,
                      meta={NS: s.meta} if s.meta else {})
        if s.kind == "rectangles":
            h, w = size
            x0, y0, x1, y1 = (to_pixel(v, w if i % 2 == 0 else h) for i, v in enumerate(s.points))
            anns.append(Bbox(x=x0, y=y0, w=x1 - x0, h=y1 - y0, **common))
        else:
            h, w = size
            anns.append(Polygon(points=[to_pixel(v, w if i % 2 == 0 else h) for i, v in enumerate(s.points)],
                                **common))
    if unplaced:
        meta["unplaced"] = unplaced
    if doc.raster is not None:
        anns += _raster_masks(doc, labels, as_polygons, size)
    return Item(id=doc.item_id, media=image, annotations=tuple(anns), meta={NS: meta})


def _label_names(doc: GTDoc, placed: bool, names: dict[str, None]) -> None:
    if placed:
        for s in doc.shapes:
            if s.label:
                names.setdefault(s.label, None)
    if doc.raster is not None:
        for inst in doc.raster.instances:
            if (n := instance_label(inst, doc.raster.legend)):
                names.setdefault(n, None)
        for v in doc.raster.legend.values():
            if isinstance(v, str) and v:
                names.setdefault(v, None)


def load_gt(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import a folder of GT Studio JSON files (or one file)."""
    root, files = gt_files(path)
    assets = assets_dir(root, options.get("assets"))
    skip_missing = options.get("missing_masks") == "skip"
    docs: list[tuple[GTDoc, Image | None]] = []
    ignored = missing_masks = unplaced = 0
    names: dict[str, None] = {}
    with progress.task("reading GT Studio files", total=len(files)) as t:
        for item_id, f in files:
            doc = parse_doc(f, load_json(f), item_id, root, assets, skip_missing)
            t.advance()
            if doc is None:
                if path.is_file():
                    raise DatasetError("not a GT Studio annotation file (no 'annotations' object)", f)
                ignored += 1
                continue
            image = _image(doc)
            placed = image is not None and image.size is not None
            unplaced += 0 if placed else len(doc.shapes)
            missing_masks += "raster" in doc.meta and doc.raster is None
            _label_names(doc, placed, names)
            docs.append((doc, image))
    if not docs:
        raise DatasetError("no GT Studio annotation file (*.json with an 'annotations' object) in this folder", path)
    if ignored:
        progress.warn(f"gt_studio: {ignored} JSON files without an 'annotations' object were ignored")
    if missing_masks:
        progress.warn(f"gt_studio: {missing_masks} raster masks not found; those items are imported without masks")
    if unplaced:
        progress.warn(f"gt_studio: {unplaced} shapes not imported because their image (and so its size) is "
                      "missing; they are kept for re-export")
    cats = Categories.from_names(names)
    labels = {n: i for i, n in enumerate(names)}
    as_polygons = options.get("raster_as") == "polygons"

    def items() -> Iterator[Item]:
        for doc, image in docs:
            yield build_item(doc, image, labels, as_polygons)

    return Dataset(cats, items, {}, length=len(docs), media_root=str(root))
