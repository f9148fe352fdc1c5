"""``dsrepo diff``: what changed between two revisions (or the working tree, or dataset
folders), per source and subset, item by item and annotation by annotation."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from dsrepo.commands import _project, _ui


def _counts(d: dict[str, int], keys: tuple[str, ...]) -> str:
    return ", ".join(f"{d[k]} {k}" for k in keys)


def _value(v: Any) -> str:
    return "-" if v is None else "x".join(map(str, v)) if isinstance(v, list) else str(v)


def _changes(d: Any) -> str:
    return ", ".join(f"{k} {_value(o)} -> {_value(n)}" for k, (o, n) in d.items())


def _annotation_line(a: Any) -> str:
    label = f" ({a.label})" if a.label is not None else ""
    head = f"{a.type} #{a.id}{label}"
    if a.kind != "changed":
        return f"{'+' if a.kind == 'added' else '-'} {head}"
    parts = []
    for f in a.fields:
        if f == "label":
            parts.append(f"label {a.old_label} -> {a.label}")
        elif f == "geometry":
            parts.append(f"geometry (IoU {a.iou:.4f})")
        elif f == "attributes":
            parts.append(f"attributes {_changes(a.attributes)}")
        elif f == "id":
            parts.append(f"id {a.before.get('id', 0)} -> {a.after.get('id', 0)}")
        elif f == "meta":
            parts.append("format meta")
        else:
            parts.append(f"{f} changed")
    return f"~ {head}: " + "; ".join(parts)


def _render_items(s: Any) -> None:
    marks = {"added": "A", "removed": "D", "modified": "M"}
    for it in s.items:
        _ui.echo(f"    {marks[it.state]} {it.subset}/{it.id}")
        meta_only = [a for a in it.annotations if a.fields == ("meta",)]
        for a in it.annotations:
            if a.fields != ("meta",):
                _ui.echo(f"        {_annotation_line(a)}")
        if meta_only:
            _ui.echo(f"        ~ format meta only: {', '.join(f'{a.type} #{a.id}' for a in meta_only)}")
        if it.media:
            _ui.echo(f"        media: {_changes(it.media)}")
        if it.attributes:
            _ui.echo(f"        attributes: {_changes(it.attributes)}")
        if it.meta_changed:
            _ui.echo("        format meta changed")


def _render_source(s: Any, stat: bool, items: bool) -> None:
    c = s.counts()
    if s.state == "unchanged":
        _ui.echo(f"{s.name}: unchanged ({c['unchanged']} items)")
        return
    _ui.echo(f"{s.name}: {s.state}: {_counts(c, ('added', 'removed', 'modified', 'unchanged'))}")
    for sub in s.subsets:
        _ui.echo(f"  {sub.subset}: {_counts(sub.to_json(), ('added', 'removed', 'modified', 'unchanged'))}")
    if stat:
        return
    if s.decoded and c["modified"]:
        ac = s.annotation_counts()
        kinds: dict[str, int] = {}
        meta_only = 0
        for a in (a for it in s.items for a in it.annotations if a.kind == "changed"):
            if a.fields == ("meta",):
                meta_only += 1
                continue
            for f in a.fields:
                f = "format meta" if f == "meta" else f
                kinds[f] = kinds.get(f, 0) + 1
        ac["changed"] -= meta_only
        detail = f" ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})" if kinds else ""
        meta = f"; {meta_only} with only format meta changed" if meta_only else ""
        _ui.echo(f"  annotations: {_counts(ac, ('added', 'removed', 'changed'))}{detail}{meta}")
        media = sum(1 for it in s.items if it.media)
        if media:
            _ui.echo(f"  media: {media} items changed")
    cat = s.categories
    for label, names in (("added", cat.added), ("removed", cat.removed)):
        if names:
            _ui.echo(f"  labels {label}: {', '.join(names)}")
    for i, old, new in cat.renamed:
        _ui.echo(f"  label renamed: {old} -> {new} (#{i})")
    if cat.changed and not (cat.added or cat.removed or cat.renamed):
        _ui.echo("  categories changed (order, parents, attributes or keypoint schemas)")
    files = s.files_changed if s.state == "modified" else 0
    notes = [("format " + " -> ".join(s.format)) if s.format else "",
             "options changed" if s.options_changed else "",
             "subset metadata changed" if s.subset_meta_changed else "",
             f"{_ui.count(files, 'file')} changed" if files else "",
             "item order changed" if s.reordered else ""]
    if any(notes):
        _ui.echo("  " + "; ".join(n for n in notes if n))
    if items:
        _render_items(s)


def render(d: Any, stat: bool = False, items: bool = False) -> None:
    """Print a diff as text."""
    _ui.echo(f"diff {d.a} -> {d.b}")
    for s in d.sources:
        _render_source(s, stat, items)
    p = d.pipeline
    if p is not None:
        for mark, stages in (("+", p.added), ("-", p.removed)):
            for x in stages:
                _ui.echo(f"stage {mark} [{x.id}] {x.target}: {x.describe()}")
        if p.policy:
            _ui.echo(f"merge policy: {p.policy[0]} -> {p.policy[1]}")
    if d.empty:
        _ui.echo("no differences")


def diff(
    rev_a: Optional[str] = typer.Argument(None, help="Old side: revision, REV:SOURCE, or a dataset path with -f "
                                                     "(default: HEAD)."),
    rev_b: Optional[str] = typer.Argument(None, help="New side (default: the working tree)."),
    format: Optional[str] = typer.Option(None, "-f", "--format", help="Format of dataset paths given as sides."),
    format_b: Optional[str] = typer.Option(None, "--format-b", help="Format of the new side's path (default: -f)."),
    iou: float = typer.Option(0.5, "--iou", help="IoU for matching annotations without stable ids."),
    items: bool = typer.Option(False, "--items", help="List every changed item and its annotation changes."),
    stat: bool = typer.Option(False, "--stat", help="Counts only (items are not decoded)."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Show what changed from REV_A to REV_B per source and subset: items added, removed,
    modified; labels; annotation changes of modified items; pipeline stages."""
    from dsrepo.repo.diff import diff as run_diff

    d = run_diff(project, rev_a or "HEAD", rev_b, format, format_b, iou, not stat, _ui.progress())
    if as_json:
        _ui.print_json(d.to_json())
        return
    render(d, stat, items)


def register(app: typer.Typer) -> None:
    app.command()(diff)
