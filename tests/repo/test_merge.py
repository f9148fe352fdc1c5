"""Three-way merge of revisions: disjoint changes, annotation-level merges, conflicts
and their resolution, fast-forward, and refusals."""

from __future__ import annotations

import json

import pytest

from dsrepo.errors import RepoError
from dsrepo.repo.refs import load_commit

VAL_ITEM = "000000000201"  # image id 6 in instances_val2017.json: annotations 23 and 24


def _relabel(repo, subset, ann_id, category_id):
    p = repo.layout.source_dir("coco") / "annotations" / f"instances_{subset}.json"
    doc = json.loads(p.read_text())
    hits = [a for a in doc["annotations"] if a["id"] == ann_id]
    assert len(hits) == 1
    hits[0]["category_id"] = category_id
    p.write_text(json.dumps(doc))


def _labels_of(ds, subset, item_id, ann_id):
    names = ds.categories.label_names()
    (item,) = [it for it in ds if it.subset == subset and it.id == item_id]
    return sorted({names[a.label] for a in item.annotations if a.id == ann_id})


@pytest.fixture
def forked(repo, coco_sample):
    """main and 'other' branched from one commit of the sample."""
    repo.add(coco_sample, name="coco", format="coco")
    base = repo.commit("init")
    repo.branch("other")
    return repo, base.id


def test_disjoint_changes_merge_and_commit_with_two_parents(forked, coco_edited):
    repo, base = forked
    repo.update("coco", coco_edited, format="coco")
    ours = repo.commit("review on main").id
    repo.checkout("other")
    _relabel(repo, "val2017", 23, 3)  # person -> car on the other branch
    theirs = repo.commit("val fix").id
    repo.checkout("main")
    r = repo.merge("other")
    assert r.status == "merged" and r.base == base and not r.conflicts
    assert [(s.name, s.action, s.taken) for s in r.sources] == [("coco", "merged", 1)]
    assert load_commit(repo.store, r.commit).parents == (ours, theirs)
    ds = repo.dataset("HEAD", "coco")
    assert _labels_of(ds, "val2017", VAL_ITEM, 23) == ["car"]
    assert len(ds) == 8
    assert repo.status().clean  # the working copy holds the merge result
    assert {e.id for e in repo.log()} >= {ours, theirs, base}


def test_same_item_different_annotations_merge_at_annotation_level(forked):
    repo, _ = forked
    _relabel(repo, "val2017", 23, 3)
    repo.commit("23 on main")
    repo.checkout("other")
    _relabel(repo, "val2017", 24, 1)
    repo.commit("24 on other")
    repo.checkout("main")
    r = repo.merge("other")
    assert r.status == "merged" and r.sources[0].merged == 1
    ds = repo.dataset("HEAD", "coco")
    assert _labels_of(ds, "val2017", VAL_ITEM, 23) == ["car"]
    assert _labels_of(ds, "val2017", VAL_ITEM, 24) == ["person"]


def test_conflict_is_listed_blocks_commit_and_resolves_to_theirs(forked):
    repo, _ = forked
    _relabel(repo, "val2017", 23, 3)
    ours = repo.commit("23 -> car").id
    repo.checkout("other")
    _relabel(repo, "val2017", 23, 18)
    theirs = repo.commit("23 -> dog").id
    repo.checkout("main")
    r = repo.merge("other")
    assert r.status == "conflicts" and [c.name() for c in r.conflicts] == [f"coco:val2017/{VAL_ITEM}"]
    assert "changed differently on both sides" in r.conflicts[0].reason
    st = repo.status()
    assert not st.clean and [c.key for c in st.merge.conflicts] == [f"val2017/{VAL_ITEM}"]
    with pytest.raises(RepoError, match="1 unresolved merge conflicts"):
        repo.commit("merge")
    with pytest.raises(RepoError, match="a merge is in progress"):
        repo.checkout("other")
    with pytest.raises(RepoError, match="no merge conflict named 'nope'"):
        repo.resolve_conflicts(["nope"], "theirs")
    assert _labels_of(repo.dataset(None, "coco"), "val2017", VAL_ITEM, 23) == ["car"]  # ours meanwhile
    res = repo.resolve_conflicts([f"val2017/{VAL_ITEM}"], "theirs")
    assert len(res.resolved) == 1 and res.remaining == 0
    c = repo.commit("merge other")
    assert load_commit(repo.store, c.id).parents == (ours, theirs)
    assert _labels_of(repo.dataset("HEAD", "coco"), "val2017", VAL_ITEM, 23) == ["dog"]
    assert repo.status().clean and repo.status().merge is None


def test_resolve_ours_keeps_the_working_copy(forked):
    repo, _ = forked
    _relabel(repo, "val2017", 23, 3)
    repo.commit("car")
    repo.checkout("other")
    _relabel(repo, "val2017", 23, 18)
    repo.commit("dog")
    repo.checkout("main")
    repo.merge("other")
    repo.resolve_conflicts([], "ours")
    repo.commit("keep ours")
    assert _labels_of(repo.dataset("HEAD", "coco"), "val2017", VAL_ITEM, 23) == ["car"]


def test_fast_forward_up_to_date_and_refusals(forked):
    repo, base = forked
    repo.checkout("other")
    _relabel(repo, "val2017", 23, 3)
    ahead = repo.commit("ahead").id
    repo.checkout("main")
    assert repo.merge("main").status == "up-to-date"
    r = repo.merge("other")
    assert r.status == "fast-forward" and repo.resolve("main") == ahead
    assert _labels_of(repo.dataset(None, "coco"), "val2017", VAL_ITEM, 23) == ["car"]
    assert repo.merge(base).status == "up-to-date"
    repo.branch("third", base)
    repo.checkout("third")
    _relabel(repo, "val2017", 24, 1)
    repo.commit("third")
    repo.checkout("main")
    _relabel(repo, "val2017", 27, 3)
    with pytest.raises(RepoError, match="local changes: commit them"):
        repo.merge("third")


def test_abort_restores_head(forked):
    repo, _ = forked
    _relabel(repo, "val2017", 23, 3)
    head = repo.commit("car").id
    repo.checkout("other")
    _relabel(repo, "val2017", 23, 18)
    repo.commit("dog")
    repo.checkout("main")
    repo.merge("other")
    repo.abort_merge()
    assert repo.status().clean and repo.resolve("HEAD") == head
    with pytest.raises(RepoError, match="no merge in progress"):
        repo.resolve_conflicts([], "theirs")


def test_pipeline_changes_merge(forked):
    repo, _ = forked
    repo.checkout("other")
    repo.transform("sort", "coco")
    repo.commit("stage on other")
    repo.checkout("main")
    _relabel(repo, "val2017", 23, 3)
    repo.commit("data on main")
    r = repo.merge("other")
    assert r.status == "merged"
    assert [s.name for s in repo.stages().stages] == ["sort"]
