"""COCO patch hook: incremental export from the earlier export's own files (see
docs/patch-export.md).

A COCO export is one JSON file per task and subset, so every changed subset's files are
rewritten - but only the changed items are converted and serialised. The records of the
unchanged items stay in the files of the earlier export, which the manifest vouches for:
each item's row says where each of its records lies in its task file (offset, length,
and the length of its body: the bytes after its ``id``/``image_id``) and with which ids
it was written, plus what the final assembly needs: the item's sort key, its wanted image
id, each annotation's wanted id, stored position and omit-id flag, and the label indices
its records use (for ``categories``). A patch runs the exporter itself
(:class:`~dsrepo.formats.coco.exporter._Export`) over the export order: changed items
through ``add``, unchanged ones as references into the earlier files; ``TaskFile.write``
then orders the records and assigns image and annotation ids over the whole file exactly
as a full export does (so ``--reindex``, duplicate ids and renumbering need nothing
special). A kept record whose ids did not change is copied as it is - runs of them that
were consecutive as one slice (:mod:`~dsrepo.formats.coco.splice`) - and the others are
rebuilt from their body with the new ids. The rows of every item are then written anew
with the new files' offsets.

Row: ``(media files, ["r3", fixed key or None, key offset or None, wanted image id,
{task: [image key or None, image id override, [offset, length, body length, image id
written] or None, [wanted ann ids], [positions] or None, [omit-id flags] or None,
[offsets], [lengths], [body lengths], [ann ids written] or None (the wanted ones),
[labels]]}])``; the image place is None for a task file the export did not write. The
key of an item without a stored order (``o``) is its position plus the offset, so rows
do not depend on where the item sits.

Declined (the full export runs): panoptic files (their PNGs are per item but their
segment ids are not), ``--strict`` losses, rows of another layout, a task file that now
has to be written from records the earlier export did not write, and whatever the
exporter rejects. Warnings (dropped annotations, missing sizes) cover only the changed
items.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.collect import few_collections
from dsrepo.errors import ExportError, UsageError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.formats.common.earlier import EarlierFiles, walk_order
from dsrepo.formats.coco.splice import old_id
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress

Key = tuple[str, str]


ROW = "r3"


class _Decline(Exception):
    pass


class _Sources(EarlierFiles):
    """The task files of the earlier export."""

    def task_file(self, subset: str, task: str) -> Any:
        m = self.get(f"annotations/{task}_{subset}.json")
        if m is None:
            raise _Decline
        return m


def _replay(s: Any, data: Any, src: _Sources, incomplete: set) -> dict:
    """Add an unchanged item's records, kept in the earlier files; its spans by task."""
    tag, fixed, offset, want, per = data
    if tag != ROW:
        raise _Decline
    k = len(s.primary_key)
    key = fixed if offset is None else offset + k
    s.add_item(key, want)
    spans = {}
    for t, (ikey, tid, image, wants, pos, omit, aoff, asize, abody, aids, labels) in per.items():
        tf = s.files.get(t)
        if tf is None:
            raise _Decline  # another set of task files than when the row was written
        i0, a0 = len(tf.img_item), len(tf.ann_item)
        if image is not None and tf.src is None:
            tf.src = src.task_file(s.name, t)
        if wants:
            n = len(wants)
            if len(aoff) != n:
                raise _Decline
            tf.add_ann_refs(k, wants, pos if pos is not None else [-1] * n, omit if omit is not None else [0] * n,
                            aoff, asize, abody, wants if aids is None else aids)
        if image is None:
            incomplete.add(tf)  # the earlier export did not write this task file
            tf.add_image_bytes(k, key if ikey is None else ikey, b"{}", tid)
        else:
            off, size, body, iid = image
            tf.add_image_ref(k, key if ikey is None else ikey, off, size, body, old_id(iid), tid)
        tf.labels_used.update(labels)
        spans[t] = (i0, len(tf.img_item), a0, len(tf.ann_item), labels)
    return spans


def _added(s: Any, item: Any, exp: Any) -> dict:
    """Add a changed item through the exporter; its spans by task."""
    marks = {}
    for t, tf in s.files.items():
        marks[t] = (len(tf.img_item), len(tf.ann_item), tf.labels_used)
        tf.labels_used = set()
    try:
        exp.add(item)
    finally:
        spans = {}
        for t, tf in s.files.items():
            i0, a0, saved = marks[t]
            labels = tf.labels_used
            saved |= labels
            tf.labels_used = saved
            spans[t] = (i0, len(tf.img_item), a0, len(tf.ann_item), sorted(labels))
    return spans


