"""YOLO format specs: darknet ``yolo`` and ``yolo_ultralytics``.

Light module: imported by ``dsrepo formats`` and detection; the importers and
exporters (ruamel.yaml, OpenCV) are imported only when used (``lazy_load``/``lazy_save``).
"""

from __future__ import annotations

from pathlib import Path

from dsrepo.formats.base import COMMON_EXPORT_OPTIONS, FormatSpec, Option, lazy_load, lazy_save
from dsrepo.formats.yolo.patch import patch_darknet
from dsrepo.formats.yolo.ultra_patch import patch_ultralytics

_PEEK = 1 << 14
_YAML_EXTS = (".yaml", ".yml")


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(_PEEK)
    except OSError:
        return b""


def detect_darknet(path: Path) -> float:
    """Confidence that ``path`` is a darknet YOLO dataset: a folder with ``obj.data``
    or that file (checked for ``names``/``classes`` keys in its first bytes)."""
    p = Path(path)
    f = p / "obj.data" if p.is_dir() else p
    if not f.is_file() or f.suffix.lower() != ".data":
        return 0.0
    head = _head(f)
    if b"=" not in head:
        return 0.0
    if b"names" in head or b"classes" in head:
        return 0.9 if f.name == "obj.data" else 0.6
    return 0.3


def _yaml_score(f: Path) -> float:
    head = _head(f)
    if b"names" not in head:
        return 0.0
    if any(k in head for k in (b"train", b"val", b"test")):
        return 0.9 if f.name in ("data.yaml", "data.yml") else 0.7
    return 0.0


def detect_ultralytics(path: Path) -> float:
    """Confidence that ``path`` is an Ultralytics YOLO dataset: a folder with a dataset
    YAML (``names`` and ``train``/``val``/``test`` keys) or that YAML file."""
    p = Path(path)
    if p.is_file():
        return _yaml_score(p) if p.suffix.lower() in _YAML_EXTS else 0.0
    if not p.is_dir():
        return 0.0
    for name in ("data.yaml", "data.yml"):
        if (p / name).is_file():
            return _yaml_score(p / name)
    try:
        found = sorted(c for c in p.iterdir() if c.suffix.lower() in _YAML_EXTS and c.is_file())
    except OSError:
        return 0.0
    return max((_yaml_score(c) for c in found[:8]), default=0.0)


ULTRALYTICS_EXPORT_OPTIONS = COMMON_EXPORT_OPTIONS + (
    Option("task", "choice", "auto",
           "what label lines hold: detect (boxes), segment (boxes and polygons), pose (boxes with keypoints), "
           "auto (pose if the imported data.yaml has kpt_shape, else segment)",
           ("auto", "detect", "segment", "pose")),
    Option("masks-to-polygons", "flag", False,
           "write masks as polygons (outer contours, cv2.findContours) instead of dropping them"),
)

YOLO = FormatSpec(
    name="yolo",
    description="YOLO (darknet): obj.data, obj.names, <subset>.txt lists, obj_<subset>_data/ boxes",
    detect=detect_darknet,
    load=lazy_load("dsrepo.formats.yolo.darknet_in:load_darknet"),
    save=lazy_save("dsrepo.formats.yolo.darknet_out:save_darknet"),
    export_options=COMMON_EXPORT_OPTIONS, extensions=(".data", ".txt"), patch=patch_darknet,
)

YOLO_ULTRALYTICS = FormatSpec(
    name="yolo_ultralytics",
    description="YOLO (Ultralytics): data.yaml, images/<split>/, labels/<split>/ (boxes, polygons, pose)",
    detect=detect_ultralytics,
    load=lazy_load("dsrepo.formats.yolo.ultra_in:load_ultralytics"),
    save=lazy_save("dsrepo.formats.yolo.ultra_out:save_ultralytics"),
    export_options=ULTRALYTICS_EXPORT_OPTIONS, extensions=(".yaml", ".yml", ".txt"), patch=patch_ultralytics,
)
