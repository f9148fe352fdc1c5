"""COCO task names and annotation-file naming (light: no heavy imports)."""

from __future__ import annotations

import re
from pathlib import Path

INSTANCES = "instances"
PERSON_KEYPOINTS = "person_keypoints"
CAPTIONS = "captions"
LABELS = "labels"
PANOPTIC = "panoptic"
STUFF = "stuff"
IMAGE_INFO = "image_info"

# Canonical order: import merges task files in this order, export writes in it.
TASKS = (INSTANCES, PERSON_KEYPOINTS, STUFF, PANOPTIC, LABELS, CAPTIONS, IMAGE_INFO)
AREA_TASKS = (INSTANCES, STUFF, PANOPTIC)

_FILE_RE = re.compile(r"^(" + "|".join(sorted(TASKS, key=len, reverse=True)) + r")_(.+)\.json$")


def split_file_name(name: str) -> tuple[str, str] | None:
    """``("instances", "train2017")`` for ``instances_train2017.json``; None if the
    name does not follow ``<task>_<subset>.json``."""
    m = _FILE_RE.match(name)
    if not m:
        return None
    return m.group(1), m.group(2)


def annotation_dir(path: Path) -> Path:
    """The folder holding ``<task>_<subset>.json`` files for a dataset folder ``path``."""
    sub = path / "annotations"
    return sub if sub.is_dir() else path


def task_files(folder: Path, tasks: tuple[str, ...] = TASKS) -> list[tuple[str, str, Path]]:
    """``(task, subset, path)`` of every ``<task>_<subset>.json`` in ``folder`` (sorted
    by subset, then canonical task order)."""
    found = []
    if not folder.is_dir():
        return found
    for p in folder.iterdir():
        parts = split_file_name(p.name)
        if parts and parts[0] in tasks and p.is_file():
            found.append((parts[0], parts[1], p))
    found.sort(key=lambda t: (t[1], TASKS.index(t[0])))
    return found


def annotation_files(path: Path, task: str | None) -> list[str] | None:
    """The annotation files of dataset folder ``path`` (relative paths) that an import of it
    reads, when the exporter writes an import of it back under exactly these names:
    ``annotations/<task>_<subset>.json`` (of ``task`` only, for a task format). None for
    other layouts, no such files, or panoptic files (their PNGs are files too)."""
    folder = path / "annotations"
    if not folder.is_dir():
        return None
    files = task_files(folder, TASKS if task is None else (task,))
    if not files or any(t == PANOPTIC for t, _s, _p in files):
        return None
    return [f"annotations/{p.name}" for _t, _s, p in files]
