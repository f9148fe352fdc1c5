"""``dsrepo diff`` benchmark (run by hand, never in CI).

    python -m benchmarks.bench_diff                                   # 118,287 images, temp data
    python -m benchmarks.bench_diff --data /tmp/benchdata/coco/train  # reuse a COCO folder
    python -m benchmarks.bench_diff --images 20000 --work /tmp/bd     # smaller, keep the project

A train2017-sized instances file (benchmarks.coco_gen, or ``--data``) is added to a
project and committed; then 1 % of the images get every box and polygon moved by one
pixel (benchmarks.bench_repo's edit) and a second commit is made (setup, not timed).

Timed, each a whole command in a fresh process (start-up included), median of 3:
``dsrepo diff HEAD~1 HEAD --stat`` (counts only, nothing decoded), the default summary
(modified items decoded, annotations matched) and ``--items``. Baseline, measured in the
same run: the COCO import alone, in-process (``import_dataset`` + iterate every item).
Targets: ``--stat`` and the default summary <= 1 s and <= 0.1x the import.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_repo import IMPORT_ONLY, _dsrepo_exe, _edit, _machine, _median, _timed


def _setup(data: Path, proj: Path) -> dict:
    ds = _dsrepo_exe()
    if (proj / ".dsrepo").is_dir():
        return {}
    proj.mkdir(parents=True, exist_ok=True)
    _timed(ds + ["create"], proj)
    r = {"add": _timed(ds + ["add", str(data), "-f", "coco", "-n", "coco"], proj),
         "commit1": _timed(ds + ["commit", "-m", "initial import"], proj)}
    r["edited_images"] = _edit(proj / "coco" / "annotations" / "instances_train2017.json", 0.01)
    r["commit2"] = _timed(ds + ["commit", "-m", "nudge 1% of the boxes"], proj)
    return r


def run(data: Path, work: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", IMPORT_ONLY, str(data)], capture_output=True, text=True, check=True)
    imp, n_anns = out.stdout.split()
    proj = work / f"diff-{data.name}"
    r: dict = {"import": float(imp), "annotations": int(n_anns), **_setup(data, proj)}
    ds = _dsrepo_exe() + ["diff", "HEAD~1", "HEAD"]
    for name, extra in (("stat", ["--stat"]), ("summary", []), ("items", ["--items"]), ("json", ["--json"])):
        r[name] = _median(ds + extra, proj, 3)
    r["help"] = _median(_dsrepo_exe() + ["--help"], proj, 3)
    r["stat_output"] = subprocess.run(ds + ["--stat"], cwd=proj, capture_output=True, text=True).stdout
    return r


def report(m: dict, r: dict, n_images: int) -> str:
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, {m['filesystem']}, "
             f"Python {m['python']}, {m['os']}; dsrepo {m['dsrepo']}", "",
             f"| `dsrepo diff HEAD~1 HEAD` ({n_images:,} images, {r['annotations']:,} annotations, 1% edited) "
             "| time | / import | target |", "|---|---|---|---|"]
    imp = r["import"]
    lines.append(f"| baseline: COCO import alone (in-process, import + iterate) | {imp:.2f} s | 1 | |")
    for name, label, target in (("stat", "`--stat` (counts only)", "<= 1 s and <= 0.1x"),
                                ("summary", "default summary (modified items decoded)", "<= 1 s and <= 0.1x"),
                                ("items", "`--items` (per item and annotation)", ""), ("json", "`--json`", ""),
                                ("help", "`dsrepo --help` (start-up floor)", "")):
        met = ""
        if target:
            met = " — met" if r[name] <= 1.0 and r[name] <= 0.1 * imp else " — **missed**"
        lines.append(f"| {label} | {r[name]:.2f} s | {r[name] / imp:.3f} | {target}{met} |")
    if "commit2" in r:
        lines += ["", f"setup: add {r['add']:.1f} s + commit {r['commit1']:.1f} s; edit of {r['edited_images']} "
                      f"images + commit {r['commit2']:.1f} s"]
    lines += ["", "```", r["stat_output"].rstrip(), "```"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="COCO folder with annotations/instances_train2017.json (reused)")
    ap.add_argument("--images", type=int, default=118287, help="images to generate when --data is not given")
    ap.add_argument("--work", type=Path, help="folder for generated data and the project (kept and reused)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="dsrepo-bench-diff-"))
    work.mkdir(parents=True, exist_ok=True)
    data = args.data
    if data is None:
        from benchmarks.coco_gen import generate

        data = work / f"coco{args.images}"
        if not (data / "annotations").is_dir():
            generate(data, args.images, tasks=("instances",))
    import orjson

    n_images = len(orjson.loads((data / "annotations" / "instances_train2017.json").read_bytes())["images"])
    print(report(_machine(), run(data, work), n_images))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
