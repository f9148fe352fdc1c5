"""VOC import: read lists, label map and XML eagerly; build items (and decode masks) lazily."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.voc.items import ItemBuilder, Sources
from dsrepo.formats.voc.labelmap import (
    LabelEntry, VOC_ACTIONS, categories_from_entries, parse_labelmap, voc_entries,
)
from dsrepo.formats.voc.layout import all_files, find_root, read_label_file, read_list, scan_lists
from dsrepo.formats.voc.tasks import (
    ANNOTATIONS, CLASS_MASKS, CLASSIFICATION, IMAGE_SETS, LABELMAP_NAMES, MAIN, OBJECT_MASKS, SEGM,
    SEGMENTATION, SET_DIRS, TASKS, TASK_DIR, XML_TASKS, set_dirs,
)
from dsrepo.formats.voc.xmlparse import XmlRecord, parse_xml
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.progress import Progress

NS = "voc"


def _resolve(path: Path, task: str | None) -> tuple[Path, str | None, str | None]:
    """``(root, only_dir, only_subset)``: a list file ``ImageSets/<dir>/<subset>.txt``
    restricts the import to that list."""
    if path.is_file():
        if path.suffix != ".txt" or path.parent.parent.name != IMAGE_SETS:
            raise DatasetError("expected a VOC folder or a list file ImageSets/<task>/<subset>.txt", path)
        d = path.parent.name
        if task is not None and TASK_DIR[task] != d:
            raise DatasetError(f"a {task} list must be in ImageSets/{TASK_DIR[task]}/", path)
        return path.parent.parent.parent, d, path.stem
    root = find_root(path)
    if root is None:
        raise DatasetError("no VOC dataset found (expected Annotations/, ImageSets/ or SegmentationClass/)", path)
    return root, None, None


def _labelmap(root: Path) -> tuple[list[LabelEntry] | None, Path | None]:
    for name in LABELMAP_NAMES:
        p = root / name
        if p.is_file():
            return parse_labelmap(p), p
    return None, None


def _discover(entries: list[LabelEntry], records: list[XmlRecord], cls_names: list[str]) -> list[LabelEntry]:
    """The VOC label map extended with labels and parts found in the data (no label map file)."""
    out = {e.name: e for e in entries}
    known_parts = {p for e in entries for p in e.parts}
    for rec in records:
        for obj in rec.objects:
            if obj.name not in out and obj.name not in known_parts:
                out[obj.name] = LabelEntry(obj.name)
            owner = out.get(obj.name)
            for part in obj.parts:
                if owner is not None and part.name not in owner.parts and part.name not in out:
                    owner = out[obj.name] = LabelEntry(owner.name, owner.color, owner.parts + (part.name,),
                                                       owner.actions)
                    known_parts.add(part.name)
    for n in cls_names:
        if n not in out and n not in known_parts:
            out[n] = LabelEntry(n)
    return list(out.values())


def _check_names(records: list[XmlRecord], names: set[str], lm_path: Path) -> None:
    for rec in records:
        for obj in rec.objects:
            for n, where in ((obj.name, obj.where), *((p.name, p.where) for p in obj.parts)):
                if n not in names:
                    raise DatasetError(f"label {n!r} is not in the label map {lm_path.name}", rec.path, where)


def load_voc(path: Path, options: Mapping[str, Any], progress: Progress, task: str | None) -> Dataset:
    """Import the VOC dataset at ``path`` (combined format when ``task`` is None)."""
    root, only_dir, only_subset = _resolve(path, task)
    tasks = TASKS if task is None else (task,)
    dirs = set_dirs(tasks) if only_dir is None else (only_dir,)
    entries, lm_path = _labelmap(root)
    known = None if entries is None else {n for e in entries for n in (e.name, *e.parts)}
    actions = {a for e in (entries or voc_entries()) for a in e.actions} | set(VOC_ACTIONS["person"])
    found = scan_lists(root, dirs, known, actions)
    subsets: dict[str, dict[str, list[str]]] = {}
    for d in dirs:
        for sub, p in found.lists.get(d, {}).items():
            if only_subset is None or sub == only_subset:
                subsets.setdefault(sub, {})[d] = read_list(p)
    want_cls = CLASSIFICATION in tasks and MAIN in dirs
    label_files: dict[str, list[tuple[str, list[tuple[str, int]]]]] = {}
    if want_cls:
        for sub, files in found.label_files.items():
            if only_subset is None or sub == only_subset:
                label_files[sub] = [(lab, read_label_file(p)) for lab, p in files]
                subsets.setdefault(sub, {})
    if not subsets and only_dir is None:
        subsets = _fallback(root, tasks)
    want_xml = any(t in tasks for t in XML_TASKS)
    want_masks = SEGMENTATION in tasks
    ids = {i for lists in subsets.values() for ids in lists.values() for i in ids}
    ids |= {i for files in label_files.values() for _, pairs in files for i, _v in pairs}
    records: dict[str, XmlRecord] = {}
    if want_xml:
        ann_dir = root / ANNOTATIONS
        with progress.task("reading VOC annotations", total=len(ids)) as bar:
            for item_id in sorted(ids):
                p = ann_dir / f"{item_id}.xml"
                if p.is_file():
                    records[item_id] = parse_xml(p)
                bar.advance()
    cls_names = sorted({lab for files in label_files.values() for lab, _ in files})
    recs = [records[k] for k in sorted(records)]
    if entries is None:
        entries = _discover(voc_entries(), recs, cls_names)
    else:
        _check_names(recs, known or set(), lm_path)  # type: ignore[arg-type]
    cats = categories_from_entries(entries)
    src = Sources(root, cats, records, want_masks, task is None,
                  _mask_files(root / CLASS_MASKS) if want_masks else {},
                  _mask_files(root / OBJECT_MASKS) if want_masks else {})
    plan: list[tuple[str, str, dict[str, int], tuple[str, ...]]] = []
    subset_meta: dict[str, dict] = {}
    for sub in sorted(subsets):
        lists = subsets[sub]
        order: dict[str, list[str]] = {}
        for d in dirs:
            for i in lists.get(d, ()):
                order.setdefault(i, []).append(d)
        labels_of: dict[str, dict[str, int]] = {}
        for lab, pairs in label_files.get(sub, ()):
            for i, v in pairs:
                if v >= 0:
                    labels_of.setdefault(i, {})[lab] = v
                if MAIN not in order.setdefault(i, []):
                    order[i].append(MAIN)
        for i, in_dirs in order.items():
            plan.append((sub, i, labels_of.get(i, {}), tuple(d for d in SET_DIRS if d in in_dirs)))
        meta: dict[str, Any] = {"lists": [d for d in dirs if d in lists]}
        if sub in label_files:
            meta["cls"] = [lab for lab, _ in label_files[sub]]
        subset_meta[sub] = {NS: meta}
    builder = ItemBuilder(src)

    def items() -> Iterator[Item]:
        for sub, item_id, labels, in_dirs in plan:
            yield builder.build(sub, item_id, labels, in_dirs)

    return Dataset(cats, items, subset_meta, length=len(plan), media_root=str(root))


def _mask_files(folder: Path) -> dict[str, Path]:
    return {i: folder / f"{i}.png" for i in all_files(folder, ".png")}


def _fallback(root: Path, tasks: tuple[str, ...]) -> dict[str, dict[str, list[str]]]:
    """Without any subset list: one ``default`` subset with every annotation file
    (or every mask, for segmentation)."""
    if any(t in tasks for t in XML_TASKS):
        ids = all_files(root / ANNOTATIONS, ".xml")
        if ids:
            return {DEFAULT_SUBSET: {MAIN: ids}}
    if SEGMENTATION in tasks:
        ids = sorted(set(all_files(root / CLASS_MASKS, ".png")) | set(all_files(root / OBJECT_MASKS, ".png")))
        if ids:
            return {DEFAULT_SUBSET: {SEGM: ids}}
    return {}
