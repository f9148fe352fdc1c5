"""Turning one item's annotations into what the VOC files hold (objects, masks, labels),
counting everything the format cannot hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsrepo.formats.common.lossy import ANNOTATION_ATTRIBUTES, ITEM_ATTRIBUTES, LossTracker, kind_word
from dsrepo.formats.voc.items import split_boxes
from dsrepo.formats.voc.labelmap import VOID_INDEX
from dsrepo.formats.voc.segm import Paint
from dsrepo.formats.voc.xmlparse import FLAGS, parse_bool
from dsrepo.formats.voc.xmlwrite import BoxText, ObjectOut, fmt_number, fmt_value
from dsrepo.model import masks as rle_ops
from dsrepo.model.annotations import AnnType, Bbox, Label, Mask, Polygon
from dsrepo.model.categories import Categories
from dsrepo.model.item import Item


@dataclass(frozen=True, slots=True)
class Target:
    """The written label map: categories, source-index -> target-index map, and what to
    write. ``derive_boxes``: give instance shapes without a box an XML object (their
    extent) and number instances like the objects - for datasets not read from VOC."""

    cats: Categories
    remap: tuple[int | None, ...]
    xml: bool
    derive_boxes: bool
    masks: bool
    labels: bool
    allow_attributes: bool


@dataclass(frozen=True, slots=True)
class ItemOut:
    """An item's VOC content: objects, mask shapes with their size, classification values."""

    objects: tuple[ObjectOut, ...]
    shapes: tuple[Paint, ...]
    mask_size: tuple[int, int] | None
    labels: tuple[tuple[int, int], ...]


def _box_text(b: Bbox) -> BoxText:
    xmax, ymax = fmt_number(b.x + b.w), fmt_number(b.y + b.h)
    keep = b.meta.get("voc_max")
    if isinstance(keep, (list, tuple)) and len(keep) == 2:
        try:
            if float(keep[0]) - b.x == b.w and float(keep[1]) - b.y == b.h:
                xmax, ymax = str(keep[0]), str(keep[1])
        except (TypeError, ValueError):
            pass
    return BoxText(fmt_number(b.x), fmt_number(b.y), xmax, ymax)


def _scalar(v: Any) -> bool:
    return isinstance(v, (bool, int, float, str))


