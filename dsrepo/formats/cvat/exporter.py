"""CVAT XML export: one pass over the items, one XML file per group of subsets.

Image bodies are spooled to temporary files (video tracks are gathered in memory);
each file gets its ``<meta>`` (labels with attribute specs) once every attribute in
use is known. Everything is staged inside the output folder and moved into place at
the end, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.common.lossy import BAD_LABEL, ITEM_ATTRIBUTES, UNLABELED, LossTracker, kind_word
from dsrepo.formats.common.media import media_filename, save_image
from dsrepo.formats.cvat import writer as wr
from dsrepo.formats.cvat.layout import MAIN
from dsrepo.formats.cvat.meta import NS, cvat_meta, spec_map, task_subset
from dsrepo.formats.cvat.specs import AttrStats
from dsrepo.formats.cvat.video import VideoFile
from dsrepo.model.annotations import AnnType
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.progress import Progress


class OutFile:
    """One XML file being written: its subsets, mode, spooled body and image ids."""

    def __init__(self, rel: str, layout: str, mode: str, tree: list | None, tmp: str) -> None:
        self.rel, self.layout, self.mode, self.tree = rel, layout, mode, tree
        self.subsets: dict[str, int] = {}
        self.body = open(os.path.join(tmp, f"{len(os.listdir(tmp))}.body"), "w+b")
        self.used_ids: set[int] = set()
        self.next_id = 0
        self.video = VideoFile() if mode == "video" else None
        self.chunks: list[tuple[int, int, int, int]] = []  # (sort key, seq, offset, length)
        self.video_text = ""
        self.placed: dict[int, tuple[int, int]] = {}  # arrival number -> place in the written file

    def add_chunk(self, key: int, data: str) -> None:
        """Spool one ``<image>`` element; images are written sorted by ``key`` (then arrival)."""
        self.add_chunk_bytes(key, data.encode("utf-8"))

    def add_chunk_bytes(self, key: int, raw: bytes) -> None:
        """:meth:`add_chunk` of an element already encoded (a patch copies them)."""
        off = self.body.tell()
        self.body.write(raw)
        self.chunks.append((key, len(self.chunks), off, len(raw)))

    def copy_body(self, out, start: int = 0) -> dict[int, tuple[int, int]]:
        """Write the spooled images in order, then any video tracks; returns where each
        image landed, ``{arrival number: (offset, length)}``, the body starting at ``start``."""
        placed = {}
        pos = start
        for _, seq, off, n in sorted(self.chunks):
            self.body.seek(off)
            out.write(self.body.read(n))
            placed[seq] = (pos, n)
            pos += n
        if self.video_text:
            out.write(self.video_text.encode("utf-8"))
        return placed

    def implied_subset(self) -> str:
        """The subset an import gives items of this file that have no subset attribute."""
        if self.layout == "files":
            return Path(self.rel).stem
        if self.layout == "dirs":
            return Path(self.rel).parent.name
        return (task_subset(self.tree) if self.tree else "") or DEFAULT_SUBSET

    def frame(self, want: Any) -> int:
        """A unique image id: ``want`` when free, else the next free one."""
        if isinstance(want, int) and not isinstance(want, bool) and want >= 0 and want not in self.used_ids:
            self.used_ids.add(want)
            return want
        while self.next_id in self.used_ids:
            self.next_id += 1
        self.used_ids.add(self.next_id)
        return self.next_id


class _Export:
    def __init__(self, dataset: Dataset, out: Path, options: Mapping[str, Any], progress: Progress) -> None:
        self.ds, self.out, self.opt, self.progress = dataset, out, options, progress
        self.tracker = LossTracker("cvat", progress, bool(options.get("strict")))
        self.cats = dataset.categories
        self.names = [lab.name for lab in self.cats.labels]
        self.orders = [[s["name"] for s in cvat_meta(lab.meta).get("attrs") or ()] + list(lab.attributes)
                       for lab in self.cats.labels]
        self.specs = [spec_map(lab) for lab in self.cats.labels]
        self.stats: dict[tuple[int, str], AttrStats] = {}
        self.files: dict[str, OutFile] = {}
        self.written: list[str] = []
        self.missing: list[str] = []
        self.no_size = 0
        self.stat_log: list | None = None  # set by the patch hook: undeclared attribute values of an item
        self.last: tuple | None = None  # (file, sort key given, frame wanted, frame, arrival number) of the last item
        self.layout_opt = options.get("layout") or "auto"
        self.mode_opt = options.get("mode") or "auto"
        recorded = [cvat_meta(m) for m in dataset.subset_meta.values()]
        self.default_layout = next((r.get("layout") for r in recorded if r.get("layout") in ("files", "dirs")),
                                   "single")

    # -- files -------------------------------------------------------------------------

    def _file(self, subset: str, count: int = 1) -> OutFile:
        rec = cvat_meta(self.ds.subset_meta.get(subset))
        layout = self.layout_opt
        if layout == "auto":
            layout = rec.get("layout") if rec.get("layout") in ("single", "files", "dirs") else self.default_layout
            rel = rec.get("file") if isinstance(rec.get("file"), str) and rec.get("layout") == layout else None
        else:
            layout = {"per-subset": "files"}.get(layout, layout)
            rel = None
        if rel is None:
            rel = MAIN if layout == "single" else (f"{subset}.xml" if layout == "files" else f"{subset}/{MAIN}")
        rel = safe_relpath(rel, None, f"subset {subset}")
        f = self.files.get(rel)
        if f is None:
            mode = self.mode_opt if self.mode_opt != "auto" else (rec.get("mode") or "images")
            tree = rec.get("meta") if rec.get("file") == rel and isinstance(rec.get("meta"), list) else None
            f = OutFile(rel, layout, mode, tree, self.tmp)
            self.files[rel] = f
        f.subsets[subset] = f.subsets.get(subset, 0) + count
        return f

    # -- items -------------------------------------------------------------------------

    def _name(self, item: Item, f: OutFile) -> str:
        ext = self.opt.get("image_ext")
        media = item.media
        name = media.name if media is not None and media.name else media_filename(item, ext)
        if ext:
            name = os.path.splitext(name)[0] + (ext if ext.startswith(".") else "." + ext)
        name = safe_relpath(name, None, f"item {item.id}")
        if self.opt.get("save_media"):
            if f.layout == "dirs":
                sub = f"{Path(f.rel).parent.as_posix()}/images"
            elif f.layout == "single" and item.subset == f.implied_subset():
                sub = "images"
            else:
                sub = f"images/{item.subset}"
            if save_image(item, Path(self.tmp) / "out" / sub / name, ext or None):
                self.written.append(f"{sub}/{name}")
            else:
                self.missing.append(item.id)
        return name

    def annotation(self, ann: Any) -> tuple[str, list[tuple[str, str]]] | None:
        """``(label name, geometry)`` of an annotation CVAT can hold, else None (counted)."""
        if ann.type is AnnType.caption:
            self.tracker.drop(kind_word(ann.type))
            return None
        if ann.label is None:
            self.tracker.drop(UNLABELED)
            return None
        if ann.label >= len(self.names):
            self.tracker.drop(BAD_LABEL)
            return None
        geom = wr.geometry(ann)
        if geom is None:
            self.tracker.drop("empty " + kind_word(ann.type))
            return None
        if ann.type is AnnType.points and any(v != 2 for v in ann.visibility):
            self.tracker.drop("keypoint visibility flags (points written as visible)")
        for k, v in ann.attributes.items():
            if k not in wr.SPECIAL and k not in self.specs[ann.label]:
                self.stats.setdefault((ann.label, k), AttrStats()).add(v)
                if self.stat_log is not None:  # (a patch keeps them in the item's row)
                    self.stat_log.append([ann.label, k, v if isinstance(v, (bool, int, float, str)) else ""])
        return self.names[ann.label], geom

    def add(self, item: Item) -> None:
        f = self._file(item.subset)
        name = self._name(item, f)
        if set(item.attributes) - {"frame"}:
            self.tracker.drop(ITEM_ATTRIBUTES)
        if f.video is not None:
            f.video.add(self, item, f.frame(item.attributes.get("frame")))
            return
        want = item.attributes.get("frame")
        fid = f.frame(want)
        attrs = [("id", str(fid)), ("name", name)]
        if item.subset != f.implied_subset():
            attrs.append(("subset", item.subset))
        m = cvat_meta(item.meta)
        o = m.get("o")
        given = o if isinstance(o, int) and not isinstance(o, bool) else None
        key = fid if given is None else given
        extra = m.get("x") or {}
        attrs += [(k, str(v)) for k, v in sorted(extra.items()) if k not in ("id", "name", "subset", "width", "height")]
        size = item.media.size or item.media.header_size() if item.media is not None else None
        if size:
            attrs += [("width", str(size[1])), ("height", str(size[0]))]
        else:
            self.no_size += 1
        lines = []
        for ann in item.annotations:
            got = self.annotation(ann)
            if got is None:
                continue
            label, geom = got
            sa = wr.shape_attrs(ann, label, geom, None, True)
            kids = wr.attribute_children(ann.attributes, self.orders[ann.label], "      ")
            lines += wr.element(wr.TAGS[ann.type], sa, kids, "    ")
        lines += ["    " + r for r in m.get("raw") or () if isinstance(r, str)]
        self.last = (f, given, want if isinstance(want, int) and not isinstance(want, bool) else None, fid,
                     len(f.chunks))
        f.add_chunk(key, "\n".join(wr.element("image", attrs, lines, "  ")) + "\n")

    # -- meta and files ----------------------------------------------------------------

    def label_specs(self) -> list[tuple[str, Mapping[str, Any], list]]:
        out = []
        for i, lab in enumerate(self.cats.labels):
            m = cvat_meta(lab.meta)
            specs = list(m.get("attrs") or [])
            known = {s["name"] for s in specs}
            for a in lab.attributes:
                if a not in known:
                    st = self.stats.pop((i, a), AttrStats())
                    specs.append(st.spec(a))
                    known.add(a)
            specs += [st.spec(a) for (li, a), st in sorted(self.stats.items()) if li == i and a not in known]
            out.append((lab.name, m, specs))
        return out

    def _tree(self, f: OutFile) -> list:
        if f.tree is not None:
            return wr.with_labels_slot(f.tree)
        mode = "interpolation" if f.mode == "video" else "annotation"
        subsets = list(f.subsets)
        if len(subsets) == 1:
            task = [["name", subsets[0]], ["size", str(f.video.size() if f.video else f.subsets[subsets[0]])],
                    ["mode", mode], list(wr.LABELS_SLOT)]
            if subsets[0] != DEFAULT_SUBSET and f.layout == "single":
                task.append(["subset", subsets[0]])
            if f.video is not None and f.video.frame_size:
                h, w = f.video.frame_size
                task.append(["original_size", [["width", str(w)], ["height", str(h)]]])
            return ["meta", [["task", task]]]
        tasks = [["task", [["name", s], ["size", str(n)], ["mode", mode], ["subset", s]]]
                 for s, n in f.subsets.items()]
        return ["meta", [["project", [["name", "dsrepo export"], list(wr.LABELS_SLOT), ["tasks", tasks]]]]]

    def finish(self) -> None:
        for name in list(self.ds.subset_meta) or ([] if self.files else [DEFAULT_SUBSET]):
            self._file(name, 0)  # empty subsets still get their file (and the labels)
        if self.cats.points:
            self.tracker.drop("keypoint schemas (point names and joints)", len(self.cats.points))
        parents = sum(1 for lab in self.cats.labels if lab.parent)
        if parents:
            self.tracker.drop("label parents", parents)
        for f in self.files.values():
            if f.video is not None:
                f.video.write(self, f)
        labels = wr.label_lines(self.label_specs(), "      ")
        for f in self.files.values():
            tree = self._tree(f)
            dest = Path(self.tmp) / "out" / f.rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            head = ['<?xml version="1.0" encoding="utf-8"?>', "<annotations>", "  <version>1.1</version>",
                    *wr.tree_lines(tree, "  ", labels)]
            with open(dest, "wb") as out:
                head_bytes = ("\n".join(head) + "\n").encode("utf-8")
                out.write(head_bytes)
                f.placed = f.copy_body(out, len(head_bytes))
                out.write(b"</annotations>\n")
            self.written.append(f.rel)
        if self.no_size:
            self.progress.warn(f"cvat: {self.no_size} images have no known size; width/height left out")
        self.tracker.finish()
        if self.missing and self.opt.get("save_media"):
            shown = ", ".join(self.missing[:3]) + (", ..." if len(self.missing) > 3 else "")
            self.progress.warn(f"cvat: {len(self.missing)} images not saved (no image file): {shown}")

    def commit(self) -> ExportReport:
        """Move the staged files into the output folder."""
        for rel in self.written:
            dst = self.out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(Path(self.tmp) / "out" / rel, dst)
        return ExportReport(files=tuple(sorted(set(self.written))), missing_media=tuple(self.missing))

    def close(self) -> None:
        """Drop the spooled bodies and the staging folder."""
        for f in self.files.values():
            f.body.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run(self) -> ExportReport:
        self.tmp = tempfile.mkdtemp(prefix=".dsrepo-cvat-", dir=self.out)
        try:
            with self.progress.task("exporting cvat") as bar:
                for item in self.ds:
                    self.add(item)
                    bar.advance()
            self.finish()
            return self.commit()
        finally:
            self.close()


def save_cvat(dataset: Dataset, out_dir: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Export ``dataset`` to ``out_dir`` as CVAT XML 1.1 (deterministic)."""
    if not out_dir.is_dir():
        raise ExportError(f"{out_dir}: not a folder")
    return _Export(dataset, out_dir, options, progress).run()


__all__ = ["save_cvat", "NS"]
