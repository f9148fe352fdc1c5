"""Export side: which task file each annotation of an item goes to, and its records.

Routing (see docs/formats/coco.md):
* Caption -> captions, Label -> labels, Points -> person_keypoints (with the shapes of
  its group), Polyline -> dropped (LossTracker).
* Bbox/Polygon/Mask/Ellipse: a shape tagged ``meta["coco"]["task"]`` (stuff, panoptic,
  person_keypoints) goes to that task when it is written; untagged shapes go to
  instances (or to the one area task being written). Task formats (``coco_stuff``...)
  take every shape they can hold.
"""

from __future__ import annotations

from typing import Any
from zlib import crc32

import orjson

from dsrepo.formats.coco import objects as ob
from dsrepo.formats.coco.lazyseg import peek_meta, unread_segmentation
from dsrepo.formats.coco.meta import coco_meta
from dsrepo.formats.coco.tasks import (
    AREA_TASKS, CAPTIONS, INSTANCES, LABELS, PANOPTIC, PERSON_KEYPOINTS,
)
from dsrepo.formats.common.lossy import ITEM_ATTRIBUTES, kind_word
from dsrepo.model.annotations import AnnType

_KP = PERSON_KEYPOINTS


class ItemRouter:
    """Sorts one item's annotations into task buckets and emits their records."""

    def __init__(self, exp: Any, subset: Any, item: Any) -> None:
        self.exp = exp
        self.s = subset
        self.item = item
        self.size = item.media.size if item.media is not None and item.media.size else None
        tasks = subset.tasks
        self.area: dict[str, list] = {t: [] for t in AREA_TASKS}
        self.kp_tagged: list = []
        self.untagged: list = []
        self.other_tagged: list = []
        self.leftover: list = []
        self.consumed: set[int] = set()
        self.points: list = []
        self.captions: list = []
        self.labels: list = []
        mode = subset.mode
        untagged_target = getattr(subset, "untagged_target", False)
        if untagged_target is False:
            untagged_target = subset.untagged_target = self._untagged_target(tasks, mode)
        tracker = exp.tracker
        if item.attributes:  # COCO images have no attributes (the importer never sets them)
            tracker.drop(ITEM_ATTRIBUTES)
        shapes = ob.SHAPE_SET
        for i, a in enumerate(item.annotations):
            t = a.type
            if t in shapes:
                meta = peek_meta(a)  # routing needs the task tag only: lazy polygons stay undecoded
                tag = coco_meta(meta).get("task") if meta else None
                (self.untagged if tag is None else self.kp_tagged if tag == _KP else self.other_tagged).append((i, a))
                if mode == "task":
                    target = untagged_target
                elif tag is not None and tag in tasks:
                    target = tag if tag != _KP else None
                elif tag is not None and tag in subset.recorded:
                    continue  # its task is recorded but not selected: left out on purpose
                else:
                    target = untagged_target
                if target is not None:
                    self.area[target].append((i, a))
                elif not (tag == _KP and _KP in tasks):
                    self.leftover.append(a)
            elif t is AnnType.points:
                if _KP in tasks:
                    self.points.append((i, a))
                else:
                    tracker.drop(kind_word(t))
            elif t is AnnType.caption:
                self.captions.append(a) if CAPTIONS in tasks else tracker.drop(kind_word(t))
            elif t is AnnType.label:
                self.labels.append(a) if LABELS in tasks else tracker.drop(kind_word(t))
            else:
                tracker.drop(kind_word(t))

    def finish(self) -> None:
        """Count shapes no written task could hold."""
        for a in self.leftover:
            if id(a) not in self.consumed:
                self.exp.tracker.drop(kind_word(a.type))

    def _untagged_target(self, tasks: tuple[str, ...], mode: str) -> str | None:
        if mode == "auto":
            rec = [t for t in AREA_TASKS if t in self.s.recorded]
            if INSTANCES in rec or not rec:
                return INSTANCES
            return rec[0]
        if INSTANCES in tasks:
            return INSTANCES
        for t in AREA_TASKS:
            if t in tasks:
                return t
        return None

    # -- records -----------------------------------------------------------------------

    def emit(self, task: str, tf: Any, k: int) -> None:
        """Add this item's records for ``task`` to ``tf``."""
        if task == PANOPTIC:
            from dsrepo.formats.coco.panoptic_out import emit_panoptic

            emit_panoptic(self, self.area[PANOPTIC], tf, k)
        elif task in AREA_TASKS:
            self._emit_instances(self.area[task], tf, k)
        elif task == _KP:
            self._emit_keypoints(tf, k)
        elif task == CAPTIONS:
            for a in self.captions:
                m = coco_meta(a.meta)
                rec: dict[str, Any] = {"caption": a.caption}
                if "caption" in (m.get("omit") or ()) and not a.caption:
                    rec.pop("caption")
                rec.update(ob.common_fields(a, m, self.exp.ctx, None, crowd_key=False))
                self._add(tf, k, a, m, ob.finish(rec, m, True))
        elif task == LABELS:
            for a in self.labels:
                m = coco_meta(a.meta)
                cid = self.exp.cat_id(a.label, m)
                if a.label is not None:
                    tf.labels_used.add(a.label)
                rec = ob.common_fields(a, m, self.exp.ctx, cid, crowd_key=False)
                self._add(tf, k, a, m, ob.finish(rec, m, True))

    def _add(self, tf: Any, k: int, leader: Any, m: Any, rec: dict) -> None:
        o = m.get("o")
        pos = o if o.__class__ is int else None
        aid = leader.id
        omit_id = not aid and "id" in (m.get("omit") or ())
        tf.add_ann(k, aid if aid.__class__ is int else 0, pos, rec, omit_id)

    def _objects(self, shapes: list) -> list:
        objs = ob.group_objects(shapes)
        if self.exp.opt.get("crop_covered") and len(objs) > 1:
            from dsrepo.formats.coco.crop import crop_covered

            objs = crop_covered(objs, self.size)
        return objs

    def _emit_instances(self, shapes: list, tf: Any, k: int) -> None:
        exp = self.exp
        ctx = exp.ctx
        used = tf.labels_used
        fast_ok = ctx.mode != "mask"
        for obj in self._objects(shapes):
            lead = obj.leader
            polys = obj.polys
            label = lead.label
            if label is not None:
                used.add(label)
            if fast_ok and polys and not (obj.masks or obj.boxes or obj.ellipses):
                unread = unread_segmentation(polys)  # geometry as imported, never decoded
                if unread is not None:
                    m = coco_meta(unread[1])
                    if "area" in m and "bbox" in m:
                        rec = ob.common_fields(lead, m, ctx, exp.cat_id(label, m))
                        rec["segmentation"] = orjson.Fragment(unread[0])
                        rec["area"] = m["area"]
                        rec["bbox"] = m["bbox"]
                        self._add(tf, k, lead, m, ob.finish(rec, m, True) if ("x" in m or "omit" in m) else rec)
                        continue
            m = coco_meta(lead.meta)
            if fast_ok and polys and not (obj.masks or obj.boxes or obj.ellipses) and "ints" not in m:
                seg_json = orjson.dumps([p.points for p in polys])
                if m.get("g") == crc32(seg_json) and "area" in m and "bbox" in m:
                    rec = ob.common_fields(lead, m, ctx, exp.cat_id(label, m))
                    rec["segmentation"] = orjson.Fragment(seg_json)
                    rec["area"] = m["area"]
                    rec["bbox"] = m["bbox"]
                    self._add(tf, k, lead, m, ob.finish(rec, m, True) if ("x" in m or "omit" in m) else rec)
                    continue
            rec = ob.common_fields(lead, m, ctx, exp.cat_id(label, m))
            fields = ob.object_fields(obj, ctx, self.size, m)
            same = fields.pop("_same")
            rec.update(fields)
            self._add(tf, k, lead, m, ob.finish(rec, m, same))

    def _emit_keypoints(self, tf: Any, k: int) -> None:
        task_mode = self.s.mode == "task"
        for _i, p in self.points:
            m = coco_meta(p.meta)
            obj = ob.Obj(leader=p, points=p)
            if p.group:
                tagged = [a for _j, a in self.kp_tagged if a.group == p.group]
                plain = [a for _j, a in self.untagged if a.group == p.group]
                if task_mode:
                    plain += [a for _j, a in self.other_tagged if a.group == p.group]
                # a keypoints record shares the box of a box-only instance ("sh"), as COCO does
                boxes = [a for a in tagged if a.type is AnnType.bbox] or (
                    [a for a in plain if a.type is AnnType.bbox] if not m or m.get("sh") else [])
                if m.get("sh"):
                    segs = [a for a in plain if a.type is not AnnType.bbox]
                elif m:
                    segs = [a for a in tagged if a.type is not AnnType.bbox]
                else:
                    segs = [a for a in tagged if a.type is not AnnType.bbox] or [
                        a for a in plain if a.type is not AnnType.bbox]
                for a in boxes + segs:
                    obj.add(a)
                    self.consumed.add(id(a))
            if p.label is not None:
                tf.labels_used.add(p.label)
            rec = ob.common_fields(p, m, self.exp.ctx, self.exp.cat_id(p.label, m))
            pb = list(p.get_bbox())
            fields = ob.object_fields(obj, self.exp.ctx, self.size, m, box_override=pb)
            same = fields.pop("_same")
            rec.update(fields)
            rec.update(ob.keypoint_fields(p, m))
            self._add(tf, k, p, m, ob.finish(rec, m, same))
