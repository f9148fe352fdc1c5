"""``dsrepo merge`` and ``dsrepo resolve``: three-way merge of revisions and conflict resolution."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dsrepo.commands import _project, _ui
from dsrepo.errors import UsageError


def merge(
    rev: Optional[str] = typer.Argument(None, help="Branch or revision to merge into the working tree."),
    message: Optional[str] = typer.Option(None, "-m", "--message", help="Merge commit message."),
    no_commit: bool = typer.Option(False, "--no-commit", help="Stop before committing a clean merge."),
    iou: float = typer.Option(0.5, "--iou", help="IoU for matching annotations inside an item."),
    abort: bool = typer.Option(False, "--abort", help="End the merge in progress and restore HEAD."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Merge REV item by item (three-way, with the common ancestor). Conflicts are listed;
    settle them with `dsrepo resolve`, then `dsrepo commit`."""
    repo = _project.open_repo(project)
    if abort:
        head = repo.abort_merge(_ui.progress())
        _ui.echo(f"merge aborted; back at {_project.short(head)}")
        return
    if not rev:
        raise UsageError("which revision? (dsrepo merge REV, or --abort)")
    r = repo.merge(rev, message, not no_commit, iou, _ui.progress())
    if as_json:
        _ui.print_json({"status": r.status, "theirs": r.theirs, "base": r.base, "commit": r.commit,
                        "sources": [{"name": s.name, "action": s.action, "taken": s.taken, "merged": s.merged,
                                     "conflicts": s.conflicts} for s in r.sources],
                        "conflicts": [c.to_json() | {"name": c.name()} for c in r.conflicts]})
        return
    if r.status == "up-to-date":
        _ui.echo("already up to date")
        return
    if r.status == "fast-forward":
        _ui.echo(f"fast-forward to {_project.short(r.theirs)}")
        return
    for s in r.sources:
        _ui.echo(f"  {s.name}: {s.action}" + (f" ({s.taken} items from theirs, {s.merged} merged, "
                                              f"{s.conflicts} conflicts)" if s.action in ("merged", "conflict") else ""))
    if r.commit:
        _ui.echo(f"merged {_project.short(r.theirs)} as {_project.short(r.commit)}")
    elif not r.conflicts:
        _ui.echo("merged into the working tree; `dsrepo commit` records it")
    else:
        _ui.echo(f"{len(r.conflicts)} conflicts (our version is in the working copy):")
        for c in r.conflicts:
            _ui.echo(f"  {c.name()}: {c.reason}")
        _ui.echo("settle them with `dsrepo resolve NAME --ours|--theirs`, then `dsrepo commit`")


def resolve(
    names: List[str] = typer.Argument(None, help="Conflicts: SOURCE:SUBSET/ID, SUBSET/ID, SOURCE, pipeline "
                                                "(none: all)."),
    ours: bool = typer.Option(False, "--ours", help="Keep the working copy's version."),
    theirs: bool = typer.Option(False, "--theirs", help="Take the merged revision's version."),
    project: Optional[Path] = _project.PROJECT,
) -> None:
    """Settle merge conflicts with our or their version."""
    if ours == theirs:
        raise UsageError("choose one of --ours or --theirs")
    repo = _project.open_repo(project)
    r = repo.resolve_conflicts(names or [], "ours" if ours else "theirs", _ui.progress())
    _ui.echo(f"resolved {len(r.resolved)} conflicts ({'ours' if ours else 'theirs'}); {r.remaining} left")


def register(app: typer.Typer) -> None:
    app.command()(merge)
    app.command()(resolve)
