"""imagenet export: each item's image copied into the folder of each of its labels.

The folder layout *is* the annotation, so images are always written (``--save-media``
is implied). Only the ``default`` subset gives the flat layout ``<label>/<id><ext>``;
any other subset gives ``<subset>/<label>/<id><ext>``. Items without labels go to
``no_label/``. Labels without images get an empty folder. Everything else (other
annotation types, duplicate labels, attributes) is counted with a LossTracker.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.lossy import ANNOTATION_ATTRIBUTES, UNLABELED, LossTracker, kind_word
from dsrepo.formats.image_dir.exporter import count_losses
from dsrepo.formats.image_dir.media import can_write, target_ext, warn_missing, write_image
from dsrepo.formats.imagenet.importer import NO_LABEL
from dsrepo.model.annotations import AnnType
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.model.media import Image
from dsrepo.progress import Progress


@dataclass(frozen=True, slots=True)
class _Planned:
    subset: str
    file_name: str
    media: Image
    ext: str
    folders: tuple[str, ...]


def check_folder_name(name: str, what: str) -> str:
    """``name`` if it can be one folder name that imports back unchanged, else ExportError."""
    if (not name or name in (".", "..") or name.startswith(".") or "/" in name or "\\" in name
            or name != name.strip() or "\n" in name or "\r" in name):
        raise ExportError(f"{what} {name!r} cannot be an imagenet folder name")
    return name


def label_folders(item: Item, names: list[str], tracker: LossTracker) -> tuple[str, ...]:
    """Label folder names of ``item`` (sorted by label index; ``no_label`` if none);
    records what cannot be kept."""
    count_losses(item, tracker, keep=(AnnType.label,))
    seen: set[int] = set()
    for ann in item.annotations:
        if ann.type is not AnnType.label:
            continue
        if ann.label is None:
            tracker.drop(UNLABELED)
            continue
        if ann.label >= len(names):
            raise ExportError(f"item {item.id!r}: label index {ann.label} is out of range "
                              f"({len(names)} labels)")
        if ann.label in seen:
            tracker.drop("duplicate " + kind_word(AnnType.label))
        seen.add(ann.label)
        if ann.attributes:
            tracker.drop(ANNOTATION_ATTRIBUTES)
    return tuple(names[i] for i in sorted(seen)) or (NO_LABEL,)


def plan_item(item: Item, names: list[str], tracker: LossTracker, image_ext: str | None) -> _Planned | None:
    """Where ``item``'s image goes (None: it has no image to write); ExportError for an id
    that cannot be a file name."""
    if "/" in item.id or "\\" in item.id:
        raise ExportError(f"item id {item.id!r} contains '/': imagenet stores plain file names")
    folders = label_folders(item, names, tracker)
    if not can_write(item.media):
        return None
    ext = target_ext(item.media, image_ext)
    return _Planned(item.subset, check_folder_name(item.id + ext, "item"), item.media, ext, folders)


def write_planned(p: _Planned, out: Path, prefix: str) -> list[str]:
    """Write one planned image into each of its label folders; their relative paths."""
    rels = [f"{prefix}{folder}/{p.file_name}" for folder in p.folders]
    write_image(p.media, out / rels[0], p.ext)
    for rel in rels[1:]:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / rels[0], out / rel)
    return rels


def label_names(dataset: Dataset) -> list[str]:
    """The label folder names (ExportError for names that cannot be folders)."""
    names = [check_folder_name(n, "label") for n in dataset.categories.label_names()]
    if NO_LABEL in names:
        raise ExportError(f"label {NO_LABEL!r} clashes with the folder of unlabeled images")
    return names


def subset_prefixes(subsets: Mapping[str, None]) -> dict[str, str]:
    """Each subset's folder prefix: none when every item is in ``default`` (flat layout)."""
    flat = set(subsets) <= {DEFAULT_SUBSET}
    return {s: "" if flat else check_folder_name(s, "subset") + "/" for s in subsets}


def save_imagenet(dataset: Dataset, out: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Write the class-per-folder layout of ``dataset`` into ``out``."""
    tracker = LossTracker("imagenet", progress, bool(options.get("strict")))
    image_ext = options.get("image_ext")
    names = label_names(dataset)
    plan: list[_Planned] = []
    missing: list[str] = []
    subsets = dict.fromkeys(dataset.subset_meta)
    for item in dataset:
        subsets.setdefault(item.subset, None)
        planned = plan_item(item, names, tracker, image_ext)
        if planned is None:
            missing.append(item.id)
        else:
            plan.append(planned)
    tracker.finish()
    prefixes = subset_prefixes(subsets)
    files: list[str] = []
    used: set[str] = set()
    with progress.task("imagenet: writing images", total=len(plan)) as bar:
        for p in plan:
            files.extend(write_planned(p, out, prefixes[p.subset]))
            used.update(p.folders)
            bar.advance()
    for name in names:
        if name not in used:
            for prefix in (prefixes or {DEFAULT_SUBSET: ""}).values():
                (out / f"{prefix}{name}").mkdir(parents=True, exist_ok=True)
    for prefix in prefixes.values():
        if prefix:
            (out / prefix).mkdir(parents=True, exist_ok=True)
    warn_missing(progress, "imagenet", missing)
    return ExportReport(files=tuple(sorted(files)), missing_media=tuple(missing))
