"""Ultralytics YOLO export: ``data.yaml``, ``images/<subset>/``, ``labels/<subset>/``.

A fresh export writes one split key per subset (``<subset>: images/<subset>``), then
``names`` as ``{index: name}`` and, for pose datasets, ``kpt_shape``. The YAML of an
imported dataset is written back byte for byte while it still describes the dataset
(same names, splits and keypoint shape); otherwise it is updated in place through the
ruamel.yaml round-trip document, so comments and unknown keys survive.

``--task``: ``auto`` writes pose lines when the stored YAML has a ``kpt_shape`` and
boxes and polygons otherwise; ``detect`` boxes only; ``segment`` boxes and polygons;
``pose`` boxes with their grouped keypoints (shape from the YAML or the categories).
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import DatasetError, ExportError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.common.lossy import LossTracker
from dsrepo.formats.yolo.labels import NS_ULTRALYTICS as NS
from dsrepo.formats.yolo.ultra_in import (
    DEFAULT_YAML, default_folder, is_list_file, label_of, list_line, split_rel,
)
from dsrepo.formats.yolo.writer import (
    FileSink, LineMode, LineWriter, image_filename, item_meta, write_item,
)
from dsrepo.formats.yolo.yamlio import (
    STANDARD_SPLITS, dump_yaml, flow_list, load_yaml, names_node, read_kpt_shape, read_names, split_values,
)
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress


def _stored(ds: Dataset) -> Mapping[str, Any]:
    for s in ds.subset_meta.values():
        m = s.get(NS) if s else None
        if m is not None and isinstance(m.get("yaml"), str):
            return m
    return {}


def _load_doc(stored: Mapping[str, Any]) -> Any:
    if not stored:
        return None
    try:
        return load_yaml(stored["yaml"], "stored data.yaml")
    except DatasetError:
        return None


def _pose_shape(doc: Any, ds: Dataset, task: str) -> tuple[int, int] | None:
    """``kpt_shape`` to write: the stored YAML's, else (``--task pose``) the longest
    keypoint schema of the categories with visibility; None when not writing pose."""
    kpt = None
    if doc is not None:
        try:
            kpt = read_kpt_shape(doc, None)
        except DatasetError:
            kpt = None
    if task in ("detect", "segment") or (task == "auto" and kpt is None):
        return None
    if kpt is None:
        k = max((len(pc.labels) for pc in ds.categories.points.values()), default=0)
        if not k:
            raise ExportError("--task pose: the dataset has no keypoint schemas (categories.points)")
        kpt = (k, 3)
    return kpt


def _split_paths(doc: Any, subset: str) -> list[str]:
    if doc is None or subset not in doc:
        return [f"images/{subset}"]
    try:
        values = split_values(doc[subset], subset, None)
        return [split_rel(v, None, subset) for v in values] or [f"images/{subset}"]
    except DatasetError:
        return [f"images/{subset}"]


def _fresh_doc(subsets: list[str]) -> Any:
    from ruamel.yaml.comments import CommentedMap

    doc = CommentedMap()
    for s in subsets:
        doc[s] = f"images/{s}"
    return doc


def _same(doc: Any, names: list[str], kpt: tuple[int, int] | None, subsets: list[str]) -> bool:
    try:
        if read_names(doc, None) != names or read_kpt_shape(doc, None) != kpt:
            return False
    except DatasetError:
        return False
    splits = {k for k in STANDARD_SPLITS if k in doc and doc[k] not in (None, "")}
    return splits <= set(subsets) and all(s in doc and doc[s] not in (None, "") for s in subsets)


def _update_doc(doc: Any, names: list[str], kpt: tuple[int, int] | None, subsets: list[str]) -> Any:
    for k in STANDARD_SPLITS:
        if k in doc and k not in subsets and doc[k] not in (None, ""):
            del doc[k]
    keys = list(doc)
    pos = keys.index("names") if "names" in keys else len(keys)
    for s in subsets:
        if s not in doc or doc[s] in (None, ""):
            if s in doc:
                doc[s] = f"images/{s}"
            else:
                doc.insert(pos, s, f"images/{s}")
                pos += 1
    if "nc" in doc:
        doc["nc"] = len(names)
    doc["names"] = names_node(names, isinstance(doc.get("names"), list))
    if kpt is not None:
        doc["kpt_shape"] = flow_list([kpt[0], kpt[1]])
    elif "kpt_shape" in doc:
        del doc["kpt_shape"]
    return doc


def _yaml_text(stored: Mapping[str, Any], doc: Any, names: list[str], kpt: tuple[int, int] | None,
               subsets: list[str]) -> str:
    if doc is not None and _same(doc, names, kpt, subsets):
        return stored["yaml"]
    return dump_yaml(_update_doc(doc if doc is not None else _fresh_doc(subsets), names, kpt, subsets))


def _image_rel(item_meta_: Mapping[str, Any], name: str, folder: str) -> str:
    p = item_meta_.get("p")
    if isinstance(p, str) and (p == name or p.endswith("/" + name)):
        return p
    return f"{folder}/{name}"


def _resolves(raw: Any, list_dir: str, rel: str) -> bool:
    """True if list line ``raw`` names image ``rel``."""
    if not isinstance(raw, str):
        return False
    try:
        return safe_relpath(posixpath.join(list_dir, safe_relpath(raw.strip()))) == rel
    except DatasetError:
        return False


def save_ultralytics(ds: Dataset, out: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Write ``ds`` as an Ultralytics YOLO dataset into folder ``out``."""
    subsets = ds.subsets()
    for s in subsets:
        if "/" in s or s.startswith(".") or s in ("names", "nc", "path", "kpt_shape"):
            raise ExportError(f"subset name {s!r} cannot be a split key of {DEFAULT_YAML}")
    stored = _stored(ds)
    doc = _load_doc(stored)
    names = ds.categories.label_names()
    task = options.get("task") or "auto"
    kpt = _pose_shape(doc, ds, task)
    yaml_text = _yaml_text(stored, doc, names, kpt, subsets)
    paths = {s: _split_paths(load_yaml(yaml_text, DEFAULT_YAML), s) for s in subsets}
    tracker = LossTracker("yolo_ultralytics", progress, bool(options.get("strict")))
    mode = LineMode(polygons=kpt is None and task != "detect", kpt_shape=kpt,
                    masks_to_polygons=bool(options.get("masks_to_polygons")))
    writer = LineWriter(mode, len(names), tracker)
    sink = FileSink(out)
    image_ext = options.get("image_ext")
    lists: dict[str, list[str]] = {}
    labels_seen: dict[str, tuple[str, str]] = {}
    with progress.task("yolo_ultralytics: writing labels", total=len(ds)) as bar:
        for item in ds:
            m = item_meta(item, NS)
            rels = paths[item.subset]
            rel = _image_rel(m, image_filename(item, image_ext), default_folder(rels, item.subset))
            list_rel = next((r for r in rels if is_list_file(r)), None)
            if list_rel is not None:
                list_dir = list_rel.rsplit("/", 1)[0] if "/" in list_rel else ""
                if list_dir and not rel.startswith(list_dir + "/"):
                    raise ExportError(f"item {item.id!r}: image {rel} is outside the folder of list {list_rel}")
                line = list_line(rel, list_dir)
                if _resolves(m.get("l"), list_dir, rel):
                    line = m["l"]
                lists.setdefault(list_rel, []).append(line)
            label = label_of(rel)
            write_item(sink, writer, item, m, rel, label, labels_seen, bool(options.get("save_media")), image_ext)
            bar.advance()
    tracker.finish()
    return finish_files(sink, subsets, paths, lists, stored, yaml_text)


def finish_files(sink: Any, subsets: Any, paths: Mapping[str, Any], lists: Mapping[str, list[str]],
                 stored: Mapping[str, Any], yaml_text: str) -> ExportReport:
    """Write the image list files of ``subsets`` (lines from ``lists``) and the dataset YAML
    (under its stored name when that is a plain ``.yaml`` name); the report of ``sink``.
    Shared by the exporter and its patch hook."""
    for s in subsets:
        for r in paths[s]:
            if is_list_file(r):
                sink.text(r, "".join(ln + "\n" for ln in lists.get(r, ())))
    name = stored.get("file")
    sink.text(name if isinstance(name, str) and "/" not in name and name.lower().endswith((".yaml", ".yml"))
              else DEFAULT_YAML, yaml_text)
    return ExportReport(files=tuple(sorted(sink.files)), missing_media=tuple(sink.missing))
