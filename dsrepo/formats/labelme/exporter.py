"""LabelMe export: one ``<id>.json`` per item (``<subset>/<id>.json`` outside the
"default" subset), written as labelme writes it (UTF-8, indent 2), deterministic."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import posixpath
from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import DatasetError, ExportError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.files import atomic_write_text, safe_relpath
from dsrepo.formats.common.lossy import LossTracker
from dsrepo.formats.common.media import media_filename, save_image
from dsrepo.formats.labelme.layout import image_path_for, json_relpath, resolve_image_name
from dsrepo.formats.labelme.shapes_out import ns_meta, plain, shape_of
from dsrepo.model.annotations import AnnType
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.progress import Progress

DEFAULT_VERSION = "5.5.0"
NESTED_DEFAULT = "nested ids of subset default beside subset folders"


class _Writer:
    def __init__(self, out: Path, options: Mapping[str, Any], progress: Progress, labels: list[str]) -> None:
        self.out = out
        self.save_media = bool(options.get("save_media"))
        self.embed = bool(options.get("embed_images"))
        ext = options.get("image_ext")
        self.image_ext = None if not ext else (ext if ext.startswith(".") else "." + ext).lower()
        self.loss = LossTracker("labelme", progress, bool(options.get("strict")))
        self.labels = labels
        self.files: list[str] = []
        self.missing: list[str] = []
        self.json_owner: dict[str, tuple[str, str]] = {}
        self.images_written: dict[str, bytes | None] = {}
        self.subset_folders = False  # some item is written under its subset's folder
        self.nested_default = 0  # items of subset "default" whose id has a folder

    # -- paths ---------------------------------------------------------------
    def json_path(self, item: Item) -> str:
        if item.subset != DEFAULT_SUBSET and ("/" in item.subset or "\\" in item.subset):
            raise ExportError(f"subset {item.subset!r}: a subset name cannot contain '/' (it names a folder)")
        try:
            rel = safe_relpath(json_relpath(item.subset, item.id))
        except DatasetError as e:
            raise ExportError(f"item {item.id!r} of subset {item.subset!r}: unsafe file name ({e.detail})") from None
        owner = self.json_owner.get(rel)
        if owner is not None:
            raise ExportError(f"items {owner[1]!r} ({owner[0]}) and {item.id!r} ({item.subset}) would both be "
                              f"written to {rel}")
        self.json_owner[rel] = (item.subset, item.id)
        return rel

    def image_name(self, item: Item) -> str | None:
        media = item.media
        if media is None:
            return None
        name = media.name or media_filename(item)
        try:
            name = safe_relpath(name)
        except DatasetError:
            name = safe_relpath(media_filename(item))
        if self.image_ext and os.path.splitext(name)[1].lower() != self.image_ext:
            name = os.path.splitext(name)[0] + self.image_ext
        return name

    # -- media ---------------------------------------------------------------
    def embedded_bytes(self, item: Item) -> bytes | None:
        """Bytes of an image kept in ``meta`` (imported from ``imageData`` without a file),
        if they still match the item's image."""
        text = ns_meta(item.meta).get("img")
        if not isinstance(text, str) or item.media is None or item.media.has_file:
            return None
        raw = base64.b64decode("".join(text.split()))
        if item.media.md5 is not None and hashlib.md5(raw).hexdigest() != item.media.md5:
            return None
        return raw

    def write_image(self, item: Item, rel: str, embedded: bytes | None) -> bytes | None:
        """Write the item's image to ``rel``; returns its bytes (None if unavailable)."""
        if rel in self.images_written:
            return self.images_written[rel]
        dest = self.out / rel
        data: bytes | None = None
        same_ext = os.path.splitext(rel)[1].lower() == (item.media.ext if item.media else "")
        if embedded is not None and same_ext:
            from dsrepo.formats.common.files import atomic_write_bytes

            atomic_write_bytes(dest, embedded)
            data = embedded
        elif save_image(item, dest, self.image_ext):
            data = dest.read_bytes()
        if data is not None:
            self.files.append(rel)
        self.images_written[rel] = data
        return data

    def encoded(self, item: Item, name: str) -> bytes | None:
        media = item.media
        if media is None:
            return None
        if media.has_file and (not self.image_ext or media.ext == self.image_ext):
            return Path(media.path).read_bytes()  # type: ignore[arg-type]
        if media.data is None and not media.has_file:
            return None
        import cv2

        ok, buf = cv2.imencode(os.path.splitext(name)[1] or ".png", media.load())
        return buf.tobytes() if ok else None

    # -- items ---------------------------------------------------------------
    def size_of(self, item: Item) -> tuple[int, int] | None:
        if item.media is not None:
            size = item.media.header_size()
            if size is not None:
                return size
        for ann in item.annotations:
            if ann.type is AnnType.mask:
                return ann.size  # type: ignore[union-attr]
        return None

    def finish(self) -> None:
        """Report (or, with --strict, refuse) what cannot be read back, then every loss.

        Subset folders and nested ids of subset "default" cannot be told apart: whether
        imported with --subset-folders or not, one of them comes back wrong."""
        if self.subset_folders and self.nested_default:
            self.loss.drop(NESTED_DEFAULT, self.nested_default,
                           "written as they are (with --subset-folders their first folder reads as a subset)")
        self.loss.finish()

    def write_item(self, item: Item) -> None:
        rel = self.json_path(item)
        if item.subset != DEFAULT_SUBSET:
            self.subset_folders = True
        elif "/" in item.id:
            self.nested_default += 1
        sub = "" if item.subset == DEFAULT_SUBSET else item.subset + "/"
        json_dir = posixpath.dirname(item.id)
        m = ns_meta(item.meta)
        name = self.image_name(item)
        embedded = self.embedded_bytes(item)
        image_data: str | None = None
        image_path = ""
        if name is not None:
            ip = m.get("ip")
            image_path = ip if isinstance(ip, str) and _resolves(json_dir, ip, name) else image_path_for(json_dir, name)
            data = None
            if self.save_media:
                data = self.write_image(item, sub + name, embedded)
                if data is None:
                    self.missing.append(sub + name)
            if self.embed:
                data = data or embedded or self.encoded(item, name)
                if data is None and not self.save_media:
                    self.missing.append(sub + name)
                image_data = base64.b64encode(data).decode("ascii") if data is not None else None
            elif embedded is not None and not self.save_media:
                image_data = m["img"]
        size = self.size_of(item)
        shapes = []
        for ann in sorted(item.annotations, key=lambda a: a.z_order):
            if ann.z_order:
                self.loss.drop("z_order values (kept as shape order)")
            shape = shape_of(ann, self.labels, item.id, self.loss)
            if shape is not None:
                shapes.append(shape)
        doc: dict[str, Any] = {}
        version = m["v"] if "v" in m else DEFAULT_VERSION
        if version is not None:
            doc["version"] = plain(version)
        doc.update({"flags": plain(item.attributes), "shapes": shapes, "imagePath": image_path,
                    "imageData": image_data, "imageHeight": size[0] if size else None,
                    "imageWidth": size[1] if size else None})
        extra = m.get("x")
        if isinstance(extra, Mapping):
            for k in sorted(extra):
                if k not in doc:
                    doc[k] = plain(extra[k])
        atomic_write_text(self.out / rel, json.dumps(doc, ensure_ascii=False, indent=2))
        self.files.append(rel)


def _resolves(json_dir: str, image_path: str, name: str) -> bool:
    try:
        return resolve_image_name(json_dir, image_path) == name
    except DatasetError:
        return False


def save_labelme(dataset: Dataset, out: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Write ``dataset`` as LabelMe JSON files under ``out``; see docs/formats/labelme.md."""
    w = _Writer(out, options, progress, dataset.categories.label_names())
    with progress.task("labelme: writing files", total=len(dataset)) as bar:
        for item in dataset:
            w.write_item(item)
            bar.advance()
    w.finish()
    return ExportReport(files=tuple(sorted(w.files)), missing_media=tuple(sorted(set(w.missing))))
