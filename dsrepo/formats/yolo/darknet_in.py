"""Darknet YOLO import: ``obj.data``, ``obj.names``, ``<subset>.txt`` image lists and
``obj_<subset>_data/`` with images and label files side by side.

Paths in ``obj.data`` and the lists are relative to the dataset root; a leading
``data/`` (darknet's working folder, as CVAT and Datumaro write it) is dropped unless
the root really has a ``data/`` folder. Every key of ``obj.data`` other than
:data:`RESERVED` names a subset whose value is its image list.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.yolo.items import Entry, absolute_root, check_unique, lazy_dataset, read_text, split_name
from dsrepo.formats.yolo.labels import NS, LineRules
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress

DATA_FILE = "obj.data"
RESERVED = ("classes", "names", "backup", "eval", "results", "map", "top", "labels")


def parse_obj_data(text: str, source: object) -> list[tuple[str, str, int]]:
    """``(key, value, line number)`` of each ``key = value`` line (blank lines and
    ``#`` comments skipped); DatasetError for malformed or repeated keys."""
    out: list[tuple[str, str, int]] = []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        key, eq, value = s.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key:
            raise DatasetError(f"expected 'key = value', got {s!r}", source, f"line {n}")
        if key in seen:
            raise DatasetError(f"key {key!r} given twice", source, f"line {n}")
        seen.add(key)
        out.append((key, value, n))
    return out


def names_text(names: list[str]) -> str:
    """``obj.names`` as written by the exporter: one name a line."""
    return "".join(n + "\n" for n in names)


def parse_names(text: str, source: object) -> list[str]:
    """Class names, one a line; trailing blank lines ignored, blank names rejected."""
    lines = [ln.strip() for ln in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    for n, name in enumerate(lines, 1):
        if not name:
            raise DatasetError("empty class name", source, f"line {n}")
    return lines


def local_path(value: str, strip_data: bool, source: object, where: str) -> str:
    """Root-relative path of a path written in ``obj.data`` or a list file."""
    rel = safe_relpath(value, source, where)
    if strip_data and rel.startswith("data/"):
        rel = rel[5:]
    return rel


def list_line(rel: str, strip_data: bool) -> str:
    """How the exporter writes image ``rel`` in a list file."""
    return "data/" + rel if strip_data else rel


def subset_base(subset: str) -> str:
    """The folder of a subset's images and labels."""
    return f"obj_{subset}_data"


def _entries(root: Path, subset: str, list_rel: str, strip_data: bool) -> list[Entry]:
    path = root / list_rel
    text = read_text(path, "image list")
    base = subset_base(subset)
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        rel = local_path(s, strip_data, path, f"line {n}")
        item_id, name = split_name(rel, base)
        meta: dict[str, Any] = {}
        if rel != f"{base}/{name}":
            meta["p"] = rel
        if s != list_line(rel, strip_data):
            meta["l"] = s
        label = posixpath.splitext(rel)[0] + ".txt"
        out.append(Entry(subset, item_id, name, rel, label, meta))
    check_unique(out, path)
    return out


def load_darknet(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import a darknet YOLO dataset (folder holding ``obj.data``, or that file)."""
    path = absolute_root(path)
    data_file = path if path.is_file() else path / DATA_FILE
    root = data_file.parent
    if not data_file.is_file():
        raise DatasetError(f"no {DATA_FILE} found", path)
    data_text = read_text(data_file, DATA_FILE)
    keys = parse_obj_data(data_text, data_file)
    strip_data = not (root / "data").is_dir()
    values = {k: (v, n) for k, v, n in keys}
    names_rel = "obj.names"
    if "names" in values:
        v, n = values["names"]
        names_rel = local_path(v, strip_data, data_file, f"line {n}")
    if not (root / names_rel).is_file():
        where = f"line {values['names'][1]}" if "names" in values else None
        raise DatasetError(f"names file {names_rel!r} not found", data_file, where)
    raw_names = read_text(root / names_rel, "names file")
    names = parse_names(raw_names, root / names_rel)
    if "classes" in values:
        v, n = values["classes"]
        try:
            classes = int(v)
        except ValueError:
            raise DatasetError(f"classes {v!r} is not an integer", data_file, f"line {n}") from None
        if classes != len(names):
            raise DatasetError(f"classes = {classes} but {names_rel} lists {len(names)} names",
                               data_file, f"line {n}")
    meta: dict[str, Any] = {"data": data_text}
    if raw_names != names_text(names):
        meta["names"] = raw_names
    if not strip_data:
        meta["dd"] = True
    entries: list[Entry] = []
    subset_meta = {}
    for key, value, n in keys:
        if key in RESERVED:
            continue
        list_rel = local_path(value, strip_data, data_file, f"line {n}")
        if not (root / list_rel).is_file():
            raise DatasetError(f"image list {list_rel!r} of subset {key!r} not found", data_file, f"line {n}")
        entries += _entries(root, key, list_rel, strip_data)
        subset_meta[key] = {NS: meta}
    rules = LineRules(classes=len(names))
    return lazy_dataset(root, Categories.from_names(names), entries, rules, subset_meta, progress, NS)
