"""``set_merge_policy``: how sources combine into the project dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsrepo.errors import UsageError
from dsrepo.repo.pipeline import MERGE_POLICIES, Pipeline, load_pipeline, save_pipeline

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


def set_merge_policy(repo: "Repo", policy: str) -> str:
    """Set the working pipeline's merge policy ("exact": equal (subset, id) items of two
    sources must be identical; "union": differing ones are both kept, the later one
    with a ``__<source>`` id suffix). Returns the previous policy."""
    if policy not in MERGE_POLICIES:
        raise UsageError(f"merge policy must be one of {', '.join(MERGE_POLICIES)}, got {policy!r}")
    with repo.lock():
        p = load_pipeline(repo.layout)
        save_pipeline(repo.layout, Pipeline(p.stages, policy))
    return p.merge_policy
