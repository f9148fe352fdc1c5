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

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import orjson

from dsrepo.errors import ExportError
from dsrepo.formats.common.files import atomic_write_bytes

MANIFEST = ".dsrepo-export.json"
VERSION = 1
# A file whose recorded mtime is this close to the manifest's time is hashed when checked:
# an edit in the same clock tick as the export would keep its size and mtime.
RACY_NS = 20_000_000


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file dsrepo wrote: content md5, size and modification time (ns) after writing."""

    md5: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class ItemEntry:
    """One exported item: key, item hash and - with a patch hook - the files it owns
    (None when unknown) and the format's per-item data."""

    subset: str
    id: str
    hash: str
    files: tuple[str, ...] | None = None
    data: Any = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.subset, self.id)

    def to_json(self) -> list[Any]:
        if self.files is None:
            return [self.subset, self.id, self.hash]
        return [self.subset, self.id, self.hash, list(self.files), self.data]


@dataclass(frozen=True, slots=True)
class Manifest:
    """The content of a manifest file (see the module docstring)."""

    commit: str | None
    format: str
    options: Mapping[str, Any]
    target: str
    filter: tuple[str, str] | None
    categories: str
    subset_meta: str
    items: tuple[ItemEntry, ...]
    files: Mapping[str, FileEntry]
    time_ns: int = 0

    @property
    def has_rows(self) -> bool:
        """Whether every item records the files it owns (written through a patch hook)."""
        return all(e.files is not None for e in self.items)

    def to_json(self) -> dict[str, Any]:
        """The manifest as written (keys sorted by the writer)."""
        return {"tool": "dsrepo", "version": VERSION, "commit": self.commit, "format": self.format,
                "options": plain(self.options), "target": self.target,
                "filter": list(self.filter) if self.filter else None, "categories": self.categories,
                "subset_meta": self.subset_meta, "time_ns": self.time_ns,
                "items": [e.to_json() for e in self.items],
                "files": {r: [f.md5, f.size, f.mtime_ns] for r, f in sorted(self.files.items())}}


def plain(v: Any) -> Any:
    """``v`` with tuples as lists and mappings as dicts (JSON-comparable)."""
    if isinstance(v, Mapping):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def md5_file(path: str | os.PathLike) -> str:
    """md5 of a file's bytes."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def file_entry(path: Path, md5: str) -> FileEntry:
    """The entry of a file just written with content ``md5``."""
    st = path.stat()
    return FileEntry(md5, st.st_size, st.st_mtime_ns)


def _parse(d: Any, where: Path) -> Manifest:
    try:
        if not isinstance(d, dict) or d.get("tool") != "dsrepo" or d.get("version") != VERSION:
            raise ValueError("not a dsrepo export manifest of version 1")
        items = []
        for e in d["items"]:
            files = tuple(str(x) for x in e[3]) if len(e) > 3 else None
            items.append(ItemEntry(str(e[0]), str(e[1]), str(e[2]), files, e[4] if len(e) > 4 else None))
        files = {str(r): FileEntry(str(v[0]), int(v[1]), int(v[2])) for r, v in d["files"].items()}
        flt = d.get("filter")
        return Manifest(d.get("commit"), str(d["format"]), dict(d["options"]), str(d["target"]),
                        (str(flt[0]), str(flt[1])) if flt else None, str(d["categories"]), str(d["subset_meta"]),
                        tuple(items), files, int(d.get("time_ns") or 0))
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
    for rel in sorted(m.files):
        f = m.files[rel]
        path = os.path.join(base, rel)  # (plain strings: pathlib costs more than the stat itself)
        try:
            st = os.stat(path)
        except OSError:
            return rel
        if st.st_size != f.size:
            return rel
        if st.st_mtime_ns == f.mtime_ns and f.mtime_ns < racy_from:
            continue
        try:
            if md5_file(path) != f.md5:
                return rel
        except OSError:
            return rel
    return None
