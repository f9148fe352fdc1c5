"""imagenet_txt import: ``<subset>.txt`` label lists, a labels file and an image folder.

Layout: ``<root>/synsets.txt`` (``--labels-file``: one label name per line),
``<root>/<subset>.txt`` (every other ``.txt`` at the top; lines
``<image path without ext> <label idx> [<label idx>...]``, the path in double quotes
when it contains spaces) and ``<root>/images/`` (``--image-dir``). A subset file may
also be given directly. Label order in a line is kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.common.files import safe_join, safe_relpath
from dsrepo.formats.common.media import find_image, is_image_name
from dsrepo.model.annotations import Label
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import Progress

DEFAULT_LABELS_FILE = "synsets.txt"
DEFAULT_IMAGE_DIR = "images"


@dataclass(frozen=True, slots=True)
class _Line:
    item_id: str
    labels: tuple[int, ...]


def read_lines(path: Path) -> list[str]:
    """Lines of a UTF-8 text file (BOM tolerated); DatasetError if unreadable."""
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise DatasetError("file not found", path) from None
    except UnicodeDecodeError as e:
        raise DatasetError(f"not UTF-8 text (byte {e.start})", path) from None
    except OSError as e:
        raise DatasetError(f"cannot read file: {e.strerror or e}", path) from None


def read_labels(path: Path) -> list[str]:
    """Label names, one per line (trailing blank lines allowed, not blank lines inside)."""
    lines = [ln.strip() for ln in read_lines(path)]
    while lines and not lines[-1]:
        lines.pop()
    first: dict[str, int] = {}
    for n, name in enumerate(lines, 1):
        if not name:
            raise DatasetError("empty label name", path, f"line {n}")
        if name in first:
            raise DatasetError(f"label {name!r} appears twice (first on line {first[name]})", path, f"line {n}")
        first[name] = n
    return lines


def parse_line(text: str, n_labels: int, source: Path, where: str) -> _Line:
    """One ``<path> <idx>...`` line; ``<path>`` may be quoted to hold spaces."""
    if text.startswith('"'):
        end = text.find('"', 1)
        if end < 0:
            raise DatasetError("unterminated quoted image path", source, where)
        item_id, rest = text[1:end], text[end + 1:]
        if rest and not rest[0].isspace():
            raise DatasetError("expected a space after the quoted image path", source, where)
        tokens = rest.split()
    else:
        item_id, *tokens = text.split()
    labels = []
    for tok in tokens:
        try:
            idx = int(tok)
        except ValueError:
            raise DatasetError(f"label index {tok!r} is not an integer", source, where) from None
        if not 0 <= idx < n_labels:
            raise DatasetError(f"label index {idx} is out of range ({n_labels} labels)", source, where)
        labels.append(idx)
    return _Line(safe_relpath(item_id, source, where), tuple(labels))


def parse_subset(path: Path, n_labels: int) -> list[_Line]:
    """All non-blank lines of a subset file; DatasetError on a repeated image path."""
    out: list[_Line] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(read_lines(path), 1):
        text = raw.strip()
        if not text:
            continue
        line = parse_line(text, n_labels, path, f"line {n}")
        if line.item_id in seen:
            raise DatasetError(f"image {line.item_id!r} is listed twice (first on line {seen[line.item_id]})",
                               path, f"line {n}")
        seen[line.item_id] = n
        out.append(line)
    return out


def _media(images: Path, item_id: str, source: Path) -> tuple[str, Image | None]:
    """``(id, image)``: the image ``<id>.<ext>`` (any image extension) under ``images``;
    a path written with its extension is accepted when that file exists."""
    if is_image_name(item_id) and safe_join(images, item_id).is_file():
        item_id, name = os.path.splitext(item_id)[0], item_id
        found: Path | None = images / name
    else:
        found = find_image(images, item_id)
    if found is None:
        return item_id, None
    name = found.relative_to(images).as_posix()
    image = Image(path=str(found), name=name)
    return item_id, image.with_(size=image.header_size())


def subset_files(root: Path, labels_file: str) -> list[Path]:
    """The ``.txt`` files at the top of ``root`` except the labels file, sorted by name."""
    try:
        return sorted(p for p in root.iterdir() if p.suffix == ".txt" and p.is_file()
                      and not p.name.startswith(".") and p.name != labels_file)
    except OSError as e:
        raise DatasetError(f"cannot list folder: {e.strerror or e}", root) from None


def load_imagenet_txt(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import an imagenet_txt folder (or one of its subset files)."""
    path = Path(path).absolute()
    root = path.parent if path.is_file() else path
    labels_file = safe_relpath(options.get("labels_file") or DEFAULT_LABELS_FILE, None, "--labels-file")
    images = safe_join(root, options.get("image_dir") or DEFAULT_IMAGE_DIR, None, "--image-dir")
    labels_path = root / labels_file
    if not labels_path.is_file():
        raise DatasetError("labels file not found (see --labels-file)", labels_path)
    names = read_labels(labels_path)
    files = [path] if path.is_file() else subset_files(root, labels_file)
    if not files:
        raise DatasetError("no <subset>.txt files found", root)
    parsed = [(f.stem, f, parse_subset(f, len(names))) for f in files]

    def items() -> Iterator[Item]:
        for subset, f, lines in parsed:
            for line in lines:
                item_id, image = _media(images, line.item_id, f)
                yield Item(id=item_id, subset=subset, media=image,
                           annotations=tuple(Label(label=i) for i in line.labels))

    empty = {subset: {} for subset, _f, lines in parsed if not lines}
    return Dataset(Categories.from_names(names), items, subset_meta=empty,
                   length=sum(len(lines) for _s, _f, lines in parsed), media_root=str(root))
