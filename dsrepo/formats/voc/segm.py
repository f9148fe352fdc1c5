"""Segmentation masks: class/instance PNGs to Mask annotations and back.

Import: ``SegmentationObject`` values 1..254 are instances (Mask ``id`` = ``group`` =
value, label = the most frequent class of its pixels in ``SegmentationClass``);
class pixels outside every instance (or all class pixels when there is no instance
PNG) give one Mask per class with group 0. The background label's value and 255
(boundary / "void") are not annotations; boundary pixels are kept as RLE in
``Item.meta["voc_void"]`` so an export paints them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dsrepo.errors import DatasetError
from dsrepo.formats.voc.labelmap import VOID_INDEX, palette, voc_color
from dsrepo.formats.voc.png import COLOR, colors_to_indices, encode_png, read_mask_png
from dsrepo.model import masks as rle_ops
from dsrepo.model.annotations import Mask
from dsrepo.model.categories import Categories


@dataclass(frozen=True, slots=True)
class MaskSources:
    """How to turn mask pixels into labels: label count, background value (or None),
    and the RGB colour map for colour PNGs."""

    n_labels: int
    background: int | None
    class_colors: dict[tuple[int, int, int], int]

    @classmethod
    def of(cls, cats: Categories, background: int | None) -> "MaskSources":
        """Mapping for ``cats``: label colours (VOC colours where unset) and the boundary colour."""
        pal = palette(cats)
        colors = {tuple(pal[i]): i for i in range(min(len(cats.labels), VOID_INDEX))}
        colors.setdefault(voc_color(VOID_INDEX), VOID_INDEX)
        return cls(len(cats.labels), background, colors)  # type: ignore[arg-type]


_OBJECT_COLORS = {voc_color(i): i for i in range(256)}


def _indices(path: Path, colors: dict) -> np.ndarray:
    png = read_mask_png(path)
    if png.kind == COLOR:
        return colors_to_indices(png.values, colors, path)
    return png.values


def _rle(arr: np.ndarray) -> dict:
    r = rle_ops.encode(arr)
    return {"size": list(r["size"]), "counts": r["counts"]}


def load_masks(cls_path: Path | None, obj_path: Path | None,
               src: MaskSources) -> tuple[list[Mask], dict[str, Any], tuple[int, int] | None]:
    """Masks of one item, its boundary meta (``{"class": rle, "object": rle}``, only the
    present ones) and the mask size. DatasetError for values that are not labels and
    for class/instance PNGs of different sizes."""
    cls = _indices(cls_path, src.class_colors) if cls_path else None
    obj = _indices(obj_path, _OBJECT_COLORS) if obj_path else None
    if cls is not None and obj is not None and cls.shape != obj.shape:
        raise DatasetError(f"instance mask is {obj.shape[1]}x{obj.shape[0]} but the class mask "
                           f"{cls_path.name} is {cls.shape[1]}x{cls.shape[0]}", obj_path)  # type: ignore[union-attr]
    out: list[Mask] = []
    void: dict[str, Any] = {}
    valid = None
    if cls is not None:
        values = np.unique(cls).tolist()
        bad = [v for v in values if v != VOID_INDEX and v != src.background and v >= src.n_labels]
        if bad:
            raise DatasetError(f"pixel value {bad[0]} is not a label index (the label map has "
                               f"{src.n_labels} labels)", cls_path)
        valid = (cls != VOID_INDEX) if src.background is None else (cls != VOID_INDEX) & (cls != src.background)
        if VOID_INDEX in values:
            void["class"] = _rle(cls == VOID_INDEX)
    covered = None
    if obj is not None:
        if np.any(obj == VOID_INDEX):
            void["object"] = _rle(obj == VOID_INDEX)
        covered = (obj != 0) & (obj != VOID_INDEX)
        for v in np.unique(obj[covered]).tolist():
            m = obj == v
            label = None
            if cls is not None:
                vals = cls[m & valid]
                if vals.size:
                    label = int(np.bincount(vals).argmax())
            out.append(Mask.from_array(m, id=int(v), group=int(v), label=label))
    if cls is not None:
        rest = valid if covered is None else valid & ~covered
        for c in np.unique(cls[rest]).tolist():
            out.append(Mask.from_array(rest & (cls == c), label=int(c)))
    shape = cls.shape if cls is not None else (obj.shape if obj is not None else None)
    return out, void, (int(shape[0]), int(shape[1])) if shape is not None else None


@dataclass(frozen=True, slots=True)
class Paint:
    """One mask to paint: binary RLE, class value (None: instance only), instance wish."""

    rle: Any
    label: int | None
    z: int
    want: int


def paint(shapes: list[Paint], size: tuple[int, int], background: int, void: dict[str, Any],
          with_objects: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Class and (if ``with_objects``) instance index arrays for ``shapes`` painted in
    z order (later shapes win), boundary pixels from ``void`` painted last."""
    h, w = size
    cls = np.full((h, w), background, np.uint8)
    obj = np.zeros((h, w), np.uint8) if with_objects else None
    used: set[int] = set()
    ids = []
    for s in shapes:
        v = s.want if 0 < s.want < VOID_INDEX and s.want not in used else 0
        used.add(v)
        ids.append(v)
    free = (i for i in range(1, VOID_INDEX) if i not in used)
    order = sorted(range(len(shapes)), key=lambda k: shapes[k].z)
    for k in order:
        s = shapes[k]
        m = rle_ops.decode(s.rle).astype(bool)
        if s.label is not None:
            cls[m] = s.label
        if obj is not None and s.want >= 0:
            if ids[k] == 0:
                ids[k] = next(free, 0)
            obj[m] = ids[k]
    for key, arr in (("class", cls), ("object", obj)):
        r = void.get(key)
        if arr is not None and r and tuple(r["size"]) == (h, w):
            arr[rle_ops.decode(r).astype(bool)] = VOID_INDEX
    return cls, obj


def png_bytes(values: np.ndarray, pal: list | None) -> bytes:
    """Encoded mask PNG (palette when ``pal`` is given, grey otherwise)."""
    return encode_png(values, pal)
