"""``dsrepo checkout``: working copies as of a revision."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dsrepo.commands import _project, _ui


def checkout(
    rev: Optional[str] = typer.Argument(None, help="Revision: branch, tag, id prefix, HEAD~N, HEAD^ ..."),
    sources: List[str] = typer.Argument(None, help="After `--`: only these sources (HEAD does not move)."),
    force: bool = typer.Option(False, "--force", help="Discard local changes."),
    pinned: bool = typer.Option(False, "--pinned", help="Check out the revision named in dsrepo.pin."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Make the working copies match REV (refuses over local changes unless --force).
    `dsrepo checkout REV -- SOURCE` restores one source; `--pinned` restores the pinned revision."""
    repo = _project.open_repo(project)
    r = repo.checkout(rev, sources or (), force, pinned, _ui.progress())
    if as_json:
        _ui.print_json({"commit": r.commit, "branch": r.branch, "partial": r.partial,
                        "sources": {n: {"written": w, "deleted": d} for n, (w, d) in r.written.items()},
                        "removed": list(r.removed)})
        return
    files = ", ".join(f"{n}: {_ui.count(w, 'file')} written, {d} deleted" for n, (w, d) in r.written.items())
    if r.partial:
        _ui.echo(f"checked out {', '.join(r.written)} from {_project.short(r.commit)} ({files})")
        return
    at = f"branch {r.branch}" if r.branch else f"{_project.short(r.commit)} (detached HEAD)"
    _ui.echo(f"checked out {at}" + (f" ({files})" if files else ""))
    for n in r.removed:
        _ui.echo(f"  removed source {n} (not in this revision)")


def register(app: typer.Typer) -> None:
    app.command()(checkout)
