"""CVAT patch hook: incremental export from the earlier export's own files (see
docs/patch-export.md).

A CVAT export is one XML file per group of subsets: a ``<meta>`` header (labels with
the attribute specs inferred from every value in use) and one ``<image>`` element per
item, sorted by the item's stored order or its frame number. A patch runs the exporter
itself (:class:`~dsrepo.formats.cvat.exporter._Export`) over the export order: changed
items through ``add``; unchanged ones by copying their ``<image>`` element from the
earlier file, with its frame number re-spelled if it changed (frames are handed out
in export order, so adding or removing an item can move later ones), and by replaying
the attribute values the header's specs are inferred from. The header and every file
are then written exactly as a full export writes them, and every item gets a new row.

Row: ``(images saved, ["v1", file, stored order or None, wanted frame or None, frame
written, [offset, length] of its element, [[label, attribute, value], ...]])``.

Declined (the full export runs): video mode, rows of another layout, a row whose file
or element does not match, and whatever the exporter rejects. Warnings (dropped
annotations, missing sizes) cover only the changed items.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import ExportError, UsageError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.formats.common.earlier import EarlierFiles, walk_order
from dsrepo.formats.cvat.specs import AttrStats
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress

Key = tuple[str, str]
ROW = "v1"


class _Decline(Exception):
    pass


def _valid(row: Any) -> bool:
    if not (isinstance(row, (tuple, list)) and len(row) == 2 and isinstance(row[1], list) and len(row[1]) == 7):
        return False
    tag, rel, given, want, fid, place, stats = row[1]
    return tag == ROW and isinstance(rel, str) and (given is None or type(given) is int) \
        and (want is None or type(want) is int) and type(fid) is int and isinstance(place, list) \
        and len(place) == 2 and all(type(x) is int and x >= 0 for x in place) and isinstance(stats, list)


def _replay(exp: Any, key: Key, data: list, src: EarlierFiles) -> tuple:
    """Add an unchanged item: its element copied from the earlier file, its attribute
    values counted again; ``(file, given order, wanted frame, frame, arrival number)``."""
    _tag, rel, given, want, old_fid, (off, n), stats = data
    f = exp._file(key[0])
    if f.rel != rel or f.video is not None:
        raise _Decline
    earlier = src.get(rel)
    if earlier is None or off + n > len(earlier):
        raise _Decline
    raw = earlier[off:off + n]
    fid = f.frame(want)
    if fid != old_fid:
        head = b'  <image id="%d"' % old_fid
        if not raw.startswith(head):
            raise _Decline
        raw = b'  <image id="%d"' % fid + raw[len(head):]
    seq = len(f.chunks)
    f.add_chunk_bytes(fid if given is None else given, raw)
    for entry in stats:
        if not (isinstance(entry, list) and len(entry) == 3):
            raise _Decline
        label, name, value = entry
        exp.stats.setdefault((label, name), AttrStats()).add(value)
    return f, given, want, fid, seq


def patch_cvat(changed: Dataset, order: Sequence[Key], rows: Mapping[Key, PatchRow], out: Path,
               options: Mapping[str, Any], progress: Progress,
               prev: Path | None = None) -> tuple[ExportReport, dict[Key, PatchRow]] | None:
    """Write every XML file (and the changed items' images) exactly as ``save_cvat``
    does, serialising only the changed items and copying the others' ``<image>``
    elements from the files of the earlier export in ``prev``; returns every item's row."""
    from dsrepo.formats.cvat.exporter import _Export

    out = Path(out)
    try:
        exp = _Export(changed, out, options, progress)
    except UsageError:
        return None
    exp.tmp = tempfile.mkdtemp(prefix=".dsrepo-cvat-", dir=out)
    src = EarlierFiles(prev)
    done: list = []
    try:
        with progress.task("cvat: writing changed items", total=sum(k not in rows for k in order)) as bar:
            for key, row, item in walk_order(order, rows, changed):
                if row is not None:
                    if not _valid(row):
                        raise _Decline
                    done.append((key, tuple(row[0]), _replay(exp, key, row[1], src), row[1][6]))
                    continue
                n_written = len(exp.written)
                exp.stat_log, exp.last = [], None
                exp.add(item)
                if exp.last is None or exp.last[0].video is not None:
                    raise _Decline  # (video frames are not one element per item)
                done.append((key, tuple(exp.written[n_written:]), exp.last, exp.stat_log))
                bar.advance()
        exp.finish()
        new_rows: dict[Key, PatchRow] = {}
        for key, files, (f, given, want, fid, seq), stats in done:
            off, n = f.placed[seq]
            new_rows[key] = (files, [ROW, f.rel, given, want, fid, [off, n], stats])
        report = exp.commit()
    except (_Decline, ExportError, UsageError, TypeError, ValueError):
        return None
    finally:
        src.close()
        exp.close()
    return report, new_rows
