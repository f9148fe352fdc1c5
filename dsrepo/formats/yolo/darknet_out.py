"""Darknet YOLO export (the layout CVAT and Datumaro write).

``obj.data`` (``classes``, one ``<subset> = data/<subset>.txt`` line per subset,
``names``, ``backup``), ``obj.names``, the image lists and ``obj_<subset>_data/`` with
one label file per image (written empty for items without annotations). Files of an
imported dataset (``obj.data``/``obj.names`` text, list lines, image locations) are
written back exactly as long as they still describe the dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import DatasetError, ExportError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.lossy import LossTracker
from dsrepo.formats.yolo.darknet_in import (
    DATA_FILE, RESERVED, list_line, local_path, names_text, parse_names, parse_obj_data, subset_base,
)
from dsrepo.formats.yolo.labels import NS
from dsrepo.formats.yolo.writer import (
    FileSink, LineMode, LineWriter, image_filename, item_meta, label_path_of, write_item,
)
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress


def _stored(ds: Dataset) -> Mapping[str, Any]:
    for s in ds.subset_meta.values():
        m = s.get(NS) if s else None
        if m is not None and isinstance(m.get("data"), str):
            return m
    return {}


def _data_entries(stored: Mapping[str, Any], subsets: list[str], classes: int) -> list[tuple[str, str]]:
    """``obj.data`` entries: the stored ones (order and extra keys kept), updated."""
    old: list[tuple[str, str]] = []
    if stored:
        try:
            old = [(k, v) for k, v, _n in parse_obj_data(stored["data"], DATA_FILE)]
        except DatasetError:
            old = []
    out: list[tuple[str, str]] = []
    have = set()
    for k, v in old:
        if k == "classes":
            v = str(classes)
        elif k not in RESERVED and k not in subsets:
            continue
        out.append((k, v))
        have.add(k)
    if "classes" not in have:
        out.insert(0, ("classes", str(classes)))
    last = max((i for i, (k, _v) in enumerate(out) if k == "classes" or k in subsets), default=0)
    for s in subsets:
        if s not in have:
            last += 1
            out.insert(last, (s, f"data/{s}.txt"))
    if "names" not in have:
        out.append(("names", "data/obj.names"))
        if not old:
            out.append(("backup", "backup/"))
    return out


def _data_text(stored: Mapping[str, Any], entries: list[tuple[str, str]]) -> str:
    if stored:
        try:
            if [(k, v) for k, v, _n in parse_obj_data(stored["data"], DATA_FILE)] == entries:
                return stored["data"]
        except DatasetError:
            pass
    return "".join(f"{k} = {v}\n" for k, v in entries)


def _names_file_text(stored: Mapping[str, Any], names: list[str]) -> str:
    raw = stored.get("names")
    if isinstance(raw, str):
        try:
            if parse_names(raw, None) == names:
                return raw
        except DatasetError:
            pass
    return names_text(names)


def item_paths(item: Any, m: Any, image_ext: Any, strip_data: bool) -> tuple[str, str]:
    """``(image path relative to the root, its line in the subset list)`` of an item, keeping
    the imported path and list line while they still name the same image (``m``: the item's
    yolo meta). Shared by the exporter and the incremental-export hook."""
    name = image_filename(item, image_ext)
    rel = f"{subset_base(item.subset)}/{name}"
    p = m.get("p")
    if isinstance(p, str) and (p == name or p.endswith("/" + name)):
        rel = p
    line = list_line(rel, strip_data)
    raw = m.get("l")
    if isinstance(raw, str):
        try:
            if local_path(raw, strip_data, None, None) == rel:
                line = raw
        except DatasetError:
            pass
    return rel, line



def save_darknet(ds: Dataset, out: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Write ``ds`` as a darknet YOLO dataset into folder ``out``."""
    subsets = ds.subsets()
    for s in subsets:
        if s in RESERVED or "/" in s or s != s.strip() or not s or "=" in s or s.startswith("#"):
            raise ExportError(f"subset name {s!r} cannot be a key of {DATA_FILE}")
    stored = _stored(ds)
    strip_data = not stored.get("dd")
    names = ds.categories.label_names()
    for i, n in enumerate(names):
        if not n.strip() or n != n.strip() or "\n" in n or "\r" in n:
            raise ExportError(f"label {i} name {n!r} cannot be written to obj.names (one name a line)")
    entries = _data_entries(stored, subsets, len(names))
    values = dict(entries)
    tracker = LossTracker("yolo", progress, bool(options.get("strict")))
    writer = LineWriter(LineMode(), len(names), tracker)
    sink = FileSink(out)
    image_ext = options.get("image_ext")
    lists: dict[str, list[str]] = {s: [] for s in subsets}
    labels_seen: dict[str, tuple[str, str]] = {}
    with progress.task("yolo: writing labels", total=len(ds)) as bar:
        for item in ds:
            m = item_meta(item, NS)
            rel, line = item_paths(item, m, image_ext, strip_data)
            lists[item.subset].append(line)
            label = label_path_of(rel)
            write_item(sink, writer, item, m, rel, label, labels_seen, bool(options.get("save_media")), image_ext)
            bar.advance()
    tracker.finish()
    for s in subsets:
        sink.text(local_path(values[s], strip_data, None, None), "".join(ln + "\n" for ln in lists[s]))
    sink.text(local_path(values["names"], strip_data, None, None), _names_file_text(stored, names))
    sink.text(DATA_FILE, _data_text(stored, entries))
    return ExportReport(files=tuple(sorted(sink.files)), missing_media=tuple(sink.missing))
