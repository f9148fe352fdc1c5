"""imagenet_txt patch hook (incremental export, see docs/patch-export.md).

Per item: one line of its subset's list (and its image with ``--save-media``); shared:
the ``<subset>.txt`` lists and the labels file, rebuilt from the unchanged items' rows
and the changed items' lines without decoding the rest. An item's row is ``(its image
or nothing, its line)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress


def _valid(row: Any) -> bool:
    return isinstance(row, (list, tuple)) and len(row) == 2 and isinstance(row[1], str) \
        and "\n" not in row[1] and "\r" not in row[1]


def patch_imagenet_txt(changed: Dataset, order: Sequence[tuple[str, str]],
                       rows: Mapping[tuple[str, str], PatchRow], out: Path, options: Mapping[str, Any],
                       progress: Progress, prev: Path | None = None
                       ) -> tuple[ExportReport, dict[tuple[str, str], PatchRow]] | None:
    """Write the changed items' images and every list exactly as :func:`save_imagenet_txt` does."""
    from dsrepo.formats.common.lossy import LossTracker
    from dsrepo.formats.image_dir.media import warn_missing
    from dsrepo.formats.imagenet.txt_exporter import check_names, item_line, output_names, write_lists, write_media

    out = Path(out)
    try:
        labels_file, image_dir = output_names(options)
        names = changed.categories.label_names()
        check_names(names, labels_file)
        tracker = LossTracker("imagenet_txt", progress, bool(options.get("strict")))
        save_media, image_ext = bool(options.get("save_media")), options.get("image_ext")
        new_rows: dict[tuple[str, str], PatchRow] = {}
        files: list[str] = []
        missing: list[str] = []
        with progress.task("imagenet_txt: writing changed items") as bar:
            for item in changed:
                line = item_line(item, len(names), tracker)
                owned: tuple[str, ...] = ()
                if save_media:
                    rel = write_media(item, out, image_dir, image_ext)
                    if rel is None:
                        missing.append(item.id)
                    else:
                        owned = (rel,)
                        files.append(rel)
                new_rows[item.key] = (owned, line)
                bar.advance()
        tracker.finish()
        lines: dict[str, list[str]] = {s: [] for s in changed.subset_meta}
        for key in order:
            row = new_rows.get(key) or rows.get(key)
            if row is None or not _valid(row):
                return None
            lines.setdefault(key[0], []).append(row[1])
        files += write_lists(out, lines, names, labels_file)
    except ExportError:
        return None  # a full export reports it (with every item in view)
    warn_missing(progress, "imagenet_txt", missing)
    return ExportReport(files=tuple(sorted(files)), missing_media=tuple(missing)), new_rows
