"""Walking the object graph from refs and working-tree state (for fsck and gc)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dsrepo.errors import RepoError
from dsrepo.repo.access import load_record, load_tree
from dsrepo.repo.lists import list_chunks, read_list
from dsrepo.repo.refs import HEADS, TAGS, list_refs, load_commit, read_head
from dsrepo.repo.worktree import load_state, tracked_sources

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass
class Reachable:
    """Object ids reachable from refs and state; ``problems`` lists what is missing or broken."""

    commits: set[str] = field(default_factory=set)
    loose: set[str] = field(default_factory=set)
    packed: set[str] = field(default_factory=set)
    media: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _record(repo: "Repo", rid: str, r: Reachable, where: str) -> None:
    if rid in r.loose:
        return
    try:
        rec = load_record(repo, rid)
    except RepoError as e:
        r.problems.append(f"{where}: {e}")
        return
    r.loose.add(rid)
    for oid in (rec.categories, rec.subset_meta):
        if not repo.store.has_loose(oid):
            r.problems.append(f"{where}: source {rec.name!r}: object {oid} is missing")
        r.loose.add(oid)
    for lid, what in ((rec.items, "items"), (rec.files, "files")):
        try:
            chunks = list_chunks(repo.store, lid)
        except RepoError as e:
            r.problems.append(f"{where}: source {rec.name!r} {what} list: {e}")
            continue
        r.loose.add(lid)
        for h, _n in chunks:
            r.packed.add(h)
            if not repo.store.has_packed(h):
                r.problems.append(f"{where}: source {rec.name!r}: list chunk {h} is missing")
        try:
            entries = read_list(repo.store, lid)
        except RepoError as e:
            r.problems.append(f"{where}: source {rec.name!r} {what} list: {e}")
            continue
        if what == "items":
            for _s, i, h in entries:
                r.packed.add(h)
                if not repo.store.has_packed(h):
                    r.problems.append(f"{where}: source {rec.name!r}: item {i!r} ({h}) is missing")
        else:
            for rel, md5, _n, _k in entries:
                r.media.add(md5)
                if not repo.media.has(md5):
                    r.problems.append(f"{where}: source {rec.name!r}: file {rel!r} (md5 {md5}) is missing")


def _commit(repo: "Repo", start: str, r: Reachable, where: str) -> None:
    todo = [start]
    while todo:
        cid = todo.pop()
        if cid in r.commits:
            continue
        try:
            c = load_commit(repo.store, cid)
            tree = load_tree(repo, c.tree)
        except RepoError as e:
            r.problems.append(f"{where}: commit {cid[:12]}: {e}")
            continue
        r.commits.add(cid)
        r.loose.update((cid, c.tree))
        for name, rid in tree.sources:
            _record(repo, rid, r, f"commit {cid[:12]}")
        todo.extend(c.parents)


def reachable(repo: "Repo", include_state: bool = True) -> Reachable:
    """Everything reachable from HEAD, branches, tags and (optionally) the working-tree
    state, with the problems found on the way."""
    r = Reachable()
    branch, head = read_head(repo.layout)
    if head:
        _commit(repo, head, r, "HEAD")
    for kind in (HEADS, TAGS):
        for name, cid in list_refs(repo.layout, kind).items():
            _commit(repo, cid, r, f"refs/{kind}/{name}")
    if include_state:
        for name in tracked_sources(repo.layout):
            try:
                st = load_state(repo.layout, name)
            except RepoError as e:
                r.problems.append(str(e))
                continue
            for rid in {st.base, st.record} - {None}:
                _record(repo, rid, r, f"working copy {name!r}")
    return r
