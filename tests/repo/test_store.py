"""Object store, packs, chunked lists and the media store."""

from __future__ import annotations

import os
import zlib

import pytest

from dsrepo.errors import CorruptObjectError, RepoError
from dsrepo.model import Bbox, Item
from dsrepo.model.encoding import content_hash as model_hash
from dsrepo.model.encoding import encode_item, item_hash
from dsrepo.repo.lists import list_chunks, list_info, read_list, write_item_list, write_list
from dsrepo.repo.mediastore import MediaStore
from dsrepo.repo.objects import ObjectStore, content_hash


@pytest.fixture
def store(tmp_path):
    return ObjectStore(tmp_path / "objects", tmp_path / "packs", tmp_path / "tmp")


def test_content_hash_is_the_model_hash():
    for data in (b"", b"x", b"{}" * 1000):
        assert content_hash(data) == model_hash(data)
    item = Item("a", annotations=(Bbox(x=1, y=2, w=3, h=4, label=0),))
    assert content_hash(encode_item(item)) == item_hash(item)


def test_loose_put_get_and_noop(store):
    h = store.put_loose("tree", b'{"a":1}')
    path = store.loose_path(h)
    mtime = path.stat().st_mtime_ns
    assert store.put_loose("tree", b'{"a":1}') == h
    assert path.stat().st_mtime_ns == mtime  # existing object: not rewritten
    assert store.read_loose(h, "tree") == b'{"a":1}'
    with pytest.raises(CorruptObjectError, match="is a tree, expected a commit"):
        store.read_loose(h, "commit")
    assert list(store.iter_loose()) == [h]


def test_loose_corruption_detected(store):
    h = store.put_loose("tree", b"hello")
    p = store.loose_path(h)
    os.chmod(p, 0o644)
    p.write_bytes(zlib.compress(b"tree\nhellO"))
    with pytest.raises(CorruptObjectError, match=f"object {h} is corrupt"):
        store.read_loose(h, "tree")
    with pytest.raises(CorruptObjectError, match="is missing from the store"):
        store.read_loose("0" * 40, "tree")


def test_pack_session_roundtrip_and_dedupe(store):
    with store.pack_session():
        hs = [store.put_packed("item", f"item {i}".encode()) for i in range(100)]
        assert store.put_packed("item", b"item 3") == hs[3]
    assert len(store.pack_paths()) == 1
    assert [store.read_packed(h) for h in hs[:3]] == [b"item 0", b"item 1", b"item 2"]
    with store.pack_session():
        store.put_packed("item", b"item 5")  # already stored: no new pack
    assert len(store.pack_paths()) == 1
    with store.pack_session():
        new = store.put_packed("item", b"new")
    assert len(store.pack_paths()) == 2 and store.read_packed(new) == b"new"


def test_pack_with_many_blocks(store):
    import random

    from dsrepo.repo.packs import BLOCK, iter_objects

    rng = random.Random(0)
    blobs = [bytes(rng.getrandbits(8) for _ in range(300)) + b"x" * rng.randrange(2000) for _ in range(3000)]
    assert sum(map(len, blobs)) > 4 * BLOCK  # several blocks, compressed in the background
    with store.pack_session():
        hs = [store.put_packed("item", b) for b in blobs]
    (pack,) = store.pack_paths()
    order = list(range(len(blobs)))
    rng.shuffle(order)
    for i in order[:500]:
        assert store.read_packed(hs[i]) == blobs[i]
    objects = {h.hex(): data for h, _t, data in iter_objects(pack)}
    assert objects == dict(zip(hs, blobs))


def test_pack_session_aborted_writes_nothing(store, tmp_path):
    with pytest.raises(RuntimeError):
        with store.pack_session():
            store.put_packed("item", b"x")
            raise RuntimeError("boom")
    assert store.pack_paths() == []
    assert not list((tmp_path / "tmp").iterdir())
    assert not store.has_packed(content_hash(b"x"))


def test_chunked_list_edit_rewrites_few_chunks(store):
    entries = [["train", f"{i:06d}", content_hash(str(i).encode())] for i in range(5000)]
    with store.pack_session():
        a = write_list(store, entries, 2)
    assert read_list(store, a) == entries
    with store.pack_session():
        assert write_list(store, entries, 2) == a  # same content, same id
    ca = list_chunks(store, a)
    assert 50 < len(ca) < 400  # content-defined chunks of ~32 entries
    edited = [list(e) for e in entries]
    edited[2500][2] = content_hash(b"changed")
    del edited[100]
    edited.insert(4000, ["train", "new", content_hash(b"new")])
    with store.pack_session():
        b = write_list(store, edited, 2)
    cb = list_chunks(store, b)
    assert read_list(store, b) == edited
    new_chunks = set(h for h, _ in cb) - set(h for h, _ in ca)
    assert 1 <= len(new_chunks) <= 6


def test_item_list_tally_per_subset(store):
    entries = [["train" if i % 3 else "val", f"{i:05d}", content_hash(str(i).encode())] for i in range(700)]
    with store.pack_session():
        tallied = write_item_list(store, entries)
        plain = write_list(store, entries, 2)
    chunks, tally = list_info(store, tallied)
    assert tally == {"train": 466, "val": 234}
    assert list_info(store, plain) == (chunks, None)  # same chunks; a list written without a tally has none
    assert read_list(store, tallied) == entries
    bad = store.put_loose("list", b'{"chunks": [], "n": 0, "tally": {"train": 3}}')
    with pytest.raises(CorruptObjectError, match=f"list {bad}: malformed .tally does not add up"):
        list_info(store, bad)


def test_media_store_put_and_copy_out(tmp_path):
    m = MediaStore(tmp_path / "media", tmp_path / "tmp")
    src = tmp_path / "a.jpg"
    src.write_bytes(b"JPEGDATA")
    md5, size = m.put_file(src)
    assert size == 8 and m.path(md5) == tmp_path / "media" / md5[:2] / md5[2:]
    assert oct(m.path(md5).stat().st_mode & 0o777) == "0o444"
    assert m.put_file(src, md5) == (md5, 8)
    dest = tmp_path / "wc" / "x" / "a.jpg"
    m.copy_out(md5, dest)
    assert dest.read_bytes() == b"JPEGDATA"
    assert dest.stat().st_ino != m.path(md5).stat().st_ino  # a copy, not a hard link
    dest.write_bytes(b"edited in place")
    assert m.verify(md5)  # the store is unaffected by edits of the working copy
    with pytest.raises(RepoError, match="is missing from the store"):
        m.copy_out("f" * 32, dest)


def test_media_store_hardlink_mode(tmp_path):
    m = MediaStore(tmp_path / "media", tmp_path / "tmp", "hardlink")
    src = tmp_path / "a.jpg"
    src.write_bytes(b"JPEGDATA")
    md5, _ = m.put_file(src)
    dest = tmp_path / "wc" / "a.jpg"
    m.copy_out(md5, dest)
    assert dest.stat().st_ino == m.path(md5).stat().st_ino
    assert dest.stat().st_mode & 0o222 == 0  # read-only
    with pytest.raises(RepoError, match="unknown link mode 'symlink'"):
        MediaStore(tmp_path / "media", tmp_path / "tmp", "symlink")
