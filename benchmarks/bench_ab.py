"""Two dsrepo versions side by side on the repository steps of ``bench_repo`` (by hand).

    git worktree add /tmp/dsrepo-base <commit>
    python -m benchmarks.bench_ab --base /tmp/dsrepo-base --data /tmp/benchdata --rounds 3

Each round runs every step for the base checkout and for this one, alternately, in fresh
processes (``python -m dsrepo`` with ``PYTHONPATH`` set to the checkout), so both see the
same machine state; the report gives the median per step and this/base. The data is
``bench_repo``'s 5,000-image COCO folder (generated if missing); the dataset is copied in
from outside (every version has that ``add``), then: status unchanged, the 1 % edit,
status, commit, checkout of the previous revision, checkout back.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_repo import _edit, _env

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("first commit", "status unchanged", "status after the edit", "commit of the edit",
         "checkout previous", "checkout back")


def _run(src: Path, args: list[str], cwd: Path) -> float:
    env = _env({"PYTHONPATH": str(src)})
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "dsrepo", *args], cwd=cwd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{src}: dsrepo {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
    return dt


def _round(src: Path, data: Path, work: Path) -> list[float]:
    proj = work / "proj"
    shutil.rmtree(proj, ignore_errors=True)
    proj.mkdir(parents=True)
    _run(src, ["create"], proj)
    first = _run(src, ["add", str(data), "-f", "coco", "-n", "coco"], proj) + _run(src, ["commit", "-m", "one"], proj)
    unchanged = statistics.median(_run(src, ["status"], proj) for _ in range(3))
    _edit(proj / "coco" / "annotations" / "instances_train2017.json", 0.01)
    out = [first, unchanged, _run(src, ["status"], proj), _run(src, ["commit", "-m", "two"], proj),
           _run(src, ["checkout", "HEAD~1"], proj), _run(src, ["checkout", "main"], proj)]
    shutil.rmtree(proj)
    return out


def _rev(path: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=path, capture_output=True,
                          text=True).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="checkout of the dsrepo version to compare with")
    ap.add_argument("--data", type=Path, help="bench_repo's data folder (kept; reused when present)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    from benchmarks.coco_gen import generate

    base_dir = args.data or Path(tempfile.mkdtemp(prefix="dsrepo-ab-"))
    data = base_dir / "coco5000"
    if not (data / "annotations").is_dir():
        generate(data, 5000, with_media=True)
    work = Path(tempfile.mkdtemp(prefix="ab-", dir=base_dir))
    times: dict[str, list[list[float]]] = {"base": [], "this": []}
    try:
        for _ in range(args.rounds):
            for name, src in (("base", args.base.resolve()), ("this", ROOT)):
                times[name].append(_round(src, data, work / name))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.data:
            shutil.rmtree(base_dir, ignore_errors=True)
    print(f"base {_rev(args.base)} vs this {_rev(ROOT)}; {args.rounds} rounds; {os.cpu_count()} cores\n")
    print("| step (5,000 images) | base | this | this / base |\n|---|---|---|---|")
    for k, step in enumerate(STEPS):
        b = statistics.median(r[k] for r in times["base"])
        t = statistics.median(r[k] for r in times["this"])
        print(f"| {step} | {b:.2f} s | {t:.2f} s | {t / b:.2f} |")


if __name__ == "__main__":
    main()
