"""COCO format specs: the combined ``coco`` format and one format per task.

Light module: imported by ``dsrepo formats`` and detection, so the import and export
code (numpy, msgspec, OpenCV) is imported only when a dataset is read or written
(``lazy_load``/``lazy_save``).
"""

from __future__ import annotations

from pathlib import Path

from dsrepo.formats.base import (
    COMMON_EXPORT_OPTIONS, FormatSpec, Option, lazy_call, lazy_load, lazy_patch, lazy_save,
)
from dsrepo.formats.coco.tasks import (
    CAPTIONS, IMAGE_INFO, INSTANCES, LABELS, PANOPTIC, PERSON_KEYPOINTS, STUFF, TASKS, annotation_dir,
    split_file_name,
)

IMPORT_OPTIONS = (
    Option("keep-original-category-ids", "flag", False,
           "add placeholder labels so that a label's index equals its COCO category id"),
)

_TASK_EXPORT_OPTIONS = COMMON_EXPORT_OPTIONS + (
    Option("segmentation-mode", "choice", "guess",
           "instance shapes: guess (keep each object's polygons or mask), polygons, or mask",
           ("guess", "polygons", "mask")),
    Option("crop-covered", "flag", False, "cut parts of objects covered by objects in front (z_order, then order)"),
    Option("allow-attributes", "flag", True, "write custom annotation attributes into 'attributes'"),
    Option("reindex", "flag", False, "number images and annotations 1..n instead of keeping their COCO ids"),
    Option("merge-images", "flag", False, "save images of all subsets into images/ instead of images/<subset>/"),
    Option("save-dataset-meta", "flag", False, "also write dataset_meta.json (labels and their category ids)"),
)
EXPORT_OPTIONS = _TASK_EXPORT_OPTIONS + (
    Option("tasks", "list", (), "tasks to write, comma-separated: " + ",".join(TASKS) + " (default: the "
           "imported task files, or every task that has annotations)"),
)

_PEEK = 1 << 16
_HINTS = {
    PANOPTIC: (b'"segments_info"',),
    PERSON_KEYPOINTS: (b'"keypoints"', b'"num_keypoints"'),
    CAPTIONS: (b'"caption"',),
    INSTANCES: (b'"segmentation"', b'"bbox"'),
}


def _peek(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(_PEEK)
    except OSError:
        return b""


def _looks_coco(head: bytes) -> bool:
    h = head.lstrip()
    return h[:1] == b"{" and b'"images"' in head and (b'"file_name"' in head or b'"annotations"' in head
                                                       or b'"categories"' in head or b'"info"' in head
                                                       or b'"licenses"' in head)


def _detect_file(path: Path, task: str | None) -> float:
    if path.suffix.lower() != ".json":
        return 0.0
    parts = split_file_name(path.name)
    head = _peek(path)
    if not head.lstrip()[:1] == b"{" or (b'"images"' not in head and parts is None):
        return 0.0
    if parts is not None:
        if task is None:
            return 0.7
        return 0.8 if parts[0] == task else 0.0
    if task is None or not _looks_coco(head):
        return 0.0
    for t, hints in _HINTS.items():
        if any(h in head for h in hints):
            return 0.5 if t == task else 0.0
    return 0.4 if task == INSTANCES else 0.0


def _detect_dir(path: Path, task: str | None) -> float:
    folder = annotation_dir(path)
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:
        return 0.0
    tasks = {parts[0] for n in names if (parts := split_file_name(n))}
    if not tasks:
        return 0.0
    if task is None:
        return 0.9 if folder != path or path.name == "annotations" else 0.8
    return 0.6 if task in tasks else 0.0


def _detector(task: str | None):
    def detect(path: Path) -> float:
        """Confidence that ``path`` is COCO (names and the first 64 KiB only)."""
        p = Path(path)
        if p.is_dir():
            return _detect_dir(p, task)
        if p.is_file():
            return _detect_file(p, task)
        return 0.0

    return detect


def _spec(name: str, task: str | None, description: str) -> FormatSpec:
    return FormatSpec(
        name=name, description=description, detect=_detector(task),
        load=lazy_load("dsrepo.formats.coco.importer:load_coco", task),
        save=lazy_save("dsrepo.formats.coco.exporter:save_coco", task),
        import_options=IMPORT_OPTIONS,
        export_options=EXPORT_OPTIONS if task is None else _TASK_EXPORT_OPTIONS,
        extensions=(".json",),
        patch=None if task == PANOPTIC else lazy_patch("dsrepo.formats.coco.patch:patch_coco", task),
        fingerprints=task != PANOPTIC, splits=task != PANOPTIC,
        annotation_files=None if task == PANOPTIC else lazy_call("dsrepo.formats.coco.tasks:annotation_files", task),
    )


COCO = _spec("coco", None, "COCO, all tasks: annotations/<task>_<subset>.json (+ images, panoptic PNGs)")
COCO_INSTANCES = _spec("coco_instances", INSTANCES, "COCO object detection / instance segmentation")
COCO_PERSON_KEYPOINTS = _spec("coco_person_keypoints", PERSON_KEYPOINTS, "COCO person keypoints")
COCO_CAPTIONS = _spec("coco_captions", CAPTIONS, "COCO image captions")
COCO_LABELS = _spec("coco_labels", LABELS, "COCO-style image labels (category_id + score per image)")
COCO_PANOPTIC = _spec("coco_panoptic", PANOPTIC, "COCO panoptic segmentation (PNG segment maps)")
COCO_STUFF = _spec("coco_stuff", STUFF, "COCO stuff segmentation")
COCO_IMAGE_INFO = _spec("coco_image_info", IMAGE_INFO, "COCO image info (images without annotations)")
