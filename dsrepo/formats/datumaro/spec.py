"""Datumaro (1.x) JSON format spec.

Light module: detection reads file names and the first bytes of one file; the
importer and exporter (msgspec, orjson, pycocotools) are imported only when used
(``lazy_load``/``lazy_save``).
"""

from __future__ import annotations

from pathlib import Path

from dsrepo.formats.base import COMMON_EXPORT_OPTIONS, FormatSpec, Option, lazy_load, lazy_patch, lazy_save

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


def annotation_files(path: Path) -> list[str] | None:
    """``annotations/<subset>.json`` of a dataset folder with an ``annotations`` folder:
    the files an import reads as items (``dataset_meta.json`` is kept byte for byte
    instead) and an export writes back under the same names (every subset file, empty
    ones too). None for other layouts."""
    folder = Path(path) / "annotations"
    if not folder.is_dir():
        return None
    names = sorted(q.name for q in folder.glob("*.json") if q.is_file())
    return [f"annotations/{n}" for n in names] or None


DATUMARO = FormatSpec(
    name="datumaro",
    description="Datumaro 1.x JSON: annotations/<subset>.json (+ images/<subset>/)",
    detect=detect,
    load=lazy_load("dsrepo.formats.datumaro.importer:load_datumaro"),
    save=lazy_save("dsrepo.formats.datumaro.exporter:save_datumaro"),
    patch=lazy_patch("dsrepo.formats.datumaro.patch:patch_datumaro"), splits=True,
    import_options=(), export_options=EXPORT_OPTIONS, extensions=(".json",),
    annotation_files=annotation_files,
)
