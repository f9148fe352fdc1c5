"""End-to-end repository workflow on real COCO data (the bundled sample)."""

from __future__ import annotations

import json

import pytest

from dsrepo.errors import RepoError
from dsrepo.formats.api import import_dataset
from dsrepo.repo.repo import Repo

from .helpers import assert_same_content, load_source, tree_digest


def _setup(repo: Repo, coco_sample, coco_edited):
    repo.add(coco_sample, name="coco", format="coco")
    c1 = repo.commit("initial import")
    repo.update("coco", coco_edited, format="coco")
    c2 = repo.commit("fix labels from review")
    return c1, c2


def test_add_builds_working_copy_in_coco_layout(repo, coco_sample):
    r = repo.add(coco_sample, name="coco", format="coco")
    assert (r.name, r.format, r.items, r.files) == ("coco", "coco", 8, 8)
    wc = repo.layout.source_dir("coco")
    digest = tree_digest(wc)
    src = tree_digest(coco_sample)
    # images are byte-identical at the same relative paths
    assert {k: v for k, v in digest.items() if k.endswith(".jpg")} == \
        {k: v for k, v in src.items() if k.endswith(".jpg")}
    assert sorted(k for k in digest if k.endswith(".json")) == sorted(k for k in src if k.endswith(".json"))
    # the working copy loads to exactly what was imported
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))


def test_status_after_add_and_commit(repo, coco_sample):
    repo.add(coco_sample, name="coco", format="coco")
    st = repo.status()
    assert [(s.name, s.state, s.change.counts()) for s in st.sources] == [
        ("coco", "added", {"added": 8, "removed": 0, "modified": 0})]
    res = repo.commit("initial import")
    assert res.summary == {"coco": {"state": "added", "added": 8, "removed": 0, "modified": 0}}
    assert res.branch == "main" and res.parent is None and len(res.id) == 40
    st = repo.status()
    assert st.clean and st.head == res.id and st.branch == "main"


def test_update_commit_log_info(repo, coco_sample, coco_edited):
    c1, c2 = _setup(repo, coco_sample, coco_edited)
    log = repo.log()
    assert [e.id for e in log] == [c2.id, c1.id]
    assert log[0].commit.message == "fix labels from review"
    assert log[0].refs == ("HEAD -> main",)
    assert log[0].commit.parents == (c1.id,)
    # the sample's review edits touch train2017 items only
    s = log[0].commit.summary["coco"]
    assert s["state"] == "modified" and s["added"] == 0 and s["removed"] == 0 and s["modified"] > 0
    info = repo.info("HEAD~1")
    assert info.entry.id == c1.id
    (src,) = info.sources
    assert (src.name, src.format, src.items, src.subsets) == ("coco", "coco", 8, {"train2017": 5, "val2017": 3})
    assert_same_content(import_dataset(coco_edited, "coco"), repo.dataset("HEAD", "coco"))
    assert_same_content(import_dataset(coco_sample, "coco"), repo.dataset("HEAD~1"))


def test_checkout_previous_and_back(repo, coco_sample, coco_edited):
    c1, c2 = _setup(repo, coco_sample, coco_edited)
    wc = repo.layout.source_dir("coco")
    after = tree_digest(wc)
    r = repo.checkout("HEAD~1")
    assert r.commit == c1.id and r.branch is None
    # media byte-identical, annotations load to exactly the committed content
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))
    assert {k: v for k, v in tree_digest(wc).items() if k.endswith(".jpg")} == \
        {k: v for k, v in tree_digest(coco_sample).items() if k.endswith(".jpg")}
    st = repo.status()
    assert st.clean and st.branch is None and st.head == c1.id
    r = repo.checkout("main")
    assert r.branch == "main" and r.commit == c2.id
    # images byte-identical; annotation files rebuilt by the exporter load to the same content
    assert {k: v for k, v in tree_digest(wc).items() if k.endswith(".jpg")} == \
        {k: v for k, v in after.items() if k.endswith(".jpg")}
    assert sorted(tree_digest(wc)) == sorted(after)
    assert_same_content(import_dataset(coco_edited, "coco"), load_source(repo, "coco"))
    assert repo.status().clean


def test_checkout_touches_only_differing_files(repo, coco_sample, coco_edited):
    _setup(repo, coco_sample, coco_edited)
    wc = repo.layout.source_dir("coco")
    before = {p.relative_to(wc).as_posix(): p.stat().st_ino for p in wc.rglob("*") if p.is_file()}
    r = repo.checkout("HEAD~1")
    after = {p.relative_to(wc).as_posix(): p.stat().st_ino for p in wc.rglob("*") if p.is_file()}
    changed = sorted(k for k in before if before[k] != after.get(k))
    # only annotation files whose content differs are rewritten; no image is touched
    assert changed and all(k.startswith("annotations/") for k in changed)
    assert r.written["coco"][0] == len(changed)
    assert all(not k.endswith(".jpg") for k in changed)


def test_checkout_same_revision_writes_nothing(repo, coco_sample):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    r = repo.checkout("main")
    assert r.written == {"coco": (0, 0)}


