"""Segments.ai export: one release JSON per subset plus RGBA instance bitmaps.

Layout: ``release.json`` (a single ``default`` subset) or ``release_<subset>.json``;
bitmaps in ``bitmaps/<subset>/<item id>.png``; with --save-media images in
``images/<name>``. URLs of written files are relative to the export folder.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import orjson

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.files import atomic_write_bytes, safe_relpath
from dsrepo.formats.common.lossy import BAD_LABEL, COVERED_PIXELS, HIDDEN_SHAPES, LossTracker, kind_word
from dsrepo.formats.common.media import media_filename, save_image
from dsrepo.formats.segments_ai.bitmap import MAX_ID, encode_ids
from dsrepo.formats.segments_ai.cats import category_ids, render_categories
from dsrepo.formats.segments_ai.importer import subset_of
from dsrepo.formats.segments_ai.numeric import far_corner as _far
from dsrepo.formats.segments_ai.parse import GROUND_TRUTH, NS, item_id_of
from dsrepo.model.annotations import AnnType
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.progress import Progress

_DROPPED = (AnnType.label, AnnType.caption, AnnType.ellipse)


def _ns(m: Mapping[str, Any]) -> Mapping[str, Any]:
    v = m.get(NS) if m else None
    return v if isinstance(v, Mapping) else {}


def image_url(item: Item, url: str | None, out: Path, opt: Mapping[str, Any], files: list[str],
              missing: list[str]) -> str | None:
    """The URL an export writes for an item's image: ``images/<name>``, saved there (and
    added to ``files``, or the id to ``missing``) with ``--save-media``; else the URL the
    item was read with. Shared by the Segments.ai and GT Studio exporters."""
    media, ext = item.media, opt.get("image_ext")
    if opt.get("save_media") and media is not None:
        rel = "images/" + safe_relpath(media_filename(item, ext), None, f"item {item.id}")
        if save_image(item, out / rel, ext):
            files.append(rel)
            url = rel
        else:
            missing.append(item.id)
    if url is None and media is not None:
        url = "images/" + media_filename(item, ext)
    return url


def _assign_ids(anns: list) -> list[int]:
    """Annotation ids: kept when in 1..2**24-1 and unique in the item, else new."""
    used: set[int] = set()
    ids = [0] * len(anns)
    for k, a in enumerate(anns):
        if 0 < a.id <= MAX_ID and a.id not in used:
            ids[k] = a.id
            used.add(a.id)
    nxt = max(used, default=0) + 1
    for k in range(len(anns)):
        if not ids[k]:
            while nxt in used:
                nxt += 1
            if nxt > MAX_ID:
                raise ExportError(f"more than {MAX_ID} annotations in one item")
            ids[k] = nxt
            used.add(nxt)
    return ids


class _Export:
    def __init__(self, ds: Dataset, out: Path, opts: Mapping[str, Any], progress: Progress) -> None:
        self.ds, self.out, self.opt, self.progress = ds, out, opts, progress
        self.tracker = LossTracker("segments_ai", progress, bool(opts.get("strict")))
        self.cat_ids = category_ids(ds.categories)
        self.samples: dict[str, list[dict]] = {}
        self.has_masks: dict[str, bool] = {}
        self.files: list[str] = []
        self.missing: list[str] = []
        self.last_masks = False

    def add_sample(self, subset: str, sample: dict, has_masks: bool) -> None:
        """Add an item's sample as built by an earlier :meth:`add` (a patch's unchanged items)."""
        self.has_masks[subset] = self.has_masks.get(subset, False) or has_masks
        self.samples.setdefault(subset, []).append(sample)

    def _write(self, rel: str, data: bytes) -> None:
        atomic_write_bytes(self.out / rel, data)
        self.files.append(rel)

    def _labelset(self, subset: str) -> str:
        ls = _ns(self.ds.subset_meta.get(subset) or {}).get("labelset")
        return ls if isinstance(ls, str) and ls else GROUND_TRUTH

    def _image(self, item: Item, m: Mapping[str, Any]) -> dict | None:
        url = image_url(item, m.get("url"), self.out, self.opt, self.files, self.missing)
        if url is None:
            return None
        d = {"url": url}
        d.update(m.get("image") or {})
        return d

    def _category(self, label: int | None) -> int | None:
        if label is None:
            return None
        if label >= len(self.cat_ids):
            self.tracker.drop(BAD_LABEL, result="written without category_id")
            return None
        return self.cat_ids[label]

    def _annotations(self, item: Item) -> tuple[list[dict], list[tuple[Any, int]]]:
        kept = []
        for a in item.annotations:
            if a.type in _DROPPED:
                self.tracker.drop(kind_word(a.type))
            elif a.type is AnnType.points and not any(a.visibility):
                self.tracker.drop(kind_word(a.type) + " without a visible point")
            else:
                kept.append(a)
        ids = _assign_ids(kept)
        used = set(ids)
        out: list[dict] = []
        masks: list[tuple[Any, int]] = []
        for a, aid in zip(kept, ids):
            d: dict[str, Any] = {"id": aid}
            cid = self._category(a.label)
            if cid is not None:
                d["category_id"] = cid
            t = a.type
            if t is AnnType.mask:
                masks.append((a, aid))
            elif t is AnnType.bbox:
                d["type"], d["points"] = "bbox", [[a.x, a.y], [_far(a.x, a.w), _far(a.y, a.h)]]
            elif t is AnnType.polygon or t is AnnType.polyline:
                d["type"] = t.value
                d["points"] = [[a.points[i], a.points[i + 1]] for i in range(0, len(a.points), 2)]
            else:
                pts = [(a.points[2 * i], a.points[2 * i + 1]) for i, v in enumerate(a.visibility) if v]
                d["type"], d["points"] = "point", [list(pts[0])]
                if len(pts) > 1:
                    self.tracker.change("points with several points", "written as one annotation per point")
            if a.attributes:
                d["attributes"] = dict(a.attributes)
            for k, v in _ns(a.meta).items():
                d.setdefault(k, v)
            out.append(d)
            if t is AnnType.points:
                for p in pts[1:]:
                    nxt = max(used) + 1
                    used.add(nxt)
                    extra = {"id": nxt, **({"category_id": cid} if cid is not None else {}),
                             "type": "point", "points": [list(p)]}
                    out.append(extra)
        return out, masks

    def _bitmap(self, item: Item, masks: list[tuple[Any, int]]) -> tuple[str | None, set[int]]:
        """The item's bitmap (relative path) and the ids of masks fully covered by others."""
        if not masks:
            return None, set()
        size = masks[0][0].size
        ids = np.zeros(size, dtype=np.uint32)
        painted = []
        for a, aid in sorted(masks, key=lambda ma: ma[0].z_order):
            if a.size != size:
                self.tracker.drop("masks of another size than the item's first mask")
                continue
            px = a.image.astype(bool)
            ids[px] = aid
            painted.append((px, aid))
        hidden = set()
        for px, aid in painted:  # one id per pixel: later masks (by z_order) cover earlier ones
            left = int(np.count_nonzero(ids[px] == aid))
            if left < int(np.count_nonzero(px)):
                if left:
                    self.tracker.drop(COVERED_PIXELS, result="shapes cropped")
                else:
                    self.tracker.drop(HIDDEN_SHAPES)
                    hidden.add(aid)
        rel = safe_relpath(f"bitmaps/{item.subset}/{item.id}.png", None, f"item {item.id}")
        self._write(rel, encode_ids(ids))
        return rel, hidden

    def add(self, item: Item) -> None:
        m = _ns(item.meta)
        anns, masks = self._annotations(item)
        bitmap, hidden = self._bitmap(item, masks)
        if hidden:
            anns = [d for d in anns if d["id"] not in hidden]
        self.has_masks[item.subset] = self.has_masks.get(item.subset, False) or bool(masks)
        self.last_masks = bool(masks)  # (a patch keeps it in the item's row)
        media = item.media
        name = media.name if media is not None and media.name else ""
        if not name or item_id_of(name, None, f"item {item.id}") != item.id:
            name = item.id + (media.ext if media is not None else "")
        attrs: dict[str, Any] = {}
        image = self._image(item, m)
        if image is not None:
            attrs["image"] = image
        attrs.update(m.get("sattrs") or {})
        label = None
        if "label" in m or not m or item.annotations or item.attributes:
            lattrs: dict[str, Any] = dict(m["lattrs"]) if "lattrs" in m else ({} if "label" in m else
                                                                              {"format_version": "0.1"})
            lattrs["annotations"] = anns
            if bitmap is not None:
                lattrs["segmentation_bitmap"] = {"url": bitmap, **(m.get("bitmap") or {})}
            if item.attributes:
                lattrs["image_attributes"] = dict(item.attributes)
            label = dict(m.get("label") or {"label_status": "LABELED"})
            label["attributes"] = lattrs
        sample: dict[str, Any] = {"name": name}
        sample.update(m.get("sample") or {})
        sample["attributes"] = attrs
        sample["labels"] = {self._labelset(item.subset): label}
        self.samples.setdefault(item.subset, []).append(sample)

    def _doc(self, subset: str, cats: list[dict]) -> dict:
        sm = _ns(self.ds.subset_meta.get(subset) or {})
        doc = sm.get("doc")
        if isinstance(doc, Mapping) and isinstance(doc.get("dataset"), Mapping):
            doc = copy.deepcopy(_plain(doc))
            path = sm.get("cat_path") or []
            if path:
                try:
                    _set(doc, path, cats)
                except (KeyError, IndexError, TypeError):
                    path = []
            if not path and cats:
                doc["dataset"].setdefault("task_attributes", {})["categories"] = cats
        else:
            tt = "segmentation-bitmap" if self.has_masks.get(subset) else "vector"
            doc = {"name": "dsrepo export", "description": "",
                   "dataset": {"name": subset, "task_type": tt,
                               "task_attributes": {"format_version": "0.1", "categories": cats},
                               "labelsets": [{"name": self._labelset(subset), "description": ""}]}}
        doc["dataset"]["samples"] = self.samples.get(subset, [])
        return doc

    def finish(self) -> None:
        subsets = list(self.samples)
        for s in self.ds.subset_meta:
            if s not in self.samples and _ns(self.ds.subset_meta[s]):
                subsets.append(s)
        cats = render_categories(self.ds.categories, self.cat_ids)
        names: set[str] = set()
        for subset in subsets:
            if "/" in subset or "\\" in subset or subset.startswith("."):
                raise ExportError(f"subset name {subset!r} cannot be used in a file name")
            rec = _ns(self.ds.subset_meta.get(subset) or {}).get("file")
            if isinstance(rec, str) and "/" not in rec and rec not in names and subset_of(rec, len(subsets)) == subset:
                fn = rec
            elif len(subsets) == 1 and subset == DEFAULT_SUBSET:
                fn = "release.json"
            else:
                fn = f"release_{subset}.json"
            names.add(fn)
            self._write(fn, orjson.dumps(self._doc(subset, cats), option=orjson.OPT_INDENT_2) + b"\n")
        self.tracker.finish()
        if self.missing:
            shown = ", ".join(self.missing[:3]) + (", ..." if len(self.missing) > 3 else "")
            self.progress.warn(f"segments_ai: {len(self.missing)} images not saved (no image file): {shown}")


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _set(doc: Any, keys: list, value: Any) -> None:
    for k in keys[:-1]:
        doc = doc[k]
    doc[keys[-1]] = value


def save_segments(dataset: Dataset, out: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Write ``dataset`` as Segments.ai release files (deterministic)."""
    ex = _Export(dataset, out, options, progress)
    with progress.task("exporting segments_ai") as bar:
        for item in dataset:
            ex.add(item)
            bar.advance()
    ex.finish()
    return ExportReport(files=tuple(sorted(ex.files)), missing_media=tuple(ex.missing))
