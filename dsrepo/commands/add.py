"""``dsrepo add``: bring a dataset into the project as a new source (copied in, or tracked in place)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dsrepo.commands import _project, _ui


def add(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Dataset folder or file to import."),
    format: Optional[str] = typer.Option(None, "-f", "--format", help="Dataset format (default: detect)."),
    name: Optional[str] = typer.Option(None, "-n", "--name", help="Source name (default: the dataset folder's name)."),
    export_option: List[str] = typer.Option([], "-e", "--export-option",
                                            help="Export option for the working copy, e.g. -e --reindex (repeatable)."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Add a dataset as a new source <project>/<name>/. Import options follow `--`.

    A dataset folder outside the project is copied in. The folder <project>/<name>/ itself
    (e.g. `dsrepo add coco` for data already in the project) is tracked where it is."""
    repo = _project.open_repo(project)
    r = repo.add(path, name, format, list(ctx.args) or None, export_option or None, _ui.progress())
    if as_json:
        _ui.print_json({"source": r.name, "format": r.format, "record": r.record, "items": r.items,
                        "files": r.files, "media_bytes": r.media_bytes, "in_place": r.in_place})
        return
    where = "tracked in place" if r.in_place else "in"
    _ui.echo(f"added source {r.name} ({r.format}): {r.items} items, {r.files} files "
             f"({r.media_bytes / 1e6:.1f} MB) {where} {repo.layout.source_dir(r.name)}")


def register(app: typer.Typer) -> None:
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(add)
