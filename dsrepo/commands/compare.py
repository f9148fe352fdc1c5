"""``dsrepo compare``: two datasets compared exactly or by annotation distance."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

from dsrepo.commands import _project, _ui


def _render_exact(r: Any) -> None:
    cats = r["categories"]
    _ui.echo("equal: " + ("yes" if r["equal"] else "no"))
    if cats["equal"]:
        _ui.echo("categories: equal")
    else:
        _ui.echo(f"categories: only in A: {', '.join(cats['only_a']) or '-'}; "
                 f"only in B: {', '.join(cats['only_b']) or '-'}")
    _ui.echo(f"items: {r['items_equal']} equal, {len(r['mismatches'])} differ, {len(r['only_a'])} only in A, "
             f"{len(r['only_b'])} only in B")
    if r["mismatches"]:
        rows = [[f"{m['subset']}/{m['id']}", m["annotations_added"], m["annotations_removed"],
                 len(m["annotations_changed"]), "yes" if m["media_changed"] else "no",
                 ",".join(m["attributes"]) or "-"] for m in r["mismatches"]]
        _ui.table(["item", "anns added", "anns removed", "anns changed", "media", "attributes"], rows)
    for label, keys in (("only in A", r["only_a"]), ("only in B", r["only_b"])):
        for k in keys:
            _ui.echo(f"{label}: {k[0]}/{k[1]}")


def _render_distance(r: Any) -> None:
    agree = "-" if r["label_agreement"] is None else f"{r['label_agreement']:.4f}"
    _ui.echo(f"items compared: {r['items_compared']}; matched annotations: {r['matched']}; "
             f"label agreement: {agree}; mispredictions: {len(r['mispredictions'])}")
    if r["confusion"]:
        _ui.table(["A label", "B label", "count"], [[c["a"], c["b"], c["count"]] for c in r["confusion"]])
    for m in r["mispredictions"]:
        _ui.echo(f"misprediction: {m['subset']}/{m['id']}: {m['a_label']} -> {m['b_label']} (IoU {m['iou']})")
    for label, d in (("unmatched in A", r["unmatched_a"]), ("unmatched in B", r["unmatched_b"])):
        if d:
            _ui.echo(f"{label}: " + ", ".join(f"{k} {n}" for k, n in d.items()))


def compare(
    a: str = typer.Argument(..., help="First dataset: a path with -f, REV (one source) or REV:SOURCE."),
    b: str = typer.Argument(..., help="Second dataset: a path (-f or --format-b), REV or REV:SOURCE."),
    format: Optional[str] = typer.Option(None, "-f", "--format", help="Format of dataset paths."),
    format_b: Optional[str] = typer.Option(None, "--format-b", help="Format of B's path (default: -f)."),
    mode: str = typer.Option("exact", "-m", "--mode", help="exact, or distance (IoU matching, confusion)."),
    iou: float = typer.Option(0.5, "--iou", help="IoU threshold for matching annotations."),
    ignored_attrs: List[str] = typer.Option([], "--ignored-attrs", help="Annotation attribute to ignore "
                                                                       "(exact mode; repeatable)."),
    ignored_item_attrs: List[str] = typer.Option([], "--ignored-item-attrs", help="Item attribute to ignore "
                                                                                 "(exact mode; repeatable)."),
    ignore_meta: bool = typer.Option(True, "--ignore-meta/--compare-meta", help="Leave format meta out (exact)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Also write the JSON report here."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Compare dataset A with dataset B: exactly (items, annotations, categories) or by
    annotation distance (IoU matching, per-label confusion, mispredictions)."""
    from dsrepo.repo.compare import compare as run_compare

    c = run_compare(project, a, b, format, format_b, mode, iou, ignored_attrs, ignored_item_attrs, ignore_meta,
                    output, _ui.progress())
    if as_json:
        _ui.print_json(c.to_json())
        return
    _ui.echo(f"compare ({c.mode}" + (f", IoU >= {iou}" if c.mode == "distance" else "") + f"): {c.a} -> {c.b}")
    (_render_exact if c.mode == "exact" else _render_distance)(c.report)
    if c.out:
        _ui.echo(f"report written to {c.out}")


def register(app: typer.Typer) -> None:
    app.command()(compare)
