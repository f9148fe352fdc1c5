"""``dsrepo export``: build a revision and write it in a format."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dsrepo.commands import _pipeline, _project, _ui


def export(
    ctx: typer.Context,
    rev: Optional[str] = typer.Argument(None, help="Revision to export (default: the working tree)."),
    target: str = typer.Option("project", "-t", "--target", help="Source name, or 'project' (all sources)."),
    format: str = typer.Option(..., "-f", "--format", help="Output format (see `dsrepo formats`)."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Allow writing into a non-empty folder."),
    incremental: bool = typer.Option(False, "--incremental", help="OUTPUT holds an earlier export: write only "
                                                                  "what changed (see docs/patch-export.md)."),
    force: bool = typer.Option(False, "--force", help="With --incremental: folder edited by hand or exported "
                                                      "otherwise, do a full export over it."),
    expr: Optional[str] = typer.Option(None, "-e", "--filter", help="Only export what this XPath filter keeps."),
    mode: str = typer.Option("items", "-m", "--filter-mode", help="Filter mode: items, annotations, items+annotations."),
    merge_policy: Optional[str] = typer.Option(None, "--merge-policy",
                                               help="exact or union: how sources combine (default: as recorded)."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Build REV's target with its stages and export it. Format options follow `--`,
    e.g. `dsrepo export HEAD -f coco -o out -- --save-media`. OUTPUT gets a manifest
    (.dsrepo-export.json) so that a later `--incremental` export writes only what changed."""
    args = list(ctx.args)
    if rev is not None and rev.startswith("-"):  # `export -f coco -o out -- --save-media`: no REV given
        args, rev = [rev, *args], None
    repo = _project.open_repo(project)
    if force and not incremental:
        from dsrepo.errors import UsageError

        raise UsageError("--force goes with --incremental (a plain export never deletes files)")
    r = repo.patch_export(output, format, rev, target, args, incremental, force, overwrite, expr, mode,
                          _ui.progress(), merge_policy)
    if incremental:
        from dsrepo.commands.patch_export import render

        render(r, as_json)
        return
    files = len(r.written) + r.unchanged
    if as_json:
        _ui.print_json({"commit": r.commit, "target": r.target, "format": r.format, "output": r.out,
                        "files": files, "missing_media": list(r.missing_media), "items": r.items,
                        "annotations": r.annotations, "steps": [_pipeline.step_dict(s) for s in r.steps]})
        return
    what = _project.short(r.commit) if r.commit else "working tree"
    _ui.echo(f"exported {r.target} of {what}: {r.items} items, {r.annotations} annotations, "
             f"{files} files to {r.out} as {r.format}")
    _pipeline.render_steps(r.steps)
    if r.missing_media:
        _ui.echo(f"  {len(r.missing_media)} images were missing and not saved")


def register(app: typer.Typer) -> None:
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(export)
