"""``create``: make a new, empty project (``.dsrepo/``) in a folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from dsrepo.errors import RepoError
from dsrepo.repo.config import Config, save_config
from dsrepo.repo.layout import LINK_MODES, REPO_DIR, Layout

DEFAULT_BRANCH = "main"


def create(path: Path, link: str = "auto") -> Path:
    """Create ``path/.dsrepo`` (the folder is created if needed) and return ``path``.

    RepoError if a project already exists there. The repository is built in a temp
    folder and renamed into place, so it either exists completely or not at all.
    An enclosing git repository is never touched."""
    if link not in LINK_MODES:
        raise RepoError(f"unknown link mode {link!r} (known: {', '.join(LINK_MODES)})")
    root = Path(path).absolute()
    if (root / REPO_DIR).exists():
        raise RepoError(f"a dsrepo project already exists in {root}")
    if root.exists() and not root.is_dir():
        raise RepoError(f"{root}: exists and is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".dsrepo-create-", dir=root))
    try:
        lay = Layout(root)
        staged = Layout(tmp)  # paths below are relative to the temp folder's .dsrepo
        dot = tmp / REPO_DIR
        for sub in ("refs/heads", "refs/tags", "objects", "packs", "media", "state/sources", "tmp"):
            (dot / sub).mkdir(parents=True)
        (dot / "HEAD").write_text(f"ref: refs/heads/{DEFAULT_BRANCH}\n", encoding="utf-8")
        (dot / "lock").touch()
        (dot / ".gitignore").write_text("# dsrepo's store: not for git\n*\n", encoding="utf-8")
        save_config(staged, Config(link=link))
        try:
            os.rename(dot, lay.dot)
        except OSError:
            if lay.dot.exists():
                raise RepoError(f"a dsrepo project already exists in {root}") from None
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root
