"""``dsrepo branch`` and ``dsrepo tag``: named revisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from dsrepo.commands import _project, _ui


def _render(refs: list[Any], as_json: bool, listing: bool, kind: str, deleted: bool) -> None:
    if as_json:
        _ui.print_json([{"name": r.name, "commit": r.commit, "current": r.current} for r in refs])
        return
    if listing:
        for r in refs:
            _ui.echo(f"{'*' if r.current else ' '} {r.name}\t{_project.short(r.commit)}")
        return
    r = refs[0]
    _ui.echo(f"{'deleted' if deleted else 'created'} {kind} {r.name} (was at {_project.short(r.commit)})" if deleted
             else f"created {kind} {r.name} at {_project.short(r.commit)}")


def branch(
    name: Optional[str] = typer.Argument(None, help="Branch to create (omit to list branches)."),
    rev: str = typer.Argument("HEAD", help="Where the branch starts."),
    delete: bool = typer.Option(False, "-d", "--delete", help="Delete branch NAME."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """List branches, create one at REV (checkout switches to it), or delete one."""
    repo = _project.open_repo(project)
    _render(repo.branch(name, rev, delete), as_json, name is None, "branch", delete)


def tag(
    name: Optional[str] = typer.Argument(None, help="Tag to create (omit to list tags)."),
    rev: str = typer.Argument("HEAD", help="Revision to tag."),
    delete: bool = typer.Option(False, "-d", "--delete", help="Delete tag NAME."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """List tags, tag REV, or delete a tag."""
    repo = _project.open_repo(project)
    _render(repo.tag(name, rev, delete), as_json, name is None, "tag", delete)


def register(app: typer.Typer) -> None:
    app.command()(branch)
    app.command()(tag)
