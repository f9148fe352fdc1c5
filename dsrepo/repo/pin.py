"""The pin file ``dsrepo.pin``: the dataset revision checked out with this code.

A small text file at the project root, rewritten by every ``commit`` and
``checkout`` and meant to be committed to git next to the code. After a
``git checkout`` of older code, ``dsrepo checkout --pinned`` restores the dataset
revision that code was committed with::

    # dsrepo pin: the dataset revision checked out in this project.
    # Commit this file with your code; `dsrepo checkout --pinned` restores it.
    revision: 3f2c...(40 hex)
    branch: main
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsrepo.errors import RepoError
from dsrepo.formats.common.files import atomic_write_text
from dsrepo.repo.refs import read_head

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo

_HEADER = ("# dsrepo pin: the dataset revision checked out in this project.\n"
           "# Commit this file with your code; `dsrepo checkout --pinned` restores it.\n")


@dataclass(frozen=True, slots=True)
class Pin:
    """A pinned revision and the branch it was on (None if detached)."""

    revision: str
    branch: str | None = None


def render(pin: Pin) -> str:
    """The pin file's text."""
    text = _HEADER + f"revision: {pin.revision}\n"
    if pin.branch:
        text += f"branch: {pin.branch}\n"
    return text


def read_pin(repo: "Repo") -> Pin:
    """The pin file's content (RepoError if absent or malformed)."""
    path = repo.layout.pin
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RepoError(f"no pin file {path} (it is written by `dsrepo commit` and `dsrepo checkout`)") from None
    fields = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise RepoError(f"{path}: malformed line {line!r} (expected 'key: value')")
        fields[key.strip()] = value.strip()
    rev = fields.get("revision", "")
    if len(rev) != 40 or any(c not in "0123456789abcdef" for c in rev):
        raise RepoError(f"{path}: no valid 'revision:' line")
    return Pin(rev, fields.get("branch") or None)


def write_current(repo: "Repo") -> Pin | None:
    """Pin HEAD (no-op on an unborn branch); only rewrites the file when it changes."""
    branch, commit = read_head(repo.layout)
    if commit is None:
        return None
    pin = Pin(commit, branch)
    text = render(pin)
    path = repo.layout.pin
    try:
        if path.read_text(encoding="utf-8") == text:
            return pin
    except OSError:
        pass
    atomic_write_text(path, text)
    return pin


def write_pin(repo: "Repo", rev: str = "HEAD") -> Pin:
    """Write the pin file naming revision ``rev`` (normally done by commit/checkout)."""
    commit = repo.resolve(rev)
    branch, head = read_head(repo.layout)
    pin = Pin(commit, branch if head == commit else None)
    with repo.lock():
        atomic_write_text(repo.layout.pin, render(pin))
    return pin
