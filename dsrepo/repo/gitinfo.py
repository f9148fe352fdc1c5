"""The enclosing git repository, read with GitPython (never modified)."""

from __future__ import annotations

import getpass
import os
import socket
from pathlib import Path
from typing import Any


def _inside_git(root: Path) -> bool:
    """Whether ``root`` or a folder above it has a ``.git`` (folder, or file of a worktree
    or submodule): checked before importing GitPython, which costs ~0.05 s."""
    p = Path(os.path.abspath(root))
    return any(os.path.lexists(d / ".git") for d in (p, *p.parents))


def _open(root: Path):
    if not _inside_git(root):
        return None
    try:
        import git
    except ImportError:
        return None
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def git_state(root: Path, ignore: Path | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """``({"commit": sha or None, "dirty": bool}, None)`` when ``root`` is inside a git
    work tree, ``(None, None)`` when it is not, ``(None, reason)`` if git could not be read.

    ``dirty`` counts changes to tracked files, staged or not, except ``ignore`` (the pin
    file, which dsrepo itself rewrites)."""
    repo = _open(root)
    if repo is None or repo.bare:
        return None, None
    try:
        import git

        try:
            sha = repo.head.commit.hexsha
        except ValueError:
            sha = None
        changed = {d.a_path or d.b_path for d in repo.index.diff(None)}
        if sha is not None:
            changed |= {d.a_path or d.b_path for d in repo.index.diff("HEAD")}
        if ignore is not None and repo.working_tree_dir:
            try:
                changed.discard(Path(os.path.relpath(ignore, repo.working_tree_dir)).as_posix())
            except ValueError:
                pass
        return {"commit": sha, "dirty": bool(changed)}, None
    except (git.GitError, OSError, ValueError) as e:
        return None, f"cannot read the git repository at {repo.working_tree_dir}: {e}"
    finally:
        repo.close()


def default_author(root: Path) -> str:
    """``DSREPO_AUTHOR``, else git's ``user.name <user.email>``, else ``user@host``."""
    env = os.environ.get("DSREPO_AUTHOR")
    if env:
        return env
    repo = _open(root)
    if repo is not None:
        try:
            reader = repo.config_reader()
            name = reader.get_value("user", "name", "")
            email = reader.get_value("user", "email", "")
            if name:
                return f"{name} <{email}>" if email else str(name)
        except Exception:  # noqa: BLE001 - any config problem falls back to the login name
            pass
        finally:
            repo.close()
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
