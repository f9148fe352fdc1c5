"""COCO import: parse the annotation files eagerly (compactly), build items lazily."""

from __future__ import annotations

import os
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from dsrepo.errors import DatasetError
from dsrepo.formats.coco.build import FileCtx, SubsetBuilder
from dsrepo.formats.coco.cats import merge_categories
from dsrepo.formats.coco.layout import image_locator, panoptic_dirs, resolve_files
from dsrepo.formats.coco.meta import NS
from dsrepo.formats.coco.parse import UNSET, ParsedFile, parse_file
from dsrepo.formats.coco.tasks import PANOPTIC
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.progress import Progress


_IMAGE_ID = attrgetter("image_id")
_CATEGORY_ID = attrgetter("category_id")
_ID = attrgetter("id")


def _index_annotations(pf: ParsedFile, n_images: int, id_pos: dict) -> tuple[np.ndarray, np.ndarray, bool]:
    """Annotation indices grouped by image (stable), per-image offsets, and whether
    the file lists annotations grouped by image in image order."""
    idx = list(map(id_pos.get, map(_IMAGE_ID, pf.anns), repeat(-1)))  # C loops: ~860k records
    arr = np.array(idx, dtype=np.int64) if idx else np.zeros(0, np.int64)
    if arr.size and arr.min() < 0:
        bad = int(np.argmin(arr))
        a = pf.anns[bad]
        where = f"annotation id {a.id}" if a.id is not UNSET else f"annotation #{bad}"
        what = "image_id" if pf.task != PANOPTIC else "image_id"
        raise DatasetError(f"{what} {a.image_id!r} is not in images", pf.path, where)
    natural = bool(arr.size < 2 or np.all(arr[1:] >= arr[:-1]))
    order = np.argsort(arr, kind="stable") if not natural else np.arange(arr.size)
    starts = np.searchsorted(arr[order], np.arange(n_images + 1), side="left")
    return order.astype(np.int64), starts.astype(np.int64), natural


def _check_references(pf: ParsedFile, label_map: Mapping[int, Any]) -> None:
    if pf.categories is None:
        return
    used = set(map(_CATEGORY_ID, pf.anns))
    used.discard(UNSET)
    used.discard(0)
    if used.issubset(label_map.keys()) and pf.task != PANOPTIC:
        return  # the usual case, decided without a Python loop over the records
    for i, a in enumerate(pf.anns):
        cid = a.category_id
        if cid is not UNSET and cid not in label_map and cid != 0:
            where = f"annotation id {a.id}" if a.id is not UNSET else f"annotation #{i}"
            raise DatasetError(f"category_id {cid} is not in categories", pf.path, where)
        if a.segments_info is not UNSET:
            for s in a.segments_info:
                if s.category_id not in label_map and s.category_id != 0:
                    raise DatasetError(f"category_id {s.category_id} is not in categories", pf.path,
                                       f"image id {a.image_id}: segment id {s.id}")


_NO_ID = -(1 << 63)


def _duplicate_ids(pf: ParsedFile) -> set[int]:
    """Indices of annotations whose id repeats an earlier one (or is missing)."""
    raw = list(map(_ID, pf.anns))
    if UNSET in raw:
        raw = [_NO_ID if i is UNSET else i for i in raw]
    ids = np.array(raw, dtype=np.int64)
    if not ids.size:
        return set()
    out = set(np.flatnonzero(ids == _NO_ID).tolist())
    order = np.argsort(ids, kind="stable")
    srt = ids[order]
    same = np.flatnonzero(srt[1:] == srt[:-1]) + 1
    out.update(order[same].tolist())
    return out


def _item_ids(pf: ParsedFile) -> tuple[list[str], dict[Any, int]]:
    ids = []
    id_pos: dict[Any, int] = {}
    seen: dict[str, int] = {}
    for i, im in enumerate(pf.images):
        name = im.file_name.replace("\\", "/")
        while name.startswith("./"):
            name = name[2:]
        dot, slash = name.rfind("."), name.rfind("/")
        if dot > slash + 1 and name[slash + 1] != ".":  # os.path.splitext's common case, inline
            iid = name[:dot]
        else:
            iid = os.path.splitext(name)[0] or name
        if iid in seen:
            other = pf.images[seen[iid]]
            raise DatasetError(f"file_name {im.file_name!r} gives item id {iid!r} like image id {other.id} "
                               f"({other.file_name!r})", pf.path, f"image id {im.id}")
        if im.id in id_pos:
            raise DatasetError("listed twice", pf.path, f"image id {im.id}")
        seen[iid] = i
        id_pos[im.id] = i
        ids.append(iid)
    return ids, id_pos


