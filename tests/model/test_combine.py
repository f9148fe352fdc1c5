"""merge-datasets policies (model level: combine_datasets)."""

import pytest

from dsrepo.errors import DsrepoError, UsageError
from dsrepo.model import Bbox, Caption, Categories, Dataset, Item, Label, Points
from dsrepo.model.combine import combine_datasets


def ds(items, names):
    return Dataset.from_items(items, Categories.from_names(names))


def box(x, label, **attrs):
    return Bbox(x=x, y=0, w=10, h=10, label=label, attributes=attrs)


def test_exact_merges_collapses_and_reports_conflicts():
    a = ds([Item(id="1", annotations=(Label(label=0),)), Item(id="2", annotations=(box(0, 1),))], ["cat", "dog"])
    # same labels in another order; item 2 equal up to ids, groups, meta and 1e-4 px
    b = ds([Item(id="1", annotations=(Label(label=1),)), Item(id="3"),
            Item(id="2", annotations=(Bbox(x=0.0001, y=0, w=10, h=10, label=0, id=7, group=3, meta={"x": 1}),))],
           ["dog", "cat"])
    c = ds([Item(id="1", annotations=(Label(label=1),)), Item(id="2", annotations=(box(0, 1),), attributes={"k": 1})],
           ["cat", "dog"])
    out, rep = combine_datasets([a, b, c], "exact")
    assert [i.id for i in out] == ["1", "2", "3"]
    assert out.categories.label_names() == ["cat", "dog"]
    assert out.get("1").annotations == (Label(label=0),)
    assert out.get("2").annotations == (box(0, 1),)
    assert rep["conflicts"] == [{"subset": "default", "id": "1", "sources": [1, 3], "differs": ["annotations"]},
                                {"subset": "default", "id": "2", "sources": [1, 3], "differs": ["attributes"]}]
    assert rep["unmatched_items"] == [{"subset": "default", "id": "3", "present_in": [2], "missing_in": [1, 3]}]
    assert rep["sources"] == [
        {"source": 1, "items": 2, "annotations": 2, "missing_items": 1, "unmatched_annotations": 0},
        {"source": 2, "items": 3, "annotations": 2, "missing_items": 0, "unmatched_annotations": 0},
        {"source": 3, "items": 2, "annotations": 2, "missing_items": 1, "unmatched_annotations": 0}]
    assert (rep["policy"], rep["items"], rep["annotations"], rep["labels"]) == ("exact", 3, 2, ["cat", "dog"])


def test_exact_requires_same_label_names():
    with pytest.raises(DsrepoError) as e:
        combine_datasets([ds([], ["a", "b"]), ds([], ["a"]), ds([], ["c"])], "exact")
    assert str(e.value) == ("merge exact: labels of source 2 differ from source 1 (missing b); "
                            "use --policy union to unite label sets")
    with pytest.raises(DsrepoError, match=r"\(duplicate label names\)"):
        combine_datasets([ds([], ["a", "b"]), ds([], ["a", "b", "b"])], "exact")


def test_union_remaps_and_suffixes():
    a = ds([Item(id="1", annotations=(Label(label=0),)), Item(id="1__1")], ["cat"])
    b = ds([Item(id="1", annotations=(Label(label=0),)), Item(id="2", annotations=(Label(label=1),))], ["dog", "cat"])
    c = ds([Item(id="1", annotations=(Label(label=0),)), Item(id="1", subset="val")], ["cat"])
    d = ds([Item(id="1", annotations=(Label(label=0),))], ["dog"])
    out, rep = combine_datasets([a, b, c, d], "union")
    assert out.categories.label_names() == ["cat", "dog"]
    assert [(i.subset, i.id, i.annotations) for i in out] == [
        ("default", "1", (Label(label=0),)),
        ("default", "1__2", (Label(label=1),)),   # 1__1 is taken by an item of source 1
        ("default", "1__1", ()),
        ("default", "2", (Label(label=0),)),
        ("val", "1", ()),
    ]
    # source 3's default/1 equals source 1's; source 4's equals the renamed version of source 2
    assert rep["renamed"] == [{"subset": "default", "id": "1", "source": 2, "renamed_to": "1__2"}]
    assert rep["labels"] == ["cat", "dog"]


