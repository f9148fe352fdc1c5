"""What a COCO import produces: items, annotations, categories, media, meta."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsrepo.formats.api import import_dataset
from dsrepo.model.annotations import AnnType
from dsrepo.progress import NullProgress

from .coco_data import RLE_UNCOMPRESSED, instances_doc, write_image, write_json


def _items(ds):
    return {it.id: it for it in ds}


def test_items_media_and_meta(rich):
    ds = import_dataset(rich, "coco")
    assert len(ds) == 4
    items = _items(ds)
    assert list(items) == ["img_a", "sub/dir/img_b", "img_c", "img_d"]
    a = items["img_a"]
    assert a.subset == "val"
    assert a.media.size == (30, 40) and a.media.name == "img_a.jpg"
    assert a.media.path == str((rich / "images" / "val" / "img_a.jpg").resolve())
    assert a.meta["coco"]["id"] == 11
    assert a.meta["coco"]["x"] == {"license": 3, "date_captured": "2024-01-01 00:00:00", "custom_flag": True}
    # nested file name keeps its folders in the id
    assert items["sub/dir/img_b"].media.name == "sub/dir/img_b.png"
    assert items["sub/dir/img_b"].media.path.endswith("images/val/sub/dir/img_b.png")
    # a missing image file is not an error: no path, size from the JSON
    d = items["img_d"]
    assert d.media.path is None and d.media.size == (8, 8) and d.media.name == "img_d.jpg"


def test_images_in_coco_download_layout(tmp_path):
    write_json(tmp_path / "annotations" / "instances_val2017.json", instances_doc())
    write_image(tmp_path / "val2017" / "img_a.jpg", 30, 40)
    ds = import_dataset(tmp_path, "coco")
    items = _items(ds)
    assert {it.subset for it in ds} == {"val2017"}
    assert items["img_a"].media.path == str(tmp_path / "val2017" / "img_a.jpg")
    assert items["img_c"].media.path is None


def test_polygons_masks_boxes(rich):
    items = _items(import_dataset(rich, "coco"))
    anns = items["img_a"].annotations
    # object 100: two polygon parts, same id and group, label "car"
    parts = [a for a in anns if a.id == 100]
    assert [a.type for a in parts] == [AnnType.polygon, AnnType.polygon]
    assert {a.group for a in parts} == {100}
    assert parts[0].points == (1.5, 1.0, 10.25, 1.0, 10.0, 8.0)
    assert parts[1].points == (20.0, 20.0, 25.0, 20.0, 25.0, 26.0, 20.0, 26.0)
    cats = import_dataset(rich, "coco").categories
    assert cats.labels[parts[0].label].name == "car"
    assert dict(parts[0].attributes) == {"occluded": True, "color": "red", "score": 0.9}
    m = parts[0].meta["coco"]
    assert m["area"] == 77.5 and m["bbox"] == [1.5, 1.0, 23.5, 25.0] and m["x"] == {"review": {"by": "ann", "ok": 1}}
    assert "coco" not in parts[1].meta or "area" not in parts[1].meta.get("coco", {})
    # box-only object (empty segmentation)
    box = next(a for a in anns if a.id == 104)
    assert box.type is AnnType.bbox and (box.x, box.y, box.w, box.h) == (5.0, 6.0, 3.0, 4.0)
    # crowd with uncompressed RLE: Mask keeping the counts as given
    crowd = next(a for a in items["sub/dir/img_b"].annotations if a.id == 101)
    assert crowd.type is AnnType.mask and crowd.attributes["is_crowd"] is True
    assert list(crowd.rle["counts"]) == RLE_UNCOMPRESSED["counts"] and crowd.rle["size"] == (10, 20)
    # compressed RLE string kept as a string
    comp = next(a for a in items["img_c"].annotations if a.id == 103)
    assert comp.type is AnnType.mask and isinstance(comp.rle["counts"], str)
    assert comp.get_area() == 18.0


def test_keypoints_points_bbox_and_shared_segmentation(rich):
    ds = import_dataset(rich, "coco")
    items = _items(ds)
    anns = items["img_a"].annotations
    person = ds.categories.find("person")
    assert ds.categories.points[person].labels == ("nose", "l_eye", "r_eye")
    assert ds.categories.points[person].joints == ((1, 2), (1, 3))
    # id 106 is in instances and person_keypoints with the same segmentation: one polygon
    group = [a for a in anns if a.group == 106]
    assert sorted(a.type.value for a in group) == ["bbox", "points", "polygon"]
    pts = next(a for a in group if a.type is AnnType.points)
    assert pts.points == (13.0, 13.0, 15.0, 14.0, 0.0, 0.0) and pts.visibility == (2, 2, 0)
    assert pts.label == person and pts.meta["coco"]["sh"] == 1
    bbox = next(a for a in group if a.type is AnnType.bbox)
    assert bbox.meta["coco"]["task"] == "person_keypoints"
    # id 300 only in person_keypoints: its polygon is tagged
    own = [a for a in anns if a.group == 300]
    assert sorted(a.type.value for a in own) == ["bbox", "points", "polygon"]
    assert all(a.meta["coco"]["task"] == "person_keypoints" for a in own if a.type is not AnnType.points)
    # num_keypoints that disagrees with visibilities is kept as given
    lone = next(a for a in items["img_d"].annotations if a.type is AnnType.points)
    assert lone.visibility == (2, 2, 0) and lone.meta["coco"]["nk"] == [3, 2]


def test_captions_and_scores(rich):
    items = _items(import_dataset(rich, "coco"))
    caps = [a for a in items["img_a"].annotations if a.type is AnnType.caption]
    assert [(c.id, c.caption) for c in caps] == [(1, "two cars"), (3, "unicode: café ☕")]
    assert dict(caps[0].attributes) == {"score": 0.5}


def test_category_ids_and_keep_original_ids(rich):
    ds = import_dataset(rich, "coco")
    assert ds.categories.label_names() == ["background", "person", "car", "tree"]
    assert [lab.meta["coco"]["id"] for lab in ds.categories.labels] == [0, 1, 7, 42]
    assert ds.categories.labels[3].meta["coco"]["x"] == {"color": [0, 128, 0]}
    assert ds.categories.labels[2].parent == "vehicle"
    ds2 = import_dataset(rich, "coco", ["--keep-original-category-ids"])
    labels = ds2.categories.labels
    assert len(labels) == 43
    assert labels[0].name == "background" and labels[7].name == "car" and labels[42].name == "tree"
    assert labels[5].meta["coco"]["placeholder"] is True
    car = next(a for a in _items(ds2)["img_a"].annotations if a.id == 100)
    assert car.label == 7
    assert ds2.categories.points[1].labels == ("nose", "l_eye", "r_eye")


def test_category_zero_without_a_category_means_no_label(tmp_path):
    doc = instances_doc()
    doc["categories"] = [c for c in doc["categories"] if c["id"] != 0]
    write_json(tmp_path / "annotations" / "instances_v.json", doc)
    ann = next(a for a in _items(import_dataset(tmp_path, "coco"))["img_a"].annotations if a.id == 102)
    assert ann.label is None and ann.meta["coco"]["cat"] == 0


def test_images_listed_without_annotations_and_unlisted_files(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "with.jpg", "width": 4, "height": 3},
                      {"id": 2, "file_name": "empty.jpg", "width": 4, "height": 3}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}],
           "categories": [{"id": 1, "name": "a"}]}
    write_json(tmp_path / "annotations" / "instances_s.json", doc)
    write_image(tmp_path / "images" / "s" / "empty.jpg", 3, 4)
    write_image(tmp_path / "images" / "s" / "unlisted.jpg", 3, 4)
    items = _items(import_dataset(tmp_path, "coco"))
    assert list(items) == ["with", "empty"]  # files not in the JSON are not items
    assert items["empty"].annotations == () and items["empty"].media.has_file
    assert items["with"].media.path is None


def test_items_merge_across_task_files(rich):
    items = _items(import_dataset(rich, "coco"))
    kinds = sorted({a.type.value for a in items["img_a"].annotations})
    assert kinds == ["bbox", "caption", "points", "polygon"]
    # img_d is not in the captions file: its meta says which files list it
    assert items["img_d"].meta["coco"]["t"] == {"instances": {}, "person_keypoints": {}}
    assert "t" not in items["img_a"].meta["coco"]


def test_subset_meta_records_files(rich):
    ds = import_dataset(rich, "coco")
    files = ds.subset_meta["val"]["coco"]["files"]
    assert list(files) == ["instances", "person_keypoints", "captions"]
    inst = files["instances"]
    assert inst["name"] == "instances_val.json"
    assert inst["keys"] == ["info", "licenses", "images", "annotations", "categories"]
    assert inst["top"]["licenses"] == [{"id": 3, "name": "CC0", "url": "http://example/cc0"}]
    assert inst["cats"] == [0, 1, 7, 42]
    assert inst["order"] == "file"  # annotations are not grouped by image
    # person differs in the keypoints file only by keypoints/skeleton: no patch needed
    assert files["person_keypoints"]["cats"] == [1]
    assert "cats" not in files["captions"]


def test_annotation_positions_only_when_not_grouped(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
           "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]},
                           {"id": 3, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]}],
           "categories": [{"id": 1, "name": "a"}]}
    write_json(tmp_path / "annotations" / "instances_s.json", doc)
    ds = import_dataset(tmp_path, "coco")
    assert "order" not in ds.subset_meta["s"]["coco"]["files"]["instances"]
    assert all("o" not in a.meta["coco"] for it in ds for a in it.annotations)


def test_duplicate_annotation_ids_warn(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "a.jpg"}],
           "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]},
                           {"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 1, 1, 1]}],
           "categories": [{"id": 1, "name": "a"}]}
    write_json(tmp_path / "annotations" / "instances_s.json", doc)
    p = NullProgress()
    ds = import_dataset(tmp_path, "coco", progress=p)
    assert p.warnings == ["coco: 1 annotations repeat an earlier annotation id; "
                          "they are imported without an id and get new ids on export"]
    anns = next(iter(ds)).annotations
    assert [a.id for a in anns] == [5, 0] and anns[0].group != anns[1].group


def test_dataset_is_lazy_and_reiterable(rich):
    ds = import_dataset(rich, "coco")
    first = [it.id for it in ds]
    assert first == [it.id for it in ds]
    assert ds.get("img_c", "val").media.size == (12, 16)


@pytest.mark.parametrize("fmt", ["coco_instances", "coco_person_keypoints", "coco_captions"])
def test_task_formats_read_only_their_task(rich, fmt):
    ds = import_dataset(rich, fmt)
    types = {a.type.value for it in ds for a in it.annotations}
    want = {"coco_instances": {"polygon", "mask", "bbox"}, "coco_person_keypoints": {"points", "bbox", "polygon"},
            "coco_captions": {"caption"}}[fmt]
    assert types == want


def test_task_format_on_a_json_file_uses_default_subset(tmp_path):
    p = write_json(tmp_path / "whatever.json", instances_doc())
    ds = import_dataset(p, "coco_instances")
    assert {it.subset for it in ds} == {"default"}
    p2 = write_json(tmp_path / "x" / "instances_train.json", instances_doc())
    assert {it.subset for it in import_dataset(p2, "coco_instances")} == {"train"}


def test_labels_task(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 2, "height": 2}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 2, "score": 0.75},
                           {"id": 2, "image_id": 1, "category_id": 1}],
           "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]}
    write_json(tmp_path / "annotations" / "labels_train.json", doc)
    ds = import_dataset(tmp_path, "coco_labels")
    anns = next(iter(ds)).annotations
    assert [(a.type.value, a.label, dict(a.attributes)) for a in anns] == [
        ("label", 1, {"score": 0.75}), ("label", 0, {})]


def test_image_info_task(tmp_path):
    doc = {"info": {}, "images": [{"id": 1, "file_name": "a.jpg", "width": 2, "height": 2}],
           "categories": [{"id": 1, "name": "cat"}]}
    write_json(tmp_path / "annotations" / "image_info_test2017.json", doc)
    ds = import_dataset(tmp_path, "coco")
    assert [(it.id, it.subset, it.annotations) for it in ds] == [("a", "test2017", ())]
    assert ds.categories.label_names() == ["cat"]


def test_import_does_not_load_heavy_modules_into_spec():
    import subprocess
    import sys

    code = ("import sys; import dsrepo.formats.coco.spec as s; "
            "bad=[m for m in ('numpy','cv2','pycocotools','msgspec') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.strip() == "[]"


def test_stubs_give_the_same_fingerprints_eager_or_lazy():
    from pathlib import Path

    from dsrepo.formats.api import import_dataset

    sample = Path(__file__).resolve().parents[3] / "dsrepo" / "data" / "sample" / "coco"
    ds = import_dataset(sample, "coco")
    eager = list(ds.stubs())
    lazy = list(ds.stubs(lazy=True))
    assert [(s[0], s[1]) for s in eager] == [(s[0], s[1]) for s in lazy] == [(i.subset, i.id) for i in ds]
    fps = [s[2] for s in eager]
    assert all(isinstance(f, bytes) and len(f) == 20 for f in fps) and len(set(fps)) == len(fps)
    assert [s[2]() for s in lazy] == fps
    assert [s[4]() for s in lazy] == list(ds)  # build() gives the imported items