def _sorted_by_id(pf: ParsedFile) -> bool:
    """True if every annotation has an integer id and the list is in increasing id order
    (COCO's own files): that order is rebuilt from the ids, so no per-annotation position
    is stored and an edit elsewhere in the file leaves other items unchanged."""
    ids = list(map(_ID, pf.anns))
    if len(ids) < 2 or set(map(type, ids)) != {int}:
        return False
    arr = np.array(ids, dtype=np.int64)
    return bool(np.all(arr[1:] > arr[:-1]))


def _file_meta(pf: ParsedFile, cats_entry: list | None, order: str | None) -> dict:
    fm: dict[str, Any] = {"name": pf.path.name, "keys": pf.keys}
    if pf.top:
        fm["top"] = pf.top
    if cats_entry is not None:
        fm["cats"] = cats_entry
    if order:
        fm["order"] = order
    return fm


def load_coco(path: Path, options: Mapping[str, Any], progress: Progress, task: str | None) -> Dataset:
    """Import the COCO dataset at ``path`` (combined format when ``task`` is None)."""
    root, files = resolve_files(path, task)
    parsed: list[ParsedFile] = []
    with progress.task("reading COCO annotations", total=len(files)) as t:
        for ftask, subset, fpath in files:
            parsed.append(parse_file(fpath, ftask, subset))
            t.advance()
    cats, label_maps, cat_entries = merge_categories(parsed, bool(options.get("keep_original_category_ids")))
    subsets: dict[str, list[int]] = {}
    for i, pf in enumerate(parsed):
        subsets.setdefault(pf.subset, []).append(i)
    builders: list[SubsetBuilder] = []
    subset_meta: dict[str, dict] = {}
    total = 0
    dup_total = 0
    for subset, fidx in subsets.items():
        ctxs = []
        fmeta: dict[str, dict] = {}
        for i in fidx:
            pf = parsed[i]
            if pf.task in fmeta:
                raise DatasetError(f"two {pf.task} files for subset {subset!r}: {fmeta[pf.task]['name']} "
                                   f"and {pf.path.name}", pf.path)
            _check_references(pf, label_maps[i])
            ids, id_pos = _item_ids(pf)
            order, starts, natural = _index_annotations(pf, len(pf.images), id_pos)
            ann_order = None if natural else ("id" if _sorted_by_id(pf) else "file")
            dups = _duplicate_ids(pf) if pf.task != PANOPTIC else set()
            dup_total += sum(1 for d in dups if pf.anns[d].id is not UNSET)
            pan = panoptic_dirs(root, pf.path, subset) if pf.task == PANOPTIC else []
            ctxs.append(FileCtx(pf, label_maps[i], ids, order, starts, ann_order != "file", dups, pan))
            fmeta[pf.task] = _file_meta(pf, cat_entries[i], ann_order)
        locator = image_locator(root, subset, (ctxs[0].pf.path.parent,))
        b = SubsetBuilder(subset, ctxs, locator, progress)
        builders.append(b)
        total += len(b)
        subset_meta[subset] = {NS: {"files": fmeta}}
    if dup_total:
        progress.warn(f"coco: {dup_total} annotations repeat an earlier annotation id; "
                      "they are imported without an id and get new ids on export")

    def items() -> Iterator[Item]:
        for b in builders:
            yield from b.items()

    def stubs(lazy: bool = False) -> Iterator | None:
        from dsrepo.formats.coco.fingerprint import subset_context, subset_stubs

        contexts = [subset_context(b, options) for b in builders]
        if any(c is None for c in contexts):
            return None
        return (stub for b, c in zip(builders, contexts) for stub in subset_stubs(b, c, lazy))

    return Dataset(cats, items, subset_meta, length=total, media_root=str(root), stubs=stubs)
