"""Reading packs: zstd blocks (and zlib blocks of older packs, decompressed only as far as
needed), batched reads in block order; older packs are checked and converted by gc."""

from __future__ import annotations

import random
import zlib

import pytest

from dsrepo.errors import CorruptObjectError
from dsrepo.repo.objects import ObjectStore
from dsrepo.repo.packs import BLOCK, PACK_MAGIC, PACK_MAGIC_ZLIB, PackReader, is_zlib_pack, read_index
from dsrepo.repo.repo import Repo


@pytest.fixture
def packed(tmp_path):
    store = ObjectStore(tmp_path / "objects", tmp_path / "packs", tmp_path / "tmp")
    rng = random.Random(1)
    blobs = [bytes(rng.getrandbits(8) for _ in range(200)) + b"y" * rng.randrange(3000) for _ in range(1500)]
    assert sum(map(len, blobs)) > 3 * BLOCK
    with store.pack_session():
        hashes = [store.put_packed("item", b) for b in blobs]
    return store, hashes, blobs


def _as_zlib_pack(pack):
    """Rewrite a pack in the format of dsrepo before zstd (``DSPACK2``: zlib blocks),
    with its index; the same objects in the same blocks."""
    from dsrepo.repo.packs import _BLK, _ENT, _REC, IDX_MAGIC, PACK_MAGIC_ZLIB, iter_blocks, block_inflater

    inflate = block_inflater(pack)
    out, entries = bytearray(PACK_MAGIC_ZLIB), []
    for off, z in iter_blocks(pack):
        raw = inflate(z, "test")
        zz = zlib.compress(raw, 1)
        at = len(out) + _BLK.size
        out += _BLK.pack(len(zz)) + zz
        pos = 0
        while pos < len(raw):
            h, t, n = _REC.unpack_from(raw, pos)
            entries.append((h, at, len(zz), pos + _REC.size, n, t))
            pos += _REC.size + n
    pack.write_bytes(bytes(out))
    entries.sort()
    pack.with_suffix(".idx").write_bytes(IDX_MAGIC + len(entries).to_bytes(4, "big")
                                         + b"".join(_ENT.pack(*e) for e in entries))


def test_zstd_block_is_decompressed_whole_and_kept(packed):
    store, hashes, blobs = packed
    (pack,) = store.pack_paths()
    assert pack.read_bytes()[:8] == PACK_MAGIC == b"DSPACK3\n" and not is_zlib_pack(pack)
    entries = {h.hex(): (blk, blen, off, n) for h, blk, blen, off, n, _t in read_index(pack.with_suffix(".idx"))}
    first_block = min(e[0] for e in entries.values())
    in_block = sorted((e[2], h) for h, e in entries.items() if e[0] == first_block)
    reader = PackReader(pack)
    for _off, h in in_block:
        blk, blen, off, n = entries[h]
        assert reader.read(blk, blen, off, n) == blobs[hashes.index(h)]
    assert len(reader._blocks) == 1 and len(reader._blocks[first_block].raw) >= BLOCK
    reader.close()


def test_zlib_pack_block_is_decompressed_only_up_to_the_object(packed):
    store, hashes, blobs = packed
    (pack,) = store.pack_paths()
    _as_zlib_pack(pack)
    assert is_zlib_pack(pack)
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
    store.reload()
    assert store.read_packed_many(hashes[::-1]) == blobs[::-1]


def test_repository_with_zlib_packs_reads_checks_and_gc_converts(repo, coco_sample, coco_edited):
    repo.add(coco_sample, name="coco", format="coco")
    c1 = repo.commit("init").id
    repo.update("coco", coco_edited, format="coco")
    repo.commit("edit")
    want = repo.diff(c1, "HEAD").to_json()
    assert want["sources"]
    for pack in repo.store.pack_paths():
        _as_zlib_pack(pack)
    old = Repo.open(repo.root)
    assert all(is_zlib_pack(p) for p in old.store.pack_paths())
    assert old.fsck().ok
    assert old.diff(c1, "HEAD").to_json() == want
    old.gc()
    packs = old.store.pack_paths()
    assert len(packs) == 1 and not is_zlib_pack(packs[0])
    again = Repo.open(repo.root)
    assert again.fsck().ok
    assert again.diff(c1, "HEAD").to_json() == want
    again.checkout(c1)
    assert again.status().clean


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
    data[blk] ^= 0xFF  # the zstd frame's magic number
    bad = tmp_path / "bad.pack"
    bad.write_bytes(bytes(data))
    with pytest.raises(CorruptObjectError, match=rf"bad\.pack: block at offset {blk} does not decompress \(.*"):
        PackReader(bad).read(blk, blen, off, n)
    data = bytearray(pack.read_bytes())
    data[blk + 8] |= 0x7F  # the frame's declared content size: ~2 GB, refused before any allocation
    bad.write_bytes(bytes(data))
    with pytest.raises(CorruptObjectError, match=rf"bad\.pack: block at offset {blk} does not decompress "
                                                 r"\(declared size \d+ is not plausible\)"):
        PackReader(bad).read(blk, blen, off, n)
    data = bytearray(pack.read_bytes())
    data[blk + blen - 3] ^= 0xFF  # inside the compressed data
    bad.write_bytes(bytes(data))
    with pytest.raises(CorruptObjectError, match=rf"bad\.pack: block at offset {blk} does not decompress \(.*"):
        PackReader(bad).read(blk, blen, off, n)
    z = zlib.compress(random.Random(3).randbytes(100_000))[:-5000]  # a stream cut short
    cut = tmp_path / "cut.pack"
    cut.write_bytes(PACK_MAGIC_ZLIB + z)
    reader = PackReader(cut)
    assert len(reader.read(len(PACK_MAGIC), len(z), 10, 10)) == 10  # the front is there
    with pytest.raises(CorruptObjectError, match=r"cut\.pack: block at offset 8 does not decompress "
                                                 r"\(incomplete or truncated stream\)"):
        reader.read(len(PACK_MAGIC), len(z), 99_990, 10)
