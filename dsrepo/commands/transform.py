"""``dsrepo transform`` and ``dsrepo filter``: append a stage to the working pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dsrepo.commands import _pipeline, _project, _ui


def _show(r, as_json: bool) -> None:
    if as_json:
        _ui.print_json({"stage": r.stage.to_dict(), "recorded": r.recorded, "preview": r.preview,
                        "steps": [_pipeline.step_dict(s) for s in r.steps]})
        return
    verb = "added stage" if r.recorded else "dry run, not recorded:"
    _ui.echo(f"{verb} [{r.stage.id}] {r.stage.target}: {r.stage.describe()}")
    _pipeline.render_steps(r.steps)
    if r.preview:
        _ui.echo("first input item as the filter sees it:")
        _ui.echo(r.preview)


def transform(
    ctx: typer.Context,
    name: str = typer.Option(..., "-t", "--transform", help="Transform name (see docs/transforms.md)."),
    target: str = typer.Argument("project", help="Source name, or 'project' (all sources combined)."),
    dry_run: bool = typer.Option(False, "--dry-run/--apply", help="Only show the effect (default: record it)."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Append a transform stage for TARGET; parameters follow `--`, e.g.
    `dsrepo transform -t remap_labels coco -- --label cat:animal`."""
    args = list(ctx.args)
    if target.startswith("-"):  # `transform -t NAME -- --param v`: no TARGET given, params after --
        args, target = [target, *args], "project"
    repo = _project.open_repo(project)
    _show(repo.transform(name, target, args, dry_run, _ui.progress()), as_json)


def filter(
    expr: str = typer.Option(..., "-e", "--expr", help='XPath expression, e.g. \'/item[subset="train"]\'.'),
    target: str = typer.Argument("project", help="Source name, or 'project' (all sources combined)."),
    mode: str = typer.Option("items", "-m", "--mode", help="items, annotations or items+annotations."),
    remove_empty: bool = typer.Option(False, "--remove-empty", help="Drop items left without annotations."),
    dry_run: bool = typer.Option(False, "--dry-run/--apply", help="Only show the effect and an item's XML."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Append a filter stage (XPath over items/annotations) for TARGET."""
    repo = _project.open_repo(project)
    _show(repo.filter(expr, target, mode, remove_empty, dry_run, _ui.progress()), as_json)


def register(app: typer.Typer) -> None:
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(transform)
    app.command(name="filter")(filter)
