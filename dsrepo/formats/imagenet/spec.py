"""imagenet (class-per-folder) and imagenet_txt (label lists) format specs.

Light module: the importers and exporters are imported only when used
(``lazy_load``/``lazy_save``).
"""

from __future__ import annotations

import os
from pathlib import Path

from dsrepo.formats.base import COMMON_EXPORT_OPTIONS, FormatSpec, Option, lazy_load, lazy_patch, lazy_save
from dsrepo.formats.common.media import is_image_name

_MAX_ENTRIES = 200
_LABELS_FILE = "synsets.txt"


def _names(folder: Path) -> tuple[list[str], list[str]]:
    """Up to 200 non-hidden ``(folders, files)`` names of ``folder``."""
    dirs, files = [], []
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name.startswith("."):
                    continue
                (dirs if e.is_dir() else files).append(e.name)
                if len(dirs) + len(files) >= _MAX_ENTRIES:
                    break
    except OSError:
        pass
    return dirs, files


_ANNOTATION_EXTS = (".json", ".xml", ".txt", ".yaml", ".yml", ".csv")


def detect_imagenet(path: Path) -> float:
    """0.5 for a folder holding only folders, whose first folders (or their sub-folders)
    hold images; names only, at most a few folders are listed. 0.1 when one of those
    folders holds annotation files and no image (e.g. COCO's ``annotations/``): class
    folders hold images only."""
    p = Path(path)
    if not p.is_dir():
        return 0.0
    dirs, files = _names(p)
    if files or not dirs:
        return 0.0
    found = 0.0
    for d in dirs[:5]:
        sub_dirs, sub_files = _names(p / d)
        if sub_files and not any(is_image_name(f) for f in sub_files) \
                and any(f.lower().endswith(_ANNOTATION_EXTS) for f in sub_files):
            return 0.1
        if any(is_image_name(f) for f in sub_files):
            found = max(found, 0.5)
            continue
        for s in sub_dirs[:3]:
            if any(is_image_name(f) for f in _names(p / d / s)[1]):
                found = max(found, 0.4)
                break
    return found


def detect_imagenet_txt(path: Path) -> float:
    """0.8 for a folder with ``synsets.txt`` and other ``.txt`` files (0.4 with only
    ``synsets.txt``); 0.7 for a ``.txt`` file next to a ``synsets.txt``."""
    p = Path(path)
    if p.is_file():
        return 0.7 if p.suffix == ".txt" and p.name != _LABELS_FILE and (p.parent / _LABELS_FILE).is_file() else 0.0
    if not p.is_dir() or not (p / _LABELS_FILE).is_file():
        return 0.0
    _dirs, files = _names(p)
    return 0.8 if any(f.endswith(".txt") and f != _LABELS_FILE for f in files) else 0.4


_TXT_OPTIONS = (
    Option("labels-file", "str", _LABELS_FILE, "file with one label name per line, relative to the dataset folder"),
    Option("image-dir", "str", "images", "folder holding the images, relative to the dataset folder"),
)

IMAGENET = FormatSpec(
    name="imagenet",
    description="class-per-folder images: <label>/<image> or <subset>/<label>/<image>, no_label/ for none",
    detect=detect_imagenet,
    load=lazy_load("dsrepo.formats.imagenet.importer:load_imagenet"),
    save=lazy_save("dsrepo.formats.imagenet.exporter:save_imagenet"),
    patch=lazy_patch("dsrepo.formats.imagenet.patch:patch_imagenet"),
    import_options=(
        Option("layout", "choice", "auto", "folder layout: flat (<label>/<image>), subsets "
               "(<subset>/<label>/<image>) or auto (subsets when images lie only two folders deep)",
               ("auto", "flat", "subsets")),
    ),
    export_options=COMMON_EXPORT_OPTIONS,
)

IMAGENET_TXT = FormatSpec(
    name="imagenet_txt",
    description="image label lists: <subset>.txt lines '<image path> <label idx>...', synsets.txt, images/",
    detect=detect_imagenet_txt,
    load=lazy_load("dsrepo.formats.imagenet.txt_importer:load_imagenet_txt"),
    save=lazy_save("dsrepo.formats.imagenet.txt_exporter:save_imagenet_txt"),
    patch=lazy_patch("dsrepo.formats.imagenet.txt_patch:patch_imagenet_txt"),
    import_options=_TXT_OPTIONS,
    export_options=COMMON_EXPORT_OPTIONS + _TXT_OPTIONS,
    extensions=(".txt",),
)
