"""``dsrepo merge-datasets``: merge datasets that share no history, in any formats."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dsrepo.commands import _ui


def _split_args(args: List[str]) -> tuple[List[str], List[str]]:
    """Inputs, then export options: everything from the first argument starting with
    ``-`` on (click drops the ``--`` marker and hands us the positionals after it)."""
    for i, a in enumerate(args):
        if a.startswith("-"):
            return args[:i], args[i:]
    return args, []


def _render(report: dict, report_path: Optional[Path]) -> None:
    written = f" -> {report['output']} as {report['format']} ({report['files']} files)" if report["written"] else ""
    _ui.echo(f"merged {len(report['sources'])} datasets ({report['policy']}): {report['items']} items, "
             f"{report['annotations']} annotations, {len(report['labels'])} labels{written}")
    for s in report["sources"]:
        _ui.echo(f"  source {s['source']} {s['path']} ({s['format']}): {s['items']} items, "
                 f"{s['missing_items']} missing, {s['unmatched_annotations']} annotations not kept")
    counts = [("conflicts", "conflicts"), ("renamed", "renamed items"), ("unmatched_items", "unmatched items"),
              ("unmatched_annotations", "unmatched annotations"), ("quorum_lowered", "items with lowered quorum"),
              ("errors", "group errors")]
    parts = [f"{len(report[k])} {label}" for k, label in counts if k in report]
    _ui.echo("  " + ", ".join(parts))
    if report_path is not None:
        _ui.echo(f"report: {report_path}")


def merge_datasets(
    ctx: typer.Context,
    inputs: Optional[List[str]] = typer.Argument(None, help="Datasets to merge: PATH or PATH:FORMAT (2 or more)."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write."),
    output_format: Optional[str] = typer.Option(None, "-f", "--format",
                                                help="Output format (default: the first input's format)."),
    policy: str = typer.Option("exact", "--policy", "-p", help="exact, union or intersect."),
    quorum: int = typer.Option(0, "--quorum", help="intersect: votes needed to keep an annotation "
                                                     "(default 0: a majority of the sources holding the item)."),
    iou: float = typer.Option(0.5, "--iou", help="intersect: minimum overlap for shapes to match."),
    groups: Optional[List[str]] = typer.Option(None, "--groups", "-g",
                                               help="intersect: labels that must appear together, e.g. "
                                                    "'person,hand?,head' (? = optional; repeatable)."),
    report: Optional[Path] = typer.Option(None, "--report",
                                          help="Report file (default: OUTPUT.merge_report.json beside the "
                                               "output folder; with --json: printed only)."),
    import_option: Optional[List[str]] = typer.Option(None, "-I", "--import-option",
                                                      help="Import option for every input (repeatable)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Allow writing into a non-empty folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Merge datasets without shared history into one. Export options follow `--`,
    e.g. `dsrepo merge-datasets a b:yolo -o out -f coco --policy union -- --save-media`."""
    from dsrepo.formats.mergeds import MergeConflictError, default_report_path, merge_datasets as run

    paths, export_args = _split_args(list(inputs or []) + list(ctx.args))
    report_path = report if report is not None or as_json else default_report_path(output)
    import_args = [a for opt in import_option or [] for a in opt.split(" ", 1)]
    try:
        result = run(paths, output, output_format, policy, quorum, iou, list(groups or []), export_args,
                     import_args or None, report_path, overwrite, _ui.progress())
    except MergeConflictError as e:
        if as_json:
            _ui.print_json(e.report)
        raise
    if as_json:
        _ui.print_json(result)
        return
    _render(result, report_path)


def register(app: typer.Typer) -> None:
    app.command("merge-datasets",
                context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(merge_datasets)
