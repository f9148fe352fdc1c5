"""Writing a source's working copy from a stored record.

Media and extra files are placed from the media store (reflink or copy, byte
identical); annotation files are written by the source format's exporter from the
stored items (same export options as recorded), or - right after an add/update -
copied byte for byte from the imported folder. Only files whose content differs
are written; files of the previous content that the new one does not have are
deleted. Paths from stored lists are validated so nothing is written outside the
source folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Collection, Mapping

from dsrepo.errors import CorruptObjectError, DatasetError, RepoError
from dsrepo.formats.common.files import safe_relpath
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.access import file_entries, load_record
from dsrepo.repo.filecache import annotation_names
from dsrepo.digest import file_md5
from dsrepo.repo.memo import learn_export
from dsrepo.repo.reexport import export_files, save_rows
from dsrepo.repo.records import SourceRecord
from dsrepo.repo.worktree import RACY_NS, TEMP_PREFIX, scan_dir

if TYPE_CHECKING:
    from dsrepo.repo.filecache import FileCache
    from dsrepo.repo.repo import Repo
    from dsrepo.repo.worktree import Scan

_ANNOTATION_FIELDS = ("format", "items", "categories", "subset_meta", "export_options")


@dataclass(frozen=True, slots=True)
class Written:
    """Result of materializing: the exporter's files and the md5 of every file dsrepo owns."""

    generated: tuple[str, ...]
    md5: Mapping[str, str]
    wrote: int
    deleted: int


def checked_rel(rel: str, source: str) -> str:
    try:
        safe = safe_relpath(rel, None, f"source {source}")
    except DatasetError as e:
        raise CorruptObjectError(f"stored path of source {source!r} is unsafe: {e}") from None
    if safe != rel:
        raise CorruptObjectError(f"stored path {rel!r} of source {source!r} is not normalised")
    return rel


def safe_target(dest: Path, rel: str, real_dirs: dict[str, str] | None = None) -> Path:
    """``dest/rel``, refusing when a folder on the way is a symlink leaving ``dest``
    (``real_dirs`` caches resolved folders across calls)."""
    target = dest / rel
    cache = real_dirs if real_dirs is not None else {}
    real_dest = cache.get("")
    if real_dest is None:
        real_dest = cache[""] = os.path.realpath(dest)
    folder = os.path.dirname(rel)
    parent = cache.get(folder)
    if parent is None:
        parent = cache[folder] = os.path.realpath(target.parent)
    if parent != real_dest and not parent.startswith(real_dest + os.sep):
        raise RepoError(f"{target}: a folder on its path is a symlink leading outside {dest}; not writing")
    if target.is_dir() and not target.is_symlink():
        raise RepoError(f"{target}: is a folder, expected a file; move it away and retry")
    return target


def _same_annotations(a: SourceRecord | None, b: SourceRecord) -> bool:
    return a is not None and all(getattr(a, f) == getattr(b, f) for f in _ANNOTATION_FIELDS)


def _copy_hashed(src: Path, target: Path, keep_md5: str | None) -> tuple[str, bool]:
    """Copy ``src`` over ``target`` (temp file + rename) unless its md5 is ``keep_md5``;
    returns ``(md5, written)``."""
    h = hashlib.md5()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{TEMP_PREFIX}{os.getpid()}-{target.name}"
    try:
        with open(src, "rb") as f, open(tmp, "wb") as out:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                out.write(chunk)
        md5 = h.hexdigest()
        if md5 == keep_md5:
            os.unlink(tmp)
            return md5, False
        os.replace(tmp, target)
        return md5, True
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _prune_dirs(dest: Path, rels: Collection[str]) -> None:
    parents = sorted({Path(r).parent for r in rels if "/" in r}, key=lambda p: -len(p.parts))
    for p in parents:
        while p != Path("."):
            try:
                (dest / p).rmdir()
            except OSError:
                break
            p = p.parent


def _set_aside(repo: "Repo", name: str, dest: Path, rels: list[str], real_dirs: dict[str, str]) -> Path:
    """Move files of ``dest`` to a new folder under ``.dsrepo/set-aside/<name>/``; returns it."""
    folder = repo.layout.set_aside / name / time.strftime("%Y%m%dT%H%M%S")
    n = 1
    while folder.exists():
        n += 1
        folder = folder.with_name(f"{folder.name.split('.')[0]}.{n}")
    for rel in rels:
        src = safe_target(dest, checked_rel(rel, name), real_dirs)
        if not src.is_file():
            continue
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(src, folder / rel)
    return folder


