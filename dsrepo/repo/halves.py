"""A full export of a large record written from two parts, on two cores.

For formats whose patch hook puts every item's records into shared files and copies
the unchanged ones from an earlier export (``FormatSpec.splits``: COCO, Datumaro, CVAT), a
full export is split in two: a forked child (:class:`dsrepo.forked.Forked`) exports the
second part of the items (the last 40 %, :data:`FIRST`) through the hook into a temp
folder, with their rows; meanwhile this process runs the hook over every item,
exporting the first part itself and taking the second part's records from the child's
files as if they were an earlier export. The hook reaches the second part only after
the first, so it waits for the child only then. The result is byte for byte what one
full export writes (the hook's contract), and anything that goes wrong (the child
fails, the hook declines) only means the ordinary full export runs instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

import orjson

from dsrepo.forked import Forked
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.access import record_dataset
from dsrepo.repo.hookrun import run_hook

if TYPE_CHECKING:
    from dsrepo.formats.base import FormatSpec
    from dsrepo.repo.records import SourceRecord
    from dsrepo.repo.repo import Repo

Key = tuple[str, str]
MIN_ITEMS = 2000  # below this the fork costs more than it saves
FIRST = 0.6  # this process's share: the child also writes its files and rows, and sends the rows


class _Declined(Exception):
    pass


class _LaterRows(Mapping):
    """The second part's rows, read from the child's result on first use; membership
    is known without waiting."""

    def __init__(self, child: Forked, keys: Sequence[Key], progress: Progress = NULL_PROGRESS) -> None:
        self._child = child
        self._progress = progress
        self._keys = keys
        self._set = set(keys)
        self._rows: dict[Key, Any] | None = None
        self.missing: list = []  # the second part's images the export could not find

    def load(self) -> dict[Key, Any]:
        """The rows (waiting for the child); _Declined if it has none."""
        if self._rows is None:
            with self._progress.task("exporting the last part (helper process)"):
                got = orjson.loads(self._child.result())
            if not isinstance(got, dict):  # (null: the hook declined)
                raise _Declined
            rows, self.missing = got.get("rows"), got.get("missing")
            if not isinstance(rows, list) or len(rows) != len(self._keys) or not isinstance(self.missing, list):
                raise _Declined
            self._rows = dict(zip(self._keys, rows))
        return self._rows

    def __contains__(self, key: object) -> bool:
        return key in self._set

    def __getitem__(self, key: Key) -> Any:
        if key not in self._set:
            raise KeyError(key)
        return self.load()[key]

    def get(self, key: Key, default: Any = None) -> Any:
        return self.load()[key] if key in self._set else default

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _merged(res: tuple, later: _LaterRows, second: Sequence[Key], half_dir: Path, out: Path) -> tuple | None:
    """The hook's result with the files the second part's items own (their images, with
    ``--save-media``) moved in from the child's folder, and its missing images reported."""
    from dsrepo.formats.base import ExportReport
    from dsrepo.digest import file_md5

    report, rows, produced = res
    later.load()  # (the child's result, if the hook never needed it)
    moved = []
    for k in second:
        for f in rows[k][0]:
            if f in produced:
                continue
            src, dst = half_dir / f, out / f
            if not src.is_file():
                return None
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            produced[f] = file_md5(dst)
            moved.append(f)
    files = tuple(sorted({*report.files, *moved}))
    missing = tuple(report.missing_media) + tuple(later.missing)
    return ExportReport(files=files, missing_media=missing), rows, produced


def split_export(repo: "Repo", rec: "SourceRecord", spec: "FormatSpec", entries: Sequence[tuple[str, str, str]],
                 opts: Mapping[str, Any], out: Path, progress: Progress,
                 media_path: Callable[[Mapping[str, Any]], str | None] | None = None,
                 media_root: str | None = None) -> tuple | None:
    """:func:`~dsrepo.repo.hookrun.run_hook`'s result for a full export of ``rec`` (whose
    ``item_entries`` are ``entries``) into the empty folder ``out``, made from two parts;
    None when the hook declines (``out`` may then hold partial files). ``media_path``
    and ``media_root`` as for :func:`~dsrepo.repo.access.record_dataset`."""
    order = [(s, i) for s, i, _h in entries]
    h = round(len(order) * FIRST)
    first, second = order[:h], order[h:]
    half_dir = Path(tempfile.mkdtemp(prefix="half-", dir=repo.layout.tmp))

    def second_half() -> bytes:
        if any(half_dir.iterdir()):  # (what a failed child left: done again here)
            shutil.rmtree(half_dir)
            half_dir.mkdir()
        ds = record_dataset(repo, rec, media_path, media_root, entries=entries[h:])
        res = run_hook(spec, ds, second, {}, set(second), half_dir, opts, NULL_PROGRESS, None)
        if res is None:
            return b"null"  # the hook declined: a result too (not a failure to redo here)
        report, rows, _produced = res
        return orjson.dumps({"rows": [rows[k] for k in second], "missing": list(report.missing_media)})

    try:
        with Forked(second_half, repo.layout.tmp) as child:
            later = _LaterRows(child, second, progress)
            ds = record_dataset(repo, rec, media_path, media_root, entries=entries[:h])
            res = run_hook(spec, ds, order, later, set(first), out, opts, progress, half_dir)
            if res is None:
                return None
            return _merged(res, later, second, half_dir, out)
    except _Declined:
        return None
    finally:
        shutil.rmtree(half_dir, ignore_errors=True)


def full_through_hook(repo: "Repo", rec: "SourceRecord", spec: "FormatSpec", entries: Sequence[tuple[str, str, str]],
                      ds: Any, opts: Mapping[str, Any], out: Path, progress: Progress,
                      media_path: Callable[[Mapping[str, Any]], str | None] | None = None,
                      media_root: str | None = None) -> tuple | None:
    """A full export of ``rec`` (dataset ``ds``, its ``entries``) through ``spec``'s hook
    into the empty folder ``out``: from two parts when the format splits and the record
    is large, else (or if that fails) in one run; ``run_hook``'s result, None if the hook
    declines."""
    order = [(s, i) for s, i, _h in entries]
    if spec.splits and len(order) >= MIN_ITEMS:
        hooked = split_export(repo, rec, spec, entries, opts, out, progress, media_path, media_root)
        if hooked is not None:
            return hooked
        shutil.rmtree(out)
        out.mkdir()
    return run_hook(spec, ds, order, {}, set(order), out, opts, progress, None)
