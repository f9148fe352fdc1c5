"""Building one VOC item from its parsed XML, label files and mask PNGs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from dsrepo.formats.common.media import is_image_name
from dsrepo.formats.voc.labelmap import background_index
from dsrepo.formats.voc.layout import ImageFinder
from dsrepo.formats.voc.png import png_size
from dsrepo.formats.voc.segm import MaskSources, load_masks
from dsrepo.formats.voc.tasks import ACTION_DIR, LAYOUT_DIR, MAIN, SEGM
from dsrepo.formats.voc.xmlparse import XmlRecord
from dsrepo.model.annotations import Annotation, Bbox, Label, Mask
from dsrepo.model.categories import Categories
from dsrepo.model.item import Item
from dsrepo.model.media import Image


@dataclass(frozen=True, slots=True)
class Sources:
    """Everything parsed up front: root, categories, XML records by id, mask files by id."""

    root: Path
    cats: Categories
    records: dict[str, XmlRecord]
    want_masks: bool
    combined: bool
    class_masks: dict[str, Path]
    object_masks: dict[str, Path]


def split_boxes(anns: Sequence[Annotation], cats: Categories) -> tuple[list[Bbox], dict[int, list[Bbox]]]:
    """Object boxes, and layout part boxes by group: a part is a box whose label is a
    part-only label (``meta["voc_part"]``) sharing a non-zero group with an object box."""
    boxes = [a for a in anns if isinstance(a, Bbox)]

    def part_label(b: Bbox) -> bool:
        return b.label is not None and b.label < len(cats.labels) and bool(cats.labels[b.label].meta.get("voc_part"))

    owners = {b.group for b in boxes if b.group and not part_label(b)}
    main, parts = [], {}
    for b in boxes:
        if part_label(b) and b.group in owners:
            parts.setdefault(b.group, []).append(b)
        else:
            main.append(b)
    return main, parts


def default_sets(anns: Sequence[Annotation], cats: Categories) -> tuple[str, ...]:
    """The ImageSets folders an item is listed in by default: Main always, Segmentation
    with masks, Action with action attributes, Layout with parts."""
    out = [MAIN]
    if any(isinstance(a, Mask) for a in anns):
        out.append(SEGM)
    main, parts = split_boxes(anns, cats)
    if any(b.label is not None and b.label < len(cats.labels)
           and any(k in cats.labels[b.label].attributes for k in b.attributes) for b in main):
        out.append(ACTION_DIR)
    if parts:
        out.append(LAYOUT_DIR)
    return tuple(out)


def _box_meta(box: tuple[float, float, float, float], text: tuple[str, str] | None,
              extra: tuple[str, ...] = ()) -> dict[str, Any]:
    x1, y1, x2, y2 = box
    meta: dict[str, Any] = {}
    if text is not None and (x1 + (x2 - x1) != x2 or y1 + (y2 - y1) != y2):
        meta["voc_max"] = list(text)
    if extra:
        meta["voc_extra"] = list(extra)
    return meta


class ItemBuilder:
    """Turns parsed sources into items (masks are decoded here, on iteration)."""

    def __init__(self, src: Sources) -> None:
        self.src = src
        self.index = {lab.name: i for i, lab in reversed(list(enumerate(src.cats.labels)))}
        self.finder = ImageFinder(src.root)
        self.masks = MaskSources.of(src.cats, background_index(src.cats))

    def _boxes(self, rec: XmlRecord) -> list[Annotation]:
        out: list[Annotation] = []
        for k, obj in enumerate(rec.objects, 1):
            x1, y1, x2, y2 = obj.box
            out.append(Bbox(id=k, group=k, label=self.index[obj.name], x=x1, y=y1, w=x2 - x1, h=y2 - y1,
                            attributes=obj.attributes, meta=_box_meta(obj.box, obj.box_text, obj.extra)))
            for part in obj.parts:
                px1, py1, px2, py2 = part.box
                out.append(Bbox(group=k, label=self.index[part.name], x=px1, y=py1, w=px2 - px1, h=py2 - py1))
        return out

    def build(self, subset: str, item_id: str, labels: dict[str, int], in_dirs: tuple[str, ...]) -> Item:
        """The item ``item_id`` of ``subset``; ``labels`` maps label names to their
        classification value (1, or 0 for difficult), ``in_dirs`` the lists it is in."""
        src = self.src
        rec = src.records.get(item_id)
        anns: list[Annotation] = []
        for name, v in sorted(labels.items(), key=lambda kv: self.index[kv[0]]):
            anns.append(Label(label=self.index[name], attributes={"difficult": True} if v == 0 else {}))
        if rec is not None:
            anns += self._boxes(rec)
        meta: dict[str, Any] = {}
        mask_size = None
        if src.want_masks:
            cp, op = src.class_masks.get(item_id), src.object_masks.get(item_id)
            if cp or op:
                masks, void, mask_size = load_masks(cp, op, self.masks)
                anns += masks
                if void:
                    meta["voc_void"] = void
        found = self.finder.find(item_id)
        if found is not None:
            path, name = found
        else:
            ext = Path(rec.filename).suffix if rec is not None and rec.filename and is_image_name(rec.filename) else ""
            path, name = None, item_id + (ext or ".jpg")
        image = Image(path=path, name=name)
        size = (rec.size if rec is not None else None) or image.header_size() or mask_size
        if size is None and (src.class_masks.get(item_id) or src.object_masks.get(item_id)):
            size = png_size(src.class_masks.get(item_id) or src.object_masks[item_id])
        if rec is not None:
            meta["voc_xml"] = {"elems": list(rec.elems), **({"depth": rec.depth} if rec.depth else {})}
        if src.combined and tuple(in_dirs) != default_sets(anns, src.cats):
            meta["voc_sets"] = list(in_dirs)
        return Item(id=item_id, subset=subset, media=image.with_(size=size), annotations=tuple(anns), meta=meta)
