"""``add_stage``: append a transform or filter to the working pipeline (``dsrepo
transform`` / ``dsrepo filter``), or preview its effect without recording it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from dsrepo.errors import RepoError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.build import Step, build
from dsrepo.repo.pipeline import (
    FILTER, PROJECT, TRANSFORM, Stage, load_pipeline, rechain, save_pipeline, stage_id, validate_filter,
    validate_transform,
)
from dsrepo.repo.worktree import tracked_sources

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class StageResult:
    """The stage, whether it was recorded, the build steps of its target with it (the
    last step is the stage's own effect) and, for filters, one input item as XML."""

    stage: Stage
    recorded: bool
    steps: tuple[Step, ...]
    preview: str | None = None


def _preview(built_input: Any) -> str | None:
    from dsrepo.model.filter import item_to_xml

    for item in built_input.dataset:
        return item_to_xml(item, built_input.dataset.categories)
    return None


def add_stage(repo: "Repo", target: str, kind: str, name: str,
              params: Mapping[str, Any] | Sequence[str] | None = None, dry_run: bool = False,
              progress: Progress = NULL_PROGRESS) -> StageResult:
    """Append stage ``kind`` ("transform" with transform ``name``, or "filter" with
    params ``expr``/``mode``/``remove_empty``) for ``target`` (a source or "project").

    The target is built with the stage to report its effect; with ``dry_run`` nothing
    is recorded. UsageError for unknown transforms or bad parameters, RepoError for an
    unknown target; the pipeline is unchanged then."""
    if target != PROJECT and target not in tracked_sources(repo.layout):
        raise RepoError(f"no source named {target!r} (sources: {', '.join(tracked_sources(repo.layout)) or 'none'}; "
                        f"or use {PROJECT!r})")
    if kind == TRANSFORM:
        plain = validate_transform(name, params)
    elif kind == FILTER:
        p = dict(params or {})
        plain = validate_filter(str(p.get("expr") or ""), str(p.get("mode") or "items"), bool(p.get("remove_empty")))
        name = FILTER
    else:
        raise RepoError(f"unknown stage kind {kind!r}")
    pipeline = load_pipeline(repo.layout)
    prev = pipeline.stages[-1].id if pipeline.stages else ""
    stage = Stage(stage_id(prev, target, kind, name, plain), target, kind, name, plain)
    built = build(repo, None, target, extra=stage, progress=progress)
    preview = None
    if kind == FILTER and dry_run:
        preview = _preview(build(repo, None, target, progress=progress))
    if dry_run:
        return StageResult(stage, False, built.steps, preview)
    with repo.lock():
        current = load_pipeline(repo.layout)
        stages = rechain((*current.stages, stage))
        save_pipeline(repo.layout, current.__class__(stages, current.merge_policy))
    return StageResult(stages[-1], True, built.steps, preview)
