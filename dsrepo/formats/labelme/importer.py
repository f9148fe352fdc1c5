"""LabelMe import: read every JSON file once (validated, shapes built), then build
items lazily with label indices from the sorted label names."""

from __future__ import annotations

import base64
import binascii
import hashlib
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.common.media import find_image
from dsrepo.formats.labelme.layout import (
    image_path_for, list_json_files, resolve_image_name, split_json_path,
)
from dsrepo.formats.labelme.parse import NS, Header, parse_header, parse_shapes, read_json
from dsrepo.model.annotations import Annotation
from dsrepo.model.categories import Categories, LabelCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import Progress

_MAGIC = ((b"\x89PNG", ".png"), (b"\xff\xd8", ".jpg"), (b"BM", ".bmp"), (b"GIF8", ".gif"),
          (b"II*\x00", ".tif"), (b"MM\x00*", ".tif"))


@dataclass(frozen=True, slots=True)
class Record:
    """One parsed file: everything an item needs except label indices and pixels."""

    source: str
    subset: str
    item_id: str
    image_file: str | None
    name: str | None
    size: tuple[int, int] | None
    md5: str | None
    embedded: str | None
    attributes: Mapping[str, Any]
    meta: Mapping[str, Any]
    shapes: tuple[tuple[str | None, Annotation], ...]


def _ext_of(data: bytes) -> str:
    for magic, ext in _MAGIC:
        if data.startswith(magic):
            return ext
    return ".png"


def _decode_b64(text: str, path: Path) -> bytes:
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)  # line breaks allowed
    except (binascii.Error, ValueError):
        raise DatasetError("'imageData' is not valid base64", path) from None
    return raw


def _decode_pixels(raw: bytes, source: str):
    import cv2
    import numpy as np

    img = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DatasetError("'imageData' is not a readable image", source)
    return img


def _image(root: Path, json_dir: str, stem: str, head: Header, path: Path,
           meta: dict) -> tuple[str | None, str | None, tuple[int, int] | None, str | None, str | None]:
    """``(file, name, size, md5, embedded base64)`` of a file's image."""
    name = None
    if head.image_path:
        try:
            name = resolve_image_name(json_dir, head.image_path)
        except DatasetError as e:
            raise DatasetError(e.detail, path, "imagePath") from None
        if name is not None and head.image_path != image_path_for(json_dir, name):
            meta["ip"] = head.image_path
    if name is None:
        found = find_image(root / json_dir, stem)
        if found is not None:
            name = posixpath.join(json_dir, found.name)
    file = root / name if name is not None else None
    file_str = str(file.absolute()) if file is not None and file.is_file() else None
    size = head.size
    md5 = embedded = None
    if file_str is None and head.image_data:
        raw = _decode_b64(head.image_data, path)
        md5 = hashlib.md5(raw).hexdigest()
        embedded = head.image_data
        meta["img"] = embedded
        if name is None:
            name = posixpath.join(json_dir, stem + _ext_of(raw))
        if size is None:
            img = _decode_pixels(raw, str(path))
            size = (int(img.shape[0]), int(img.shape[1]))
    if size is None and file_str is not None:
        size = Image(path=file_str).header_size()
    return file_str, name, size, md5, embedded


def read_record(root: Path, rel: str, subset_folders: bool) -> Record:
    """Parse the JSON file at ``root/rel`` into a :class:`Record`."""
    path = root / rel
    doc = read_json(path)
    head = parse_header(doc, path)
    subset, item_id, sub_dir = split_json_path(rel, subset_folders)
    meta: dict[str, Any] = {"v": head.version}
    if head.extra:
        meta["x"] = dict(head.extra)
    json_dir = posixpath.dirname(item_id)
    file, name, size, md5, embedded = _image(root / sub_dir if sub_dir else root, json_dir,
                                             posixpath.basename(item_id), head, path, meta)
    shapes = tuple(parse_shapes(doc, path, size))
    return Record(str(path), subset, item_id, file, name, size, md5, embedded, dict(head.flags),
                  {NS: meta}, shapes)


def _item(rec: Record, index: Mapping[str, int]) -> Item:
    media = None
    if rec.embedded is not None:
        data = _decode_pixels(base64.b64decode("".join(rec.embedded.split())), rec.source)
        media = Image(path=None, size=rec.size, name=rec.name, md5=rec.md5, data=data)
    elif rec.name is not None:
        media = Image(path=rec.image_file, size=rec.size, name=rec.name)
    anns = tuple(a if lab is None else a.with_(label=index[lab]) for lab, a in rec.shapes)
    return Item(id=rec.item_id, subset=rec.subset, media=media, annotations=anns,
                attributes=rec.attributes, meta=rec.meta)


def load_labelme(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
    """Import a folder of LabelMe JSON files (or one file). Items are ordered by file
    path; labels are the sorted label names seen, each with its shapes' flag names as
    attributes."""
    if path.is_file():
        root, rels, folders = path.parent, [path.name], False
    else:
        root, rels, folders = path, list_json_files(path), bool(options.get("subset_folders"))
    records: list[Record] = []
    seen: dict[tuple[str, str], str] = {}
    label_flags: dict[str, set[str]] = {}
    with progress.task("labelme: reading files", total=len(rels)) as bar:
        for rel in rels:
            rec = read_record(root, rel, folders)
            key = (rec.subset, rec.item_id)
            if key in seen:
                raise DatasetError(f"item {rec.item_id!r} of subset {rec.subset!r} is also defined by {seen[key]}",
                                   root / rel)
            seen[key] = rel
            for lab, ann in rec.shapes:
                if lab is not None:
                    flags = label_flags.setdefault(lab, set())
                    flags.update(k for k, v in ann.attributes.items()
                                 if not (k == "description" and isinstance(v, str)))
            records.append(rec)
            bar.advance()
    names = sorted(label_flags)
    index = {n: i for i, n in enumerate(names)}
    cats = Categories(labels=tuple(LabelCategory(n, attributes=tuple(sorted(label_flags[n]))) for n in names))

    def items() -> Iterator[Item]:
        for rec in records:
            yield _item(rec, index)

    return Dataset(cats, items, length=len(records), media_root=str(root))
