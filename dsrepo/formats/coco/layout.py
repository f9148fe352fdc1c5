"""Which annotation files a COCO import reads, and where its images and PNGs are."""

from __future__ import annotations

from pathlib import Path

from dsrepo.errors import DatasetError
from dsrepo.formats.common.media import ImageLocator
from dsrepo.formats.coco.tasks import PANOPTIC, TASKS, annotation_dir, split_file_name, task_files
from dsrepo.model.item import DEFAULT_SUBSET


def _root_of(json_path: Path) -> Path:
    parent = json_path.parent
    return parent.parent if parent.name == "annotations" else parent


def resolve_files(path: Path, task: str | None) -> tuple[Path, list[tuple[str, str, Path]]]:
    """``(dataset root, [(task, subset, file)])`` for an import of ``path``.

    ``task`` None is the combined format: task and subset come from
    ``<task>_<subset>.json`` names. A task format reads any ``.json`` file name.
    """
    if path.is_file():
        parts = split_file_name(path.name)
        if task is None:
            if parts is None:
                raise DatasetError("cannot tell the COCO task from the file name (expected "
                                   "<task>_<subset>.json); use a coco_<task> format", path)
            return _root_of(path), [(parts[0], parts[1], path)]
        subset = parts[1] if parts else DEFAULT_SUBSET
        return _root_of(path), [(task, subset, path)]
    ann_dir = annotation_dir(path)
    root = path.parent if (ann_dir == path and path.name == "annotations") else path
    files = task_files(ann_dir, TASKS if task is None else (task,))
    if files:
        return root, files
    if task is None:
        raise DatasetError("no COCO annotation files found (expected annotations/<task>_<subset>.json)", path)
    others = sorted(p for p in ann_dir.glob("*.json") if p.is_file() and split_file_name(p.name) is None)
    if not others:
        raise DatasetError(f"no {task} annotation file found (expected annotations/{task}_<subset>.json "
                           "or a .json file)", path)
    if len(others) == 1:
        return root, [(task, DEFAULT_SUBSET, others[0])]
    return root, [(task, p.stem, p) for p in others]


def image_locator(root: Path, subset: str, extra: tuple[Path, ...] = ()) -> ImageLocator:
    """Finds image files of one subset: ``images/<subset>/``, ``<subset>/``, ``images/``,
    the dataset root, then ``extra`` folders (the annotation file's), first match wins."""
    return ImageLocator([root / "images" / subset, root / subset, root / "images", root, *extra])


def panoptic_dirs(root: Path, json_path: Path, subset: str) -> list[Path]:
    """Folders that may hold the PNG segment maps of a panoptic file."""
    out = [json_path.parent / json_path.stem, root / "annotations" / f"{PANOPTIC}_{subset}"]
    return [p for i, p in enumerate(out) if p.is_dir() and p not in out[:i]]
