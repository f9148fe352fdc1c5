"""``patch_export``: export a revision into a folder, writing only what changed since
the export recorded in the folder's manifest (see docs/patch-export.md).

The change set comes from item hashes: the build's item list ``(subset, id, hash)``
against the manifest's, read without decoding items. Two ways produce the new files
in a staging folder beside the export, after which only files whose md5 differs from
the manifest are moved in and the manifest's files no longer produced are deleted:

* a format's ``patch`` hook writes the changed items' files and the shared files
  from the changed items alone (per-item formats: labelme, yolo);
* otherwise (or when the hook declines) the whole revision is exported.

Files the manifest does not list are never replaced or deleted (unless ``force``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from dsrepo.collect import few_collections
from dsrepo.errors import ExportError, FormatError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo import halves
from dsrepo.repo.access import load_record, subset_dataset
from dsrepo.repo.build import Step, build
from dsrepo.repo.hookrun import run_hook, walk_md5
from dsrepo.repo.manifest import (
    MANIFEST, FileEntry, ItemEntry, Manifest, changed_file, file_entry, plain, read_manifest,
    write_manifest,
)
from dsrepo.repo.pipeline import FILTER, PROJECT, Stage, stage_id, validate_filter

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class PatchResult:
    """What an export wrote. ``mode``: "full" (every file written, no earlier export
    used), "hook" (the format's patch hook), "sync" (whole export, changed files
    moved in) or "none" (nothing changed). Counts of items added/removed/modified
    are against the earlier export (all added for a full export)."""

    commit: str | None
    target: str
    format: str
    out: str
    mode: str
    items: int
    annotations: int
    added: int
    removed: int
    modified: int
    written: tuple[str, ...]
    deleted: tuple[str, ...]
    unchanged: int
    missing_media: tuple[str, ...]
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class _Plan:
    moves: tuple[tuple[str, str], ...]       # (relpath, md5) to move from staging
    deletes: tuple[str, ...]
    files: dict[str, FileEntry]             # entries of files kept as they are


def _identity_mismatch(old: Manifest, format: str, opts: Mapping[str, Any], target: str,
                       flt: tuple[str, str] | None) -> str | None:
    """The first manifest field that differs from this export, described, or None."""
    if old.format != format:
        return f"format is {old.format!r}, not {format!r}"
    if old.target != target:
        return f"target is {old.target!r}, not {target!r}"
    if old.filter != flt:
        return f"filter is {list(old.filter) if old.filter else None!r}, not {list(flt) if flt else None!r}"
    new = plain(opts)
    for k in sorted(set(old.options) | set(new)):
        if old.options.get(k) != new.get(k):
            return f"option {k!r} is {old.options.get(k)!r}, not {new.get(k)!r}"
    return None


def _plan(out: Path, produced: Mapping[str, str], keep: Iterable[str], base: Manifest | None,
          deletable: Mapping[str, FileEntry], clobber: bool) -> _Plan:
    """What to move and delete. ``base``: the trusted earlier export (unchanged files are
    kept); ``deletable``: files dsrepo wrote before; ``clobber``: replace unlisted files."""
    moves = []
    files: dict[str, FileEntry] = {}
    for rel in sorted(produced):
        md5 = produced[rel]
        old = base.files.get(rel) if base is not None else None
        if old is not None and old[0] == md5:
            files[rel] = old
            continue
        dest = out / rel
        if dest.is_dir():
            raise ExportError(f"{dest}: is a folder; cannot write a file there")
        if not clobber and rel not in deletable and os.path.lexists(dest):
            raise ExportError(f"{dest}: exists and was not written by dsrepo (use --force to replace it)")
        moves.append((rel, md5))
    for rel in keep:
        if base is not None and rel in base.files:
            files[rel] = base.files[rel]
    gone = sorted(r for r in deletable if r not in produced and r not in files)
    return _Plan(tuple(moves), tuple(gone), files)


def _apply(out: Path, staging: Path, plan: _Plan) -> dict[str, FileEntry]:
    files = dict(plan.files)
    for rel, md5 in plan.moves:
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, dest)
        files[rel] = file_entry(dest, md5)
    for rel in plan.deletes:
        p = out / rel
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        parent = p.parent
        while parent != out:  # folders left empty by the deletion
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
    return files


def _patch_export(repo: "Repo", rev: str | None, format: str, out: str | Path, target: str, options: Any,
                  incremental: bool, force: bool, overwrite: bool, filter_expr: str | None, filter_mode: str,
                  progress: Progress, merge_policy: str | None) -> PatchResult:
    from dsrepo.formats.api import export_dataset
    from dsrepo.formats.base import parse_options
    from dsrepo.formats.registry import get_format
    from dsrepo.repo.access import item_entries

    spec = get_format(format)
    if spec.save is None:
        raise FormatError(f"format {format!r} cannot be exported")
    opts = parse_options(spec.export_options, options, f"{format} export")
    commit = repo.resolve(rev) if rev is not None else None
    flt = None
    extra = None
    if filter_expr:
        params = validate_filter(filter_expr, filter_mode, False)
        extra = Stage(stage_id("export", target, FILTER, FILTER, params), target, FILTER, FILTER, params)
        flt = (filter_expr, filter_mode)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a folder")
    nonempty = out.is_dir() and any(out.iterdir())
    old = read_manifest(out) if incremental and nonempty and not force else None
    if incremental and nonempty and force:
        try:
            old = read_manifest(out)
        except ExportError:
            old = None
    base = None
    if not incremental:
        if nonempty and not overwrite:
            raise ExportError(f"{out}: folder is not empty (use --overwrite)")
    elif nonempty and old is None and not force:
        raise ExportError(f"{out}: holds no manifest of an earlier export ({MANIFEST}); use --force for a "
                          "full export")
    elif old is not None and not force:
        why = _identity_mismatch(old, format, opts, target, flt)
        if why is not None:
            raise ExportError(f"{out / MANIFEST}: {why} (use --force for a full export)")
        bad = changed_file(out, old)
        if bad is not None:
            raise ExportError(f"{out / bad}: changed since dsrepo exported it (use --force to overwrite it)")
        base = old
    deletable = old.files if (incremental and old is not None) else {}

    built = build(repo, rev, target, extra=extra, progress=progress, merge_policy=merge_policy)
    rec = load_record(repo, built.record)
    entries = [(s, i, h) for s, i, h in item_entries(repo, rec)]
    order = [(s, i) for s, i, _h in entries]
    old_items = {(e[0], e[1]): e for e in base.items} if base is not None else {}
    new_keys = set(order)
    added = [k for k in order if k not in old_items]
    modified = [(s, i) for s, i, h in entries if (s, i) in old_items and old_items[(s, i)][2] != h]
    removed = [k for k in old_items if k not in new_keys]
    same_shared = base is not None and base.categories == rec.categories and base.subset_meta == rec.subset_meta
    last = built.steps[-1]

    def result(mode: str, written: Sequence[str], deleted: Sequence[str], nfiles: int,
               missing: Sequence[str]) -> PatchResult:
        return PatchResult(commit, target, format, str(out), mode, len(order), int(last.annotations), len(added),
                           len(removed), len(modified), tuple(written), tuple(deleted), nfiles - len(written),
                           tuple(missing), built.steps)

    def manifest(items: list[ItemEntry], files: Mapping[str, FileEntry]) -> Manifest:
        return Manifest(commit, format, plain(opts), target, flt, rec.categories, rec.subset_meta, items, files)

    order_same = base is not None and [(e[0], e[1]) for e in base.items] == order
    if same_shared and not added and not removed and not modified and order_same:
        write_manifest(out, manifest([[s, i, h] + old_items[(s, i)][3:] for s, i, h in entries],
                                     base.files))  # type: ignore[union-attr]
        return result("none", (), (), len(base.files), ())  # type: ignore[union-attr]

    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".dsrepo-patch-", dir=out.parent))
    try:
        hooked = None
        if spec.patch is not None:
            use_rows = base is not None and same_shared and base.has_rows
            changed = set(added) | set(modified) if use_rows else new_keys
            # (rows of removed items are never asked for)
            rows = {k: e[3:] for k, e in old_items.items() if k not in changed} if use_rows else {}
            # every item changed (a full export through the hook): the build's own dataset
            # streams its items faster than one store read per item
            ds = built.dataset if changed == new_keys else subset_dataset(repo, rec, entries, changed)
            if rows:
                hooked = run_hook(spec, ds, order, rows, changed, staging, opts, progress, out)
            else:  # (from two parts on two cores, when the format allows)
                hooked = halves.full_through_hook(repo, rec, spec, entries, ds, opts, staging, progress)
            if hooked is None:
                shutil.rmtree(staging)
                staging.mkdir()
        if hooked is not None:
            report, all_rows, produced = hooked
            keep = [f for k, (files, _d) in all_rows.items() if k not in changed for f in files]
            # (all_rows is in export order, as entries)
            items = [[s, i, h, r[0], r[1]] for (s, i, h), r in zip(entries, all_rows.values())]
            mode = "hook"
        else:
            report = export_dataset(built.dataset, staging, format, opts, progress, overwrite=True)
            produced = walk_md5(staging)
            keep = []
            items = [[s, i, h] for s, i, h in entries]
            mode = "sync"
        plan = _plan(out, produced, keep, base, deletable, clobber=force or not incremental)
        files = _apply(out, staging, plan)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    write_manifest(out, manifest(items, files))
    if base is None:
        mode = "full"
    return result(mode, [r for r, _m in plan.moves], plan.deletes, len(files), report.missing_media)


def patch_export(repo: "Repo", rev: str | None, format: str, out: str | Path, target: str = PROJECT,
                 options: Sequence[str] | Mapping[str, Any] | None = None, incremental: bool = True,
                 force: bool = False, overwrite: bool = False, filter_expr: str | None = None,
                 filter_mode: str = "items", progress: Progress = NULL_PROGRESS,
                 merge_policy: str | None = None) -> PatchResult:
    """Export ``target`` of ``rev`` (None: the working tree) to folder ``out`` in
    ``format`` and write the folder's manifest (:mod:`dsrepo.repo.manifest`).

    ``incremental``: ``out`` holds an earlier export by dsrepo (or is empty); only files
    whose content changes are written and files of that export no longer produced are
    deleted; the result is byte-identical to a full export into an empty folder.
    ExportError, before anything is written, when its manifest names another format,
    target, filter or options, or a file dsrepo wrote was edited since, or a new file
    would replace one dsrepo did not write; ``force`` then does a full export instead
    (replacing such files, deleting only files the old manifest lists).

    Not ``incremental``: a full export, refusing a non-empty folder without
    ``overwrite`` and deleting nothing. ``merge_policy`` overrides the revision's."""
    with few_collections():  # (manifests and item lists: millions of small acyclic objects)
        return _patch_export(repo, rev, format, out, target, options, incremental, force, overwrite, filter_expr,
                             filter_mode, progress, merge_policy)
