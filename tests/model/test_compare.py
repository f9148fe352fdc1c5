"""Dataset comparison: exact and distance-based."""

from dsrepo.model import Bbox, Categories, Dataset, Item, Label
from dsrepo.model.compare import compare_distance, compare_exact


def ds(items, names):
    return Dataset.from_items(items, Categories.from_names(names))


def test_exact_equal_across_category_order():
    a = ds([Item(id="1", annotations=(Label(label=0),))], ["cat", "dog"])
    b = ds([Item(id="1", annotations=(Label(label=1),))], ["dog", "cat"])
    r = compare_exact(a, b)
    assert r["items_equal"] == 1 and r["mismatches"] == [] and r["categories"]["equal"] is False
    assert r["categories"]["only_a"] == [] and not r["equal"]


def test_exact_reports_mismatch_only_and_ignored_attrs():
    a = ds([Item(id="1", annotations=(Bbox(x=0, y=0, w=10, h=10, label=0, id=1, attributes={"score": 0.9}),)),
            Item(id="2")], ["cat"])
    b = ds([Item(id="1", annotations=(Bbox(x=0, y=0, w=10, h=10, label=0, id=1, attributes={"score": 0.5}),)),
            Item(id="3")], ["cat"])
    r = compare_exact(a, b)
    assert r["only_a"] == [["default", "2"]] and r["only_b"] == [["default", "3"]]
    assert r["mismatches"][0]["annotations_changed"] == [{"fields": ["attributes"], "iou": 1.0}]
    r2 = compare_exact(a, b, ignored_ann_attrs=["score"])
    assert r2["mismatches"] == [] and r2["items_equal"] == 1


def test_distance_confusion_and_unmatched():
    gt = ds([Item(id="1", annotations=(Bbox(x=0, y=0, w=10, h=10, label=0), Bbox(x=50, y=50, w=10, h=10, label=1),
                                       Bbox(x=90, y=90, w=5, h=5, label=1)))], ["cat", "dog"])
    pred = ds([Item(id="1", annotations=(Bbox(x=1, y=0, w=10, h=10, label=0), Bbox(x=50, y=50, w=10, h=10, label=0),
                                         Bbox(x=200, y=200, w=5, h=5, label=0)))], ["cat", "dog"])
    r = compare_distance(gt, pred)
    assert r["matched"] == 2 and r["label_agreement"] == 0.5
    assert r["confusion"] == [{"a": "cat", "b": "cat", "count": 1}, {"a": "dog", "b": "cat", "count": 1}]
    assert r["mispredictions"] == [{"subset": "default", "id": "1", "a_label": "dog", "b_label": "cat", "iou": 1.0}]
    assert r["unmatched_a"] == {"dog": 1} and r["unmatched_b"] == {"cat": 1}
