"""YOLO format specs: darknet ``yolo`` and ``yolo_ultralytics``.

Light module: imported by ``dsrepo formats`` and detection; the importers and
exporters (ruamel.yaml, OpenCV) load only inside the thin wrappers below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from dsrepo.formats.base import COMMON_EXPORT_OPTIONS, ExportReport, FormatSpec, Option
from dsrepo.formats.yolo.patch import patch_darknet
from dsrepo.formats.yolo.ultra_patch import patch_ultralytics
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress

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


def _load_darknet(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import darknet YOLO (items built lazily)."""
    from dsrepo.formats.yolo.darknet_in import load_darknet

    return load_darknet(Path(path), options, progress)


def _save_darknet(dataset: Dataset, out_dir: Path, options: Mapping[str, Any],
                  progress: Progress) -> ExportReport:
    """Export darknet YOLO (deterministic)."""
    from dsrepo.formats.yolo.darknet_out import save_darknet

    return save_darknet(dataset, Path(out_dir), options, progress)


def _load_ultralytics(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import Ultralytics YOLO (items built lazily)."""
    from dsrepo.formats.yolo.ultra_in import load_ultralytics

    return load_ultralytics(Path(path), options, progress)


def _save_ultralytics(dataset: Dataset, out_dir: Path, options: Mapping[str, Any],
                      progress: Progress) -> ExportReport:
    """Export Ultralytics YOLO (deterministic)."""
    from dsrepo.formats.yolo.ultra_out import save_ultralytics

    return save_ultralytics(dataset, Path(out_dir), options, progress)


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
    detect=detect_darknet, load=_load_darknet, save=_save_darknet,
    export_options=COMMON_EXPORT_OPTIONS, extensions=(".data", ".txt"), patch=patch_darknet,
)

YOLO_ULTRALYTICS = FormatSpec(
    name="yolo_ultralytics",
    description="YOLO (Ultralytics): data.yaml, images/<split>/, labels/<split>/ (boxes, polygons, pose)",
    detect=detect_ultralytics, load=_load_ultralytics, save=_save_ultralytics,
    export_options=ULTRALYTICS_EXPORT_OPTIONS, extensions=(".yaml", ".yml", ".txt"), patch=patch_ultralytics,
)
