"""Datumaro import: ``annotations/<subset>.json`` parsed eagerly (items raw), items built lazily."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Iterator, Mapping

import orjson

from dsrepo.errors import DatasetError
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.datumaro.anns import ann_from_json, is_supported, type_name
from dsrepo.formats.datumaro.cats import split_private
from dsrepo.formats.datumaro.parse import ParsedFile, read_file
from dsrepo.formats.datumaro.schema import (
    DEFAULT_IMAGE_EXT, ITEM_KEYS, NS, get_dict, is_int, kind, show,
)
from dsrepo.model.categories import Categories, LabelCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.model.encoding import categories_hash
from dsrepo.progress import Progress


def resolve_files(path: Path) -> tuple[Path, list[tuple[str, Path]]]:
    """Dataset root and ``(subset, file)`` pairs (sorted by subset) for ``path``: a dataset
    folder, its ``annotations`` folder, or one ``<subset>.json`` file."""
    if path.is_file():
        root = path.parent.parent if path.parent.name == "annotations" else path.parent
        return root, [(path.stem, path)]
    if (path / "annotations").is_dir():
        root, ann_dir = path, path / "annotations"
    elif path.name == "annotations":
        root, ann_dir = path.parent, path
    else:
        root, ann_dir = path, path
    files = sorted((p.stem, p) for p in ann_dir.glob("*.json") if p.is_file())
    if not files:
        raise DatasetError("no annotations/<subset>.json files (not a Datumaro dataset?)", path)
    return root, files


def _absolute(p: str) -> bool:
    return PurePosixPath(p).is_absolute() or PureWindowsPath(p).is_absolute() or p.startswith("\\")


class _SubsetReader:
    """Builds the items of one parsed file."""

    def __init__(self, pf: ParsedFile, root: Path, n_labels: int) -> None:
        self.pf = pf
        self.images = root / "images"
        self.n_labels = n_labels

    def _media(self, d: Mapping[str, Any], iid: str, where: str, meta: dict) -> Image | None:
        key = "image" if d.get("image") else "media" if d.get("media") else None
        if key is None:
            return None
        info = get_dict(d, key, self.pf.path, where)
        if key == "media":
            meta["media_key"] = "media"
        elif d.get("media"):  # both keys: the image is used, the other is kept as is
            meta.setdefault("x", {})["media"] = d["media"]
        raw = info.get("path")
        if raw is not None and not isinstance(raw, str):
            raise DatasetError(f"{key}.path must be a string, got {show(raw)}", self.pf.path, where)
        size = info.get("size")
        if size is not None and not (isinstance(size, list) and len(size) == 2
                                     and all(is_int(v) and v > 0 for v in size)):
            raise DatasetError(f"{key}.size must be [height, width], got {show(size)}", self.pf.path, where)
        if raw and _absolute(raw):
            # Datumaro exports without media keep source paths; never read outside the dataset.
            meta["abs_path"] = raw
            ext = PurePosixPath(raw.replace("\\", "/")).suffix
            return Image(path=None, size=tuple(size) if size else None, name=iid + ext)
        name = safe_relpath(raw or iid + DEFAULT_IMAGE_EXT, self.pf.path, where)
        file = None
        for cand in (self.images / self.pf.subset / name, self.images / name):
            if cand.is_file():
                file = str(cand)
                break
        img = Image(path=file, size=tuple(size) if size else None, name=name)
        if img.size is None and file is not None:
            img = img.with_(size=img.header_size())
        return img

    def build(self, i: int) -> Item:
        """Decode and validate item ``i``."""
        pf = self.pf
        iid = pf.ids[i]
        where = f"item {iid!r}"
        d = orjson.loads(memoryview(pf.raws[i]))
        raw_anns = d.get("annotations")
        if raw_anns is None:
            raw_anns = []
        if not isinstance(raw_anns, list):
            raise DatasetError(f"annotations must be a list, got {kind(raw_anns)}", pf.path, where)
        meta = split_private(d, ITEM_KEYS, pf.path, where)
        native: dict[str, Any] = dict(meta.pop(NS, None) or {})
        media = self._media(d, iid, where, native)
        anns = []
        opaque = []
        for j, a in enumerate(raw_anns):
            aw = f"{where}: annotation #{j}"
            if not isinstance(a, dict):
                raise DatasetError(f"expected an object, got {kind(a)}", pf.path, aw)
            t = type_name(a, pf.path, aw)
            if is_supported(t):
                anns.append(ann_from_json(a, t, self.n_labels, pf.path, aw))
            else:
                opaque.append([j, a])
        if opaque:
            native["opaque"] = opaque
        if native:
            meta[NS] = native
        return Item(id=iid, subset=pf.subset, media=media, annotations=tuple(anns),
                    attributes=get_dict(d, "attr", pf.path, where), meta=meta)

    def items(self) -> Iterator[Item]:
        """All items of the file, in file order."""
        for i in range(len(self.pf.ids)):
            yield self.build(i)


def _merge_categories(parsed: list[ParsedFile]) -> tuple[Categories, ParsedFile | None]:
    """The categories shared by every file (files without labels may omit them)."""
    chosen: ParsedFile | None = None
    for pf in parsed:
        if not pf.has_labels and not pf.categories.colormap and not pf.categories.points:
            continue
        if chosen is None:
            chosen = pf
        elif categories_hash(pf.categories) != categories_hash(chosen.categories):
            raise DatasetError(f"categories differ from those of {chosen.path.name}", pf.path)
    return (chosen.categories if chosen else Categories()), chosen


def _dataset_meta(root: Path) -> Categories | None:
    """Labels (and colours) from ``dataset_meta.json``, used when no file defines labels."""
    p = root / "dataset_meta.json"
    if not p.is_file():
        return None
    try:
        doc = orjson.loads(p.read_bytes())
    except orjson.JSONDecodeError as e:
        raise DatasetError(f"invalid JSON: {e}", p) from None
    lm = doc.get("label_map") if isinstance(doc, dict) else None
    if not isinstance(lm, dict) or not all(isinstance(v, str) for v in lm.values()):
        raise DatasetError("label_map must be an object of id: name", p)
    try:
        order = sorted(lm, key=int)
    except ValueError:
        raise DatasetError(f"label_map keys must be integers, got {sorted(lm)!r}", p) from None
    labels = tuple(LabelCategory(lm[k]) for k in order)
    colors = doc.get("segmentation_colors")
    colormap = {}
    if isinstance(colors, list):
        for i, c in enumerate(colors[: len(labels)]):
            if not (isinstance(c, list) and len(c) == 3 and all(is_int(v) and 0 <= v <= 255 for v in c)):
                raise DatasetError(f"segmentation_colors[{i}] must be [r, g, b], got {show(c)}", p)
            colormap[i] = tuple(c)
    return Categories(labels=labels, colormap=colormap)


def load_datumaro(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import the Datumaro dataset at ``path`` (folder, ``annotations`` folder or one file).

    Files and categories are checked here; items are decoded and checked as they are
    iterated (DatasetError names the file, the item id and the annotation index)."""
    root, files = resolve_files(path)
    parsed = []
    with progress.task("reading Datumaro annotations", total=len(files)) as t:
        for subset, fpath in files:
            parsed.append(read_file(fpath, subset))
            t.advance()
    cats, chosen = _merge_categories(parsed)
    if chosen is None:
        cats = _dataset_meta(root) or cats
    readers = [_SubsetReader(pf, root, len(cats.labels)) for pf in parsed]
    warned = []

    def items() -> Iterator[Item]:
        opaque: dict[str, int] = {}
        for r in readers:
            for it in r.items():
                for _, a in (it.meta.get(NS) or {}).get("opaque", ()):
                    t = type_name(a, r.pf.path, "")
                    opaque[t] = opaque.get(t, 0) + 1
                yield it
        if opaque and not warned:  # once, after the first complete pass
            warned.append(True)
            for t, n in sorted(opaque.items()):
                progress.warn(f"datumaro: {n} {t} annotations kept as opaque item data "
                              "(dsrepo has no such type)")

    subset_meta = {pf.subset: pf.subset_meta for pf in parsed}
    return Dataset(cats, items, subset_meta, length=sum(len(pf.ids) for pf in parsed), media_root=str(root))
