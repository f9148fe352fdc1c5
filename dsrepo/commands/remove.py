"""``dsrepo remove``: stop tracking a source."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dsrepo.commands import _project, _ui


def remove(
    source: str = typer.Argument(..., help="Source to remove."),
    keep_data: bool = typer.Option(False, "--keep-data", help="Keep the working copy folder."),
    force: bool = typer.Option(False, "--force", help="Delete the folder even with uncommitted changes."),
    project: Optional[Path] = _project.PROJECT,
) -> None:
    """Stop tracking SOURCE (the next commit records its removal)."""
    repo = _project.open_repo(project)
    deleted, left = repo.remove(source, keep_data, force)
    if keep_data:
        _ui.echo(f"removed source {source} (folder kept)")
        return
    _ui.echo(f"removed source {source} ({deleted} files deleted)")
    if left:
        _ui.echo(f"  {len(left)} files not written by dsrepo were left in {repo.layout.source_dir(source)}")


def register(app: typer.Typer) -> None:
    app.command()(remove)
