"""``dsrepo info``: one revision in detail."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from dsrepo.commands import _project, _ui


def info(
    rev: str = typer.Argument("HEAD", help="Revision (id prefix, branch, tag, HEAD~N, ...)."),
    pipeline: bool = typer.Option(True, "--pipeline/--no-pipeline",
                                  help="Build the project (cached) to count items and annotations per stage."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Show a revision: commit details, each source's format, items, subsets and files,
    and the pipeline (sources -> stages) with item and annotation counts per step."""
    repo = _project.open_repo(project)
    render(repo.info(rev, pipeline), as_json)


def render(r: Any, as_json: bool = False) -> None:
    """Print revision info as text or JSON (also used by ``dsrepo demo``)."""
    from dsrepo.commands._pipeline import render_steps, step_dict
    from dsrepo.commands.log import entry_dict

    sources = [{"name": s.name, "record": s.record, "format": s.format, "items": s.items, "subsets": s.subsets,
                "labels": s.labels, "files": s.files, "media_bytes": s.media_bytes,
                "import_options": s.import_options, "export_options": s.export_options} for s in r.sources]
    if as_json:
        _ui.print_json({**entry_dict(r.entry), "sources": sources, "merge_policy": r.merge_policy,
                        "pipeline": [step_dict(s) for s in r.steps], "build_error": r.build_error})
        return
    e = entry_dict(r.entry)
    refs = f" ({', '.join(e['refs'])})" if e["refs"] else ""
    _ui.echo(f"commit {e['id']}{refs}")
    _ui.echo(f"parents: {', '.join(_project.short(p) for p in e['parents']) or 'none'}")
    _ui.echo(f"author:  {e['author']}")
    _ui.echo(f"date:    {e['date']}")
    if e["git"]:
        _ui.echo(f"git:     {e['git'].get('commit') or 'no commits'}{' (dirty)' if e['git'].get('dirty') else ''}")
    _ui.echo(f"message: {e['message']}")
    for s in sources:
        subsets = ", ".join(f"{k} {v}" for k, v in s["subsets"].items())
        _ui.echo(f"source {s['name']} ({s['format']}): {s['items']} items ({subsets}), {s['labels']} labels, "
                 f"{s['files']} files ({s['media_bytes'] / 1e6:.1f} MB)")
    if r.steps:
        _ui.echo(f"pipeline (merge policy {r.merge_policy}):")
        render_steps(r.steps)
    if r.build_error:
        _ui.echo(f"pipeline does not build: {r.build_error}")


def register(app: typer.Typer) -> None:
    app.command()(info)
