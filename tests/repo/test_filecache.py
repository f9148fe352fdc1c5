"""The file cache: annotation files kept whole for recent records, so that a checkout
between them places files instead of exporting (dsrepo/repo/filecache.py)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from dsrepo.errors import DatasetError, RepoError
from dsrepo.formats.api import import_dataset
from dsrepo.repo import reexport
from dsrepo.repo.filecache import FileCache
from dsrepo.repo.repo import Repo
from dsrepo.repo.worktree import scan_dir

from .helpers import assert_same_content, load_source, set_file_cache, tree_digest

INSTANCES = "annotations/instances_train2017.json"


@pytest.fixture
def exports(monkeypatch) -> list[str]:
    """Records every annotation export a checkout runs."""
    calls: list[str] = []
    real = reexport.export_files

    def spy(repo, rec, *a, **k):
        calls.append(rec.name)
        return real(repo, rec, *a, **k)

    monkeypatch.setattr("dsrepo.repo.materialize.export_files", spy)
    return calls


def _in_place(repo: Repo, sample: Path) -> Path:
    dest = repo.layout.source_dir("coco")
    shutil.copytree(sample, dest)
    repo.add(dest, name="coco", format="coco")
    return dest


def _edit(path: Path) -> None:
    """Move one box by a pixel, written the way a user's script would (json.dumps spacing)."""
    doc = json.loads(path.read_text())
    doc["annotations"][0]["bbox"][0] += 1
    path.write_text(json.dumps(doc))


def _annotations(folder: Path) -> dict[str, str]:
    return {k: v for k, v in tree_digest(folder).items() if k.startswith("annotations/")}


def test_checkouts_place_the_users_own_files_back(repo, coco_sample, exports):
    dest = _in_place(repo, coco_sample)
    original = _annotations(dest)
    c1 = repo.commit("one").id
    _edit(dest / INSTANCES)
    edited = _annotations(dest)
    c2 = repo.commit("two").id
    repo.checkout(c1)
    assert _annotations(dest) == original  # byte for byte the files the user had
    assert repo.status().clean
    repo.checkout(c2)
    assert _annotations(dest) == edited
    assert repo.status().clean
    assert exports == []  # nothing was exported
    assert_same_content(load_source(repo, "coco"), repo.dataset(c2, "coco"))
    assert set(scan_dir(dest)[0]) == set(scan_dir(coco_sample)[0])
    assert repo.fsck().ok


def test_the_file_set_is_the_same_with_or_without_the_cache(tmp_path, coco_sample, coco_edited):
    """Files the format does not write (a note, a file of another name) follow the
    same rules whether a checkout places kept files or exports."""
    (coco_sample / "notes.txt").write_text("my notes")
    (coco_sample / "annotations" / "readme.json").write_text("{}")
    results = []
    for mb in (256, 0):
        repo = Repo.create(tmp_path / f"proj{mb}")
        set_file_cache(repo, mb)
        dest = _in_place(repo, coco_sample)
        c1 = repo.commit("one").id
        repo.update("coco", coco_edited, format="coco")
        repo.commit("two")
        repo.checkout(c1)
        assert repo.status().clean
        assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))
        results.append(sorted(scan_dir(dest)[0]))
    assert results[0] == results[1]


def test_uncommitted_edits_are_never_placed_for_a_commit(repo, coco_sample):
    dest = _in_place(repo, coco_sample)
    c1 = repo.commit("one").id
    _edit(dest / INSTANCES)
    c2 = repo.commit("two").id
    _edit(dest / INSTANCES)  # a second edit, not committed
    with pytest.raises(RepoError, match="local changes|uncommitted|modified"):
        repo.checkout(c1)
    repo.checkout(c1, force=True)
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))
    repo.checkout(c2)
    assert_same_content(repo.dataset(c2, "coco"), load_source(repo, "coco"))
    assert repo.status().clean


def test_a_file_changed_after_the_scan_is_not_taken(repo, tmp_path):
    cache = FileCache(repo.layout)
    f = tmp_path / "a.json"
    f.write_bytes(b"[1]")
    st = os.stat(f)
    stat = (st.st_size, st.st_mtime_ns, st.st_ino)
    import hashlib

    md5 = hashlib.md5(b"[1]").hexdigest()
    assert not cache.move_in(f, md5, (st.st_size + 1, st.st_mtime_ns, st.st_ino), st.st_mtime_ns + 1)
    assert f.exists() and not cache.has(md5)
    other = hashlib.md5(b"[2]").hexdigest()
    assert not cache.copy_in(f, other)  # bytes that are not that md5
    assert not cache.move_in(f, other, stat, st.st_mtime_ns)  # modified within the clock tick: checked
    assert f.exists() and not cache.has(other)
    assert cache.move_in(f, md5, stat, st.st_mtime_ns + 1)
    assert not f.exists() and cache.path(md5).read_bytes() == b"[1]"
    assert os.stat(cache.path(md5)).st_mode & 0o777 == 0o444  # read-only, like the media store


