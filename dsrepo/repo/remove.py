"""``remove``: stop tracking a source (and delete its working copy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsrepo.errors import RepoError
from dsrepo.repo.memo import drop_memo
from dsrepo.repo.reexport import drop_rows
from dsrepo.repo.rewrite import delete_files
from dsrepo.repo.working import examine_for_change
from dsrepo.repo.worktree import drop_state

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


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
        deleted, left = 0, ()
        if not keep_data and not w.missing:
            deleted, left = delete_files(repo, w, everything=force)
        drop_state(repo.layout, name)
        drop_memo(repo.layout, name)
        drop_rows(repo.layout, name)
    return deleted, left
