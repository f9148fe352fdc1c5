"""Reading packs: blocks decompressed only as far as needed, batched reads in block order."""

from __future__ import annotations

import random
import zlib

import pytest

from dsrepo.errors import CorruptObjectError
from dsrepo.repo.objects import ObjectStore
from dsrepo.repo.packs import BLOCK, PACK_MAGIC, PackReader, read_index


@pytest.fixture
def packed(tmp_path):
    store = ObjectStore(tmp_path / "objects", tmp_path / "packs", tmp_path / "tmp")
    rng = random.Random(1)
    blobs = [bytes(rng.getrandbits(8) for _ in range(200)) + b"y" * rng.randrange(3000) for _ in range(1500)]
    assert sum(map(len, blobs)) > 3 * BLOCK
    with store.pack_session():
        hashes = [store.put_packed("item", b) for b in blobs]
    return store, hashes, blobs


def test_block_is_decompressed_only_up_to_the_object(packed):
    store, hashes, blobs = packed
    (pack,) = store.pack_paths()
    entries = {h.hex(): (blk, blen, off, n) for h, blk, blen, off, n, _t in read_index(pack.with_suffix(".idx"))}
    first_block = min(e[0] for e in entries.values())
    in_block = sorted((e[2], h) for h, e in entries.items() if e[0] == first_block)
    reader = PackReader(pack)
    _off, h0 = in_block[0]
    blk, blen, off, n = entries[h0]
    assert reader.read(blk, blen, off, n) == blobs[hashes.index(h0)]
    front = len(reader._blocks[blk].raw)
    assert off + n <= front < BLOCK // 2  # the front of the block only
    _off, hl = in_block[-1]
    blk, blen, off, n = entries[hl]
    assert reader.read(blk, blen, off, n) == blobs[hashes.index(hl)]  # continues the same stream
    assert len(reader._blocks[blk].raw) >= BLOCK  # now whole
    blk, blen, off, n = entries[in_block[1][1]]
    assert reader.read(blk, blen, off, n) == blobs[hashes.index(in_block[1][1])]
    reader.close()


def test_read_packed_many_in_any_order(packed):
    store, hashes, blobs = packed
    order = list(range(len(hashes)))
    random.Random(2).shuffle(order)
    assert store.read_packed_many([hashes[i] for i in order]) == [blobs[i] for i in order]
    assert store.read_packed_many([]) == []
    with pytest.raises(CorruptObjectError, match="object 0{40} is missing from the store"):
        store.read_packed_many([hashes[0], "0" * 40])


def test_damaged_or_truncated_block_is_corrupt(packed, tmp_path):
    store, hashes, _blobs = packed
    (pack,) = store.pack_paths()
    (_h, blk, blen, off, n, _t), *_ = read_index(pack.with_suffix(".idx"))
    data = bytearray(pack.read_bytes())
    data[blk] ^= 0xFF  # the zlib header
    bad = tmp_path / "bad.pack"
    bad.write_bytes(bytes(data))
    with pytest.raises(CorruptObjectError, match=rf"bad\.pack: block at offset {blk} does not decompress \(Error -3"):
        PackReader(bad).read(blk, blen, off, n)
    z = zlib.compress(random.Random(3).randbytes(100_000))[:-5000]  # a stream cut short
    cut = tmp_path / "cut.pack"
    cut.write_bytes(PACK_MAGIC + z)
    reader = PackReader(cut)
    assert len(reader.read(len(PACK_MAGIC), len(z), 10, 10)) == 10  # the front is there
    with pytest.raises(CorruptObjectError, match=r"cut\.pack: block at offset 8 does not decompress "
                                                 r"\(incomplete or truncated stream\)"):
        reader.read(len(PACK_MAGIC), len(z), 99_990, 10)
