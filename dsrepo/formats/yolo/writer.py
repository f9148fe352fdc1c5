"""Shared export plumbing: label lines of an item, image names, writing files.

What a YOLO label file can hold depends on the flavour (:class:`LineMode`): darknet
holds boxes; Ultralytics boxes and polygons (and masks turned into polygons on
request), or, for pose datasets, boxes with their keypoints. Everything else is
counted with the LossTracker.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import ExportError
from dsrepo.formats.common.lossy import (
    ANNOTATION_ATTRIBUTES, BAD_LABEL, ITEM_ATTRIBUTES, UNLABELED, UNKNOWN_SIZE, LossTracker, kind_word,
)
from dsrepo.formats.common.media import save_image
from dsrepo.formats.yolo.labels import (
    box_to_norm, format_values, kept_text, points_to_norm,
)
from dsrepo.model.annotations import AnnType, Annotation, Bbox, Points, Polygon
from dsrepo.model.item import Item


@dataclass(frozen=True, slots=True)
class LineMode:
    """What to write: ``polygons`` (Ultralytics segmentation lines), ``kpt_shape``
    (pose lines ``[K, D]``), ``masks_to_polygons`` (contours of masks as polygons)."""

    polygons: bool = False
    kpt_shape: tuple[int, int] | None = None
    masks_to_polygons: bool = False


def image_filename(item: Item, image_ext: str | None) -> str:
    """The image's file name under its subset folder: ``media.name`` when it is the id
    plus an extension, else the id plus the media's extension (``.jpg`` if unknown);
    ``image_ext`` replaces the extension."""
    media = item.media
    name = media.name if media is not None and media.name else None
    if name is None or posixpath.splitext(name)[0] != item.id:
        ext = (media.ext if media is not None else "") or ".jpg"
        name = item.id + ext
    if image_ext:
        ext = image_ext if image_ext.startswith(".") else "." + image_ext
        name = posixpath.splitext(name)[0] + ext
    return name


def label_path_of(image_rel: str) -> str:
    """The label file next to an image (darknet): same path, ``.txt`` extension."""
    return posixpath.splitext(image_rel)[0] + ".txt"


def _mask_polygons(ann: Annotation) -> list[list[float]]:
    import cv2
    import numpy as np

    img = np.ascontiguousarray(ann.image, dtype=np.uint8)  # type: ignore[union-attr]
    contours, _ = cv2.findContours(img, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        pts = c.reshape(-1, 2)
        if len(pts) >= 3:
            out.append([float(v) for v in pts.reshape(-1)])
    return out


class LineWriter:
    """Turns items' annotations into label lines for one export, counting losses."""

    def __init__(self, mode: LineMode, classes: int, tracker: LossTracker) -> None:
        self.mode = mode
        self.classes = classes
        self.tracker = tracker

    def _label_ok(self, ann: Annotation) -> bool:
        if ann.label is None:
            self.tracker.drop(UNLABELED)
            return False
        if ann.label >= self.classes:
            self.tracker.drop(BAD_LABEL)
            return False
        if ann.attributes:
            self.tracker.drop(ANNOTATION_ATTRIBUTES)
        return True

    def _drop(self, ann: Annotation, why: str = "") -> None:
        self.tracker.drop(kind_word(ann.type) + why)

    def lines(self, item: Item) -> list[str]:
        """Label lines of ``item`` in annotation order (item attributes are counted: YOLO
        has none, and its importer keeps its own item data in ``meta``)."""
        if item.attributes:
            self.tracker.drop(ITEM_ATTRIBUTES)
        anns = item.annotations
        if not anns:
            return []
        size = item.media.header_size() if item.media is not None else None
        if size is None or size[0] <= 0 or size[1] <= 0:
            self.tracker.drop(UNKNOWN_SIZE, len(anns))
            return []
        h, w = size
        if self.mode.kpt_shape is not None:
            return self._pose_lines(anns, w, h)
        out: list[str] = []
        for ann in anns:
            t = ann.type
            if t is AnnType.bbox:
                if self._label_ok(ann):
                    out.append(self._line(ann, "box", ann, None, w, h))  # type: ignore[arg-type]
            elif t is AnnType.polygon and self.mode.polygons:
                if len(ann.points) < 6:  # type: ignore[union-attr]
                    self._drop(ann, " with fewer than 3 points")
                elif self._label_ok(ann):
                    out.append(self._line(ann, "polygon", None, ann, w, h))  # type: ignore[arg-type]
            elif t is AnnType.mask and self.mode.polygons and self.mode.masks_to_polygons:
                if self._label_ok(ann):
                    for pts in _mask_polygons(ann):
                        poly = Polygon(points=pts, label=ann.label)
                        out.append(self._line(poly, "polygon", None, poly, w, h))
            else:
                self._drop(ann)
        return out

    def _line(self, ann: Annotation, kind: str, box: Bbox | None, pts: Points | Polygon | None,
              w: int, h: int, dims: int = 2) -> str:
        text = kept_text(ann, kind, box, pts, w, h, dims)  # type: ignore[arg-type]
        if text is None:
            vals: list[float] = []
            vis: tuple[int, ...] = ()
            if box is not None:
                vals += box_to_norm(box.get_bbox(), w, h)
            if pts is not None:
                vals += points_to_norm(pts.points, w, h)
                vis = getattr(pts, "visibility", ())
            text = format_values(kind, vals, vis, dims)
        return f"{ann.label} {text}"

    def _pose_lines(self, anns: tuple[Annotation, ...], w: int, h: int) -> list[str]:
        k, dims = self.mode.kpt_shape  # type: ignore[misc]
        points = {}
        for a in anns:
            if a.type is AnnType.points and a.group and a.group not in points:
                points[a.group] = a
        used: set[int] = set()
        out = []
        for ann in anns:
            if ann.type is not AnnType.bbox:
                continue
            if not self._label_ok(ann):
                continue
            pts = points.get(ann.group) if ann.group else None
            if pts is not None and pts.label != ann.label:
                pts = None
            if pts is not None:
                used.add(id(pts))
                if pts.attributes:
                    self.tracker.drop(ANNOTATION_ATTRIBUTES)
                n = len(pts.visibility)
                if n > k:
                    self.tracker.drop("keypoints beyond kpt_shape", n - k)
                if n != k:
                    pts = Points(points=(tuple(pts.points) + (0.0, 0.0) * k)[: 2 * k],
                                 visibility=(tuple(pts.visibility) + (0,) * k)[:k], label=pts.label)
            else:
                pts = Points(points=(0.0, 0.0) * k, visibility=(0,) * k, label=ann.label)
            out.append(self._line(ann, "pose", ann, pts, w, h, dims))  # type: ignore[arg-type]
        for a in anns:
            if a.type is AnnType.points and id(a) not in used:
                self.tracker.drop("points without a box (same group and label)")
            elif a.type is not AnnType.bbox and a.type is not AnnType.points:
                self._drop(a)
        return out


