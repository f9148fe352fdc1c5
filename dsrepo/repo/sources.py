"""``add``, ``update`` and ``remove``: which datasets the project tracks.

``add`` imports a dataset, stores its items and media, and writes the source's
working copy ``<project>/<name>/`` in the source format's own layout (annotation
files from the exporter, images byte-identical at the same relative paths).
``update`` replaces a source's content with a new version of the dataset, writing
only the files that differ. ``remove`` stops tracking a source.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from dsrepo.errors import RepoError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.layout import check_source_name
from dsrepo.repo.materialize import checked_rel, materialize, safe_target
from dsrepo.repo.snapshot import Staged, stage_dataset
from dsrepo.repo.rewrite import owned_files, rewrite_source
from dsrepo.repo.working import examine_for_change
from dsrepo.repo.worktree import (
    SourceState, cache_entries, drop_state, save_state, scan_dir, settle, tracked_sources,
)

if TYPE_CHECKING:
    from dsrepo.model.dataset import Dataset
    from dsrepo.repo.repo import Repo

Options = Sequence[str] | Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class SourceResult:
    """An added or updated source: name, format, record, item/file counts and bytes."""

    name: str
    format: str
    record: str
    items: int
    files: int
    media_bytes: int
    wrote: int = 0
    deleted: int = 0


def _parse(format: str, options: Options, export: bool) -> dict[str, Any]:
    """User-given options, validated, minus those equal to the default."""
    from dsrepo.formats.base import parse_options
    from dsrepo.formats.registry import get_format
    from dsrepo.repo.snapshot import plain_options

    spec = get_format(format)
    opts = spec.export_options if export else spec.import_options
    parsed = parse_options(opts, options, f"{format} {'export' if export else 'import'}")
    defaults = {o.dest: o.default for o in opts}
    return plain_options({k: v for k, v in parsed.items() if v != defaults.get(k)})


def _default_name(path: Path) -> str:
    folder = path if path.is_dir() else path.parent
    if folder.name == "annotations":
        folder = folder.parent
    return folder.name


@contextmanager
def _input(repo: "Repo", source: "str | os.PathLike | Dataset", in_format: str | None, import_options: Options,
           target_format: str | None, target_options: Options,
           progress: Progress) -> Iterator[tuple["Dataset", Path, str]]:
    """``(dataset, root of its files, format)`` of the input; the working copy will be a
    copy of ``root``. A dataset folder in ``target_format`` (or any format, when that is
    None) is used as it is. A Dataset object, a single file, or a folder in another
    format is first written in the target format (with media) to a temp folder, so the
    working copy gets that format's own layout, and read back with ``target_options``
    (the source's import options)."""
    from dsrepo.formats.api import export_dataset, import_dataset, resolve_format
    from dsrepo.model.dataset import Dataset

    tmp: Path | None = None
    try:
        if isinstance(source, Dataset):
            ds = source
            fmt = target_format or in_format
            if not fmt:
                raise RepoError("adding a Dataset object needs a format (format=...)")
        else:
            path = Path(source).expanduser().absolute()
            if path == repo.layout.dot or repo.layout.dot in path.parents:
                raise RepoError(f"{path}: is inside the repository's own store")
            fmt = resolve_format(path, in_format)
            # as it is: a folder in the source's format, read with the source's options
            as_is = path.is_dir() and (target_format is None or (target_format == fmt and not import_options))
            ds = import_dataset(path, fmt, target_options if as_is else import_options, progress)
            if as_is:
                yield ds, Path(ds.media_root) if ds.media_root else path, fmt
                return
            fmt = target_format or fmt
        repo.layout.tmp.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="convert-", dir=repo.layout.tmp))
        export_dataset(ds, tmp, fmt, {"save_media": True}, progress, overwrite=True)
        yield import_dataset(tmp, fmt, target_options, progress), tmp, fmt
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


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
        with _input(repo, source, format, given, format if isinstance(source, Dataset) else None, given,
                    progress) as (ds, root, fmt):
            iopts = _parse(fmt, given, False)
            eopts = _parse(fmt, export_options, True)
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


def update(repo: "Repo", name: str, source: "str | os.PathLike | Dataset", format: str | None = None,
           import_options: Options = None, export_options: Options = None, force: bool = False,
           progress: Progress = NULL_PROGRESS) -> SourceResult:
    """Replace source ``name``'s content with ``source`` (read as ``format``, default:
    detected). The working copy keeps the source's format; only differing files are
    rewritten. RepoError if the working copy has changes dsrepo has not written or
    committed, unless ``force``."""
    with repo.lock():
        w = examine_for_change(repo, name, force, progress)
        st = w.state
        if not force and not w.missing and w.record != st.base:
            raise RepoError(f"source {name!r} has changes that are not committed; commit them first, "
                            "or use --force to replace them")
        eopts = _parse(st.format, export_options, True) if export_options is not None else dict(st.export_options)
        with _input(repo, source, format, import_options, st.format, dict(st.import_options),
                    progress) as (ds, root, fmt):
            staged = stage_dataset(repo, name, ds, root, st.format, st.import_options, eopts, progress=progress)
            st, written = rewrite_source(repo, name, w, staged.record_id, eopts, progress, root)
    rec = staged.record
    return SourceResult(name, st.format, staged.record_id, rec.count, rec.nfiles, rec.media_bytes, written.wrote,
                        written.deleted)


def remove(repo: "Repo", name: str, keep_data: bool = False, force: bool = False) -> tuple[int, tuple[str, ...]]:
    """Stop tracking source ``name``; unless ``keep_data``, delete its working copy files.

    Returns ``(files deleted, files left in the folder)`` (files dsrepo did not write
    stay). RepoError if the working copy has uncommitted changes, unless ``force`` or
    ``keep_data``."""
    with repo.lock():
        w = examine_for_change(repo, name, force or keep_data)
        st = w.state
        if not keep_data and not force and not w.missing and w.record != st.base:
            raise RepoError(f"source {name!r} has changes that are not committed; commit them, "
                            "or use --keep-data to keep the folder, or --force to delete it anyway")
        deleted = 0
        left: tuple[str, ...] = ()
        if not keep_data and not w.missing:
            dest = repo.layout.source_dir(name)
            owned = owned_files(repo, w)
            if force:
                owned |= set(w.scan.md5)
            for rel in sorted(owned):
                p = safe_target(dest, checked_rel(rel, name))
                if p.is_file() or p.is_symlink():
                    p.unlink()
                    deleted += 1
            for dirpath, _dirs, _files in sorted(os.walk(dest, topdown=False), key=lambda x: -len(x[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
            left = tuple(sorted(scan_dir(dest)[0])) if dest.exists() else ()
        drop_state(repo.layout, name)
    return deleted, left
