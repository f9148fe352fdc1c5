"""References: ``HEAD``, branches (``refs/heads/*``), tags (``refs/tags/*``), and
turning a revision expression into a commit id.

``HEAD`` holds ``ref: refs/heads/<branch>`` (on a branch) or a commit id
(detached). Each ref is a one-line file; every change is a temp file + fsync +
rename, so a ref is always either the old or the new value.

Revision expressions: ``HEAD``, a branch, a tag, a commit id or unique prefix
(4+ hex digits), each optionally followed by ``~N`` (N-th first parent) and ``^``
(first parent), e.g. ``HEAD~2``, ``v1.0^``, ``relabel~1^``.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from dsrepo.errors import RepoError
from dsrepo.repo.layout import Layout
from dsrepo.repo.objects import ObjectStore
from dsrepo.repo.records import Commit

HEADS = "heads"
TAGS = "tags"
_REF_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$")
_HEX_RE = re.compile(r"^[0-9a-f]{4,40}$")
_SUFFIX_RE = re.compile(r"(~\d*|\^1?)")
_HEAD_REF = "ref: refs/heads/"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def check_ref_name(name: str, kind: str = "branch") -> str:
    """``name`` if valid for a branch/tag, else RepoError."""
    if (not isinstance(name, str) or not _REF_RE.match(name) or ".." in name or name.endswith(".lock")
            or name == "HEAD" or _HEX_RE.match(name) and len(name) == 40):
        raise RepoError(f"invalid {kind} name {name!r}")
    return name


def read_head(layout: Layout) -> tuple[str | None, str | None]:
    """``(branch, commit)``: the current branch (None if detached) and commit (None if unborn)."""
    try:
        text = layout.head.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise RepoError(f"{layout.dot}: HEAD is missing; not a valid dsrepo repository") from None
    if text.startswith(_HEAD_REF):
        branch = text[len(_HEAD_REF):]
        return branch, read_ref(layout, HEADS, branch)
    return None, text or None


def set_head(layout: Layout, branch: str | None, commit: str | None = None) -> None:
    """Point HEAD at ``branch`` or, when ``branch`` is None, detach it at ``commit``."""
    _write_atomic(layout.head, f"{_HEAD_REF}{branch}\n" if branch else f"{commit}\n")


def read_ref(layout: Layout, kind: str, name: str) -> str | None:
    """Commit id of ``refs/<kind>/<name>`` or None."""
    try:
        return (layout.refs / kind / name).read_text(encoding="utf-8").strip() or None
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def write_ref(layout: Layout, kind: str, name: str, commit: str) -> None:
    """Atomically set ``refs/<kind>/<name>`` to ``commit``."""
    _write_atomic(layout.refs / kind / name, commit + "\n")


def delete_ref(layout: Layout, kind: str, name: str) -> None:
    """Remove ``refs/<kind>/<name>`` (and now-empty parent folders)."""
    path = layout.refs / kind / name
    path.unlink()
    parent = path.parent
    while parent != layout.refs / kind:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent


def list_refs(layout: Layout, kind: str) -> dict[str, str]:
    """``{name: commit}`` of every ref of ``kind``, sorted by name."""
    base = layout.refs / kind
    out = {}
    if base.is_dir():
        for dirpath, _dirs, files in os.walk(base):
            for f in files:
                if f.startswith("."):
                    continue
                p = Path(dirpath) / f
                name = p.relative_to(base).as_posix()
                value = p.read_text(encoding="utf-8").strip()
                if value:
                    out[name] = value
    return dict(sorted(out.items()))


def advance_head(layout: Layout, commit: str) -> None:
    """Move the current branch (or detached HEAD) to ``commit``."""
    branch, _ = read_head(layout)
    if branch:
        write_ref(layout, HEADS, branch, commit)
    else:
        set_head(layout, None, commit)


def load_commit(store: ObjectStore, commit_id: str) -> Commit:
    """The commit object ``commit_id``."""
    return Commit.from_bytes(store.read_loose(commit_id, "commit"), commit_id)


def _by_prefix(store: ObjectStore, prefix: str) -> list[str]:
    folder = store.objects_dir / prefix[:2]
    rest = prefix[2:]
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    out = []
    for n in names:
        if len(n) == 38 and n.startswith(rest):
            h = prefix[:2] + n
            try:
                t, _ = store.read_loose_typed(h)
            except RepoError:
                continue
            if t == "commit":
                out.append(h)
    return sorted(out)


def _base(layout: Layout, store: ObjectStore, base: str, rev: str) -> str:
    if base in ("HEAD", "@"):
        branch, commit = read_head(layout)
        if commit is None:
            raise RepoError(f"unknown revision {rev!r}: branch {branch!r} has no commits yet")
        return commit
    for kind in (HEADS, TAGS):
        if _REF_RE.match(base):
            c = read_ref(layout, kind, base)
            if c is not None:
                return c
    if _HEX_RE.match(base):
        found = _by_prefix(store, base)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise RepoError(f"ambiguous revision {rev!r}: {len(found)} commits start with {base} "
                            f"({', '.join(f[:12] for f in found[:4])})")
    raise RepoError(f"unknown revision {rev!r} (not a branch, tag or commit id)")


def resolve(layout: Layout, store: ObjectStore, rev: str) -> str:
    """Commit id named by revision expression ``rev``; RepoError if there is none."""
    rev = (rev or "").strip()
    m = re.match(r"^(.*?)((?:~\d*|\^1?)*)$", rev)
    if not rev or not m or not m.group(1):
        raise RepoError(f"unknown revision {rev!r}")
    commit = _base(layout, store, m.group(1), rev)
    for op in _SUFFIX_RE.findall(m.group(2)):
        steps = 1 if op in ("~", "^", "^1") else int(op[1:])
        for _ in range(steps):
            parents = load_commit(store, commit).parents
            if not parents:
                raise RepoError(f"unknown revision {rev!r}: history has fewer commits")
            commit = parents[0]
    return commit
