"""Shared bits of the repository commands: the ``-p/--project`` option and short ids."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo

PROJECT = typer.Option(None, "-p", "--project", help="Project folder (default: search upward from the current folder).")
JSON = typer.Option(False, "--json", help="Print JSON.")


def open_repo(project: Optional[Path]) -> "Repo":
    """The project at ``project`` or found upward from the current folder."""
    from dsrepo.repo.repo import Repo

    return Repo.open(project)


def short(commit_id: str | None) -> str:
    """A commit id shortened for display."""
    return commit_id[:12] if commit_id else "-"
