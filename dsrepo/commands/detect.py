"""``dsrepo detect``: which formats a path looks like."""

from __future__ import annotations

from pathlib import Path

import typer

from dsrepo.commands import _ui


def detect(
    path: Path = typer.Argument(..., help="Dataset file or folder."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print the detected format(s) with confidence, best first."""
    from dsrepo.formats.registry import detect_formats

    found = detect_formats(path)
    if as_json:
        _ui.print_json([{"format": n, "confidence": c} for n, c in found])
        return
    if not found:
        _ui.echo(f"{path}: no known format detected")
        raise typer.Exit(1)
    for name, conf in found:
        _ui.echo(f"{name}\t{conf:.2f}")


def register(app: typer.Typer) -> None:
    app.command()(detect)
