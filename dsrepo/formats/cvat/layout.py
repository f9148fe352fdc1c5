"""Which CVAT XML files an import reads, and where their images are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dsrepo.errors import DatasetError
from dsrepo.formats.common.media import ImageLocator

MAIN = "annotations.xml"
_PEEK = 4096


@dataclass(frozen=True, slots=True)
class XmlFile:
    """One annotation file: its path, name relative to the dataset root, layout
    (``single``, ``files`` = ``<subset>.xml``, ``dirs`` = ``<subset>/annotations.xml``)
    and the subset its layout implies (None for ``single``)."""

    path: Path
    rel: str
    layout: str
    subset: str | None


def looks_cvat(path: Path) -> bool:
    """True if the start of ``path`` looks like a CVAT annotations file."""
    try:
        with open(path, "rb") as f:
            head = f.read(_PEEK)
    except OSError:
        return False
    return b"<annotations" in head and (b"<version>" in head or b"<meta>" in head or b"<image" in head
                                         or b"<track" in head)


def resolve_files(path: Path) -> tuple[Path, list[XmlFile]]:
    """``(dataset root, files)`` for an import of ``path`` (a file or a folder)."""
    if path.is_file():
        return path.parent, [XmlFile(path, path.name, "single", None)]
    if (path / MAIN).is_file():
        return path, [XmlFile(path / MAIN, MAIN, "single", None)]
    files = [XmlFile(p, p.name, "files", p.stem) for p in sorted(path.glob("*.xml"))
             if p.is_file() and looks_cvat(p)]
    if files:
        return path, files
    dirs = [XmlFile(p / MAIN, f"{p.name}/{MAIN}", "dirs", p.name) for p in sorted(path.iterdir())
            if p.is_dir() and (p / MAIN).is_file()]
    if dirs:
        return path, dirs
    raise DatasetError(f"no CVAT XML file found (expected {MAIN}, <subset>.xml or <subset>/{MAIN})", path)


def annotation_files(path: Path) -> list[str] | None:
    """The XML files an import of dataset folder ``path`` reads (relative paths), which an
    export writes back under the same names in every layout (the file names are recorded
    per subset); None when it holds none."""
    try:
        _root, files = resolve_files(Path(path))
    except (DatasetError, OSError):
        return None
    return [f.rel for f in files]


def image_locator(xml_dir: Path, subset: str) -> ImageLocator:
    """Finds the image files of one subset of one XML file: ``images/<subset>/``,
    ``images/``, ``<subset>/`` and the XML file's folder (first match wins)."""
    return ImageLocator([xml_dir / "images" / subset, xml_dir / "images", xml_dir / subset, xml_dir])
