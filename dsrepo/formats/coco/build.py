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


@dataclass(slots=True)
class Inst:
    """An instances record of the item being built that a keypoints record may share."""

    id: Any
    cat: Any
    seg: bytes | None  # segmentation JSON (None for a box-only record)
    box: bytes | None  # bbox JSON of a box-only record
    g: int
    group: int
    used: bool = False


def _note_instance(inst: list[Inst], a: Any, lead: Any) -> None:
    """Remember an instances record (its first model annotation ``lead``) for sharing."""
    g = lead.meta[NS].get("g") if lead.meta and NS in lead.meta else None
    if g is None:
        return
    if isinstance(lead, Bbox):
        if a.bbox is not UNSET:
            inst.append(Inst(a.id, a.category_id, None, bytes(a.bbox), g, lead.group))
    elif a.segmentation is not UNSET:
        inst.append(Inst(a.id, a.category_id, bytes(a.segmentation), None, g, lead.group))


def _empty_seg(a: Any) -> bool:
    if a.segmentation is UNSET:
        return True
    raw = bytes(a.segmentation)
    return len(raw) < 16 and _same_json(raw, b"[]")


def shared_instance(inst: list[Inst], a: Any) -> Inst | None:
    """The instances record a person_keypoints record describes too, as COCO writes a
    person into both files: same category and segmentation (or, both without one, same
    bbox), not shared yet; the record with the same id first, else the first such record
    (files written without ids number each file on its own)."""
    if _empty_seg(a):
        if a.bbox is UNSET:
            return None
        raw, field_of = bytes(a.bbox), (lambda r: r.box)
    else:
        raw, field_of = bytes(a.segmentation), (lambda r: r.seg)
    cat = a.category_id
    same_id = None if a.id is UNSET else next((r for r in inst if r.id == a.id), None)
    for r in ([same_id] if same_id is not None else []) + inst:
        v = field_of(r)
        if v is not None and not r.used and r.cat == cat and _same_json(v, raw):
            return r
    return None


def _merged_order(orders: list[list[str]]) -> list[str]:
    """Item ids of several task files in one order of which, whenever possible, every
    file's order is a subsequence: an id first seen in a later file goes right after the
    id that precedes it there (at the front if none does)."""
    known = set(orders[0])
    follow: dict[Any, list[str]] = {}
    for ids in orders[1:]:
        prev = None
        for iid in ids:
            if iid not in known:
                follow.setdefault(prev, []).append(iid)
                known.add(iid)
            prev = iid
    out: list[str] = []
    end = object()

    def expand(anchor: Any) -> None:  # depth first, without recursion
        stack = [iter(follow.get(anchor, ()))]
        while stack:
            x = next(stack[-1], end)
            if x is end:
                stack.pop()
                continue
            out.append(x)
            stack.append(iter(follow.get(x, ())))

    expand(None)
    for iid in orders[0]:
        out.append(iid)
        expand(iid)
    return out


