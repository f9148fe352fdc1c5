"""VOC task names and the ImageSets folder of each task (light: no heavy imports)."""

from __future__ import annotations

CLASSIFICATION = "classification"
DETECTION = "detection"
SEGMENTATION = "segmentation"
ACTION = "action_classification"
LAYOUT = "person_layout"

TASKS = (CLASSIFICATION, DETECTION, SEGMENTATION, ACTION, LAYOUT)
ALIASES = {"action": ACTION, "layout": LAYOUT}

MAIN, SEGM, ACTION_DIR, LAYOUT_DIR = "Main", "Segmentation", "Action", "Layout"
SET_DIRS = (MAIN, SEGM, ACTION_DIR, LAYOUT_DIR)
TASK_DIR = {CLASSIFICATION: MAIN, DETECTION: MAIN, SEGMENTATION: SEGM, ACTION: ACTION_DIR, LAYOUT: LAYOUT_DIR}

ANNOTATIONS = "Annotations"
IMAGES = "JPEGImages"
CLASS_MASKS = "SegmentationClass"
OBJECT_MASKS = "SegmentationObject"
IMAGE_SETS = "ImageSets"
LABELMAP_NAMES = ("labelmap.txt", "label_map.txt")

XML_TASKS = (DETECTION, ACTION, LAYOUT)


def normalize_tasks(names: tuple[str, ...] | list[str]) -> tuple[str, ...] | None:
    """Canonical task names (in :data:`TASKS` order) for user-given ``names``; None if
    one is unknown (the caller reports it)."""
    out = set()
    for n in names:
        n = ALIASES.get(n, n)
        if n not in TASKS:
            return None
        out.add(n)
    return tuple(t for t in TASKS if t in out)


def set_dirs(tasks: tuple[str, ...]) -> tuple[str, ...]:
    """ImageSets sub-folders used by ``tasks`` (in :data:`SET_DIRS` order)."""
    dirs = {TASK_DIR[t] for t in tasks}
    return tuple(d for d in SET_DIRS if d in dirs)
