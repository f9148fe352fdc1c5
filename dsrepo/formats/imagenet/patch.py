"""imagenet patch hook (incremental export, see docs/patch-export.md).

The folder layout is the annotation: an item's files are its image in each of its label
folders, under its subset's folder unless every item is in ``default``. A patch writes
the changed items' images with the exporter's own helpers. An item's row is ``(its
files, its subset's folder prefix)``; when the layout changes between flat and per
subset, the unchanged items' files would move, so the hook declines and the full export
runs. Empty folders of unused labels are not files, so they are not part of a patch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress


def patch_imagenet(changed: Dataset, order: Sequence[tuple[str, str]], rows: Mapping[tuple[str, str], PatchRow],
                   out: Path, options: Mapping[str, Any], progress: Progress,
                   prev: Path | None = None) -> tuple[ExportReport, dict[tuple[str, str], PatchRow]] | None:
    """Write the changed items' images exactly as :func:`save_imagenet` does."""
    from dsrepo.formats.common.lossy import LossTracker
    from dsrepo.formats.image_dir.media import warn_missing
    from dsrepo.formats.imagenet.exporter import label_names, plan_item, subset_prefixes, write_planned

    try:
        names = label_names(changed)
        subsets = dict.fromkeys(changed.subset_meta)
        for s, _i in order:
            subsets.setdefault(s, None)
        prefixes = subset_prefixes(subsets)
        for key, row in rows.items():
            if not (isinstance(row, (list, tuple)) and len(row) == 2) or row[1] != prefixes.get(key[0]):
                return None  # the layout changed (flat <-> per subset): every file moves
        tracker = LossTracker("imagenet", progress, bool(options.get("strict")))
        image_ext = options.get("image_ext")
        files: list[str] = []
        missing: list[str] = []
        new_rows: dict[tuple[str, str], PatchRow] = {}
        with progress.task("imagenet: writing changed images") as bar:
            for item in changed:
                planned = plan_item(item, names, tracker, image_ext)
                prefix = prefixes[item.subset]
                if planned is None:
                    missing.append(item.id)
                    new_rows[item.key] = ((), prefix)
                else:
                    rels = write_planned(planned, Path(out), prefix)
                    files.extend(rels)
                    new_rows[item.key] = (tuple(rels), prefix)
                bar.advance()
        tracker.finish()
    except ExportError:
        return None  # a full export reports it (with every item in view)
    warn_missing(progress, "imagenet", missing)
    return ExportReport(files=tuple(sorted(files)), missing_media=tuple(missing)), new_rows
