"""``dsrepo update``: replace a source's content with a new version of the dataset."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dsrepo.commands import _project, _ui


def update(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="Source to update."),
    path: Path = typer.Argument(..., help="New version of the dataset (folder or file)."),
    format: Optional[str] = typer.Option(None, "-f", "--format", help="Format of PATH (default: detect)."),
    export_option: List[str] = typer.Option([], "-e", "--export-option",
                                            help="New export option for the working copy (repeatable)."),
    force: bool = typer.Option(False, "--force", help="Replace uncommitted changes."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Replace SOURCE with the dataset at PATH (its working copy keeps the source's format).
    Import options for PATH follow `--`."""
    repo = _project.open_repo(project)
    r = repo.update(source, path, format, list(ctx.args) or None, export_option or None, force, _ui.progress())
    if as_json:
        _ui.print_json({"source": r.name, "format": r.format, "record": r.record, "items": r.items,
                        "files": r.files, "written": r.wrote, "deleted": r.deleted})
        return
    _ui.echo(f"updated source {r.name}: {r.items} items, {_ui.count(r.files, 'file')}; "
             f"{_ui.count(r.wrote, 'file')} written, "
             f"{r.deleted} deleted (see `dsrepo status`)")


def register(app: typer.Typer) -> None:
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(update)
