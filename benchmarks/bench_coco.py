"""COCO import/export benchmark (run by hand, never in CI).

    python -m benchmarks.bench_coco                 # train2017-sized + val2017-sized, temp data
    python -m benchmarks.bench_coco --data DIR      # reuse/keep generated data in DIR
    python -m benchmarks.bench_coco --train 20000 --val 1000   # smaller sizes

For each file size, every measurement runs in a fresh subprocess so that peak RSS
(``resource.getrusage(...).ru_maxrss``) belongs to that measurement alone:

* ``orjson``: ``orjson.loads(Path(f).read_bytes())`` - the baseline;
* ``import``: ``import_dataset(f, "coco_instances")`` then iterate every item and touch
  every annotation (``a.id``; this builds each item's annotation objects, i.e. decodes
  every segmentation, polygon by polygon);
* ``export``: import, then ``export_dataset(..., "coco_instances")`` to a temp folder
  (the timed export iterates the lazy dataset, so it includes building the items).

It also times ``dsrepo --help`` (median of 5 runs). Results print as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024


def _hwm_mb() -> float:
    """VmHWM (peak RSS of this process image, not inherited across exec), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _worker(kind: str, path: str, out: str | None) -> dict:
    f = Path(path)
    if kind == "orjson":
        import orjson

        t = time.perf_counter()
        doc = orjson.loads(f.read_bytes())
        dt = time.perf_counter() - t
        return {"time": dt, "rss_mb": _rss_mb(), "hwm_mb": _hwm_mb(), "annotations": len(doc["annotations"])}
    from dsrepo.formats.api import export_dataset, import_dataset

    t = time.perf_counter()
    ds = import_dataset(f, "coco_instances")
    t_load = time.perf_counter() - t
    if kind == "import":
        items = anns = 0
        for it in ds:
            items += 1
            for a in it.annotations:
                anns += a.id >= 0
        total = time.perf_counter() - t
        return {"time": total, "load": t_load, "iterate": total - t_load, "rss_mb": _rss_mb(),
                "hwm_mb": _hwm_mb(), "items": items, "annotation_objects": anns}
    t = time.perf_counter()
    rep = export_dataset(ds, out, "coco_instances")
    dt = time.perf_counter() - t
    size = sum((Path(out) / p).stat().st_size for p in rep.files)
    return {"time": dt, "load": t_load, "rss_mb": _rss_mb(), "hwm_mb": _hwm_mb(), "bytes": size}


def _run(kind: str, path: Path, out: Path | None = None) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_coco", "--worker", kind, str(path)]
    if out is not None:
        cmd.append(str(out))
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def _help_time() -> float:
    exe = shutil.which("dsrepo")
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "dsrepo", "--help"]
    times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def machine() -> dict:
    """nproc, CPU model and RAM of this machine."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines()
                      if l.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="COCO import/export benchmark")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--train", type=int, default=118287, help="images in the train-sized file")
    ap.add_argument("--val", type=int, default=5000, help="images in the val-sized file")
    ap.add_argument("--data", help="folder for generated data (kept); default: a temp folder, removed")
    args = ap.parse_args(argv)
    if args.worker:
        kind, path, *rest = args.worker
        print(json.dumps(_worker(kind, path, rest[0] if rest else None)))
        return
    # The parent stays small (no numpy, data generated in a subprocess): on Linux a child's
    # ru_maxrss starts at the parent's peak RSS.
    tmp = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="dsrepo-bench-coco-"))
    rows = []
    try:
        for name, n in (("train", args.train), ("val", args.val)):
            f = tmp / name / "annotations" / f"instances_{name}2017.json"
            if not f.is_file():
                t = time.perf_counter()
                subprocess.run([sys.executable, "-m", "benchmarks.coco_gen", str(tmp / name), "--images", str(n),
                                "--tasks", "instances", "--subset", f"{name}2017"], cwd=ROOT, check=True,
                               stdout=subprocess.DEVNULL)
                print(f"generated {f} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
            base = _run("orjson", f)
            imp = _run("import", f)
            out = tmp / f"{name}-out"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            exp = _run("export", f, out)
            shutil.rmtree(out, ignore_errors=True)
            rows.append({"file": name, "images": n, "mb": f.stat().st_size / 1e6, "orjson": base,
                         "import": imp, "export": exp})
        help_s = _help_time()
    finally:
        if not args.data:
            shutil.rmtree(tmp, ignore_errors=True)
    m = machine()
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gb']} GB RAM, Python {m['python']}")
    print("| file | images | annotations | MB | orjson.loads s (peak RSS MB) | import+iterate s (load + iterate) "
          "| ratio | import peak RSS MB | export s (peak RSS MB) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        b, i, e = r["orjson"], r["import"], r["export"]
        print(f"| {r['file']} | {r['images']} | {b['annotations']} | {r['mb']:.0f} | {b['time']:.2f} "
              f"({b['rss_mb']:.0f}) | {i['time']:.2f} ({i['load']:.2f} + {i['iterate']:.2f}) | "
              f"{i['time'] / b['time']:.2f} | {i['rss_mb']:.0f} | {e['time']:.2f} ({e['rss_mb']:.0f}) | "
              f"{e['time'] / b['time']:.2f} |")
    print(f"`dsrepo --help`: {help_s:.3f} s (median of 5)")
    print(json.dumps({"machine": m, "rows": rows, "help_s": help_s}))


if __name__ == "__main__":
    main()
