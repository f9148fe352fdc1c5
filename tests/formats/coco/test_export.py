"""COCO export: datasets without COCO meta, options, edits after import, COCOeval."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model import (
    Bbox, Caption, Categories, Ellipse, Image, Item, Label, LabelCategory, Mask, Points, PointsCategory, Polygon,
    Polyline,
)
from dsrepo.model.dataset import Dataset
from dsrepo.progress import NullProgress

from .coco_helpers import strict_diff


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def fresh_dataset(image_path: str | None = None) -> Dataset:
    """A dataset from somewhere else: no COCO meta at all."""
    cats = Categories(labels=(LabelCategory("person"), LabelCategory("car", parent="vehicle")),
                      points={0: PointsCategory(labels=("head", "tail"), joints=((1, 2),))})
    m = np.zeros((20, 30), np.uint8)
    m[5:10, 10:20] = 1
    items = [
        Item("x1", "train", media=Image(path=image_path, size=(20, 30), name="x1.jpg"), annotations=(
            Bbox(x=2, y=3, w=4, h=5, label=1, id=1),
            Polygon(points=[0, 0, 10, 0, 10, 10], label=0, id=2, group=2,
                    attributes={"score": 0.8, "color": "red"}),
            Mask.from_array(m, label=1, id=3, attributes={"is_crowd": True}),
            Points(points=[1, 1, 2, 2], visibility=[2, 1], label=0, id=4, group=4),
            Bbox(x=1, y=1, w=2, h=2, label=0, id=4, group=4),
            Caption(caption="hello", id=5),
            Label(label=1, attributes={"score": 0.25}),
        )),
        Item("dir/x2", "train", media=Image(size=(10, 10), name="dir/x2.png"), annotations=(
            Polygon(points=[1, 1, 5, 1, 5, 5], label=1),)),
        Item("v1", "val", media=Image(size=(8, 8)), annotations=()),
    ]
    return Dataset.from_items(items, cats)


def test_fresh_dataset_to_all_tasks(tmp_path):
    p = NullProgress()
    rep = export_dataset(fresh_dataset(), tmp_path, "coco", progress=p)
    assert rep.files == ("annotations/captions_train.json", "annotations/instances_train.json",
                         "annotations/instances_val.json", "annotations/labels_train.json",
                         "annotations/person_keypoints_train.json")
    assert p.warnings == []
    inst = _load(tmp_path / "annotations" / "instances_train.json")
    assert list(inst) == ["info", "licenses", "images", "annotations", "categories"]
    assert inst["categories"] == [{"id": 1, "name": "person", "supercategory": ""},
                                  {"id": 2, "name": "car", "supercategory": "vehicle"}]
    assert inst["images"] == [{"id": 1, "file_name": "x1.jpg", "width": 30, "height": 20},
                              {"id": 2, "file_name": "dir/x2.png", "width": 10, "height": 10}]
    by_id = {a["id"]: a for a in inst["annotations"]}
    assert by_id[1] == {"id": 1, "image_id": 1, "category_id": 2, "segmentation": [], "area": 20.0,
                        "bbox": [2.0, 3.0, 4.0, 5.0], "iscrowd": 0}
    assert by_id[2]["segmentation"] == [[0.0, 0.0, 10.0, 0.0, 10.0, 10.0]]
    assert by_id[2]["score"] == 0.8 and by_id[2]["attributes"] == {"color": "red"}
    assert by_id[2]["bbox"] == [0.0, 0.0, 10.0, 10.0]
    assert by_id[3]["iscrowd"] == 1 and by_id[3]["area"] == 50.0 and isinstance(by_id[3]["segmentation"]["counts"], str)
    assert by_id[4]["bbox"] == [1.0, 1.0, 2.0, 2.0]  # the keypoints' box is an instance too
    new_ids = [a["id"] for a in inst["annotations"] if a["image_id"] == 2]
    assert new_ids == [5]  # id 0 -> max + 1
    kp = _load(tmp_path / "annotations" / "person_keypoints_train.json")
    assert kp["categories"] == [{"id": 1, "name": "person", "supercategory": "", "keypoints": ["head", "tail"],
                                 "skeleton": [[1, 2]]}]
    assert kp["annotations"] == [{"id": 4, "image_id": 1, "category_id": 1, "segmentation": [], "area": 4.0,
                                  "bbox": [1.0, 1.0, 2.0, 2.0], "iscrowd": 0, "keypoints": [1.0, 1.0, 2, 2.0, 2.0, 1],
                                  "num_keypoints": 2}]
    caps = _load(tmp_path / "annotations" / "captions_train.json")
    assert "categories" not in caps and caps["annotations"] == [{"id": 5, "image_id": 1, "caption": "hello"}]
    labels = _load(tmp_path / "annotations" / "labels_train.json")
    assert labels["annotations"] == [{"id": 1, "image_id": 1, "category_id": 2, "score": 0.25}]
    val = _load(tmp_path / "annotations" / "instances_val.json")
    assert val["images"] == [{"id": 1, "file_name": "v1.jpg", "width": 8, "height": 8}] and val["annotations"] == []


def test_exported_files_load_with_pycocotools_and_cocoeval(tmp_path, rich):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from benchmarks.coco_gen import generate

    generate(tmp_path / "gen", 30, seed=1)
    export_dataset(import_dataset(tmp_path / "gen", "coco"), tmp_path / "a", "coco")
    export_dataset(fresh_dataset(), tmp_path / "b", "coco")
    export_dataset(import_dataset(rich, "coco"), tmp_path / "c", "coco")
    # (box-only objects have "segmentation": [], which segm evaluation cannot use)
    for gt_path, types in [(tmp_path / "a" / "annotations" / "instances_train2017.json", ("bbox", "segm")),
                           (tmp_path / "a" / "annotations" / "person_keypoints_train2017.json", ("bbox", "segm")),
                           (tmp_path / "b" / "annotations" / "instances_train.json", ("bbox",))]:
        gt = COCO(str(gt_path))
        for iou_type in types:
            dets = []
            for a in gt.dataset["annotations"]:
                d = {"image_id": a["image_id"], "category_id": a["category_id"], "score": 0.9}
                if iou_type == "bbox":
                    d["bbox"] = a["bbox"]
                else:
                    d["segmentation"] = gt.annToRLE(a)
                    d["segmentation"]["counts"] = d["segmentation"]["counts"].decode("ascii")
                dets.append(d)
            ev = COCOeval(gt, gt.loadRes(dets), iou_type)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            assert ev.stats[0] > 0.99, (gt_path, iou_type, ev.stats[0])
    for p in (tmp_path / "c" / "annotations").glob("*.json"):
        COCO(str(p))


def test_save_media_layouts_and_missing_images(tmp_path, rich):
    ds = import_dataset(rich, "coco")
    p = NullProgress()
    rep = export_dataset(ds, tmp_path / "o1", "coco", ["--save-media"], p)
    assert (tmp_path / "o1" / "images" / "val" / "img_a.jpg").read_bytes() == (
        rich / "images" / "val" / "img_a.jpg").read_bytes()
    assert (tmp_path / "o1" / "images" / "val" / "sub" / "dir" / "img_b.png").is_file()
    assert rep.missing_media == ("img_d",)
    assert p.warnings == ["coco: 1 images not saved (no image file): img_d"]
    assert "images/val/img_a.jpg" in rep.files
    rep2 = export_dataset(ds, tmp_path / "o2", "coco", ["--save-media", "--image-ext", ".png", "--merge-images"])
    assert (tmp_path / "o2" / "images" / "img_a.png").is_file()
    import cv2

    assert cv2.imread(str(tmp_path / "o2" / "images" / "img_a.png")).shape == (30, 40, 3)
    names = [i["file_name"] for i in _load(tmp_path / "o2" / "annotations" / "instances_val.json")["images"]]
    assert names == ["img_a.png", "sub/dir/img_b.png", "img_c.png", "img_d.png"]
    assert rep2.missing_media == ("img_d",)


def test_in_memory_images_are_encoded(tmp_path):
    img = np.full((6, 7, 3), 200, np.uint8)
    ds = Dataset.from_items([Item("a", media=Image(data=img, size=(6, 7)))], Categories())
    rep = export_dataset(ds, tmp_path, "coco_image_info", ["--save-media"])
    assert rep.files == ("annotations/image_info_default.json", "images/default/a.jpg")
    doc = _load(tmp_path / "annotations" / "image_info_default.json")
    assert doc["images"] == [{"id": 1, "file_name": "a.jpg", "width": 7, "height": 6}]
    assert "annotations" not in doc


def test_segmentation_modes(tmp_path):
    ds = fresh_dataset()
    p = NullProgress()
    export_dataset(ds, tmp_path / "poly", "coco_instances", ["--segmentation-mode", "polygons"], p)
    anns = {a["id"]: a for a in _load(tmp_path / "poly" / "annotations" / "instances_train.json")["annotations"]}
    assert isinstance(anns[3]["segmentation"], list) and len(anns[3]["segmentation"][0]) >= 8
    assert "coco_instances: 1 masks converted to polygons (outer contours; holes are filled)" in p.warnings
    export_dataset(ds, tmp_path / "mask", "coco_instances", ["--segmentation-mode", "mask"])
    anns = {a["id"]: a for a in _load(tmp_path / "mask" / "annotations" / "instances_train.json")["annotations"]}
    seg = anns[2]["segmentation"]
    assert set(seg) == {"counts", "size"} and seg["size"] == [20, 30]
    from pycocotools import mask as mu

    assert mu.area({"size": seg["size"], "counts": seg["counts"].encode()}) == anns[2]["area"]


def test_crop_covered(tmp_path):
    back = Polygon(points=[0, 0, 10, 0, 10, 10, 0, 10], label=0, id=1, group=1)
    front = Polygon(points=[5, 0, 10, 0, 10, 10, 5, 10], label=0, id=2, group=2, z_order=1)
    ds = Dataset.from_items([Item("a", media=Image(size=(12, 12)), annotations=(front, back))],
                            Categories.from_names(["x"]))
    export_dataset(ds, tmp_path / "plain", "coco_instances")
    export_dataset(ds, tmp_path / "crop", "coco_instances", ["--crop-covered"])
    plain = {a["id"]: a for a in _load(tmp_path / "plain" / "annotations" / "instances_default.json")["annotations"]}
    crop = {a["id"]: a for a in _load(tmp_path / "crop" / "annotations" / "instances_default.json")["annotations"]}
    assert crop[2] == plain[2]
    assert crop[1]["area"] < plain[1]["area"] and crop[1]["bbox"][2] < 10


def test_attributes_reindex_and_dataset_meta(tmp_path, rich):
    ds = import_dataset(rich, "coco")
    out = tmp_path / "out"
    rep = export_dataset(ds, out, "coco_instances",
                         ["--no-allow-attributes", "--reindex", "--save-dataset-meta"])
    doc = _load(out / "annotations" / "instances_val.json")
    assert all("attributes" not in a for a in doc["annotations"])
    assert [i["id"] for i in doc["images"]] == [1, 2, 3, 4]
    assert [a["id"] for a in doc["annotations"]] == list(range(1, len(doc["annotations"]) + 1))
    imgs = {i["id"]: i["file_name"] for i in doc["images"]}
    first = doc["annotations"][0]
    assert imgs[first["image_id"]] == "img_a.jpg" and first["category_id"] == 7
    assert "dataset_meta.json" in rep.files
    assert _load(out / "dataset_meta.json") == {"label_map": {"0": "background", "1": "person", "7": "car",
                                                                   "42": "tree"}}


def test_unrepresentable_annotations(tmp_path):
    ds = Dataset.from_items([Item("a", media=Image(size=(10, 10)), annotations=(
        Polyline(points=[0, 0, 1, 1], label=0), Ellipse(x1=1, y1=1, x2=5, y2=3, label=0),
        Caption(caption="c"), Bbox(x=1, y=1, w=2, h=2, label=3)), attributes={"time": "day"})],
        Categories.from_names(["x"]))
    p = NullProgress()
    export_dataset(ds, tmp_path / "a", "coco_instances", progress=p)
    assert p.warnings == ["coco_instances: 1 ellipses written as 32-point polygons",
                          "coco_instances cannot hold annotations with a label index outside the categories: "
                          "1 written with category_id 0",
                          "coco_instances cannot hold captions: 1 dropped",
                          "coco_instances cannot hold item attributes: 1 dropped",
                          "coco_instances cannot hold polylines: 1 dropped"]
    seg = _load(tmp_path / "a" / "annotations" / "instances_default.json")["annotations"][0]["segmentation"]
    assert len(seg) == 1 and len(seg[0]) == 64
    with pytest.raises(ExportError) as e:
        export_dataset(ds, tmp_path / "b", "coco_instances", ["--strict"])
    assert str(e.value) == ("coco_instances cannot hold annotations with a label index outside the categories: "
                            "1 written with category_id 0; coco_instances cannot hold captions: 1 dropped; "
                            "coco_instances cannot hold item attributes: 1 dropped; "
                            "coco_instances cannot hold polylines: 1 dropped (--strict)")
    assert list((tmp_path / "b").iterdir()) == []


def test_unknown_task_option(tmp_path):
    from dsrepo.errors import UsageError

    with pytest.raises(UsageError) as e:
        export_dataset(fresh_dataset(), tmp_path, "coco", ["--tasks", "instances,bogus"])
    assert "unknown task 'bogus'" in str(e.value)


# -- edits after import ----------------------------------------------------------------


def _edit(ds: Dataset, fn) -> Dataset:
    return ds.map_items(lambda it: it.with_(annotations=tuple(fn(it, it.annotations))))


def test_edited_geometry_gets_fresh_area_and_bbox(tmp_path, rich):
    ds = import_dataset(rich, "coco")

    def move(it, anns):
        out = []
        for a in anns:
            if a.id == 105 and a.type.value == "polygon":
                a = a.with_(points=(2.0, 2.0, 8.0, 2.0, 8.0, 9.0))
            out.append(a)
        return out

    export_dataset(_edit(ds, move), tmp_path / "out", "coco")
    src = {a["id"]: a for a in _load(rich / "annotations" / "instances_val.json")["annotations"]}
    out = {a["id"]: a for a in _load(tmp_path / "out" / "annotations" / "instances_val.json")["annotations"]}
    assert out[105]["segmentation"] == [[2.0, 2.0, 8.0, 2.0, 8.0, 9.0]]
    assert out[105]["bbox"] == [2.0, 2.0, 6.0, 7.0]  # was a stale [0, 0, 1, 1]
    from pycocotools import mask as mu

    rle = mu.merge(mu.frPyObjects(out[105]["segmentation"], 10, 20))
    assert out[105]["area"] == float(mu.area(rle)) != 999.0
    for aid in src:
        if aid != 105:
            assert strict_diff(src[aid], out[aid]) is None, aid


def test_deleted_added_and_relabelled_annotations(tmp_path, rich):
    ds = import_dataset(rich, "coco")
    car = ds.categories.find("car")

    def edit(it, anns):
        out = []
        for a in anns:
            if a.id == 102:
                continue  # deleted
            if a.id == 104:
                a = a.with_(label=car)  # relabelled
            out.append(a)
        if it.id == "img_c":
            out.append(Bbox(x=1, y=1, w=2, h=2, label=car))  # new
        return out

    cats = ds.categories.with_(labels=ds.categories.labels + (LabelCategory("bike"),))
    edited = _edit(ds, edit)
    edited = Dataset(cats, list(edited), ds.subset_meta)
    export_dataset(edited, tmp_path / "out", "coco")
    src = _load(rich / "annotations" / "instances_val.json")
    out = _load(tmp_path / "out" / "annotations" / "instances_val.json")
    ids = [a["id"] for a in out["annotations"]]
    want = [a["id"] for a in src["annotations"] if a["id"] != 102]
    new_id = 900100000124  # max id + 1
    pos = want.index(900100000123)
    assert ids == want[:pos + 1] + [new_id] + want[pos + 1:]  # new box follows its item's last one
    by_id = {a["id"]: a for a in out["annotations"]}
    assert by_id[104]["category_id"] == 7
    assert by_id[new_id] == {"id": new_id, "image_id": 200, "category_id": 7, "segmentation": [], "area": 4.0,
                             "bbox": [1.0, 1.0, 2.0, 2.0], "iscrowd": 0}
    assert out["categories"][-1] == {"id": 43, "name": "bike", "supercategory": ""}
    # the new label is not pushed into the keypoints file (it only lists person)
    kp = _load(tmp_path / "out" / "annotations" / "person_keypoints_val.json")
    assert [c["name"] for c in kp["categories"]] == ["person"]


def test_new_item_is_listed_in_every_task_file(tmp_path, rich):
    ds = import_dataset(rich, "coco")
    new = Item("new", "val", media=Image(size=(4, 4), name="new.jpg"), annotations=(Caption(caption="hi"),))
    export_dataset(Dataset(ds.categories, list(ds) + [new], ds.subset_meta), tmp_path / "out", "coco")
    for n in ("instances_val.json", "person_keypoints_val.json", "captions_val.json"):
        doc = _load(tmp_path / "out" / "annotations" / n)
        assert doc["images"][-1] == {"id": 201, "file_name": "new.jpg", "width": 4, "height": 4}
    caps = _load(tmp_path / "out" / "annotations" / "captions_val.json")["annotations"]
    assert caps[-1] == {"id": 4, "image_id": 201, "caption": "hi"}


def test_converting_between_task_formats(tmp_path, rich):
    ds = import_dataset(rich, "coco")
    export_dataset(ds, tmp_path / "i", "coco_instances")
    doc = _load(tmp_path / "i" / "annotations" / "instances_val.json")
    # keypoint objects' own shapes become instances too when only instances are written
    assert {a["id"] for a in doc["annotations"]} >= {100, 101, 102, 103, 104, 105, 106, 300, 301}
    export_dataset(ds, tmp_path / "s", "coco_stuff")
    stuff = _load(tmp_path / "s" / "annotations" / "stuff_val.json")
    assert len(stuff["annotations"]) == len(doc["annotations"])
