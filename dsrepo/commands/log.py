"""``dsrepo log``: the history."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import typer

from dsrepo.commands import _project, _ui


def _date(t: int, tz: int) -> str:
    sign = "+" if tz >= 0 else "-"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t + tz * 60))
    return f"{stamp} {sign}{abs(tz) // 60:02d}{abs(tz) % 60:02d}"


def entry_dict(e: Any) -> dict:
    """JSON form of a log entry."""
    c = e.commit
    return {"id": e.id, "parents": list(c.parents), "refs": list(e.refs), "message": c.message, "author": c.author,
            "time": c.time, "tz": c.tz, "date": _date(c.time, c.tz), "git": c.git, "summary": c.summary,
            "tree": c.tree}


def log(
    rev: str = typer.Argument("HEAD", help="Start from this revision."),
    limit: Optional[int] = typer.Option(None, "-n", "--max-count", help="Show at most N commits."),
    oneline: bool = typer.Option(False, "--oneline", help="One line per commit."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Show commits, newest first."""
    repo = _project.open_repo(project)
    entries = repo.log(rev, limit)
    if as_json:
        _ui.print_json([entry_dict(e) for e in entries])
        return
    render(entries, oneline)


def render(entries: Any, oneline: bool = False) -> None:
    """Print log entries as text (also used by ``dsrepo demo``)."""
    from dsrepo.repo.commit import summary_line

    if not entries:
        _ui.echo("no commits yet")
        return
    for e in entries:
        c = e.commit
        refs = f" ({', '.join(e.refs)})" if e.refs else ""
        if oneline:
            _ui.echo(f"{_project.short(e.id)}{refs} {c.message.splitlines()[0]}")
            continue
        _ui.echo(f"commit {e.id}{refs}")
        _ui.echo(f"Author: {c.author}")
        _ui.echo(f"Date:   {_date(c.time, c.tz)}")
        if c.git:
            dirty = " (dirty)" if c.git.get("dirty") else ""
            _ui.echo(f"Git:    {c.git.get('commit') or 'no commits'}{dirty}")
        _ui.echo("")
        for line in c.message.splitlines():
            _ui.echo(f"    {line}")
        _ui.echo(f"    [{summary_line(dict(c.summary))}]")
        _ui.echo("")


def register(app: typer.Typer) -> None:
    app.command()(log)
