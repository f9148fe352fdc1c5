"""``export``: build a revision's target and write it in any format."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.build import Step, build
from dsrepo.repo.pipeline import FILTER, PROJECT, Stage, stage_id, validate_filter

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What was exported: revision (None = working tree), target, format, folder, the
    files written, items/annotations written and the build steps."""

    commit: str | None
    target: str
    format: str
    out: str
    files: tuple[str, ...]
    missing_media: tuple[str, ...]
    items: int
    annotations: int
    steps: tuple[Step, ...]


def export(repo: "Repo", rev: str | None, format: str, out: str | Path, target: str = PROJECT,
           options: Sequence[str] | Mapping[str, Any] | None = None, overwrite: bool = False,
           filter_expr: str | None = None, filter_mode: str = "items",
           progress: Progress = NULL_PROGRESS, merge_policy: str | None = None) -> ExportResult:
    """Build ``target`` of ``rev`` (None: the working tree), optionally filtered by
    ``filter_expr``, and export it to folder ``out`` in ``format`` with ``options``
    (``merge_policy`` overrides the revision's policy for combining sources).

    The same revision exported twice gives byte-identical files. Refuses a non-empty
    folder without ``overwrite`` and never deletes files (ExportError)."""
    from dsrepo.formats.api import export_dataset
    from dsrepo.formats.base import parse_options
    from dsrepo.formats.registry import get_format

    spec = get_format(format)
    parse_options(spec.export_options, options, f"{format} export")  # bad options fail before building
    commit = repo.resolve(rev) if rev is not None else None
    extra = None
    if filter_expr:
        params = validate_filter(filter_expr, filter_mode, False)
        extra = Stage(stage_id("export", target, FILTER, FILTER, params), target, FILTER, FILTER, params)
    built = build(repo, rev, target, extra=extra, progress=progress, merge_policy=merge_policy)
    report = export_dataset(built.dataset, out, format, options, progress, overwrite)
    last = built.steps[-1]
    return ExportResult(commit, target, format, str(out), tuple(report.files), tuple(report.missing_media),
                        int(last.items), int(last.annotations), built.steps)
