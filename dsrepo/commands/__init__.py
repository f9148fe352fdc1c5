"""Typer CLI: one module per command; parse, call one core function, render."""
