"""Datumaro patch hook (incremental export, see docs/patch-export.md).

A Datumaro export is one ``annotations/<subset>.json`` per subset: a head (version,
infos, categories), the item records joined by commas, a tail. An item's record depends
on the item alone (the categories and subset meta are the same whenever the engine
hands rows over), so a patch serialises only the changed items and takes every other
record, byte for byte, from the file of the earlier export: runs of unchanged items
that were consecutive there are copied as one slice. Changed subsets' files are
assembled by the exporter itself (``_Export.finish``), so heads and tails are exactly
a full export's.

Row: ``(files the item owns (its image with --save-media), [offset of its record in its
subset's file, length])``. Declined (the full export runs): rows of another layout,
--strict losses, and whatever the exporter rejects. Warnings cover only the changed items.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.collect import few_collections
from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport, PatchRow
from dsrepo.formats.common.earlier import EarlierFiles, walk_order
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress

Key = tuple[str, str]


class _Decline(Exception):
    pass


def _valid(row: Any) -> bool:
    d = row[1] if isinstance(row, tuple | list) and len(row) == 2 else None
    return isinstance(d, list) and len(d) == 2 and all(type(x) is int and x >= 0 for x in d)


class _Sources(EarlierFiles):
    """The subset files of the earlier export."""

    def subset_file(self, subset: str) -> Any:
        m = self.get(f"annotations/{subset}.json")
        if m is None:
            raise _Decline
        return m


def _write(exp: Any, changed: Dataset, order: Sequence[Key], rows: Mapping[Key, PatchRow], src: _Sources,
           progress: Progress) -> dict[Key, tuple[str, int, int, tuple[str, ...]]]:
    """Add every item to the staging files; ``{key: (subset, position, length, files)}``."""
    placed: dict[Key, tuple[str, int, int, tuple[str, ...]]] = {}
    run: list = []  # unchanged items whose records are consecutive in the earlier file
    run_subset = None

    def flush() -> None:
        if not run:
            return
        start = run[0][1]
        end = run[-1][1] + run[-1][2]
        pos, _n = exp.add_raw(run_subset, memoryview(src.subset_file(run_subset))[start:end], len(run))
        for key, off, n, files in run:
            placed[key] = (run_subset, pos + off - start, n, files)
        run.clear()

    with progress.task("datumaro: writing changed items", total=sum(k not in rows for k in order)) as bar:
        for key, row, item in walk_order(order, rows, changed):  # (the changed items streamed)
            if row is not None:
                if not _valid(row):  # (checked here, not up front: rows may still be on their way)
                    raise _Decline
                off, n = row[1]
                if run and (key[0] != run_subset or off != run[-1][1] + run[-1][2] + 1):
                    flush()
                run_subset = key[0]
                run.append((key, off, n, tuple(row[0])))
                continue
            flush()
            n_files = len(exp.files)
            pos, n = exp.add(item)
            placed[key] = (key[0], pos, n, tuple(exp.files[n_files:]))
            bar.advance()
        flush()
    return placed


def patch_datumaro(changed: Dataset, order: Sequence[Key], rows: Mapping[Key, PatchRow], out: Path,
                   options: Mapping[str, Any], progress: Progress,
                   prev: Path | None = None) -> tuple[ExportReport, dict[Key, PatchRow]] | None:
    """Write every subset file (and the changed items' images) exactly as
    ``save_datumaro`` does, serialising only the changed items and copying the others'
    records from the files of the earlier export in ``prev``; returns every item's row."""
    from dsrepo.formats.datumaro.exporter import _Export

    out = Path(out)
    exp = _Export(changed, out, options, progress)
    exp.stage = Path(tempfile.mkdtemp(prefix=".dsrepo-datumaro-", dir=out))
    src = _Sources(prev)
    try:
        with few_collections():
            placed = _write(exp, changed, order, rows, src, progress)
            exp.finish()
            new_rows: dict[Key, PatchRow] = {key: (files, [exp.heads[s] + pos, n])
                                             for key, (s, pos, n, files) in placed.items()}
        exp.commit()
    except (_Decline, ExportError, ValueError, TypeError):
        return None
    finally:
        src.close()
        for f, _ in exp.parts.values():
            f.close()
        shutil.rmtree(exp.stage, ignore_errors=True)
    return ExportReport(files=tuple(sorted(set(exp.files))), missing_media=tuple(exp.missing)), new_rows
