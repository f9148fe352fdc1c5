"""Pack files: many small objects in one file, compressed in blocks, with a sorted index.

``pack-<name>.pack``::

    b"DSPACK3\\n"
    block*:  length (4 bytes, big endian) | zstd(record*)
    record:  hash (20 bytes) | type (1 byte) | length (4 bytes, big endian) | data

``pack-<name>.idx``::

    b"DSIDX2\\n\\0" | count (4 bytes BE) | entry* sorted by hash:
        hash (20) | block offset (8) | block length (4) | offset in block (4) | length (4) | type (1)

Objects are grouped into blocks of about :data:`BLOCK` bytes before compression
(small JSON objects compress better together), so reading one object decompresses
one block (~0.15 ms; readers keep the last few blocks). Blocks are zstd frames at
level 1: on canonical item JSON that is 2.5x faster to compress than zlib level 1,
3x faster to decompress, and 10 % smaller. Packs written before (``DSPACK2``, zlib
blocks) are still read - decompressed only as far as a read needs (zlib streams
decompress front to back) - and ``gc`` rewrites them as zstd packs. ``<name>`` is the
BLAKE2b-160 of the pack bytes. Each record repeats its hash and type, so a pack can
be verified (and its index rebuilt) on its own. Packs are immutable: written to a
temp file, fsynced, then renamed into place (index last).

Blocks are compressed in two background threads (zstd releases the GIL), so storing a
large dataset overlaps compression with importing and encoding items.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
import tempfile
import threading
import zlib
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any, Callable, Iterator

import zstandard

from dsrepo.errors import CorruptObjectError

PACK_MAGIC = b"DSPACK3\n"  # zstd blocks
PACK_MAGIC_ZLIB = b"DSPACK2\n"  # zlib blocks: packs of dsrepo before zstd, still read
IDX_MAGIC = b"DSIDX2\n\0"
_BLK = struct.Struct(">I")
_REC = struct.Struct(">20sBI")
_ENT = struct.Struct(">20sQIIIB")
_CNT = struct.Struct(">I")
TYPE_CODES = {"item": 1, "chunk": 2, "blob": 3}
TYPE_NAMES = {v: k for k, v in TYPE_CODES.items()}
LEVEL = 1  # zstd level: fast
BLOCK = 128 * 1024  # (zstd-1 on item JSON: 128 KB blocks compress 1.37x and decompress 1.5x faster than 32 KB ones)
_INFLIGHT = 32
_CACHED_BLOCKS = 8
_STEP = 8 * 1024  # a block is decompressed on demand, at least this much further at a time
_SWITCH_INTERVAL = 0.0002

Entry = tuple[bytes, int, int, int, int, int]  # hash, block offset, block length, offset, length, type


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


def _index_bytes(idx_path: Path) -> tuple[bytes, int]:
    data = idx_path.read_bytes()
    if data[:8] != IDX_MAGIC or len(data) < 12:
        raise CorruptObjectError(f"{idx_path}: not a dsrepo pack index")
    (count,) = _CNT.unpack_from(data, 8)
    if len(data) - 12 != count * _ENT.size:
        raise CorruptObjectError(f"{idx_path}: truncated pack index ({len(data) - 12} bytes for {count} entries)")
    return data, count


def read_index(idx_path: Path) -> list[Entry]:
    """Entries of an index file (CorruptObjectError if malformed)."""
    data, _count = _index_bytes(idx_path)
    return list(_ENT.iter_unpack(memoryview(data)[12:]))


class PackIndex:
    """An index file kept as bytes: hashes are sliced out once (for a dict lookup) and
    an entry is unpacked only when its object is read."""

    __slots__ = ("data", "count")

    def __init__(self, idx_path: Path) -> None:
        self.data, self.count = _index_bytes(idx_path)

    def hashes(self) -> list[bytes]:
        """The object hashes, in index order (position ``k`` is entry ``k``)."""
        d, size = self.data, _ENT.size
        return [d[o:o + 20] for o in range(12, 12 + self.count * size, size)]

    def entry(self, k: int) -> Entry:
        """Entry number ``k``: hash, block offset, block length, offset, length, type."""
        return _ENT.unpack_from(self.data, 12 + k * _ENT.size)


_local = threading.local()  # (zstd contexts are not thread safe: one per thread)


_MAX_RAW = 1 << 30  # a block's declared size beyond this is damage (blocks are ~BLOCK plus one object)


def _zstd_inflate(z: bytes, where: str) -> bytes:
    d = getattr(_local, "dctx", None)
    if d is None:
        d = _local.dctx = zstandard.ZstdDecompressor()
    try:
        n = zstandard.frame_content_size(z)
        if not 0 <= n <= _MAX_RAW:  # (decompressing allocates the declared size first)
            raise zstandard.ZstdError(f"declared size {n} is not plausible")
        return d.decompress(z)
    except zstandard.ZstdError as e:
        raise CorruptObjectError(f"{where} does not decompress ({e})") from None


def _zlib_inflate(z: bytes, where: str) -> bytes:
    try:
        return zlib.decompress(z)
    except zlib.error as e:
        raise CorruptObjectError(f"{where} does not decompress ({e})") from None


def _inflater(magic: bytes, where: Path) -> Callable[[bytes, str], bytes]:
    if magic == PACK_MAGIC:
        return _zstd_inflate
    if magic == PACK_MAGIC_ZLIB:
        return _zlib_inflate
    raise CorruptObjectError(f"{where}: not a dsrepo pack")


def block_inflater(pack_path: Path) -> Callable[[bytes, str], bytes]:
    """The function ``(block bytes, where) -> records`` for this pack's blocks (zstd, or
    zlib for older packs); it raises CorruptObjectError naming ``where`` on damage."""
    with open(pack_path, "rb") as f:
        return _inflater(f.read(len(PACK_MAGIC)), pack_path)


def is_zlib_pack(pack_path: Path) -> bool:
    """Whether this pack has zlib blocks (written before dsrepo used zstd)."""
    return block_inflater(pack_path) is _zlib_inflate


def iter_blocks(pack_path: Path) -> Iterator[tuple[int, bytes]]:
    """``(offset, compressed bytes)`` of every block of a pack, read from the pack itself
    (decompress them with :func:`block_inflater`)."""
    size = pack_path.stat().st_size
    with open(pack_path, "rb") as f:
        _inflater(f.read(len(PACK_MAGIC)), pack_path)
        pos = len(PACK_MAGIC)
        while pos < size:
            head = f.read(_BLK.size)
            if len(head) != _BLK.size:
                raise CorruptObjectError(f"{pack_path}: truncated block header at offset {pos}")
            (n,) = _BLK.unpack(head)
            pos += _BLK.size
            z = f.read(n)
            if len(z) != n:
                raise CorruptObjectError(f"{pack_path}: truncated block at offset {pos}")
            yield pos, z
            pos += n


def parse_block(raw: bytes, where: str) -> Iterator[tuple[bytes, int, int, int]]:
    """``(hash, type, offset, length)`` of the records in a decompressed block."""
    pos = 0
    while pos < len(raw):
        if pos + _REC.size > len(raw):
            raise CorruptObjectError(f"{where}: truncated record header")
        h, t, n = _REC.unpack_from(raw, pos)
        pos += _REC.size
        if pos + n > len(raw):
            raise CorruptObjectError(f"{where}: truncated record")
        yield h, t, pos, n
        pos += n


def iter_objects(pack_path: Path) -> Iterator[tuple[bytes, int, bytes]]:
    """``(hash, type, data)`` of every object of a pack (CorruptObjectError on damage)."""
    inflate = block_inflater(pack_path)
    for off, z in iter_blocks(pack_path):
        raw = inflate(z, f"{pack_path.name}: block at offset {off}")
        for h, t, pos, n in parse_block(raw, f"{pack_path.name} block at offset {off}"):
            yield h, t, raw[pos:pos + n]


class _Whole:
    """A zstd block, decompressed whole on first use."""

    __slots__ = ("raw", "_z")

    def __init__(self, compressed: bytes) -> None:
        self.raw = b""
        self._z: bytes | None = compressed

    def upto(self, need: int, where: str) -> bytes:
        """The decompressed bytes (all of them)."""
        if self._z is not None:
            self.raw, self._z = _zstd_inflate(self._z, where), None
        return self.raw


class _Block:
    """A zlib block (older packs) decompressed as far as reads have needed so far (zlib
    streams decompress front to back, so an object early in a block costs only that
    block's front)."""

    __slots__ = ("raw", "_z", "_tail")

    def __init__(self, compressed: bytes) -> None:
        self.raw = b""
        self._z: Any = zlib.decompressobj()
        self._tail = compressed

    def upto(self, need: int, where: str) -> bytes:
        """The decompressed bytes, at least ``need`` of them when the block has that many."""
        z = self._z
        if z is None or len(self.raw) >= need:
            return self.raw
        try:
            more = z.decompress(self._tail, max(need - len(self.raw), _STEP))
        except zlib.error as e:
            raise CorruptObjectError(f"{where} does not decompress ({e})") from None
        self._tail = z.unconsumed_tail
        self.raw += more
        if z.eof:
            self._z, self._tail = None, b""
        elif len(self.raw) < need and not self._tail:
            raise CorruptObjectError(f"{where} does not decompress (incomplete or truncated stream)")
        return self.raw


class PackReader:
    """Random access to one pack file (memory-mapped). Recent blocks are kept (those of
    older zlib packs decompressed only as far as the objects read from them, see
    :class:`_Block`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._kind: type = _Whole
        self._blocks: OrderedDict[int, Any] = OrderedDict()

    def _block(self, offset: int, length: int) -> Any:
        blk = self._blocks.get(offset)
        if blk is not None:
            self._blocks.move_to_end(offset)
            return blk
        if self._map is None:
            with open(self.path, "rb") as f:
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            self._kind = _Block if self._map[:len(PACK_MAGIC)] == PACK_MAGIC_ZLIB else _Whole
        if offset + length > len(self._map):
            raise CorruptObjectError(f"{self.path}: block at offset {offset} runs past the end of the pack")
        blk = self._blocks[offset] = self._kind(self._map[offset:offset + length])
        if len(self._blocks) > _CACHED_BLOCKS:
            self._blocks.popitem(last=False)
        return blk

    def read(self, block: int, block_len: int, offset: int, length: int) -> bytes:
        """The bytes of one object."""
        raw = self._block(block, block_len).upto(offset + length, f"{self.path}: block at offset {block}")
        if offset + length > len(raw):
            raise CorruptObjectError(f"{self.path}: object at {block}+{offset} runs past the end of its block")
        return raw[offset:offset + length]

    def close(self) -> None:
        self._blocks.clear()
        if self._map is not None:
            self._map.close()
            self._map = None


def _compress(raw: bytes) -> bytes:
    c = getattr(_local, "cctx", None)
    if c is None:
        c = _local.cctx = zstandard.ZstdCompressor(level=LEVEL)
    return c.compress(raw)


class PackWriter:
    """Accumulates objects in blocks in a temp file; :meth:`finish` renames the pack and
    its index into ``packs_dir``. Nothing is visible to readers before ``finish``."""

    def __init__(self, packs_dir: Path, tmp_dir: Path) -> None:
        self.packs_dir = packs_dir
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="pack-", suffix=".tmp", dir=tmp_dir)
        self._tmp = Path(name)
        self._f = os.fdopen(fd, "wb")
        self._f.write(PACK_MAGIC)
        self._hash = hashlib.blake2b(PACK_MAGIC, digest_size=20)
        self._pos = len(PACK_MAGIC)
        self.entries: dict[bytes, tuple[int, int, int, int, int]] = {}
        self._pending: set[bytes] = set()
        self._buf: list[bytes] = []
        self._buf_len = 0
        self._buf_entries: list[tuple[bytes, int, int, int]] = []
        self._inflight: deque = deque()
        self._pool: Any = None
        self._interval = 0.005

    def __len__(self) -> int:
        return len(self.entries) + len(self._pending)

    def __contains__(self, h: bytes) -> bool:
        return h in self.entries or h in self._pending

    def add(self, h: bytes, data: bytes, type_code: int) -> None:
        """Append one object (no-op if this writer already has it)."""
        if h in self._pending or h in self.entries:
            return
        head = _REC.pack(h, type_code, len(data))
        self._buf_entries.append((h, self._buf_len + len(head), len(data), type_code))
        self._buf.append(head)
        self._buf.append(data)
        self._buf_len += len(head) + len(data)
        self._pending.add(h)
        if self._buf_len >= BLOCK:
            self._seal(background=True)

    def _seal(self, background: bool) -> None:
        if not self._buf:
            return
        raw = b"".join(self._buf)
        entries = self._buf_entries
        self._buf, self._buf_len, self._buf_entries = [], 0, []
        if background:
            if self._pool is None:
                import sys
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dsrepo-zstd")
                # The compressing thread needs the GIL back after every block; with the
                # default 5 ms switch interval it would mostly wait for the busy main thread.
                self._interval = sys.getswitchinterval()
                sys.setswitchinterval(min(self._interval, _SWITCH_INTERVAL))
            self._inflight.append((entries, self._pool.submit(_compress, raw)))
            while len(self._inflight) > _INFLIGHT:
                self._write_next()
        else:
            self._drain()
            self._write_block(entries, _compress(raw))

    def _write_next(self) -> None:
        entries, fut = self._inflight.popleft()
        self._write_block(entries, fut.result())

    def _drain(self) -> None:
        while self._inflight:
            self._write_next()

    def _write_block(self, entries: list[tuple[bytes, int, int, int]], z: bytes) -> None:
        head = _BLK.pack(len(z))
        self._f.write(head)
        self._f.write(z)
        self._hash.update(head)
        self._hash.update(z)
        off = self._pos + _BLK.size
        for h, inner, n, t in entries:
            self.entries[h] = (off, len(z), inner, n, t)
            self._pending.discard(h)
        self._pos = off + len(z)

    def _stop(self) -> None:
        if self._pool is not None:
            import sys

            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            sys.setswitchinterval(self._interval)

    def abort(self) -> None:
        """Drop the temp file."""
        self._stop()
        if not self._f.closed:
            self._f.close()
        try:
            self._tmp.unlink()
        except OSError:
            pass

    def finish(self) -> Path | None:
        """Write the pack and its index into place; returns the pack path (None if empty)."""
        try:
            self._seal(background=False)
            self._drain()
        finally:
            self._stop()
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
        idx_body = b"".join(_ENT.pack(h, *e) for h, e in sorted(self.entries.items()))
        fd, tmp_idx = tempfile.mkstemp(prefix="idx-", suffix=".tmp", dir=self._tmp.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(IDX_MAGIC + _CNT.pack(len(self.entries)) + idx_body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_idx, pack.with_suffix(".idx"))
        _fsync_dir(self.packs_dir)
        return pack
