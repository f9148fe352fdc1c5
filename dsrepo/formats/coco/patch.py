"""COCO patch hook: the fragment cache (incremental export, see docs/patch-export.md).

A COCO export is one JSON file per task and subset, so every changed subset's files are
rewritten - but only the changed items are converted and serialised. Each item's row
keeps its serialised fragments: per task file, its image record and annotation records
as the exporter's :class:`~dsrepo.formats.coco.writer.TaskFile` spools them (JSON with
sorted keys, *without* ``id``/``image_id``), plus what the final assembly needs: the
item's sort key, its wanted image id, each annotation's wanted id, stored position and
omit-id flag, and the label indices its records use (for ``categories``). A patch runs
the exporter itself (:class:`~dsrepo.formats.coco.exporter._Export`) over the export
order: changed items through ``add``, unchanged ones replayed from their rows as raw
bytes; ``TaskFile.write`` then orders the records and assigns image and annotation ids
over the whole file exactly as a full export does (so ``--reindex``, duplicate ids and
renumbering need nothing special), and concatenates the fragments (no JSON encoding of
unchanged items).

Row: ``(media files, [fixed key or None, key offset or None, wanted image id, image
record, {task: 0 | [image key or None, image id override, image record or None (the
row's), [wanted ann ids], [positions] or None, [omit-id flags] or None, the annotation
records joined by newlines or None, [labels]]}])``; ``0`` is a plain member of that task
file (the row's image record, nothing else). The key of an item without a stored order
(``o``) is its position plus the offset, so rows do not depend on where the item sits.

The cache lives in the export's manifest (``.dsrepo-export.json``, the rows of its
``items``): about the size of the annotation files themselves.

Declined (the full export runs): panoptic files (their PNGs are per item but their
segment ids are not), ``--strict`` losses, and whatever the exporter rejects.
Warnings (dropped annotations, missing sizes) cover only the changed items.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import ExportError, UsageError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress

Key = tuple[str, str]


class _Decline(Exception):
    pass


def _row(item: Any, s: Any, k: int, marks: dict, files: list[str]) -> PatchRow:
    """The row of ``item``, just added as item number ``k`` of subset ``s``."""
    from dsrepo.formats.coco.meta import coco_meta

    key = s.primary_key[k]
    o = coco_meta(item.meta).get("o")
    fixed = isinstance(o, int) and not isinstance(o, bool)
    image = None
    per: dict[str, list] = {}
    for t, tf in s.files.items():
        r = tf.since(marks[t])
        if not r.images and not r.ann_recs:
            continue
        if len(r.images) != 1:
            raise _Decline  # the exporter adds one image record per member item
        ikey, img, tid = r.images[0]
        text = img.decode()
        if image is None:
            image = text
        n = len(r.ann_recs)
        blob = b"\n".join(r.ann_recs)
        if blob.count(b"\n") != max(n - 1, 0):
            raise _Decline  # a record with a raw newline cannot be joined
        if not n and ikey == key and tid is None and text == image and not r.labels:
            per[t] = 0  # a plain member: the row's image record, nothing else
            continue
        per[t] = [None if ikey == key else ikey, tid, None if text == image else text, r.ann_want,
                  None if all(p < 0 for p in r.ann_pos) else r.ann_pos, r.ann_omit if any(r.ann_omit) else None,
                  blob.decode() if n else None, list(r.labels)]
    return tuple(files), [key if fixed else None, None if fixed else key - k, s.want_id[k], image, per]


def _replay(s: Any, data: Any) -> None:
    """Add an unchanged item's records from its row."""
    fixed, offset, want, image, per = data
    k = len(s.primary_key)
    key = fixed if offset is None else offset + k
    s.add_item(key, want)
    for t, entry in per.items():
        tf = s.files.get(t)
        if tf is None:
            raise _Decline  # another set of task files than when the row was written
        if entry == 0:
            tf.add_image_bytes(k, key, image.encode())
            continue
        ikey, tid, img, wants, pos, omit, blob, labels = entry
        if blob is not None:
            n = len(wants)
            recs = blob.encode().split(b"\n")
            if len(recs) != n:
                raise _Decline
            tf.add_anns_bytes(k, wants, pos if pos is not None else [-1] * n, omit if omit is not None else [0] * n,
                              recs)
        tf.add_image_bytes(k, key if ikey is None else ikey, (image if img is None else img).encode(), tid)
        tf.labels_used.update(labels)


def _valid(row: Any) -> bool:
    return isinstance(row, tuple | list) and len(row) == 2 and isinstance(row[1], list) and len(row[1]) == 5 \
        and isinstance(row[1][4], dict)


def patch_coco(changed: Dataset, order: Sequence[Key], rows: Mapping[Key, PatchRow], out: Path,
               options: Mapping[str, Any], progress: Progress,
               task: str | None = None) -> tuple[ExportReport, dict[Key, PatchRow]] | None:
    """Write every task file (and the changed items' images) exactly as ``save_coco``
    does, serialising only the changed items; None (decline) for panoptic, --strict
    losses and what the exporter rejects."""
    from dsrepo.formats.coco.exporter import _Export
    from dsrepo.formats.coco.tasks import PANOPTIC

    out = Path(out)
    for k in order:
        if k in rows and not _valid(rows[k]):
            return None
    try:
        exp = _Export(changed, out, options, progress, task)
    except UsageError:
        return None
    exp.tmp = tempfile.mkdtemp(prefix=".dsrepo-coco-", dir=out)
    new_rows: dict[Key, PatchRow] = {}

    def subset(name: str) -> Any:
        s = exp.subsets.get(name)
        if s is None:
            s = exp._subset(name)
            if PANOPTIC in s.tasks:
                raise _Decline
            for tf in s.files.values():
                tf.in_memory()
        return s

    collecting = gc.isenabled()
    gc.disable()  # rows and records hold no cycles; full collections would rescan them over and over
    try:
        items = iter(changed)  # streamed: the changed items come in export order, the others have rows
        with progress.task(f"{exp.fmt}: writing changed items", total=sum(k not in rows for k in order)) as bar:
            for key in order:
                s = subset(key[0])
                if key in rows:
                    _replay(s, rows[key][1])
                    continue
                item = next(items, None)
                if item is None or item.key != key:
                    raise _Decline
                marks = {t: tf.mark() for t, tf in s.files.items()}
                n_files = len(exp.files)
                exp.add(item)
                new_rows[key] = _row(item, s, len(s.primary_key) - 1, marks, exp.files[n_files:])
                bar.advance()
        exp.finish()
        exp.commit()
    except (_Decline, ExportError, UsageError, TypeError, ValueError):
        return None  # (TypeError, ValueError: a row of another layout)
    finally:
        if collecting:
            gc.enable()
        for s in exp.subsets.values():
            for tf in s.files.values():
                tf.close()
        shutil.rmtree(exp.tmp, ignore_errors=True)
    return ExportReport(files=tuple(sorted(set(exp.files))), missing_media=tuple(exp.missing)), new_rows
