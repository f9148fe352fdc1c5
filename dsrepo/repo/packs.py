"""Pack files: many small compressed objects in one file, with a sorted index.

``pack-<name>.pack``::

    b"DSPACK1\\n"
    record*:  hash (20 bytes) | type (1 byte) | length (4 bytes, big endian) | zlib data

``pack-<name>.idx``::

    b"DSIDX1\\n\\0" | count (4 bytes BE) | entry* sorted by hash:
        hash (20) | offset of the zlib data (8) | length (4) | type (1)

``<name>`` is the BLAKE2b-160 of the pack bytes. Each record repeats its hash and
type, so a pack can be verified (and its index rebuilt) on its own. Packs are
immutable: written to a temp file, fsynced, then renamed into place (index last).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Iterator

from dsrepo.errors import CorruptObjectError

PACK_MAGIC = b"DSPACK1\n"
IDX_MAGIC = b"DSIDX1\n\0"
_REC = struct.Struct(">20sBI")
_ENT = struct.Struct(">20sQIB")
_CNT = struct.Struct(">I")
TYPE_CODES = {"item": 1, "chunk": 2, "blob": 3}
TYPE_NAMES = {v: k for k, v in TYPE_CODES.items()}
LEVEL = 1  # zlib level: fast; records are small JSON


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_index(idx_path: Path) -> list[tuple[bytes, int, int, int]]:
    """Entries ``(hash, offset, length, type)`` of an index file (CorruptObjectError if malformed)."""
    data = idx_path.read_bytes()
    if data[:8] != IDX_MAGIC or len(data) < 12:
        raise CorruptObjectError(f"{idx_path}: not a dsrepo pack index")
    (count,) = _CNT.unpack_from(data, 8)
    body = memoryview(data)[12:]
    if len(body) != count * _ENT.size:
        raise CorruptObjectError(f"{idx_path}: truncated pack index ({len(body)} bytes for {count} entries)")
    return list(_ENT.iter_unpack(body))


def iter_records(pack_path: Path) -> Iterator[tuple[bytes, int, int, int]]:
    """``(hash, type, offset, length)`` of every record, read from the pack itself."""
    size = pack_path.stat().st_size
    with open(pack_path, "rb") as f:
        if f.read(len(PACK_MAGIC)) != PACK_MAGIC:
            raise CorruptObjectError(f"{pack_path}: not a dsrepo pack")
        pos = len(PACK_MAGIC)
        while pos < size:
            head = f.read(_REC.size)
            if len(head) != _REC.size:
                raise CorruptObjectError(f"{pack_path}: truncated record header at offset {pos}")
            h, t, n = _REC.unpack(head)
            pos += _REC.size
            if pos + n > size:
                raise CorruptObjectError(f"{pack_path}: truncated record at offset {pos}")
            yield h, t, pos, n
            f.seek(n, os.SEEK_CUR)
            pos += n


class PackReader:
    """Random access to one pack file (memory-mapped on first read)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._map: mmap.mmap | None = None

    def raw(self, offset: int, length: int) -> bytes:
        """The zlib bytes of one record."""
        if self._map is None:
            with open(self.path, "rb") as f:
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if offset + length > len(self._map):
            raise CorruptObjectError(f"{self.path}: record at offset {offset} runs past the end of the pack")
        return self._map[offset:offset + length]

    def read(self, offset: int, length: int) -> bytes:
        """The decompressed bytes of one record."""
        try:
            return zlib.decompress(self.raw(offset, length))
        except zlib.error as e:
            raise CorruptObjectError(f"{self.path}: record at offset {offset} does not decompress ({e})") from None

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


class PackWriter:
    """Accumulates records in a temp file; :meth:`finish` renames the pack and its
    index into ``packs_dir``. Nothing is visible to readers before ``finish``."""

    def __init__(self, packs_dir: Path, tmp_dir: Path) -> None:
        self.packs_dir = packs_dir
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="pack-", suffix=".tmp", dir=tmp_dir)
        self._tmp = Path(name)
        self._f = os.fdopen(fd, "wb")
        self._f.write(PACK_MAGIC)
        self._hash = hashlib.blake2b(PACK_MAGIC, digest_size=20)
        self._pos = len(PACK_MAGIC)
        self.entries: dict[bytes, tuple[int, int, int]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, h: bytes) -> bool:
        return h in self.entries

    def add(self, h: bytes, data: bytes, type_code: int) -> None:
        """Append one object (caller checks it is not stored yet)."""
        self.add_compressed(h, zlib.compress(data, LEVEL), type_code)

    def add_compressed(self, h: bytes, z: bytes, type_code: int) -> None:
        """Append an already compressed record (repacking)."""
        head = _REC.pack(h, type_code, len(z))
        self._f.write(head)
        self._f.write(z)
        self._hash.update(head)
        self._hash.update(z)
        self.entries[h] = (self._pos + _REC.size, len(z), type_code)
        self._pos += _REC.size + len(z)

    def abort(self) -> None:
        """Drop the temp file."""
        if not self._f.closed:
            self._f.close()
        try:
            self._tmp.unlink()
        except OSError:
            pass

    def finish(self) -> Path | None:
        """Write the pack and its index into place; returns the pack path (None if empty)."""
        if not self.entries:
            self.abort()
            return None
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        name = self._hash.hexdigest()
        self.packs_dir.mkdir(parents=True, exist_ok=True)
        pack = self.packs_dir / f"pack-{name}.pack"
        os.replace(self._tmp, pack)
        idx_body = b"".join(_ENT.pack(h, off, n, t) for h, (off, n, t) in sorted(self.entries.items()))
        fd, tmp_idx = tempfile.mkstemp(prefix="idx-", suffix=".tmp", dir=self._tmp.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(IDX_MAGIC + _CNT.pack(len(self.entries)) + idx_body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_idx, pack.with_suffix(".idx"))
        _fsync_dir(self.packs_dir)
        return pack
