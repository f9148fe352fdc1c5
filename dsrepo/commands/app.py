"""The ``dsrepo`` command-line application.

Command modules are listed here explicitly (:data:`COMMANDS`). They import only typer at
module level; everything heavy is imported inside the command function, so ``--help`` is
fast. A run imports and registers only the module of the command it runs.
"""

from __future__ import annotations

import sys

import typer

from dsrepo.commands import _ui

# Every command and the module that registers it, in the order ``--help`` lists them.
COMMANDS = {
    "demo": "demo", "convert": "convert", "detect": "detect", "formats": "formats", "transforms": "formats",
    "merge-datasets": "merge_datasets", "create": "create", "add": "add", "update": "update", "remove": "remove",
    "status": "status", "commit": "commit", "log": "log", "info": "info", "diff": "diff", "compare": "compare",
    "checkout": "checkout", "branch": "branch", "tag": "branch", "merge": "merge", "resolve": "merge",
    "transform": "transform", "filter": "transform", "stages": "stages", "export": "export",
    "patch-export": "patch_export",
    "fsck": "fsck", "gc": "gc", "pin": "pin",
}


def _quiet(quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or warnings.")) -> None:
    _ui.STATE.quiet = quiet


def build(command: str | None = None) -> typer.Typer:
    """The application with every command, or with only ``command`` (one of
    :data:`COMMANDS`): what one run needs, since typer builds every registered command's
    parser on each call (~12 ms for all of them)."""
    import importlib

    app = typer.Typer(
        name="dsrepo",
        help="Git for computer-vision datasets: version, diff, merge and export datasets item by item.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
    )
    app.callback()(_quiet)
    modules = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        importlib.import_module(f"dsrepo.commands.{name}").register(app)
    return app


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # (the full application, built on first use)
        global app
        app = build()
        return app
    raise AttributeError(name)


def _command(args: list[str]) -> str | None:
    """The command name in a command line (None: only options, e.g. ``--help``)."""
    for a in args:
        if not a.startswith("-"):
            return a
    return None


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, map DsrepoError to a one-line message and exit code."""
    from dsrepo.errors import DsrepoError

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        build(_command(args))(args=args, standalone_mode=True)
    except DsrepoError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