def test_the_budget_keeps_the_most_recently_used_entries(repo, tmp_path):
    import hashlib

    cache = FileCache(repo.layout, budget_mb=1)
    md5s = []
    for i in range(3):
        data = bytes([i]) * 400_000
        md5 = hashlib.md5(data).hexdigest()
        (tmp_path / f"f{i}").write_bytes(data)
        assert cache.copy_in(tmp_path / f"f{i}", md5)
        assert cache.remember(f"rec{i}", {"annotations/x.json": md5})
        cache.save()
        md5s.append(md5)
    fresh = FileCache(repo.layout, budget_mb=1)  # (read back from the index)
    assert fresh.entry("rec0") is None and not fresh.path(md5s[0]).exists()  # least recently used: gone
    assert fresh.entry("rec1") is not None and fresh.entry("rec2") is not None
    big = bytes(2_000_000)
    (tmp_path / "big").write_bytes(big)
    assert not fresh.fits([len(big)])
    assert FileCache(repo.layout, budget_mb=0).entry("rec2") is None  # off: nothing is placed


def test_a_record_larger_than_the_budget_is_exported(repo, coco_sample, exports):
    set_file_cache(repo, 0)
    dest = _in_place(repo, coco_sample)
    c1 = repo.commit("one").id
    _edit(dest / INSTANCES)
    repo.commit("two")
    repo.checkout(c1)
    assert exports == ["coco"]
    assert not (repo.layout.dot / "cache" / "files").exists()
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))


def test_damaged_cache_files_are_reported_and_dropped_by_gc(repo, coco_sample, exports):
    dest = _in_place(repo, coco_sample)
    c1 = repo.commit("one").id
    rec1 = repo.status().get("coco").record
    _edit(dest / INSTANCES)
    repo.commit("two")
    cache = repo.file_cache()
    md5 = cache.entry(rec1)[INSTANCES]
    path = cache.path(md5)
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes().replace(b'"bbox"', b'"bbox" '))
    rep = repo.fsck()
    assert not rep.ok and any(str(path) in e for e in rep.errors)
    repo.gc()
    assert repo.fsck().ok
    assert not path.exists()
    repo.checkout(c1)  # the damaged entry is gone: exported instead
    assert exports == ["coco"]
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))


def test_gc_drops_entries_of_records_nothing_refers_to(repo, coco_sample, coco_edited):
    dest = _in_place(repo, coco_sample)
    repo.commit("one")
    repo.branch("side")
    repo.checkout("side")
    _edit(dest / INSTANCES)
    side_record = repo.status().get("coco").record
    repo.commit("side edit")
    repo.checkout("main")  # the side record's files go into the cache
    assert repo.file_cache().entry(side_record) is not None
    repo.branch("side", delete=True)
    repo.gc()
    assert repo.file_cache().entry(side_record) is None
    assert repo.fsck().ok


def test_bad_budget_in_config_is_a_clear_error(repo):
    cfg = repo.layout.config
    doc = json.loads(cfg.read_text())
    doc["file_cache_mb"] = -1
    cfg.write_text(json.dumps(doc))
    with pytest.raises(RepoError) as e:
        Repo.open(repo.root)
    assert str(e.value) == f"{cfg}: file_cache_mb must be a whole number of megabytes (0 or more), not -1"


def test_checkout_of_one_source_uses_the_kept_files(repo, coco_sample, exports):
    dest = _in_place(repo, coco_sample)
    original = _annotations(dest)
    c1 = repo.commit("one").id
    _edit(dest / INSTANCES)
    repo.commit("two")
    repo.checkout(c1, ["coco"])  # HEAD stays: the source shows as modified
    assert _annotations(dest) == original and exports == []
    st = repo.status().get("coco")
    assert st.state == "modified" and len(st.change.modified) == 1
    assert_same_content(repo.dataset(c1, "coco"), load_source(repo, "coco"))


def test_detected_format_is_kept_and_leaves_no_temp_files(repo, coco_sample):
    dest = repo.layout.source_dir("coco")
    shutil.copytree(coco_sample, dest)
    repo.add(dest, name="coco")  # (format detected)
    rec = repo.status().get("coco").record
    cache = repo.file_cache()
    assert cache.entry(rec) == _annotations(dest)
    stored = sorted(f.parent.name + f.name for f in cache.root.rglob("*") if f.is_file())
    assert stored == sorted(cache.entry(rec).values())  # (no copy left over)


def test_formats_without_annotation_files_are_not_kept(repo, tiny_format, tmp_path):
    from .test_generic import _tiny

    src = _tiny(tmp_path)
    dest = repo.layout.source_dir("t")
    shutil.copytree(src, dest)
    repo.add(dest, name="t")  # in place, format detected: the child copies, then nothing is kept
    repo.add(src, name="u", format="tinyjson")  # from outside
    assert repo.file_cache().entry(repo.status().get("t").record) is None
    assert repo.file_cache().entry(repo.status().get("u").record) is None
    assert not [f for f in (repo.layout.dot / "cache" / "files").rglob("*") if f.is_file()]