def test_intersect_votes_with_quorum_and_score():
    a = ds([Item(id="1", annotations=(box(0, 0, occluded=True), box(100, 1)))], ["cat", "dog"])
    b = ds([Item(id="1", annotations=(box(1, 0, occluded=False),))], ["cat", "dog"])
    c = ds([Item(id="1", annotations=(box(0, 1, occluded=False), box(300, 1))), Item(id="2")], ["cat", "dog"])
    out, rep = combine_datasets([a, b, c], "intersect", groups=["cat,dog"])
    # cat wins 2:1; occluded is voted among the cat boxes (True vs False: tie, source 1 first)
    assert out.get("1").annotations == (box(0, 0, occluded=True, score=0.666667),)
    assert out.get("2").annotations == ()
    assert [(u["source"], u["label"], u["reason"], u["votes"]) for u in rep["unmatched_annotations"]] == [
        (3, "dog", "outvoted", {"cat": 2, "dog": 1}), (1, "dog", "no quorum", {"dog": 1}),
        (3, "dog", "no quorum", {"dog": 1})]
    assert rep["unmatched_items"] == [{"subset": "default", "id": "2", "present_in": [3], "missing_in": [1, 2]}]
    assert rep["errors"] == [{"subset": "default", "id": "1", "error": "incomplete group", "group": "cat,dog",
                              "missing": ["dog"]}]
    assert [s["unmatched_annotations"] for s in rep["sources"]] == [1, 0, 2]


def test_intersect_labels_captions_points_and_iou():
    pts = lambda dx: Points(points=(0 + dx, 0, 10, 10), label=0)
    a = ds([Item(id="1", annotations=(Label(label=0), Caption(caption="x"), pts(0), box(0, 0)))], ["cat"])
    b = ds([Item(id="1", annotations=(Label(label=0), Caption(caption="y"), pts(0.1), box(5, 0)))], ["cat"])
    out, rep = combine_datasets([a, b], "intersect", quorum=2, iou=0.4)
    # boxes at x=0 and x=5 have IoU 1/3 < 0.4; captions differ; labels and points match
    assert out.get("1").annotations == (Label(label=0, attributes={"score": 1.0}),
                                         Points(points=(0, 0, 10, 10), label=0, attributes={"score": 1.0}))
    assert len(rep["unmatched_annotations"]) == 4
    out, _ = combine_datasets([a, b], "intersect", quorum=2, iou=0.3)
    assert box(0, 0, score=1.0) in out.get("1").annotations


def test_intersect_renumbers_clashing_annotation_ids():
    a = ds([Item(id="1", annotations=(box(0, 0).with_(id=1), box(50, 0).with_(id=2)))], ["cat"])
    b = ds([Item(id="1", annotations=(box(0, 0).with_(id=2), box(50, 0).with_(id=1)))], ["cat"])
    out, _ = combine_datasets([b, a], "intersect", quorum=1)
    assert [x.id for x in out.get("1").annotations] == [2, 1]
    c = ds([Item(id="1", annotations=(box(100, 0).with_(id=2),))], ["cat"])
    out, _ = combine_datasets([a, c], "intersect", quorum=1)
    assert [(x.x, x.id) for x in out.get("1").annotations] == [(0.0, 1), (50.0, 2), (100.0, 3)]


def test_argument_errors():
    a = ds([], ["cat"])
    with pytest.raises(UsageError, match=r"^merge needs at least two datasets, got 1$"):
        combine_datasets([a], "union")
    with pytest.raises(UsageError, match=r"^quorum must be between 1 and 3 \(or 0 for a majority\), got 4$"):
        combine_datasets([a, a, a], "intersect", quorum=4)
    with pytest.raises(UsageError, match=r"^iou must be between 0 and 1, got 1.5$"):
        combine_datasets([a, a], "intersect", iou=1.5)
    with pytest.raises(UsageError, match=r"^unknown merge policy 'best' \(known: exact, union, intersect\)$"):
        combine_datasets([a, a], "best")
    with pytest.raises(UsageError, match=r"^group 'cat,dog\?': unknown label 'dog'$"):
        combine_datasets([a, a], "intersect", groups=["cat,dog?"])
