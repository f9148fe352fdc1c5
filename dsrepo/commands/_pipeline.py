"""Rendering build steps (shared by transform, filter, export, info and stages)."""

from __future__ import annotations

from typing import Any, Sequence

from dsrepo.commands import _ui


def step_dict(s: Any) -> dict:
    """JSON form of a build step."""
    return {"target": s.target, "step": s.label, "stage": s.stage, "items": s.items,
            "annotations": s.annotations, "cached": s.cached}


def render_steps(steps: Sequence[Any], indent: str = "  ") -> None:
    """One line per step: ``coco: remap_labels ... -> 120 items, 800 annotations``."""
    for s in steps:
        sid = f"[{s.stage}] " if s.stage else ""
        cached = " (cached)" if s.cached else ""
        _ui.echo(f"{indent}{s.target}: {sid}{s.label} -> {s.items} items, {s.annotations} annotations{cached}")
