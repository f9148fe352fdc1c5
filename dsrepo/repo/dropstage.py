"""``remove_stage``: drop one stage from the working pipeline (``dsrepo stages remove``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsrepo.errors import RepoError
from dsrepo.repo.pipeline import Pipeline, Stage, load_pipeline, rechain, save_pipeline

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


def remove_stage(repo: "Repo", stage_id: str) -> Stage:
    """Remove the stage whose id starts with ``stage_id``; later stages get new ids
    (ids are chained). RepoError if no stage or several stages match."""
    with repo.lock():
        pipeline = load_pipeline(repo.layout)
        found = [s for s in pipeline.stages if s.id.startswith(stage_id)] if stage_id else []
        if not found:
            ids = ", ".join(s.id for s in pipeline.stages) or "none"
            raise RepoError(f"no stage {stage_id!r} in the working pipeline (stages: {ids})")
        if len(found) > 1:
            raise RepoError(f"stage id {stage_id!r} is ambiguous ({', '.join(s.id for s in found)})")
        rest = rechain(s for s in pipeline.stages if s is not found[0])
        save_pipeline(repo.layout, Pipeline(rest, pipeline.merge_policy))
    return found[0]
