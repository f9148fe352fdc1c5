"""``update``: replace a source's content with a new version of the dataset."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dsrepo.errors import RepoError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.intake import Options, SourceResult, dataset_input, other_files, source_options
from dsrepo.repo.rewrite import rewrite_source
from dsrepo.repo.snapshot import stage_dataset
from dsrepo.repo.working import examine_for_change

if TYPE_CHECKING:
    from dsrepo.model.dataset import Dataset
    from dsrepo.repo.repo import Repo


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
        eopts = dict(st.export_options)
        if export_options is not None:
            eopts = source_options(st.format, export_options, True)
        with dataset_input(repo, source, format, import_options, st.format, dict(st.import_options),
                           progress) as (ds, root, fmt):
            staged = stage_dataset(repo, name, ds, root, st.format, st.import_options, eopts, progress=progress,
                                   extras=other_files(st.format, root))
            st, written = rewrite_source(repo, name, w, staged.record_id, eopts, progress, root)
    rec = staged.record
    return SourceResult(name, st.format, staged.record_id, rec.count, rec.nfiles, rec.media_bytes, written.wrote,
                        written.deleted)
