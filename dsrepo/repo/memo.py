"""Per-source memo of item fingerprints: ``.dsrepo/cache/memo/<source>.bin``.

When an importer fingerprints its items from their source records
(:meth:`dsrepo.model.dataset.Dataset.stubs`), storing a source remembers
``key -> item hash``, the key combining the item's fingerprint with its media md5.
The next time the same source is stored (``status``/``commit`` after an edit,
``update``), items whose key is remembered - and whose object is still in the store -
are neither built nor encoded. The memo is a cache: a missing, stale or damaged file
only means items are built again.

File: ``b"DSMEMO1\\n"`` then 40-byte entries: key (20 bytes) | item hash (20 bytes).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from dsrepo.collect import few_collections
from dsrepo.forked import call, forked_map
from dsrepo.progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:
    from dsrepo.repo.layout import Layout
    from dsrepo.repo.records import SourceRecord
    from dsrepo.repo.repo import Repo

_MAGIC = b"DSMEMO1\n"
_ENTRY = 40


def memo_key(fingerprint: bytes, md5: str | None) -> bytes:
    """The memo key of an item: its fingerprint and its media content."""
    return hashlib.blake2b(fingerprint + (md5 or "-").encode(), digest_size=20).digest()


def _path(layout: "Layout", name: str) -> Path:
    return layout.dot / "cache" / "memo" / f"{name}.bin"


def read_memo(layout: "Layout", name: str) -> dict[bytes, bytes]:
    """Key -> item hash (raw bytes) last stored for source ``name`` (empty if none or damaged)."""
    try:
        data = _path(layout, name).read_bytes()
    except OSError:
        return {}
    body = memoryview(data)[len(_MAGIC):]
    if data[:len(_MAGIC)] != _MAGIC or len(body) % _ENTRY:
        return {}
    keys = [data[o:o + 20] for o in range(len(_MAGIC), len(data), _ENTRY)]
    hashes = [data[o + 20:o + _ENTRY] for o in range(len(_MAGIC), len(data), _ENTRY)]
    return dict(zip(keys, hashes))


def write_memo(layout: "Layout", name: str, memo: dict[bytes, bytes]) -> None:
    """Replace source ``name``'s memo (temp file, then rename; errors are ignored: a
    memo that cannot be written only costs time later)."""
    path = _path(layout, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".memo-")
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + b"".join(k + h for k, h in memo.items()))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass


def drop_memo(layout: "Layout", name: str) -> None:
    """Forget source ``name``'s memo (the source was removed or renamed)."""
    try:
        _path(layout, name).unlink()
    except OSError:
        pass


def _learn(repo: "Repo", rec: "SourceRecord", dest: Path, media: Mapping[str, str]) -> None:
    from dsrepo.errors import DsrepoError
    from dsrepo.formats.api import import_dataset
    from dsrepo.repo.access import item_entries

    entries = item_entries(repo, rec)
    learned: dict[bytes, bytes] = {}
    root = os.fspath(dest)
    prefix = os.path.join(root, "")
    try:
        stubs = import_dataset(dest, rec.format, dict(rec.import_options)).stubs(lazy=True)
        if stubs is None:
            return
        stubs = list(stubs)
        if len(stubs) != len(entries) or any((st[0], st[1]) != (s, i) for st, (s, i, _h) in zip(stubs, entries)):
            return  # not the record's items in its order: learn nothing
        fps = forked_map(call, [st[2] for st in stubs], repo.layout.tmp, child_share=0.5)  # (both cores)
        for (_s, _i, _fp, item_media, _build), (_s2, _i2, h), fp in zip(stubs, entries, fps):
            path = getattr(item_media, "path", None) if item_media is not None else None
            md5 = None
            if path is not None:
                md5 = media.get(path[len(prefix):]) if path.startswith(prefix) and os.sep == "/" else None
                if md5 is None:  # (the slow spelling: a path not written as root/rel)
                    md5 = media.get(os.path.relpath(path, root).replace(os.sep, "/"))
                if md5 is None:
                    continue  # (an image the record does not have)
            learned[memo_key(fp, md5)] = bytes.fromhex(h)
    except (DsrepoError, OSError, ValueError):
        return
    write_memo(repo.layout, rec.name, {**read_memo(repo.layout, rec.name), **learned})


def learn_export(repo: "Repo", rec: "SourceRecord", dest: Path, media: Mapping[str, str],
                 progress: Progress = NULL_PROGRESS) -> None:
    """After record ``rec`` was exported into working copy ``dest`` (its media files
    ``{rel: md5}`` placed there), add the fingerprints its items have as the importer
    will read them from there: a later edit of those files then rebuilds only the items
    whose records changed (the exporter's records differ in spelling from the files the
    source came from, so the memo of those does not match them). Nothing is learned for
    formats without fingerprints, or when the folder does not import item for item as
    ``rec``; errors only mean nothing is learned."""
    from dsrepo.formats.registry import get_format

    if not get_format(rec.format).fingerprints:
        return
    with few_collections(), progress.task(f"{rec.name}: reading back item fingerprints"):
        _learn(repo, rec, dest, media)
