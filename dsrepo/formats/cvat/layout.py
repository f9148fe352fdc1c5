"""Which CVAT XML files an import reads, and where their images are."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dsrepo.errors import DatasetError

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


class ImageLocator:
    """Finds the image files of one subset of one XML file: ``images/<subset>/``,
    ``images/``, ``<subset>/`` and the XML file's folder (first match wins).
    Folder listings are read once, so a missing image costs no system call."""

    def __init__(self, xml_dir: Path, subset: str) -> None:
        cands = [xml_dir / "images" / subset, xml_dir / "images", xml_dir / subset, xml_dir]
        self.roots = [os.path.abspath(c) for i, c in enumerate(cands) if c not in cands[:i] and c.is_dir()]
        self._listing: dict[str, set[str]] = {}

    def _names(self, root: str) -> set[str]:
        names = self._listing.get(root)
        if names is None:
            try:
                names = set(os.listdir(root))
            except OSError:
                names = set()
            self._listing[root] = names
        return names

    def find(self, rel: str) -> str | None:
        """Absolute path of image ``rel`` (a safe relative path), or None."""
        for root in self.roots:
            if "/" in rel:
                p = os.path.join(root, rel)
                if os.path.isfile(p):
                    return p
            elif rel in self._names(root):
                return os.path.join(root, rel)
        return None

    def find_stem(self, stem: str) -> tuple[str, str] | None:
        """``(absolute path, file name)`` of an image called ``stem`` + any extension."""
        from dsrepo.formats.common.media import IMAGE_EXTS

        for root in self.roots:
            names = self._names(root)
            for ext in IMAGE_EXTS:
                for e in (ext, ext.upper()):
                    if stem + e in names:
                        return os.path.join(root, stem + e), stem + e
        return None
