"""image_dir and image_zip format specs (unannotated images in a folder or in zip files).

Light module: the importers and exporters are imported only when used
(``lazy_load``/``lazy_save``).
"""

from __future__ import annotations

import os
from pathlib import Path

from dsrepo.formats.base import COMMON_EXPORT_OPTIONS, FormatSpec, Option, lazy_load, lazy_patch, lazy_save
from dsrepo.formats.common.media import is_image_name

_MAX_ENTRIES = 200
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _entries(folder: Path) -> list[os.DirEntry]:
    out = []
    try:
        with os.scandir(folder) as it:
            for e in it:
                if not e.name.startswith("."):
                    out.append(e)
                if len(out) >= _MAX_ENTRIES:
                    break
    except OSError:
        return []
    return out


def detect_image_dir(path: Path) -> float:
    """0.3 for a folder with images at its top, 0.1 when images are only in subfolders
    (looks at up to 200 entries of the folder and of 5 subfolders)."""
    p = Path(path)
    if not p.is_dir():
        return 0.0
    entries = _entries(p)
    if any(e.is_file() and is_image_name(e.name) for e in entries):
        return 0.3
    subdirs = [e for e in entries if e.is_dir()][:5]
    if any(is_image_name(s.name) for d in subdirs for s in _entries(Path(d.path))):
        return 0.1
    return 0.0


def _is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) in _ZIP_MAGIC
    except OSError:
        return False


def detect_image_zip(path: Path) -> float:
    """0.8 for a zip file, 0.6 for a folder holding only zip files, 0.3 for a folder
    holding zip files among other files."""
    p = Path(path)
    if p.is_file():
        return 0.8 if p.suffix.lower() == ".zip" and _is_zip(p) else 0.0
    if not p.is_dir():
        return 0.0
    entries = _entries(p)
    zips = [e for e in entries if e.is_file() and e.name.lower().endswith(".zip") and _is_zip(Path(e.path))]
    if not zips:
        return 0.0
    return 0.6 if len(zips) == len(entries) else 0.3


IMAGE_DIR = FormatSpec(
    name="image_dir",
    description="a folder of images (nested folders give ids with '/'), no annotations",
    detect=detect_image_dir,
    load=lazy_load("dsrepo.formats.image_dir.importer:load_image_dir"),
    save=lazy_save("dsrepo.formats.image_dir.exporter:save_image_dir"),
    patch=lazy_patch("dsrepo.formats.image_dir.patch:patch_image_dir"),
    export_options=COMMON_EXPORT_OPTIONS,
)

IMAGE_ZIP = FormatSpec(
    name="image_zip",
    description="images in a .zip file (or <subset>.zip files in a folder), no annotations",
    detect=detect_image_zip,
    load=lazy_load("dsrepo.formats.image_dir.zip_importer:load_image_zip"),
    save=lazy_save("dsrepo.formats.image_dir.zip_exporter:save_image_zip"),
    export_options=COMMON_EXPORT_OPTIONS + (
        Option("compression", "choice", "stored", "zip compression of the entries", ("stored", "deflated")),
    ),
    extensions=(".zip",),
    repo_source=False,
)
