"""Bringing a dataset into a source: the input folder, options, and the result type.

Shared by ``add`` and ``update``. The working copy of a source is a copy of one
folder (see :func:`dataset_input`): the dataset's own folder when it is already in the
source's format, else a temp folder the dataset was first written to in that format.
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
from dsrepo.progress import Progress

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
    in_place: bool = False  # add: the folder already was the working copy and was tracked as it is


def source_options(format: str, options: Options, export: bool) -> dict[str, Any]:
    """User-given options, validated, minus those equal to the default."""
    from dsrepo.formats.base import parse_options
    from dsrepo.formats.registry import get_format
    from dsrepo.repo.snapshot import plain_options

    spec = get_format(format)
    opts = spec.export_options if export else spec.import_options
    parsed = parse_options(opts, options, f"{format} {'export' if export else 'import'}")
    defaults = {o.dest: o.default for o in opts}
    return plain_options({k: v for k, v in parsed.items() if v != defaults.get(k)})


def other_files(format: str, root: Path, stats: Mapping[str, Any] | None = None,
                known: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """The files of dataset folder ``root`` that a source keeps byte for byte as its
    extra files (README, licences, images no item uses, ...): every file but the
    annotation files its format reads (``FormatSpec.annotation_files``) - the record's
    images are taken out when it is stored. ``{relpath: md5 if in known, else None}``;
    empty for a format that cannot name its annotation files (a working copy of it holds
    what its exporter writes and the images). ``stats``: a :func:`scan_dir` of ``root``
    made already."""
    from dsrepo.formats.registry import get_format
    from dsrepo.repo.worktree import scan_dir

    find = get_format(format).annotation_files
    names = find(root) if find is not None else None
    if not names:
        return {}
    if stats is None:
        stats, _skipped = scan_dir(root)
    known = known or {}
    skip = set(names)
    return {rel: known.get(rel) for rel in stats if rel not in skip}


def _check_source_format(format: str) -> None:
    from dsrepo.formats.registry import get_format

    if not get_format(format).repo_source:
        raise RepoError(f"format {format!r} cannot be a source's format (its images live inside the annotation "
                        "file and could not be rebuilt); add the dataset in another format, e.g. -f image_dir")


@contextmanager
def dataset_input(repo: "Repo", source: "str | os.PathLike | Dataset", in_format: str | None, import_options: Options,
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
    if target_format:
        _check_source_format(target_format)
    try:
        if isinstance(source, Dataset):
            ds = source
            fmt = target_format or in_format
            if fmt:
                _check_source_format(fmt)
            if not fmt:
                raise RepoError("adding a Dataset object needs a format (format=...)")
        else:
            path = Path(source).expanduser().absolute()
            if path == repo.layout.dot or repo.layout.dot in path.parents:
                raise RepoError(f"{path}: is inside the repository's own store")
            fmt = resolve_format(path, in_format)
            if target_format is None:
                _check_source_format(fmt)
            # as it is: a folder in the source's format, read with the source's options
            as_is = path.is_dir() and (target_format is None or (target_format == fmt and not import_options))
            ds = import_dataset(path, fmt, target_options if as_is else import_options, progress)
            if as_is:
                root = Path(ds.media_root).absolute() if ds.media_root else path
                if root == repo.root or root in repo.root.parents:
                    raise RepoError(f"{root}: holds this project; add the dataset's own folder")
                yield ds, root, fmt
                return
            fmt = target_format or fmt
        repo.layout.tmp.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="convert-", dir=repo.layout.tmp))
        export_dataset(ds, tmp, fmt, {"save_media": True}, progress, overwrite=True)
        yield import_dataset(tmp, fmt, target_options, progress), tmp, fmt
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
