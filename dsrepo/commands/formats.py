"""``dsrepo formats``: list formats and their options."""

from __future__ import annotations

from typing import Optional

import typer

from dsrepo.commands import _ui


def formats(
    name: Optional[str] = typer.Argument(None, help="Show one format only."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List formats with their import and export options."""
    from dsrepo.formats.catalog import describe_formats

    info = describe_formats(name)
    if as_json:
        _ui.print_json(info)
        return
    for f in info:
        caps = "/".join(c for c, ok in (("import", f["import"]), ("export", f["export"]),
                                         ("incremental", f["incremental"])) if ok)
        _ui.echo(f"{f['name']}  [{caps}]  {f['description']}")
        for kind in ("import_options", "export_options"):
            for o in f[kind]:
                default = "" if o["default"] in (None, False, ()) else f" (default: {o['default']})"
                choices = f" [{'|'.join(o['choices'])}]" if o["choices"] else ""
                _ui.echo(f"    {kind.split('_')[0]:6} --{o['name']}{choices}: {o['help']}{default}")


def transforms(
    name: Optional[str] = typer.Argument(None, help="Show one transform only."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List transforms (for `dsrepo transform -t NAME`) with their parameters."""
    from dsrepo.formats.catalog import describe_transforms

    info = describe_transforms(name)
    if as_json:
        _ui.print_json(info)
        return
    for t in info:
        _ui.echo(f"{t['name']}  {t['description']}")
        for o in t["options"]:
            default = "" if o["default"] in (None, False, ()) else f" (default: {o['default']})"
            choices = f" [{'|'.join(o['choices'])}]" if o["choices"] else ""
            _ui.echo(f"    --{o['name']}{choices}: {o['help']}{default}")


def register(app: typer.Typer) -> None:
    app.command()(formats)
    app.command()(transforms)