class _Keeper:
    """Moves the working copy's annotation files of the record it holds now into the file
    cache as they are replaced or deleted, and records them as that record's files."""

    def __init__(self, cache: "FileCache", record: str | None, names: Collection[str] | None,
                 generated: Collection[str], current: Mapping[str, str], scan: "Scan | None") -> None:
        self.cache = cache
        self.record = record
        self.scan = scan
        self.files: dict[str, str] | None = None
        self.moved = False
        if record is not None and scan is not None and names and cache.enabled \
                and all(n in current and n in generated and n in scan.stats for n in names) \
                and cache.fits([scan.stats[n][0] for n in names]):
            self.files = {n: current[n] for n in names}

    def before_replace(self, rel: str, target: Path) -> None:
        """``target`` (file ``rel``) is about to be replaced or deleted."""
        if self.files is not None and rel in self.files and self.scan is not None and rel in self.scan.stats:
            self.moved |= self.cache.move_in(target, self.files[rel], self.scan.stats[rel],
                                             self.scan.time - RACY_NS)

    def finish(self, dest: Path) -> None:
        """Once some of the files went into the cache, record them all as their record's
        (copying those still in place that are not cached yet)."""
        if self.files is None or self.record is None or not self.moved:
            return
        for rel, md5 in self.files.items():
            if not self.cache.has(md5) and not self.cache.copy_in(dest / rel, md5):
                return
        self.cache.remember(self.record, self.files)


def _cached_files(cache: "FileCache", record_id: str, media: Collection[str]) -> dict[str, str] | None:
    """The file cache's ``{relpath: md5}`` for ``record_id`` when it holds all of them,
    at safe paths that are none of the record's media files; else None."""
    entry = cache.entry(record_id)
    if not entry:
        return None
    for rel in entry:
        try:
            ok = safe_relpath(rel, None, "file cache") == rel
        except DatasetError:
            ok = False
        if not ok or rel in media:
            return None
    return entry


def _place_cached(cache: "FileCache", entry: Mapping[str, str], dest: Path, current: Mapping[str, str],
                  keeper: _Keeper, real_dirs: dict[str, str]) -> int:
    """Copy the cached files ``entry`` into ``dest`` where the file there differs; returns
    how many were written."""
    wrote = 0
    for rel, md5 in sorted(entry.items()):
        if current.get(rel) == md5:
            continue
        target = safe_target(dest, rel, real_dirs)
        if rel in current:
            keeper.before_replace(rel, target)
        cache.place(md5, target)
        wrote += 1
    return wrote


