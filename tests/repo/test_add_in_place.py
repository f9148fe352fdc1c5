"""`add` of a dataset folder that already is the source's folder in the project: tracked in place."""

from __future__ import annotations

import os
import shutil

import pytest

from dsrepo.errors import RepoError
from dsrepo.formats.api import import_dataset
from dsrepo.repo.access import file_entries, load_record

from .helpers import assert_same_content, load_source, tree_digest


def _stats(root):
    return {str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def inside(repo, coco_sample):
    """The COCO sample copied into the project as <project>/coco."""
    dest = repo.root / "coco"
    shutil.copytree(coco_sample, dest)
    return dest


def test_folder_in_project_is_tracked_where_it_is(repo, coco_sample, inside):
    before = _stats(inside)
    r = repo.add(inside, format="coco")
    assert (r.name, r.items, r.files, r.wrote, r.in_place) == ("coco", 8, 8, 0, True)
    assert _stats(inside) == before  # not copied, not rewritten: same inodes and times
    st = repo.status()
    assert [(s.name, s.state, s.change.counts()) for s in st.sources] == [
        ("coco", "added", {"added": 8, "removed": 0, "modified": 0})]
    repo.commit("track in place")
    assert repo.status().clean
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))
    # the store holds every image: the folder can go and come back
    images = {k: v for k, v in tree_digest(inside).items() if k.endswith(".jpg")}
    shutil.rmtree(inside)
    repo.checkout("main", force=True)
    assert {k: v for k, v in tree_digest(inside).items() if k.endswith(".jpg")} == images
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))


def test_edit_after_in_place_add_is_seen(repo, inside):
    repo.add(inside, format="coco")
    c1 = repo.commit("track")
    ann = inside / "annotations" / "captions_train2017.json"
    ann.write_text(ann.read_text().replace('"caption": "', '"caption": "edited: ', 1))
    st = repo.status()
    assert [(s.state, s.change.counts()) for s in st.sources] == [
        ("modified", {"added": 0, "removed": 0, "modified": 1})]
    repo.commit("edit one caption")
    repo.checkout(c1.id)
    assert "edited: " not in ann.read_text()


def test_annotations_folder_given_tracks_the_dataset_folder(repo, inside):
    r = repo.add(inside / "annotations", format="coco")
    assert (r.name, r.items, r.in_place) == ("coco", 8, True)


def test_in_place_folder_that_would_need_rewriting(repo, inside):
    before = tree_digest(repo.root)
    with pytest.raises(RepoError, match=rf"^{inside}: cannot be tracked in place as a coco dataset with these "
                                        r"options \(it would have to be rewritten\); add it from a folder outside "
                                        r"the project$"):
        repo.add(inside / "annotations" / "instances_train2017.json", name="coco", format="coco")
    assert tree_digest(repo.root) == before
    assert repo.status().sources == ()


def test_folder_changing_during_in_place_add(repo, inside, monkeypatch):
    import dsrepo.repo.add as add_mod

    real = add_mod.stage_dataset
    ann = inside / "annotations" / "captions_val2017.json"

    def stage_then_edit(*a, **kw):
        staged = real(*a, **kw)
        with open(ann, "a", encoding="utf-8") as f:
            f.write("\n")
        return staged

    monkeypatch.setattr(add_mod, "stage_dataset", stage_then_edit)
    with pytest.raises(RepoError, match=rf"^{ann}: changed while the folder was being added; "
                                        r"nothing was added, retry$"):
        repo.add(inside, format="coco")
    assert repo.status().sources == ()
    monkeypatch.undo()
    assert repo.add(inside, format="coco").in_place


def test_symlinked_source_folder_is_not_tracked_in_place(repo, coco_sample):
    os.symlink(coco_sample, repo.root / "coco")
    with pytest.raises(RepoError, match=rf"^{repo.root / 'coco'} already exists; choose another source name"):
        repo.add(repo.root / "coco", format="coco")
    assert repo.status().sources == ()


