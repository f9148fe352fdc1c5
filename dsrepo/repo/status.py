"""``status``: what changed in each source's working copy since HEAD, in items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.access import load_tree
from dsrepo.repo.pipeline import Pipeline, Stage, load_pipeline
from dsrepo.repo.diffs import SourceChange, all_added, all_removed, diff_records
from dsrepo.repo.lock import try_lock
from dsrepo.repo.mergestate import MergeState, load_merge
from dsrepo.repo.refs import load_commit, read_head
from dsrepo.repo.working import Working, examine, needs_writing
from dsrepo.repo.worktree import tracked_sources

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo

CLEAN, MODIFIED, ADDED, REMOVED, MISSING = "clean", "modified", "added", "removed", "missing"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source: ``state`` is clean/modified/added/removed/missing; ``record`` the
    working copy's record id, ``base`` HEAD's (None when absent)."""

    name: str
    state: str
    change: SourceChange
    record: str | None = None
    base: str | None = None
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PipelineChange:
    """Stages added to / removed from the working pipeline since HEAD, and a changed
    merge policy as ``(old, new)``."""

    added: tuple[Stage, ...] = ()
    removed: tuple[Stage, ...] = ()
    policy: tuple[str, str] | None = None

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.policy)


@dataclass(frozen=True, slots=True)
class Status:
    """The project's status against HEAD, with the working ``pipeline`` and its change."""

    branch: str | None
    head: str | None
    sources: tuple[SourceStatus, ...]
    pipeline: Pipeline = Pipeline()
    pipeline_change: PipelineChange = PipelineChange()
    merge: MergeState | None = None

    @property
    def clean(self) -> bool:
        return all(s.state == CLEAN for s in self.sources) and self.pipeline_change.empty and self.merge is None

    def get(self, name: str) -> SourceStatus | None:
        return next((s for s in self.sources if s.name == name), None)


def examine_all(repo: "Repo", names: list[str], rescan: bool = False, locked: bool = False,
                progress: Progress = NULL_PROGRESS) -> dict[str, Working]:
    """Working state of ``names``. Reads without the lock first; when content must be
    imported (or the cache refreshed) it takes the lock, unless ``locked`` says the
    caller already holds it."""
    if locked:
        return {n: examine(repo, n, True, rescan, progress) for n in names}
    found = {n: examine(repo, n, False, rescan, progress) for n in names}
    pending = [w for w in found.values() if needs_writing(w)]
    if not pending:
        return found
    def again() -> dict[str, Working]:
        return {n: examine(repo, n, True, rescan, progress, found[n].scan) for n in names}

    if any(w.needs_import for w in pending):
        with repo.lock():
            return again()
    with try_lock(repo.layout.lock) as got:
        if got:
            return again()
    return found


def _pipeline_change(old: Pipeline, new: Pipeline) -> PipelineChange:
    old_ids = {s.id for s in old.stages}
    new_ids = {s.id for s in new.stages}
    policy = (old.merge_policy, new.merge_policy) if old.merge_policy != new.merge_policy else None
    return PipelineChange(tuple(s for s in new.stages if s.id not in old_ids),
                          tuple(s for s in old.stages if s.id not in new_ids), policy)


def compare(repo: "Repo", working: dict[str, Working]) -> Status:
    """Status of ``working`` (see :func:`examine_all`) and of the pipeline against HEAD."""
    branch, head = read_head(repo.layout)
    base: dict[str, str] = {}
    head_pipeline = Pipeline()
    if head is not None:
        tree = load_tree(repo, load_commit(repo.store, head).tree)
        base = tree.source_map()
        head_pipeline = Pipeline(tuple(Stage.from_dict(s) for s in tree.stages), tree.merge_policy)
    pipeline = load_pipeline(repo.layout)
    out = []
    for name in sorted(set(working) | set(base)):
        w = working.get(name)
        b = base.get(name)
        skipped = w.scan.skipped if w is not None and w.scan is not None else ()
        if w is None:
            out.append(SourceStatus(name, REMOVED, all_removed(repo, b), None, b))
        elif w.missing:
            change = all_removed(repo, b) if b else SourceChange()
            out.append(SourceStatus(name, MISSING, change, None, b))
        elif w.record is None:
            out.append(SourceStatus(name, MODIFIED if b else ADDED, SourceChange(unreadable=True), None, b, skipped))
        elif b is None:
            out.append(SourceStatus(name, ADDED, all_added(repo, w.record), w.record, None, skipped))
        else:
            change = diff_records(repo, b, w.record)
            out.append(SourceStatus(name, CLEAN if change.empty else MODIFIED, change, w.record, b, skipped))
    return Status(branch, head, tuple(out), pipeline, _pipeline_change(head_pipeline, pipeline),
                  load_merge(repo.layout))


def status(repo: "Repo", rescan: bool = False, progress: Progress = NULL_PROGRESS) -> Status:
    """Compare every source's working copy with HEAD, item by item.

    Unchanged files are not read (stat cache); ``rescan`` re-hashes every file and
    imports every working copy again.
    Changed content is imported and stored so a following commit does not read it again."""
    names = tracked_sources(repo.layout)
    return compare(repo, examine_all(repo, names, rescan, progress=progress))
