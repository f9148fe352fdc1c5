"""Ultralytics YOLO patch hook (incremental export, see docs/patch-export.md).

Per item: ``labels/<split>/<name>.txt`` (and its image with ``--save-media``); shared:
``data.yaml`` and the image list files of splits given as ``.txt`` lists. An item's row
is ``([label file, image?], [list file or None, list line or None, label file])``, so
the lists are rebuilt from the rows of unchanged items without decoding them. The
per-item code mirrors :func:`dsrepo.formats.yolo.ultra_out.save_ultralytics` line for
line; the property tests compare both byte for byte.

Declined (the full export runs and reports): split names the YAML cannot hold, ``--task
pose`` without keypoint schemas, images outside their list's folder, two items sharing a
label file, ``--strict`` losses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress

Key = tuple[str, str]


def patch_ultralytics(changed: Dataset, order: Sequence[Key], rows: Mapping[Key, PatchRow], out: Path,
                      options: Mapping[str, Any], progress: Progress,
                      prev: Path | None = None) -> tuple[ExportReport, dict[Key, PatchRow]] | None:
    """Write the changed items' label files and every shared file as save_ultralytics does;
    None (decline) for what the full export would reject."""
    from dsrepo.formats.common.lossy import LossTracker
    from dsrepo.formats.yolo.labels import NS_ULTRALYTICS as NS
    from dsrepo.formats.yolo.ultra_in import DEFAULT_YAML, default_folder, is_list_file, label_of, list_line
    from dsrepo.formats.yolo.ultra_out import finish_files, _image_rel, _load_doc, _pose_shape, _resolves, _split_paths, \
        _stored, _yaml_text
    from dsrepo.formats.yolo.writer import FileSink, LineMode, LineWriter, image_filename, item_meta, \
        write_item
    from dsrepo.formats.yolo.yamlio import load_yaml

    ds = changed
    seen: dict[str, None] = {}
    for s, _i in order:
        seen.setdefault(s, None)
    for s in ds.subset_meta:
        seen.setdefault(s, None)
    subsets = list(seen)
    for s in subsets:
        if "/" in s or s.startswith(".") or s in ("names", "nc", "path", "kpt_shape"):
            return None
    stored = _stored(ds)
    doc = _load_doc(stored)
    names = ds.categories.label_names()
    task = options.get("task") or "auto"
    try:
        kpt = _pose_shape(doc, ds, task)
    except ExportError:
        return None
    yaml_text = _yaml_text(stored, doc, names, kpt, subsets)
    paths = {s: _split_paths(load_yaml(yaml_text, DEFAULT_YAML), s) for s in subsets}
    tracker = LossTracker("yolo_ultralytics", progress, bool(options.get("strict")))
    mode = LineMode(polygons=kpt is None and task != "detect", kpt_shape=kpt,
                    masks_to_polygons=bool(options.get("masks_to_polygons")))
    writer = LineWriter(mode, len(names), tracker)
    sink = FileSink(Path(out))
    image_ext = options.get("image_ext")
    new_rows: dict[Key, PatchRow] = {}
    seen: dict[str, Key] = {}
    with progress.task("yolo_ultralytics: writing changed labels", total=len(ds)) as bar:
        for item in ds:  # mirrors save_ultralytics
            m = item_meta(item, NS)
            rels = paths[item.subset]
            rel = _image_rel(m, image_filename(item, image_ext), default_folder(rels, item.subset))
            list_rel = next((r for r in rels if is_list_file(r)), None)
            line = None
            if list_rel is not None:
                list_dir = list_rel.rsplit("/", 1)[0] if "/" in list_rel else ""
                if list_dir and not rel.startswith(list_dir + "/"):
                    return None
                line = list_line(rel, list_dir)
                if _resolves(m.get("l"), list_dir, rel):
                    line = m["l"]
            label = label_of(rel)
            try:
                files = write_item(sink, writer, item, m, rel, label, seen, bool(options.get("save_media")),
                                   image_ext)
            except ExportError:
                return None  # two changed items would share a label file: the full export reports it
            new_rows[item.key] = (tuple(files), [list_rel, line, label])
            bar.advance()
    try:
        tracker.finish()
    except ExportError:
        return None
    lists: dict[str, list[str]] = {}
    labels: set[str] = set()
    for key in order:
        row = new_rows.get(key) or rows.get(key)
        if row is None or not isinstance(row[1], list) or len(row[1]) != 3 or row[1][2] in labels:
            return None  # two items would share a label file: the full export reports it
        list_rel, line, label = row[1]
        labels.add(label)
        if list_rel is not None:
            lists.setdefault(list_rel, []).append(line)
    return finish_files(sink, subsets, paths, lists, stored, yaml_text), new_rows
