"""COCO export: stream items once, spool records per task file, assemble at the end.

Everything is written into a staging folder inside the output folder and moved into
place only when the whole export succeeded, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

import orjson

from dsrepo.errors import ExportError, UsageError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.coco import objects as ob
from dsrepo.formats.coco.cats import apply_entry, category_ids, iter_entries, owned_ids, render_category
from dsrepo.formats.coco.meta import coco_meta
from dsrepo.formats.coco.route import ItemRouter
from dsrepo.formats.coco.tasks import (
    AREA_TASKS, CAPTIONS, IMAGE_INFO, INSTANCES, LABELS, PANOPTIC, PERSON_KEYPOINTS, STUFF, TASKS,
)
from dsrepo.formats.coco.writer import TaskFile
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.common.lossy import BAD_LABEL, LossTracker, kind_word
from dsrepo.formats.common.media import media_filename, save_image
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.progress import Progress

_CAT_TASKS = (INSTANCES, STUFF, LABELS, PANOPTIC, IMAGE_INFO)
_DEFAULT_KEYS = ["info", "licenses", "images", "annotations", "categories"]


def _norm_name(name: str) -> str:
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name


class _Subset:
    """Per-subset export state: item numbering, image ids, one TaskFile per task."""

    def __init__(self, name: str, meta: Mapping[str, Any], tasks: tuple[str, ...], mode: str, tmp: str) -> None:
        self.name = name
        self.recorded: Mapping[str, Any] = coco_meta(meta).get("files") or {}
        self.mode = mode  # "task", "explicit" or "auto"
        if mode == "auto":
            extra = tuple(t for t in (STUFF, PANOPTIC, IMAGE_INFO) if t in self.recorded)
            self.tasks = tuple(t for t in TASKS if t in (INSTANCES, PERSON_KEYPOINTS, CAPTIONS, LABELS) + extra)
        else:
            self.tasks = tasks
        self.files = {t: TaskFile(t, tmp, f"{len(os.listdir(tmp))}-{t}", with_ann_ids=(t != PANOPTIC),
                                  by_id=(self.recorded.get(t) or {}).get("order") == "id")
                      for t in self.tasks}
        self.primary_key: list[int] = []
        self.want_id: list[Any] = []

    def add_item(self, key: int, want: Any) -> int:
        self.primary_key.append(key)
        self.want_id.append(want)
        return len(self.primary_key) - 1

    def resolve_ids(self, reindex: bool) -> tuple[list[Any], int]:
        """Image id per item number (keeping COCO ids unless ``reindex``), and the
        number of duplicate ids that were replaced."""
        order = sorted(range(len(self.primary_key)), key=lambda k: (self.primary_key[k], k))
        ids: list[Any] = [None] * len(order)
        if reindex:
            for n, k in enumerate(order):
                ids[k] = n + 1
            return ids, 0
        used: set = set()
        pending = []
        dups = 0
        for k in order:
            w = self.want_id[k]
            if w is not None and not isinstance(w, bool) and w not in used:
                used.add(w)
                ids[k] = w
            else:
                dups += w is not None
                pending.append(k)
        nxt = max((v for v in used if isinstance(v, int)), default=0) + 1
        for k in pending:
            ids[k] = nxt
            nxt += 1
        return ids, dups


class _Export:
    def __init__(self, dataset: Dataset, out: Path, options: Mapping[str, Any], progress: Progress,
                 task: str | None) -> None:
        self.ds = dataset
        self.out = out
        self.opt = options
        self.progress = progress
        self.task = task
        if task is not None:
            self.mode, self.tasks = "task", (task,)
        elif options.get("tasks"):
            bad = [t for t in options["tasks"] if t not in TASKS]
            if bad:
                raise UsageError(f"option --tasks: unknown task {bad[0]!r} (known: {', '.join(TASKS)})")
            self.mode, self.tasks = "explicit", tuple(t for t in TASKS if t in options["tasks"])
        else:
            self.mode, self.tasks = "auto", ()
        self.fmt = "coco" if task is None else f"coco_{task}"
        self.tracker = LossTracker(self.fmt, progress, bool(options.get("strict")))
        self.ctx = ob.Ctx(mode=options.get("segmentation_mode") or "guess",
                          allow_attributes=options.get("allow_attributes", True) is not False)
        self.cats = dataset.categories
        self.label_ids = category_ids(self.cats, dataset.subset_meta, progress.warn)
        self.owned = owned_ids(dataset.subset_meta)
        self.subsets: dict[str, _Subset] = {}
        self.files: list[str] = []
        self.missing: list[str] = []
        self.bad_labels = 0
        self.no_size = 0

    # -- items -------------------------------------------------------------------------

    def _subset(self, name: str) -> _Subset:
        s = self.subsets.get(name)
        if s is None:
            s = _Subset(name, self.ds.subset_meta.get(name) or {}, self.tasks, self.mode, self.tmp)
            self.subsets[name] = s
        return s

    def cat_id(self, label: int | None, m: Mapping[str, Any]) -> Any:
        if label is None:
            if "cat" in m:
                return m["cat"]
            return None if "category_id" in (m.get("omit") or ()) else 0
        if label >= len(self.label_ids):
            self.bad_labels += 1
            return 0
        cid = self.label_ids[label]
        return label if cid is None else cid

    def _file_name(self, item: Item, im: Mapping[str, Any], subset: str) -> str:
        ext = self.opt.get("image_ext")
        media = item.media
        name = media.name if media is not None and media.name else media_filename(item, ext)
        fn = im.get("fn")
        if isinstance(fn, str) and _norm_name(fn) == name:
            name = fn
        if ext:
            ext = ext if ext.startswith(".") else "." + ext
            name = os.path.splitext(name)[0] + ext
        if self.opt.get("save_media"):
            rel = safe_relpath(_norm_name(name), None, f"item {item.id}")
            sub = "images" if self.opt.get("merge_images") else os.path.join("images", subset)
            dest = Path(self.tmp) / "out" / sub / rel
            if not save_image(item, dest, ext or None):
                self.missing.append(item.id)
            else:
                self.files.append(f"{sub}/{rel}".replace(os.sep, "/"))
        return name

    def _image_record(self, item: Item, im: Mapping[str, Any], name: str) -> dict:
        rec: dict[str, Any] = {}
        omit = im.get("omit") or ()
        size = None
        if item.media is not None:
            size = item.media.size if ("width" in omit or item.media.size) else item.media.header_size()
        if size:
            rec["width"], rec["height"] = int(size[1]), int(size[0])
        elif "width" not in omit:
            self.no_size += 1
        rec["file_name"] = name
        x = im.get("x")
        if x:
            for k, v in x.items():
                rec.setdefault(k, v)
        return rec

    def add(self, item: Item) -> None:
        s = self._subset(item.subset)
        im = coco_meta(item.meta)
        o = im.get("o")
        seq = len(s.primary_key)
        key = o if isinstance(o, int) and not isinstance(o, bool) else seq  # no position: dataset order
        k = s.add_item(key, im.get("id"))
        name = self._file_name(item, im, item.subset)
        base = self._image_record(item, im, name)
        router = ItemRouter(self, s, item)
        per_task = im.get("t") if isinstance(im.get("t"), Mapping) else None
        for t, tf in s.files.items():
            n_before = tf.n_anns
            router.emit(t, tf, k)
            has_anns = tf.n_anns > n_before
            member = has_anns or t not in s.recorded or per_task is None or t in per_task
            if not member:
                continue
            rec, tkey, tid = base, key, None
            if per_task is not None and isinstance(per_task.get(t), Mapping):
                d = per_task[t]
                if isinstance(d.get("o"), int):
                    tkey = d["o"]
                if d.get("r") or d.get("d"):
                    rec = dict(base)
                    for kk in d.get("d") or ():
                        rec.pop(kk, None)
                    rec.update(d.get("r") or {})
                    tid = rec.pop("id", None)
            tf.add_image(k, tkey, rec, tid)
        router.finish()

    # -- files -------------------------------------------------------------------------

    def _categories(self, s: _Subset, t: str, tf: TaskFile) -> list[dict]:
        labels, points = self.cats.labels, self.cats.points
        fm = s.recorded.get(t) or {}
        recorded = fm.get("cats") if t in s.recorded else None
        out = []
        done: set[int] = set()
        by_id = {cid: i for i, cid in enumerate(self.label_ids) if cid is not None}
        for cid, entry in iter_entries(recorded or ()):
            idx = by_id.get(cid)
            if idx is not None and idx not in done:
                out.append(apply_entry(labels[idx], points.get(idx), t, cid, entry))
                done.add(idx)
        for idx, lab in enumerate(labels):
            cid = self.label_ids[idx]
            if cid is None or idx in done:
                continue
            used = idx in tf.labels_used
            fresh = recorded is None or cid not in self.owned
            if t == PERSON_KEYPOINTS:
                want = used or (fresh and idx in points)
            else:
                want = used or (fresh and t in _CAT_TASKS)
            if want:
                d = render_category(lab, points.get(idx), t, cid)
                if t == PANOPTIC:
                    d.setdefault("isthing", 1)
                out.append(d)
        return out

    def _keys(self, s: _Subset, t: str, tf: TaskFile) -> tuple[list[str], dict]:
        fm = s.recorded.get(t)
        if fm:
            keys = list(fm.get("keys") or _DEFAULT_KEYS)
            top = dict(fm.get("top") or {})
        else:
            keys = [k for k in _DEFAULT_KEYS if not (t == CAPTIONS and k == "categories")
                    and not (t == IMAGE_INFO and k == "annotations")]
            top = {"info": {}, "licenses": []}
        if tf.n_anns and "annotations" not in keys:
            keys.insert(keys.index("images") + 1 if "images" in keys else len(keys), "annotations")
        if "images" not in keys:
            keys.append("images")
        return keys, top

    def _wanted(self, s: _Subset, t: str, tf: TaskFile, written_any: bool) -> bool:
        if self.mode != "auto" or t in s.recorded or tf.n_anns:
            return True
        return t == INSTANCES and not written_any

    def finish(self) -> None:
        for name in self.ds.subset_meta:
            if coco_meta(self.ds.subset_meta[name]).get("files"):
                self._subset(name)
        reindex = bool(self.opt.get("reindex"))
        dups = 0
        for s in self.subsets.values():
            ids, d = s.resolve_ids(reindex)
            dups += d
            written_any = False
            order = sorted(s.files, key=lambda t: (t == INSTANCES, TASKS.index(t)))
            for t in order:  # instances last so it is written when nothing else was
                tf = s.files[t]
                if not self._wanted(s, t, tf, written_any):
                    continue
                written_any = True
                rel = safe_relpath(f"annotations/{t}_{s.name}.json", None, f"subset {s.name}")
                keys, top = self._keys(s, t, tf)
                cats = self._categories(s, t, tf) if "categories" in keys else None
                path = Path(self.tmp) / "out" / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                dups += tf.write(str(path), keys, top, cats, ids.__getitem__, reindex)
                self.files.append(rel)
            for tf in s.files.values():
                tf.close()
        if dups:
            self.progress.warn(f"{self.fmt}: {dups} duplicate image/annotation ids were replaced by new ids")
        self.tracker.change(kind_word("ellipse"), "written as 32-point polygons", self.ctx.ellipses)
        self.tracker.change(kind_word("mask"), "converted to polygons (outer contours; holes are filled)",
                            self.ctx.converted_masks)
        self.tracker.drop(BAD_LABEL, self.bad_labels, "written with category_id 0")
        if self.no_size:
            self.progress.warn(f"{self.fmt}: {self.no_size} images have no known size; width/height left out")
        if self.opt.get("save_dataset_meta"):
            meta = {"label_map": {str(cid): lab.name for lab, cid in zip(self.cats.labels, self.label_ids)
                                  if cid is not None}}
            if self.cats.colormap:
                meta["segmentation_colors"] = {str(self.label_ids[i] if self.label_ids[i] is not None else i):
                                               list(c) for i, c in sorted(self.cats.colormap.items())
                                               if i < len(self.label_ids)}
            (Path(self.tmp) / "out" / "dataset_meta.json").write_bytes(
                orjson.dumps(meta, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            self.files.append("dataset_meta.json")
        self.tracker.finish()
        if self.missing and self.opt.get("save_media"):
            shown = ", ".join(self.missing[:3]) + (", ..." if len(self.missing) > 3 else "")
            self.progress.warn(f"{self.fmt}: {len(self.missing)} images not saved (no image file): {shown}")

    def commit(self) -> None:
        """Move every staged file into the output folder."""
        staged = Path(self.tmp) / "out"
        for rel in self.files:
            src = staged / rel
            dst = self.out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)

    def run(self) -> ExportReport:
        self.tmp = tempfile.mkdtemp(prefix=".dsrepo-coco-", dir=self.out)
        try:
            with self.progress.task(f"exporting {self.fmt}") as bar:
                for item in self.ds:
                    self.add(item)
                    bar.advance()
            self.finish()
            self.commit()
        finally:
            for s in self.subsets.values():
                for tf in s.files.values():
                    tf.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
        return ExportReport(files=tuple(sorted(set(self.files))), missing_media=tuple(self.missing))


def save_coco(dataset: Dataset, out_dir: Path, options: Mapping[str, Any], progress: Progress,
              task: str | None) -> ExportReport:
    """Export ``dataset`` to ``out_dir`` as COCO (``task`` None: the combined format).

    Writes ``annotations/<task>_<subset>.json`` (+ ``annotations/panoptic_<subset>/*.png``)
    and, with ``save_media``, images into ``images/<subset>/`` (``images/`` when
    ``merge_images``). Deterministic: the same dataset gives byte-identical files."""
    if not out_dir.is_dir():
        raise ExportError(f"{out_dir}: not a folder")
    return _Export(dataset, out_dir, options, progress, task).run()


__all__ = ["save_coco", "AREA_TASKS"]
