"""Repository benchmark: dsrepo next to DVC on COCO-shaped data (run by hand, never in CI).

    python -m benchmarks.bench_repo                       # both parts, data in a temp folder
    python -m benchmarks.bench_repo --data /tmp/bench     # keep/reuse generated data
    python -m benchmarks.bench_repo --dvc /path/to/dvc    # DVC executable (default: `dvc` on PATH)
    python -m benchmarks.bench_repo --skip-big            # only the 5,000-image part

DVC is not a dsrepo dependency: install it by hand into the benchmark environment
(e.g. ``python -m venv /tmp/dvcenv && /tmp/dvcenv/bin/pip install dvc``) and pass
``--dvc /tmp/dvcenv/bin/dvc``. Without DVC the dsrepo numbers are still measured.

Part 1 - 5,000 JPEG images (~40 MB) + instances, keypoints and captions files
(benchmarks.coco_gen). Every step is a whole command in a fresh process (start-up
included), timed with a wall clock:

1. first commit, the data already in the project (copied there untimed, as for DVC):
   ``dsrepo add coco -f coco`` (tracked in place) + ``dsrepo commit``;
   DVC: ``dvc add data`` + ``dvc commit -f`` (the data already sits in the workspace);
   also, in a second project, the data copied in from outside:
   ``dsrepo add DATA -f coco -n coco`` + ``dsrepo commit`` (DVC has no such step);
2. status with nothing changed (median of 5 runs);
3. edit 1 % of the items' annotations (move every box of 50 images by one pixel, in the
   instances file; not timed);
4. status; 5. commit; 6. checkout of the previous revision; 7. checkout back.
   DVC checkouts are ``git checkout REV -- data.dvc`` (not timed) + ``dvc checkout``.
   The ``git commit`` of ``data.dvc`` after each DVC commit is not counted.

Part 2 - train2017-sized instances file (118,287 images, ~860k annotations, no media):
the COCO import alone (in-process: import + iterate every item), ``dsrepo add`` +
``dsrepo commit`` of the folder already in the project (tracked in place, as in part 1)
and, in a second project, copied in from outside; ``status`` unchanged, then an edit of
1 % of the items and the second commit: time and bytes it adds to ``.dsrepo/``.
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


def _dsrepo_exe() -> list[str]:
    exe = Path(sys.executable).with_name("dsrepo")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "dsrepo"]


def _env(extra: dict | None = None) -> dict:
    """The environment of timed commands: bytecode caching on, as in a normal install
    (a sandbox that sets PYTHONDONTWRITEBYTECODE recompiles every module at each start)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def _timed(cmd: list[str], cwd: Path, env: dict | None = None) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=_env(env))
    dt = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return dt


def _median(cmd: list[str], cwd: Path, n: int = 5) -> float:
    return statistics.median(_timed(cmd, cwd) for _ in range(n))


def _du(path: Path) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def _edit(instances: Path, fraction: float) -> int:
    """Move every box (and polygon) of ``fraction`` of the images by one pixel; returns images edited."""
    doc = json.loads(instances.read_bytes())
    ids = sorted(im["id"] for im in doc["images"])
    step = max(1, round(1 / fraction))
    chosen = set(ids[::step])
    for a in doc["annotations"]:
        if a["image_id"] in chosen:
            a["bbox"][0] = round(a["bbox"][0] + 1, 2)
            if isinstance(a.get("segmentation"), list):
                a["segmentation"] = [[round(v + 1, 2) if k % 2 == 0 else v for k, v in enumerate(poly)]
                                     for poly in a["segmentation"]]
    instances.write_text(json.dumps(doc))
    return len(chosen)


def _machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, ValueError, IndexError):
        pass
    fs = subprocess.run(["df", "-T", tempfile.gettempdir()], capture_output=True, text=True).stdout.splitlines()
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "python": platform.python_version(),
            "os": platform.platform(), "filesystem": fs[-1].split()[1] if len(fs) > 1 else "?",
            "dsrepo": rev.strip()}


