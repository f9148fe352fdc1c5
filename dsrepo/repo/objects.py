"""Content-addressed object store: loose objects and packs.

Every object is addressed by the BLAKE2b-160 of its bytes (hex, 40 characters);
for items that is exactly :func:`dsrepo.model.encoding.item_hash`.

* Loose objects (commits, trees, source records, list roots, categories, subset
  meta) live in ``objects/ab/<38 hex>`` as ``zlib(type + b"\\n" + data)``.
* Items and list chunks (many, small) are written in packs, one pack per
  operation (see :mod:`dsrepo.repo.packs`).

Writes go to a temp file and are renamed into place; writing an object that is
already stored does nothing. Reads verify the hash.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from dsrepo.errors import CorruptObjectError
from dsrepo.repo.layout import iter_fanout

if TYPE_CHECKING:
    from dsrepo.repo.packs import PackIndex, PackReader, PackWriter


def content_hash(data: bytes) -> str:
    """BLAKE2b-160 hex digest; the same function as dsrepo.model.encoding.content_hash
    (kept here so reading the store does not import the dataset model)."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()


LOOSE_TYPES = ("commit", "tree", "source", "list", "categories", "meta")


class ObjectStore:
    """Loose objects under ``objects/`` and packs under ``packs/``."""

    def __init__(self, objects_dir: Path, packs_dir: Path, tmp_dir: Path) -> None:
        self.objects_dir = objects_dir
        self.packs_dir = packs_dir
        self.tmp_dir = tmp_dir
        self._index: dict[bytes, int] | None = None
        self._readers: list["PackReader"] = []
        self._pack_indexes: list["PackIndex"] = []
        self._writer: "PackWriter | None" = None
        self._memo: dict[Any, Any] = {}

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per ``key`` for this store object - for values derived from
        immutable objects only (e.g. a list's entries by its hash); the last 4 are kept."""
        if key in self._memo:
            return self._memo[key]
        value = compute()
        if len(self._memo) >= 4:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = value
        return value

    # -- loose ---------------------------------------------------------------------------

    def loose_path(self, h: str) -> Path:
        return self.objects_dir / h[:2] / h[2:]

    def has_loose(self, h: str) -> bool:
        return self.loose_path(h).is_file()

    def put_loose(self, type_name: str, data: bytes) -> str:
        """Store ``data`` as a loose object of ``type_name``; returns its hash."""
        h = content_hash(data)
        path = self.loose_path(h)
        if path.is_file():
            return h
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(zlib.compress(type_name.encode() + b"\n" + data, 6))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return h

    def read_loose_typed(self, h: str) -> tuple[str, bytes]:
        """``(type, data)`` of a loose object; CorruptObjectError if missing or damaged."""
        path = self.loose_path(h)
        try:
            raw = zlib.decompress(path.read_bytes())
        except FileNotFoundError:
            raise CorruptObjectError(f"object {h} is missing from the store ({path})") from None
        except (OSError, zlib.error) as e:
            raise CorruptObjectError(f"object {h} cannot be read ({path}: {e})") from None
        type_name, sep, data = raw.partition(b"\n")
        if not sep or content_hash(data) != h:
            raise CorruptObjectError(f"object {h} is corrupt (content does not match its hash): {path}")
        return type_name.decode(), data

    def read_loose(self, h: str, type_name: str) -> bytes:
        """Data of loose object ``h``, which must be of ``type_name``."""
        t, data = self.read_loose_typed(h)
        if t != type_name:
            raise CorruptObjectError(f"object {h} is a {t}, expected a {type_name}")
        return data

    def iter_loose(self) -> Iterator[str]:
        """Hashes of every loose object file (names only; not verified)."""
        return iter_fanout(self.objects_dir, 38)

    # -- packs ---------------------------------------------------------------------------

    def pack_paths(self) -> list[Path]:
        """Packs that have an index (a pack without one is an interrupted write)."""
        if not self.packs_dir.is_dir():
            return []
        return sorted(p for p in self.packs_dir.glob("pack-*.pack") if p.with_suffix(".idx").is_file())

    def _load_index(self) -> dict[bytes, int]:
        """Packed object hash -> ``pack number << 32 | entry number`` (the first pack
        holding it wins)."""
        if self._index is None:
            from dsrepo.repo.packs import PackIndex, PackReader

            index: dict[bytes, int] = {}
            self._readers, self._pack_indexes = [], []
            for pack in self.pack_paths():
                self._readers.append(PackReader(pack))
                self._pack_indexes.append(PackIndex(pack.with_suffix(".idx")))
            for n in range(len(self._pack_indexes) - 1, -1, -1):  # earlier packs overwrite later ones
                index.update(zip(self._pack_indexes[n].hashes(), range(n << 32, (n << 32) + (1 << 32))))
            self._index = index
        return self._index

    def _entry(self, pos: int) -> tuple[int, int, int, int, int]:
        """``(pack number, block offset, block length, offset, length)`` of an index position."""
        n = pos >> 32
        _h, block, block_len, off, length, _t = self._pack_indexes[n].entry(pos & 0xFFFFFFFF)
        return n, block, block_len, off, length

    def reload(self) -> None:
        """Forget cached pack indexes (after packs were added or removed by gc)."""
        for r in self._readers:
            r.close()
        self._readers = []
        self._pack_indexes = []
        self._index = None

    def has_packed(self, h: str) -> bool:
        b = bytes.fromhex(h)
        return b in self._load_index() or (self._writer is not None and b in self._writer)

    def packed_hashes(self) -> set[bytes]:
        """Every packed object hash (raw bytes)."""
        return set(self._load_index())

    def _read_at(self, h: str, ent: tuple[int, int, int, int, int]) -> bytes:
        n, block, block_len, off, length = ent
        data = self._readers[n].read(block, block_len, off, length)
        if content_hash(data) != h:
            raise CorruptObjectError(f"object {h} is corrupt in {self._readers[n].path.name}")
        return data

    def read_packed(self, h: str) -> bytes:
        """Data of packed object ``h`` (verified)."""
        pos = self._load_index().get(bytes.fromhex(h))
        if pos is None:
            raise CorruptObjectError(f"object {h} is missing from the store (not in any pack)")
        return self._read_at(h, self._entry(pos))

    def read_packed_many(self, hashes: list[str]) -> list[bytes]:
        """Data of packed objects ``hashes`` (verified), in that order; read in pack and
        block order so a block holding several of them is decompressed once."""
        index = self._load_index()
        keyed = []
        for k, h in enumerate(hashes):
            pos = index.get(bytes.fromhex(h))
            if pos is None:
                raise CorruptObjectError(f"object {h} is missing from the store (not in any pack)")
            keyed.append((self._entry(pos), k))
        out: list[bytes] = [b""] * len(hashes)
        for ent, k in sorted(keyed):
            out[k] = self._read_at(hashes[k], ent)
        return out

    def put_packed(self, type_name: str, data: bytes, h: str | None = None) -> str:
        """Add an object to the open pack (see :meth:`pack_session`); no-op if stored."""
        if self._writer is None:
            raise RuntimeError("put_packed outside pack_session")
        from dsrepo.repo.packs import TYPE_CODES

        h = h or content_hash(data)
        b = bytes.fromhex(h)
        if b in self._writer or b in self._load_index():
            return h
        self._writer.add(b, data, TYPE_CODES[type_name])
        return h

    @contextmanager
    def pack_session(self) -> Iterator["ObjectStore"]:
        """Collect :meth:`put_packed` objects into one new pack, written at the end
        of the block (nothing is written if the block raises)."""
        if self._writer is not None:
            yield self
            return
        from dsrepo.repo.packs import PackWriter

        self._load_index()
        self._writer = PackWriter(self.packs_dir, self.tmp_dir)
        try:
            yield self
        except BaseException:
            self._writer.abort()
            self._writer = None
            raise
        writer, self._writer = self._writer, None
        if writer.finish() is not None:
            self.reload()
