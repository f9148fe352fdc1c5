"""Which annotation files a COCO import reads, and where its images and PNGs are."""

from __future__ import annotations

import os
from pathlib import Path

from dsrepo.errors import DatasetError
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


class ImageLocator:
    """Finds image files of one subset: ``images/<subset>/``, ``<subset>/``, ``images/``,
    the dataset root, then the annotation file's folder (first match wins).

    Folder listings are read once and cached, so a missing image costs no system call."""

    def __init__(self, root: Path, subset: str, extra: tuple[Path, ...] = ()) -> None:
        cands = [root / "images" / subset, root / subset, root / "images", root, *extra]
        seen: list[Path] = []
        for c in cands:
            if c not in seen and c.is_dir():
                seen.append(c)
        self.roots = [os.path.abspath(r) for r in seen]
        self._listing: dict[str, set[str]] = {}

    def _names(self, root: str) -> set[str]:
        names = self._listing.get(root)
        if names is None:
            try:
                names = set(os.listdir(root))
            except OSError:
                names = set()
            self._listing[root] = names
        return names

    def find(self, rel: str) -> str | None:
        """Absolute path of image ``rel`` (a safe relative path), or None."""
        nested = "/" in rel
        for root in self.roots:
            if nested:
                p = os.path.join(root, rel)
                if os.path.isfile(p):
                    return p
            elif rel in self._names(root):
                return os.path.join(root, rel)
        return None


def panoptic_dirs(root: Path, json_path: Path, subset: str) -> list[Path]:
    """Folders that may hold the PNG segment maps of a panoptic file."""
    out = [json_path.parent / json_path.stem, root / "annotations" / f"{PANOPTIC}_{subset}"]
    return [p for i, p in enumerate(out) if p.is_dir() and p not in out[:i]]
