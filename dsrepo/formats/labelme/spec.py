"""LabelMe format spec (light module: no numpy/OpenCV at import time).

Detection peeks at the first and last 64 KiB of a few ``*.json`` files for the keys
labelme always writes (``"shapes"`` and ``"imagePath"``).
"""

from __future__ import annotations

import os
from pathlib import Path

from dsrepo.formats.base import COMMON_EXPORT_OPTIONS, FormatSpec, Option, lazy_load, lazy_save
from dsrepo.formats.labelme.patch import patch_labelme

IMPORT_OPTIONS = (
    Option("subset-folders", "flag", False,
           "first-level folders are subsets (train/a.json -> subset train, id a); files in the root "
           "belong to 'default'"),
)
EXPORT_OPTIONS = COMMON_EXPORT_OPTIONS + (
    Option("embed-images", "flag", False, "write each image into its JSON file as base64 imageData"),
)

_PEEK = 1 << 16
_MAX_FILES = 5
_MAX_DIRS = 20


def _looks_labelme(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(_PEEK)
            size = os.fstat(f.fileno()).st_size
            tail = b""
            if size > 2 * _PEEK:
                f.seek(size - _PEEK)
                tail = f.read(_PEEK)
    except OSError:
        return False
    if head.lstrip()[:1] != b"{":
        return False
    text = head + tail
    return b'"shapes"' in text and b'"imagePath"' in text


def _json_files(folder: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    return [Path(e.path) for e in entries
            if not e.name.startswith(".") and e.name.lower().endswith(".json") and e.is_file()]


def _candidates(root: Path) -> list[Path]:
    found = _json_files(root)[:_MAX_FILES]
    if found:
        return found
    try:
        dirs = sorted(e.path for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    except OSError:
        return []
    for d in dirs[:_MAX_DIRS]:
        found += _json_files(Path(d))[:_MAX_FILES - len(found)]
        if len(found) >= _MAX_FILES:
            break
    return found


def detect(path: Path) -> float:
    """Confidence that ``path`` is a LabelMe file or folder (a few file heads only)."""
    p = Path(path)
    if p.is_file():
        return 0.8 if p.suffix.lower() == ".json" and _looks_labelme(p) else 0.0
    if not p.is_dir():
        return 0.0
    files = _candidates(p)
    if not files:
        return 0.0
    hits = sum(1 for f in files if _looks_labelme(f))
    if hits == len(files):
        return 0.8
    return 0.3 if hits else 0.0


LABELME = FormatSpec(
    name="labelme",
    description="LabelMe tool JSON: one <image>.json per image (shapes, flags, optional imageData)",
    detect=detect,
    load=lazy_load("dsrepo.formats.labelme.importer:load_labelme"),
    save=lazy_save("dsrepo.formats.labelme.exporter:save_labelme"),
    import_options=IMPORT_OPTIONS, export_options=EXPORT_OPTIONS, extensions=(".json",), patch=patch_labelme,
)
