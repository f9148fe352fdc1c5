"""Ultralytics YOLO import: ``data.yaml`` plus images and labels per split.

Paths in the YAML are relative to the YAML's folder (the dataset root; a ``path`` key
is kept but not used, since Ultralytics resolves it against its own datasets folder).
A leading ``../`` is dropped, as Ultralytics does when such a path does not exist
(Roboflow exports write ``train: ../train/images``). A split is a folder (images
found recursively, ids relative to it), a ``.txt`` list of images (lines relative to
the list's folder), or a list of those. The label file of ``.../images/.../x.jpg`` is
``.../labels/.../x.txt`` (last ``images`` component replaced).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.common.media import is_image_name
from dsrepo.formats.yolo.items import Entry, absolute_root, check_unique, lazy_dataset, read_text, split_name
from dsrepo.formats.yolo.labels import NS_ULTRALYTICS as NS, LineRules
from dsrepo.formats.yolo.yamlio import (
    NOT_SPLITS, STANDARD_SPLITS, load_yaml, read_kpt_shape, read_names, split_values,
)
from dsrepo.model.categories import Categories, LabelCategory, PointsCategory
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress

DEFAULT_YAML = "data.yaml"
_YAML_EXTS = (".yaml", ".yml")


def label_of(image_rel: str) -> str:
    """Label file of an image: last ``images`` folder -> ``labels``, extension ``.txt``."""
    s = "/" + image_rel
    if "/images/" in s:
        s = "/labels/".join(s.rsplit("/images/", 1))
    return posixpath.splitext(s[1:])[0] + ".txt"


def split_rel(value: str, source: object, key: str) -> str:
    """Root-relative path of a split entry (one leading ``../`` dropped)."""
    v = value.replace("\\", "/")
    if v.startswith("../"):
        v = v[3:]
    return safe_relpath(v, source, key)


def is_list_file(rel: str) -> bool:
    """True for a ``.txt`` image list."""
    return rel.lower().endswith(".txt")


def default_folder(rels: list[str], subset: str) -> str:
    """Where the exporter puts a subset's images: its first folder entry, or ``images/<subset>``."""
    return next((r for r in rels if not is_list_file(r)), f"images/{subset}")


def list_base(rel: str, list_dir: str) -> str:
    """Folder ids of a listed image are relative to: ``images/<x>`` when the image is
    in one, else the list file's folder."""
    parts = rel.split("/")
    if len(parts) >= 3 and parts[0] == "images":
        return "images/" + parts[1]
    return list_dir


def list_line(rel: str, list_dir: str) -> str:
    """How the exporter writes image ``rel`` in a list file in ``list_dir``."""
    return "./" + (rel[len(list_dir) + 1:] if list_dir else rel)


def find_yaml(path: Path) -> Path:
    """The dataset YAML: ``path`` itself, or ``data.yaml`` / the one ``*.yaml`` with
    ``names`` in folder ``path``."""
    if path.is_file():
        return path
    for name in (DEFAULT_YAML, "data.yml"):
        if (path / name).is_file():
            return path / name
    try:
        cands = sorted(p for p in path.iterdir() if p.suffix.lower() in _YAML_EXTS and p.is_file())
    except OSError as e:
        raise DatasetError(f"cannot list folder: {e.strerror or e}", path) from None
    cands = [p for p in cands if "names" in read_text(p, "YAML file")]
    if not cands:
        raise DatasetError(f"no {DEFAULT_YAML} (or other dataset YAML with 'names') found", path)
    if len(cands) > 1:
        raise DatasetError(f"several dataset YAML files ({', '.join(p.name for p in cands)}); "
                           "import one of them", path)
    return cands[0]


def _scan(root: Path, folder: str) -> list[str]:
    base = root / folder
    found = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        found += [f"{rel_dir}/{f}" for f in filenames if is_image_name(f) and not f.startswith(".")]
    return sorted(found)


def _folder_entries(root: Path, subset: str, folder: str, default: str) -> list[Entry]:
    out = []
    for rel in _scan(root, folder):
        item_id, name = split_name(rel, folder)
        meta = {"p": rel} if rel != f"{default}/{name}" else {}
        out.append(Entry(subset, item_id, name, rel, label_of(rel), meta))
    return out


def _list_entries(root: Path, subset: str, list_rel: str, default: str) -> list[Entry]:
    path = root / list_rel
    list_dir = posixpath.dirname(list_rel)
    out = []
    for n, line in enumerate(read_text(path, "image list").splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        rel = safe_relpath(posixpath.join(list_dir, safe_relpath(s, path, f"line {n}")), path, f"line {n}")
        item_id, name = split_name(rel, list_base(rel, list_dir))
        meta: dict[str, Any] = {}
        if rel != f"{default}/{name}":
            meta["p"] = rel
        if s != list_line(rel, list_dir):
            meta["l"] = s
        out.append(Entry(subset, item_id, name, rel, label_of(rel), meta))
    return out


def split_keys(doc: Mapping[str, Any], root: Path, source: object) -> list[str]:
    """Keys of ``doc`` that are splits (see the module docstring)."""
    keys = []
    for key, value in doc.items():
        if not isinstance(key, str) or key in NOT_SPLITS:
            continue
        if key in STANDARD_SPLITS:
            if split_values(value, key, source):
                keys.append(key)
            continue
        if not isinstance(value, str) or not value:
            continue
        try:
            rel = split_rel(value, source, key)
        except DatasetError:
            continue
        if (root / rel).is_dir() or (is_list_file(rel) and (root / rel).is_file()):
            keys.append(key)
    return keys


def load_ultralytics(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import an Ultralytics YOLO dataset (folder holding the YAML, or the YAML file)."""
    yaml_path = find_yaml(absolute_root(path))
    root = yaml_path.parent
    text = read_text(yaml_path, "YAML file")
    doc = load_yaml(text, yaml_path)
    names = read_names(doc, yaml_path)
    kpt = read_kpt_shape(doc, yaml_path)
    meta: dict[str, Any] = {"yaml": text}
    if yaml_path.name != DEFAULT_YAML:
        meta["file"] = yaml_path.name
    entries: list[Entry] = []
    subset_meta = {}
    for key in split_keys(doc, root, yaml_path):
        rels = [split_rel(v, yaml_path, key) for v in split_values(doc[key], key, yaml_path)]
        default = default_folder(rels, key)
        for rel in rels:
            if is_list_file(rel):
                if not (root / rel).is_file():
                    raise DatasetError(f"image list {rel!r} of split {key!r} not found", yaml_path, key)
                entries += _list_entries(root, key, rel, default)
            elif (root / rel).is_dir():
                entries += _folder_entries(root, key, rel, default)
            elif (root / rel).exists():
                raise DatasetError(f"split {key!r}: {rel!r} is neither a folder nor a .txt image list",
                                   yaml_path, key)
            else:
                progress.warn(f"{yaml_path}: split {key!r}: folder {rel!r} does not exist (no images)")
        subset_meta[key] = {NS: meta}
    check_unique(entries, yaml_path)
    cats = Categories(labels=tuple(LabelCategory(n) for n in names))
    if kpt is not None:
        schema = PointsCategory(labels=tuple(str(i) for i in range(kpt[0])))
        cats = cats.with_(points={i: schema for i in range(len(names))})
    rules = LineRules(classes=len(names), kpt_shape=kpt, polygons=True)
    return lazy_dataset(root, cats, entries, rules, subset_meta, progress, NS)
