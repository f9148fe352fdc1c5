"""``add``: bring a dataset into the project as a new source.

The dataset is imported, its items and images are stored, and the dataset folder is
copied as it is into the working copy ``<project>/<name>/`` (images from the store),
so the working copy imports exactly like the original. A dataset folder that already
is ``<project>/<name>/`` (data kept inside the project, as ``dvc add`` expects it) is
tracked where it is: stored, never copied or rewritten.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from dsrepo.errors import RepoError
from dsrepo.forked import ForkedMap
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.filecache import annotation_names, keeps_files
from dsrepo.repo.intake import Options, SourceResult, dataset_input, other_files, source_options
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


def _in_place(source: "str | os.PathLike | Dataset", dest: Path) -> bool:
    """True if ``source`` is the folder ``dest`` (a real folder, not a symlink) or lies in it."""
    from dsrepo.model.dataset import Dataset

    if isinstance(source, Dataset) or os.path.islink(dest) or not dest.is_dir():
        return False
    real, folder = os.path.realpath(Path(source).expanduser()), os.path.realpath(dest)
    return real == folder or real.startswith(folder + os.sep)


_TEXT_EXTS = (".json", ".xml", ".txt", ".yaml", ".yml", ".csv")  # annotation files


def _early_work(repo: "Repo", dest: Path, stats: dict, format: str | None) -> tuple[ForkedMap, list[str]]:
    """The work on a folder tracked in place that needs no parsing, started in a forked
    child while the parent parses the dataset (the parent joins in once it has, see
    :func:`_early_done`), and the image files it stores. The work: the md5 of the
    annotation-looking files (copied for the file cache as they are read, when the
    folder's other files fit its budget), then each image file stored in the media store
    (``scan_dir`` listed them: regular files, or symlinks to files, inside the folder)."""
    from dsrepo.digest import file_md5
    from dsrepo.formats.common.media import is_image_name

    texts = sorted(r for r in stats if r.lower().endswith(_TEXT_EXTS))
    images = sorted(r for r in stats if is_image_name(r))
    cache = repo.file_cache()
    copy = cache.fits([s[0] for r, s in stats.items() if not is_image_name(r)]) and keeps_files(format)

    def job(rel: str | None) -> bytes:
        if rel is not None:  # an image: b"md5 new", or nothing if it cannot be read
            try:
                digest, _size, new = repo.media.store_file(dest / rel)
            except OSError:
                return b""
            return b"%s %d" % (digest.encode(), new)
        md5, copies = {}, {}
        for t in texts:
            try:
                if copy:
                    digest, new = cache.store(dest / t)
                    md5[t], copies[t] = digest, [digest, new]
                else:
                    md5[t] = file_md5(dest / t)
            except OSError:
                pass
        return orjson.dumps({"md5": md5, "copies": copies})

    return ForkedMap(job, [None, *images], repo.layout.tmp, min_tasks=1, child_share=1.0), images


def _early_done(work: ForkedMap, images: list[str]) -> dict:
    """The early work's results: ``{"md5": {rel: md5}, "media": {rel: [md5, new]},
    "copies": {rel: [md5, new]}}`` (copies: put into the file cache's folder); a file
    that could not be read is left out (the parent deals with it, with its error)."""
    results = iter(work)
    done = orjson.loads(next(results))
    media = done["media"] = {}
    for rel, data in zip(images, results):
        if data:
            digest, new = data.split()
            media[rel] = [digest.decode(), new == b"1"]
    return done


def _drop_copies(repo: "Repo", copies: dict) -> None:
    """Delete the files the early job put into the file cache folder (``{rel: [md5, new]}``)
    that were not there before."""
    cache = repo.file_cache()
    for md5, new in copies.values():
        if new:
            try:
                os.unlink(cache.path(md5))
            except OSError:
                pass


def _cache_files(repo: "Repo", record_id: str, fmt: str, eopts: Any, dest: Path, generated: tuple[str, ...],
                 md5: dict[str, str], done: dict) -> None:
    """Keep the annotation files of a folder just tracked in place in the file cache
    (the copies the early job made, checked against the md5 the files were tracked with)."""
    cache = repo.file_cache()
    copies = dict(done.get("copies", {}))
    try:
        names = annotation_names(fmt, dest, eopts) if copies else None
        if not names or not all(n in generated for n in names):
            return
        for rel in names:
            copy = copies.pop(rel, None)
            if copy is not None and copy[0] == md5[rel]:
                if not cache.claim(md5[rel]):
                    return
            elif not cache.copy_in(dest / rel, md5[rel]):
                return
        cache.remember(record_id, {rel: md5[rel] for rel in names})
        cache.save()
    finally:
        _drop_copies(repo, {rel: c for rel, c in copies.items() if not cache.has(c[0])})


def _drop_unused(repo: "Repo", early: dict, staged: Staged | None) -> None:
    """Delete the images the early job added to the media store that the dataset does
    not use (files of the folder that are no item's image; all of them when staging
    failed: ``staged`` None)."""
    used = set(staged.files.values()) if staged is not None else set()
    for md5, new in early.values():
        if new and md5 not in used:
            try:
                os.unlink(repo.media.path(md5))
            except OSError:
                pass


def _track(staged: Staged, dest: Path, before: dict, early: dict[str, str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """``(annotation files, md5 of every file)`` of a folder tracked in place: images
    take the md5 they were stored with; every other file is hashed here (``early``:
    those hashed already, while the folder was parsed). RepoError if any file changed
    while the folder was being read (``before``: its stats then)."""
    from dsrepo.digest import file_md5

    md5: dict[str, str] = {}
    generated = []
    for rel in sorted(before):
        if rel in staged.files:
            md5[rel] = staged.files[rel]
        else:
            md5[rel] = early.get(rel) or file_md5(dest / rel)
            generated.append(rel)
    after, _ = scan_dir(dest)
    if after != before:
        changed = min(r for r in {*before, *after} if before.get(r) != after.get(r))
        raise RepoError(f"{dest / changed}: changed while the folder was being added; nothing was added, retry")
    return tuple(generated), md5


def add(repo: "Repo", source: "str | os.PathLike | Dataset", name: str | None = None, format: str | None = None,
        import_options: Options = None, export_options: Options = None,
        progress: Progress = NULL_PROGRESS) -> SourceResult:
    """Import ``source`` (a path, format detected unless given, or a Dataset with
    ``format``) as new source ``name`` (default: the dataset folder's name).

    When ``source`` is the folder ``<project>/<name>`` itself it is tracked in place
    (stored, not copied); a folder in another layout there is refused. RepoError if
    the name is taken or ``<project>/<name>`` exists otherwise; import errors
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
        in_place = _in_place(source, dest)
        if os.path.lexists(dest) and not in_place:
            raise RepoError(f"{dest} already exists; choose another source name (-n NAME) or move it away")
        given = import_options if not isinstance(source, Dataset) else None
        early = None
        images: list[str] = []
        if in_place:  # stats first: anything that changes from here on shows as a change
            t = time.time_ns()
            before, _ = scan_dir(dest)
            early, images = _early_work(repo, dest, before, format)
        try:
            with dataset_input(repo, source, format, given, format if isinstance(source, Dataset) else None, given,
                               progress) as (ds, root, fmt):
                if in_place and os.path.realpath(root) != os.path.realpath(dest):
                    raise RepoError(f"{dest}: cannot be tracked in place as a {fmt} dataset with these options (it "
                                    "would have to be rewritten); add it from a folder outside the project")
                iopts = source_options(fmt, given, False)
                eopts = source_options(fmt, export_options, True)
                done = _early_done(early, images) if early is not None else {"md5": {}, "media": {}, "copies": {}}
                early = None
                staged = None
                known = {rel: m[0] for rel, m in done["media"].items()}
                try:
                    others = other_files(fmt, root, before if in_place else None, known)
                    staged = stage_dataset(repo, name, ds, root, fmt, iopts, eopts, progress=progress,
                                           known_md5=known, extras=others)
                finally:
                    _drop_unused(repo, done["media"], staged)
                    if staged is None:
                        _drop_copies(repo, done["copies"])
                if in_place:
                    try:
                        generated, md5 = _track(staged, dest, before, done["md5"])
                    except BaseException:
                        _drop_copies(repo, done["copies"])
                        raise
                    _cache_files(repo, staged.record_id, fmt, eopts, dest, generated, md5, done)
                    stats, wrote = before, 0
                else:
                    tmp, written, stats, t = _write_new(repo, staged, root, progress)
                    generated, md5, wrote = written.generated, written.md5, written.wrote
        except Exception:
            if early is not None:  # the import failed: the images the child stored go again
                done = _early_done(early, images)
                _drop_unused(repo, done["media"], None)
                _drop_copies(repo, done["copies"])
            raise
        finally:
            if early is not None:
                early.close()  # (kills the child when interrupted)
        if not in_place:
            try:
                os.rename(tmp, dest)
            except OSError as e:
                shutil.rmtree(tmp, ignore_errors=True)
                raise RepoError(f"cannot create {dest}: {e.strerror}") from None
        rid = staged.record_id
        save_state(repo.layout, SourceState(name, fmt, iopts, eopts, base=rid, record=rid,
                                            generated=generated, time=t, files=cache_entries(stats, md5),
                                            adopted=generated if in_place else ()))
    rec = staged.record
    return SourceResult(name, fmt, rid, rec.count, rec.nfiles, rec.media_bytes, wrote, in_place=in_place)
