"""``dsrepo status``: what changed since the last commit, per source, in items."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from dsrepo.commands import _project, _ui


def _flags(c: Any) -> list[str]:
    out = []
    if c.categories:
        out.append("categories changed")
    if c.subset_meta:
        out.append("subset metadata changed")
    if c.files:
        out.append(f"{_ui.count(c.files, 'non-annotation file')} changed")
    if c.reordered:
        out.append("item order changed")
    if c.unreadable:
        out.append("working copy does not import")
    if c.format or c.options:
        out.append("format or options changed")
    return out


def _key(k: tuple[str, str]) -> str:
    return f"{k[0]}/{k[1]}"


def _as_dict(st: Any, items: bool) -> dict:
    sources = []
    for s in st.sources:
        c = s.change
        d: dict[str, Any] = {"name": s.name, "state": s.state, **c.counts(), "categories_changed": c.categories,
                             "subset_meta_changed": c.subset_meta, "files_changed": c.files,
                             "reordered": c.reordered, "format_or_options_changed": c.format or c.options,
                             "record": s.record, "base": s.base, "skipped_symlinks": list(s.skipped)}
        if items:
            d["items"] = {k: [_key(x) for x in getattr(c, k)] for k in ("added", "removed", "modified")}
        sources.append(d)
    pc = st.pipeline_change
    pipeline = {"merge_policy": st.pipeline.merge_policy, "stages": [x.to_dict() for x in st.pipeline.stages],
                "added": [x.id for x in pc.added], "removed": [x.id for x in pc.removed],
                "policy_changed": list(pc.policy) if pc.policy else None}
    merge = None
    if st.merge is not None:
        merge = {"theirs": st.merge.theirs, "base": st.merge.base,
                 "conflicts": [c.to_json() | {"name": c.name()} for c in st.merge.conflicts]}
    return {"branch": st.branch, "head": st.head, "clean": st.clean, "sources": sources, "pipeline": pipeline,
            "merge": merge}


def status(
    verbose: bool = typer.Option(False, "-v", "--verbose", help="List the changed items."),
    rescan: bool = typer.Option(False, "--rescan", help="Re-read every file instead of trusting the stat cache."),
    project: Optional[Path] = _project.PROJECT,
    as_json: bool = _project.JSON,
) -> None:
    """Show, per source, the items added, removed and modified since HEAD."""
    repo = _project.open_repo(project)
    st = repo.status(rescan, _ui.progress())
    if as_json:
        _ui.print_json(_as_dict(st, True))
        return
    render(st, verbose)


def render(st: Any, verbose: bool = False) -> None:
    """Print a status as text (also used by ``dsrepo demo``)."""
    where = f"On branch {st.branch}" if st.branch else "HEAD detached"
    _ui.echo(f"{where} ({_project.short(st.head)})" if st.head else f"{where} (no commits yet)")
    for s in st.sources:
        c = s.change
        counts = ", ".join(f"{n} {k}" for k, n in c.counts().items() if n)
        detail = "; ".join(([counts] if counts else []) + _flags(c)) if s.state != "clean" else ""
        if s.state in ("added", "removed") and not c.unreadable:
            n = len(c.added) + len(c.removed)
            detail = f"{n} items, {c.files} files"
        if s.state == "missing":
            detail = "working copy folder is missing"
        _ui.echo(f"  {s.name}: {s.state}" + (f": {detail}" if detail else ""))
        if s.skipped:
            _ui.echo(f"    {len(s.skipped)} symlinks leading outside the source were not followed")
        if verbose:
            for mark, keys in (("A", c.added), ("D", c.removed), ("M", c.modified)):
                for k in keys:
                    _ui.echo(f"    {mark} {_key(k)}")
    pc = st.pipeline_change
    for mark, stages in (("+", pc.added), ("-", pc.removed)):
        for x in stages:
            _ui.echo(f"  stage {mark} [{x.id}] {x.target}: {x.describe()}")
    if pc.policy:
        _ui.echo(f"  merge policy: {pc.policy[0]} -> {pc.policy[1]}")
    if st.merge is not None:
        _ui.echo(f"merging {_project.short(st.merge.theirs)}: {len(st.merge.conflicts)} unresolved conflicts")
        for c in st.merge.conflicts:
            _ui.echo(f"  both changed: {c.name()} ({c.reason})")
    if not st.sources:
        _ui.echo("no sources (use `dsrepo add PATH`)")
    elif st.clean:
        _ui.echo("nothing to commit, working copies match HEAD")
    elif st.merge is not None and not st.merge.conflicts:
        _ui.echo("all conflicts resolved: `dsrepo commit` records the merge")


def register(app: typer.Typer) -> None:
    app.command()(status)