def test_a_failed_add_in_place_leaves_no_copies(repo, coco_sample):
    dest = repo.layout.source_dir("coco")
    shutil.copytree(coco_sample, dest)
    (dest / INSTANCES).write_text('{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"id": 1, '
                                  '"image_id": 7, "category_id": 1, "bbox": [0, 0, 1, 1]}], "categories": []}')
    with pytest.raises(DatasetError, match="instances_train2017.json: annotation id 1: category_id 1 is not in"):
        repo.add(dest, name="coco", format="coco")
    assert not (repo.layout.dot / "cache" / "files.json").exists()
    assert not [f for f in (repo.layout.dot / "cache" / "files").rglob("*") if f.is_file()]


def test_a_symlinked_file_is_copied_not_moved(repo, tmp_path):
    import hashlib

    cache = FileCache(repo.layout)
    real = tmp_path / "real.json"
    real.write_bytes(b"[3]")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    st = os.stat(link)
    md5 = hashlib.md5(b"[3]").hexdigest()
    assert cache.move_in(link, md5, (st.st_size, st.st_mtime_ns, st.st_ino), st.st_mtime_ns + 1)
    assert link.is_symlink() and real.read_bytes() == b"[3]"  # both left where they were
    assert not cache.path(md5).is_symlink() and cache.path(md5).read_bytes() == b"[3]"


@pytest.mark.parametrize("index", [b"not json", b"[]", b'{"sizes": {"x": "big"}, "entries": {"r": [1]}}',
                                   b'{"sizes": {}, "entries": {"r": ["later", {"a": 1}]}}'])
def test_a_damaged_index_only_costs_an_export(repo, coco_sample, exports, index):
    dest = _in_place(repo, coco_sample)
    c1 = repo.commit("one").id
    _edit(dest / INSTANCES)
    repo.commit("two")
    (repo.layout.dot / "cache" / "files.json").write_bytes(index)
    repo.checkout(c1)
    assert exports == ["coco"]
    assert repo.status().clean
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))
    assert repo.fsck().ok
    repo.gc()  # (the files the damaged index no longer lists go)
    assert repo.fsck().ok


def test_every_committed_version_is_kept(repo, coco_sample, exports):
    """Files a status or commit imports go into the cache too: a revision whose files were
    edited again before any checkout still comes back without an export."""
    dest = _in_place(repo, coco_sample)
    repo.commit("one")
    _edit(dest / INSTANCES)
    second = _annotations(dest)
    c2 = repo.commit("two").id
    _edit(dest / INSTANCES)
    repo.commit("three")
    repo.checkout(c2)
    assert _annotations(dest) == second and exports == []
    assert repo.status().clean


def _datumaro(tmp_path: Path) -> tuple[Path, str, str]:
    from tests.formats.datumaro.dm_data import make_rich

    root = make_rich(tmp_path)
    (root / "dataset_meta.json").write_text('{"label_map": {"0": "cat"}}')  # (read only without labels)
    return root, "annotations/train.json", "datumaro"


def _cvat(tmp_path: Path) -> tuple[Path, str, str]:
    from tests.formats.cvat.cvat_data import make_images_task

    root = make_images_task(tmp_path)
    (root / "val.xml").write_text("<notes>not a CVAT file</notes>")  # (never read: an extra file)
    return root, "annotations.xml", "cvat"


def _nudge(path: Path) -> None:
    """Move one box by a pixel (Datumaro JSON re-spaced, or CVAT XML), as a user's script would."""
    if path.suffix == ".json":
        doc = json.loads(path.read_text())
        doc["items"][0]["annotations"][0]["bbox"][0] += 1
        path.write_text(json.dumps(doc))
    else:
        path.write_text(path.read_text(encoding="utf-8").replace('xtl="1.00"', 'xtl="2.00"', 1), encoding="utf-8")


@pytest.mark.parametrize("mb", [256, 0])
@pytest.mark.parametrize("make", [_datumaro, _cvat])
def test_other_formats_keep_their_files_and_their_other_files(tmp_path, exports, mb, make):
    original, edited, fmt = make(tmp_path / "data")
    (original / "README.md").write_text("how this was labelled")
    repo = Repo.create(tmp_path / "proj")
    set_file_cache(repo, mb)
    dest = repo.layout.source_dir("src")
    shutil.copytree(original, dest)
    repo.add(dest, format=fmt)
    c1 = repo.commit("one").id
    _nudge(dest / edited)
    assert len(repo.status().get("src").change.modified) == 1
    repo.commit("two")
    repo.checkout(c1)
    assert repo.status().clean
    assert (dest / "README.md").read_text() == "how this was labelled"
    assert tree_digest(dest).keys() == tree_digest(original).keys()  # (the same files, cache or not)
    others = {k: v for k, v in tree_digest(original).items() if k.endswith((".md", "meta.json", "val.xml"))}
    assert {k: tree_digest(dest)[k] for k in others} == others  # (other files: byte for byte)
    assert_same_content(import_dataset(original, fmt), load_source(repo, "src", fmt))
    if mb:  # the user's own bytes, placed: nothing exported
        assert tree_digest(dest) == tree_digest(original) and exports == []
    else:
        assert exports == ["src"]
    assert repo.fsck().ok
