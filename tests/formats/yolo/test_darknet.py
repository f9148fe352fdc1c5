"""Darknet YOLO (``yolo``): import, export, round trips."""

from __future__ import annotations

import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.registry import detect_formats
from dsrepo.model.annotations import AnnType, Bbox, Caption, Label, Mask, Points, Polygon
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.encoding import decode_item, encode_item
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import NullProgress

from .yolo_data import assert_round_trip, copy_images, encoded, files_of, make_darknet, write, write_image


@pytest.fixture
def darknet(tmp_path):
    return make_darknet(tmp_path / "src")


def _items(ds):
    return {(it.subset, it.id): it for it in ds}


def test_import_items_media_and_boxes(darknet):
    ds = import_dataset(darknet, "yolo")
    assert ds.categories.label_names() == ["car", "person", "feu rouge ☂"]
    assert [(it.subset, it.id) for it in ds] == [
        ("train", "img_1"), ("train", "street scene/café"), ("train", "gone"), ("train", "no_label"),
        ("valid", "v1")]
    items = _items(ds)
    a = items[("train", "img_1")]
    assert a.media.path == str(darknet / "obj_train_data" / "img_1.jpg")
    assert a.media.size == (30, 40) and a.media.name == "img_1.jpg"
    b0, b1 = a.annotations
    assert (b0.type, b0.label, b0.x, b0.y, b0.w, b0.h) == (AnnType.bbox, 0, 4.0, 6.0, 12.0, 12.0)
    assert b1.label == 2 and b1.x == pytest.approx(16.0) and b1.y == pytest.approx(7.999995)
    assert b1.w == pytest.approx(16.0) and b1.h == pytest.approx(8.00001)
    assert dict(b0.meta) == {} and dict(a.meta) == {}
    cafe = items[("train", "street scene/café")]
    assert cafe.media.name == "street scene/café.png" and cafe.media.size == (20, 50)
    (box,) = cafe.annotations
    assert (box.label, box.x, box.y, box.w, box.h) == (1, 20.0, 7.5, 10.0, 5.0)
    assert box.meta["yolo"] == {"t": "0.5 0.5 0.2 0.25"}  # not our precision: text kept


def test_missing_image_and_missing_label_file(darknet):
    items = _items(import_dataset(darknet, "yolo"))
    gone = items[("train", "gone")]
    assert gone.media.path is None and gone.media.size is None and gone.media.name == "gone.jpg"
    assert gone.annotations == () and dict(gone.meta) == {}
    nolab = items[("train", "no_label")]
    assert nolab.annotations == () and nolab.meta["yolo"] == {"nl": True}
    assert nolab.media.size == (8, 8)


def test_round_trip_is_lossless_and_byte_identical(darknet, tmp_path):
    ds, _ = assert_round_trip(darknet, tmp_path / "out", "yolo")
    assert files_of(tmp_path / "out") == files_of(darknet)
    # no label file is written for the item that had none
    assert not (tmp_path / "out" / "obj_train_data" / "no_label.txt").exists()


def test_round_trip_through_canonical_encoding_in_reverse_order(darknet, tmp_path):
    """What the repository does: items decoded from storage, exported, images placed."""
    ds = import_dataset(darknet, "yolo")
    stored = [decode_item(encode_item(it), lambda md, p=it.media.path: p) for it in ds]
    export_dataset(Dataset(ds.categories, stored, ds.subset_meta), tmp_path / "out", "yolo")
    copy_images(ds, darknet, tmp_path / "out")
    assert encoded(import_dataset(tmp_path / "out", "yolo")) == encoded(ds)
    assert files_of(tmp_path / "out") == files_of(darknet)


def test_edited_box_is_rewritten_in_fixed_precision(darknet, tmp_path):
    ds = import_dataset(darknet, "yolo")

    def edit(it):
        if it.id != "street scene/café":
            return it
        (b,) = it.annotations
        return it.with_(annotations=(b.with_(x=b.x + 1.0),))

    export_dataset(ds.map_items(edit), tmp_path / "out", "yolo")
    text = (tmp_path / "out" / "obj_train_data" / "street scene" / "café.txt").read_text()
    assert text == "1 0.520000 0.500000 0.200000 0.250000\n"
    unchanged = (tmp_path / "out" / "obj_train_data" / "img_1.txt").read_bytes()
    assert unchanged == (darknet / "obj_train_data" / "img_1.txt").read_bytes()


