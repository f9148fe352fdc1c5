"""``abort_merge``: end a merge in progress and restore HEAD's working tree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsrepo.errors import RepoError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.mergestate import load_merge

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


def abort_merge(repo: "Repo", progress: Progress = NULL_PROGRESS) -> str:
    """Drop the merge state and check out HEAD again (discarding the merge result and
    anything changed since). Returns HEAD's commit id; RepoError if no merge is going on."""
    from dsrepo.repo.checkout import checkout
    from dsrepo.repo.refs import read_head

    if load_merge(repo.layout) is None:
        raise RepoError("no merge in progress")
    branch, head = read_head(repo.layout)
    if head is None:
        raise RepoError("no commits yet")
    checkout(repo, branch or head, force=True, progress=progress)
    return head
