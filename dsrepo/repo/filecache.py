"""The file cache: whole annotation files of recent source records, within a byte budget.

A source's working copy holds annotation files (the user's own, for a folder tracked in
place or added from outside, or the exporter's). Items are stored one by one, so going
back to a revision normally means exporting its annotation files again. This cache keeps
the annotation files dsrepo has seen for a record, so that a checkout to a record it
knows places them (a copy) instead of exporting:

* ``add`` keeps the files it read (in place: copied while the folder is hashed), and so
  does a status or commit that imports edited files (a copy, its md5 checked);
* a checkout (or merge, update) moves the working copy's annotation files into the cache
  before replacing or deleting them, when their stat still matches the scan that hashed
  them (a rename: no copy);
* a record's entry lists ``{relpath: md5}`` of every annotation file of its working copy.

Files are stored by md5 under ``.dsrepo/cache/files/<md5[:2]>/<md5[2:]>`` (read-only, like
the media store) with ``.dsrepo/cache/files.json`` as the index. The budget
(``file_cache_mb`` in ``config.json``, default 256 MB; 0 turns the cache off) bounds the
bytes of every file the entries use; the least recently used entries go first, and a
record whose files alone exceed it is never cached - a train2017-sized file is exported
from its items instead. The files load to exactly their record's content (they are the
very files it was imported from, or an export of it), so placing them is a checkout like
any other. It is a cache: anything missing or unreadable only means an export; ``gc``
drops the entries of records nothing refers to and files that no longer match their md5.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Collection, Mapping

import orjson

from dsrepo.formats.common.files import atomic_write_bytes
from dsrepo.repo.layout import Layout

DEFAULT_BUDGET_MB = 256
Stat = tuple[int, int, int]


def _finder(format: str) -> Callable[[Path], list[str] | None] | None:
    from dsrepo.formats.registry import get_format

    try:
        return get_format(format).annotation_files
    except Exception:  # (an unknown format: nothing to keep)
        return None


def keeps_files(format: str | None) -> bool:
    """False when format ``format`` (None: not known yet) never has files to keep."""
    return format is None or _finder(format) is not None


def annotation_names(format: str, folder: Path, export_options: Mapping) -> list[str] | None:
    """The annotation files of ``folder`` (a working copy in ``format``) that the cache may
    keep for its record: those the format says an export writes under the same names, for
    a record without export options (their export may differ); None otherwise."""
    find = None if export_options else _finder(format)
    return find(folder) if find is not None else None


def _valid(doc: object) -> dict:
    """The index ``doc`` with anything malformed left out (a damaged index is an empty one)."""
    out: dict = {"sizes": {}, "entries": {}}
    if not isinstance(doc, dict) or not isinstance(doc.get("sizes"), dict) or not isinstance(doc.get("entries"), dict):
        return out
    out["sizes"] = {m: n for m, n in doc["sizes"].items() if type(n) is int and n >= 0}
    for rec, e in doc["entries"].items():
        if isinstance(e, list) and len(e) == 2 and type(e[0]) is int and isinstance(e[1], dict) \
                and all(isinstance(r, str) and isinstance(m, str) for r, m in e[1].items()):
            out["entries"][rec] = e
    return out


def _unlink(path: str | os.PathLike) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class FileCache:
    """The file cache of one project (every method runs under the repository lock)."""

    def __init__(self, layout: Layout, budget_mb: int = DEFAULT_BUDGET_MB) -> None:
        from dsrepo.repo.mediastore import MediaStore

        self.root = layout.dot / "cache" / "files"
        self.index_path = layout.dot / "cache" / "files.json"
        self.tmp = layout.tmp
        self.budget = max(0, int(budget_mb)) << 20
        # the bytes: stored, verified and copied out like media (reflink where possible)
        self.files = MediaStore(self.root, layout.tmp, "auto")
        self._doc: dict | None = None
        self._dirty = False

    # -- index -------------------------------------------------------------------------

    def _index(self) -> dict:
        if self._doc is None:
            doc = None
            try:
                doc = orjson.loads(self.index_path.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                pass
            self._doc = _valid(doc)
        return self._doc

    def _save(self) -> None:
        atomic_write_bytes(self.index_path, orjson.dumps(self._index()))
        self._dirty = False

    def save(self) -> None:
        """Write the index if :meth:`remember` or :meth:`touch` changed it (once per
        operation: files put in without an entry are deleted by the next trim or gc)."""
        if self._dirty:
            self._save()

    def path(self, md5: str) -> Path:
        """Where the cached file with content ``md5`` lives."""
        return self.files.path(md5)

    @property
    def enabled(self) -> bool:
        return self.budget > 0

    def fits(self, sizes: Collection[int]) -> bool:
        """True if files of these sizes can be cached as one entry."""
        return self.enabled and sum(sizes) <= self.budget

    def has(self, md5: str) -> bool:
        """True if content ``md5`` is cached."""
        return md5 in self._index()["sizes"] and self.files.has(md5)

    def place(self, md5: str, target: str | os.PathLike) -> None:
        """Copy cached file ``md5`` over ``target`` (temp file + rename)."""
        self.files.copy_out(md5, target)

    # -- putting files in ----------------------------------------------------------------

    def claim(self, md5: str) -> bool:
        """Count file ``md5``, stored in the cache folder by :meth:`store` (e.g. in a
        forked child), as cached; False if it is not there."""
        try:
            self._index()["sizes"][md5] = os.path.getsize(self.path(md5))
        except OSError:
            return False
        return True

    def store(self, src: str | os.PathLike) -> tuple[str, bool]:
        """Put a copy of ``src`` into the cache folder, hashed while copied; returns ``(md5,
        new)``. Not counted as cached until :meth:`claim`; the next trim or gc deletes it
        otherwise."""
        md5, _size, new = self.files.store_file(src)
        return md5, new

    def copy_in(self, src: str | os.PathLike, md5: str) -> bool:
        """Cache a copy of file ``src`` if its bytes (hashed while copied) are ``md5``."""
        if self.has(md5):
            return True
        try:
            got, new = self.store(src)
        except OSError:
            return False
        if got != md5:
            if new:
                _unlink(self.path(got))
            return False
        return self.claim(md5)

    def keep(self, record: str, folder: Path, files: Mapping[str, str]) -> bool:
        """Copy ``files`` (``{relpath: md5}`` in ``folder``, each copy's md5 checked) into
        the cache as record ``record``'s annotation files, if they fit the budget (then
        :meth:`save`)."""
        try:
            sizes = [os.path.getsize(folder / rel) for rel in files]
        except OSError:
            return False
        if not files or not self.fits(sizes) or not all(self.copy_in(folder / r, m) for r, m in files.items()):
            return False
        return self.remember(record, files)

    def move_in(self, src: str | os.PathLike, md5: str, stat: Stat, since_ns: int) -> bool:
        """Move file ``src`` (about to be replaced or deleted) into the cache as content
        ``md5``: only while its size, mtime and inode are still ``stat``, the stat it was
        hashed with. A file modified at or after ``since_ns`` (its bytes may have changed
        within the clock tick), with other hard links, or reached through a symlink is
        copied instead, checking its md5. False (``src`` left alone) when it is not taken."""
        if self.has(md5):
            return True
        try:
            st = os.stat(src)
            link = os.path.islink(src)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns, st.st_ino) != tuple(stat):
            return False
        if link or st.st_nlink > 1 or st.st_mtime_ns >= since_ns:  # (a symlink would move, not its file)
            return self.copy_in(src, md5)
        dest = self.path(md5)
        try:
            os.chmod(src, 0o444)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
        except OSError:
            return False
        return self.claim(md5)

    # -- entries -------------------------------------------------------------------------

    def entry(self, record: str) -> dict[str, str] | None:
        """``{relpath: md5}`` of record ``record``'s annotation files when the cache holds
        every one of them (see :meth:`path`); else None."""
        entry = self._index()["entries"].get(record) if self.enabled else None
        if entry is None or not all(self.has(m) for m in entry[1].values()):
            return None
        return dict(entry[1])

    def remember(self, record: str, files: Mapping[str, str]) -> bool:
        """Record that ``files`` (``{relpath: md5}``, every one cached) are record
        ``record``'s annotation files, mark it used, and keep the cache within its budget
        (then :meth:`save`). False when a file is not cached."""
        self._dirty = True
        if not self.enabled or not all(self.has(m) for m in files.values()):
            self._trim()
            return False
        self._index()["entries"][record] = [time.time_ns(), dict(sorted(files.items()))]
        self._trim()
        return record in self._index()["entries"]

    def touch(self, record: str) -> None:
        """Mark record ``record``'s entry as just used (then :meth:`save`)."""
        entry = self._index()["entries"].get(record)
        if entry is not None:
            entry[0] = time.time_ns()
            self._dirty = True

    def _trim(self) -> None:
        """Drop least recently used entries until their files fit the budget; delete
        cached files no entry uses."""
        doc = self._index()
        entries, sizes = doc["entries"], doc["sizes"]
        order = sorted(entries, key=lambda r: entries[r][0], reverse=True)
        kept: dict[str, list] = {}
        used: set[str] = set()
        total = 0
        for rec in order:
            e = entries[rec]
            new = set(e[1].values()) - used
            extra = sum(sizes.get(m, 0) for m in new)
            if total + extra > self.budget:
                continue
            kept[rec] = e
            used |= new
            total += extra
        doc["entries"] = kept
        for md5 in [m for m in sizes if m not in used]:
            del sizes[md5]
            _unlink(self.path(md5))

    def prune(self, keep: Collection[str]) -> int:
        """Drop the entries of records not in ``keep`` and the files that no longer hold
        their md5 (gc); returns the bytes freed."""
        doc = self._index()
        before = sum(doc["sizes"].values())
        doc["entries"] = {r: e for r, e in doc["entries"].items() if r in keep}
        for md5 in list(doc["sizes"]):
            if not self.files.verify(md5):
                del doc["sizes"][md5]
                doc["entries"] = {r: e for r, e in doc["entries"].items() if md5 not in e[1].values()}
        self._trim()
        self._clear_strays()
        self._save()
        return before - sum(doc["sizes"].values())

    def _clear_strays(self) -> None:
        """Delete files under the cache folder the index does not list."""
        sizes = self._index()["sizes"]
        for md5 in list(self.files.iter_md5s()) if self.root.is_dir() else ():
            if md5 not in sizes:
                _unlink(self.path(md5))

    def cached(self) -> list[str]:
        """md5 of every cached file."""
        return list(self._index()["sizes"])

    def damaged(self) -> list[str]:
        """md5 of every cached file that no longer holds that content (fsck)."""
        return [m for m in self.cached() if not self.files.verify(m)]
