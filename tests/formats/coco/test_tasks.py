"""Panoptic, stuff, labels and image_info files: import, export and round trips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.coco.panoptic import encode_ids, read_ids
from dsrepo.model import Categories, Image, Item, LabelCategory, Mask
from dsrepo.model.annotations import AnnType
from dsrepo.model.dataset import Dataset

from .coco_data import _compressed_rle, write_json
from .coco_helpers import assert_same_files, roundtrip


def _panoptic(root: Path) -> np.ndarray:
    ids = np.zeros((6, 8), np.uint32)
    ids[0:3, 0:4] = 1001             # thing, id needs two bytes
    ids[3:6, :] = 70000              # stuff, id needs three bytes
    ids[0:3, 5:8] = 5
    (root / "annotations" / "panoptic_val").mkdir(parents=True)
    (root / "annotations" / "panoptic_val" / "p1.png").write_bytes(encode_ids(ids))
    doc = {
        "info": {"year": 2017}, "licenses": [],
        "images": [{"id": 1, "file_name": "p1.jpg", "width": 8, "height": 6},
                   {"id": 2, "file_name": "p2.jpg", "width": 8, "height": 6}],
        "annotations": [
            {"image_id": 1, "file_name": "p1.png", "segments_info": [
                {"id": 1001, "category_id": 1, "area": 12, "bbox": [0, 0, 4, 3], "iscrowd": 0},
                {"id": 70000, "category_id": 184, "area": 24, "bbox": [0, 3, 8, 3], "iscrowd": 0},
                {"id": 5, "category_id": 1, "area": 9, "bbox": [5, 0, 3, 3], "iscrowd": 1}]},
            {"image_id": 2, "file_name": "p2.png", "segments_info": []}],
        "categories": [{"supercategory": "person", "isthing": 1, "id": 1, "name": "person"},
                       {"supercategory": "floor", "isthing": 0, "id": 184, "name": "floor-other-merged"}],
    }
    write_json(root / "annotations" / "panoptic_val.json", doc)
    (root / "annotations" / "panoptic_val" / "p2.png").write_bytes(encode_ids(np.zeros((6, 8), np.uint32)))
    return ids


def test_png_id_encoding_is_r_plus_256g_plus_65536b(tmp_path):
    import cv2

    ids = np.array([[1, 256, 65536, 0x123456]], np.uint32)
    p = tmp_path / "x.png"
    p.write_bytes(encode_ids(ids))
    rgb = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
    assert rgb[0].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0x56, 0x34, 0x12]]
    assert read_ids(p).tolist() == ids.tolist()


def test_panoptic_import(tmp_path):
    ids = _panoptic(tmp_path)
    ds = import_dataset(tmp_path, "coco")
    items = {it.id: it for it in ds}
    masks = items["p1"].annotations
    assert [(m.type, m.id, m.label) for m in masks] == [(AnnType.mask, 1001, 0), (AnnType.mask, 70000, 1),
                                                       (AnnType.mask, 5, 0)]
    assert (masks[0].image == (ids == 1001)).all() and masks[1].get_area() == 24
    assert masks[2].attributes["is_crowd"] is True
    assert all(m.meta["coco"]["task"] == "panoptic" for m in masks)
    assert ds.categories.labels[1].meta["coco"] == {"id": 184, "x": {"isthing": 0}}
    assert items["p2"].annotations == () and items["p2"].meta["coco"]["pan"] == {}


def test_panoptic_round_trip_is_pixel_exact(tmp_path):
    ids = _panoptic(tmp_path / "src")
    roundtrip(tmp_path / "src", tmp_path / "out", encode=True)
    assert_same_files(tmp_path / "src" / "annotations", tmp_path / "out" / "annotations")
    assert read_ids(tmp_path / "out" / "annotations" / "panoptic_val" / "p1.png").tolist() == ids.tolist()
    assert (tmp_path / "out" / "annotations" / "panoptic_val" / "p2.png").is_file()


def test_panoptic_task_format_on_a_json_file(tmp_path):
    _panoptic(tmp_path)
    ds = import_dataset(tmp_path / "annotations" / "panoptic_val.json", "coco_panoptic")
    assert sum(len(it.annotations) for it in ds) == 3


def test_masks_from_elsewhere_to_panoptic(tmp_path):
    a = np.zeros((5, 5), np.uint8)
    a[1:3, 1:3] = 1
    b = np.zeros((5, 5), np.uint8)
    b[2:5, 2:5] = 1  # overlaps a: the later mask wins
    ds = Dataset.from_items([Item("m", media=Image(size=(5, 5)), annotations=(
        Mask.from_array(a, label=0), Mask.from_array(b, label=1, id=9)))],
        Categories.from_names(["x", "y"]))
    export_dataset(ds, tmp_path, "coco_panoptic")
    doc = json.loads((tmp_path / "annotations" / "panoptic_default.json").read_text())
    segs = doc["annotations"][0]["segments_info"]
    assert [(s["id"], s["category_id"], s["area"], s["bbox"]) for s in segs] == [
        (10, 1, 3, [1, 1, 2, 2]), (9, 2, 9, [2, 2, 3, 3])]
    assert doc["categories"] == [{"id": 1, "name": "x", "supercategory": "", "isthing": 1},
                                 {"id": 2, "name": "y", "supercategory": "", "isthing": 1}]
    got = read_ids(tmp_path / "annotations" / "panoptic_default" / "m.png")
    assert int((got == 9).sum()) == 9 and int((got == 10).sum()) == 3


def test_stuff_round_trip_and_tag(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "s.jpg", "width": 16, "height": 12}],
           "annotations": [{"id": 10000001, "image_id": 1, "category_id": 92, "segmentation": _compressed_rle(12, 16),
                            "area": 18.0, "bbox": [3.0, 2.0, 6.0, 3.0], "iscrowd": 0}],
           "categories": [{"supercategory": "textile", "id": 92, "name": "banner"}]}
    write_json(tmp_path / "src" / "annotations" / "stuff_val2017.json", doc)
    write_json(tmp_path / "src" / "annotations" / "instances_val2017.json",
               {"images": doc["images"], "annotations": [], "categories": []})
    ds, _ = roundtrip(tmp_path / "src", tmp_path / "out", encode=True)
    m = next(iter(ds)).annotations[0]
    assert m.type is AnnType.mask and m.meta["coco"]["task"] == "stuff"
    assert_same_files(tmp_path / "src" / "annotations", tmp_path / "out" / "annotations")


def test_labels_round_trip(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 2, "height": 2}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 2, "score": 0.75,
                            "attributes": {"source": "model"}}, {"id": 2, "image_id": 1, "category_id": 1}],
           "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]}
    write_json(tmp_path / "src" / "annotations" / "labels_train.json", doc)
    roundtrip(tmp_path / "src", tmp_path / "out", encode=True)
    assert_same_files(tmp_path / "src" / "annotations", tmp_path / "out" / "annotations")


def test_image_info_round_trip(tmp_path):
    doc = {"info": {"year": 2017}, "images": [{"id": 3, "file_name": "t.jpg", "width": 2, "height": 2,
                                                "coco_url": "u"}],
           "licenses": [], "categories": [{"id": 1, "name": "cat", "supercategory": "animal"}]}
    write_json(tmp_path / "src" / "annotations" / "image_info_test2017.json", doc)
    roundtrip(tmp_path / "src", tmp_path / "out", encode=True)
    assert_same_files(tmp_path / "src" / "annotations", tmp_path / "out" / "annotations")


def test_categories_with_differing_records_across_files(tmp_path):
    """The same category written differently in two files keeps each file's form."""
    img = [{"id": 1, "file_name": "a.jpg", "width": 2, "height": 2}]
    write_json(tmp_path / "src" / "annotations" / "instances_v.json",
               {"images": img, "annotations": [], "categories": [{"id": 1, "name": "person", "supercategory": "p"}]})
    write_json(tmp_path / "src" / "annotations" / "panoptic_v.json",
               {"images": img, "annotations": [],
                "categories": [{"id": 1, "name": "person", "isthing": 1},
                               {"id": 2, "name": "sky", "isthing": 0, "supercategory": "s"}]})
    ds, _ = roundtrip(tmp_path / "src", tmp_path / "out", encode=True)
    assert ds.categories.label_names() == ["person", "sky"]
    assert ds.subset_meta["v"]["coco"]["files"]["panoptic"]["cats"] == [[1, {"isthing": 1}, ["supercategory"]], 2]
    assert_same_files(tmp_path / "src" / "annotations", tmp_path / "out" / "annotations")


