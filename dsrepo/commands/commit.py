"""``dsrepo commit``: record the working copies as a new revision."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dsrepo.commands import _project, _ui


def commit(
    message: str = typer.Option(..., "-m", "--message", help="What changed and why."),
    allow_empty: bool = typer.Option(False, "--allow-empty", help="Commit even if nothing changed."),
    author: Optional[str] = typer.Option(None, "--author", help="Author (default: DSREPO_AUTHOR or git's user)."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Commit every source's working copy; prints the revision id and a summary."""
    from dsrepo.repo.commit import summary_line

    repo = _project.open_repo(project)
    r = repo.commit(message, allow_empty, author, _ui.progress())
    if as_json:
        _ui.print_json({"id": r.id, "branch": r.branch, "parent": r.parent, "summary": r.summary, "git": r.git})
        return
    _ui.echo(f"[{r.branch or 'detached'} {_project.short(r.id)}] {summary_line(r.summary)}")


def register(app: typer.Typer) -> None:
    app.command()(commit)
