"""``checkout``: make the working copies match a revision (or one source of it).

A full checkout rewrites every source of the target revision (touching only files
that differ), deletes the working copies of sources the target does not have, moves
HEAD (to the branch when a branch is named, else detached) and rewrites the pin
file. It refuses over local changes unless ``force``. Sources added but never
committed are carried over untouched, as git does with staged new files.

``checkout REV -- SOURCE...`` rewrites only those sources; HEAD does not move, so
``status`` then shows them as modified against HEAD.

Crash safety: working copies are written before HEAD moves; each source's state is
saved as soon as it is written. An interrupted checkout leaves the store and refs
intact; running it again (with ``--force``) finishes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from dsrepo.errors import CorruptObjectError, RepoError, UsageError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.access import commit_sources, load_tree
from dsrepo.repo.pipeline import Pipeline, Stage, save_pipeline
from dsrepo.repo.mergestate import clear_merge, load_merge
from dsrepo.repo.pin import read_pin, write_current
from dsrepo.repo.refs import HEADS, load_commit, read_head, read_ref, set_head
from dsrepo.repo.rewrite import delete_files, rewrite_source
from dsrepo.repo.status import ADDED, CLEAN, compare
from dsrepo.repo.working import Working, examine_for_change
from dsrepo.repo.worktree import drop_state, tracked_sources

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    """What a checkout did: target commit, branch (None: detached or partial),
    per-source ``(files written, files deleted)``, and removed sources."""

    commit: str
    branch: str | None
    partial: bool
    written: dict[str, tuple[int, int]]
    removed: tuple[str, ...]


def _target(repo: "Repo", rev: str | None, pinned: bool) -> tuple[str, str | None, str]:
    if pinned:
        if rev:
            raise UsageError("give a revision or --pinned, not both")
        pin = read_pin(repo)
        try:
            repo.store.read_loose(pin.revision, "commit")
        except CorruptObjectError:
            raise RepoError(f"pinned revision {pin.revision[:12]} is not in this repository "
                            f"({repo.layout.pin})") from None
        on_branch = pin.branch if pin.branch and read_ref(repo.layout, HEADS, pin.branch) == pin.revision else None
        return pin.revision, on_branch, pin.revision[:12]
    if not rev:
        raise UsageError("which revision? (give REV, or --pinned)")
    commit = repo.resolve(rev)
    return commit, rev if read_ref(repo.layout, HEADS, rev) == commit else None, rev


def _delete_source(repo: "Repo", w: Working) -> None:
    if w.scan is not None:
        delete_files(repo, w)
    drop_state(repo.layout, w.name)


def checkout(repo: "Repo", rev: str | None, sources: Sequence[str] = (), force: bool = False,
             pinned: bool = False, progress: Progress = NULL_PROGRESS) -> CheckoutResult:
    """Check out revision ``rev`` (or the pinned one); ``sources`` limits it to those.

    RepoError for an unknown revision, a source the revision lacks, or local changes
    (without ``force``); nothing is changed then."""
    commit, branch, label = _target(repo, rev, pinned)
    with repo.lock():
        if not sources and load_merge(repo.layout) is not None:
            if not force:
                raise RepoError("a merge is in progress: finish it (resolve, commit) or `dsrepo merge --abort`")
            clear_merge(repo.layout)
        target = commit_sources(repo, commit)
        tracked = tracked_sources(repo.layout)
        partial = bool(sources)
        if partial:
            unknown = [s for s in sources if s not in target]
            if unknown:
                raise RepoError(f"revision {label!r} has no source {unknown[0]!r} "
                                f"(sources: {', '.join(target) or 'none'})")
            names = list(dict.fromkeys(sources))
        else:
            names = sorted(set(tracked) | set(target))
        working = {n: examine_for_change(repo, n, force, progress) for n in names if n in tracked}
        if partial:
            dirty = [n for n, w in working.items() if not w.missing and w.record != w.state.base]
        else:
            st = compare(repo, working)
            dirty = [s.name for s in st.sources
                     if s.state != CLEAN and not (s.state == ADDED and s.name not in target)]
            if not st.pipeline_change.empty and not force:
                raise RepoError("local changes in the pipeline (stages or merge policy): commit them, "
                                "or use --force to discard them")
        if dirty and not force:
            raise RepoError(f"local changes in source {', '.join(dirty)}: commit them, "
                            "or use --force to discard them")
        for n in names:
            if n not in target:
                continue
            dest = repo.layout.source_dir(n)
            if n not in working and dest.exists() and not force:
                raise RepoError(f"{dest} exists and is not a tracked source; move it away or use --force")
        _, head = read_head(repo.layout)
        head_sources = commit_sources(repo, head)
        written = {}
        for n in names:
            if n in target:
                _st, w = rewrite_source(repo, n, working.get(n), target[n], progress=progress)
                written[n] = (w.wrote, w.deleted)
        removed = []
        if not partial:
            for n, w in working.items():
                if n not in target and n in head_sources:
                    _delete_source(repo, w)
                    removed.append(n)
            tree = load_tree(repo, load_commit(repo.store, commit).tree)
            save_pipeline(repo.layout, Pipeline(tuple(Stage.from_dict(s) for s in tree.stages), tree.merge_policy))
            set_head(repo.layout, branch, None if branch else commit)
            if not pinned:  # a pinned checkout leaves the pin file exactly as git restored it
                write_current(repo)
    return CheckoutResult(commit, branch if not partial else None, partial, written, tuple(removed))
