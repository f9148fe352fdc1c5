"""``dsrepo create``: make a new project."""

from __future__ import annotations

from pathlib import Path

import typer

from dsrepo.commands import _ui


def create(
    path: Path = typer.Argument(Path("."), help="Project folder (default: the current folder)."),
    link: str = typer.Option("auto", "--link", help="Working copies from stored media: auto (reflink, else copy), "
                             "copy, or hardlink (read-only files shared with the store)."),
) -> None:
    """Create a dsrepo project (.dsrepo/) in a folder. An existing .git is left alone."""
    from dsrepo.repo.repo import Repo

    repo = Repo.create(path, link)
    _ui.echo(f"created dsrepo project in {repo.root}")


def register(app: typer.Typer) -> None:
    app.command()(create)
