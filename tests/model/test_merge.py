"""Three-way merge of items and categories."""

from dsrepo.model import Bbox, Categories, Item, Label
from dsrepo.model.merge import merge_categories, merge_items, remap_labels

B1 = Bbox(x=0, y=0, w=10, h=10, label=0, id=1)
B2 = Bbox(x=50, y=50, w=10, h=10, label=1, id=2)
BASE = Item(id="a", annotations=(B1, B2))


def test_one_side_changed_takes_it():
    ours = BASE.with_(annotations=(B1.with_(label=1), B2))
    assert merge_items(BASE, ours, BASE).item == ours
    assert merge_items(BASE, BASE, ours).item == ours
    assert merge_items(BASE, ours, ours).item == ours


def test_disjoint_annotation_changes_merge():
    ours = BASE.with_(annotations=(B1.with_(label=1), B2))
    theirs = BASE.with_(annotations=(B1, B2.with_(x=52.0), Bbox(x=5, y=5, w=1, h=1, label=0, id=3)))
    m = merge_items(BASE, ours, theirs)
    assert not m.conflict
    assert m.item.annotations == (B1.with_(label=1), B2.with_(x=52.0), Bbox(x=5, y=5, w=1, h=1, label=0, id=3))


def test_same_annotation_changed_differently_conflicts():
    ours = BASE.with_(annotations=(B1.with_(label=1), B2))
    theirs = BASE.with_(annotations=(B1.with_(label=2), B2))
    m = merge_items(BASE, ours, theirs)
    assert m.conflict and m.reason == "1 annotation(s) changed differently on both sides"


def test_delete_vs_modify_conflicts_and_both_delete_ok():
    ours = BASE.with_(annotations=(B1,))
    m = merge_items(BASE, ours, None)
    assert m.conflict and m.reason == "modified on one side, deleted on the other"
    assert merge_items(BASE, None, None).item is None
    assert merge_items(BASE, BASE, None).item is None


def test_removal_on_one_side_and_change_on_other_disjoint():
    ours = BASE.with_(annotations=(B2,))          # removed B1
    theirs = BASE.with_(annotations=(B1, B2.with_(label=0)))
    m = merge_items(BASE, ours, theirs)
    assert m.item.annotations == (B2.with_(label=0),)


def test_added_on_both_sides_kept_once_if_identical():
    new = Label(label=1, id=9)
    ours = BASE.with_(annotations=(B1, B2, new))
    theirs = BASE.with_(annotations=(B1.with_(z_order=1), B2, new))
    m = merge_items(BASE, ours, theirs)
    assert m.item.annotations == (B1.with_(z_order=1), B2, new)


def test_categories_merge_by_name_with_renames():
    base = Categories.from_names(["cat", "dog"])
    ours = Categories.from_names(["cat", "dog", "bird"])
    theirs = Categories.from_names(["kitten", "dog", "cow"])
    m = merge_categories(base, ours, theirs)
    assert m.categories.label_names() == ["kitten", "dog", "bird", "cow"]
    assert m.ours_map == {0: 0, 1: 1, 2: 2}
    assert m.theirs_map == {0: 0, 1: 1, 2: 3}
    assert m.conflicts == ()
    item = Item(id="x", annotations=(Label(label=2),))
    assert remap_labels(item, m.theirs_map).annotations == (Label(label=3),)


def test_conflicting_renames():
    base = Categories.from_names(["cat"])
    m = merge_categories(base, Categories.from_names(["kitty"]), Categories.from_names(["kitten"]))
    assert m.conflicts == ("label 'cat' renamed to 'kitty' (ours) and 'kitten' (theirs)",)
