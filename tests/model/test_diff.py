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


# -- parts sharing an id (COCO polygon parts) ----------------------------------------------

def _part(x, id=5, label=0):
    return Polygon(points=[x, 0, x + 10, 0, x + 10, 10, x, 10], label=label, id=id)


def test_parts_sharing_an_id_pair_in_order():
    before = [_part(0), _part(20), _part(40), Bbox(x=0, y=0, w=5, h=5, id=6)]
    after = [_part(1), _part(21), _part(41), Bbox(x=0, y=0, w=5, h=5, id=6, label=2)]
    pairs, only_b, only_a = match_annotations(before, after)
    assert [(a.points[0], b.points[0]) for a, b in pairs[:3]] == [(0, 1), (20, 21), (40, 41)]
    assert pairs[3] == (before[3], after[3]) and only_b == [] and only_a == []
    d = diff_items(Item(id="x", annotations=tuple(before)), Item(id="x", annotations=tuple(after)))
    assert [(c.after.points[0], c.fields) for c in d.changed[:3]] == [(1, ("geometry",)), (21, ("geometry",)),
                                                                      (41, ("geometry",))]
    assert [c.iou for c in d.changed[:3]] == [shape_iou(a, b) for a, b in pairs[:3]]
    assert d.changed[3].fields == ("label",) and d.changed[3].iou == 1.0


def test_parts_pair_by_id_even_when_far_apart():
    # same id, as many parts: the id decides, not the geometry (as for unique ids)
    pairs, only_b, only_a = match_annotations([_part(0), _part(20)], [_part(300), _part(500)])
    assert [(a.points[0], b.points[0]) for a, b in pairs] == [(0, 300), (20, 500)]
    assert only_b == [] and only_a == []


def test_deleted_part_is_found_by_geometry():
    before = [_part(0), _part(20), _part(40), _part(0, id=7)]
    after = [_part(0), _part(41), _part(0, id=7)]
    pairs, only_b, only_a = match_annotations(before, after)
    assert [(a.id, a.points[0], b.points[0]) for a, b in pairs] == [(5, 0, 0), (5, 40, 41), (7, 0, 0)]
    assert [(a.id, a.points[0]) for a in only_b] == [(5, 20)] and only_a == []


def test_added_part_far_away_leftovers_pair_in_order():
    # one part moved far (no geometry match) and one part added: the leftovers of the id pair in order
    pairs, only_b, only_a = match_annotations([_part(0)], [_part(300), _part(500)])
    assert [(a.points[0], b.points[0]) for a, b in pairs] == [(0, 300)]
    assert only_b == [] and [b.points[0] for b in only_a] == [500]


def test_one_annotation_without_id_falls_back_to_geometry():
    before = [_part(0), _part(20)]
    after = [_part(21), _part(0, id=0)]
    pairs, only_b, only_a = match_annotations(before, after)
    assert {(a.points[0], b.points[0]) for a, b in pairs} == {(0, 0), (20, 21)}
    assert only_b == [] and only_a == []


# -- batched similarity ------------------------------------------------------------------------

def test_similarities_equal_pairwise_similarity():
    import random

    from dsrepo.model import Ellipse
    from dsrepo.model.geometry import polygon_similarities, similarities, similarity

    rng = random.Random(3)

    def poly():
        cx, cy, r = rng.uniform(40, 300), rng.uniform(40, 200), rng.uniform(0.5, 40)
        n = rng.randrange(3, 12)
        return Polygon(points=[v for _ in range(n) for v in (cx + rng.uniform(-r, r), cy + rng.uniform(-r, r))])

    pairs = []
    for _ in range(400):  # more than one pycocotools call (and than 255 masks per call)
        a = poly()
        kind = rng.randrange(4)
        b = a.with_(points=tuple(v + rng.choice([0.5, 1, 3]) for v in a.points)) if kind == 0 else \
            poly() if kind == 1 else Bbox(x=rng.uniform(0, 300), y=rng.uniform(0, 200), w=20, h=20) if kind == 2 else \
            Ellipse(x1=a.get_bbox()[0], y1=a.get_bbox()[1], x2=a.get_bbox()[0] + 9, y2=a.get_bbox()[1] + 7)
        pairs.append((a, b))
    pairs += [(Polygon(points=[0, 0, 1, 1]), _part(0)), (_part(-5), _part(-4)),  # degenerate, partly off-canvas
              (Polygon(points=[0, 0, 3000, 0, 3000, 2]), Polygon(points=[0, 0, 2, 0, 2, 3000]))]
    expected = [similarity(a, b) for a, b in pairs]
    assert similarities(pairs) == expected  # the same floats, not approximately
    assert sum(0 < e < 1 for e in expected) > 100 and expected.count(0.0) > 50
    polys = [(a.points, b.points) for a, b in pairs if b.type is a.type]
    assert polygon_similarities(polys) == [similarity(a, b) for a, b in pairs if b.type is a.type]
