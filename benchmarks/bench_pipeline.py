"""Pipeline benchmark: build + export of a revision with stages (run by hand, never in CI).

    python -m benchmarks.bench_pipeline --data /tmp/bench            # reuse/keep generated data
    python -m benchmarks.bench_pipeline --datumaro /tmp/dmenv/bin/python

A COCO-shaped project of 5,000 JPEG images with its instances file (benchmarks.coco_gen;
source format ``coco_instances``, as Datumaro reads it) gets the pipeline ``remap_labels (person -> human)`` ->
``filter /item[annotation/label="human"]`` -> ``random_split train:0.8,val:0.2``, committed.
Then, each a whole ``dsrepo export HEAD -f coco_instances`` command in a fresh process:

1. first export, with the build cache emptied before it (every stage runs);
2. second export of the same revision into another folder (the build is a cache hit);
3. the same two exports with ``--save-media``.

Datumaro is not a dsrepo dependency. With ``--datumaro PYTHON`` (an interpreter that has
``datumaro`` installed, e.g. ``python -m venv /tmp/dmenv && /tmp/dmenv/bin/pip install
datumaro``) the same import + transforms + filter + export runs there in the same invocation,
for comparison; without it that row is skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_repo import _dsrepo_exe, _machine, _timed

STAGES = [
    ["transform", "-t", "remap_labels", "coco", "--", "--label", "person:human"],
    ["filter", "-e", '/item[annotation/label="human"]', "coco"],
    ["transform", "-t", "random_split", "--", "--subset", "train:0.8,val:0.2", "--seed", "0"],
]

DATUMARO_SCRIPT = """
import sys, time
import datumaro as dm
src, out, media = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
t = time.perf_counter()
ds = dm.Dataset.import_from(src, "coco_instances")
ds.transform("remap_labels", mapping={"person": "human"}, default="keep")
ds.filter('/item[annotation/label="human"]')
ds.transform("random_split", splits=[("train", 0.8), ("val", 0.2)], seed=0)
ds.export(out, "coco_instances", save_media=media)
print(time.perf_counter() - t)
"""


def _export(ds: list[str], proj: Path, out: Path, media: bool) -> float:
    shutil.rmtree(out, ignore_errors=True)
    return _timed(ds + ["export", "HEAD", "-f", "coco_instances", "-o", str(out)] + (["--", "--save-media"] if media else []),
                  proj)


def _datumaro_layout(data: Path, work: Path) -> Path:
    """Datumaro's COCO importer wants images under images/<subset>/: a symlinked view."""
    view = work / "dm-view"
    if not view.exists():
        (view / "images").mkdir(parents=True)
        (view / "annotations").mkdir()
        for f in (data / "annotations").glob("instances_*.json"):
            (view / "annotations" / f.name).symlink_to(f)
        for d in data.iterdir():
            if d.is_dir() and d.name not in ("annotations", "images"):
                (view / "images" / d.name).symlink_to(d)
    return view


def _datumaro(python: str, data: Path, out: Path, media: bool) -> float:
    shutil.rmtree(out, ignore_errors=True)
    data = _datumaro_layout(data, out.parent)
    t = time.perf_counter()
    r = subprocess.run([python, "-c", DATUMARO_SCRIPT, str(data), str(out), "1" if media else "0"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"datumaro run failed: {r.stderr[-2000:]}")
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="folder for generated data (kept; reused when present)")
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--datumaro", help="Python interpreter with datumaro installed")
    ap.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = ap.parse_args(argv)
    from benchmarks.coco_gen import generate

    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    data = (args.data or work / "data") / f"coco{args.images}"
    if not (data / "annotations").is_dir():
        generate(data, args.images, with_media=True)
    ds = _dsrepo_exe()
    proj = work / "proj"
    proj.mkdir()
    r: dict = {"machine": _machine(), "images": args.images}
    try:
        _timed(ds + ["create"], proj)
        _timed(ds + ["add", str(data), "-f", "coco_instances", "-n", "coco"], proj)
        for stage in STAGES:
            _timed(ds + stage, proj)
        _timed(ds + ["commit", "-m", "pipeline"], proj)
        for media in (False, True):
            key = "media" if media else "annotations"
            shutil.rmtree(proj / ".dsrepo" / "cache" / "build", ignore_errors=True)
            first = _export(ds, proj, work / "out1", media)
            second = _export(ds, proj, work / "out2", media)
            r[key] = {"first": first, "second": second, "ratio": second / first}
            if args.datumaro:
                r[key]["datumaro"] = _datumaro(args.datumaro, data, work / "out-dm", media)
                r[key]["first_vs_datumaro"] = first / r[key]["datumaro"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {r['machine']}")
    print("| export | first (cache emptied) s | second (cache hit) s | second/first | Datumaro s | first/Datumaro |")
    print("|---|---|---|---|---|---|")
    for key in ("annotations", "media"):
        m = r[key]
        dm = f"{m['datumaro']:.2f} | {m['first_vs_datumaro']:.2f}" if "datumaro" in m else "not installed | -"
        print(f"| {key} | {m['first']:.2f} | {m['second']:.2f} | {m['ratio']:.2f} | {dm} |")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