def test_own_annotation_files_of_a_folder_tracked_in_place_are_set_aside_not_deleted(repo, inside, coco_edited):
    repo.add(inside, format="coco")
    repo.commit("track")
    captions = (inside / "annotations" / "captions_val2017.json").read_bytes()
    # a new content without the captions file: the user's own file (dsrepo never wrote it)
    # is moved aside, not deleted
    (coco_edited / "annotations" / "captions_val2017.json").unlink()
    repo.update("coco", coco_edited, format="coco")
    assert not (inside / "annotations" / "captions_val2017.json").exists()
    aside = sorted((repo.layout.set_aside / "coco").iterdir())
    assert len(aside) == 1 and (aside[0] / "annotations" / "captions_val2017.json").read_bytes() == captions
    assert repo.status().sources[0].state == "modified"  # (the update, nothing else)
    repo.commit("update")
    assert repo.status().clean


def test_other_files_of_a_folder_tracked_in_place_are_versioned(repo, inside, coco_edited):
    (inside / "README.md").write_text("how this data was made")
    (inside / "train2017" / "unused.jpg").write_bytes(b"an image no item uses")
    repo.add(inside, format="coco")
    repo.commit("track")
    assert repo.status().clean
    files = {f[0]: f[3] for f in file_entries(repo, load_record(repo, repo.status().sources[0].record))}
    assert files["README.md"] == "x" and files["train2017/unused.jpg"] == "x"
    repo.update("coco", coco_edited, format="coco")  # (a new content without them)
    assert not (inside / "README.md").exists() and not (inside / "train2017" / "unused.jpg").exists()
    repo.commit("update")
    repo.checkout("HEAD~1")
    assert (inside / "README.md").read_text() == "how this data was made"
    assert (inside / "train2017" / "unused.jpg").read_bytes() == b"an image no item uses"
    assert repo.status().clean and repo.fsck().ok


def test_remove_keeps_the_users_own_files(repo, inside):
    (inside / "README.md").write_text("notes")
    repo.add(inside, format="coco")
    repo.commit("track")
    deleted, left = repo.remove("coco")
    assert deleted == 9  # the images and README (stored); annotation files were never written by dsrepo
    assert "annotations/instances_train2017.json" in left and "README.md" not in left


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_annotation_md5s_hashed_during_the_import_are_recorded(repo, inside, monkeypatch, jobs):
    import hashlib

    from dsrepo.repo.worktree import load_state

    monkeypatch.setenv("DSREPO_JOBS", jobs)  # (hashed by a forked child, or here when forking is off)
    repo.add(inside, format="coco")
    files = load_state(repo.layout, "coco").files
    for p in sorted(inside.rglob("*")):
        if p.is_file():
            assert files[str(p.relative_to(inside))][3] == hashlib.md5(p.read_bytes()).hexdigest()


def test_failed_in_place_import_leaves_no_child_no_temp_file_and_no_source(repo, inside):
    (inside / "annotations" / "instances_train2017.json").write_text('{"images": [')
    with pytest.raises(Exception, match="instances_train2017.json"):
        repo.add(inside, format="coco")
    assert list(repo.media.iter_md5s()) == []  # (the images stored while it parsed went again)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # (no child left behind, running or not reaped)
    assert not list(repo.layout.tmp.glob("forked-*"))
    assert [s.name for s in repo.status().sources] == [] and not (repo.layout.dot / "state" / "sources" / "coco.json").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("versioned", [True, False])
def test_the_store_keeps_the_images_items_use_and_the_files_the_source_versions(repo, inside, monkeypatch, jobs,
                                                                                versioned):
    import hashlib

    monkeypatch.setenv("DSREPO_JOBS", jobs)
    if not versioned:  # (a format that cannot name its annotation files keeps no other files)
        monkeypatch.setattr("dsrepo.repo.add.other_files", lambda *a, **k: {})
    images = sorted(p for p in inside.rglob("*.jpg"))
    stray = inside / "stray.jpg"
    stray.write_bytes(b"not an image of the dataset")
    shared = inside / "copy_of_first.png"  # (an unused file with the content of a used image)
    shared.write_bytes(images[0].read_bytes())
    repo.add(inside, format="coco")
    stored = set(repo.media.iter_md5s())
    used = {hashlib.md5(p.read_bytes()).hexdigest() for p in images}
    assert stored == (used | {hashlib.md5(stray.read_bytes()).hexdigest()} if versioned else used)
    repo.commit("track")
    assert repo.fsck().ok
