"""``branch`` and ``tag``: named revisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsrepo.errors import RepoError
from dsrepo.repo.refs import HEADS, TAGS, check_ref_name, delete_ref, list_refs, read_head, read_ref, write_ref

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class RefInfo:
    """A branch or tag: name, commit, and whether HEAD is on it (branches only)."""

    name: str
    commit: str
    current: bool = False


def _refs(repo: "Repo", kind: str) -> list[RefInfo]:
    branch, _ = read_head(repo.layout)
    return [RefInfo(n, c, kind == HEADS and n == branch) for n, c in list_refs(repo.layout, kind).items()]


def _named(repo: "Repo", kind: str, name: str, rev: str, delete: bool) -> RefInfo:
    label = "branch" if kind == HEADS else "tag"
    check_ref_name(name, label)
    with repo.lock():
        existing = read_ref(repo.layout, kind, name)
        if delete:
            if existing is None:
                raise RepoError(f"no {label} named {name!r}")
            if kind == HEADS and read_head(repo.layout)[0] == name:
                raise RepoError(f"cannot delete branch {name!r}: it is checked out")
            delete_ref(repo.layout, kind, name)
            return RefInfo(name, existing)
        if existing is not None:
            raise RepoError(f"{label} {name!r} already exists (at {existing[:12]})")
        other = TAGS if kind == HEADS else HEADS
        if read_ref(repo.layout, other, name) is not None:
            raise RepoError(f"{'a tag' if other == TAGS else 'a branch'} named {name!r} already exists; "
                            "use another name")
        commit = repo.resolve(rev)
        write_ref(repo.layout, kind, name, commit)
        return RefInfo(name, commit)


def branch(repo: "Repo", name: str | None = None, rev: str = "HEAD", delete: bool = False) -> list[RefInfo]:
    """List branches (``name`` None), or create branch ``name`` at ``rev``, or delete it.
    Creating does not switch to it (use checkout). Returns the branches affected/listed."""
    if name is None:
        return _refs(repo, HEADS)
    return [_named(repo, HEADS, name, rev, delete)]


def tag(repo: "Repo", name: str | None = None, rev: str = "HEAD", delete: bool = False) -> list[RefInfo]:
    """List tags (``name`` None), or create tag ``name`` at ``rev``, or delete it."""
    if name is None:
        return _refs(repo, TAGS)
    return [_named(repo, TAGS, name, rev, delete)]
