"""``Repo.diff`` and ``Repo.compare``: item-level diffs of revisions, the working tree and
dataset folders; exact and distance comparisons."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from dsrepo.errors import RepoError, UsageError
from dsrepo.model import Bbox, Categories, Dataset, Item
from dsrepo.repo.compare import compare
from dsrepo.repo.diff import diff

TRAIN = "train2017"


@pytest.fixture
def two_commits(repo, coco_sample, coco_edited):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("one")
    repo.update("coco", coco_edited, format="coco")
    repo.commit("two")
    return repo


def _item(src, key):
    return next(it for it in src.items if (it.subset, it.id) == key)


def _tiny(folder: Path, labels, items) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "items.json").write_text(json.dumps({"labels": labels, "items": items}))
    return folder


def test_sample_revisions_item_and_annotation_changes(two_commits):
    d = two_commits.diff("HEAD~1", "HEAD")
    assert d.a_commit == two_commits.resolve("HEAD~1") and d.b_commit == two_commits.resolve("HEAD")
    (src,) = d.sources
    assert (src.name, src.state, src.decoded) == ("coco", "modified", True)
    assert [s.to_json() for s in src.subsets] == [
        {"subset": TRAIN, "added": 0, "removed": 0, "modified": 2, "unchanged": 3},
        {"subset": "val2017", "added": 0, "removed": 0, "modified": 0, "unchanged": 3}]
    assert [(it.subset, it.id, it.state) for it in src.items] == [(TRAIN, f"00000000010{i}", "modified")
                                                                  for i in range(1, 3)]
    assert src.categories.to_json() == {"added": [], "removed": [], "renamed": [], "changed": False}
    assert (src.format, src.options_changed, src.subset_meta_changed, src.reordered) == (None, False, False, False)
    first = _item(src, (TRAIN, "000000000101"))
    real = [(a.kind, a.type, a.id, a.old_label, a.label, a.fields) for a in first.annotations if a.fields != ("meta",)]
    assert real == [("changed", "polygon", 1, "car", "dog", ("label",)),
                    ("changed", "polygon", 3, "dog", "car", ("label",)),
                    ("removed", "polygon", 2, None, "dog", ())]
    removed = first.annotations[-1]
    assert removed.before["points"] == [2.0, 21.0, 33.0, 21.0, 30.0, 33.0, 4.0, 31.0] and removed.after is None
    moved = [a for a in _item(src, (TRAIN, "000000000102")).annotations if "geometry" in a.fields]
    assert [(a.id, a.label, a.old_label, a.fields, a.iou) for a in moved] == [
        (7, "car", "car", ("geometry", "meta"), 0.6923)]
    assert moved[0].before["points"][0] == 13.0 and moved[0].after["points"][0] == 15.0
    # the file lists annotations by id: deleting one does not touch the items after it
    assert src.annotation_counts() == {"added": 0, "removed": 1, "changed": 3}
    assert d.pipeline is not None and d.pipeline.empty and not d.empty


def test_stat_decodes_nothing_and_json_is_plain(two_commits):
    d = two_commits.diff("HEAD~1", "HEAD", annotations=False)
    (src,) = d.sources
    assert not src.decoded and [it.annotations for it in src.items] == [()] * 2
    assert src.counts() == {"added": 0, "removed": 0, "modified": 2, "unchanged": 6}
    j = json.loads(json.dumps(two_commits.diff("HEAD~1", "HEAD").to_json()))
    assert set(j) == {"a", "b", "a_commit", "b_commit", "iou", "empty", "sources", "pipeline"}
    s = j["sources"][0]
    assert s["annotations"] == {"added": 0, "removed": 1, "changed": 3}
    ann = s["items"][0]["annotations"][0]
    assert ann["before"]["label"] == "car" and ann["after"]["label"] == "dog" and ann["fields"] == ["label"]


def test_same_revision_and_unchanged_sources(two_commits):
    d = two_commits.diff("HEAD", "HEAD")
    assert d.empty and d.sources[0].state == "unchanged" and d.sources[0].items == ()
    assert d.sources[0].counts() == {"added": 0, "removed": 0, "modified": 0, "unchanged": 8}


def test_working_tree_against_head(repo, coco_sample, coco_edited):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("one")
    assert repo.diff().empty
    repo.update("coco", coco_edited, format="coco")
    d = repo.diff()
    assert (d.a, d.b, d.b_commit) == (f"HEAD ({repo.resolve('HEAD')[:12]})", "working tree", None)
    assert d.sources[0].counts() == {"added": 0, "removed": 0, "modified": 2, "unchanged": 6}
    assert repo.diff("HEAD", None).sources[0].annotation_counts() == {"added": 0, "removed": 1, "changed": 3}


def test_sources_added_and_removed(repo, coco_sample, tmp_path, tiny_format):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("one")
    tiny = _tiny(tmp_path / "t", ["a"], [{"id": "x", "subset": "s", "boxes": [[0, 0, 0, 2, 2]]}])
    repo.add(tiny, name="tiny", format=tiny_format)
    d = repo.diff()
    assert [(s.name, s.state) for s in d.sources] == [("coco", "unchanged"), ("tiny", "added")]
    assert [s.to_json() for s in d.sources[1].subsets] == [
        {"subset": "s", "added": 1, "removed": 0, "modified": 0, "unchanged": 0}]
    repo.commit("two")
    repo.remove("coco")
    d = repo.diff()
    assert [(s.name, s.state, s.counts()["removed"]) for s in d.sources] == [("coco", "removed", 8),
                                                                             ("tiny", "unchanged", 0)]


def test_category_rename_add_remove_and_labels_by_name(repo):
    a = Dataset.from_items([Item("x", "train", None, (
        Bbox(x=0, y=0, w=10, h=10, label=0, id=1, attributes={"occluded": False}),
        Bbox(x=20, y=0, w=10, h=10, label=1, id=2),
        Bbox(x=40, y=0, w=10, h=10, label=2, id=3)), attributes={"w": 1})],
        Categories.from_names(["cat", "dog", "bird", "fish"]))
    repo.add(a, name="d", format="datumaro")
    repo.commit("one")
    # dog renamed to hound (same index), fish removed, emu added, bird moved to index 0
    b = Dataset.from_items([Item("x", "train", None, (
        Bbox(x=0, y=0, w=10, h=10, label=2, id=1, attributes={"occluded": True}),   # cat -> hound
        Bbox(x=20, y=0, w=10, h=10, label=2, id=2),                                # hound (renamed dog)
        Bbox(x=40, y=0, w=10, h=10, label=0, id=5)), attributes={"w": 2})],         # bird, new id
        Categories.from_names(["bird", "cat", "hound", "emu"]))
    repo.update("d", b)
    (src,) = repo.diff().sources
    # same index, old name gone, new name new: fish -> emu is a rename; dog and hound are not at one index
    assert src.categories.to_json() == {"added": ["hound"], "removed": ["dog"],
                                        "renamed": [{"index": 3, "old": "fish", "new": "emu"}], "changed": True}
    (item,) = src.items
    assert item.attributes == {"w": (1, 2)}
    got = [(a.kind, a.id, a.old_label, a.label, a.fields, dict(a.attributes)) for a in item.annotations]
    assert got == [("changed", 1, "cat", "hound", ("label", "attributes"), {"occluded": (False, True)}),
                   ("changed", 2, "dog", "hound", ("label",), {}),
                   ("removed", 3, None, "bird", (), {}), ("added", 5, None, "bird", (), {})]


def test_category_rename_keeps_index(repo):
    a = Dataset.from_items([Item("x", "train", None, (Bbox(x=0, y=0, w=10, h=10, label=1),))],
                           Categories.from_names(["cat", "dog"]))
    repo.add(a, name="d", format="datumaro")
    repo.commit("one")
    b = Dataset.from_items([Item("x", "train", None, (Bbox(x=0, y=0, w=12, h=10, label=1, id=4),))],
                           Categories.from_names(["cat", "hound"]))
    repo.update("d", b)
    (src,) = repo.diff().sources
    assert src.categories.to_json() == {"added": [], "removed": [], "renamed": [{"index": 1, "old": "dog",
                                                                              "new": "hound"}], "changed": True}
    (ann,) = src.items[0].annotations
    assert (ann.kind, ann.old_label, ann.label, ann.fields, ann.iou) == ("changed", "dog", "hound",
                                                                       ("geometry", "id"), round(100 / 120, 4))
    assert (ann.before.get("id"), ann.after["id"]) == (None, 4)


def test_parts_sharing_an_id_pair_in_order(repo):
    # COCO polygon parts share their object's id: the k-th part pairs with the k-th part,
    # even when a geometry search would not pair them (the second part moved away: IoU 0)
    def ds(x2):
        return Dataset.from_items([Item("x", "train", None, (
            Bbox(x=0, y=0, w=10, h=10, label=0, id=7), Bbox(x=x2, y=0, w=10, h=10, label=0, id=7),
            Bbox(x=50, y=50, w=4, h=4, label=0, id=8)))], Categories.from_names(["cat"]))

    repo.add(ds(100), name="d", format="datumaro")
    repo.commit("one")
    repo.update("d", ds(200))
    (ann,) = repo.diff().sources[0].items[0].annotations
    assert (ann.kind, ann.id, ann.fields, ann.iou) == ("changed", 7, ("geometry",), 0.0)
    assert (ann.before["id"], ann.before["bbox"], ann.after["bbox"]) == (7, [100.0, 0.0, 10.0, 10.0],
                                                                         [200.0, 0.0, 10.0, 10.0])


def test_media_changes(repo, tmp_path, tiny_format):
    src = _tiny(tmp_path / "t", ["a"], [{"id": "x", "image": "x.png"}, {"id": "y", "image": "y.png"}])
    (src / "x.png").write_bytes(b"one")
    (src / "y.png").write_bytes(b"two")
    repo.add(src, name="t", format=tiny_format)
    repo.commit("one")
    wc = repo.layout.source_dir("t")
    (wc / "x.png").write_bytes(b"changed")
    (wc / "y.png").rename(wc / "z.png")
    (wc / "items.json").write_text(json.dumps({"labels": ["a"], "items": [{"id": "x", "image": "x.png"},
                                                                          {"id": "y", "image": "z.png"}]}))
    (s,) = repo.diff().sources
    x, y = s.items
    assert dict(x.media) == {"md5": (hashlib.md5(b"one").hexdigest(), hashlib.md5(b"changed").hexdigest())}
    assert dict(y.media) == {"name": ("y.png", "z.png")}
    assert s.files_changed == 3


def test_stages_added_and_removed(two_commits):
    repo = two_commits
    repo.filter("/item[subset='val2017']")
    d = repo.diff()
    assert [x.id for x in d.pipeline.added] == [repo.stages().stages[0].id]
    assert d.pipeline.removed == () and not d.empty and all(s.state == "unchanged" for s in d.sources)
    repo.commit("filter")
    d = repo.diff("HEAD", "HEAD~1")
    assert [x.to_dict()["params"]["expr"] for x in d.pipeline.removed] == ["/item[subset='val2017']"]
    assert d.pipeline.added == ()


def test_dataset_paths_with_format(tmp_path, coco_sample, coco_edited):
    outside = tmp_path / "no-project"
    outside.mkdir()
    d = diff(outside, str(coco_sample), str(coco_edited), "coco")  # no project needed
    (src,) = d.sources
    assert (src.name, d.a, d.pipeline) == ("coco_src -> coco_edited_src", f"{coco_sample} (coco)", None)
    assert src.counts() == {"added": 0, "removed": 0, "modified": 2, "unchanged": 6}
    assert src.annotation_counts() == {"added": 0, "removed": 1, "changed": 3}


def test_path_against_revision(two_commits, coco_sample, coco_edited):
    d = two_commits.diff(str(coco_sample), "HEAD~1", "coco")
    assert d.empty and d.sources[0].name == "coco_src -> coco"
    d = two_commits.diff("HEAD~1:coco", str(coco_edited), format_b="coco")
    assert d.sources[0].counts()["modified"] == 2


def test_bad_revisions_and_pairings(two_commits, coco_sample, tmp_path, tiny_format):
    repo = two_commits
    with pytest.raises(RepoError, match=r"^unknown revision 'nope' \(not a branch, tag or commit id\)$"):
        repo.diff("nope")
    with pytest.raises(RepoError, match=r"^'nope' is neither an existing dataset path nor a revision$"):
        repo.diff("nope", format_a="coco")
    with pytest.raises(RepoError, match=r"^revision 'HEAD' has no source 'x' \(sources: coco\)$"):
        repo.diff("HEAD:x", "HEAD")
    with pytest.raises(UsageError, match=r"^--iou must be between 0 and 1, got 1.5$"):
        repo.diff(iou=1.5)
    repo.add(_tiny(tmp_path / "t", [], []), name="tiny", format=tiny_format)
    repo.commit("two sources")
    with pytest.raises(UsageError, match=r"^HEAD \([0-9a-f]{12}\) has 2 sources \(coco, tiny\); name one as "
                                         r"REV:SOURCE$"):
        repo.diff(str(coco_sample), "HEAD", "coco")
    assert repo.diff(str(coco_sample), "HEAD~1:coco", "coco").sources[0].counts()["modified"] == 2


def test_working_copy_that_does_not_import(two_commits):
    shutil.rmtree(two_commits.layout.source_dir("coco"))
    with pytest.raises(RepoError, match=r"^working copy of source 'coco' is missing or does not import; fix it "
                                        r"or compare committed revisions$"):
        two_commits.diff()


# -- compare --------------------------------------------------------------------------------


@pytest.fixture
def pair(tmp_path):
    a = _tiny(tmp_path / "a", ["cat", "dog", "bird"], [
        {"id": "1", "boxes": [[0, 0, 0, 10, 10], [1, 20, 20, 10, 10], [2, 50, 50, 5, 5]]},
        {"id": "2", "attrs": {"weather": "sunny"}},
        {"id": "3"}])
    b = _tiny(tmp_path / "b", ["dog", "cat", "fox"], [
        {"id": "1", "boxes": [[1, 0, 0, 10, 10], [1, 21, 20, 10, 10], [0, 80, 80, 5, 5]]},
        {"id": "2", "attrs": {"weather": "rain"}},
        {"id": "4"}])
    return a, b


def test_compare_distance_confusion(pair, tmp_path, tiny_format):
    c = compare(tmp_path, str(pair[0]), str(pair[1]), tiny_format, mode="distance")
    r = c.report
    assert (c.mode, c.source, r["items_compared"], r["matched"], r["label_agreement"]) == (
        "distance", "a -> b", 2, 2, 0.5)
    assert r["confusion"] == [{"a": "cat", "b": "cat", "count": 1}, {"a": "dog", "b": "cat", "count": 1}]
    assert r["mispredictions"] == [{"subset": "default", "id": "1", "a_label": "dog", "b_label": "cat",
                                    "iou": round(90 / 110, 4)}]
    assert (r["unmatched_a"], r["unmatched_b"]) == ({"bird": 1}, {"dog": 1})


def test_compare_exact_with_ignored_attrs_and_report_file(pair, tmp_path, tiny_format):
    out = tmp_path / "reports" / "r.json"
    c = compare(tmp_path, str(pair[0]), str(pair[1]), tiny_format, out=out)
    r = c.report
    assert r["equal"] is False and r["items_equal"] == 0
    assert r["categories"] == {"equal": False, "only_a": ["bird"], "only_b": ["fox"]}
    assert (r["only_a"], r["only_b"]) == ([["default", "3"]], [["default", "4"]])
    assert [(m["id"], m["attributes"]) for m in r["mismatches"]] == [("1", []), ("2", ["weather"])]
    assert json.loads(out.read_text()) == json.loads(json.dumps(c.to_json()))
    r = compare(tmp_path, str(pair[0]), str(pair[1]), tiny_format, ignored_item_attrs=["weather"]).report
    assert r["items_equal"] == 1 and [m["id"] for m in r["mismatches"]] == ["1"]


def test_compare_revisions_and_errors(two_commits, coco_sample):
    r = two_commits.compare("HEAD~1", "HEAD", mode="distance").report
    assert r["mispredictions"] == [
        {"subset": TRAIN, "id": "000000000101", "a_label": "car", "b_label": "dog", "iou": 1.0},
        {"subset": TRAIN, "id": "000000000101", "a_label": "dog", "b_label": "car", "iou": 1.0}]
    assert r["unmatched_a"] == {"dog": 1} and r["unmatched_b"] == {}
    assert two_commits.compare(str(coco_sample), "HEAD~1:coco", "coco").report["equal"] is True
    with pytest.raises(UsageError, match=r"^--mode must be one of exact, distance, got 'fuzzy'$"):
        two_commits.compare("HEAD", "HEAD", mode="fuzzy")


def test_deleted_polygon_part_and_lazy_iou(repo):
    # parts 1..3 of object 7; the middle one is deleted and the third moved: geometry finds which
    from dsrepo.model import Polygon

    def part(x):
        return Polygon(points=[x, 0, x + 10, 0, x + 10, 10, x, 10], label=0, id=7)

    repo.add(Dataset.from_items([Item("x", "train", None, (part(0), part(20), part(40)))],
                                Categories.from_names(["cat"])), name="d", format="datumaro")
    repo.commit("one")
    repo.update("d", Dataset.from_items([Item("x", "train", None, (part(0).with_(label=1), part(42).with_(label=1)))],
                                        Categories.from_names(["dog", "cat"])))  # cat is label 1 now
    changed, removed = repo.diff().sources[0].items[0].annotations
    assert (changed.kind, changed.label, changed.old_label, changed.fields) == ("changed", "cat", "cat", ("geometry",))
    assert changed.similarity[0].get(changed.similarity[1]) == pytest.approx(80 / 120, abs=0.05)  # not computed yet
    assert changed.iou == round(changed.similarity[0].get(changed.similarity[1]), 4)
    assert (changed.old, changed.new) == (part(40), part(42))  # labels in the old side's index space
    assert (removed.kind, removed.id, removed.before["points"][0], removed.new) == ("removed", 7, 20.0, None)


def test_stored_dict_diff_equals_model_diff_items(two_commits):
    # repo.diff compares stored dicts; the model compares Annotation objects: same outcome
    from dsrepo.model.diff import diff_items
    from dsrepo.model.encoding import decode_item

    (src,) = two_commits.diff("HEAD~1", "HEAD").sources
    from dsrepo.progress import NULL_PROGRESS
    from dsrepo.repo.listdiff import compare_lists as _compare_lists
    from dsrepo.repo.sides import opener, resolve_side

    store = two_commits.store
    sides = [resolve_side(opener(two_commits), r, None, NULL_PROGRESS).sources["coco"] for r in ("HEAD~1", "HEAD")]
    _change, _subsets, modified = _compare_lists(two_commits, *sides)
    for it in src.items:
        ha, hb = modified[(it.subset, it.id)]
        d = diff_items(decode_item(store.read_packed(ha)), decode_item(store.read_packed(hb)))
        want = [("changed", c.after.id, c.fields, round(c.iou, 4)) for c in d.changed]
        want += [("removed", x.id, (), None) for x in d.removed] + [("added", x.id, (), None) for x in d.added]
        assert [(x.kind, x.id, x.fields, x.iou) for x in it.annotations] == want
        assert [x.old for x in it.annotations if x.kind == "changed"] == [c.before for c in d.changed]


def test_item_lists_compared_by_chunk_with_and_without_tallies(tmp_path):
    """Chunks in both lists are not read when B's list has a per-subset tally; lists
    written before tallies existed give the same counts, and the same entries stored with
    and without a tally are not 'reordered'."""
    from types import SimpleNamespace

    from dsrepo.repo.listdiff import compare_lists as _compare_lists
    from dsrepo.repo.lists import write_item_list, write_list
    from dsrepo.repo.objects import ObjectStore, content_hash
    from dsrepo.repo.sides import SideSource

    store = ObjectStore(tmp_path / "objects", tmp_path / "packs", tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    entries = [["val" if i % 4 == 0 else "train", f"{i:05d}", content_hash(str(i).encode())] for i in range(3000)]
    edited = [list(e) for e in entries]
    edited[12][2] = content_hash(b"changed")  # a val item
    edited[1001][2] = content_hash(b"changed too")  # a train item
    del edited[2001]  # a train item
    edited.append(["val", "new", content_hash(b"new")])
    with store.pack_session():
        lists = {"old plain": write_list(store, entries, 2), "old": write_item_list(store, entries),
                 "new": write_item_list(store, edited), "new plain": write_list(store, edited, 2)}
    repo = SimpleNamespace(store=store)
    side = {k: SideSource("coco", "coco", record=SimpleNamespace(items=h)) for k, h in lists.items()}
    reads = []
    real_read = store.read_packed
    store.read_packed = lambda h: reads.append(h) or real_read(h)
    for a, b in (("old", "new"), ("old plain", "new plain"), ("old plain", "new")):
        reads.clear()
        change, subsets, modified = _compare_lists(repo, side[a], side[b])
        assert [s.to_json() for s in subsets] == [
            {"subset": "train", "added": 0, "removed": 1, "modified": 1, "unchanged": 2248},
            {"subset": "val", "added": 1, "removed": 0, "modified": 1, "unchanged": 749}], (a, b)
        assert sorted(modified) == [("train", "01001"), ("val", "00012")]
        assert change.added == (("val", "new"),) and change.removed == (("train", "02001"),)
        assert not change.reordered
        if b == "new":  # tallied: only the chunks around the 4 edits are read, on each side
            assert 2 <= len(reads) <= 2 * 8
    change, subsets, _m = _compare_lists(repo, side["old plain"], side["old"])
    assert not (change.added or change.removed or change.modified or change.reordered)
    assert [s.to_json()["unchanged"] for s in subsets] == [2250, 750]
