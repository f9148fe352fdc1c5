"""Lazy item building: one item per image, merged across the task files of a subset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import msgspec
import numpy as np

from dsrepo.formats.coco import annconv
from dsrepo.formats.common.media import ImageLocator
from dsrepo.formats.coco.meta import NS, patch_of
from dsrepo.formats.coco.parse import UNSET, CImage, ParsedFile
from dsrepo.formats.coco.tasks import (
    CAPTIONS, IMAGE_INFO, INSTANCES, LABELS, PANOPTIC, PERSON_KEYPOINTS, STUFF,
)
from dsrepo.model.annotations import Bbox
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import Progress

_ANY = msgspec.json.Decoder()
_IMG_FIELDS = [f for f in CImage.__struct_fields__ if f != "extra"]
_IMG_STD = ("id", "file_name", "width", "height")
_IMG_X = ("license", "coco_url", "flickr_url", "date_captured")


@dataclass(slots=True)
class FileCtx:
    """One parsed file plus its per-image annotation index."""

    pf: ParsedFile
    label_map: Mapping[int, Any]
    ids: list[str]
    order: np.ndarray
    starts: np.ndarray
    natural: bool
    dups: set[int]
    pan_dirs: list
    progress: Any = None
    row: np.ndarray | None = field(default=None)  # item index -> image index (-1 absent)

    @property
    def task(self) -> str:
        return self.pf.task

    def ann_indices(self, img: int) -> np.ndarray:
        return self.order[self.starts[img]:self.starts[img + 1]]


def image_record(im: CImage) -> dict:
    """The image record as a dict (for comparing records across task files)."""
    d = {f: getattr(im, f) for f in _IMG_FIELDS if getattr(im, f) is not UNSET}
    if im.extra:
        d.update(im.extra)
    return d


def _same_json(a: bytes, b: bytes) -> bool:
    """Same JSON value (byte equality first; values when formatting differs)."""
    if a == b:
        return True
    try:
        return _ANY.decode(a) == _ANY.decode(b)
    except msgspec.DecodeError:
        return False


class SubsetBuilder:
    """Builds the items of one subset on demand from its parsed task files."""

    def __init__(self, subset: str, ctxs: list[FileCtx], locator: ImageLocator, progress: Progress) -> None:
        self.subset = subset
        self.ctxs = ctxs
        self.locator = locator
        for c in ctxs:
            c.progress = progress
        if len(ctxs) == 1:
            self.item_ids = ctxs[0].ids
            ctxs[0].row = None
        else:
            pos: dict[str, int] = {}
            ids: list[str] = []
            for c in ctxs:
                for iid in c.ids:
                    if iid not in pos:
                        pos[iid] = len(ids)
                        ids.append(iid)
            for c in ctxs:
                row = np.full(len(ids), -1, dtype=np.int64)
                row[[pos[i] for i in c.ids]] = np.arange(len(c.ids))
                c.row = row
            self.item_ids = ids

    def __len__(self) -> int:
        return len(self.item_ids)

    def items(self) -> Iterator[Item]:
        for k in range(len(self.item_ids)):
            yield self.build(k)

    def _records(self, k: int) -> list[tuple[FileCtx, int]]:
        if len(self.ctxs) == 1:
            return [(self.ctxs[0], k)]
        out = []
        for c in self.ctxs:
            j = int(c.row[k])
            if j >= 0:
                out.append((c, j))
        return out

    def _item_meta(self, recs: list[tuple[FileCtx, int]], name: str) -> dict:
        c0, j0 = recs[0]
        im = c0.pf.images[j0]
        m: dict[str, Any] = {"id": im.id, "o": j0}
        x = {f: getattr(im, f) for f in _IMG_X if getattr(im, f) is not UNSET}
        if im.extra:
            x.update(im.extra)
        if x:
            m["x"] = x
        omit = [f for f in ("width", "height") if getattr(im, f) is UNSET]
        if omit:
            m["omit"] = omit
        if name != im.file_name:
            m["fn"] = im.file_name
        if len(self.ctxs) > 1:
            per: dict[str, dict] = {}
            differs = len(recs) != len(self.ctxs)
            base = None
            for c, j in recs[1:]:
                d: dict[str, Any] = {}
                if j != j0:
                    d["o"] = j
                other = c.pf.images[j]
                if other != im:
                    base = base if base is not None else image_record(im)
                    changed, removed = patch_of(image_record(other), base)
                    if changed:
                        d["r"] = changed
                    if removed:
                        d["d"] = removed
                per[c.task] = d
                differs = differs or bool(d)
            if differs:
                m["t"] = {c0.task: {}, **per}
        return m

    def build(self, k: int) -> Item:
        """Item number ``k`` of the subset."""
        recs = self._records(k)
        c0, j0 = recs[0]
        im = c0.pf.images[j0]
        iid = self.item_ids[k]
        name = im.file_name.replace("\\", "/")
        while name.startswith("./"):
            name = name[2:]
        size = (im.height, im.width) if im.height is not UNSET and im.width is not UNSET else None
        media = Image(path=self.locator.find(name), size=size, name=name)
        meta = self._item_meta(recs, name)
        anns: list = []
        inst_shapes: dict[int, tuple[bytes, int]] = {}
        for c, j in recs:
            task = c.task
            if task == IMAGE_INFO:
                continue
            anns_pf = c.pf.anns
            for i in c.ann_indices(j).tolist():
                a = anns_pf[i]
                if task == INSTANCES:
                    objs = annconv.instance_object(c, i, a, None)
                    if a.segmentation is not UNSET and i not in c.dups and not isinstance(objs[0], Bbox):
                        inst_shapes[a.id] = (bytes(a.segmentation), objs[0].meta[NS]["g"])
                    anns += objs
                elif task == STUFF:
                    anns += annconv.instance_object(c, i, a, STUFF)
                elif task == PERSON_KEYPOINTS:
                    shared = None
                    if a.id is not UNSET and a.segmentation is not UNSET and i not in c.dups:
                        s = inst_shapes.get(a.id)
                        if s is not None and _same_json(s[0], bytes(a.segmentation)):
                            shared = s[1]
                    anns += annconv.keypoints_object(c, i, a, shared)
                elif task == CAPTIONS:
                    anns += annconv.caption(c, i, a)
                elif task == LABELS:
                    anns += annconv.label(c, i, a)
                elif task == PANOPTIC:
                    from dsrepo.formats.coco.panoptic import panoptic_masks

                    pan: dict[str, Any] = {}
                    anns += panoptic_masks(c, i, a, iid, pan)
                    meta["pan"] = pan
        return Item(id=iid, subset=self.subset, media=media, annotations=tuple(anns), attributes={},
                    meta={NS: meta})
