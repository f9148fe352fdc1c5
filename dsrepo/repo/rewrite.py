"""Rewriting a tracked source's working copy in place and recording its new state."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.access import file_entries, load_record
from dsrepo.repo.materialize import Written, checked_rel, materialize, safe_target
from dsrepo.repo.working import Working
from dsrepo.repo.worktree import Scan, SourceState, Stat, cache_entries, save_state, scan_dir, settle

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


def owned_files(repo: "Repo", w: Working) -> set[str]:
    """Files of ``w``'s folder that belong to its current content (dsrepo may replace
    or delete them): the content record's media/extra files and the exporter's files."""
    owned = set(w.state.generated)
    rid = w.record or w.state.record or w.state.base
    if rid is not None:
        owned |= {r for r, *_ in file_entries(repo, load_record(repo, rid))}
    return owned


def _stats_after(dest: Path, prior: Scan | None, current: Mapping[str, str], written: Written
                 ) -> dict[str, Stat] | None:
    """The stats of ``dest`` (as :func:`scan_dir` gives them) after ``written`` was
    materialized into it, without scanning it again: the files materialize left alone
    (the same md5 before and after: it writes only files whose content differs) keep the
    stats of ``prior``, the scan that hashed ``current``; the others are stat'ed one by
    one (the deleted ones drop out). None - scan the folder - without a prior scan, when
    it skipped symlinks (a symlinked folder would hide files from a scan), or when a
    file is not what a scan would list. A stat kept for a file that was replaced anyway
    only makes the next status hash that file again."""
    if prior is None or prior.skipped:
        return None
    old = prior.stats
    out: dict[str, Stat] = {}
    root = os.fspath(dest)
    for rel in {*written.md5, *old}:
        md5 = written.md5.get(rel)
        st = old.get(rel)
        if st is not None and md5 is not None and current.get(rel) == md5:
            out[rel] = st
            continue
        try:
            s = os.lstat(os.path.join(root, rel))
        except FileNotFoundError:
            if md5 is not None:
                return None  # (a file the record has is missing: let the scan tell)
            continue
        if not stat.S_ISREG(s.st_mode):
            return None
        out[rel] = (s.st_size, s.st_mtime_ns, s.st_ino)
    return out


def rewrite_source(repo: "Repo", name: str, w: Working | None, record_id: str,
                   export_options: Mapping[str, Any] | None = None, progress: Progress = NULL_PROGRESS,
                   mirror: Path | None = None) -> tuple[SourceState, Written]:
    """Make ``<project>/<name>`` hold ``record_id`` and save the source's state (base =
    ``record_id``). ``w`` is the folder's examined state (None: not tracked yet; any
    files already there are left alone). Files that are not dsrepo's stay in place,
    and then the cache does not claim a record (the next status re-imports)."""
    dest = repo.layout.source_dir(name)
    rec = load_record(repo, record_id)
    current: dict[str, str] = {}
    owned: set[str] = set()
    old_record = None
    old_generated: tuple[str, ...] = ()
    adopted: tuple[str, ...] = ()
    if w is not None and w.scan is not None:
        current = dict(w.scan.md5)
        owned = owned_files(repo, w)
        old_record = w.record
        old_generated = w.state.generated
        adopted = w.state.adopted
    elif dest.is_dir():
        from dsrepo.repo.worktree import scan_source

        current = dict(scan_source(dest, None).md5)
    prior = w.scan if w is not None else None
    written = materialize(repo, record_id, dest, current, owned, old_record, old_generated, progress, mirror,
                          adopted, prior)
    stats = _stats_after(dest, prior, current, written)
    if stats is None:
        stats, _ = scan_dir(dest)
    t = settle(stats)
    generated = set(written.generated)
    md5 = {**{r: m for r, m in current.items() if r not in owned and r in stats}, **written.md5}
    leftovers = set(stats) - set(written.md5)
    st = SourceState(name, rec.format, rec.import_options,
                     rec.export_options if export_options is None else export_options,
                     base=record_id, record=None if leftovers else record_id, generated=written.generated,
                     time=t, files=cache_entries(stats, md5),
                     adopted=tuple(a for a in adopted if a in generated))
    save_state(repo.layout, st)
    return st, written


def delete_files(repo: "Repo", w: Working, everything: bool = False) -> tuple[int, tuple[str, ...]]:
    """Delete the files of ``w``'s working copy that belong to its content (all files
    with ``everything``) and the folders left empty; the user's own files of a folder
    tracked in place stay unless ``everything``. Returns ``(deleted, files left)``."""
    dest = repo.layout.source_dir(w.name)
    owned = owned_files(repo, w) - set(w.state.adopted)
    if everything and w.scan is not None:
        owned |= set(w.scan.md5)
    deleted = 0
    real_dirs: dict[str, str] = {}
    for rel in sorted(owned):
        p = safe_target(dest, checked_rel(rel, w.name), real_dirs)
        if p.is_file() or p.is_symlink():
            p.unlink()
            deleted += 1
    for dirpath, _dirs, _files in sorted(os.walk(dest, topdown=False), key=lambda x: -len(x[0])):
        try:
            os.rmdir(dirpath)
        except OSError:
            pass
    left = tuple(sorted(scan_dir(dest)[0])) if dest.exists() else ()
    return deleted, left