def test_branch_tag_and_revision_names(repo, coco_sample, coco_edited):
    c1, c2 = _setup(repo, coco_sample, coco_edited)
    repo.branch("relabel", "HEAD~1")
    repo.tag("v1.0")
    assert repo.resolve("relabel") == c1.id
    assert repo.resolve("v1.0") == c2.id
    assert repo.resolve("v1.0^") == c1.id
    assert repo.resolve(c1.id[:8]) == c1.id
    r = repo.checkout("relabel")
    assert r.branch == "relabel"
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))
    # a commit on the branch moves the branch, not main
    ann = repo.layout.source_dir("coco") / "annotations" / "captions_val2017.json"
    doc = json.loads(ann.read_text())
    doc["annotations"][0]["caption"] = "a relabelled caption"
    ann.write_text(json.dumps(doc))
    c3 = repo.commit("new caption")
    assert repo.resolve("relabel") == c3.id and repo.resolve("main") == c2.id
    assert [b.name for b in repo.branch() if b.current] == ["relabel"]
    assert [t.name for t in repo.tag()] == ["v1.0"]


def test_partial_checkout_one_source(repo, coco_sample, coco_edited):
    c1, c2 = _setup(repo, coco_sample, coco_edited)
    repo.add(coco_sample, name="other", format="coco")
    repo.commit("second source")
    other_before = tree_digest(repo.layout.source_dir("other"))
    r = repo.checkout("HEAD~2", ["coco"])
    assert r.partial and list(r.written) == ["coco"]
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))
    assert tree_digest(repo.layout.source_dir("other")) == other_before
    st = repo.status()
    assert st.branch == "main" and st.get("coco").state == "modified" and st.get("other").state == "clean"
    with pytest.raises(RepoError, match="revision 'HEAD~2' has no source 'other'"):
        repo.checkout("HEAD~2", ["other"])


def test_checkout_removes_and_restores_sources(repo, coco_sample):
    repo.add(coco_sample, name="a", format="coco")
    c1 = repo.commit("a")
    repo.add(coco_sample, name="b", format="coco")
    repo.commit("b")
    r = repo.checkout(c1.id)
    assert r.removed == ("b",)
    assert not repo.layout.source_dir("b").exists()
    repo.checkout("main")
    assert repo.layout.source_dir("b").is_dir() and repo.status().clean


def test_added_uncommitted_source_is_carried_over(repo, coco_sample):
    repo.add(coco_sample, name="a", format="coco")
    repo.commit("a")
    repo.add(coco_sample, name="b", format="coco")
    repo.checkout("main")
    st = repo.status()
    assert st.get("b").state == "added" and st.get("a").state == "clean"


def test_remove_source_and_commit(repo, coco_sample):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    deleted, left = repo.remove("coco")
    assert deleted == 14 and left == ()
    assert not repo.layout.source_dir("coco").exists()
    st = repo.status()
    assert st.get("coco").state == "removed" and st.get("coco").change.counts()["removed"] == 8
    c = repo.commit("drop coco")
    assert c.summary == {"coco": {"state": "removed", "added": 0, "removed": 8, "modified": 0}}
    repo.checkout("HEAD~1")
    assert repo.status().clean and load_source(repo, "coco") is not None


def test_remove_keep_data(repo, coco_sample):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    repo.remove("coco", keep_data=True)
    assert (repo.layout.source_dir("coco") / "annotations").is_dir()
    assert repo.status().get("coco").state == "removed"


def test_edit_in_place_status_and_commit(repo, coco_sample):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    ann = repo.layout.source_dir("coco") / "annotations" / "instances_train2017.json"
    doc = json.loads(ann.read_text())
    img_id = doc["annotations"][0]["image_id"]
    doc["annotations"][0]["bbox"][0] += 1.5
    ann.write_text(json.dumps(doc))
    st = repo.status()
    (s,) = st.sources
    assert s.state == "modified"
    name = next(i["file_name"] for i in doc["images"] if i["id"] == img_id)
    assert s.change.modified == (("train2017", name.rsplit(".", 1)[0]),)
    assert s.change.added == () and s.change.removed == ()
    c = repo.commit("move a box")
    assert c.summary["coco"]["modified"] == 1


def test_python_api_dataset_reads_store(repo, coco_sample):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    ds = repo.dataset()
    assert len(ds) == 8
    for it in ds:
        assert it.media.path.startswith(str(repo.layout.media))
    with pytest.raises(RepoError, match="revision 'HEAD' has no source 'nope' \\(sources: coco\\)"):
        repo.dataset("HEAD", "nope")


def test_add_single_annotation_file(repo, coco_sample):
    """A single file is written in the format's own layout (it may sit in a folder with
    unrelated files, which must not be copied)."""
    (coco_sample / "unrelated.bin").write_bytes(b"x" * 100)
    r = repo.add(coco_sample / "annotations" / "instances_val2017.json", name="val", format="coco")
    assert r.items == 3 and r.files == 3
    wc = repo.layout.source_dir("val")
    assert not (wc / "unrelated.bin").exists()
    assert sorted(p.relative_to(wc).as_posix() for p in wc.rglob("*.json")) == ["annotations/instances_val2017.json"]
    assert_same_content(import_dataset(coco_sample / "annotations" / "instances_val2017.json", "coco"),
                        load_source(repo, "val"))
    repo.commit("val only")
    assert repo.status().clean
