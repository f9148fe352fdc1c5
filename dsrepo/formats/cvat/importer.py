"""CVAT XML import: stream each file once with iterparse, build items in file order."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any, Mapping

from lxml import etree

from dsrepo.errors import DatasetError
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.cvat.labels import LabelTable
from dsrepo.formats.common.media import ImageLocator
from dsrepo.formats.cvat.layout import XmlFile, image_locator, resolve_files
from dsrepo.formats.cvat.meta import NS, frame_size, parse_meta, task_size, task_subset, tree_find
from dsrepo.formats.cvat.shapes import SHAPES, TRACK_KEYS, ShapeCtx, flag, integer, parse_shape
from dsrepo.formats.cvat.video import frame_name
from dsrepo.formats.cvat.xmlsafe import iterparse, release, where
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.model.media import Image
from dsrepo.progress import Progress

_IMAGE_KNOWN = ("id", "name", "width", "height", "subset")
_TRACK_KNOWN = ("id", "label", "source", "group_id", "subset")




class _Record:
    """An item being read: where it is, its media and annotations."""

    __slots__ = ("subset", "frame", "name", "size", "anns", "meta", "tracks")

    def __init__(self, subset: str, frame: int, name: str | None, size: tuple[int, int] | None,
                 anns: list, meta: dict) -> None:
        self.subset, self.frame, self.name, self.size = subset, frame, name, size
        self.anns, self.meta = anns, meta
        self.tracks: list[tuple[int, Any]] = []


class _FileReader:
    """Reads one XML file into records; labels go to the shared table."""

    def __init__(self, xf: XmlFile, labels: LabelTable, counts: Counter, options: Mapping[str, Any]) -> None:
        self.xf, self.path, self.labels, self.counts = xf, xf.path, labels, counts
        self.skip_outside = bool(options.get("skip_outside"))
        self.tree: list | None = None
        self.collect: bool | None = None  # decided at the first image/track
        self.records: list[_Record] = []
        self.by_key: dict[tuple[str, int], _Record] = {}
        self.video: dict[tuple[str, int], list[tuple[int, Any]]] = {}
        self.video_tags: dict[tuple[str, int], list] = {}
        self.tracks = 0

    @property
    def default_subset(self) -> str:
        return self.xf.subset or task_subset(self.tree) or DEFAULT_SUBSET

    def _ctx(self, size: tuple[int, int] | None) -> ShapeCtx:
        table, path, collect = self.labels, self.path, bool(self.collect)
        return ShapeCtx(path, lambda n, el: table.lookup(n, el, path, collect), table.spec, size,
                        lambda what: self.counts.update((what,)))

    def _subset(self, el) -> str:
        s = el.get("subset")
        return s if s else self.default_subset

    def read(self) -> None:
        for el in iterparse(self.path, ("meta", "image", "track", "tag")):
            if el.tag == "meta":
                self.tree, lab = parse_meta(el, self.path)
                self._no_labels = lab is None
                self.labels.merge(lab or [])
                release(el)
                continue
            if self.collect is None:
                self.collect = self.tree is None or self._no_labels
            if el.tag == "image":
                self._image(el)
            elif el.tag == "track":
                self._track(el)
            else:
                self._video_tag(el)
            release(el)

    _no_labels = True

    def _image(self, el) -> None:
        path = self.path
        fid = integer(el, "id", path)
        name = el.get("name")
        if not name:
            raise DatasetError("missing attribute 'name'", path, where(el))
        name = safe_relpath(name, path, where(el))
        size = None
        if el.get("width") is not None or el.get("height") is not None:
            w, h = integer(el, "width", path), integer(el, "height", path)
            if w <= 0 or h <= 0:
                raise DatasetError(f"image size must be positive, got {w}x{h}", path, where(el))
            size = (h, w)
        subset = self._subset(el)
        if (subset, fid) in self.by_key:
            raise DatasetError(f"image id {fid} is listed twice in subset {subset!r}", path, where(el))
        ctx = self._ctx(size)
        anns, raw = [], []
        for c in el:
            if c.tag in SHAPES or c.tag == "tag":
                anns.append(parse_shape(c, ctx, TRACK_KEYS[1:] + ("track_id",)))
                _track_attrs(c, anns, path)
            elif isinstance(c.tag, str):
                raw.append(etree.tostring(c, encoding="unicode", with_tail=False))
                self.counts[f"unsupported <{c.tag}> elements (kept as XML, not as annotations)"] += 1
        meta: dict[str, Any] = {}
        extra = {k: v for k, v in el.attrib.items() if k not in _IMAGE_KNOWN}
        if extra:
            meta["x"] = dict(sorted(extra.items()))
        if raw:
            meta["raw"] = raw
        rec = _Record(subset, fid, name, size, anns, meta)
        self.records.append(rec)
        self.by_key[(subset, fid)] = rec

    def _track(self, el) -> None:
        path = self.path
        tid = integer(el, "id", path)
        label = el.get("label")
        if label is None:
            raise DatasetError("missing attribute 'label'", path, where(el))
        subset = self._subset(el)
        self.tracks += 1
        size = frame_size(self.tree)
        for c in el:
            if c.tag not in SHAPES:
                if isinstance(c.tag, str):
                    self.counts[f"unsupported track elements <{c.tag}> skipped"] += 1
                continue
            if self.skip_outside and flag(c, "outside"):
                continue
            frame = integer(c, "frame", path)
            c.set("label", label)
            for k in ("source", "group_id"):
                if el.get(k) is not None and c.get(k) is None:
                    c.set(k, el.get(k))
            ann = parse_shape(c, self._ctx(self._size(subset, frame, size)), TRACK_KEYS)
            attrs = dict(ann.attributes)
            attrs.update(keyframe=flag(c, "keyframe"), outside=flag(c, "outside"), track_id=tid)
            self.video.setdefault((subset, frame), []).append((tid, ann.with_(attributes=attrs)))

    def _size(self, subset: str, frame: int, default):
        rec = self.by_key.get((subset, frame))
        return rec.size if rec is not None and rec.size else default

    def _video_tag(self, el) -> None:
        frame = integer(el, "frame", self.path)
        subset = self._subset(el)
        ann = parse_shape(el, self._ctx(None), ("frame", "subset"))
        self.video_tags.setdefault((subset, frame), []).append(ann)

    def finish(self) -> list[_Record]:
        """All records: images in file order, then video frames in frame order."""
        interp = tree_find(self.tree, "task", "mode") == "interpolation"
        mode = "video" if not self.records and (self.tracks or interp) else "images"
        frames = set(self.video) | set(self.video_tags)
        if mode == "video":
            n = task_size(self.tree)
            if n is not None:
                frames |= {(self.default_subset, i) for i in range(n)}
        size = frame_size(self.tree)
        for key in sorted(frames - set(self.by_key)):
            rec = _Record(key[0], key[1], None, size, [], {})
            self.records.append(rec)
            self.by_key[key] = rec
        for key, shapes in self.video.items():
            rec = self.by_key[key]
            rec.anns += [a for _, a in sorted(shapes, key=lambda ta: ta[0])]
        for key, tags in self.video_tags.items():
            self.by_key[key].anns += tags
        self.mode = mode
        frames = [r.frame for r in self.records if r.name is not None]
        if any(b <= a for a, b in zip(frames, frames[1:])):
            for i, r in enumerate(r for r in self.records if r.name is not None):
                r.meta["o"] = i
        return self.records


def _track_attrs(el, anns: list, path) -> None:
    """Track data written on shapes of a "for images" file (exported from video)."""
    if el.get("track_id") is None:
        return
    attrs = dict(anns[-1].attributes)
    attrs.update(keyframe=flag(el, "keyframe"), outside=flag(el, "outside"),
                 track_id=integer(el, "track_id", path))
    anns[-1] = anns[-1].with_(attributes=attrs)


def _item(rec: _Record, locator: ImageLocator) -> Item:
    if rec.name is not None:
        name = rec.name
        path = locator.find(name)
        iid = os.path.splitext(name)[0] or name
    else:
        iid = frame_name(rec.frame)
        found = locator.find_stem(iid)
        path, name = found if found else (None, iid + ".PNG")
    media = Image(path=path, size=rec.size, name=name)
    if rec.size is None and path is not None:
        media = media.with_(size=media.header_size())
    meta = {NS: rec.meta} if rec.meta else {}
    return Item(id=iid, subset=rec.subset, media=media, annotations=tuple(rec.anns),
                attributes={"frame": rec.frame}, meta=meta)


def load_cvat(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import the CVAT XML dataset at ``path`` (an XML file or a folder)."""
    root, files = resolve_files(path)
    labels = LabelTable()
    counts: Counter = Counter()
    items: list[Item] = []
    seen: dict[tuple[str, str], str] = {}
    subset_meta: dict[str, dict] = {}
    with progress.task("reading CVAT XML", total=len(files)) as bar:
        for xf in files:
            reader = _FileReader(xf, labels, counts, options)
            reader.read()
            records = reader.finish()
            locators: dict[str, ImageLocator] = {}
            for rec in records:
                loc = locators.get(rec.subset) or locators.setdefault(
                    rec.subset, image_locator(xf.path.parent, rec.subset))
                item = _item(rec, loc)
                other = seen.get(item.key)
                if other is not None:
                    by = "" if other == xf.rel else f" by {other}"
                    raise DatasetError(f"item id {item.id!r} is already used in subset {item.subset!r}{by}",
                                       xf.path, f"image id {rec.frame}")
                seen[item.key] = xf.rel
                items.append(item)
            sm = {"file": xf.rel, "layout": xf.layout, "mode": reader.mode}
            if reader.tree is not None:
                sm["meta"] = reader.tree
            for s in dict.fromkeys([r.subset for r in records]) or [reader.default_subset]:
                subset_meta.setdefault(s, {NS: sm})
            bar.advance()
    if labels.conflicts:
        progress.warn(f"cvat: {labels.conflicts} labels are declared with different attributes in "
                      "different files; the first declaration is used")
    for what, n in sorted(counts.items()):
        progress.warn(f"cvat: {what}: {n}")
    return Dataset(labels.categories(), items, subset_meta, media_root=str(root))
