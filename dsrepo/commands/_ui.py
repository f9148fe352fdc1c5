"""CLI rendering helpers: the rich progress implementation, output, error mapping."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Any, Iterator

import typer


class _State:
    quiet: bool = False


STATE = _State()


def is_interactive() -> bool:
    return sys.stderr.isatty() and not STATE.quiet


class _RichTask:
    def __init__(self, progress: Any, task_id: Any) -> None:
        self._p = progress
        self._id = task_id

    def advance(self, n: int = 1) -> None:
        self._p.advance(self._id, n)


class _QuietTask:
    def advance(self, n: int = 1) -> None:
        return None


class CliProgress:
    """Progress rendered with rich on a terminal; silent when piped or ``--quiet``.
    Warnings always go to stderr (one line each) unless ``--quiet``."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    @contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Any]:
        if not is_interactive():
            yield _QuietTask()
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=True) as p:
            tid = p.add_task(description, total=total)
            yield _RichTask(p, tid)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        if not STATE.quiet:
            typer.echo(f"warning: {message}", err=True)


def progress() -> CliProgress:
    """A fresh CLI progress sink."""
    return CliProgress()


def count(n: int, noun: str) -> str:
    """``"1 file"``, ``"3 files"``: ``n`` and ``noun``, plural unless ``n`` is 1."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def echo(text: str = "") -> None:
    """Print a line of normal output (suppressed by nothing: it is the command's result)."""
    typer.echo(text)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def table(columns: list[str], rows: list[list[Any]]) -> None:
    """Print a simple table (rich when interactive, tab-separated otherwise)."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        t = Table(*columns)
        for r in rows:
            t.add_row(*(str(c) for c in r))
        Console().print(t)
    else:
        typer.echo("\t".join(columns))
        for r in rows:
            typer.echo("\t".join(str(c) for c in r))
