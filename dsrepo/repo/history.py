"""``log`` and ``info``: reading the history."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dsrepo.repo.access import item_entries, load_categories, load_record, load_tree
from dsrepo.repo.records import Commit
from dsrepo.repo.refs import HEADS, TAGS, list_refs, load_commit, read_head

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One commit with the refs that point at it (``HEAD``, ``main``, ``tag: v1`` ...)."""

    id: str
    commit: Commit
    refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A source at one revision."""

    name: str
    record: str
    format: str
    items: int
    files: int
    media_bytes: int
    labels: int
    subsets: dict[str, int]
    import_options: dict[str, Any] = field(default_factory=dict)
    export_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    """A revision: commit, the refs at it, and its sources."""

    entry: LogEntry
    tree: str
    sources: tuple[SourceInfo, ...]
    merge_policy: str = "exact"
    steps: tuple[Any, ...] = ()
    build_error: str | None = None


def _ref_names(repo: "Repo") -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    branch, head = read_head(repo.layout)
    if head:
        names.setdefault(head, []).append(f"HEAD -> {branch}" if branch else "HEAD")
    for n, c in list_refs(repo.layout, HEADS).items():
        if n != branch:
            names.setdefault(c, []).append(n)
    for n, c in list_refs(repo.layout, TAGS).items():
        names.setdefault(c, []).append(f"tag: {n}")
    return names


def log(repo: "Repo", rev: str = "HEAD", limit: int | None = None) -> list[LogEntry]:
    """Commits reachable from ``rev``, newest first (empty on an unborn branch)."""
    if rev in ("HEAD", "@") and read_head(repo.layout)[1] is None:
        return []
    start = repo.resolve(rev)
    refs = _ref_names(repo)
    out: list[LogEntry] = []
    seen = {start}
    first = load_commit(repo.store, start)
    heap: list[tuple[int, int, str, Commit]] = [(-first.time, 0, start, first)]
    n = 1
    while heap and (limit is None or len(out) < limit):
        _t, _n, cid, c = heapq.heappop(heap)
        out.append(LogEntry(cid, c, tuple(refs.get(cid, ()))))
        for p in c.parents:
            if p not in seen:
                seen.add(p)
                pc = load_commit(repo.store, p)
                heapq.heappush(heap, (-pc.time, n, p, pc))
                n += 1
    return out


def info(repo: "Repo", rev: str = "HEAD", pipeline: bool = True) -> RevisionInfo:
    """Commit details and per-source contents of revision ``rev``; with ``pipeline``
    the project is built (cached) to count items and annotations after every step
    (a build that fails is reported in ``build_error``)."""
    from dsrepo.errors import DsrepoError
    from dsrepo.repo.build import build

    cid = repo.resolve(rev)
    c = load_commit(repo.store, cid)
    tree = load_tree(repo, c.tree)
    sources = []
    for name, rid in tree.sources:
        rec = load_record(repo, rid)
        subsets: dict[str, int] = {}
        for s, _i, _h in item_entries(repo, rec):
            subsets[s] = subsets.get(s, 0) + 1
        sources.append(SourceInfo(name, rid, rec.format, rec.count, rec.nfiles, rec.media_bytes,
                                  len(load_categories(repo, rec).labels), subsets,
                                  dict(rec.import_options), dict(rec.export_options)))
    steps: tuple[Any, ...] = ()
    error = None
    if pipeline and tree.sources:
        try:
            steps = build(repo, cid).steps
        except DsrepoError as e:
            error = str(e)
    return RevisionInfo(LogEntry(cid, c, tuple(_ref_names(repo).get(cid, ()))), c.tree, tuple(sources),
                        tree.merge_policy, steps, error)