class Converter:
    """Per-export conversion state (label remapping, loss counting)."""

    def __init__(self, target: Target, loss: LossTracker) -> None:
        self.t = target
        self.loss = loss

    def _label(self, label: int | None, kind: str) -> int | None:
        if label is None:
            self.loss.drop(f"{kind} without a label")
            return None
        mapped = self.t.remap[label] if label < len(self.t.remap) else None
        if mapped is None:
            self.loss.drop(f"{kind} with a label not in the label map")
        return mapped

    def _object(self, b: Bbox, label: int, parts: list[Bbox]) -> ObjectOut:
        cats = self.t.cats
        actions_of = cats.labels[label].attributes
        attrs = dict(b.attributes)
        flags = tuple(parse_bool(str(int(v)) if isinstance(v, (bool, int)) else str(v))
                      for v in (attrs.pop(f, False) for f in FLAGS))
        pose = attrs.pop("pose", None)
        if pose is not None and (not isinstance(pose, str) or not pose.strip()):
            attrs["pose"], pose = pose, None
        actions = tuple((a, bool(attrs.pop(a))) for a in actions_of if isinstance(attrs.get(a), bool))
        custom = []
        for k in sorted(attrs):
            v = attrs[k]
            if not self.t.allow_attributes:
                self.loss.drop(ANNOTATION_ATTRIBUTES + " (--no-allow-attributes)")
            elif not _scalar(v) or not k.strip():
                self.loss.drop(ANNOTATION_ATTRIBUTES + " that are not named scalars")
            else:
                custom.append((k, fmt_value(v)))
        out_parts = []
        for p in parts:
            pl = self._label(p.label, "layout parts")
            if pl is not None:
                out_parts.append((cats.labels[pl].name, _box_text(p)))
        extra = tuple(str(x) for x in b.meta.get("voc_extra", ()) if isinstance(x, str))
        return ObjectOut(cats.labels[label].name, _box_text(b), flags, pose,  # type: ignore[arg-type]
                         tuple(out_parts), actions, tuple(custom), extra)

    def item(self, item: Item, src_cats: Categories) -> ItemOut:
        """Convert ``item``; everything that cannot be written is counted in the loss tracker."""
        t = self.t
        if item.attributes:  # VOC images have none (the importer keeps its own data in meta)
            self.loss.drop(ITEM_ATTRIBUTES)
        objects: list[ObjectOut] = []
        main, parts = split_boxes(item.annotations, src_cats)
        position: dict[int, int] = {}  # group (or id(shape) when derived) -> object number
        if t.xml:
            for b in main:
                lab = self._label(b.label, kind_word(b.type))
                if lab is None:
                    continue
                ps = parts.get(b.group, []) if b.group else []
                objects.append(self._object(b, lab, ps))
                if b.group:
                    position.setdefault(b.group, len(objects))
            if t.derive_boxes:
                self._derived(item, objects, position)
        elif main:
            self.loss.drop(kind_word(AnnType.bbox) + " (no detection/action/layout task exported)",
                           len(main) + sum(map(len, parts.values())))
        labels: dict[int, int] = {}
        shapes: list[Paint] = []
        size = item.media.size if item.media is not None else None
        mask_size = None
        for a in item.annotations:
            if isinstance(a, Label):
                if not t.labels:
                    self.loss.drop(kind_word(a.type) + " (classification task not exported)")
                    continue
                lab = self._label(a.label, kind_word(a.type))
                if lab is not None:
                    v = 0 if a.attributes.get("difficult") is True else 1
                    labels[lab] = max(labels.get(lab, v), v) if lab in labels else v
            elif isinstance(a, (Mask, Polygon)):
                if not t.masks:
                    self.loss.drop(kind_word(a.type) + " (segmentation task not exported)")
                    continue
                want = position.get(a.group) or position.get(id(a)) if t.derive_boxes else None
                shape = self._shape(a, size, mask_size, want)
                if shape is not None:
                    mask_size = mask_size or (tuple(shape.rle["size"]) if isinstance(shape.rle, dict) else None)
                    shapes.append(shape)
            elif not isinstance(a, Bbox):
                self.loss.drop(kind_word(a.type))
        return ItemOut(tuple(objects), tuple(shapes), mask_size, tuple(sorted(labels.items())))

    def _derived(self, item: Item, objects: list[ObjectOut], position: dict[int, int]) -> None:
        """Objects for labelled instance masks/polygons without a box of their group
        (datasets from other formats): the box is the shape's extent."""
        for a in item.annotations:
            if isinstance(a, (Mask, Polygon)) and a.label is not None and not (a.group and a.group in position):
                lab = self.t.remap[a.label] if a.label < len(self.t.remap) else None
                if lab is None:
                    continue
                x, y, w, h = a.get_bbox()
                box = Bbox(label=a.label, x=x, y=y, w=w, h=h, attributes=a.attributes)
                objects.append(self._object(box, lab, []))
                position[a.group or id(a)] = len(objects)

    def _shape(self, a: Mask | Polygon, size: tuple[int, int] | None,
               mask_size: tuple[int, int] | None, position: int | None = None) -> Paint | None:
        if a.label is not None:
            lab = self._label(a.label, kind_word(a.type))
            if lab is None:
                return None
            if lab >= VOID_INDEX:
                self.loss.drop(kind_word(a.type) + " with a label index >= 255")
                return None
        else:
            lab = None
        want = position or ((a.group or a.id) if (a.group or a.id) else -1)
        if isinstance(a, Polygon):
            hw = mask_size or size
            if hw is None:
                self.loss.drop(kind_word(a.type) + " on images of unknown size")
                return None
            rle = rle_ops.from_polygons([a.points], hw[0], hw[1])
            return Paint({"size": list(rle["size"]), "counts": rle["counts"]}, lab, a.z_order, want)
        rle = {"size": list(a.rle["size"]), "counts": a.rle["counts"]}
        if mask_size is not None and tuple(rle["size"]) != tuple(mask_size):
            self.loss.drop(kind_word(a.type) + " of a different size than the item's other masks")
            return None
        return Paint(rle, lab, a.z_order, want)
