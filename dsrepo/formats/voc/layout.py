"""Where a VOC dataset's files are: its root folder, subset lists and label files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dsrepo.errors import DatasetError
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.common.media import IMAGE_EXTS
from dsrepo.formats.voc.tasks import (
    ACTION_DIR, ANNOTATIONS, CLASS_MASKS, IMAGE_SETS, IMAGES, LABELMAP_NAMES, MAIN, OBJECT_MASKS,
)

_MARKERS = (ANNOTATIONS, IMAGE_SETS, CLASS_MASKS, OBJECT_MASKS)


def is_voc_root(path: Path) -> bool:
    """True if ``path`` holds one of the VOC folders (Annotations, ImageSets, Segmentation*)
    or a label map file."""
    return any((path / m).is_dir() for m in _MARKERS) or any((path / n).is_file() for n in LABELMAP_NAMES)


def find_root(path: Path) -> Path | None:
    """``path`` if it is a VOC root, else the single VOC root up to two levels below
    (e.g. ``VOCdevkit/VOC2012``); None if there is none."""
    if is_voc_root(path):
        return path
    found = []
    for depth1 in sorted(p for p in path.iterdir() if p.is_dir()):
        if is_voc_root(depth1):
            found.append(depth1)
            continue
        try:
            found += [d for d in sorted(depth1.iterdir()) if d.is_dir() and is_voc_root(d)]
        except OSError:
            continue
    if len(found) > 1:
        raise DatasetError(f"several VOC datasets found ({', '.join(str(f) for f in found)}); "
                           "import one of them", path)
    return found[0] if found else None


def quote_id(item_id: str) -> str | None:
    """How an id is written in a list file: as is, or in double quotes when it has
    whitespace; None when it cannot be written (quotes and whitespace together)."""
    if not any(c.isspace() for c in item_id) and not item_id.startswith('"'):
        return item_id
    if '"' in item_id or "\n" in item_id or "\r" in item_id:
        return None
    return f'"{item_id}"'


def _split(line: str, path: Path, n: int) -> tuple[str, list[str]]:
    if line.startswith('"'):
        end = line.find('"', 1)
        if end < 0:
            raise DatasetError("unterminated quoted id", path, f"line {n}")
        item_id, rest = line[1:end], line[end + 1:].split()
    else:
        item_id, *rest = line.split()
    if not item_id:
        raise DatasetError("empty item id", path, f"line {n}")
    return safe_relpath(item_id, path, f"line {n}"), rest


def read_list(path: Path) -> list[str]:
    """Item ids of a subset list (first field of each line; quoted ids may hold spaces)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot read subset list: {e}", path) from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line:
            out.append(_split(line, path, n)[0])
    return out


def read_label_file(path: Path) -> list[tuple[str, int]]:
    """``(id, value)`` pairs of a ``Main/<label>_<subset>.txt`` file (value 1, 0 or -1)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot read label list: {e}", path) from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        item_id, rest = _split(line, path, n)
        if len(rest) != 1 or rest[0] not in ("1", "0", "-1"):
            raise DatasetError(f"expected '<id> 1|0|-1', got {line!r}", path, f"line {n}")
        out.append((item_id, int(rest[0])))
    return out


@dataclass(slots=True)
class Lists:
    """Subset lists found under ImageSets: ``lists[dir][subset]`` are list files,
    ``label_files[subset]`` the classification files ``(label, path)``."""

    lists: dict[str, dict[str, Path]] = field(default_factory=dict)
    label_files: dict[str, list[tuple[str, Path]]] = field(default_factory=dict)


def _classify(stem: str, d: str, plain: set[str], labels: set[str] | None,
              actions: set[str]) -> tuple[str, str, str] | None:
    """``("label"|"action", name, subset)`` for a per-label/per-action file, else None."""
    for cut in range(1, len(stem) - 1):
        if stem[cut] != "_":
            continue
        name, sub = stem[:cut], stem[cut + 1:]
        if d == MAIN and (labels is None or name in labels) and (sub in plain or labels is not None):
            return ("label", name, sub)
        if d == ACTION_DIR and name in actions and sub in plain:
            return ("action", name, sub)
    return None


def scan_lists(root: Path, dirs: tuple[str, ...], labels: set[str] | None, actions: set[str]) -> Lists:
    """Find ``ImageSets/<dir>/<subset>.txt`` for ``dirs``. In Main, ``<label>_<subset>.txt``
    is a label file when ``<subset>.txt`` exists or the label is known (any name when
    ``labels`` is None); in Action, ``<action>_<subset>.txt`` files are skipped."""
    out = Lists()
    for d in dirs:
        folder = root / IMAGE_SETS / d
        if not folder.is_dir():
            continue
        stems = sorted(p.stem for p in folder.glob("*.txt") if p.is_file())
        plain = set(stems)
        found: dict[str, Path] = {}
        for stem in stems:
            kind = _classify(stem, d, plain, labels, actions)
            if kind is None:
                found[stem] = folder / f"{stem}.txt"
            elif kind[0] == "label":
                out.label_files.setdefault(kind[2], []).append((kind[1], folder / f"{stem}.txt"))
        out.lists[d] = found
    return out


class ImageFinder:
    """Finds ``JPEGImages/<id>.<ext>`` with cached folder listings."""

    def __init__(self, root: Path) -> None:
        self.root = root / IMAGES
        self._dirs: dict[str, dict[str, str]] = {}

    def _listing(self, rel_dir: str) -> dict[str, str]:
        got = self._dirs.get(rel_dir)
        if got is None:
            got = {}
            try:
                names = sorted(os.listdir(self.root / rel_dir))
            except OSError:
                names = []
            rank = {e: i for i, e in enumerate(IMAGE_EXTS)}
            for n in names:
                stem, ext = os.path.splitext(n)
                r = rank.get(ext.lower())
                if r is not None and (stem not in got or r < rank[os.path.splitext(got[stem])[1].lower()]):
                    got[stem] = n
            self._dirs[rel_dir] = got
        return got

    def find(self, item_id: str) -> tuple[str, str] | None:
        """``(absolute path, name relative to JPEGImages)`` of the item's image, or None."""
        rel_dir, _, stem = item_id.rpartition("/")
        name = self._listing(rel_dir).get(stem)
        if name is None:
            return None
        rel = f"{rel_dir}/{name}" if rel_dir else name
        return os.path.abspath(self.root / rel), rel


def all_files(folder: Path, suffix: str) -> list[str]:
    """Ids (relative paths without ``suffix``) of every ``*suffix`` file under ``folder``."""
    if not folder.is_dir():
        return []
    return sorted(p.relative_to(folder).as_posix()[: -len(suffix)] for p in folder.rglob("*" + suffix)
                  if p.is_file())