class SubsetBuilder:
    """Builds the items of one subset on demand from its parsed task files."""

    def __init__(self, subset: str, ctxs: list[FileCtx], locator: ImageLocator, progress: Progress) -> None:
        self.subset = subset
        self.ctxs = ctxs
        self.locator = locator
        for c in ctxs:
            c.progress = progress
        # positional: some task file lists its images in another relative order than the
        # items; then every item keeps its file positions (meta "o"), else none does
        self.positional = False
        if len(ctxs) == 1:
            self.item_ids = ctxs[0].ids
            ctxs[0].row = None
        else:
            ids = _merged_order([c.ids for c in ctxs])
            pos = {iid: n for n, iid in enumerate(ids)}
            for c in ctxs:
                at = np.fromiter((pos[i] for i in c.ids), dtype=np.int64, count=len(c.ids))
                row = np.full(len(ids), -1, dtype=np.int64)
                row[at] = np.arange(len(c.ids))
                c.row = row
                self.positional = self.positional or bool(np.any(at[1:] <= at[:-1]))
            self.item_ids = ids

    def __len__(self) -> int:
        return len(self.item_ids)

    def items(self) -> Iterator[Item]:
        for k in range(len(self.item_ids)):
            yield self.build(k)

    def records(self, k: int) -> list[tuple[FileCtx, int]]:
        """``(file, image index)`` of item ``k`` in each task file listing it."""
        if len(self.ctxs) == 1:
            return [(self.ctxs[0], k)]
        out = []
        for c in self.ctxs:
            j = int(c.row[k])
            if j >= 0:
                out.append((c, j))
        return out

    def item_meta(self, recs: list[tuple[FileCtx, int]], name: str) -> dict:
        """The COCO meta of the item whose image records are ``recs`` (see :meth:`records`)
        and whose image is named ``name``: what the image records say beyond the image."""
        c0, j0 = recs[0]
        im = c0.pf.images[j0]
        m: dict[str, Any] = {"id": im.id}
        if self.positional:  # usually not: then an image added or removed earlier in a file
            m["o"] = j0      # does not change later items (the item order gives the file order)
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
                if self.positional and j != j0:
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

    def _media(self, im: CImage) -> Image:
        name = im.file_name.replace("\\", "/")
        while name.startswith("./"):
            name = name[2:]
        size = (im.height, im.width) if im.height is not UNSET and im.width is not UNSET else None
        return Image(path=self.locator.find(name), size=size, name=name)

    def media(self, k: int) -> Image:
        """The image of item ``k`` (as :meth:`build` gives it)."""
        c0, j0 = self.records(k)[0]
        return self._media(c0.pf.images[j0])

    def build(self, k: int, lazy: bool = True) -> Item:
        """Item number ``k`` of the subset; polygon parts decoded on first use with
        ``lazy`` (see :mod:`.lazyseg`), else right away (for a caller that reads them all)."""
        recs = self.records(k)
        c0, j0 = recs[0]
        im = c0.pf.images[j0]
        iid = self.item_ids[k]
        media = self._media(im)
        name = media.name
        meta = self.item_meta(recs, name)
        anns: list = []
        inst: list[Inst] = []
        kp = self.shares_instances(recs)
        for c, j in recs:
            if c.task == IMAGE_INFO:
                continue
            anns_pf = c.pf.anns
            for i in c.ann_indices(j).tolist():
                anns += self.record_objects(c, i, anns_pf[i], inst, kp, lazy, iid, meta)
        return Item(id=iid, subset=self.subset, media=media, annotations=tuple(anns), attributes={},
                    meta={NS: meta})

    @staticmethod
    def shares_instances(recs: list[tuple[FileCtx, int]]) -> bool:
        """Whether an item's person_keypoints records may share its instances records."""
        return len(recs) > 1 and any(c.task == PERSON_KEYPOINTS for c, _j in recs)

    @staticmethod
    def record_objects(c: FileCtx, i: int, a: Any, inst: list[Inst], kp: bool, lazy: bool, iid: str,
                       meta: dict) -> list:
        """The model annotations of annotation record ``i`` of file ``c`` (``a``) of item
        ``iid``, records in item order: ``inst`` collects its instances records that its
        keypoints records (``kp``: the item has some) may share; ``meta``: the item's
        COCO meta (panoptic records add to it)."""
        task = c.task
        if task == INSTANCES:
            objs = annconv.instance_object(c, i, a, None, lazy)
            if kp and objs and i not in c.dups:
                _note_instance(inst, a, objs[0])
            return objs
        if task == STUFF:
            return annconv.instance_object(c, i, a, STUFF, lazy)
        if task == PERSON_KEYPOINTS:
            sh = shared_instance(inst, a) if inst and i not in c.dups else None
            if sh is None:
                return annconv.keypoints_object(c, i, a, None)
            sh.used = True
            return annconv.keypoints_object(c, i, a, sh.g, sh.group, sh.box is not None)
        if task == CAPTIONS:
            return annconv.caption(c, i, a)
        if task == LABELS:
            return annconv.label(c, i, a)
        if task == PANOPTIC:
            from dsrepo.formats.coco.panoptic import panoptic_masks

            pan: dict[str, Any] = {}
            objs = panoptic_masks(c, i, a, iid, pan)
            meta["pan"] = pan
            return objs
        return []