def test_same_image_listed_differently_in_two_files(tmp_path):
    write_json(tmp_path / "src" / "annotations" / "instances_v.json", {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 2, "height": 2},
                   {"id": 2, "file_name": "b.jpg", "width": 2, "height": 2}],
        "annotations": [], "categories": []})
    write_json(tmp_path / "src" / "annotations" / "captions_v.json", {
        "images": [{"id": 2, "file_name": "b.jpg", "width": 2, "height": 2, "flickr_url": "f"},
                   {"id": 9, "file_name": "a.jpg", "width": 2, "height": 2}],
        "annotations": [{"id": 1, "image_id": 9, "caption": "x"}]})
    ds, _ = roundtrip(tmp_path / "src", tmp_path / "out", encode=True)
    items = {it.id: it for it in ds}
    assert items["a"].meta["coco"]["t"] == {"instances": {}, "captions": {"o": 1, "r": {"id": 9}}}
    assert items["b"].meta["coco"]["t"] == {"instances": {}, "captions": {"o": 0, "r": {"flickr_url": "f"}}}
    assert_same_files(tmp_path / "src" / "annotations", tmp_path / "out" / "annotations")


def test_label_names_repeated_with_other_ids_stay_separate(tmp_path):
    write_json(tmp_path / "annotations" / "instances_v.json", {
        "images": [], "annotations": [],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "a"}]})
    ds = import_dataset(tmp_path, "coco")
    assert [(lab.name, lab.meta["coco"]["id"]) for lab in ds.categories.labels] == [("a", 1), ("a", 2)]
    export_dataset(ds, tmp_path / "out", "coco")
    out = json.loads((tmp_path / "out" / "annotations" / "instances_v.json").read_text())
    assert out["categories"] == [{"id": 1, "name": "a"}, {"id": 2, "name": "a"}]


def test_keep_original_ids_export_writes_the_same_ids(tmp_path, rich):
    ds = import_dataset(rich, "coco", ["--keep-original-category-ids"])
    export_dataset(ds, tmp_path / "out", "coco")
    assert_same_files(rich / "annotations", tmp_path / "out" / "annotations")


def test_new_labels_get_ids_after_the_largest(tmp_path, rich):
    ds = import_dataset(rich, "coco")
    cats = ds.categories.with_(labels=ds.categories.labels + (LabelCategory("new1"), LabelCategory("new2")))
    export_dataset(Dataset(cats, list(ds), ds.subset_meta), tmp_path / "out", "coco")
    doc = json.loads((tmp_path / "out" / "annotations" / "instances_val.json").read_text())
    assert [(c["id"], c["name"]) for c in doc["categories"]][-2:] == [(43, "new1"), (44, "new2")]