class FileSink:
    """Writes export files under ``out`` and remembers their relative paths."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: set[str] = set()
        self.missing: list[str] = []

    def text(self, rel: str, text: str) -> None:
        """Write ``text`` (UTF-8) to ``out/rel``."""
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        self.files.add(rel)

    def image(self, item: Item, rel: str, image_ext: str | None) -> None:
        """Copy or re-encode the item's image to ``out/rel`` (missing ones recorded)."""
        if save_image(item, self.out / rel, image_ext):
            self.files.add(rel)
        else:
            self.missing.append(item.id)


def lines_text(lines: list[str]) -> str:
    """Label file content: one line each, newline-terminated."""
    return "".join(line + "\n" for line in lines)


def item_meta(item: Item, ns: str) -> dict:
    """The item's ``meta[ns]`` as a plain dict (empty if absent)."""
    m = item.meta.get(ns) if item.meta else None
    return dict(m) if m is not None and hasattr(m, "get") else {}


def write_item(sink: "FileSink", writer: "LineWriter", item: Item, meta: Mapping[str, Any], image_rel: str,
               label: str, seen: dict[str, tuple[str, str]], save_media: bool, image_ext: str | None) -> list[str]:
    """Write an item's label file ``label`` (unless it had none and has no lines) and, with
    ``save_media``, its image at ``image_rel``; returns the files written. ExportError if
    another item already wrote ``label`` (``seen`` maps label files to item keys). Shared by
    both YOLO exporters and their patch hooks."""
    other = seen.setdefault(label, item.key)
    if other != item.key:
        raise ExportError(f"items {other[1]!r} and {item.id!r} would share label file {label}")
    files = []
    ann_lines = writer.lines(item)
    if ann_lines or not meta.get("nl"):
        sink.text(label, lines_text(ann_lines))
        files.append(label)
    if save_media:
        sink.image(item, image_rel, image_ext)
        if image_rel in sink.files:
            files.append(image_rel)
    return files

