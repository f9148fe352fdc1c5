"""Incremental export benchmark (run by hand, never in CI).

    python -m benchmarks.bench_patch [--images 5000] [--edit 0.01] [--repeat 3] [--data DIR]

A COCO-shaped dataset from ``benchmarks/coco_gen.py`` (instances, no media; a box added
beside every polygon so that box-only formats have labels) is added to a project and
committed; then every box and polygon of 1 % of the items moves by one pixel and a
second revision is committed. For each format, side by side in the same run:

* ``full``: ``repo.export(HEAD)`` into an empty folder - the baseline (plain export,
  no manifest);
* ``full+manifest``: ``repo.patch_export(HEAD, incremental=False)`` into an empty folder
  (what ``dsrepo export`` now does: the export plus its manifest);
* ``patch``: ``repo.patch_export(HEAD)`` into a copy of a full export of ``HEAD~1`` (the
  copy is made before the clock starts).

Builds of both revisions are cached before timing, so every row reads the same cached
build. Times are medians of ``--repeat`` runs in this process; ratios are against
``full`` of the same format and run.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

FORMATS = ("labelme", "yolo", "yolo_ultralytics", "coco_instances", "coco", "voc_detection", "voc", "datumaro", "cvat",
           "gt_studio", "segments_ai", "imagenet_txt")
TARGETS = {"labelme": 0.05, "yolo": 0.05, "yolo_ultralytics": 0.05, "voc_detection": 0.05, "voc": 0.05,
           "coco_instances": 0.3, "coco": 0.3}


def _with_boxes(ds):
    """``ds`` with a box beside every polygon (YOLO darknet and VOC hold only boxes)."""
    from dsrepo.model.annotations import AnnType, Bbox
    from dsrepo.model.dataset import Dataset

    def boxed(item):
        boxes = []
        for a in item.annotations:
            if a.type is AnnType.polygon:
                x, y, w, h = a.get_bbox()
                boxes.append(Bbox(x=x, y=y, w=w, h=h, label=a.label))
        return item.with_(annotations=item.annotations + tuple(boxes))

    return Dataset(ds.categories, [boxed(it) for it in ds], ds.subset_meta)


def _edited(ds, every: int):
    """``ds`` with every box and polygon of one item in ``every`` moved by one pixel."""
    from dsrepo.model.annotations import AnnType
    from dsrepo.model.dataset import Dataset

    def move(a):
        if a.type is AnnType.bbox:
            return a.with_(x=a.x + 1)
        if a.type is AnnType.polygon:
            return a.with_(points=tuple(v + 1 for v in a.points))
        return a

    items = [it.with_(annotations=tuple(move(a) for a in it.annotations)) if k % every == 0 else it
             for k, it in enumerate(ds)]
    return Dataset(ds.categories, items, ds.subset_meta)


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        times.append(fn())
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--edit", type=float, default=0.01, help="fraction of items edited")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=None, help="work folder (default: a temp folder)")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the project a run with the same --data left behind (skips the set-up)")
    a = ap.parse_args()

    from benchmarks.coco_gen import generate
    from dsrepo.repo.repo import Repo

    work = a.data or Path(tempfile.mkdtemp(prefix="bench-patch-"))
    work.mkdir(parents=True, exist_ok=True)
    if a.reuse and (work / "proj" / ".dsrepo").is_dir():
        repo = Repo.open(work / "proj")
    else:
        shutil.rmtree(work / "proj", ignore_errors=True)
        generate(work / "coco", a.images, tasks=("instances",))
        repo = Repo.create(work / "proj")
        from dsrepo.formats.api import import_dataset

        repo.add(_with_boxes(import_dataset(work / "coco", "coco")), name="coco", format="coco")
        repo.commit("v1")
        repo.update("coco", _edited(repo.dataset("HEAD", "coco"), round(1 / a.edit)), format="coco")
        repo.commit("v2")
    repo.build("HEAD")
    repo.build("HEAD~1")
    n = len(repo.dataset("HEAD"))
    print(f"{n} items, {a.edit:.0%} edited; {platform.machine()} {platform.python_version()}; "
          f"median of {a.repeat}")
    print("| format | full export | full + manifest | patch-export | patch / full | target |")
    print("|---|---|---|---|---|---|")
    runs = iter(range(10**6))
    for fmt in a.formats.split(","):
        def full() -> float:
            out = work / f"full-{next(runs)}"
            t = time.perf_counter()
            repo.export(out, fmt, "HEAD")
            dt = time.perf_counter() - t
            shutil.rmtree(out)
            return dt

        def full_manifest() -> float:
            out = work / f"fullm-{next(runs)}"
            t = time.perf_counter()
            repo.patch_export(out, fmt, "HEAD", incremental=False)
            dt = time.perf_counter() - t
            shutil.rmtree(out)
            return dt

        base = work / f"base-{fmt}"
        shutil.rmtree(base, ignore_errors=True)
        repo.patch_export(base, fmt, "HEAD~1", incremental=False)

        modes = []

        def patch() -> float:
            out = work / f"patch-{next(runs)}"
            shutil.copytree(base, out, copy_function=shutil.copy2)  # keeps mtimes: the manifest stays valid
            t = time.perf_counter()
            r = repo.patch_export(out, fmt, "HEAD")
            dt = time.perf_counter() - t
            modes.append(f"{r.mode}: {len(r.written)} written")
            shutil.rmtree(out)
            return dt

        f, fm, p = _median(full, a.repeat), _median(full_manifest, a.repeat), _median(patch, a.repeat)
        target = TARGETS.get(fmt)
        verdict = "-" if target is None else f"<= {target} " + ("met" if p / f <= target else "**missed**")
        print(f"| {fmt} ({modes[-1]}) | {f:.3f} s | {fm:.3f} s | {p:.3f} s | {p / f:.3f} | {verdict} |")
        shutil.rmtree(base)
    if a.data is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
