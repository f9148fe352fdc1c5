"""Where things live inside a project, and finding the project from a folder.

A project is a folder holding ``.dsrepo/`` (the repository), one working-copy
folder per source (``<project>/<source name>/``) and the pin file ``dsrepo.pin``.
See docs/storage.md for the full layout.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from dsrepo.errors import RepoError

REPO_DIR = ".dsrepo"
PIN_FILE = "dsrepo.pin"
STORE_VERSION = 1
LINK_MODES = ("auto", "copy", "hardlink")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_RESERVED = {REPO_DIR, PIN_FILE, ".git", ".dvc", "project"}  # "project" names the combined target


@dataclass(frozen=True, slots=True)
class Layout:
    """Paths of one project. ``root`` is the project folder, ``dot`` its ``.dsrepo``."""

    root: Path

    @property
    def dot(self) -> Path:
        return self.root / REPO_DIR

    @property
    def config(self) -> Path:
        return self.dot / "config.json"

    @property
    def head(self) -> Path:
        return self.dot / "HEAD"

    @property
    def refs(self) -> Path:
        return self.dot / "refs"

    @property
    def objects(self) -> Path:
        return self.dot / "objects"

    @property
    def packs(self) -> Path:
        return self.dot / "packs"

    @property
    def media(self) -> Path:
        return self.dot / "media"

    @property
    def state(self) -> Path:
        return self.dot / "state"

    @property
    def tmp(self) -> Path:
        return self.dot / "tmp"

    @property
    def lock(self) -> Path:
        return self.dot / "lock"

    @property
    def set_aside(self) -> Path:
        """Where a checkout moves files of a folder tracked in place that it would delete."""
        return self.dot / "set-aside"

    @property
    def pin(self) -> Path:
        return self.root / PIN_FILE

    def source_dir(self, name: str) -> Path:
        """Working-copy folder of source ``name``."""
        return self.root / name


def check_source_name(name: str) -> str:
    """``name`` if it is a valid source name (a plain folder name), else RepoError."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in _RESERVED or name.endswith(".lock"):
        raise RepoError(f"invalid source name {name!r}: use letters, digits, '.', '_' and '-' "
                        f"(not starting with '.' or '-'; 'project' is reserved)")
    return name


def find_project(start: str | os.PathLike | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) holding ``.dsrepo``."""
    here = Path(start or os.getcwd()).absolute()
    for p in (here, *here.parents):
        if (p / REPO_DIR).is_dir():
            return p
    raise RepoError(f"no dsrepo project in {here} or any parent folder (run `dsrepo create` first)")


def iter_fanout(root: Path, rest: int) -> Iterator[str]:
    """Names stored as ``root/<2 chars>/<rest chars>`` (the object and media stores'
    layout), joined, sorted; temp files (``.name``) and other entries are skipped."""
    if not root.is_dir():
        return
    for sub in sorted(os.listdir(root)):
        d = root / sub
        if len(sub) != 2 or not d.is_dir():
            continue
        for name in sorted(os.listdir(d)):
            if len(name) == rest and not name.startswith("."):
                yield sub + name
