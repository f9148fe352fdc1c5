"""The one explicit table of formats: name -> "module:attr" of a FormatSpec.

Modules are imported only when a format is used, so ``dsrepo --help`` stays fast.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from dsrepo.errors import FormatError

if TYPE_CHECKING:
    from dsrepo.formats.base import FormatSpec

FORMATS: dict[str, str] = {
    "coco": "dsrepo.formats.coco.spec:COCO",
    "coco_instances": "dsrepo.formats.coco.spec:COCO_INSTANCES",
    "coco_person_keypoints": "dsrepo.formats.coco.spec:COCO_PERSON_KEYPOINTS",
    "coco_captions": "dsrepo.formats.coco.spec:COCO_CAPTIONS",
    "coco_labels": "dsrepo.formats.coco.spec:COCO_LABELS",
    "coco_panoptic": "dsrepo.formats.coco.spec:COCO_PANOPTIC",
    "coco_stuff": "dsrepo.formats.coco.spec:COCO_STUFF",
    "coco_image_info": "dsrepo.formats.coco.spec:COCO_IMAGE_INFO",
    "cvat": "dsrepo.formats.cvat.spec:CVAT",
    "datumaro": "dsrepo.formats.datumaro.spec:DATUMARO",
    "gt_studio": "dsrepo.formats.gt_studio.spec:GT_STUDIO",
    "image_dir": "dsrepo.formats.image_dir.spec:IMAGE_DIR",
    "image_zip": "dsrepo.formats.image_dir.spec:IMAGE_ZIP",
    "imagenet": "dsrepo.formats.imagenet.spec:IMAGENET",
    "imagenet_txt": "dsrepo.formats.imagenet.spec:IMAGENET_TXT",
    "labelme": "dsrepo.formats.labelme.spec:LABELME",
    "segments_ai": "dsrepo.formats.segments_ai.spec:SEGMENTS_AI",
    "voc": "dsrepo.formats.voc.spec:VOC",
    "voc_action": "dsrepo.formats.voc.spec:VOC_ACTION",
    "voc_classification": "dsrepo.formats.voc.spec:VOC_CLASSIFICATION",
    "voc_detection": "dsrepo.formats.voc.spec:VOC_DETECTION",
    "voc_layout": "dsrepo.formats.voc.spec:VOC_LAYOUT",
    "voc_segmentation": "dsrepo.formats.voc.spec:VOC_SEGMENTATION",
    "yolo": "dsrepo.formats.yolo.spec:YOLO",
    "yolo_ultralytics": "dsrepo.formats.yolo.spec:YOLO_ULTRALYTICS",
}


def format_names() -> list[str]:
    """All registered format names, sorted."""
    return sorted(FORMATS)


def get_format(name: str) -> "FormatSpec":
    """The FormatSpec registered as ``name``; FormatError if unknown."""
    target = FORMATS.get(name)
    if target is None:
        raise FormatError(f"unknown format {name!r} (known: {', '.join(format_names())})")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def detect_formats(path: str | Path) -> list[tuple[str, float]]:
    """Formats that recognise ``path``, as ``(name, confidence)`` best first."""
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: no such file or directory")
    found = []
    for name in format_names():
        spec = get_format(name)
        if spec.detect is None or spec.load is None:
            continue
        conf = float(spec.detect(p))
        if conf > 0:
            found.append((name, conf))
    found.sort(key=lambda nc: (-nc[1], nc[0]))
    return found
