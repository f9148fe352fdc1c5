"""``commit``: record every tracked source's working copy as a new revision.

Order of writes (crash safety): item objects, lists and metadata are stored
first (packs are renamed into place complete), then the tree and commit objects,
then the branch ref (atomic rename), then the working-tree state and the pin file.
A crash before the ref update leaves only unreachable objects (``gc`` drops them);
committed revisions are never modified.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dsrepo.errors import RepoError, UsageError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.gitinfo import default_author, git_state
from dsrepo.repo.mergestate import clear_merge, load_merge
from dsrepo.repo.pin import write_current
from dsrepo.repo.records import Commit, Tree
from dsrepo.repo.refs import advance_head, read_head
from dsrepo.repo.status import CLEAN, MISSING, compare, examine_all
from dsrepo.repo.worktree import save_state, tracked_sources

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


STAGES_KEY = "(stages)"  # summary entry of pipeline changes; not a valid source name


@dataclass(frozen=True, slots=True)
class CommitResult:
    """A new commit: id, branch (None if detached), parent, and the per-source summary."""

    id: str
    branch: str | None
    parent: str | None
    summary: dict[str, dict[str, Any]]
    git: dict[str, Any] | None


def summary_line(summary: dict[str, dict[str, Any]]) -> str:
    """One line such as ``coco: 12 modified, 3 added; voc: removed``."""
    parts = []
    for name, s in sorted(summary.items()):
        if s.get("state") == "pipeline":
            change = ", ".join(f"{s[k]} {k}" for k in ("added", "removed") if s.get(k))
            parts.append("stages: " + (change or f"merge policy {s.get('policy')}"))
            continue
        counts = ", ".join(f"{s[k]} {k}" for k in ("added", "removed", "modified") if s.get(k))
        if s.get("state") in ("added", "removed"):
            parts.append(f"{name}: source {s['state']}" + (f" ({counts})" if counts else ""))
        else:
            parts.append(f"{name}: {counts or 'files or metadata changed'}")
    return "; ".join(parts) or "no changes"


def commit(repo: "Repo", message: str, allow_empty: bool = False, author: str | None = None,
           progress: Progress = NULL_PROGRESS) -> CommitResult:
    """Store the working copies and add a commit on the current branch (or detached HEAD).

    RepoError when a source folder is missing, when merge conflicts are unresolved, or
    when nothing changed (unless ``allow_empty``; a merge in progress always commits,
    with the merged revision as second parent). Changed content is imported and stored; unchanged sources keep
    their record."""
    if not message or not message.strip():
        raise UsageError("empty commit message (use -m MESSAGE)")
    with repo.lock():
        names = tracked_sources(repo.layout)
        working = examine_all(repo, names, locked=True, progress=progress)
        st = compare(repo, working)
        missing = [s.name for s in st.sources if s.state == MISSING]
        if missing:
            raise RepoError(f"source folder missing: {', '.join(missing)} (restore it with "
                            f"`dsrepo checkout --force -- NAME` or stop tracking it with `dsrepo remove NAME`)")
        merging = load_merge(repo.layout)
        if merging is not None and merging.conflicts:
            raise RepoError(f"{len(merging.conflicts)} unresolved merge conflicts (first: "
                            f"{merging.conflicts[0].name()}); settle them with `dsrepo resolve`")
        if st.clean and not allow_empty and merging is None:
            if st.head is None:
                raise RepoError("nothing to commit: no sources yet (use `dsrepo add`)")
            raise RepoError("nothing to commit: the working copies match HEAD")
        branch, head = read_head(repo.layout)
        tree = Tree(tuple((n, working[n].record) for n in names), tuple(s.to_dict() for s in st.pipeline.stages),
                    st.pipeline.merge_policy)
        tree_id = repo.store.put_loose("tree", tree.to_bytes())
        summary = {s.name: {"state": s.state, **s.change.counts()} for s in st.sources if s.state != CLEAN}
        pc = st.pipeline_change
        if not pc.empty:
            summary[STAGES_KEY] = {"state": "pipeline", "added": len(pc.added), "removed": len(pc.removed),
                                   "policy": pc.policy[1] if pc.policy else None}
        git, problem = git_state(repo.root, repo.layout.pin)
        if problem:
            progress.warn(problem)
        now = time.time()
        parents = (head,) if head else ()
        if merging is not None:
            parents += (merging.theirs,)
        c = Commit(tree=tree_id, parents=parents, message=message.strip(),
                   author=author or default_author(repo.root), time=int(now),
                   tz=time.localtime(now).tm_gmtoff // 60, git=git, summary=summary)
        cid = repo.store.put_loose("commit", c.to_bytes())
        advance_head(repo.layout, cid)
        for n in names:
            w = working[n]
            if w.state.base != w.record or w.state.record != w.record:
                save_state(repo.layout, w.state.with_(base=w.record))
        if merging is not None:
            clear_merge(repo.layout)
        write_current(repo)
    return CommitResult(cid, branch, head, summary, git)
