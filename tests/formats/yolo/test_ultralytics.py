"""Ultralytics YOLO (``yolo_ultralytics``): detect, segment, pose, list splits, data.yaml."""

from __future__ import annotations

import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.registry import detect_formats
from dsrepo.model.annotations import AnnType, Bbox, Mask, Points, Polygon, Polyline
from dsrepo.model.categories import Categories, LabelCategory, PointsCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import NullProgress

from .yolo_data import (
    assert_round_trip, files_of, make_list_split, make_pose, make_roboflow, make_ultralytics, write, write_image,
)


def _items(ds):
    return {(it.subset, it.id): it for it in ds}


def test_import_boxes_polygons_and_empty_splits(tmp_path):
    root = make_ultralytics(tmp_path / "u")
    progress = NullProgress()
    ds = import_dataset(root, "yolo_ultralytics", None, progress)
    assert ds.categories.label_names() == ["person", "bicycle", "no"]
    assert [(it.subset, it.id) for it in ds] == [("train", "a"), ("train", "bg"), ("train", "deep/b 1")]
    assert ds.subsets() == ["train", "val"]  # test: is declared empty, so it is no subset
    items = _items(ds)
    a = items[("train", "a")]
    assert a.media.path == str(root / "images" / "train" / "a.jpg") and a.media.size == (40, 80)
    box, poly = a.annotations
    assert (box.type, box.label, box.get_bbox()) == (AnnType.bbox, 0, (30.0, 10.0, 20.0, 20.0))
    assert (poly.type, poly.label, poly.points) == (AnnType.polygon, 1, (8.0, 4.0, 40.0, 4.0, 40.0, 20.0))
    assert dict(box.meta) == {} and dict(poly.meta) == {}
    assert items[("train", "bg")].annotations == () and items[("train", "bg")].meta["yolo_ultralytics"] == {"nl": True}
    b1 = items[("train", "deep/b 1")]
    assert b1.media.name == "deep/b 1.png" and b1.annotations[0].get_bbox() == (0.0, 0.0, 10.0, 10.0)
    assert b1.annotations[0].meta["yolo"] == {"t": "0.25 0.5 0.5 1"}
    assert progress.warnings == []


def test_round_trip_keeps_yaml_and_label_bytes(tmp_path):
    root = make_ultralytics(tmp_path / "u")
    assert_round_trip(root, tmp_path / "out", "yolo_ultralytics")
    assert files_of(tmp_path / "out") == files_of(root)


def test_changed_categories_update_yaml_in_place(tmp_path):
    root = make_ultralytics(tmp_path / "u")
    ds = import_dataset(root, "yolo_ultralytics")
    cats = Categories.from_names(ds.categories.label_names() + ["yes", "traffic light"])
    export_dataset(Dataset(cats, list(ds), ds.subset_meta), tmp_path / "out", "yolo_ultralytics")
    assert (tmp_path / "out" / "data.yaml").read_text() == (
        "# Example dataset\npath: ../datasets/example  # dataset root dir\n"
        "train: images/train  # train images\nval: images/val\ntest:  # optional\n\n"
        "# Classes\nnames:\n  0: person\n  1: bicycle\n  2: 'no'\n  3: 'yes'\n  4: traffic light\n")
    assert import_dataset(tmp_path / "out", "yolo_ultralytics").categories.label_names()[3:] == ["yes",
                                                                                                "traffic light"]


def test_pose_import_and_round_trip(tmp_path):
    root = make_pose(tmp_path / "p")
    ds = import_dataset(root, "yolo_ultralytics")
    pc = ds.categories.points[0]
    assert pc.labels == ("0", "1", "2") and pc.joints == ()
    p = _items(ds)[("train", "p")]
    b1, k1, b2, k2 = p.annotations
    assert (b1.type, b1.group, b1.get_bbox()) == (AnnType.bbox, 1, (80.0, 30.0, 40.0, 40.0))
    assert (k1.type, k1.group, k1.label) == (AnnType.points, 1, 0)
    assert k1.points == pytest.approx((90.0, 40.0, 110.0, 40.0, 0.0, 0.0)) and k1.visibility == (2, 1, 0)
    assert (b2.group, k2.group, k2.visibility) == (2, 2, (2, 0, 0))
    assert_round_trip(root, tmp_path / "out", "yolo_ultralytics")
    assert files_of(tmp_path / "out") == files_of(root)


