"""``dsrepo demo``: run the versioning workflow on the bundled sample and show each step."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Optional

import typer

from dsrepo.commands import _pipeline, _project, _ui


def _render(kind: str, r: Any) -> None:
    from dsrepo.commands import info, log, status
    from dsrepo.repo.commit import summary_line

    if kind == "create":
        _ui.echo(f"created project in {r}")
    elif kind in ("add", "update"):
        verb = "added" if kind == "add" else "updated"
        _ui.echo(f"{verb} source {r.name} ({r.format}): {r.items} items, {r.files} files")
    elif kind == "status":
        status.render(r, verbose=True)
    elif kind == "commit":
        _ui.echo(f"[{r.branch or 'detached'} {_project.short(r.id)}] {summary_line(r.summary)}")
    elif kind == "stage":
        _ui.echo(f"added stage [{r.stage.id}] {r.stage.target}: {r.stage.describe()}")
        _pipeline.render_steps(r.steps)
    elif kind == "log":
        log.render(r, oneline=True)
    elif kind == "checkout":
        at = f"branch {r.branch}" if r.branch else f"{_project.short(r.commit)} (detached HEAD)"
        _ui.echo(f"checked out {at}: " + ", ".join(f"{n}: {_ui.count(w, 'file')} written, {d} deleted"
                                                   for n, (w, d) in r.written.items()))
    elif kind == "export":
        _ui.echo(f"exported {r.items} items, {r.annotations} annotations ({len(r.files)} files) "
                 f"to {r.out} as {r.format}")
    elif kind == "info":
        info.render(r)


def demo(
    keep: Optional[Path] = typer.Option(None, "--keep", help="Run in this (empty) folder and leave the project there."),
) -> None:
    """Run the whole workflow on the bundled sample dataset: create, add, commit, update,
    status, commit, a pipeline stage, log, checkout of the first revision, export."""
    from dsrepo.repo.demo import run_demo

    progress = _ui.progress()
    with tempfile.TemporaryDirectory(prefix="dsrepo-demo-") as tmp:
        folder = keep if keep is not None else Path(tmp) / "project"
        for step in run_demo(folder, progress):
            _ui.echo(f"\n$ {step.command}")
            _render(step.kind, step.result)
    if keep is not None:
        _ui.echo(f"\nthe project is in {keep}")


def register(app: typer.Typer) -> None:
    app.command()(demo)
