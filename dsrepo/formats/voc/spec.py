"""Pascal VOC format specs: the combined ``voc`` format and one format per task.

Light module: imported by ``dsrepo formats`` and detection, so the import and export
code (numpy, OpenCV, lxml) is imported only when a dataset is read or written
(``lazy_load``/``lazy_save``).
"""

from __future__ import annotations

from pathlib import Path

from dsrepo.formats.base import COMMON_EXPORT_OPTIONS, FormatSpec, Option, lazy_load, lazy_save
from dsrepo.formats.voc.tasks import (
    ACTION, ANNOTATIONS, CLASS_MASKS, CLASSIFICATION, DETECTION, IMAGE_SETS, LAYOUT, OBJECT_MASKS, SEGMENTATION,
    SET_DIRS, TASK_DIR, TASKS,
)

_TASK_EXPORT_OPTIONS = COMMON_EXPORT_OPTIONS + (
    Option("label-map", "str", "source",
           "labels and colours to write: source (the dataset's labels), voc (the standard VOC label map) "
           "or the path of a labelmap.txt file; annotations of other labels are dropped"),
    Option("allow-attributes", "flag", True, "write custom object attributes into <attributes>"),
    Option("keep-empty", "flag", False, "write XML files for items without objects, and every subset list "
           "even when empty"),
    Option("apply-colormap", "flag", True, "write mask PNGs with the label colours (palette); "
           "--no-apply-colormap writes grey index PNGs"),
)
EXPORT_OPTIONS = _TASK_EXPORT_OPTIONS + (
    Option("tasks", "list", (), "tasks to write, comma-separated: " + ",".join(TASKS) + " (default: all)"),
)
_MARKERS = (ANNOTATIONS, IMAGE_SETS, CLASS_MASKS, OBJECT_MASKS)


def _root_score(path: Path, task: str | None) -> float:
    if not any((path / m).is_dir() for m in _MARKERS):
        return 0.0
    if task is None:
        return 0.9
    if (path / IMAGE_SETS / TASK_DIR[task]).is_dir():
        return 0.5
    if task in (DETECTION, ACTION, LAYOUT) and (path / ANNOTATIONS).is_dir():
        return 0.3 if task == DETECTION else 0.0
    if task == SEGMENTATION and ((path / CLASS_MASKS).is_dir() or (path / OBJECT_MASKS).is_dir()):
        return 0.3
    return 0.0


def _detector(task: str | None):
    def detect(path: Path) -> float:
        """Confidence that ``path`` is a VOC folder (or one of its list files); names only."""
        p = Path(path)
        if p.is_file():
            if p.suffix != ".txt" or p.parent.parent.name != IMAGE_SETS or p.parent.name not in SET_DIRS:
                return 0.0
            if task is None:
                return 0.8
            return 0.6 if TASK_DIR[task] == p.parent.name else 0.0
        if not p.is_dir():
            return 0.0
        best = _root_score(p, task)
        if best:
            return best
        try:
            subs = [d for d in sorted(p.iterdir()) if d.is_dir()][:20]
            for d in subs:
                score = _root_score(d, task) or max(
                    (_root_score(dd, task) for dd in sorted(d.iterdir())[:20] if dd.is_dir()), default=0.0)
                if score:
                    return score * 0.9
        except OSError:
            return 0.0
        return 0.0

    return detect


def _patcher(task: str | None):
    def patch(changed, order, rows, out, options, progress, prev):
        """Incremental export (docs/patch-export.md): changed items and the shared lists."""
        from dsrepo.formats.voc.patch import patch_voc

        return patch_voc(changed, order, rows, Path(out), options, progress, task)

    return patch


def _spec(name: str, task: str | None, description: str) -> FormatSpec:
    return FormatSpec(
        name=name, description=description, detect=_detector(task),
        load=lazy_load("dsrepo.formats.voc.importer:load_voc", task),
        save=lazy_save("dsrepo.formats.voc.exporter:save_voc", task),
        import_options=(), export_options=EXPORT_OPTIONS if task is None else _TASK_EXPORT_OPTIONS,
        extensions=(".xml", ".txt", ".png"), patch=_patcher(task),
    )


VOC = _spec("voc", None, "Pascal VOC, all tasks: Annotations/*.xml, ImageSets/, SegmentationClass|Object/*.png")
VOC_CLASSIFICATION = _spec("voc_classification", CLASSIFICATION,
                           "Pascal VOC classification (ImageSets/Main/<label>_<subset>.txt)")
VOC_DETECTION = _spec("voc_detection", DETECTION, "Pascal VOC object detection (Annotations/*.xml)")
VOC_SEGMENTATION = _spec("voc_segmentation", SEGMENTATION,
                         "Pascal VOC class and instance segmentation (SegmentationClass|Object/*.png)")
VOC_ACTION = _spec("voc_action", ACTION, "Pascal VOC action classification (object actions in XML)")
VOC_LAYOUT = _spec("voc_layout", LAYOUT, "Pascal VOC person layout (object parts in XML)")
