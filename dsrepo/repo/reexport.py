"""Writing a source's annotation files from a stored record - reusing the export already
in the working copy when the format has a patch hook (see docs/patch-export.md).

The rows of the last export written into a working copy (item hashes, the files each
item owns, the format's per-item data) and the md5 of every file that export wrote are
kept in ``.dsrepo/cache/rows/<source>.json``. When every one of those files is still in
the working copy with that md5 - the folder holds exactly that export - and the format,
export options, categories and subset meta are the same, a checkout runs the hook over
the changed items only (COCO, Datumaro and CVAT copy the unchanged records from the files in
the working copy; shared list files are rebuilt from the rows; per-item formats leave the
unchanged items' files alone). Otherwise the
whole record is exported, through the hook so that the next checkout has rows. It is a
cache: a missing, damaged or stale file only costs a full export.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import orjson

from dsrepo.collect import few_collections
from dsrepo.formats.common.files import atomic_write_bytes
from dsrepo.progress import Progress
from dsrepo.repo import halves
from dsrepo.repo.access import item_entries, record_dataset, subset_dataset
from dsrepo.repo.hookrun import run_hook
from dsrepo.repo.manifest import plain
from dsrepo.repo.records import SourceRecord

if TYPE_CHECKING:
    from dsrepo.repo.layout import Layout
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class Exported:
    """Annotation files of a record: ``written`` into the temp folder (md5, None when not
    computed), ``kept`` as they are in the working copy (md5), the rows document to save
    once the files are in place (None: nothing to save), and whether only the changed
    items were exported (``incremental``)."""

    written: Mapping[str, str | None]
    kept: Mapping[str, str]
    rows: dict | None
    incremental: bool = False


def _path(layout: "Layout", name: str) -> Path:
    return layout.dot / "cache" / "rows" / f"{name}.json"


def _read_rows(layout: "Layout", name: str) -> dict | None:
    try:
        d = orjson.loads(_path(layout, name).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    ok = isinstance(d, dict) and isinstance(d.get("items"), list) and isinstance(d.get("files"), dict) \
        and all(type(e) is list and len(e) == 5 and type(e[3]) is list for e in d["items"])
    return d if ok else None


def save_rows(layout: "Layout", name: str, doc: dict | None) -> None:
    """Record the rows of the export just placed in source ``name``'s working copy (None:
    forget them)."""
    if doc is None:
        drop_rows(layout, name)
        return
    atomic_write_bytes(_path(layout, name), orjson.dumps(doc))


def drop_rows(layout: "Layout", name: str) -> None:
    """Forget the rows of source ``name``'s working copy."""
    try:
        _path(layout, name).unlink()
    except FileNotFoundError:
        pass


def export_options(record: SourceRecord) -> dict[str, Any]:
    """The source's export options, without media (dsrepo places images itself)."""
    from dsrepo.formats.registry import get_format

    opts = dict(record.export_options)
    if any(o.dest == "save_media" for o in get_format(record.format).export_options):
        opts["save_media"] = False
    return opts


def _export_files(repo: "Repo", rec: SourceRecord, dest: Path, media: Mapping[str, str],
                  current: Mapping[str, str], tmp: Path, progress: Progress) -> Exported:
    from dsrepo.formats.api import export_dataset
    from dsrepo.formats.registry import get_format

    by_md5: dict[str, str] = {}
    for rel, md5 in media.items():
        by_md5.setdefault(md5, rel)

    base = os.path.join(str(dest), "")  # (joined as strings: a Path per image costs ~13 us)

    def media_path(md: Mapping[str, Any]) -> str | None:
        rel = by_md5.get(md.get("md5") or "")
        if rel is None:
            return None
        return base + (rel if os.sep == "/" else rel.replace("/", os.sep))

    def full(clear: bool = False) -> Exported:
        """The whole record through the format's exporter (``clear``: after a hook's try)."""
        if clear:
            shutil.rmtree(tmp)
            os.mkdir(tmp)
        ds = record_dataset(repo, rec, media_path, media_root=str(dest))
        files = export_dataset(ds, tmp, rec.format, opts, progress, overwrite=True).files
        return Exported(dict.fromkeys(files), {}, None)

    spec = get_format(rec.format)
    opts = export_options(rec)
    if spec.patch is None:
        return full()
    ident = {"format": rec.format, "options": plain(opts), "categories": rec.categories,
             "subset_meta": rec.subset_meta}
    entries = item_entries(repo, rec)
    order = [(s, i) for s, i, _h in entries]
    saved = _read_rows(repo.layout, rec.name)
    if saved is not None and all(saved.get(k) == v for k, v in ident.items()) \
            and all(current.get(r) == m for r, m in saved["files"].items()):
        old = {(e[0], e[1]): e for e in saved["items"]}
        changed = {(s, i) for s, i, h in entries if (s, i) not in old or old[(s, i)][2] != h}
        rows = {k: e[3:] for k, e in old.items() if k not in changed}
        ds = subset_dataset(repo, rec, entries, changed, media_path, str(dest))
        prev: Path | None = dest
    else:
        changed, rows, prev = set(order), {}, None
        ds = record_dataset(repo, rec, media_path, media_root=str(dest))
    if prev is None:
        hooked = halves.full_through_hook(repo, rec, spec, entries, ds, opts, tmp, progress, media_path, str(dest))
    else:
        hooked = run_hook(spec, ds, order, rows, changed, tmp, opts, progress, prev)
    if hooked is None:
        return full(clear=True)
    _report, all_rows, produced = hooked
    kept = {f: current.get(f) for k, r in all_rows.items() if k not in changed for f in r[0]}
    if None in kept.values():  # (a rows file edited by hand: an unchanged item's file is not there)
        return full(clear=True)
    doc = {**ident, "items": [[s, i, h, list(r[0]), r[1]] for (s, i, h), r in zip(entries, all_rows.values())],
           "files": {**kept, **produced}}
    return Exported(produced, kept, doc, prev is not None)


def export_files(repo: "Repo", rec: SourceRecord, dest: Path, media: Mapping[str, str],
                 current: Mapping[str, str], tmp: Path, progress: Progress) -> Exported:
    """Write the annotation files of record ``rec`` for working copy ``dest`` into the
    empty folder ``tmp``. ``media``: the record's media and extra files ``{rel: md5}``,
    already placed in ``dest``; ``current``: the md5 of every file now in ``dest``."""
    with few_collections():  # (rows of a large dataset: millions of small acyclic objects)
        return _export_files(repo, rec, dest, media, current, tmp, progress)
