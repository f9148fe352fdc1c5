"""A person's box in instances and in person_keypoints is one box, as COCO means it.

COCO writes a person with keypoints into both files (same id, same box and segmentation).
The importer merges a keypoints record into the instances record it repeats, so the box
comes back once, whether the files came from COCO or from dsrepo's own export of a
dataset whose Bbox and Points share a group (ids kept, or ids 0 renumbered per file).
"""

from __future__ import annotations

import json
from pathlib import Path

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model import Bbox, Categories, Image, Item, LabelCategory, Points, PointsCategory, Polygon
from dsrepo.model.dataset import Dataset
from dsrepo.progress import NullProgress

from .coco_data import write_json
from .coco_helpers import assert_same_files, through_encoding

CATS = Categories(labels=(LabelCategory("person"), LabelCategory("car")),
                  points={0: PointsCategory(labels=("nose", "tail"), joints=((1, 2),))})


def _dataset(*anns, size=(20, 30)) -> Dataset:
    return Dataset.from_items([Item("p 1", "train", media=Image(size=size, name="p 1.jpg"), annotations=anns)], CATS)


def _kinds(item) -> list[tuple[str, int]]:
    return [(a.type.value, a.group) for a in item.annotations]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_grouped_box_and_points_come_back_with_one_box(tmp_path):
    ds = _dataset(Bbox(x=2, y=3, w=10, h=12, label=0, id=7, group=1, attributes={"occluded": True}),
                  Points(points=[4, 5, 6, 7], visibility=[2, 1], label=0, id=8, group=1))
    progress = NullProgress()
    export_dataset(ds, tmp_path / "out", "coco", progress=progress)
    assert progress.warnings == []
    inst = _load(tmp_path / "out" / "annotations" / "instances_train.json")["annotations"]
    kp = _load(tmp_path / "out" / "annotations" / "person_keypoints_train.json")["annotations"]
    assert [(a["id"], a["bbox"]) for a in inst] == [(7, [2.0, 3.0, 10.0, 12.0])]
    assert [(a["id"], a["bbox"], a["keypoints"]) for a in kp] == [(8, [2.0, 3.0, 10.0, 12.0],
                                                                   [4.0, 5.0, 2, 6.0, 7.0, 1])]
    back = list(import_dataset(tmp_path / "out", "coco"))
    assert len(back) == 1
    item = back[0]
    assert _kinds(item) == [("bbox", 7), ("points", 7)]
    box, pts = item.annotations
    assert (box.id, box.x, box.y, box.w, box.h, dict(box.attributes)) == (7, 2.0, 3.0, 10.0, 12.0, {"occluded": True})
    assert (pts.id, pts.points, pts.visibility) == (8, (4.0, 5.0, 6.0, 7.0), (2, 1))
    assert pts.meta["coco"]["sh"] == 1
    # and the files it rebuilds are the same, also after the canonical encoding
    export_dataset(through_encoding(import_dataset(tmp_path / "out", "coco")), tmp_path / "again", "coco")
    assert_same_files(tmp_path / "out" / "annotations", tmp_path / "again" / "annotations")


def test_ids_zero_are_linked_by_their_identical_box(tmp_path):
    """Formats without annotation ids (LabelMe, CVAT) give id 0: each file numbers its
    records on its own, and the same box and category still link them."""
    ds = _dataset(Bbox(x=9, y=1, w=3, h=3, label=1),
                  Bbox(x=2, y=3, w=10, h=12, label=0, group=1),
                  Points(points=[4, 5], visibility=[2], label=0, group=1))
    export_dataset(ds, tmp_path / "out", "coco")
    inst = _load(tmp_path / "out" / "annotations" / "instances_train.json")["annotations"]
    kp = _load(tmp_path / "out" / "annotations" / "person_keypoints_train.json")["annotations"]
    assert [a["id"] for a in inst] == [1, 2] and [a["id"] for a in kp] == [1]
    item = next(iter(import_dataset(tmp_path / "out", "coco")))
    assert _kinds(item) == [("bbox", 1), ("bbox", 2), ("points", 2)]
    assert [(a.label, a.x) for a in item.annotations if a.type.value == "bbox"] == [(1, 9.0), (0, 2.0)]


def test_coco_files_sharing_a_box_only_person(tmp_path):
    """COCO's own layout: same id in both files, box only (no segmentation)."""
    images = [{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30}]
    person = {"id": 1, "name": "person", "supercategory": "person", "keypoints": ["nose"], "skeleton": []}
    write_json(tmp_path / "src" / "annotations" / "instances_val.json", {
        "images": images, "categories": [{"id": 1, "name": "person", "supercategory": "person"}],
        "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 12,
                         "iscrowd": 0, "segmentation": []}]})
    write_json(tmp_path / "src" / "annotations" / "person_keypoints_val.json", {
        "images": images, "categories": [person],
        "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 12,
                         "iscrowd": 0, "segmentation": [], "keypoints": [2, 3, 2], "num_keypoints": 1}]})
    progress = NullProgress()
    ds = import_dataset(tmp_path / "src", "coco", progress=progress)
    item = next(iter(ds))
    assert _kinds(item) == [("bbox", 5), ("points", 5)]
    assert item.annotations[0].meta["coco"].get("task") is None
    export_dataset(through_encoding(ds), tmp_path / "out", "coco", progress=progress)
    assert progress.warnings == []
    assert_same_files(tmp_path / "src" / "annotations", tmp_path / "out" / "annotations")


def test_keypoint_box_that_differs_stays_apart(tmp_path):
    """Not the same box (or not the same category): two objects, two boxes."""
    ds = _dataset(Bbox(x=2, y=3, w=10, h=12, label=1, group=1),
                  Points(points=[4, 5], visibility=[2], label=0, group=1),
                  Bbox(x=0, y=0, w=5, h=5, label=0, group=2),
                  Points(points=[1, 1, 8, 9], visibility=[2, 2], label=0, group=3))
    export_dataset(ds, tmp_path / "out", "coco")
    item = next(iter(import_dataset(tmp_path / "out", "coco")))
    boxes = sorted((a.label, a.x, a.y, a.w, a.h, a.meta["coco"].get("task")) for a in item.annotations
                   if a.type.value == "bbox")
    assert boxes == [(0, 0.0, 0.0, 5.0, 5.0, None), (0, 1.0, 1.0, 7.0, 8.0, "person_keypoints"),
                     (0, 2.0, 3.0, 10.0, 12.0, "person_keypoints"), (1, 2.0, 3.0, 10.0, 12.0, None)]


def test_grouped_polygon_and_points_come_back_with_one_polygon(tmp_path):
    ds = _dataset(Polygon(points=[2, 2, 12, 2, 12, 14], label=0, group=4),
                  Points(points=[4, 5], visibility=[2], label=0, group=4))
    export_dataset(ds, tmp_path / "out", "coco")
    item = next(iter(import_dataset(tmp_path / "out", "coco")))
    assert sorted(a.type.value for a in item.annotations) == ["bbox", "points", "polygon"]
    groups = {a.group for a in item.annotations}
    assert len(groups) == 1
    box = next(a for a in item.annotations if a.type.value == "bbox")
    assert (box.x, box.y, box.w, box.h) == (2.0, 2.0, 10.0, 12.0)
