"""boxes_to_masks, polygons_to_masks, masks_to_polygons, shapes_to_boxes,
merge_instance_segments, crop_covered_segments."""

import numpy as np
import pytest

from dsrepo.errors import DatasetError
from dsrepo.model import (
    Bbox, Caption, Categories, Dataset, Ellipse, Image, Item, Label, Mask, Points, Polygon, Polyline,
)
from dsrepo.model.encoding import encode_item

SQUARE = (10, 10, 30, 10, 30, 30, 10, 30)  # 20 x 20


def one(item, name, **params):
    ds = Dataset.from_items([item], Categories.from_names(["a", "b"]))
    out = list(ds.transform(name, **params))
    assert len(out) == 1
    return out[0]


def test_boxes_to_masks_keeps_fields_and_drops_meta():
    box = Bbox(id=4, group=2, label=1, z_order=3, x=2, y=3, w=4, h=5, attributes={"occluded": True},
               meta={"coco": {"area": 20}})
    item = Item(id="i", media=Image(size=(10, 12)), annotations=(Label(label=0), box))
    out = one(item, "boxes_to_masks")
    assert out.annotations[0] == Label(label=0)
    m = out.annotations[1]
    assert isinstance(m, Mask)
    assert (m.id, m.group, m.label, m.z_order, dict(m.attributes), dict(m.meta)) == (4, 2, 1, 3, {"occluded": True}, {})
    assert m.size == (10, 12)
    img = m.image
    assert img.sum() == 20
    assert img[3:8, 2:6].all()
    assert m.get_bbox() == (2.0, 3.0, 4.0, 5.0)


def test_boxes_to_masks_reads_header_size_and_fails_without_size(tmp_path):
    import cv2

    path = tmp_path / "im g.png"
    cv2.imwrite(str(path), np.zeros((7, 9, 3), np.uint8))
    item = Item(id="i", media=Image(path=str(path), name="im g.png"), annotations=(Bbox(x=0, y=0, w=2, h=2),))
    assert one(item, "boxes_to_masks").annotations[0].size == (7, 9)
    missing = Item(id="m", subset="val", media=Image(path=str(tmp_path / "gone.png")),
                   annotations=(Bbox(x=0, y=0, w=2, h=2),))
    with pytest.raises(DatasetError, match=r"boxes_to_masks: image size of item val/m is unknown"):
        one(missing, "boxes_to_masks")
    no_boxes = Item(id="n", annotations=(Label(label=0),))
    assert one(no_boxes, "boxes_to_masks") == no_boxes


def test_polygon_mask_polygon_round_trip_areas():
    item = Item(id="p", media=Image(size=(50, 50)), annotations=(Polygon(id=1, label=0, points=SQUARE),))
    as_mask = one(item, "polygons_to_masks")
    m = as_mask.annotations[0]
    assert isinstance(m, Mask) and m.label == 0 and m.id == 1
    assert m.get_area() == 400.0
    assert m.get_bbox() == (10.0, 10.0, 20.0, 20.0)
    back = one(as_mask, "masks_to_polygons").annotations
    assert len(back) == 1 and isinstance(back[0], Polygon)
    # contours run through the centres of the boundary pixels: 19 x 19
    assert back[0].points == (10.0, 10.0, 10.0, 29.0, 29.0, 29.0, 29.0, 10.0)
    assert back[0].get_area() == 361.0
    assert (back[0].id, back[0].label) == (1, 0)


def test_masks_to_polygons_several_parts_and_specks():
    a = np.zeros((20, 30), np.uint8)
    a[12:18, 2:8] = 1  # lower-left square
    a[1:4, 20:25] = 1  # upper-right rectangle
    a[10, 15] = 1  # one-pixel speck: no 3-point contour
    mask = Mask.from_array(a, id=7, group=3, label=1, attributes={"is_crowd": False})
    out = one(Item(id="m", annotations=(mask, Caption(caption="x"))), "masks_to_polygons").annotations
    assert [type(x).__name__ for x in out] == ["Polygon", "Polygon", "Caption"]
    assert out[0].points == (20.0, 1.0, 20.0, 3.0, 24.0, 3.0, 24.0, 1.0)
    assert out[1].points == (2.0, 12.0, 2.0, 17.0, 7.0, 17.0, 7.0, 12.0)
    assert all((p.id, p.group, p.label, dict(p.attributes)) == (7, 3, 1, {"is_crowd": False}) for p in out[:2])
    empty = Mask.from_array(np.zeros((4, 4), np.uint8), label=0)
    assert one(Item(id="e", annotations=(empty,)), "masks_to_polygons").annotations == ()


