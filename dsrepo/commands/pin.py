"""``dsrepo pin``: show or set the pin file (restore with ``dsrepo checkout --pinned``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dsrepo.commands import _project, _ui


def pin(
    rev: Optional[str] = typer.Argument(None, help="Revision to pin (omit to show the pin)."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Show the dataset revision pinned in dsrepo.pin, or pin REV. Commit and checkout keep the
    pin up to date; after `git checkout` of older code, `dsrepo checkout --pinned` restores it."""
    from dsrepo.repo.pin import read_pin

    repo = _project.open_repo(project)
    p = repo.pin(rev) if rev else read_pin(repo)
    if as_json:
        _ui.print_json({"revision": p.revision, "branch": p.branch, "file": str(repo.layout.pin)})
        return
    _ui.echo(f"{'pinned' if rev else 'pin'}: {p.revision}" + (f" (branch {p.branch})" if p.branch else ""))


def register(app: typer.Typer) -> None:
    app.command()(pin)
