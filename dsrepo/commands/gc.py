"""``dsrepo gc``: drop unreachable objects."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dsrepo.commands import _project, _ui


def gc(
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Delete objects and media no branch, tag, HEAD or working copy refers to; merge packs."""
    repo = _project.open_repo(project)
    r = repo.gc(_ui.progress())
    if as_json:
        _ui.print_json({"loose": r.loose, "packed": r.packed, "media": r.media, "freed_bytes": r.freed,
                        "packs_before": r.packs_before, "packs_after": r.packs_after})
        return
    _ui.echo(f"removed {r.loose} objects, {r.packed} packed objects, {r.media} media files "
             f"({r.freed / 1e6:.1f} MB); packs {r.packs_before} -> {r.packs_after}")


def register(app: typer.Typer) -> None:
    app.command()(gc)
