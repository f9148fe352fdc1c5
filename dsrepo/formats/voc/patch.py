"""Pascal VOC patch hook (incremental export, see docs/patch-export.md).

Per item: ``Annotations/<id>.xml``, ``SegmentationClass/<id>.png``,
``SegmentationObject/<id>.png`` and, with ``--save-media``, ``JPEGImages/<name>``.
Shared: the ``ImageSets/<dir>/<subset>.txt`` lists, the per-class
``ImageSets/Main/<label>_<subset>.txt`` lists and ``labelmap.txt``.

An item's row is ``(files, [dirs, labels, shapes, bg])``: the ImageSets folders it is
listed in, its classification values as ``[[label name, value], ...]``, whether it has
masks or polygons (the source label map gains a ``background`` entry when any item
has, for segmentation) and whether its class mask was painted with that entry.
So the lists and the label map are rebuilt without decoding unchanged items. The
per-item code mirrors :func:`dsrepo.formats.voc.exporter._write` line for line; the
property tests compare both byte for byte.

Declined (the full export runs): a label map file (``--label-map PATH``: its content
may have changed since), ``--strict`` losses, names the exporter rejects, and unchanged
items whose masks were painted with the other label map (background added or dropped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import ExportError, UsageError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress

Key = tuple[str, str]


def _has_shapes(item: Any) -> bool:
    from dsrepo.model.annotations import Mask, Polygon

    return any(isinstance(a, (Mask, Polygon)) for a in item.annotations)


def _entries(ds: Dataset, mode: str, tasks: tuple[str, ...], any_shapes: bool) -> tuple[list, bool]:
    """The label map ``save_voc`` writes (see ``exporter._target_entries``) when the
    whole dataset has shapes iff ``any_shapes``, and whether background was added."""
    from dsrepo.formats.voc.exporter import _from_voc
    from dsrepo.formats.voc.labelmap import BACKGROUND, LabelEntry, background_index, entries_from_categories, \
        voc_color, voc_entries
    from dsrepo.formats.voc.tasks import SEGMENTATION

    if mode == "voc":
        return voc_entries(), False
    entries = entries_from_categories(ds.categories)
    bg = (SEGMENTATION in tasks and not _from_voc(ds) and background_index(ds.categories) is None
          and any_shapes)
    if bg:
        entries.insert(0, LabelEntry(BACKGROUND, voc_color(0)))
    return entries, bg


def _rows_ok(rows: Mapping[Key, PatchRow], order: Sequence[Key], changed: set[Key]) -> bool:
    for k in order:
        if k in changed:
            continue
        row = rows.get(k)
        if row is None or not isinstance(row[1], list) or len(row[1]) != 4:
            return False
    return True


def patch_voc(changed: Dataset, order: Sequence[Key], rows: Mapping[Key, PatchRow], out: Path,
              options: Mapping[str, Any], progress: Progress,
              task: str | None = None) -> tuple[ExportReport, dict[Key, PatchRow]] | None:
    """Write the changed items' files and every shared file exactly as ``save_voc`` does;
    None (decline) for what this hook does not handle (see the module docstring)."""
    from dsrepo.formats.common.lossy import LossTracker
    from dsrepo.formats.common.media import media_filename, save_image
    from dsrepo.formats.voc.convert import Converter, Target
    from dsrepo.formats.voc.exporter import LABELMAP_FILE, _checked_name, _from_voc, _Out, _remap, _tasks, \
        _write_lists, format_name, write_item_files
    from dsrepo.formats.voc.items import default_sets
    from dsrepo.formats.voc.labelmap import background_index, categories_from_entries, \
        entries_from_categories, format_labelmap, palette, voc_color
    from dsrepo.formats.voc.tasks import ACTION, CLASS_MASKS, CLASSIFICATION, DETECTION, IMAGES, LAYOUT, \
        SEGMENTATION, set_dirs

    mode = str(options.get("label_map") or "source")
    if mode not in ("source", "voc"):
        return None
    try:
        tasks = _tasks(options, task)
    except UsageError:
        return None
    ds = changed
    keys = {k for k in order if k not in rows}  # (the engine's contract: changed = order - rows; checked below)
    if not _rows_ok(rows, order, keys):
        return None
    # (only a segmentation export needs to know; a full export through the hook stops at the first shape)
    any_shapes = SEGMENTATION in tasks and (any(bool(rows[k][1][2]) for k in order if k not in keys)
                                            or any(_has_shapes(it) for it in ds))
    entries, bg_added = _entries(ds, mode, tasks, any_shapes)
    for k in order:  # unchanged masks painted with another label map (palette) could differ
        if k not in keys and bool(rows[k][1][3]) != bg_added and f"{CLASS_MASKS}/{k[1]}.png" in rows[k][0]:
            return None
    cats = categories_from_entries(entries)
    target = Target(cats, _remap(ds.categories, cats),
                    xml=any(t in tasks for t in (DETECTION, ACTION, LAYOUT)), derive_boxes=not _from_voc(ds),
                    masks=SEGMENTATION in tasks, labels=CLASSIFICATION in tasks,
                    allow_attributes=bool(options.get("allow_attributes", True)))
    loss = LossTracker(format_name(task), progress, bool(options.get("strict")))
    conv = Converter(target, loss)
    stage = Path(out)
    w = _Out(stage)
    dirs = set_dirs(tasks)
    keep_empty = bool(options.get("keep_empty"))
    image_ext = options.get("image_ext")
    pal = palette(target.cats) if options.get("apply_colormap", True) else None
    obj_pal = [voc_color(i) for i in range(256)] if pal is not None else None
    bg = background_index(target.cats) or 0
    missing: list[str] = []
    new_rows: dict[Key, PatchRow] = {}
    try:
        with progress.task("voc: writing changed items", total=len(ds)) as bar:
            for item in ds:  # mirrors exporter._write
                first = len(w.files)
                res = conv.item(item, ds.categories)
                fname = _checked_name(item.id, item.subset, media_filename(item, image_ext))
                write_item_files(w, item, res, fname, target, keep_empty, bg, pal, obj_pal)
                sets = item.meta.get("voc_sets")
                in_dirs = [str(d) for d in sets] if isinstance(sets, (list, tuple)) else \
                    default_sets(item.annotations, ds.categories)
                if options.get("save_media"):
                    if save_image(item, stage / IMAGES / fname, image_ext):
                        w.files.append(f"{IMAGES}/{fname}")
                    else:
                        missing.append(item.id)
                labels = [[target.cats.labels[i].name, v] for i, v in res.labels]
                files = tuple(w.files[first:])
                painted = bg_added and f"{CLASS_MASKS}/{item.id}.png" in files
                new_rows[item.key] = (files, [[d for d in dirs if d in in_dirs], labels, _has_shapes(item), painted])
                bar.advance()
        loss.finish()
        if len(new_rows) != len(keys) or not keys.issuperset(new_rows):
            return None
        lists: dict[str, dict[str, list[str]]] = {}
        cls_values: dict[str, dict[str, dict[int, int]]] = {}
        any_labels = False
        for sub, iid in order:
            data = (new_rows.get((sub, iid)) or rows[(sub, iid)])[1]
            if data[1]:
                any_labels = True
                cls_values.setdefault(sub, {})[iid] = {target.cats.find(n): v for n, v in data[1]}
            for d in data[0]:
                lists.setdefault(sub, {}).setdefault(d, []).append(iid)
        _write_lists(w, ds, lists, cls_values, dirs, keep_empty, target, any_labels)
    except ExportError:
        return None  # a full export reports it (with every item in view)
    w.write(LABELMAP_FILE, format_labelmap(entries_from_categories(target.cats)))
    return ExportReport(files=tuple(sorted(w.files)), missing_media=tuple(missing)), new_rows