def materialize(repo: "Repo", record_id: str, dest: Path, current: Mapping[str, str],
                owned: Collection[str], old_record: str | None, old_generated: Collection[str],
                progress: Progress = NULL_PROGRESS, mirror: Path | None = None,
                adopted: Collection[str] = (), scan: "Scan | None" = None) -> Written:
    """Make folder ``dest`` hold record ``record_id``.

    ``current`` is the actual md5 of each file now in ``dest``; ``owned`` the files
    dsrepo may delete (the previous content's files); ``old_record`` the record the
    folder holds now (None if unknown) and ``old_generated`` its exporter files, of
    which ``adopted`` are the user's own (a folder tracked in place): those are moved to
    ``.dsrepo/set-aside/<source>/<time>/`` instead of being deleted (with a warning).

    Images and extra files come from the media store. Annotation files are written by
    the format's exporter from the stored items - or, with ``mirror`` (the folder the
    record was just imported from, by add/update), copied byte for byte from it: every
    file of ``mirror`` that is not one of the record's images, so that the folder
    imports exactly as ``mirror`` did - or placed from the file cache
    (:mod:`dsrepo.repo.filecache`) when it holds the record's annotation files. ``scan``:
    the scan that hashed ``current``; with it, annotation files of ``old_record`` about to
    be replaced or deleted go into the file cache."""
    rec = load_record(repo, record_id)
    old = load_record(repo, old_record) if old_record else None
    files = {checked_rel(r, rec.name): m for r, m, _n, _k in file_entries(repo, rec)}
    dest.mkdir(parents=True, exist_ok=True)
    owned_md5: dict[str, str] = {}
    wrote = 0
    real_dirs: dict[str, str] = {}
    with progress.task(f"{rec.name}: placing files", total=len(files)) as bar:
        for rel, md5 in files.items():
            if current.get(rel) != md5:
                target = safe_target(dest, rel, real_dirs)
                repo.media.copy_out(md5, target, fresh=rel not in current and not os.path.lexists(target))
                wrote += 1
            owned_md5[rel] = md5
            bar.advance()
    exported = None
    cache = repo.file_cache()
    keeper = _Keeper(cache, old_record, None if old is None or mirror is not None or not cache.enabled else
                     annotation_names(old.format, dest, old.export_options), old_generated, current, scan)
    cached = None
    if mirror is None and not _same_annotations(old, rec) and not rec.export_options:
        cached = _cached_files(cache, record_id, files)
    if mirror is not None:
        stats, _skipped = scan_dir(mirror)
        gen = []
        with progress.task(f"{rec.name}: copying annotation files") as bar:
            for rel in sorted(stats):
                if rel in files:
                    continue
                md5, done = _copy_hashed(mirror / rel, safe_target(dest, checked_rel(rel, rec.name), real_dirs),
                                         current.get(rel))
                wrote += done
                owned_md5[rel] = md5
                gen.append(rel)
                bar.advance()
        generated = tuple(gen)
    elif _same_annotations(old, rec) and all(g in current for g in old_generated):
        generated = tuple(g for g in old_generated if g not in files)
        owned_md5.update({g: current[g] for g in generated})
    elif cached is not None:
        with progress.task(f"{rec.name}: placing annotation files (file cache)"):
            wrote += _place_cached(cache, cached, dest, current, keeper, real_dirs)
        owned_md5.update(cached)
        generated = tuple(sorted(cached))
    else:
        repo.layout.tmp.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="export-", dir=repo.layout.tmp))
        try:
            gen = []
            exported = export_files(repo, rec, dest, files, current, tmp, progress)
            for rel, md5 in exported.kept.items():
                owned_md5[checked_rel(rel, rec.name)] = md5
                gen.append(rel)
            for rel, known in exported.written.items():
                rel = checked_rel(rel, rec.name)
                if rel in files:
                    continue
                md5 = known or file_md5(tmp / rel)
                if current.get(rel) != md5:
                    target = safe_target(dest, rel, real_dirs)
                    if rel in current:
                        keeper.before_replace(rel, target)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        os.replace(tmp / rel, target)
                    except OSError:
                        shutil.copyfile(tmp / rel, target)
                    wrote += 1
                owned_md5[rel] = md5
                gen.append(rel)
            generated = tuple(sorted(gen))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    stale = [r for r in set(owned) | set(old_generated) if r not in owned_md5 and r in current]
    adopted = set(adopted)  # (may list every label file of a per-item format: look-ups, not scans)
    keep = sorted(r for r in stale if r in adopted)
    for rel in keep:  # (copied: the originals are moved aside)
        if keeper.files is not None and rel in keeper.files:
            cache.copy_in(dest / rel, keeper.files[rel])
    if keep:
        aside = _set_aside(repo, rec.name, dest, keep, real_dirs)
        shown = ", ".join(keep[:3]) + (f" and {len(keep) - 3} more" if len(keep) > 3 else "")
        progress.warn(f"{rec.name}: moved {len(keep)} of your own files, which the new content does not have, "
                      f"to {aside} ({shown})")
    for rel in stale:
        if rel in adopted:
            continue
        target = safe_target(dest, checked_rel(rel, rec.name), real_dirs)
        keeper.before_replace(rel, target)
        try:
            target.unlink()
        except FileNotFoundError:
            pass
    _prune_dirs(dest, stale)
    keeper.finish(dest)
    names = annotation_names(rec.format, dest, rec.export_options) if mirror is not None and cache.enabled else None
    if names and all(n in generated for n in names):
        cache.keep(record_id, dest, {n: owned_md5[n] for n in names})
    if cached is not None:
        cache.touch(record_id)
        save_rows(repo.layout, rec.name, None)  # (the folder no longer holds the export the rows describe)
    cache.save()
    if exported is not None:  # (after the files are in place: rows never describe a folder not yet written)
        save_rows(repo.layout, rec.name, exported.rows)
        if not exported.incremental:  # (an incremental export left the other records as they were)
            learn_export(repo, rec, dest, files, progress)
    return Written(generated, owned_md5, wrote, len(stale) - len(keep))
