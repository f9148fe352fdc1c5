"""A tiny test-only format (never registered in the product): ``items.json`` listing
items with an image path relative to the dataset folder and bbox annotations.

Used to exercise the repository independently of COCO: extra files, images that
change without annotation changes, symlinks, in-memory datasets."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson

from dsrepo.errors import DatasetError
from dsrepo.formats.base import COMMON_EXPORT_OPTIONS, ExportReport, FormatSpec, Option
from dsrepo.formats.common.files import atomic_write_bytes, safe_join, safe_relpath
from dsrepo.model import Bbox, Categories, Dataset, Image, Item


def _detect(path: Path) -> float:
    return 0.9 if (Path(path) / "items.json").is_file() else 0.0


def _load(path: Path, options, progress) -> Dataset:
    f = Path(path) / "items.json"
    if not f.is_file():
        raise DatasetError("items.json not found", path)
    try:
        doc = orjson.loads(f.read_bytes())
    except orjson.JSONDecodeError as e:
        raise DatasetError(f"not valid JSON ({e})", f) from None
    items = []
    for n, d in enumerate(doc.get("items", [])):
        media = None
        if d.get("image"):
            rel = safe_relpath(d["image"], f, f"item #{n}")
            media = Image(path=str(safe_join(path, rel)), name=os.path.basename(rel))
        anns = tuple(Bbox(x=x, y=y, w=w, h=h, label=lab) for lab, x, y, w, h in d.get("boxes", []))
        items.append(Item(d["id"], d.get("subset", "default"), media, anns, attributes=d.get("attrs") or {}))
    cats = Categories.from_names(doc.get("labels", []))
    return Dataset(cats, items, doc.get("meta") or {}, media_root=str(path))


def _save(ds: Dataset, out: Path, options, progress) -> ExportReport:
    files = ["items.json"]
    rows = []
    for it in ds:
        row = {"id": it.id, "subset": it.subset}
        if it.media is not None:
            m = it.media
            if ds.media_root and m.path and os.path.abspath(m.path).startswith(os.path.abspath(ds.media_root) + os.sep):
                rel = os.path.relpath(m.path, ds.media_root).replace(os.sep, "/")
            else:
                rel = f"images/{m.name or it.id + '.png'}"
            row["image"] = rel
            if options.get("save_media") and m.path and os.path.isfile(m.path):
                dest = Path(out) / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(m.path, dest)
                files.append(rel)
            elif options.get("save_media") and m.data is not None:
                import cv2

                dest = Path(out) / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(dest), m.data)
                files.append(rel)
        if it.annotations:
            row["boxes"] = [[a.label, a.x, a.y, a.w, a.h] for a in it.annotations]
        if it.attributes:
            row["attrs"] = dict(it.attributes)
        rows.append(row)
    doc = {"labels": [c.name for c in ds.categories.labels], "items": rows,
           "meta": {k: dict(v) for k, v in ds.subset_meta.items()}}
    opt = orjson.OPT_INDENT_2 if options.get("indent") else 0
    atomic_write_bytes(Path(out) / "items.json", orjson.dumps(doc, option=opt | orjson.OPT_SORT_KEYS))
    return ExportReport(files=tuple(files))


SPEC = FormatSpec("tinyjson", "test-only format", _detect, _load, _save,
                  import_options=(Option("strict-images", "flag", False, "unused"),),
                  export_options=COMMON_EXPORT_OPTIONS + (Option("indent", "flag", False, "indent JSON"),))


def write_tiny(root: Path, items: list[dict], labels=("cat", "dog"), images: dict[str, bytes] | None = None,
               meta: dict | None = None) -> Path:
    """Write a tinyjson dataset folder."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in (images or {}).items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    (root / "items.json").write_bytes(orjson.dumps({"labels": list(labels), "items": items, "meta": meta or {}}))
    return root
