"""``dsrepo stages``: list the working pipeline, remove a stage, set the merge policy."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dsrepo.commands import _project, _ui
from dsrepo.errors import UsageError


def stages(
    args: List[str] = typer.Argument(None, help="[TARGET] | remove ID | policy exact|union"),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """List the working pipeline's stages (of TARGET only, if given);
    `stages remove ID` drops one; `stages policy exact|union` sets how sources combine."""
    repo = _project.open_repo(project)
    args = list(args or [])
    if args and args[0] in ("remove", "policy"):
        if len(args) != 2:
            raise UsageError(f"usage: dsrepo stages {args[0]} {'ID' if args[0] == 'remove' else 'exact|union'}")
        if args[0] == "remove":
            s = repo.remove_stage(args[1])
            _ui.echo(f"removed stage [{s.id}] {s.target}: {s.describe()}")
        else:
            old = repo.set_merge_policy(args[1])
            _ui.echo(f"merge policy: {old} -> {args[1]}")
        return
    if len(args) > 1:
        raise UsageError("usage: dsrepo stages [TARGET]")
    p = repo.stages()
    shown = p.stages if not args else p.for_target(args[0])
    if as_json:
        _ui.print_json({"merge_policy": p.merge_policy, "stages": [s.to_dict() for s in shown]})
        return
    _ui.echo(f"merge policy: {p.merge_policy}")
    if not shown:
        _ui.echo("no stages")
    for s in shown:
        _ui.echo(f"[{s.id}] {s.target}: {s.describe()}")


def register(app: typer.Typer) -> None:
    app.command()(stages)