def test_pose_with_two_values_per_keypoint(tmp_path):
    root = tmp_path / "p"
    write(root / "data.yaml", "train: images/train\nnames: [hand]\nkpt_shape: [2, 2]\n")
    write_image(root / "images" / "train" / "h.png", 10, 20)
    write(root / "labels" / "train" / "h.txt", "0 0.500000 0.500000 0.500000 0.500000 0.250000 0.500000 "
                                               "0.000000 0.000000\n")
    (it,) = list(import_dataset(root, "yolo_ultralytics"))
    assert it.annotations[1].points == (5.0, 5.0, 0.0, 0.0) and it.annotations[1].visibility == (2, 0)
    assert_round_trip(root, tmp_path / "out", "yolo_ultralytics")
    assert files_of(tmp_path / "out") == files_of(root)


def test_list_file_splits(tmp_path):
    root = make_list_split(tmp_path / "c")
    ds = import_dataset(root, "yolo_ultralytics")
    a, b = list(ds)
    assert (a.id, a.subset, a.media.name, a.media.size) == ("000000000009", "train", "000000000009.jpg", (16, 32))
    assert a.meta["yolo_ultralytics"] == {"p": "images/train2017/000000000009.jpg"}
    assert b.meta["yolo_ultralytics"] == {"p": "images/train2017/000000000025.jpg",
                                          "l": "images/train2017/000000000025.jpg"}
    assert a.annotations[0].get_bbox() == (12.0, 6.0, 8.0, 4.0)
    assert ds.subsets() == ["train", "val"]
    assert_round_trip(root, tmp_path / "out", "yolo_ultralytics")
    assert files_of(tmp_path / "out") == files_of(root)


def test_roboflow_layout(tmp_path):
    root = make_roboflow(tmp_path / "r")
    ds = import_dataset(root, "yolo_ultralytics")
    x, y = list(ds)
    assert (x.id, x.subset) == ("x_jpg.rf.123", "train")
    assert x.media.path == str(root / "train" / "images" / "x_jpg.rf.123.jpg")
    assert x.annotations[0].get_bbox() == (9.453125, 7.5, 2.03125, 5.0)
    assert (y.subset, y.annotations[0].type) == ("val", AnnType.polygon)
    assert ds.subsets() == ["train", "val"]
    assert_round_trip(root, tmp_path / "out", "yolo_ultralytics")
    assert files_of(tmp_path / "out") == files_of(root)


def _scratch(tmp_path):
    img = write_image(tmp_path / "img" / "x.jpg", 20, 40)
    square = [[0] * 8 for _ in range(8)]
    for r in range(2, 6):
        square[r][2:6] = [1] * 4
    cats = Categories(labels=(LabelCategory("cat"), LabelCategory("dog")))
    items = [Item("x", "train", Image(path=str(img), name="x.jpg"), (
        Bbox(x=10, y=5, w=20, h=10, label=1),
        Polygon(points=(0, 0, 20, 0, 20, 10), label=0),
        Polygon(points=(0, 0, 20, 0), label=0),
        Mask.from_array(square, label=0),
        Polyline(points=(0, 0, 1, 1), label=0),
        Points(points=(1, 2), label=0),
    )), Item("y", "val", Image(size=(4, 4), name="y.png"))]
    return Dataset.from_items(items, cats)


def test_export_from_scratch(tmp_path):
    progress = NullProgress()
    report = export_dataset(_scratch(tmp_path), tmp_path / "out", "yolo_ultralytics", None, progress)
    out = tmp_path / "out"
    assert report.files == ("data.yaml", "labels/train/x.txt", "labels/val/y.txt")
    assert (out / "data.yaml").read_text() == "train: images/train\nval: images/val\nnames:\n  0: cat\n  1: dog\n"
    assert (out / "labels" / "train" / "x.txt").read_text() == (
        "1 0.500000 0.500000 0.500000 0.500000\n0 0.000000 0.000000 0.500000 0.000000 0.500000 0.500000\n")
    assert progress.warnings == [
        "yolo_ultralytics cannot hold masks: 1 dropped",
        "yolo_ultralytics cannot hold points: 1 dropped",
        "yolo_ultralytics cannot hold polygons with fewer than 3 points: 1 dropped",
        "yolo_ultralytics cannot hold polylines: 1 dropped",
    ]


