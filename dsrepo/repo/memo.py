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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dsrepo.repo.layout import Layout

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
