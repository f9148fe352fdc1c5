"""``dsrepo patch-export``: ``dsrepo export --incremental`` under its own name, and the
rendering of incremental exports shared with ``dsrepo export``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from dsrepo.commands import _pipeline, _project, _ui


def as_dict(r: Any) -> dict:
    """JSON form of a PatchResult."""
    return {"commit": r.commit, "target": r.target, "format": r.format, "output": r.out, "mode": r.mode,
            "items": r.items, "annotations": r.annotations, "added": r.added, "removed": r.removed,
            "modified": r.modified, "files": len(r.written) + r.unchanged, "written": list(r.written),
            "deleted": list(r.deleted), "unchanged": r.unchanged, "missing_media": list(r.missing_media),
            "steps": [_pipeline.step_dict(s) for s in r.steps]}


def render(r: Any, as_json: bool) -> None:
    """Print the result of an incremental export."""
    if as_json:
        _ui.print_json(as_dict(r))
        return
    what = _project.short(r.commit) if r.commit else "working tree"
    how = {"full": " (full export: no earlier export to start from)", "none": " (nothing changed)"}.get(r.mode, "")
    _ui.echo(f"patch-exported {r.target} of {what} to {r.out} as {r.format}{how}: {r.items} items "
             f"({r.added} added, {r.removed} removed, {r.modified} modified); "
             f"{_ui.count(len(r.written), 'file')} written, "
             f"{len(r.deleted)} deleted, {r.unchanged} unchanged")
    _pipeline.render_steps(r.steps)
    if r.missing_media:
        _ui.echo(f"  {len(r.missing_media)} images were missing and not saved")


def patch_export(
    ctx: typer.Context,
    rev: Optional[str] = typer.Argument(None, help="Revision to export (default: the working tree)."),
    target: str = typer.Option("project", "-t", "--target", help="Source name, or 'project' (all sources)."),
    format: str = typer.Option(..., "-f", "--format", help="Output format (see `dsrepo formats`)."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder holding an earlier export (or empty)."),
    force: bool = typer.Option(False, "--force", help="Folder edited by hand or exported otherwise: "
                                                      "do a full export over it."),
    expr: Optional[str] = typer.Option(None, "-e", "--filter", help="Only export what this XPath filter keeps."),
    mode: str = typer.Option("items", "-m", "--filter-mode", help="Filter mode: items, annotations, items+annotations."),
    merge_policy: Optional[str] = typer.Option(None, "--merge-policy",
                                               help="exact or union: how sources combine (default: as recorded)."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Export REV into a folder holding an earlier export, writing only what changed
    (same as `dsrepo export --incremental`). Format options follow `--`."""
    args = list(ctx.args)
    if rev is not None and rev.startswith("-"):
        args, rev = [rev, *args], None
    repo = _project.open_repo(project)
    r = repo.patch_export(output, format, rev, target, args, True, force, False, expr, mode, _ui.progress(),
                          merge_policy)
    render(r, as_json)


def register(app: typer.Typer) -> None:
    app.command("patch-export", context_settings={"allow_extra_args": True,
                                                  "ignore_unknown_options": True})(patch_export)
