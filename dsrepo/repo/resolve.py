"""``resolve``: settle conflicts of a merge in progress with our or their version."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

from dsrepo.errors import RepoError, UsageError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.access import item_entries, load_record, load_tree
from dsrepo.repo.mergestate import ITEM, PIPELINE, Conflict, load_merge, save_merge

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class ResolveResult:
    """Conflicts settled now, and how many remain."""

    resolved: tuple[Conflict, ...]
    remaining: int


def _selected(conflicts: Sequence[Conflict], names: Sequence[str]) -> list[Conflict]:
    chosen: list[Conflict] = []
    for n in names:
        hits = [c for c in conflicts if n in (c.name(), c.source) or (c.kind == ITEM and c.key == n)]
        if not hits:
            known = ", ".join(c.name() for c in conflicts[:5]) or "none"
            raise RepoError(f"no merge conflict named {n!r} (conflicts: {known}{' ...' if len(conflicts) > 5 else ''})")
        chosen += [c for c in hits if c not in chosen]
    return chosen


def _take_items(repo: "Repo", source: str, items: Sequence[Conflict], progress: Progress) -> None:
    """Replace the conflicting items of ``source``'s working copy by their version."""
    from dsrepo.repo.lists import write_item_list
    from dsrepo.repo.rewrite import rewrite_source
    from dsrepo.repo.working import examine

    w = examine(repo, source, True, progress=progress)
    if w.record is None:
        raise RepoError(f"working copy of source {source!r} is missing or does not import; fix it first")
    rec = load_record(repo, w.record)
    want = {(c.subset, c.item_id): c.theirs for c in items}
    entries = []
    for s, i, h in item_entries(repo, rec):
        k = (s, i)
        if k in want:
            h = want.pop(k)
        if h is not None:
            entries.append([s, i, h])
    entries += [[s, i, h] for (s, i), h in want.items() if h is not None]
    with repo.store.pack_session():
        items_id = write_item_list(repo.store, entries)
    new = replace(rec, items=items_id, count=len(entries))
    rewrite_source(repo, source, w, repo.store.put_loose("source", new.to_bytes()), progress=progress)


def _take_source(repo: "Repo", c: Conflict, progress: Progress) -> None:
    from dsrepo.repo.rewrite import delete_files, rewrite_source
    from dsrepo.repo.working import examine
    from dsrepo.repo.worktree import drop_state, tracked_sources

    w = examine(repo, c.source, True, progress=progress) if c.source in tracked_sources(repo.layout) else None
    if c.theirs is None:
        if w is not None and w.scan is not None:
            delete_files(repo, w)
        drop_state(repo.layout, c.source)
    else:
        rewrite_source(repo, c.source, w, c.theirs, progress=progress)


def resolve(repo: "Repo", names: Sequence[str], side: str, progress: Progress = NULL_PROGRESS) -> ResolveResult:
    """Settle the named conflicts (``source:subset/id``, ``subset/id``, ``source`` for all
    of a source, ``pipeline``; no names: all) with ``side`` "ours" (keep the working
    copy as it is now) or "theirs" (write the merged revision's version)."""
    from dsrepo.repo.pipeline import Pipeline, Stage, save_pipeline
    from dsrepo.repo.refs import load_commit

    if side not in ("ours", "theirs"):
        raise UsageError("choose --ours or --theirs")
    with repo.lock():
        st = load_merge(repo.layout)
        if st is None:
            raise RepoError("no merge in progress")
        chosen = _selected(st.conflicts, names) if names else list(st.conflicts)
        if side == "theirs":
            by_source: dict[str, list[Conflict]] = {}
            for c in chosen:
                if c.kind == ITEM:
                    by_source.setdefault(c.source, []).append(c)
                elif c.kind == PIPELINE:
                    tree = load_tree(repo, load_commit(repo.store, st.theirs).tree)
                    save_pipeline(repo.layout, Pipeline(tuple(Stage.from_dict(s) for s in tree.stages),
                                                        tree.merge_policy))
                else:
                    _take_source(repo, c, progress)
            for source, items in by_source.items():
                _take_items(repo, source, items, progress)
        left = tuple(c for c in st.conflicts if c not in chosen)
        save_merge(repo.layout, replace(st, conflicts=left))
    return ResolveResult(tuple(chosen), len(left))
