"""image_dir patch hook (incremental export, see docs/patch-export.md).

The images are the dataset: an item's one file is ``<id><ext>``, and nothing is shared,
so a patch writes the changed items' images with the exporter's own helper. An item's
row is ``(its file, None)``. An id used in two subsets is an error of the full export,
so the hook declines then and the full export reports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET
from dsrepo.progress import Progress


def patch_image_dir(changed: Dataset, order: Sequence[tuple[str, str]],
                    rows: Mapping[tuple[str, str], PatchRow], out: Path, options: Mapping[str, Any],
                    progress: Progress, prev: Path | None = None
                    ) -> tuple[ExportReport, dict[tuple[str, str], PatchRow]] | None:
    """Write the changed items' images exactly as :func:`save_image_dir` does."""
    from dsrepo.formats.common.lossy import SUBSET_NAMES, LossTracker
    from dsrepo.formats.image_dir.exporter import write_item
    from dsrepo.formats.image_dir.media import warn_missing

    ids = [i for _s, i in order]
    if len(set(ids)) != len(ids):
        return None  # an id in two subsets: the full export reports it
    tracker = LossTracker("image_dir", progress, bool(options.get("strict")))
    image_ext = options.get("image_ext")
    files: list[str] = []
    missing: list[str] = []
    new_rows: dict[tuple[str, str], PatchRow] = {}
    other_subsets = 0
    try:
        with progress.task("image_dir: writing changed images") as bar:
            for item in changed:
                other_subsets += item.subset != DEFAULT_SUBSET
                rel = write_item(item, Path(out), image_ext, tracker)
                if rel is None:
                    missing.append(item.id)
                    new_rows[item.key] = ((), None)
                else:
                    files.append(rel)
                    new_rows[item.key] = ((rel,), None)
                bar.advance()
        if other_subsets:
            tracker.drop(SUBSET_NAMES, other_subsets)
        tracker.finish()
    except ExportError:
        return None  # a full export reports it (with every item in view)
    warn_missing(progress, "image_dir", missing)
    return ExportReport(files=tuple(sorted(files)), missing_media=tuple(missing)), new_rows
