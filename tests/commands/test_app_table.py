"""The CLI builds only the invoked command; its table must name every command's module."""

from __future__ import annotations

import importlib

import typer
import typer.main

from dsrepo.commands.app import COMMANDS, build

from .helpers import run


def test_the_table_lists_every_command_with_the_module_that_registers_it():
    found = {}
    for module in dict.fromkeys(COMMANDS.values()):
        app = typer.Typer()
        importlib.import_module(f"dsrepo.commands.{module}").register(app)
        for c in app.registered_commands:
            found[c.name or typer.main.get_command_name(c.callback.__name__)] = module
    assert found == COMMANDS
    assert list(typer.main.get_command(build()).commands) == list(COMMANDS)  # (the --help order)


def test_one_command_app_has_that_command_only():
    assert list(typer.main.get_command(build("tag")).commands) == ["branch", "tag"]


def test_help_and_unknown_commands_see_every_command(capsys):
    code, out, _err = run(capsys, "--help")
    assert code == 0 and all(f"  {name} " in out for name in COMMANDS)
    code, out, err = run(capsys, "-q", "frobnicate")
    assert code == 2 and "No such command 'frobnicate'" in out + err
