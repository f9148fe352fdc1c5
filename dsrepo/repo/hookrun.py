"""Running a format's patch hook and checking what it claims (shared by incremental
export and by checkout, which re-exports a working copy the same way)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from dsrepo.progress import Progress
from dsrepo.digest import file_md5
from dsrepo.repo.manifest import MANIFEST

if TYPE_CHECKING:
    from dsrepo.formats.base import FormatSpec
    from dsrepo.model.dataset import Dataset

Key = tuple[str, str]


def walk_md5(root: Path) -> dict[str, str]:
    """``{relpath: md5}`` of every file under ``root`` (but an export manifest)."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        for f in files:
            rel = f if rel_dir == os.curdir else os.path.join(rel_dir, f).replace(os.sep, "/")
            if rel != MANIFEST:
                out[rel] = file_md5(os.path.join(dirpath, f))
    return out


def run_hook(spec: "FormatSpec", ds: "Dataset", order: list[Key], rows: Mapping[Key, Any], changed: set[Key],
             staging: Path, opts: Mapping[str, Any], progress: Progress, prev: Path | None):
    """Run ``spec``'s patch hook (docs/patch-export.md) writing into ``staging``;
    ``(report, rows of every item in order, {produced file: md5})`` or None when it
    declines or two items (or an item and a shared file) would own the same file. The
    hook's rows replace those of ``rows``; an unchanged item it gives none keeps its own."""
    res = spec.patch(ds, order, rows, staging, opts, progress, prev)  # type: ignore[misc]
    if res is None:
        return None
    report, new_rows = res
    produced = walk_md5(staging)
    all_rows: dict[Key, Any] = {}
    owner: dict[str, Key] = {}
    n_files = 0
    new_get, old_get = new_rows.get, rows.get
    for k in order:
        row = new_get(k)
        if row is None:
            row = old_get(k) if k not in changed else None
            if row is None:
                return None
        elif k in changed and not all(f in produced for f in row[0]):
            return None  # a changed item claims a file the hook did not write
        for f in row[0]:
            owner[f] = k
        n_files += len(row[0])
        all_rows[k] = row
    if len(owner) != n_files:
        return None  # two items own one file
    for f in produced:  # every staged file is a changed item's or a shared one
        if f in owner and owner[f] not in changed:
            return None
    return report, all_rows, produced