def _dsrepo_part1(data: Path, work: Path) -> dict:
    ds = _dsrepo_exe()
    copied = work / "dsrepo-copy-in"
    shutil.rmtree(copied, ignore_errors=True)
    copied.mkdir(parents=True)
    _timed(ds + ["create"], copied)
    r = {"copy_in": _timed(ds + ["add", str(data), "-f", "coco", "-n", "coco"], copied)
         + _timed(ds + ["commit", "-m", "initial import"], copied)}
    shutil.rmtree(copied)
    proj = work / "dsrepo-proj"
    shutil.rmtree(proj, ignore_errors=True)
    proj.mkdir(parents=True)
    _timed(ds + ["create"], proj)
    shutil.copytree(data, proj / "coco")
    r["add"] = _timed(ds + ["add", "coco", "-f", "coco"], proj)
    r["commit1"] = _timed(ds + ["commit", "-m", "initial import"], proj)
    r["first_commit"] = r["add"] + r["commit1"]
    r["status_unchanged"] = _median(ds + ["status"], proj)
    r["edited_images"] = _edit(proj / "coco" / "annotations" / "instances_train2017.json", 0.01)
    r["status_edited"] = _timed(ds + ["status"], proj)
    r["commit2"] = _timed(ds + ["commit", "-m", "nudge 1% of the boxes"], proj)
    r["checkout_prev"] = _timed(ds + ["checkout", "HEAD~1"], proj)
    r["checkout_back"] = _timed(ds + ["checkout", "main"], proj)
    r["store_bytes"] = _du(proj / ".dsrepo")
    return r


def _dvc_part1(dvc: str, data: Path, work: Path) -> dict:
    proj = work / "dvc-proj"
    shutil.rmtree(proj, ignore_errors=True)
    proj.mkdir(parents=True)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example"]
    subprocess.run(git + ["init", "-q"], cwd=proj, check=True)
    subprocess.run([dvc, "init", "-q"], cwd=proj, check=True)
    subprocess.run(git + ["commit", "-qm", "dvc init"], cwd=proj, check=True)
    shutil.copytree(data, proj / "data")
    r = {"add": _timed([dvc, "add", "data"], proj), "commit1": _timed([dvc, "commit", "-f"], proj)}
    r["first_commit"] = r["add"] + r["commit1"]
    subprocess.run(git + ["add", "data.dvc", ".gitignore"], cwd=proj, check=True)
    subprocess.run(git + ["commit", "-qm", "data v1"], cwd=proj, check=True)
    r["status_unchanged"] = _median([dvc, "status"], proj)
    r["edited_images"] = _edit(proj / "data" / "annotations" / "instances_train2017.json", 0.01)
    r["status_edited"] = _timed([dvc, "status"], proj)
    r["commit2"] = _timed([dvc, "commit", "-f"], proj)
    subprocess.run(git + ["commit", "-qam", "data v2"], cwd=proj, check=True)
    subprocess.run(git + ["checkout", "-q", "HEAD~1", "--", "data.dvc"], cwd=proj, check=True)
    r["checkout_prev"] = _timed([dvc, "checkout", "--force"], proj)
    subprocess.run(git + ["checkout", "-q", "HEAD", "--", "data.dvc"], cwd=proj, check=True)
    r["checkout_back"] = _timed([dvc, "checkout", "--force"], proj)
    r["store_bytes"] = _du(proj / ".dvc" / "cache")
    return r


IMPORT_ONLY = """
import sys, time
t = time.perf_counter()
from dsrepo.formats.api import import_dataset
n = sum(len(it.annotations) for it in import_dataset(sys.argv[1], "coco"))
print(time.perf_counter() - t, n)
"""


def _part2(data: Path, work: Path) -> dict:
    ds = _dsrepo_exe()
    out = subprocess.run([sys.executable, "-c", IMPORT_ONLY, str(data)], capture_output=True, text=True, check=True)
    imp, n_anns = out.stdout.split()
    copied = work / "dsrepo-big-copy-in"
    shutil.rmtree(copied, ignore_errors=True)
    copied.mkdir(parents=True)
    _timed(ds + ["create"], copied)
    copy_in = (_timed(ds + ["add", str(data), "-f", "coco", "-n", "coco"], copied)
               + _timed(ds + ["commit", "-m", "initial import"], copied))
    shutil.rmtree(copied)
    proj = work / "dsrepo-big"
    shutil.rmtree(proj, ignore_errors=True)
    proj.mkdir(parents=True)
    _timed(ds + ["create"], proj)
    shutil.copytree(data, proj / "coco")
    r = {"import": float(imp), "annotations": int(n_anns), "copy_in": copy_in,
         "annotation_bytes": _du(data / "annotations"),
         "add": _timed(ds + ["add", "coco", "-f", "coco"], proj),
         "commit1": _timed(ds + ["commit", "-m", "initial import"], proj)}
    r["first_commit"] = r["add"] + r["commit1"]
    r["store_after_first"] = _du(proj / ".dsrepo")
    r["status_unchanged"] = _median(ds + ["status"], proj, 3)
    r["edited_images"] = _edit(proj / "coco" / "annotations" / "instances_train2017.json", 0.01)
    before = _du(proj / ".dsrepo")
    r["commit2"] = _timed(ds + ["commit", "-m", "nudge 1% of the boxes"], proj)
    r["second_commit_bytes"] = _du(proj / ".dsrepo") - before
    return r