def test_detect_task_and_pose_without_schema(tmp_path):
    progress = NullProgress()
    export_dataset(_scratch(tmp_path), tmp_path / "out", "yolo_ultralytics", ["--task", "detect"], progress)
    assert (tmp_path / "out" / "labels" / "train" / "x.txt").read_text() == "1 0.500000 0.500000 0.500000 0.500000\n"
    assert "yolo_ultralytics cannot hold polygons: 2 dropped" in progress.warnings
    with pytest.raises(ExportError, match=r"^--task pose: the dataset has no keypoint schemas \(categories.points\)$"):
        export_dataset(_scratch(tmp_path), tmp_path / "pose", "yolo_ultralytics", ["--task", "pose"])


def test_masks_to_polygons(tmp_path):
    progress = NullProgress()
    export_dataset(_scratch(tmp_path), tmp_path / "out", "yolo_ultralytics", ["--masks-to-polygons"], progress)
    lines = (tmp_path / "out" / "labels" / "train" / "x.txt").read_text().splitlines()
    assert lines[2] == "0 0.050000 0.100000 0.050000 0.250000 0.125000 0.250000 0.125000 0.100000"
    assert "yolo_ultralytics cannot hold masks: 1 dropped" not in progress.warnings


def test_pose_export_from_keypoint_categories(tmp_path):
    img = write_image(tmp_path / "img" / "k.png", 10, 10)
    cats = Categories(labels=(LabelCategory("person"),), points={0: PointsCategory(("nose", "eye"))})
    item = Item("k", "train", Image(path=str(img), name="k.png"), (
        Bbox(x=0, y=0, w=10, h=10, label=0, group=7),
        Points(points=(5, 5, 1, 1), visibility=(2, 1), label=0, group=7),
        Bbox(x=0, y=0, w=5, h=5, label=0),
        Points(points=(3, 3), label=0),
    ))
    ds = Dataset.from_items([item], cats)
    progress = NullProgress()
    export_dataset(ds, tmp_path / "auto", "yolo_ultralytics", None, progress)
    assert (tmp_path / "auto" / "labels" / "train" / "k.txt").read_text() == (
        "0 0.500000 0.500000 1.000000 1.000000\n0 0.250000 0.250000 0.500000 0.500000\n")
    assert progress.warnings == ["yolo_ultralytics cannot hold points: 2 dropped"]
    progress = NullProgress()
    export_dataset(ds, tmp_path / "out", "yolo_ultralytics", ["--task", "pose"], progress)
    assert (tmp_path / "out" / "data.yaml").read_text() == "train: images/train\nnames:\n  0: person\n" \
                                                           "kpt_shape: [2, 3]\n"
    assert (tmp_path / "out" / "labels" / "train" / "k.txt").read_text() == (
        "0 0.500000 0.500000 1.000000 1.000000 0.500000 0.500000 2 0.100000 0.100000 1\n"
        "0 0.250000 0.250000 0.500000 0.500000 0.000000 0.000000 0 0.000000 0.000000 0\n")
    assert progress.warnings == ["yolo_ultralytics cannot hold points without a box (same group and label): "
                                 "1 dropped"]


def test_detect(tmp_path):
    root = make_ultralytics(tmp_path / "u")
    assert detect_formats(root)[0] == ("yolo_ultralytics", 0.9)
    assert detect_formats(root / "data.yaml")[0] == ("yolo_ultralytics", 0.9)
    lst = make_list_split(tmp_path / "c")
    assert detect_formats(lst)[0] == ("yolo_ultralytics", 0.7)
    write(tmp_path / "cfg" / "config.yaml", "lr: 0.1\n")
    assert all(n != "yolo_ultralytics" for n, _c in detect_formats(tmp_path / "cfg"))
