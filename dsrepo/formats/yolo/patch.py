"""Darknet YOLO patch hook (incremental export, see docs/patch-export.md).

Per item: its label file (and image with ``--save-media``); shared: the subset image
lists, ``obj.names`` and ``obj.data``. An item's row is ``([label file, image?], list
line, label file])``, so the lists are rebuilt from the rows of unchanged items and the lines of
the changed ones without decoding the rest. The per-item code mirrors
:func:`save_darknet` line for line; the property tests compare both byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import DatasetError, ExportError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress


def patch_darknet(changed: Dataset, order: Sequence[tuple[str, str]], rows: Mapping[tuple[str, str], PatchRow],
                  out: Path, options: Mapping[str, Any], progress: Progress,
                  prev: Path | None = None) -> tuple[ExportReport, dict[tuple[str, str], PatchRow]] | None:
    """Write the changed items' label files and every shared file as save_darknet does."""
    from dsrepo.formats.common.lossy import LossTracker
    from dsrepo.formats.yolo.darknet_in import DATA_FILE, RESERVED, local_path
    from dsrepo.formats.yolo.darknet_out import _data_entries, _data_text, _names_file_text, _stored, item_paths
    from dsrepo.formats.yolo.labels import NS
    from dsrepo.formats.yolo.writer import FileSink, LineMode, LineWriter, item_meta, \
        label_path_of, write_item

    seen: dict[str, None] = {}
    for s, _i in order:
        seen.setdefault(s, None)
    for s in changed.subset_meta:
        seen.setdefault(s, None)
    subsets = list(seen)
    for s in subsets:
        if s in RESERVED or "/" in s or s != s.strip() or not s or "=" in s or s.startswith("#"):
            return None  # the full export reports it
    stored = _stored(changed)
    strip_data = not stored.get("dd")
    names = changed.categories.label_names()
    for n in names:
        if not n.strip() or n != n.strip() or "\n" in n or "\r" in n:
            return None
    entries = _data_entries(stored, subsets, len(names))
    values = dict(entries)
    tracker = LossTracker("yolo", progress, bool(options.get("strict")))
    writer = LineWriter(LineMode(), len(names), tracker)
    sink = FileSink(Path(out))
    image_ext = options.get("image_ext")
    new_rows: dict[tuple[str, str], PatchRow] = {}
    seen: dict[str, tuple[str, str]] = {}
    with progress.task("yolo: writing changed labels", total=len(changed)) as bar:
        for item in changed:
            m = item_meta(item, NS)
            rel, line = item_paths(item, m, image_ext, strip_data)
            label = label_path_of(rel)
            try:
                files = write_item(sink, writer, item, m, rel, label, seen, bool(options.get("save_media")),
                                   image_ext)
            except ExportError:
                return None  # two changed items would share a label file: the full export reports it
            new_rows[item.key] = (tuple(files), [line, label])
            bar.advance()
    try:
        tracker.finish()
    except ExportError:
        return None
    lists: dict[str, list[str]] = {s: [] for s in subsets}
    labels: set[str] = set()
    for key in order:
        row = new_rows.get(key) or rows.get(key)
        if row is None or row[1][1] in labels:
            return None  # two items would share a label file: the full export reports it
        labels.add(row[1][1])
        lists[key[0]].append(row[1][0])
    try:
        for s in subsets:
            sink.text(local_path(values[s], strip_data, None, None), "".join(ln + "\n" for ln in lists[s]))
        sink.text(local_path(values["names"], strip_data, None, None), _names_file_text(stored, names))
    except DatasetError:
        return None
    sink.text(DATA_FILE, _data_text(stored, entries))
    return ExportReport(files=tuple(sorted(sink.files)), missing_media=tuple(sink.missing)), new_rows
