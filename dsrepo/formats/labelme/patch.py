"""LabelMe patch hook (incremental export, see docs/patch-export.md).

Every item is one ``<id>.json`` (plus its image with ``--save-media``) and nothing is
shared between items, so a patch writes the changed items with the exporter's own
writer. An item's row is ``([json file, image file?], None)``; two items saving the
same image file show up as two owners of one file, and the export falls back to a
full one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET
from dsrepo.progress import Progress


def patch_labelme(changed: Dataset, order: Sequence[tuple[str, str]], rows: Mapping[tuple[str, str], PatchRow],
                  out: Path, options: Mapping[str, Any], progress: Progress,
                  prev: Path | None = None) -> tuple[ExportReport, dict[tuple[str, str], PatchRow]] | None:
    """Write the changed items' files exactly as :func:`save_labelme` does."""
    from dsrepo.formats.labelme.exporter import _Writer

    w = _Writer(Path(out), options, progress, changed.categories.label_names())
    new_rows: dict[tuple[str, str], PatchRow] = {}
    try:
        for item in changed:
            w.write_item(item)
            files = [w.files[-1]]  # the JSON file is appended last
            name = w.image_name(item)
            if w.save_media and name is not None:
                sub = "" if item.subset == DEFAULT_SUBSET else item.subset + "/"
                if w.images_written.get(sub + name) is not None:
                    files.append(sub + name)
            new_rows[item.key] = (tuple(files), None)
        w.loss.finish()
    except ExportError:
        return None  # a full export reports it (with every item in view)
    return ExportReport(files=tuple(sorted(w.files)), missing_media=tuple(sorted(set(w.missing)))), new_rows
