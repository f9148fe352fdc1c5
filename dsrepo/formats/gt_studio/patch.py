"""GT Studio patch hook (incremental export, see docs/patch-export.md).

Every item is one ``<id>.json`` (plus its raster PNG, and its image with
``--save-media``) and nothing is shared between items, so a patch writes the changed
items with the exporter itself. An item's row is ``(its files, None)``. An id used in
two subsets would give two owners of one file: the engine then runs the full export,
which reports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress


def patch_gt(changed: Dataset, order: Sequence[tuple[str, str]], rows: Mapping[tuple[str, str], PatchRow],
             out: Path, options: Mapping[str, Any], progress: Progress,
             prev: Path | None = None) -> tuple[ExportReport, dict[tuple[str, str], PatchRow]] | None:
    """Write the changed items' files exactly as :func:`save_gt` does."""
    from dsrepo.formats.gt_studio.exporter import _Export

    ex = _Export(changed, Path(out), options, progress)
    new_rows: dict[tuple[str, str], PatchRow] = {}
    try:
        with progress.task("gt_studio: writing changed items") as bar:
            for item in changed:
                n = len(ex.files)
                ex.add(item)
                new_rows[item.key] = (tuple(ex.files[n:]), None)
                bar.advance()
        ex.finish()
    except ExportError:
        return None  # a full export reports it (with every item in view)
    return ExportReport(files=tuple(sorted(ex.files)), missing_media=tuple(ex.missing)), new_rows
