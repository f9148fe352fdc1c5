"""Datumaro (1.x) JSON format spec.

Light module: detection reads file names and the first bytes of one file; the
importer and exporter (msgspec, orjson, pycocotools) load inside the wrappers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from dsrepo.formats.base import COMMON_EXPORT_OPTIONS, ExportReport, FormatSpec, Option
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress

EXPORT_OPTIONS = COMMON_EXPORT_OPTIONS + (
    Option("save-dataset-meta", "flag", False, "also write dataset_meta.json (label_map, segmentation_colors)"),
)

_PEEK = 1 << 12


def _score(path: Path) -> float:
    """Confidence for one JSON file from its first 4 KiB."""
    if path.suffix.lower() != ".json":
        return 0.0
    try:
        with open(path, "rb") as f:
            head = f.read(_PEEK)
    except OSError:
        return 0.0
    if head.lstrip()[:1] != b"{":
        return 0.0
    if b'"dm_format_version"' in head:
        return 0.95
    if b'"images"' in head or b'"annotations"' not in head and b'"items"' not in head:
        return 0.0
    if b'"categories"' in head and (b'"items"' in head or b'"label"' in head):
        return 0.6  # legacy Datumaro (< 1.0): no version key
    return 0.0


def detect(path: Path) -> float:
    """Confidence that ``path`` is a Datumaro dataset folder, its annotations folder or file."""
    p = Path(path)
    if p.is_file():
        return _score(p)
    if not p.is_dir():
        return 0.0
    folder = p / "annotations" if (p / "annotations").is_dir() else p if p.name == "annotations" else None
    if folder is None:
        return 0.0
    try:
        files = sorted(q for q in folder.iterdir() if q.suffix.lower() == ".json" and q.is_file())
    except OSError:
        return 0.0
    return max((_score(q) for q in files[:3]), default=0.0)


def load(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import a Datumaro dataset (items built lazily)."""
    from dsrepo.formats.datumaro.importer import load_datumaro

    return load_datumaro(Path(path), options, progress)


def save(dataset: Dataset, out_dir: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Export to Datumaro (streamed; deterministic)."""
    from dsrepo.formats.datumaro.exporter import save_datumaro

    return save_datumaro(dataset, Path(out_dir), options, progress)


def patch(changed: Dataset, order, rows, out: Path, options: Mapping[str, Any], progress: Progress, prev=None):
    """Incremental export (docs/patch-export.md): unchanged records copied from ``prev``."""
    from dsrepo.formats.datumaro.patch import patch_datumaro

    return patch_datumaro(changed, order, rows, Path(out), options, progress, prev)


DATUMARO = FormatSpec(
    name="datumaro",
    description="Datumaro 1.x JSON: annotations/<subset>.json (+ images/<subset>/)",
    detect=detect, load=load, save=save,
    import_options=(), export_options=EXPORT_OPTIONS, extensions=(".json",), patch=patch, splits=True,
)
