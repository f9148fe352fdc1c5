"""``dsrepo fsck``: verify every stored object."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dsrepo.commands import _project, _ui


def fsck(
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Check that every object, pack and media file matches its hash and that all
    history is present. Exit code 8 when something is damaged or missing."""
    from dsrepo.errors import CorruptObjectError

    repo = _project.open_repo(project)
    r = repo.fsck(_ui.progress())
    if as_json:
        _ui.print_json({"ok": r.ok, "errors": r.errors, "warnings": r.warnings, "counts": r.counts})
    else:
        for e in r.errors:
            _ui.echo(f"error: {e}")
        for w in r.warnings:
            _ui.echo(f"warning: {w}")
        counts = ", ".join(f"{v} {k}" for k, v in r.counts.items())
        _ui.echo(f"{'ok' if r.ok else 'DAMAGED'}: {counts}")
    if not r.ok:
        raise typer.Exit(CorruptObjectError.exit_code)


def register(app: typer.Typer) -> None:
    app.command()(fsck)