def _rows(done: list) -> dict[Key, PatchRow]:
    """The rows of every item, with the places of its records in the files just written."""
    cols: dict[int, tuple] = {}

    def columns(tf: Any) -> tuple:
        c = cols.get(id(tf))
        if c is None:
            ip, ap, aw = tf.img_parts, tf.ann_parts, tf.ann_ids_written
            c = (tf.img_key.tolist(), tf.img_id, tf.ids_written, [x.tolist() for x in ip] if ip else None,
                 [x.tolist() for x in ap] if ap else None, tf.ann_want.tolist(), tf.ann_pos.tolist(),
                 tf.ann_omit_id.tolist(), aw.tolist() if aw is not None else None)
            cols[id(tf)] = c
        return c

    rows: dict[Key, PatchRow] = {}
    for item_key, s, k, files, fixed, spans in done:
        key = s.primary_key[k]
        per = {}
        for t, (i0, i1, a0, a1, labels) in spans.items():
            if i1 == i0 and a1 == a0:
                continue  # not a member of this task file
            if i1 - i0 != 1:
                raise _Decline  # the exporter adds one image record per member item
            ikeys, tids, ids, ip, ap, wants, pos, omit, aids = columns(s.files[t])
            p, o, w = pos[a0:a1], omit[a0:a1], wants[a0:a1]
            got = aids[a0:a1] if aids is not None else None
            per[t] = [None if ikeys[i0] == key else ikeys[i0], tids.get(k),
                      None if ip is None else [ip[0][i0], ip[1][i0], ip[2][i0], ids[k]],
                      w, None if all(x < 0 for x in p) else p, o if any(o) else None,
                      ap[0][a0:a1] if ap else [], ap[1][a0:a1] if ap else [], ap[2][a0:a1] if ap else [],
                      None if got is None or got == w else got, list(labels)]
        rows[item_key] = (tuple(files), [ROW, key if fixed else None, None if fixed else key - k, s.want_id[k], per])
    return rows


def _valid(row: Any) -> bool:
    return isinstance(row, tuple | list) and len(row) == 2 and isinstance(row[1], list) and len(row[1]) == 5 \
        and row[1][0] == ROW and isinstance(row[1][4], dict)


def _run(exp: Any, changed: Dataset, order: Sequence[Key], rows: Mapping[Key, PatchRow], src: _Sources,
         progress: Progress, subset: Any) -> tuple[ExportReport, dict[Key, PatchRow]]:
    """Add every item (changed ones through the exporter), write the files, make the rows."""
    from dsrepo.formats.coco.meta import coco_meta

    incomplete: set = set()
    done: list = []
    with progress.task(f"{exp.fmt}: writing changed items", total=sum(k not in rows for k in order)) as bar:
        for key, row, item in walk_order(order, rows, changed):  # (the changed items streamed)
            s = subset(key[0])
            k = len(s.primary_key)
            if row is not None:
                if not _valid(row):  # (checked here, not up front: rows may still be on their way)
                    raise _Decline
                data = row[1]
                done.append((key, s, k, row[0], data[2] is None, _replay(s, data, src, incomplete)))
                continue
            n_files = len(exp.files)
            o = coco_meta(item.meta).get("o")
            spans = _added(s, item, exp)
            done.append((key, s, k, exp.files[n_files:], isinstance(o, int) and not isinstance(o, bool), spans))
            bar.advance()
    exp.finish()
    if any(tf.img_parts is not None for tf in incomplete):
        raise _Decline  # a task file written now, from records the earlier export did not write
    new_rows = _rows(done)
    exp.commit()
    return ExportReport(files=tuple(sorted(set(exp.files))), missing_media=tuple(exp.missing)), new_rows


def patch_coco(changed: Dataset, order: Sequence[Key], rows: Mapping[Key, PatchRow], out: Path,
               options: Mapping[str, Any], progress: Progress, prev: Path | None,
               task: str | None = None) -> tuple[ExportReport, dict[Key, PatchRow]] | None:
    """Write every task file (and the changed items' images) exactly as ``save_coco``
    does, serialising only the changed items and taking the others' records from the
    files of the earlier export in ``prev`` that ``rows`` describe; returns the rows of
    every item. None (decline) for panoptic, --strict losses and what the exporter
    rejects."""
    from dsrepo.formats.coco.exporter import _Export
    from dsrepo.formats.coco.tasks import PANOPTIC

    out = Path(out)
    try:
        exp = _Export(changed, out, options, progress, task)
    except UsageError:
        return None
    exp.tmp = tempfile.mkdtemp(prefix=".dsrepo-coco-", dir=out)
    src = _Sources(prev)

    def subset(name: str) -> Any:
        s = exp.subsets.get(name)
        if s is None:
            s = exp._subset(name)
            if PANOPTIC in s.tasks:
                raise _Decline
            for tf in s.files.values():
                tf.track = True
        return s

    # (rows and records hold no cycles; full collections would rescan them over and over)
    with few_collections():
        try:
            return _run(exp, changed, order, rows, src, progress, subset)
        except (_Decline, ExportError, UsageError, TypeError, ValueError):
            return None  # (TypeError, ValueError: a row of another layout)
        finally:
            src.close()
            for s in exp.subsets.values():
                for tf in s.files.values():
                    tf.close()
            shutil.rmtree(exp.tmp, ignore_errors=True)
