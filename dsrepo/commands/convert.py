"""``dsrepo convert``: import a dataset in one format and export it in another."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dsrepo.commands import _ui


def convert(
    ctx: typer.Context,
    input: Path = typer.Option(..., "-i", "--input", help="Dataset to read."),
    input_format: Optional[str] = typer.Option(None, "-if", "--input-format", help="Input format (default: detect)."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write."),
    output_format: str = typer.Option(..., "-f", "--format", help="Output format."),
    import_option: Optional[List[str]] = typer.Option(None, "-I", "--import-option",
                                                      help="Import option, e.g. -I --subset-folders (repeatable)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Allow writing into a non-empty folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Convert a dataset between formats. Export options follow `--`, e.g. `-- --save-media`."""
    from dsrepo.formats.api import convert as run
    from dsrepo.model.stats import summarize

    progress = _ui.progress()
    import_args = [a for opt in import_option or [] for a in opt.split(" ", 1)]
    ds, report = run(input, output, output_format, input_format, import_args or None, list(ctx.args), progress,
                     overwrite)
    summary = summarize(ds)
    summary.update(counted="input", output=str(output), format=output_format, files=len(report.files),
                   missing_media=len(report.missing_media), warnings=progress.warnings)
    if as_json:
        _ui.print_json(summary)
        return
    _ui.echo(f"read {summary['items']} items, {summary['annotations']} annotations; "
             f"wrote {len(report.files)} files to {output} as {output_format}")
    for subset, counts in summary["subsets"].items():
        _ui.echo(f"  {subset}: {counts['items']} items, {counts['annotations']} annotations")
    if progress.warnings:
        _ui.echo(f"  ({len(progress.warnings)} warnings above: what {output_format} could not hold was dropped "
                 "or changed)")


def register(app: typer.Typer) -> None:
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(convert)
