"""``add``: copy a dataset into the project as a new source.

The dataset is imported, its items and images are stored, and the dataset folder is
copied as it is into the working copy ``<project>/<name>/`` (images from the store),
so the working copy imports exactly like the original.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsrepo.errors import RepoError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.intake import Options, SourceResult, dataset_input, source_options
from dsrepo.repo.layout import check_source_name
from dsrepo.repo.materialize import materialize
from dsrepo.repo.snapshot import Staged, stage_dataset
from dsrepo.repo.worktree import SourceState, cache_entries, save_state, scan_dir, settle, tracked_sources

if TYPE_CHECKING:
    from dsrepo.model.dataset import Dataset
    from dsrepo.repo.repo import Repo


def _default_name(path: Path) -> str:
    folder = path if path.is_dir() else path.parent
    if folder.name == "annotations":
        folder = folder.parent
    return folder.name


def _write_new(repo: "Repo", staged: Staged, root: Path, progress: Progress) -> tuple[Path, Any, Any, int]:
    """Materialize a staged source into a temp folder, mirroring ``root``; returns the
    folder with its cache data."""
    tmp = Path(tempfile.mkdtemp(prefix="wc-", dir=repo.layout.tmp))
    try:
        written = materialize(repo, staged.record_id, tmp, {}, (), None, (), progress, root)
        stats, _ = scan_dir(tmp)
        t = settle(stats)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp, written, stats, t


def add(repo: "Repo", source: "str | os.PathLike | Dataset", name: str | None = None, format: str | None = None,
        import_options: Options = None, export_options: Options = None,
        progress: Progress = NULL_PROGRESS) -> SourceResult:
    """Import ``source`` (a path, format detected unless given, or a Dataset with
    ``format``) as new source ``name`` (default: the dataset folder's name).

    RepoError if the name is taken or ``<project>/<name>`` exists; import errors
    propagate. Nothing changes in the project unless the whole add succeeds."""
    from dsrepo.model.dataset import Dataset

    if name is None:
        if isinstance(source, Dataset):
            raise RepoError("adding a Dataset object needs a source name")
        name = _default_name(Path(source).expanduser().absolute())
    check_source_name(name)
    repo.layout.tmp.mkdir(parents=True, exist_ok=True)
    with repo.lock():
        if name in tracked_sources(repo.layout):
            raise RepoError(f"source {name!r} already exists (use `dsrepo update {name} PATH` to replace its content)")
        dest = repo.layout.source_dir(name)
        if os.path.lexists(dest):
            raise RepoError(f"{dest} already exists; choose another source name (-n NAME) or move it away")
        given = import_options if not isinstance(source, Dataset) else None
        with dataset_input(repo, source, format, given, format if isinstance(source, Dataset) else None, given,
                           progress) as (ds, root, fmt):
            iopts = source_options(fmt, given, False)
            eopts = source_options(fmt, export_options, True)
            staged = stage_dataset(repo, name, ds, root, fmt, iopts, eopts, progress=progress)
            tmp, written, stats, t = _write_new(repo, staged, root, progress)
        try:
            os.rename(tmp, dest)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RepoError(f"cannot create {dest}: {e.strerror}") from None
        rid = staged.record_id
        save_state(repo.layout, SourceState(name, fmt, iopts, eopts, base=rid, record=rid,
                                            generated=written.generated, time=t,
                                            files=cache_entries(stats, written.md5)))
    rec = staged.record
    return SourceResult(name, fmt, rid, rec.count, rec.nfiles, rec.media_bytes, written.wrote)
