"""image_zip import: the images inside one ``.zip`` file, or inside every ``.zip`` of a folder.

Each archive is one subset named after the file (``train.zip`` -> ``train``). Entry
names are checked with ``safe_relpath`` (zip-slip names such as ``../x.jpg`` or
absolute names are rejected); nothing is extracted to disk: items carry a
:class:`~dsrepo.formats.image_dir.media.ZipImage` whose md5 and size are read from the
entry bytes when items are iterated, and whose pixels are decoded on demand.
Entries are listed in name order, so export + import keeps the item order.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.common.media import is_image_name
from dsrepo.formats.image_dir.importer import check_unique_ids
from dsrepo.formats.image_dir.media import ZipImage
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.progress import Progress

_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError,
               NotImplementedError, KeyError)


@dataclass(frozen=True, slots=True)
class _Entry:
    item_id: str
    name: str  # normalised path inside the archive
    raw: str  # the entry name as stored (for reading)


@dataclass(frozen=True, slots=True)
class _Archive:
    path: Path
    subset: str
    entries: tuple[_Entry, ...]


def archives_of(path: Path) -> list[Path]:
    """``path`` itself if it is a file, else the ``.zip`` files directly in the folder (sorted)."""
    if path.is_file():
        return [path]
    try:
        found = sorted(p for p in path.iterdir()
                       if p.suffix.lower() == ".zip" and p.is_file() and not p.name.startswith("."))
    except OSError as e:
        raise DatasetError(f"cannot list folder: {e.strerror or e}", path) from None
    if not found:
        raise DatasetError("no .zip files in this folder", path)
    return found


def _skipped(name: str) -> bool:
    """Hidden entries and macOS resource forks (``__MACOSX/``, ``._x.jpg``) are not images."""
    return any(part.startswith(".") or part == "__MACOSX" for part in name.split("/"))


def scan_archive(path: Path) -> _Archive:
    """List and check the image entries of one archive (central directory only)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except _ZIP_ERRORS as e:
        raise DatasetError(f"not a readable zip file: {e}", path) from None
    seen: set[str] = set()
    picked: list[_Entry] = []
    for info in infos:
        where = f"entry {info.filename!r}"
        name = safe_relpath(info.filename, path, where)
        if name in seen:
            raise DatasetError("entry name appears twice in the archive", path, where)
        seen.add(name)
        if info.is_dir() or _skipped(name) or not is_image_name(name):
            continue
        if info.flag_bits & 0x1:
            raise DatasetError("entry is encrypted", path, where)
        picked.append(_Entry("", name, info.filename))
    picked.sort(key=lambda e: e.name)
    ids = check_unique_ids([e.name for e in picked], path)
    entries = tuple(_Entry(item_id, e.name, e.raw) for (item_id, _), e in zip(ids, picked))
    return _Archive(path, path.name[: -len(path.suffix)] if path.suffix else path.name, entries)


def _image(archive: _Archive, zf: zipfile.ZipFile, entry: _Entry) -> ZipImage:
    import imagesize

    try:
        data = zf.read(entry.raw)
    except _ZIP_ERRORS as e:
        raise DatasetError(f"cannot read entry: {e}", archive.path, f"entry {entry.raw!r}") from None
    size = None
    try:
        w, h = imagesize.get(io.BytesIO(data))
        if w > 0 and h > 0:
            size = (h, w)
    except Exception:  # unreadable header: size stays unknown, like Image.header_size()
        size = None
    return ZipImage(path=None, size=size, name=entry.name, md5=hashlib.md5(data).hexdigest(),
                    archive=str(archive.path), entry=entry.raw)


def load_image_zip(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import one zip file or a folder of zip files (entries read lazily on iteration)."""
    root = Path(path).absolute()
    archives = [scan_archive(p) for p in archives_of(root)]
    subsets: dict[str, Path] = {}
    for a in archives:
        if a.subset in subsets:
            raise DatasetError(f"archives {subsets[a.subset].name!r} and {a.path.name!r} are both subset "
                               f"{a.subset!r}", root)
        subsets[a.subset] = a.path

    def items() -> Iterator[Item]:
        for a in archives:
            if not a.entries:
                continue
            try:
                zf = zipfile.ZipFile(a.path)
            except _ZIP_ERRORS as e:
                raise DatasetError(f"not a readable zip file: {e}", a.path) from None
            with zf:
                for e in a.entries:
                    yield Item(id=e.item_id, subset=a.subset, media=_image(a, zf, e))

    empty = {a.subset: {} for a in archives if not a.entries}
    return Dataset(Categories(), items, subset_meta=empty, length=sum(len(a.entries) for a in archives),
                   media_root=str(root if root.is_dir() else root.parent))
