"""The :class:`Repo` class: the Python API of a dsrepo project.

Each method is a thin call into the module that implements the operation
(``dsrepo.repo.<operation>``); see those modules for the contracts.

    repo = Repo.create("proj")
    repo.add("~/data/coco", name="coco", format="coco")
    repo.commit("initial import")
    ds = repo.dataset("HEAD", "coco")
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.config import load_config
from dsrepo.repo.layout import Layout, find_project
from dsrepo.repo.lock import repo_lock
from dsrepo.repo.objects import ObjectStore

if TYPE_CHECKING:
    from dsrepo.model.dataset import Dataset
    from dsrepo.repo.filecache import FileCache
    from dsrepo.repo.mediastore import MediaStore

Options = Sequence[str] | Mapping[str, Any] | None


class Repo:
    """An opened project: layout, object store, media store and configuration."""

    def __init__(self, root: Path) -> None:
        self.layout = Layout(Path(root).absolute())
        self.config = load_config(self.layout)
        self.store = ObjectStore(self.layout.objects, self.layout.packs, self.layout.tmp)
        self._media: "MediaStore | None" = None

    @property
    def root(self) -> Path:
        return self.layout.root

    @property
    def media(self) -> "MediaStore":
        """The md5-addressed media store (created on first use)."""
        if self._media is None:
            from dsrepo.repo.mediastore import MediaStore

            self._media = MediaStore(self.layout.media, self.layout.tmp, self.config.link)
        return self._media

    def file_cache(self) -> "FileCache":
        """The annotation file cache, its index read afresh (hold it for one operation)."""
        from dsrepo.repo.filecache import FileCache

        return FileCache(self.layout, self.config.file_cache_mb)

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike = ".", link: str = "auto") -> "Repo":
        """Create a project in ``path`` (RepoError if one exists there)."""
        from dsrepo.repo.create import create

        return cls(create(Path(path), link))

    @classmethod
    def open(cls, path: str | os.PathLike | None = None) -> "Repo":
        """Open the project at or above ``path`` (default: the current folder)."""
        return cls(find_project(path))

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the repository lock (LockError if another process keeps it)."""
        with repo_lock(self.layout.lock):
            yield

    def resolve(self, rev: str) -> str:
        """Commit id of revision expression ``rev``."""
        from dsrepo.repo.refs import resolve

        return resolve(self.layout, self.store, rev)

    # -- sources -------------------------------------------------------------------------

    def add(self, source: "str | os.PathLike | Dataset", name: str | None = None, format: str | None = None,
            import_options: Options = None, export_options: Options = None,
            progress: Progress = NULL_PROGRESS):
        """Copy a dataset in as a new source (see :mod:`dsrepo.repo.add`)."""
        from dsrepo.repo.add import add

        return add(self, source, name, format, import_options, export_options, progress)

    def update(self, name: str, source: "str | os.PathLike | Dataset", format: str | None = None,
               import_options: Options = None, export_options: Options = None, force: bool = False,
               progress: Progress = NULL_PROGRESS):
        """Replace source ``name`` with a new version (see :mod:`dsrepo.repo.update`)."""
        from dsrepo.repo.update import update

        return update(self, name, source, format, import_options, export_options, force, progress)

    def remove(self, name: str, keep_data: bool = False, force: bool = False):
        """Stop tracking source ``name`` (see :mod:`dsrepo.repo.remove`)."""
        from dsrepo.repo.remove import remove

        return remove(self, name, keep_data, force)

    # -- revisions -----------------------------------------------------------------------

    def status(self, rescan: bool = False, progress: Progress = NULL_PROGRESS):
        """Item-level changes of every source since HEAD (see :mod:`dsrepo.repo.status`)."""
        from dsrepo.repo.status import status

        return status(self, rescan, progress)

    def commit(self, message: str, allow_empty: bool = False, author: str | None = None,
               progress: Progress = NULL_PROGRESS):
        """Record the working copies as a new revision (see :mod:`dsrepo.repo.commit`)."""
        from dsrepo.repo.commit import commit

        return commit(self, message, allow_empty, author, progress)

    def log(self, rev: str = "HEAD", limit: int | None = None):
        """Commits reachable from ``rev``, newest first (see :mod:`dsrepo.repo.history`)."""
        from dsrepo.repo.history import log

        return log(self, rev, limit)

    def info(self, rev: str = "HEAD", pipeline: bool = True):
        """Details of one revision (see :mod:`dsrepo.repo.history`)."""
        from dsrepo.repo.history import info

        return info(self, rev, pipeline)

    def checkout(self, rev: str | None = None, sources: Sequence[str] = (), force: bool = False,
                 pinned: bool = False, progress: Progress = NULL_PROGRESS):
        """Make the working copies match ``rev`` (see :mod:`dsrepo.repo.checkout`)."""
        from dsrepo.repo.checkout import checkout

        return checkout(self, rev, sources, force, pinned, progress)

    def branch(self, name: str | None = None, rev: str = "HEAD", delete: bool = False):
        """Create (or delete, or list when ``name`` is None) branches (see :mod:`dsrepo.repo.branches`)."""
        from dsrepo.repo.branches import branch

        return branch(self, name, rev, delete)

    def tag(self, name: str | None = None, rev: str = "HEAD", delete: bool = False):
        """Create (or delete, or list when ``name`` is None) tags (see :mod:`dsrepo.repo.branches`)."""
        from dsrepo.repo.branches import tag

        return tag(self, name, rev, delete)

    def pin(self, rev: str = "HEAD"):
        """Write the pin file naming ``rev`` (see :mod:`dsrepo.repo.pin`)."""
        from dsrepo.repo.pin import write_pin

        return write_pin(self, rev)

    # -- maintenance ---------------------------------------------------------------------

    def fsck(self, progress: Progress = NULL_PROGRESS):
        """Verify every stored object (see :mod:`dsrepo.repo.fsck`)."""
        from dsrepo.repo.fsck import fsck

        return fsck(self, progress)

    def gc(self, progress: Progress = NULL_PROGRESS):
        """Delete unreachable objects and repack (see :mod:`dsrepo.repo.gc`)."""
        from dsrepo.repo.gc import gc

        return gc(self, progress)

    def merge(self, rev: str, message: str | None = None, commit: bool = True, iou: float = 0.5,
              progress: Progress = NULL_PROGRESS):
        """Three-way merge of ``rev`` into the working tree (see :mod:`dsrepo.repo.merge`)."""
        from dsrepo.repo.merge import merge

        return merge(self, rev, message, commit, iou, progress)

    def resolve_conflicts(self, names: Sequence[str], side: str, progress: Progress = NULL_PROGRESS):
        """Settle merge conflicts with "ours" or "theirs" (see :mod:`dsrepo.repo.resolve`)."""
        from dsrepo.repo.resolve import resolve

        return resolve(self, names, side, progress)

    def abort_merge(self, progress: Progress = NULL_PROGRESS) -> str:
        """End a merge in progress, back to HEAD (see :mod:`dsrepo.repo.abort`)."""
        from dsrepo.repo.abort import abort_merge

        return abort_merge(self, progress)

    def diff(self, rev_a: str | None = "HEAD", rev_b: str | None = None, format_a: str | None = None,
             format_b: str | None = None, iou: float = 0.5, annotations: bool = True,
             progress: Progress = NULL_PROGRESS):
        """Item-level differences between revisions, the working tree (None) or dataset
        paths (see :mod:`dsrepo.repo.diff`)."""
        from dsrepo.repo.diff import diff

        return diff(self, rev_a, rev_b, format_a, format_b, iou, annotations, progress)

    def compare(self, a: str, b: str, format_a: str | None = None, format_b: str | None = None,
                mode: str = "exact", iou: float = 0.5, ignored_attrs: Sequence[str] = (),
                ignored_item_attrs: Sequence[str] = (), ignore_meta: bool = True,
                out: str | os.PathLike | None = None, progress: Progress = NULL_PROGRESS):
        """Compare two datasets exactly or by distance (see :mod:`dsrepo.repo.compare`)."""
        from dsrepo.repo.compare import compare

        return compare(self, a, b, format_a, format_b, mode, iou, ignored_attrs, ignored_item_attrs, ignore_meta,
                       out, progress)

    # -- pipeline and export -------------------------------------------------------------

    def dataset(self, rev: str | None = "HEAD", target: str = "project") -> "Dataset":
        """The built dataset of ``target`` (a source name or "project", stages applied)
        at ``rev`` (None: the working tree); media read from the store."""
        return self.build(rev, target).dataset

    def build(self, rev: str | None = "HEAD", target: str = "project", progress: Progress = NULL_PROGRESS):
        """Build ``target`` of ``rev`` with its stages, cached (see :mod:`dsrepo.repo.build`)."""
        from dsrepo.repo.build import build

        return build(self, rev, target, progress=progress)

    def transform(self, name: str, target: str = "project", params: Options = None, dry_run: bool = False,
                  progress: Progress = NULL_PROGRESS):
        """Append transform ``name`` to the working pipeline (see :mod:`dsrepo.repo.addstage`)."""
        from dsrepo.repo.addstage import add_stage

        return add_stage(self, target, "transform", name, params, dry_run, progress)

    def filter(self, expr: str, target: str = "project", mode: str = "items", remove_empty: bool = False,
               dry_run: bool = False, progress: Progress = NULL_PROGRESS):
        """Append a filter stage to the working pipeline (see :mod:`dsrepo.repo.addstage`)."""
        from dsrepo.repo.addstage import add_stage

        params = {"expr": expr, "mode": mode, "remove_empty": remove_empty}
        return add_stage(self, target, "filter", "filter", params, dry_run, progress)

    def stages(self):
        """The working pipeline: stages and merge policy (see :mod:`dsrepo.repo.pipeline`)."""
        from dsrepo.repo.pipeline import load_pipeline

        return load_pipeline(self.layout)

    def remove_stage(self, stage_id: str):
        """Drop a stage from the working pipeline (see :mod:`dsrepo.repo.dropstage`)."""
        from dsrepo.repo.dropstage import remove_stage

        return remove_stage(self, stage_id)

    def set_merge_policy(self, policy: str) -> str:
        """Set how sources combine into the project (see :mod:`dsrepo.repo.policy`)."""
        from dsrepo.repo.policy import set_merge_policy

        return set_merge_policy(self, policy)

    def export(self, out: str | os.PathLike, format: str, rev: str | None = None, target: str = "project",
               options: Options = None, overwrite: bool = False, filter_expr: str | None = None,
               filter_mode: str = "items", progress: Progress = NULL_PROGRESS, merge_policy: str | None = None):
        """Build and export a revision (see :mod:`dsrepo.repo.export`)."""
        from dsrepo.repo.export import export

        return export(self, rev, format, out, target, options, overwrite, filter_expr, filter_mode, progress,
                      merge_policy)

    def patch_export(self, out: str | os.PathLike, format: str, rev: str | None = None, target: str = "project",
                     options: Options = None, incremental: bool = True, force: bool = False,
                     overwrite: bool = False, filter_expr: str | None = None, filter_mode: str = "items",
                     progress: Progress = NULL_PROGRESS, merge_policy: str | None = None):
        """Export with a manifest, incrementally over an earlier export (see :mod:`dsrepo.repo.patch`)."""
        from dsrepo.repo.patch import patch_export

        return patch_export(self, rev, format, out, target, options, incremental, force, overwrite, filter_expr,
                            filter_mode, progress, merge_policy)