def _fmt(v: float) -> str:
    return f"{v:.2f} s"


def _report(m: dict, p1: dict | None, dvc: dict | None, p2: dict | None) -> str:
    dvc_version = f"; DVC {m['dvc']}" if m.get("dvc") else ""
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, {m['filesystem']}, "
             f"Python {m['python']}, {m['os']}; dsrepo {m['dsrepo']}{dvc_version}", ""]
    if p1:
        steps = [("first commit (add in place + commit)", "first_commit"), ("status, nothing changed (median of 5)",
                 "status_unchanged"), ("status after editing 1% of items", "status_edited"),
                 ("commit of the edit", "commit2"), ("checkout previous revision", "checkout_prev"),
                 ("checkout back", "checkout_back")]
        lines += ["| step (5,000 images) | dsrepo | DVC | dsrepo / DVC | target |", "|---|---|---|---|---|"]
        for label, k in steps:
            d = dvc[k] if dvc else None
            ratio = f"{p1[k] / d:.2f}" if d else "-"
            target = "<= 0.25" + (" and <= 0.25 s" if k == "status_unchanged" else "")
            lines.append(f"| {label} | {_fmt(p1[k])} | {_fmt(d) if d else '-'} | {ratio} | {target} |")
        lines += ["", f"dsrepo add {_fmt(p1['add'])} + commit {_fmt(p1['commit1'])}; "
                  f"copied in from outside instead: add + commit {_fmt(p1['copy_in'])}"
                  + (f" = {p1['copy_in'] / dvc['first_commit']:.2f}x DVC's first commit" if dvc else "") + "; "
                  f"store {p1['store_bytes'] / 1e6:.1f} MB"
                  + (f"; DVC add {_fmt(dvc['add'])} + commit {_fmt(dvc['commit1'])}, cache "
                     f"{dvc['store_bytes'] / 1e6:.1f} MB" if dvc else ""), ""]
    if p2:
        lines += ["| train2017-sized (118,287 images, no media) | value | target |", "|---|---|---|",
                  f"| COCO import alone (import + iterate items) | {_fmt(p2['import'])} | |",
                  f"| first commit, in place (add {_fmt(p2['add'])} + commit {_fmt(p2['commit1'])}) | "
                  f"{_fmt(p2['first_commit'])} = {p2['first_commit'] / p2['import']:.2f}x import | <= 2x import |",
                  f"| first commit, copied in from outside (add + commit) | {_fmt(p2['copy_in'])} "
                  f"= {p2['copy_in'] / p2['import']:.2f}x import | |",
                  f"| status, nothing changed (median of 3) | {_fmt(p2['status_unchanged'])} | |",
                  f"| commit after editing 1% of items ({p2['edited_images']} images) | {_fmt(p2['commit2'])} | |",
                  f"| bytes added to .dsrepo by that commit | {p2['second_commit_bytes']:,} = "
                  f"{100 * p2['second_commit_bytes'] / p2['annotation_bytes']:.2f}% of the annotation file "
                  f"({p2['annotation_bytes']:,} bytes) | <= 5% |",
                  f"| .dsrepo after the first commit | {p2['store_after_first']:,} bytes | |"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="folder for generated data (kept; reused when present)")
    ap.add_argument("--dvc", default=shutil.which("dvc"), help="DVC executable")
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--big", type=int, default=118287)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-small", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = ap.parse_args(argv)
    from benchmarks.coco_gen import generate

    base = args.data or Path(tempfile.mkdtemp(prefix="dsrepo-bench-"))
    work = base / "work"
    work.mkdir(parents=True, exist_ok=True)
    m = _machine()
    p1 = dvc = p2 = None
    if not args.skip_small:
        small = base / f"coco{args.images}"
        if not (small / "annotations").is_dir():
            generate(small, args.images, with_media=True)
        p1 = _dsrepo_part1(small, work)
        if args.dvc:
            m["dvc"] = subprocess.run([args.dvc, "--version"], capture_output=True, text=True).stdout.strip()
            dvc = _dvc_part1(args.dvc, small, work)
    if not args.skip_big:
        big = base / f"coco{args.big}"
        if not (big / "annotations").is_dir():
            generate(big, args.big, tasks=("instances",))
        p2 = _part2(big, work)
    print(_report(m, p1, dvc, p2))
    if args.json:
        args.json.write_text(json.dumps({"machine": m, "dsrepo": p1, "dvc": dvc, "big": p2}, indent=2))
    if not args.data:
        shutil.rmtree(base, ignore_errors=True)
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
