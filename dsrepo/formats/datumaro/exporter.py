"""Datumaro export: ``annotations/<subset>.json`` streamed item by item, deterministic."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Mapping

import orjson

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.common.lossy import BAD_LABEL, LossTracker
from dsrepo.formats.common.media import media_filename, save_image
from dsrepo.formats.datumaro.anns import ann_to_json
from dsrepo.formats.datumaro.cats import categories_json, join_private
from dsrepo.formats.datumaro.schema import FORMAT_VERSION, MEDIA_TYPE_IMAGE, NS, PRIVATE, sort_keys
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.progress import Progress



def _check_subset(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
        raise ExportError(f"datumaro: subset name {name!r} cannot be used as a file name")


def _native(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    return meta.get(NS) or {}


class _Export:
    """One export run: items are appended to per-subset staging files, then the final
    files are assembled and moved into ``out``."""

    def __init__(self, ds: Dataset, out: Path, options: Mapping[str, Any], progress: Progress) -> None:
        self.ds = ds
        self.out = out
        self.opt = options
        self.progress = progress
        self.tracker = LossTracker("datumaro", progress, bool(options.get("strict")))
        self.n_labels = len(ds.categories.labels)
        ext = options.get("image_ext")
        self.ext = (ext if ext.startswith(".") else "." + ext) if ext else None
        # per subset: staging file of its records, [records, bytes written]
        self.parts: dict[str, tuple[IO[bytes], list[int]]] = {}
        self.heads: dict[str, int] = {}  # length of each subset file's head (records follow)
        self.files: list[str] = []
        self.missing: list[str] = []
        self.stage = Path()

    # -- items -------------------------------------------------------------------------

    def _image(self, item: Item, native: Mapping[str, Any]) -> dict:
        media = item.media
        assert media is not None
        name = media.name or media_filename(item, self.ext, ".jpg")
        if self.ext:
            name = os.path.splitext(name)[0] + self.ext
        rel = safe_relpath(name.replace("\\", "/"), None, f"item {item.id}")
        path = native.get("abs_path") if isinstance(native.get("abs_path"), str) else rel
        if self.opt.get("save_media"):
            dest_rel = f"images/{item.subset}/{rel}"
            if save_image(item, self.stage / dest_rel, self.ext):
                self.files.append(dest_rel)
            else:
                self.missing.append(item.id)
        out: dict[str, Any] = {"path": path}
        size = media.size or media.header_size()
        if size:
            out["size"] = [int(size[0]), int(size[1])]
        return out

    def _annotations(self, item: Item, native: Mapping[str, Any]) -> list:
        out = []
        for ann in item.annotations:
            if ann.label is not None and ann.label >= self.n_labels:
                self.tracker.drop(BAD_LABEL, result="written without a label")
                ann = ann.with_(label=None)
            out.append(ann_to_json(ann))
        opaque = native.get("opaque") or ()
        for pos, raw in sorted(((p, r) for p, r in opaque), key=lambda pr: pr[0]):
            out.insert(min(int(pos), len(out)), sort_keys(raw))
        return out

    def item_json(self, item: Item) -> dict:
        """The Datumaro record of ``item`` (saving its image when asked)."""
        native = _native(item.meta)
        d: dict[str, Any] = {"id": item.id, "annotations": self._annotations(item, native)}
        if item.attributes:
            d["attr"] = sort_keys(item.attributes)
        if item.media is not None:
            d["media" if native.get("media_key") == "media" else "image"] = self._image(item, native)
        return join_private(d, item.meta)

    def add(self, item: Item) -> tuple[int, int]:
        """Append one item to its subset's staging file; ``(position there, length)``."""
        return self.add_raw(item.subset, orjson.dumps(self.item_json(item)), 1)

    def add_raw(self, subset: str, records: bytes | memoryview, n: int) -> tuple[int, int]:
        """Append ``n`` records already serialised (joined by commas) to ``subset``'s
        staging file; ``(position there, length)``."""
        part = self.parts.get(subset)
        if part is None:
            _check_subset(subset)
            part = (open(self.stage / f"part-{len(self.parts)}", "wb"), [0, 0])
            self.parts[subset] = part
        f, count = part
        if count[0]:
            f.write(b",")
            count[1] += 1
        pos = count[1]
        f.write(records)
        count[0] += n
        count[1] += len(records)
        return pos, len(records)

    # -- files -------------------------------------------------------------------------

    def _cat_extra(self, subset: str) -> Mapping[str, Any]:
        own = _native(self.ds.subset_meta.get(subset) or {}).get("categories")
        if own:
            return own
        for s in sorted(self.ds.subset_meta):
            other = _native(self.ds.subset_meta[s]).get("categories")
            if other:
                return other
        return {}

    def _write_subset(self, subset: str, cats_cache: dict) -> None:
        meta = self.ds.subset_meta.get(subset) or {}
        native = _native(meta)
        extra = self._cat_extra(subset)
        key = orjson.dumps(sort_keys(extra))
        if key not in cats_cache:
            cats_cache[key] = orjson.dumps(categories_json(self.ds.categories, extra))
        infos = orjson.dumps(sort_keys(native.get("infos") or {}))
        head = (b'{"dm_format_version":' + orjson.dumps(FORMAT_VERSION) + b',"media_type":'
                + str(MEDIA_TYPE_IMAGE).encode() + b',"infos":' + infos
                + b',"categories":' + cats_cache[key] + b',"items":[')
        tail_obj: dict[str, Any] = {}
        for k, v in sorted((native.get("x") or {}).items()):
            tail_obj[k] = sort_keys(v)
        others = {k: v for k, v in meta.items() if k != NS}
        if others:
            tail_obj[PRIVATE] = {"subset_meta": sort_keys(others)}
        tail = b"]" + (b"," + orjson.dumps(tail_obj)[1:] if tail_obj else b"}")
        rel = f"annotations/{subset}.json"
        dest = self.stage / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.heads[subset] = len(head)
        with open(dest, "wb") as f:
            f.write(head)
            part = self.parts.get(subset)
            if part is not None:
                part[0].close()
                with open(part[0].name, "rb") as src:
                    shutil.copyfileobj(src, f)
                os.unlink(part[0].name)
            f.write(tail)
        self.files.append(rel)

    def _write_dataset_meta(self) -> None:
        cats = self.ds.categories
        doc: dict[str, Any] = {"label_map": {str(i): lab.name for i, lab in enumerate(cats.labels)}}
        if cats.colormap and all(i in cats.colormap for i in range(len(cats.labels))):
            doc["segmentation_colors"] = [list(cats.colormap[i]) for i in range(len(cats.labels))]
        (self.stage / "dataset_meta.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        self.files.append("dataset_meta.json")

    def finish(self) -> None:
        """Assemble every subset file (subsets known only from meta get an empty file)."""
        subsets = list(self.parts)
        subsets += [s for s in sorted(self.ds.subset_meta) if s not in self.parts]
        if not subsets:
            subsets = ["default"]
        cache: dict = {}
        for s in subsets:
            _check_subset(s)
            self._write_subset(s, cache)
        if self.opt.get("save_dataset_meta"):
            self._write_dataset_meta()
        self.tracker.finish()
        if self.missing:
            shown = ", ".join(self.missing[:3]) + (", ..." if len(self.missing) > 3 else "")
            self.progress.warn(f"datumaro: {len(self.missing)} images not saved (no image file): {shown}")

    def commit(self) -> None:
        """Move every staged file into ``out``."""
        for rel in dict.fromkeys(self.files):  # two items may share one image file
            dst = self.out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.stage / rel, dst)

    def run(self) -> ExportReport:
        """Export everything; nothing is left in ``out`` if it fails."""
        self.stage = Path(tempfile.mkdtemp(prefix=".dsrepo-datumaro-", dir=self.out))
        try:
            with self.progress.task("exporting datumaro") as bar:
                for item in self.ds:
                    self.add(item)
                    bar.advance()
            self.finish()
            self.commit()
        finally:
            for f, _ in self.parts.values():
                f.close()
            shutil.rmtree(self.stage, ignore_errors=True)
        return ExportReport(files=tuple(sorted(set(self.files))), missing_media=tuple(self.missing))


def save_datumaro(dataset: Dataset, out_dir: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Export ``dataset`` to ``out_dir`` as Datumaro: ``annotations/<subset>.json`` (and, with
    ``save_media``, ``images/<subset>/<name>``). The same dataset gives byte-identical files."""
    if not out_dir.is_dir():
        raise ExportError(f"{out_dir}: not a folder")
    return _Export(dataset, out_dir, options, progress).run()
