"""GT Studio export: one ``<item id>.json`` per item, raster masks in ``masks/<item id>.png``.

Shapes are written with coordinates normalised by the image size (read from the
image header when not known); with --save-media images go to ``images/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import orjson

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.files import atomic_write_bytes, safe_relpath
from dsrepo.formats.common.lossy import (
    ANNOTATION_ATTRIBUTES, COVERED_PIXELS, HIDDEN_SHAPES, ITEM_ATTRIBUTES, SUBSET_NAMES, UNKNOWN_SIZE, LossTracker,
    kind_word,
)
from dsrepo.formats.gt_studio.geometry import far_corner, to_normal
from dsrepo.formats.gt_studio.importer import instance_label
from dsrepo.formats.gt_studio.parse import KIND_ORDER, NS, parse_hex
from dsrepo.formats.gt_studio.raster import encode_rgb, hex_of, palette
from dsrepo.formats.segments_ai.exporter import image_url
from dsrepo.model.annotations import AnnType
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.progress import Progress

_POLY_META = ("keys", "edges", "no_edges")


def _ns(m: Mapping[str, Any]) -> Mapping[str, Any]:
    v = m.get(NS) if m else None
    return v if isinstance(v, Mapping) else {}


def _chain(keys: list[str]) -> dict:
    n = len(keys)
    return {f"e{i + 1}": [keys[i], keys[(i + 1) % n]] for i in range(n)}


class _Export:
    def __init__(self, ds: Dataset, out: Path, opts: Mapping[str, Any], progress: Progress) -> None:
        self.ds, self.out, self.opt, self.progress = ds, out, opts, progress
        self.tracker = LossTracker("gt_studio", progress, bool(opts.get("strict")))
        self.names = ds.categories.label_names()
        self.files: list[str] = []
        self.missing: list[str] = []
        self.seen: dict[str, str] = {}

    def _write(self, rel: str, data: bytes) -> None:
        atomic_write_bytes(self.out / rel, data)
        self.files.append(rel)

    def _name(self, label: int | None) -> str | None:
        if label is None or label >= len(self.names):
            return None
        return self.names[label]

    def _rect(self, a, size) -> dict:
        h, w = size
        x1, y1 = far_corner(a.x, a.w), far_corner(a.y, a.h)
        n0, n1, m0, m1 = to_normal(a.x, w), to_normal(x1, w), to_normal(a.y, h), to_normal(y1, h)
        d = dict(_ns(a.meta))
        d.update(label=self._name(a.label), attributes=dict(a.attributes),
                 coordinates=[{"x": n0, "y": m0}, {"x": n1, "y": m0}, {"x": n1, "y": m1}, {"x": n0, "y": m1}])
        return d

    def _poly(self, a, size) -> dict:
        h, w = size
        m = _ns(a.meta)
        n = len(a.points) // 2
        keys = list(m["keys"]) if isinstance(m.get("keys"), list) and len(m["keys"]) == n else None
        d = {k: v for k, v in m.items() if k not in _POLY_META}
        d.update(type="polygon", label=self._name(a.label))
        if not m.get("no_edges"):
            same = keys is not None and isinstance(m.get("edges"), Mapping)
            d["edges"] = dict(m["edges"]) if same else _chain(keys or [f"p{i + 1}" for i in range(n)])
        keys = keys or [f"p{i + 1}" for i in range(n)]
        d["points"] = {k: {"x": to_normal(a.points[2 * i], w), "y": to_normal(a.points[2 * i + 1], h)}
                       for i, k in enumerate(keys)}
        d["attributes"] = dict(a.attributes)
        return d

    def _raster(self, item: Item, masks: list, recorded: Mapping[str, Any], size) -> dict | None:
        if not masks and not (recorded and size):
            return None
        shape = masks[0].size if masks else size
        colors = np.zeros(shape, dtype=np.uint32)
        chosen: list[int] = [0] * len(masks)
        used: set[int] = {0}
        for k, a in enumerate(masks):
            c = parse_hex(str(_ns(a.meta).get("color", "")))
            if c and c not in used:
                chosen[k] = c
                used.add(c)
        nxt = 1
        names = {k: str(_ns(a.meta).get("color")) for k, a in enumerate(masks) if chosen[k]}
        for k in range(len(masks)):
            while not chosen[k]:
                c = palette(nxt)
                nxt += 1
                if c not in used:
                    chosen[k] = c
                    used.add(c)
        legend = dict(recorded.get("legend") or {}) if isinstance(recorded, Mapping) else {}
        instances, painted, per_label = [], [], {}
        for k in sorted(range(len(masks)), key=lambda i: masks[i].z_order):
            a = masks[k]
            if a.size != tuple(shape):
                self.tracker.drop("masks of another size than the item's first mask")
                continue
            px = a.image.astype(bool)
            colors[px] = chosen[k]
            painted.append((k, px, chosen[k]))
        hidden = set()
        for k, px, c in painted:  # one colour per pixel: later masks (by z_order) cover earlier ones
            left = int(np.count_nonzero(colors[px] == c))
            if left < int(np.count_nonzero(px)):
                if left:
                    self.tracker.drop(COVERED_PIXELS, result="shapes cropped")
                else:
                    self.tracker.drop(HIDDEN_SHAPES)
                    hidden.add(k)
        for k, a in enumerate(masks):
            if a.size != tuple(shape) or k in hidden:
                continue
            if a.attributes:  # raster instances have no attributes
                self.tracker.drop(ANNOTATION_ATTRIBUTES)
            color, name, m = names.get(k) or hex_of(chosen[k]), self._name(a.label), _ns(a.meta)
            if name:
                key = next((x for x in legend if parse_hex(x) == chosen[k]), color)
                legend[key] = name
            if m.get("legend") and name:
                continue
            inst = {"color": color, **(m.get("instance") or {})}
            per_label[name] = per_label.get(name, 0) + 1
            if name and instance_label(inst, {}) != name:
                inst["value"] = f"{name} #{per_label[name]}"
            instances.append(inst)
        rel = safe_relpath(f"masks/{item.id}.png", None, f"item {item.id}")
        self._write(rel, encode_rgb(colors))
        d = {"url": rel, "legend": legend, "instances": instances}
        if isinstance(recorded, Mapping) and isinstance(recorded.get("x"), Mapping):
            d.update(recorded["x"])
        return d

    def _image_url(self, item: Item, m: Mapping[str, Any]) -> str | None:
        return image_url(item, m.get("url"), self.out, self.opt, self.files, self.missing)

    def add(self, item: Item) -> None:
        if item.id in self.seen and self.seen[item.id] != item.subset:
            raise ExportError(f"item id {item.id!r} is in subsets {self.seen[item.id]!r} and {item.subset!r}; "
                              "gt_studio has no subsets")
        self.seen[item.id] = item.subset
        if item.subset != DEFAULT_SUBSET:
            self.tracker.drop(SUBSET_NAMES)
        if item.attributes:  # the importer keeps none: GT Studio files have no item attributes
            self.tracker.drop(ITEM_ATTRIBUTES)
        m = _ns(item.meta)
        size = item.media.header_size() if item.media is not None else None
        shapes: dict[str, list] = {k: [] for k in KIND_ORDER}
        masks = []
        for a in item.annotations:
            if a.type is AnnType.mask:
                masks.append(a)
            elif a.type in (AnnType.bbox, AnnType.polygon):
                if size is None:
                    self.tracker.drop(UNKNOWN_SIZE)
                elif a.type is AnnType.bbox:
                    shapes["rectangles"].append(self._rect(a, size))
                else:
                    shapes["polygons"].append(self._poly(a, size))
            else:
                self.tracker.drop(kind_word(a.type))
        for kind, raws in (m.get("unplaced") or {}).items():
            shapes.setdefault(kind, []).extend(raws)
        for kind, raws in (m.get("other") or {}).items():
            shapes.setdefault(kind, []).extend(raws)
        raster = self._raster(item, masks, m.get("raster") or {}, size)
        if raster is not None:
            shapes["raster"] = raster
        doc: dict[str, Any] = {"annotations": shapes}
        url = self._image_url(item, m)
        if url is not None:
            doc["image_url"] = url
        for k, v in (m.get("x") or {}).items():
            doc.setdefault(k, v)
        rel = safe_relpath(f"{item.id}.json", None, f"item {item.id}")
        self._write(rel, orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")

    def finish(self) -> None:
        self.tracker.finish()
        if self.missing:
            shown = ", ".join(self.missing[:3]) + (", ..." if len(self.missing) > 3 else "")
            self.progress.warn(f"gt_studio: {len(self.missing)} images not saved (no image file): {shown}")


def save_gt(dataset: Dataset, out: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Write ``dataset`` as GT Studio JSON files (deterministic)."""
    ex = _Export(dataset, out, options, progress)
    with progress.task("exporting gt_studio") as bar:
        for item in dataset:
            ex.add(item)
            bar.advance()
    ex.finish()
    return ExportReport(files=tuple(sorted(ex.files)), missing_media=tuple(ex.missing))
