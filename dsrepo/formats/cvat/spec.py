"""CVAT XML 1.1 format spec.

Light module: imported by ``dsrepo formats`` and detection; lxml, numpy and the
import/export code is imported only when used (``lazy_load``/``lazy_save``).
"""

from __future__ import annotations

from pathlib import Path

from dsrepo.formats.base import (
    COMMON_EXPORT_OPTIONS, FormatSpec, Option, lazy_call, lazy_load, lazy_patch, lazy_save,
)

IMPORT_OPTIONS = (
    Option("skip-outside", "flag", False,
           "video tracks: leave out shapes marked outside (the object is not in the frame)"),
)
EXPORT_OPTIONS = COMMON_EXPORT_OPTIONS + (
    Option("layout", "choice", "auto",
           "files: single (annotations.xml), per-subset (<subset>.xml), dirs (<subset>/annotations.xml), "
           "or auto (as imported, else single)", ("auto", "single", "per-subset", "dirs")),
    Option("mode", "choice", "auto",
           "images (<image> elements), video (<track> elements), or auto (as imported, else images)",
           ("auto", "images", "video")),
)

_PEEK = 4096


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(_PEEK)
    except OSError:
        return b""


def _file_conf(path: Path) -> float:
    if path.suffix.lower() != ".xml":
        return 0.0
    head = _head(path)
    if b"<annotations" not in head:
        return 0.0
    if b"<version>1.1</version>" in head or b"<meta>" in head:
        return 0.9
    return 0.6 if (b"<image " in head or b"<track " in head) else 0.0


def detect(path: Path) -> float:
    """Confidence that ``path`` is CVAT XML (file names and the first 4 KiB only)."""
    p = Path(path)
    if p.is_file():
        return _file_conf(p)
    if not p.is_dir():
        return 0.0
    if (p / "annotations.xml").is_file():
        return _file_conf(p / "annotations.xml")
    try:
        xmls = sorted(x for x in p.glob("*.xml"))[:4]
        subdirs = sorted(x / "annotations.xml" for x in p.iterdir() if x.is_dir())[:16]
    except OSError:
        return 0.0
    for x in xmls:
        c = _file_conf(x)
        if c:
            return min(c, 0.8)
    for x in subdirs:
        if x.is_file():
            c = _file_conf(x)
            if c:
                return min(c, 0.7)
    return 0.0


CVAT = FormatSpec(
    name="cvat", description="CVAT XML 1.1 for images / for video: annotations.xml (+ images/)",
    detect=detect,
    load=lazy_load("dsrepo.formats.cvat.importer:load_cvat"),
    save=lazy_save("dsrepo.formats.cvat.exporter:save_cvat"),
    patch=lazy_patch("dsrepo.formats.cvat.patch:patch_cvat"), splits=True,
    import_options=IMPORT_OPTIONS, export_options=EXPORT_OPTIONS,
    extensions=(".xml",),
    annotation_files=lazy_call("dsrepo.formats.cvat.layout:annotation_files"),
)
