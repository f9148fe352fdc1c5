"""``run_demo``: the whole versioning workflow on the bundled sample dataset.

Creates a project in a folder, adds the sample COCO dataset, commits, brings in the
reviewed copy (a few labels changed, one box moved, one annotation deleted), shows the
item-level status, commits again, records a pipeline stage, shows the log, checks the
first revision out again and exports it to another format. Each step's result is
returned for the CLI to render; nothing is printed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsrepo.errors import RepoError
from dsrepo.progress import NULL_PROGRESS, Progress

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
EXPORT_FORMAT = "coco_instances"


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One step: the equivalent shell command, the kind of result, and the result."""

    command: str
    kind: str
    result: Any


def run_demo(folder: Path, progress: Progress = NULL_PROGRESS) -> tuple[DemoStep, ...]:
    """Run the workflow in ``folder`` (created; must be empty or absent) and return
    its steps. RepoError if ``folder`` is not empty."""
    from dsrepo.repo.repo import Repo

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise RepoError(f"{folder}: folder is not empty; the demo needs an empty one")
    folder.mkdir(parents=True, exist_ok=True)
    steps: list[DemoStep] = []

    def step(command: str, kind: str, result: Any) -> None:
        steps.append(DemoStep(command, kind, result))

    repo = Repo.create(folder)
    step(f"dsrepo create {folder}", "create", str(folder))
    step(f"dsrepo add {SAMPLE / 'coco'} -f coco -n coco", "add",
         repo.add(SAMPLE / "coco", name="coco", format="coco", progress=progress))
    step("dsrepo status", "status", repo.status(progress=progress))
    first = repo.commit("initial import of the sample", progress=progress)
    step('dsrepo commit -m "initial import of the sample"', "commit", first)
    step(f"dsrepo update coco {SAMPLE / 'coco_edited'} -f coco", "update",
         repo.update("coco", SAMPLE / "coco_edited", format="coco", progress=progress))
    step("dsrepo status -v", "status", repo.status(progress=progress))
    step('dsrepo commit -m "fix labels from review"', "commit",
         repo.commit("fix labels from review", progress=progress))
    step("dsrepo transform -t random_split coco -- --subset train:0.75,val:0.25", "stage",
         repo.transform("random_split", "coco", ["--subset", "train:0.75,val:0.25"], progress=progress))
    step('dsrepo commit -m "resplit 75/25"', "commit", repo.commit("resplit 75/25", progress=progress))
    step("dsrepo log", "log", repo.log())
    step(f"dsrepo checkout {first.id[:12]}", "checkout", repo.checkout(first.id, progress=progress))
    out = folder.parent / (folder.name + "-export")
    step(f"dsrepo export {first.id[:12]} -f {EXPORT_FORMAT} -o {out} --overwrite", "export",
         repo.export(out, EXPORT_FORMAT, first.id, overwrite=True, progress=progress))
    step("dsrepo checkout main", "checkout", repo.checkout("main", progress=progress))
    step("dsrepo info HEAD", "info", repo.info("HEAD"))
    return tuple(steps)
