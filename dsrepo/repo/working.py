"""What a source's working copy holds right now, as a source record.

Fast path: every file's size, mtime and inode match the cache, so the folder still
holds the cached record - nothing is read. Otherwise changed files are re-hashed;
if the content still equals the cached content, the record is unchanged; only when
content really changed is the folder imported again with its format and the result
stored (new items only), so a following ``commit`` has nothing left to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.worktree import Scan, SourceState, cache_entries, load_state, save_state, scan_source

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class Working:
    """A tracked source's working copy: its state, scan and content record.

    ``record`` is None when the folder is missing, or when the content changed and
    was not imported (``needs_import``)."""

    name: str
    state: SourceState
    scan: Scan | None
    record: str | None
    needs_import: bool = False

    @property
    def missing(self) -> bool:
        return self.scan is None


def _reimport(repo: "Repo", st: SourceState, scan: Scan, progress: Progress) -> str:
    from dsrepo.formats.api import import_dataset
    from dsrepo.repo.snapshot import stage_dataset

    root = repo.layout.source_dir(st.name)
    ds = import_dataset(root, st.format, dict(st.import_options), progress)
    generated = set(st.generated)
    extras = {rel: md5 for rel, md5 in scan.md5.items() if rel not in generated}
    staged = stage_dataset(repo, st.name, ds, root, st.format, st.import_options, st.export_options,
                           known_md5=scan.md5, extras=extras, progress=progress)
    _keep_files(repo, staged.record_id, root, st, scan)
    return staged.record_id


def _keep_files(repo: "Repo", record_id: str, root: Path, st: SourceState, scan: Scan) -> None:
    """Put the annotation files just imported into the file cache as the new record's
    (copies, checked against the md5 the scan gave them), so that a later checkout of it
    places them even after they are edited again."""
    from dsrepo.repo.filecache import annotation_names

    cache = repo.file_cache()
    names = annotation_names(st.format, root, st.export_options) if cache.enabled else None
    if names and all(n in scan.md5 for n in names) and cache.keep(record_id, root, {n: scan.md5[n] for n in names}):
        cache.save()


def examine(repo: "Repo", name: str, stage: bool, rescan: bool = False,
            progress: Progress = NULL_PROGRESS, prior: Scan | None = None) -> Working:
    """Scan source ``name``. With ``stage`` (caller holds the lock) changed content is
    imported and stored, and the cache is refreshed; without it nothing is written.
    ``prior`` is an earlier scan of this call whose hashes can be reused."""
    st = load_state(repo.layout, name)
    root = repo.layout.source_dir(name)
    if not root.is_dir():
        return Working(name, st, None, None)
    scan = scan_source(root, st, rescan, prior)
    if scan.same and st.record is not None and not rescan:
        record = st.record
    elif not stage:
        return Working(name, st, scan, None, needs_import=True)
    else:
        record = _reimport(repo, st, scan, progress)
    if stage and (scan.rehashed or record != st.record or len(scan.stats) != len(st.files)):
        generated = tuple(g for g in st.generated if g in scan.md5)
        st = st.with_(record=record, generated=generated, adopted=tuple(a for a in st.adopted if a in scan.md5),
                      time=scan.time,
                      files=cache_entries(scan.stats, scan.md5))
        save_state(repo.layout, st)
    return Working(name, st, scan, record)


def examine_for_change(repo: "Repo", name: str, force: bool, progress: Progress = NULL_PROGRESS) -> Working:
    """Like :func:`examine` with staging, for operations about to replace the folder:
    with ``force`` a working copy that no longer imports is accepted (record None)."""
    from dsrepo.errors import DsrepoError

    try:
        return examine(repo, name, True, progress=progress)
    except (DsrepoError, OSError):
        if not force:
            raise
        return examine(repo, name, False, progress=progress)


def needs_writing(w: Working) -> bool:
    """True if examining ``w`` with the lock would import or refresh the cache."""
    return w.needs_import or (w.scan is not None and (bool(w.scan.rehashed) or len(w.scan.stats)
                                                      != len(w.state.files)))