def test_shapes_to_boxes():
    anns = (
        Polygon(id=1, points=(1, 2, 5, 2, 3, 8), label=0, meta={"coco": {"g": 1}}),
        Polyline(id=2, points=(0, 0, 4, 3)),
        Points(id=3, points=(1, 1, 9, 9, 4, 6), visibility=(2, 0, 1), label=1),
        Ellipse(id=4, x1=6, y1=8, x2=2, y2=4),
        Mask.from_array(np.pad(np.ones((2, 3), np.uint8), ((1, 0), (2, 0))), id=5),
        Bbox(id=6, x=1, y=1, w=1, h=1),
        Label(id=7, label=1),
    )
    out = one(Item(id="s", annotations=anns), "shapes_to_boxes").annotations
    assert out[:6] == (
        Bbox(id=1, label=0, x=1, y=2, w=4, h=6),
        Bbox(id=2, x=0, y=0, w=4, h=3),
        Bbox(id=3, label=1, x=1, y=1, w=3, h=5),
        Bbox(id=4, x=2, y=4, w=4, h=4),
        Bbox(id=5, x=2, y=1, w=3, h=2),
        Bbox(id=6, x=1, y=1, w=1, h=1),
    )
    assert out[6] == Label(id=7, label=1)


def test_merge_instance_segments():
    left = np.zeros((6, 8), np.uint8)
    left[1:3, 1:3] = 1
    right = np.zeros((6, 8), np.uint8)
    right[1:3, 5:7] = 1
    anns = (
        Mask.from_array(left, id=1, group=5, label=0, z_order=1),
        Bbox(id=2, group=5, label=0, x=1, y=1, w=6, h=2),
        Mask.from_array(right, id=3, group=5, label=0, z_order=4),
        Polygon(id=4, group=5, label=0, points=(0, 4, 3, 4, 3, 6, 0, 6)),
        Mask.from_array(right, id=6, label=1),
    )
    item = Item(id="m", media=Image(size=(6, 8)), annotations=anns)
    out = one(item, "merge_instance_segments").annotations
    assert [(type(a).__name__, a.id) for a in out] == [("Mask", 1), ("Bbox", 2), ("Polygon", 4), ("Mask", 6)]
    assert (out[0].group, out[0].label, out[0].z_order) == (5, 0, 4)
    assert out[0].get_area() == 8.0
    assert out[3] is anns[4]
    out = one(item, "merge_instance_segments", include_polygons=True).annotations
    assert [(type(a).__name__, a.id) for a in out] == [("Mask", 1), ("Bbox", 2), ("Mask", 6)]
    assert out[0].get_area() == 14.0
    assert out[0].image[4:6, 0:3].all()


def test_merge_instance_segments_single_polygon_and_unknown_size():
    item = Item(id="p", media=Image(size=(40, 40)), annotations=(Polygon(id=1, label=1, points=SQUARE),))
    out = one(item, "merge_instance_segments", include_polygons=True).annotations
    assert isinstance(out[0], Mask) and out[0].get_area() == 400.0
    assert one(item, "merge_instance_segments") == item
    nosize = Item(id="q", annotations=(Polygon(points=SQUARE), Polygon(points=SQUARE)))
    with pytest.raises(DatasetError, match=r"merge_instance_segments: image size of item default/q is unknown"):
        one(nosize, "merge_instance_segments", include_polygons=True)


def test_crop_covered_segments():
    bottom = np.zeros((10, 10), np.uint8)
    bottom[0:6, 0:6] = 1
    top = np.zeros((10, 10), np.uint8)
    top[3:9, 3:9] = 1
    anns = (
        Mask.from_array(bottom, id=1, label=0, z_order=0),
        Mask.from_array(top, id=2, label=1, z_order=1),
        Polygon(id=3, label=0, z_order=0, points=(7, 0, 9, 0, 9, 2, 7, 2)),  # uncovered: unchanged
        Polygon(id=4, label=1, z_order=0, points=(4, 4, 7, 4, 7, 7, 4, 7)),  # fully under the top mask
        Label(label=0),
    )
    item = Item(id="c", media=Image(size=(10, 10)), annotations=anns)
    out = one(item, "crop_covered_segments").annotations
    assert [(type(a).__name__, a.id) for a in out] == [("Mask", 1), ("Mask", 2), ("Polygon", 3), ("Label", 0)]
    assert out[0].get_area() == 36 - 9
    assert not out[0].image[3:6, 3:6].any()
    assert out[1] is anns[1]
    assert out[2] is anns[2]


def test_crop_covered_polygon_is_retraced_and_tie_goes_to_later():
    under = Polygon(id=1, label=0, points=(0, 0, 10, 0, 10, 10, 0, 10))
    over = Polygon(id=2, label=1, points=(5, 0, 10, 0, 10, 10, 5, 10))
    item = Item(id="t", media=Image(size=(12, 12)), annotations=(under, over))
    out = one(item, "crop_covered_segments").annotations
    assert out[1] is over
    assert out[0].id == 1 and out[0].label == 0
    assert out[0].points == (0.0, 0.0, 0.0, 9.0, 4.0, 9.0, 4.0, 0.0)
    twice = Dataset.from_items([item]).transform("crop_covered_segments")
    assert [encode_item(i) for i in twice] == [encode_item(i) for i in twice]
