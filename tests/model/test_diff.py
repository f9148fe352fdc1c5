"""Annotation matching and item diffs."""

import numpy as np
import pytest

from dsrepo.model import Bbox, Caption, Image, Item, Label, Mask, Points, Polygon
from dsrepo.model.diff import diff_items, match_annotations
from dsrepo.model.geometry import bbox_iou, shape_iou


def test_bbox_iou_exact():
    assert bbox_iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert bbox_iou((0, 0, 1, 1), (2, 2, 1, 1)) == 0.0


def test_shape_iou_polygon_vs_box_and_mask():
    poly = Polygon(points=[0, 0, 10, 0, 10, 10, 0, 10])
    box = Bbox(x=0, y=0, w=10, h=5)
    assert shape_iou(poly, box) == pytest.approx(0.5, abs=0.06)
    arr = np.zeros((20, 20), np.uint8)
    arr[0:10, 0:10] = 1
    assert shape_iou(Mask.from_array(arr), Mask.from_array(arr)) == 1.0
    assert shape_iou(Mask.from_array(arr), poly) > 0.8


def test_match_by_stable_ids_reports_relabel_and_move():
    a = Item(id="x", annotations=(Bbox(x=0, y=0, w=10, h=10, label=0, id=1),
                                  Bbox(x=50, y=50, w=10, h=10, label=1, id=2),
                                  Bbox(x=80, y=80, w=5, h=5, label=1, id=3)))
    b = Item(id="x", annotations=(Bbox(x=0, y=0, w=10, h=10, label=2, id=1),
                                  Bbox(x=52, y=50, w=10, h=10, label=1, id=2),
                                  Bbox(x=1, y=1, w=5, h=5, label=1, id=4)))
    d = diff_items(a, b)
    assert [c.after.id for c in d.changed] == [1, 2]
    assert d.changed[0].fields == ("label",)
    assert d.changed[1].fields == ("geometry",)
    assert d.changed[1].iou == pytest.approx(80 / 120)
    assert [r.id for r in d.removed] == [3] and [x.id for x in d.added] == [4]


def test_match_without_ids_by_label_and_geometry():
    before = [Bbox(x=0, y=0, w=10, h=10, label=0), Bbox(x=100, y=100, w=10, h=10, label=1)]
    after = [Bbox(x=101, y=100, w=10, h=10, label=1), Bbox(x=0, y=0, w=10, h=10, label=3)]
    pairs, only_b, only_a = match_annotations(before, after)
    assert {(p[0].label, p[1].label) for p in pairs} == {(0, 3), (1, 1)}
    assert only_b == [] and only_a == []


def test_iou_threshold_separates():
    before = [Bbox(x=0, y=0, w=10, h=10, label=0)]
    after = [Bbox(x=8, y=0, w=10, h=10, label=0)]
    _, only_b, only_a = match_annotations(before, after, iou_threshold=0.5)
    assert len(only_b) == 1 and len(only_a) == 1
    pairs, _, _ = match_annotations(before, after, iou_threshold=0.1)
    assert len(pairs) == 1


def test_attribute_media_and_other_changes():
    a = Item(id="x", media=Image(md5="a" * 32, size=(2, 2)), attributes={"k": 1},
             annotations=(Label(label=0, id=1, attributes={"score": 0.5}), Caption(caption="hi", id=2),
                          Points(points=[1, 1, 2, 2], visibility=[2, 2], id=3)))
    b = Item(id="x", media=Image(md5="b" * 32, size=(2, 2)), attributes={"k": 2},
             annotations=(Label(label=0, id=1, attributes={"score": 0.7, "new": True}), Caption(caption="hi", id=2),
                          Points(points=[1, 1, 2, 2], visibility=[2, 1], id=3)))
    d = diff_items(a, b)
    assert d.media_changed and d.attributes == {"k": (1, 2)}
    assert [c.fields for c in d.changed] == [("attributes",), ("geometry",)]
    assert d.changed[0].attributes == {"new": (None, True), "score": (0.5, 0.7)}


def test_identical_items_empty_diff():
    a = Item(id="x", annotations=(Bbox(x=0, y=0, w=1, h=1),))
    assert diff_items(a, a).empty
