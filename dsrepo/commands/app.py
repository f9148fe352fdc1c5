"""The ``dsrepo`` command-line application.

Command modules are registered here explicitly. They import only typer at module
level; everything heavy is imported inside the command function, so ``--help`` is fast.
"""

from __future__ import annotations

import sys

import typer

from dsrepo.commands import _ui

app = typer.Typer(
    name="dsrepo",
    help="Git for computer-vision datasets: version, diff, merge and export datasets item by item.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or warnings.")) -> None:
    _ui.STATE.quiet = quiet


def _register() -> None:
    from dsrepo.commands import (
        add, branch, checkout, commit, compare, convert, create, demo, detect, diff, export, formats, fsck, gc,
        info, log, merge, merge_datasets, patch_export, pin, remove, stages, status, transform, update,
    )

    for module in (demo, convert, detect, formats, merge_datasets, create, add, update, remove, status, commit, log,
                   info, diff, compare, checkout, branch, merge, transform, stages, export, patch_export, fsck, gc,
                   pin):
        module.register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, map DsrepoError to a one-line message and exit code."""
    from dsrepo.errors import DsrepoError

    try:
        app(args=argv, standalone_mode=True)
    except DsrepoError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
