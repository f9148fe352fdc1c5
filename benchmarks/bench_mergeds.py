"""merge-datasets benchmark (run by hand, never in CI).

    python -m benchmarks.bench_mergeds [--images 2000] [--data DIR] [--datumaro /tmp/dmenv/bin/python]

Generates a COCO-shaped instances file (``benchmarks.coco_gen``, no media) and merges it
with itself (the same folder given twice: Datumaro's exact merge refuses equal items whose
image paths differ), so every item is present in both inputs and every comparison or vote
runs. Each step is a whole ``dsrepo`` command in a fresh process, wall-clock timed:

* baseline: ``dsrepo convert -i A -if coco_instances -o OUT -f datumaro`` (import + export
  of ONE input), measured in the same run;
* ``dsrepo merge-datasets A:coco_instances B:coco_instances -o OUT -f datumaro --policy P``
  for P in exact, union, intersect; reported as seconds and as a ratio to the baseline.

With ``--datumaro PY`` (an interpreter with datumaro installed), the same merges run with
Datumaro's Python API (import both, ``HLOps.merge``, export datumaro) in a fresh process.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICIES = ("exact", "union", "intersect")

DATUMARO_SCRIPT = """
import sys
from datumaro.components.dataset import Dataset
from datumaro.components.hl_ops import HLOps
a = Dataset.import_from(sys.argv[1], "coco_instances")
b = Dataset.import_from(sys.argv[2], "coco_instances")
m = HLOps.merge(a, b, merge_policy=sys.argv[3])
m.export(sys.argv[4], "datumaro")
"""


def _timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr[-2000:]}")
    return time.perf_counter() - t


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def _inputs(data: Path, images: int) -> tuple[Path, Path]:
    from benchmarks.coco_gen import generate

    a = data / f"merge{images}_a"
    if not (a / "annotations").is_dir():
        generate(a, images, tasks=("instances",))
    (a / "images" / "train2017").mkdir(parents=True, exist_ok=True)  # Datumaro's COCO layout wants it
    return a, a


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--data", type=Path, help="folder for generated data (kept; reused when present)")
    ap.add_argument("--datumaro", help="Python interpreter with datumaro installed")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-mergeds-"))
    try:
        a, b = _inputs(args.data or work, args.images)
        ds = [sys.executable, "-m", "dsrepo", "-q"]
        base = _timed(ds + ["convert", "-i", str(a), "-if", "coco_instances", "-o", str(work / "base"),
                            "-f", "datumaro"])
        rows = []
        for pol in POLICIES:
            out = work / f"out-{pol}"
            t = _timed(ds + ["merge-datasets", f"{a}:coco_instances", f"{b}:coco_instances", "-o", str(out),
                             "-f", "datumaro", "--policy", pol, "--report", str(work / f"{pol}.json")])
            dm = None
            if args.datumaro:
                dm = _timed([args.datumaro, "-c", DATUMARO_SCRIPT, str(a), str(b), pol, str(work / f"dm-{pol}")])
            rows.append((pol, t, dm))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {_machine()}")
    print(f"{args.images} images, two identical coco_instances inputs; baseline convert of one input: {base:.2f} s")
    print("| policy | merge-datasets s | / convert baseline | Datumaro s | dsrepo / Datumaro |")
    print("|---|---|---|---|---|")
    for pol, t, dm in rows:
        d = f"{dm:.2f}" if dm is not None else "-"
        r = f"{t / dm:.2f}" if dm else "-"
        print(f"| {pol} | {t:.2f} | {t / base:.2f} | {d} | {r} |")


if __name__ == "__main__":
    main()
