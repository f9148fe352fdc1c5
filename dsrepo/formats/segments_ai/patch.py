"""Segments.ai patch hook (incremental export, see docs/patch-export.md).

A release file holds every sample of its subset, so every changed subset's file is
written again, but only the changed items are converted (and their segmentation bitmaps
encoded): an item's row keeps its sample exactly as the exporter built it (a JSON
object kept as JSON text, since rows may be stored with sorted keys and the release file
keeps the exporter's key order) and whether it had masks. The files are
then written by the exporter itself, byte for byte as a full export.

Row: ``(its bitmap and image files, [has masks, sample as JSON text])``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import orjson

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.formats.common.earlier import walk_order
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress


def _valid(row: Any) -> bool:
    return isinstance(row, (list, tuple)) and len(row) == 2 and isinstance(row[1], list) and len(row[1]) == 2 \
        and isinstance(row[1][0], bool) and isinstance(row[1][1], str)


def patch_segments(changed: Dataset, order: Sequence[tuple[str, str]], rows: Mapping[tuple[str, str], PatchRow],
                   out: Path, options: Mapping[str, Any], progress: Progress,
                   prev: Path | None = None) -> tuple[ExportReport, dict[tuple[str, str], PatchRow]] | None:
    """Write every release file (and the changed items' bitmaps and images) exactly as
    :func:`save_segments` does, converting only the changed items."""
    from dsrepo.formats.segments_ai.exporter import _Export

    ex = _Export(changed, Path(out), options, progress)
    new_rows: dict[tuple[str, str], PatchRow] = {}
    try:
        with progress.task("segments_ai: writing changed items", total=sum(k not in rows for k in order)) as bar:
            for key, row, item in walk_order(order, rows, changed):
                if row is not None:
                    if not _valid(row):
                        return None
                    try:
                        sample = orjson.loads(row[1][1])
                    except orjson.JSONDecodeError:
                        return None
                    if not isinstance(sample, dict):
                        return None
                    ex.add_sample(key[0], sample, row[1][0])
                    new_rows[key] = (tuple(row[0]), row[1])
                    continue
                n = len(ex.files)
                ex.add(item)
                sample_text = orjson.dumps(ex.samples[item.subset][-1]).decode()
                new_rows[key] = (tuple(ex.files[n:]), [ex.last_masks, sample_text])
                bar.advance()
        ex.finish()
    except (ExportError, TypeError, ValueError):
        return None  # a full export reports it (with every item in view)
    return ExportReport(files=tuple(sorted(ex.files)), missing_media=tuple(ex.missing)), new_rows