def test_export_from_scratch_layout_and_losses(tmp_path):
    img = write_image(tmp_path / "img" / "x.png", 20, 40)
    cats = Categories.from_names(["a", "b"])
    items = [
        Item("x", "default", Image(path=str(img), name="x.png"), (
            Bbox(x=10, y=5, w=20, h=10, label=1, attributes={"occluded": True}),
            Polygon(points=(0, 0, 4, 0, 4, 4), label=0),
            Mask.from_array([[0, 1], [1, 1]], label=0),
            Label(label=0), Caption(caption="hi"), Points(points=(1, 1), label=0),
            Bbox(x=1, y=1, w=1, h=1),
        )),
        Item("nested/y", "default", Image(size=(10, 10), name="nested/y.jpg"), attributes={"time": "day"}),
    ]
    progress = NullProgress()
    report = export_dataset(Dataset.from_items(items, cats), tmp_path / "out", "yolo", None, progress)
    out = tmp_path / "out"
    assert report.files == ("default.txt", "obj.data", "obj.names", "obj_default_data/nested/y.txt",
                            "obj_default_data/x.txt")
    assert (out / "obj.data").read_text() == ("classes = 2\ndefault = data/default.txt\nnames = data/obj.names\n"
                                              "backup = backup/\n")
    assert (out / "obj.names").read_text() == "a\nb\n"
    assert (out / "default.txt").read_text() == "data/obj_default_data/x.png\ndata/obj_default_data/nested/y.jpg\n"
    assert (out / "obj_default_data" / "x.txt").read_text() == "1 0.500000 0.500000 0.500000 0.500000\n"
    assert (out / "obj_default_data" / "nested" / "y.txt").read_text() == ""
    assert progress.warnings == [
        "yolo cannot hold annotation attributes: 1 dropped",
        "yolo cannot hold annotations without a label: 1 dropped",
        "yolo cannot hold captions: 1 dropped",
        "yolo cannot hold image labels: 1 dropped",
        "yolo cannot hold item attributes: 1 dropped",
        "yolo cannot hold masks: 1 dropped",
        "yolo cannot hold points: 1 dropped",
        "yolo cannot hold polygons: 1 dropped",
    ]
    with pytest.raises(ExportError, match=r"^yolo cannot hold annotation attributes: 1 dropped; .* \(--strict\)$"):
        export_dataset(Dataset.from_items(items, cats), tmp_path / "strict", "yolo", ["--strict"])


def test_save_media_image_ext_and_determinism(darknet, tmp_path):
    ds = import_dataset(darknet, "yolo")
    r1 = export_dataset(ds, tmp_path / "a", "yolo", ["--save-media", "--image-ext", ".png"])
    r2 = export_dataset(ds, tmp_path / "b", "yolo", ["--save-media", "--image-ext", ".png"])
    assert r1 == r2
    assert "obj_train_data/img_1.png" in r1.files and "obj_train_data/street scene/café.png" in r1.files
    assert r1.missing_media == ("gone",)
    assert files_of(tmp_path / "a", False) == files_of(tmp_path / "b", False)
    assert (tmp_path / "a" / "train.txt").read_text().splitlines()[0] == "data/obj_train_data/img_1.png"
    back = _items(import_dataset(tmp_path / "a", "yolo"))
    assert back[("train", "img_1")].media.name == "img_1.png" and back[("train", "img_1")].media.size == (30, 40)


def test_list_lines_without_data_prefix_and_images_elsewhere(tmp_path):
    root = tmp_path / "d"
    write(root / "obj.data", "classes = 1\ntrain = train.txt\nnames = obj.names\n")
    write(root / "obj.names", "thing\n")
    write_image(root / "pics" / "p1.jpg", 10, 10)
    write(root / "pics" / "p1.txt", "0 0.500000 0.500000 1.000000 1.000000\n")
    write_image(root / "obj_train_data" / "q.jpg", 10, 10)
    write(root / "obj_train_data" / "q.txt", "")
    write(root / "train.txt", "pics/p1.jpg\n./obj_train_data/q.jpg\n")
    ds = import_dataset(root, "yolo")
    p1, q = list(ds)
    assert (p1.id, p1.media.name, dict(p1.meta["yolo"])) == ("pics/p1", "pics/p1.jpg",
                                                             {"p": "pics/p1.jpg", "l": "pics/p1.jpg"})
    assert (q.id, dict(q.meta["yolo"])) == ("q", {"l": "./obj_train_data/q.jpg"})
    assert p1.annotations[0].get_bbox() == (0.0, 0.0, 10.0, 10.0)
    assert_round_trip(root, tmp_path / "out", "yolo")
    assert files_of(tmp_path / "out") == files_of(root)


def test_empty_dataset_and_empty_subset(tmp_path):
    root = tmp_path / "d"
    write(root / "obj.data", "classes = 0\ntrain = data/train.txt\nnames = data/obj.names\n")
    write(root / "obj.names", "")
    write(root / "train.txt", "")
    ds = import_dataset(root, "yolo")
    assert len(ds) == 0 and ds.subsets() == ["train"] and ds.categories.labels == ()
    assert_round_trip(root, tmp_path / "out", "yolo")
    assert files_of(tmp_path / "out") == files_of(root)


def test_outside_unit_range_is_kept_with_one_warning(tmp_path):
    root = tmp_path / "d"
    write(root / "obj.data", "classes = 1\ntrain = data/train.txt\nnames = data/obj.names\n")
    write(root / "obj.names", "x\n")
    write_image(root / "obj_train_data" / "a.png", 10, 10)
    write(root / "obj_train_data" / "a.txt", "0 1.050000 0.500000 0.200000 0.200000\n"
                                              "0 -0.100000 0.500000 0.200000 0.200000\n")
    write(root / "train.txt", "data/obj_train_data/a.png\n")
    progress = NullProgress()
    ds = import_dataset(root, "yolo", None, progress)
    (it,) = list(ds)
    assert it.annotations[0].x == pytest.approx(9.5) and it.annotations[1].x == pytest.approx(-2.0)
    list(ds)
    assert progress.warnings == [f"{root}: 2 normalized coordinates outside [0, 1] in 1 label file(s), "
                                 "kept as they are"]
    assert_round_trip(root, tmp_path / "out", "yolo")
    assert files_of(tmp_path / "out") == files_of(root)


def test_detect(darknet, tmp_path):
    assert detect_formats(darknet)[0] == ("yolo", 0.9)
    assert detect_formats(darknet / "obj.data")[0] == ("yolo", 0.9)
    write(tmp_path / "other" / "x.data", "foo = 1\n")
    assert all(n != "yolo" for n, _c in detect_formats(tmp_path / "other"))
