"""fsck finds damaged or missing objects; gc drops only unreachable ones."""

from __future__ import annotations

import os

from dsrepo.repo.repo import Repo

from .helpers import tree_digest


def _two_commits(repo, coco_sample, coco_edited):
    repo.add(coco_sample, name="coco", format="coco")
    c1 = repo.commit("init").id
    repo.update("coco", coco_edited, format="coco")
    c2 = repo.commit("edit").id
    return c1, c2


def _writable(p):
    os.chmod(p, 0o644)
    return p


def test_fsck_clean(repo, coco_sample, coco_edited):
    _two_commits(repo, coco_sample, coco_edited)
    rep = repo.fsck()
    assert rep.ok and rep.errors == [] and rep.warnings == []
    assert rep.counts["commits"] == 2 and rep.counts["media files"] == 8 and rep.counts["packs"] == 2
    # the annotation files of both added folders (the file cache)
    kept = {m for folder in (coco_sample, coco_edited) for r, m in tree_digest(folder).items()
            if r.startswith("annotations/")}
    assert rep.counts["file cache files"] == 7 and set(repo.file_cache().cached()) == kept


def test_fsck_detects_corrupt_media(repo, coco_sample, coco_edited):
    _two_commits(repo, coco_sample, coco_edited)
    p = next(p for p in repo.layout.media.rglob("*") if p.is_file())
    _writable(p).write_bytes(b"garbage")
    rep = Repo.open(repo.root).fsck()
    md5 = p.parent.name + p.name
    assert rep.errors == [f"media file {md5} is corrupt ({p})"]


def test_fsck_detects_corrupt_pack_record(repo, coco_sample, coco_edited):
    _two_commits(repo, coco_sample, coco_edited)
    pack = repo.store.pack_paths()[0]
    data = bytearray(pack.read_bytes())
    data[-5] ^= 0xFF
    pack.write_bytes(bytes(data))
    rep = Repo.open(repo.root).fsck()
    assert not rep.ok
    assert any(pack.name in e and ("corrupt" in e or "does not decompress" in e) for e in rep.errors)


def test_fsck_detects_missing_objects(repo, coco_sample, coco_edited):
    c1, _ = _two_commits(repo, coco_sample, coco_edited)
    from dsrepo.repo.refs import load_commit

    tree = load_commit(repo.store, c1).tree
    repo.store.loose_path(tree).unlink()
    rep = Repo.open(repo.root).fsck()
    assert any(e.startswith(f"HEAD: commit {c1[:12]}: object {tree} is missing") for e in rep.errors)


def test_fsck_warns_about_interrupted_pack(repo, coco_sample):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    (repo.layout.packs / "pack-deadbeef.pack").write_bytes(b"DSPACK1\n")
    rep = repo.fsck()
    assert rep.ok
    assert rep.warnings == ["pack-deadbeef.pack: pack without index (an interrupted write; `dsrepo gc` removes it)"]
    repo.gc()
    assert not (repo.layout.packs / "pack-deadbeef.pack").exists()


def test_gc_drops_unreachable_keeps_reachable(repo, coco_sample, coco_edited, tmp_path):
    c1, c2 = _two_commits(repo, coco_sample, coco_edited)
    repo.branch("old", c1)
    # a third revision with a new image, then abandon it
    repo.branch("side")
    repo.checkout("side")
    img = repo.layout.source_dir("coco") / "val2017" / "000000000201.jpg"
    img.write_bytes(img.read_bytes() + b"side")
    repo.commit("side change")
    repo.checkout("main")
    media_before = sum(1 for p in repo.layout.media.rglob("*") if p.is_file())
    r = repo.gc()
    assert r.media == 0 and r.loose == 0  # 'side' still refers to everything
    repo.branch("side", delete=True)
    r = repo.gc()
    assert r.media == 1 and r.loose >= 3 and r.packs_after == 1
    assert sum(1 for p in repo.layout.media.rglob("*") if p.is_file()) == media_before - 1
    rep = Repo.open(repo.root).fsck()
    assert rep.ok and rep.counts["commits"] == 2
    repo = Repo.open(repo.root)
    repo.checkout("old")
    repo.checkout("main")
    assert repo.status().clean


def test_gc_keeps_uncommitted_working_content(repo, coco_sample, tiny_format, tmp_path):
    repo.add(coco_sample, name="coco", format="coco")
    r = repo.gc()
    assert (r.loose, r.packed, r.media) == (0, 0, 0)
    c = repo.commit("init")
    assert c.summary["coco"]["added"] == 8
    assert repo.fsck().ok


def test_hardlink_mode_shares_read_only_files(tmp_path, coco_sample):
    repo = Repo.create(tmp_path / "hl", link="hardlink")
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    img = repo.layout.source_dir("coco") / "val2017" / "000000000201.jpg"
    st = img.stat()
    assert st.st_nlink == 2 and st.st_mode & 0o222 == 0
    assert repo.fsck().ok
    # the documented risk of this mode: an in-place edit changes the stored copy too
    os.chmod(img, 0o644)
    with open(img, "r+b") as f:
        f.write(b"XX")
    rep = Repo.open(repo.root).fsck()
    assert len(rep.errors) == 1 and rep.errors[0].startswith("media file ") and "is corrupt" in rep.errors[0]
