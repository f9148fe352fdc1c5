"""remap_labels, project_labels, anns_to_labels; the transform table and CLI parsing."""

import pytest

from dsrepo.errors import UsageError
from dsrepo.model import Bbox, Caption, Categories, Dataset, Item, Label, LabelCategory, Mask, PointsCategory, Polygon
from dsrepo.model.transforms import (
    TRANSFORMS,
    apply_transform,
    get_transform,
    parse_transform_args,
    transform_names,
)


def cats3():
    return Categories(
        labels=(LabelCategory("person", parent="human", attributes=("occluded",)), LabelCategory("cat"),
                LabelCategory("bus", meta={"coco": {"id": 6}})),
        points={0: PointsCategory(labels=("nose", "eye"), joints=((1, 2),))},
        colormap={0: (1, 2, 3), 1: (4, 5, 6), 2: (7, 8, 9)},
    )


def dataset():
    return Dataset.from_items([
        Item(id="1", annotations=(Bbox(id=1, x=0, y=0, w=2, h=2, label=0), Bbox(id=2, x=1, y=1, w=2, h=2, label=1),
                                  Label(id=3, label=2), Caption(id=4, caption="a bus"))),
        Item(id="2", annotations=(Polygon(id=1, points=(0, 0, 4, 0, 4, 4), label=2, meta={"coco": {"g": 7}}),)),
        Item(id="3"),
    ], cats3())


def test_table_names_and_lookup():
    assert transform_names() == sorted(TRANSFORMS)
    assert len(transform_names()) == 20
    for name in transform_names():
        spec = get_transform(name)
        assert spec.name == name and spec.version >= 1 and spec.description
    with pytest.raises(UsageError, match=r"unknown transform 'nope' \(known: anns_to_labels, boxes_to_masks, "):
        get_transform("nope")


def test_parse_transform_args_repeated_lists_and_defaults():
    p = parse_transform_args("remap_labels", ["--label", "person:car", "--label=cat:dog", "--default", "delete"])
    assert p == {"label": ("person:car", "cat:dog"), "default": "delete"}
    assert parse_transform_args("random_split", []) == {"subset": ("train:0.67", "test:0.33"), "seed": 0}
    assert parse_transform_args("map_subsets", ["--mapping", "a:b,c:d", "--mapping", "e:f"]) == {
        "mapping": ("a:b", "c:d", "e:f")}
    with pytest.raises(UsageError, match=r"transform reindex: unknown option --begin \(known: --start\)"):
        parse_transform_args("reindex", ["--begin", "3"])
    with pytest.raises(UsageError, match=r"option --default: expected one of keep, delete, got 'drop'"):
        parse_transform_args("remap_labels", ["--default", "drop"])
    assert [it.annotations for it in apply_transform(dataset(), "remap_labels", label=None)] == [
        it.annotations for it in dataset()]
    with pytest.raises(UsageError, match=r"transform reindex: unknown option 'begin'"):
        apply_transform(dataset(), "reindex", begin=3)


def test_remap_rename_merge_delete_keep_default():
    out = dataset().transform("remap_labels", label=["person:car", "cat:car", "bus:"])
    assert out.categories.label_names() == ["car"]
    car = out.categories.labels[0]
    assert (car.parent, car.attributes) == ("human", ("occluded",))
    assert dict(out.categories.points) == {0: PointsCategory(labels=("nose", "eye"), joints=((1, 2),))}
    assert dict(out.categories.colormap) == {0: (1, 2, 3)}
    items = list(out)
    assert [(a.id, a.label) for a in items[0].annotations] == [(1, 0), (2, 0), (4, None)]
    assert items[1].annotations == ()
    assert items[2] == Item(id="3")


def test_remap_keep_preserves_unlisted_and_order_of_first_appearance():
    out = dataset().transform("remap_labels", label="cat:person")
    assert out.categories.label_names() == ["person", "bus"]
    assert out.categories.labels[1].meta == {"coco": {"id": 6}}
    assert dict(out.categories.colormap) == {0: (1, 2, 3), 1: (7, 8, 9)}
    first, second, _ = list(out)
    assert [a.label for a in first.annotations] == [0, 0, 1, None]
    assert second.annotations[0].label == 1
    assert second.annotations[0].meta == {"coco": {"g": 7}}


def test_remap_delete_default_and_new_name():
    out = apply_transform(dataset(), "remap_labels", label=["bus:vehicle"], default="delete")
    assert out.categories.label_names() == ["vehicle"]
    assert dict(out.categories.colormap) == {0: (7, 8, 9)}
    assert dict(out.categories.points) == {}
    first, second, _ = list(out)
    assert [(type(a).__name__, a.label) for a in first.annotations] == [("Label", 0), ("Caption", None)]
    assert second.annotations[0].label == 0


def test_remap_errors():
    with pytest.raises(UsageError, match=r"remap_labels: unknown source label 'dog' \(known: person, cat, bus\)"):
        dataset().transform("remap_labels", label=["dog:cat"])
    with pytest.raises(UsageError, match=r"remap_labels: --label expects 'name:value', got 'person'"):
        dataset().transform("remap_labels", label=["person"])
    with pytest.raises(UsageError, match=r"remap_labels: label 'cat' mapped twice"):
        dataset().transform("remap_labels", label=["cat:a", "cat:b"])


def test_project_labels():
    out = dataset().transform("project_labels", dst_labels=["bus", "dog", "person"])
    assert out.categories.label_names() == ["bus", "dog", "person"]
    assert out.categories.labels[0].meta == {"coco": {"id": 6}}
    assert out.categories.labels[2].parent == "human"
    assert dict(out.categories.colormap) == {0: (7, 8, 9), 2: (1, 2, 3)}
    assert dict(out.categories.points) == {2: PointsCategory(labels=("nose", "eye"), joints=((1, 2),))}
    first, second, _ = list(out)
    assert [(a.id, a.label) for a in first.annotations] == [(1, 2), (3, 0), (4, None)]
    assert second.annotations[0].label == 0
    with pytest.raises(UsageError, match="project_labels: --dst-labels lists a label twice"):
        dataset().transform("project_labels", dst_labels=["a", "a"])


def test_project_to_empty_removes_labeled_annotations():
    out = dataset().transform("project_labels")
    assert out.categories.labels == ()
    assert [[a.type.value for a in it.annotations] for it in out] == [["caption"], [], []]


def test_anns_to_labels():
    cats = Categories.from_names(["a", "b", "c"])
    rle_mask = Mask.from_array([[1, 0], [0, 0]], label=2)
    ds = Dataset.from_items([
        Item(id="x", annotations=(Bbox(x=0, y=0, w=1, h=1, label=1), rle_mask, Bbox(x=3, y=3, w=1, h=1, label=1),
                                  Caption(caption="c"), Polygon(points=(0, 0, 1, 0, 1, 1)))),
        Item(id="y"),
    ], cats)
    out = list(ds.transform("anns_to_labels"))
    assert out[0].annotations == (Label(label=1), Label(label=2))
    assert out[1].annotations == ()
