"""The export manifest: ``<export folder>/.dsrepo-export.json``.

Every ``dsrepo export`` writes it beside the files it produced. It records what the
folder holds - revision, format, export options, target and filter, the item list of
the exported build (``[subset, id, item hash]``, plus the files each item owns and a
format's per-item data when the format has a patch hook) and every file dsrepo wrote
with ``[md5, size, mtime_ns]`` - so a later ``export --incremental`` can tell what
changed in the revision, check that nobody edited the folder by hand, and touch only
files it wrote itself.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import orjson

from dsrepo.digest import file_md5
from dsrepo.errors import ExportError
from dsrepo.formats.common.files import atomic_write_bytes

MANIFEST = ".dsrepo-export.json"
VERSION = 1
# A file whose recorded mtime is this close to the manifest's time is hashed when checked:
# an edit in the same clock tick as the export would keep its size and mtime.
RACY_NS = 20_000_000


# A file dsrepo wrote: ``[md5, size, mtime_ns after writing]`` (the manifest's own lists:
# a 118k-file export reads and writes them without building an object each).
FileEntry = list
F_MD5, F_SIZE, F_MTIME = 0, 1, 2
# One exported item: ``[subset, id, item hash]``, plus ``files it owns, per-item data``
# when written through a format's patch hook (the JSON rows themselves, as for files).
ItemEntry = list
I_SUBSET, I_ID, I_HASH, I_FILES, I_DATA = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class Manifest:
    """The content of a manifest file (see the module docstring); ``items`` and
    ``files`` are as in the file (:data:`ItemEntry`, :data:`FileEntry`)."""

    commit: str | None
    format: str
    options: Mapping[str, Any]
    target: str
    filter: tuple[str, str] | None
    categories: str
    subset_meta: str
    items: list[ItemEntry]
    files: Mapping[str, FileEntry]
    time_ns: int = 0

    @property
    def has_rows(self) -> bool:
        """Whether every item records the files it owns (written through a patch hook)."""
        return all(len(e) == 5 for e in self.items)

    def to_json(self) -> dict[str, Any]:
        """The manifest as written (keys sorted by the writer)."""
        return {"tool": "dsrepo", "version": VERSION, "commit": self.commit, "format": self.format,
                "options": plain(self.options), "target": self.target,
                "filter": list(self.filter) if self.filter else None, "categories": self.categories,
                "subset_meta": self.subset_meta, "time_ns": self.time_ns, "items": self.items,
                "files": self.files}  # (sorted by the writer)


def plain(v: Any) -> Any:
    """``v`` with tuples as lists and mappings as dicts (JSON-comparable)."""
    if isinstance(v, Mapping):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def file_entry(path: Path, md5: str) -> FileEntry:
    """The entry of a file just written with content ``md5``."""
    st = path.stat()
    return [md5, st.st_size, st.st_mtime_ns]


def _check_items(items: Any) -> None:
    if type(items) is not list:
        raise ValueError("items is not a list")
    for e in items:
        if type(e) is not list or not (len(e) == 3 or len(e) == 5) or type(e[0]) is not str \
                or type(e[1]) is not str or type(e[2]) is not str:
            raise ValueError(f"item {str(e)[:60]} is not [subset, id, hash(, files, data)]")
        if len(e) == 5 and (type(e[3]) is not list or not all(type(f) is str for f in e[3])):
            raise ValueError(f"files of item {e[0]}/{e[1]} are not a list of paths")


def _bad_path(rel: str) -> bool:
    """Whether ``rel`` is not a plain relative path below the export folder."""
    wrapped = f"/{rel}/"
    return not rel or rel[0] == "/" or "\\" in rel or "\0" in rel or "/../" in wrapped or "/./" in wrapped \
        or "//" in wrapped


def _check_files(files: Any) -> None:
    if type(files) is not dict:
        raise ValueError("files is not a mapping")
    for rel, v in files.items():
        if _bad_path(rel):
            raise ValueError(f"file path {rel!r} leaves the export folder or is not normalised")
        if type(v) is not list or len(v) != 3 or type(v[0]) is not str or type(v[1]) is not int \
                or type(v[2]) is not int:
            raise ValueError(f"file entry {str(v)[:60]} is not [md5, size, mtime]")


def _parse(d: Any, where: Path) -> Manifest:
    try:
        if not isinstance(d, dict) or d.get("tool") != "dsrepo" or d.get("version") != VERSION:
            raise ValueError("not a dsrepo export manifest of version 1")
        items, files = d["items"], d["files"]
        _check_items(items)
        _check_files(files)
        flt = d.get("filter")
        return Manifest(d.get("commit"), str(d["format"]), dict(d["options"]), str(d["target"]),
                        (str(flt[0]), str(flt[1])) if flt else None, str(d["categories"]), str(d["subset_meta"]),
                        items, files, int(d.get("time_ns") or 0))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
        raise ExportError(f"{where}: not a readable dsrepo export manifest ({e}); use --force for a full "
                          "export") from None


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of export folder ``folder``; None when it has none. ExportError
    (naming the file) when it exists but cannot be read."""
    path = folder / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ExportError(f"{path}: cannot read ({e.strerror})") from None
    try:
        d = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ExportError(f"{path}: not valid JSON; use --force for a full export") from None
    return _parse(d, path)


def write_manifest(folder: Path, m: Manifest) -> Manifest:
    """Write ``m`` (stamped with the current time) atomically into ``folder``."""
    from dataclasses import replace

    m = replace(m, time_ns=time.time_ns())
    atomic_write_bytes(folder / MANIFEST, orjson.dumps(m.to_json(), option=orjson.OPT_SORT_KEYS))
    return m


def changed_file(folder: Path, m: Manifest) -> str | None:
    """The first file (sorted by path) listed in ``m`` whose content in ``folder`` is no
    longer what dsrepo wrote (edited or deleted), or None.

    Size and mtime are the fast check; only files whose stat differs (or that were
    written within :data:`RACY_NS` of the manifest) are hashed."""
    racy_from = m.time_ns - RACY_NS
    base = os.fspath(folder)
    files = m.files
    here, fd = None, -1  # the folder of the last file, open (stat by name in it: no path walk)
    try:
        for rel in sorted(files):
            md5, size, mtime = files[rel]
            folder_rel, _, name = rel.rpartition("/")
            if folder_rel != here:
                if fd >= 0:
                    os.close(fd)
                    fd = -1
                here = folder_rel
                try:
                    fd = os.open(os.path.join(base, folder_rel), os.O_RDONLY | os.O_DIRECTORY)
                except OSError:
                    return rel
            try:
                st = os.stat(name, dir_fd=fd)
            except OSError:
                return rel
            if st.st_size != size:
                return rel
            if st.st_mtime_ns == mtime and mtime < racy_from:
                continue
            try:
                if file_md5(os.path.join(base, rel)) != md5:
                    return rel
            except OSError:
                return rel
    finally:
        if fd >= 0:
            os.close(fd)
    return None
