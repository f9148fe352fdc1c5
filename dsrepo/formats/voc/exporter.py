"""VOC export: stream items once, write XML and mask PNGs as they come, lists at the end.

Everything is written into a staging folder inside the output folder and moved into
place only when the export succeeded, so a failure (or --strict) leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import DatasetError, ExportError, UsageError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.common.lossy import LossTracker
from dsrepo.formats.common.media import media_filename, save_image
from dsrepo.formats.voc.convert import Converter, Target
from dsrepo.formats.voc.items import default_sets
from dsrepo.formats.voc.labelmap import (
    BACKGROUND, LabelEntry, background_index, categories_from_entries, entries_from_categories, format_labelmap,
    palette, parse_labelmap, voc_color, voc_entries,
)
from dsrepo.formats.voc.layout import quote_id
from dsrepo.formats.voc.segm import paint, png_bytes
from dsrepo.formats.voc.tasks import (
    ACTION, ALIASES, ANNOTATIONS, CLASS_MASKS, CLASSIFICATION, DETECTION, IMAGE_SETS, IMAGES, LAYOUT, MAIN,
    OBJECT_MASKS, SEGMENTATION, TASKS, normalize_tasks, set_dirs,
)
from dsrepo.formats.voc.xmlwrite import DEFAULT_ELEMS, annotation_xml
from dsrepo.model.annotations import Mask, Polygon
from dsrepo.model.categories import Categories
from dsrepo.model.item import Item
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress

NS = "voc"
LABELMAP_FILE = "labelmap.txt"


def _tasks(options: Mapping[str, Any], task: str | None) -> tuple[str, ...]:
    if task is not None:
        return (task,)
    given = tuple(options.get("tasks") or ())
    if not given:
        return TASKS
    tasks = normalize_tasks(given)
    if tasks is None:
        raise UsageError(f"option --tasks: expected names from {', '.join(TASKS)}, got {','.join(given)}")
    return tasks


def _target_entries(ds: Dataset, mode: str, tasks: tuple[str, ...]) -> list[LabelEntry]:
    if mode == "voc":
        return voc_entries()
    if mode != "source":
        p = Path(mode)
        if not p.is_file():
            raise UsageError(f"option --label-map: expected voc, source or a label map file, got {mode!r}")
        try:
            return parse_labelmap(p)
        except DatasetError as e:
            raise UsageError(f"option --label-map: {e}") from None
    entries = entries_from_categories(ds.categories)
    from_voc = _from_voc(ds)
    if (SEGMENTATION in tasks and not from_voc and background_index(ds.categories) is None
            and any(isinstance(a, (Mask, Polygon)) for it in ds for a in it.annotations)):
        entries.insert(0, LabelEntry(BACKGROUND, voc_color(0)))
    return entries


def _from_voc(ds: Dataset) -> bool:
    """True for datasets read by the VOC importer (their subsets carry VOC meta)."""
    return any(isinstance(m, Mapping) and NS in m for m in ds.subset_meta.values())


def _remap(src: Categories, dst: Categories) -> tuple[int | None, ...]:
    index = {lab.name: i for i, lab in reversed(list(enumerate(dst.labels)))}
    return tuple(index.get(lab.name) for lab in src.labels)


class _Out:
    """Files written into the staging folder (moved into place only when the whole export
    succeeded, so each file is written directly: no temp file and rename of its own)."""

    def __init__(self, stage: Path) -> None:
        self.stage = stage
        self.files: list[str] = []
        self._dirs: set[str] = set()

    def write(self, rel: str, data: bytes | str) -> None:
        folder = os.path.dirname(rel)
        if folder not in self._dirs:
            (self.stage / folder).mkdir(parents=True, exist_ok=True)
            self._dirs.add(folder)
        with open(self.stage / rel, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        self.files.append(rel)


def format_name(task: str | None) -> str:
    """The registry name of the VOC format exporting ``task`` (None: the combined ``voc``)."""
    if task is None:
        return "voc"
    short = {full: alias for alias, full in ALIASES.items()}
    return f"voc_{short.get(task, task)}"


def save_voc(dataset: Dataset, out_dir: Path, options: Mapping[str, Any], progress: Progress,
             task: str | None) -> ExportReport:
    """Export ``dataset`` to VOC in ``out_dir`` (combined format when ``task`` is None)."""
    tasks = _tasks(options, task)
    entries = _target_entries(dataset, str(options.get("label_map") or "source"), tasks)
    cats = categories_from_entries(entries)
    target = Target(cats, _remap(dataset.categories, cats),
                    xml=any(t in tasks for t in (DETECTION, ACTION, LAYOUT)), derive_boxes=not _from_voc(dataset),
                    masks=SEGMENTATION in tasks, labels=CLASSIFICATION in tasks,
                    allow_attributes=bool(options.get("allow_attributes", True)))
    loss = LossTracker(format_name(task), progress, bool(options.get("strict")))
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".voc-export-", dir=out_dir))
    try:
        report = _write(dataset, stage, options, progress, tasks, target, Converter(target, loss))
        loss.finish()
        for entry in sorted(os.listdir(stage)):
            os.replace(stage / entry, out_dir / entry)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return report


def write_item_files(out: Any, item: Item, res: Any, fname: str, target: Any, keep_empty: bool, bg: int,
                     pal: Any, obj_pal: Any) -> None:
    """Write one item's ``Annotations/<id>.xml`` and mask PNGs through ``out.write(rel,
    data)`` (shared by :func:`save_voc` and the incremental-export hook)."""
    meta_xml = item.meta.get("voc_xml")
    if target.xml and (res.objects or keep_empty or isinstance(meta_xml, Mapping)):
        mx = meta_xml if isinstance(meta_xml, Mapping) else {}
        elems = [str(e) for e in mx.get("elems", DEFAULT_ELEMS)]
        depth = mx.get("depth") if mx else "3"
        size = item.media.size if item.media is not None else None
        out.write(f"{ANNOTATIONS}/{item.id}.xml",
                  annotation_xml(elems, fname, size, None if depth is None else str(depth),
                                 bool(res.shapes), res.objects))
    void = item.meta.get("voc_void") if isinstance(item.meta.get("voc_void"), Mapping) else {}
    if target.masks and (res.shapes or void):
        size = res.mask_size or (item.media.size if item.media is not None else None)
        if size is None and void:
            size = tuple(next(iter(void.values()))["size"])
        if size is not None:
            with_obj = any(s.want >= 0 for s in res.shapes) or "object" in void
            cls, obj = paint(list(res.shapes), size, bg, void, with_obj)
            out.write(f"{CLASS_MASKS}/{item.id}.png", png_bytes(cls, pal))
            if obj is not None:
                out.write(f"{OBJECT_MASKS}/{item.id}.png", png_bytes(obj, obj_pal))


def _write(ds: Dataset, stage: Path, options: Mapping[str, Any], progress: Progress, tasks: tuple[str, ...],
           target: Target, conv: Converter) -> ExportReport:
    out = _Out(stage)
    dirs = set_dirs(tasks)
    keep_empty = bool(options.get("keep_empty"))
    image_ext = options.get("image_ext")
    pal = palette(target.cats) if options.get("apply_colormap", True) else None
    obj_pal = [voc_color(i) for i in range(256)] if pal is not None else None
    bg = background_index(target.cats) or 0
    lists: dict[str, dict[str, list[str]]] = {}
    cls_values: dict[str, dict[str, dict[int, int]]] = {}
    any_labels = False
    missing: list[str] = []
    with progress.task("writing VOC", total=len(ds)) as bar:
        for item in ds:
            res = conv.item(item, ds.categories)
            fname = _checked_name(item.id, item.subset, media_filename(item, image_ext))
            write_item_files(out, item, res, fname, target, keep_empty, bg, pal, obj_pal)
            if res.labels:
                any_labels = True
                cls_values.setdefault(item.subset, {})[item.id] = dict(res.labels)
            sets = item.meta.get("voc_sets")
            in_dirs = [str(d) for d in sets] if isinstance(sets, (list, tuple)) else \
                default_sets(item.annotations, ds.categories)
            for d in dirs:
                if d in in_dirs:
                    lists.setdefault(item.subset, {}).setdefault(d, []).append(item.id)
            if options.get("save_media"):
                if save_image(item, stage / IMAGES / fname, image_ext):
                    out.files.append(f"{IMAGES}/{fname}")
                else:
                    missing.append(item.id)
            bar.advance()
    _write_lists(out, ds, lists, cls_values, dirs, keep_empty, target, any_labels)
    out.write(LABELMAP_FILE, format_labelmap(entries_from_categories(target.cats)))
    return ExportReport(files=tuple(sorted(out.files)), missing_media=tuple(missing))


def _checked_name(item_id: str, subset: str, fname: str) -> str:
    try:
        safe_relpath(item_id)
        if safe_relpath(subset) != subset or "/" in subset:
            raise DatasetError(f"subset name {subset!r} is not a plain file name")
        return safe_relpath(fname)
    except DatasetError as e:
        raise ExportError(f"item {item_id!r} of subset {subset!r} cannot be written: {e.detail}") from None


def _line(item_id: str) -> str:
    q = quote_id(item_id)
    if q is None:
        raise ExportError(f"item id {item_id!r} cannot be written to a VOC list (quotes and spaces)")
    return q


def _write_lists(out: _Out, ds: Dataset, lists: dict, cls_values: dict, dirs: tuple[str, ...], keep_empty: bool,
                 target: Target, any_labels: bool) -> None:
    subsets = sorted(set(lists) | set(ds.subset_meta) | set(cls_values))
    for sub in subsets:
        meta = ds.subset_meta.get(sub, {}).get(NS, {}) if isinstance(ds.subset_meta.get(sub), Mapping) else {}
        known = set(meta.get("lists", ())) if isinstance(meta, Mapping) else set()
        for d in dirs:
            ids = lists.get(sub, {}).get(d)
            if ids is None and not keep_empty and d not in known:
                continue
            out.write(f"{IMAGE_SETS}/{d}/{sub}.txt", "".join(_line(i) + "\n" for i in ids or ()))
        if not target.labels or MAIN not in dirs:
            continue
        recorded = (meta.get("cls") or []) if isinstance(meta, Mapping) and "lists" in meta else None
        if recorded is not None:
            names = [str(n) for n in recorded if target.cats.find(str(n)) is not None]
        elif any_labels:
            names = [lab.name for lab in target.cats.labels
                     if lab.name != BACKGROUND and not lab.meta.get("voc_part")]
        else:
            names = []
        values = cls_values.get(sub, {})
        ids = lists.get(sub, {}).get(MAIN, [])
        for name in names:
            idx = target.cats.find(name)
            text = "".join(f"{_line(i)} {values.get(i, {}).get(idx, -1):2d}\n" for i in ids)
            out.write(f"{IMAGE_SETS}/{MAIN}/{name}_{sub}.txt", text)
