"""Datumaro export of datasets made in memory: exact records, options, lossy cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.annotations import Bbox, Caption, Ellipse, Label, Mask, Points, Polygon, Polyline
from dsrepo.model.categories import Categories, LabelCategory, PointsCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.encoding import encode_item
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import NullProgress

CATS = Categories(labels=(LabelCategory("a"), LabelCategory("b", "top", ("size",))),
                  points={1: PointsCategory(("p", "q"), ((1, 2),))}, colormap={0: (1, 2, 3)}, attributes=("z",))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _fresh() -> Dataset:
    mask = np.zeros((4, 3), dtype=np.uint8)
    mask[1:3, 1] = 1
    anns = (
        Bbox(x=1, y=2, w=3, h=4, id=1, label=0, group=2, z_order=1, attributes={"z": True, "a": "x"}),
        Polygon(points=(0, 0, 2, 0, 2, 2), id=2, label=1),
        Polyline(points=(0, 0, 1, 1), id=3),
        Points(points=(1, 1, 2, 2), visibility=(2, 0), id=4, label=1),
        Mask.from_array(mask, id=5, label=0),
        Label(id=6, label=1),
        Caption(caption="hi", id=7),
        Ellipse(x1=0, y1=0, x2=2, y2=1, id=8, label=0),
    )
    img = np.full((5, 6, 3), 128, dtype=np.uint8)
    return Dataset.from_items([
        Item("dir/one", "train", Image(data=img, size=(5, 6), name="dir/one.png"), anns, attributes={"k": 1}),
        Item("two", "val", None),
        Item("three", "train", Image(path=None, size=(7, 8), name="three.jpg")),
    ], CATS)


def test_records_are_what_datumaro_writes(tmp_path):
    progress = NullProgress()
    report = export_dataset(_fresh(), tmp_path / "o", "datumaro", None, progress)
    assert report.files == ("annotations/train.json", "annotations/val.json") and progress.warnings == []
    doc = _load(tmp_path / "o" / "annotations" / "train.json")
    assert list(doc) == ["dm_format_version", "media_type", "infos", "categories", "items"]
    assert (doc["dm_format_version"], doc["media_type"], doc["infos"]) == ("1.0", 2, {})
    assert doc["categories"] == {
        "label": {"labels": [{"name": "a", "parent": "", "attributes": []},
                             {"name": "b", "parent": "top", "attributes": ["size"]}],
                  "label_groups": [], "attributes": ["z"]},
        "mask": {"colormap": [{"label_id": 0, "r": 1, "g": 2, "b": 3}]},
        "points": {"items": [{"label_id": 1, "labels": ["p", "q"], "joints": [[1, 2]]}]}}
    one, three = doc["items"]
    assert one["id"] == "dir/one" and one["attr"] == {"k": 1}
    assert one["image"] == {"path": "dir/one.png", "size": [5, 6]}
    assert three == {"id": "three", "annotations": [], "image": {"path": "three.jpg", "size": [7, 8]}}
    a = one["annotations"]
    assert a[0] == {"id": 1, "type": "bbox", "attributes": {"a": "x", "z": True}, "group": 2, "label_id": 0,
                    "z_order": 1, "bbox": [1.0, 2.0, 3.0, 4.0]}
    assert a[1] == {"id": 2, "type": "polygon", "attributes": {}, "group": 0, "label_id": 1,
                    "points": [0.0, 0.0, 2.0, 0.0, 2.0, 2.0], "z_order": 0}
    assert a[2]["type"] == "polyline" and a[2]["label_id"] is None
    assert a[3] == {"id": 4, "type": "points", "attributes": {}, "group": 0, "label_id": 1,
                    "points": [1.0, 1.0, 2.0, 2.0], "z_order": 0, "visibility": [2, 0]}
    assert a[4]["rle"] == {"counts": _fresh_mask_counts(), "size": [4, 3]} and "dsrepo" not in a[4]
    assert a[5] == {"id": 6, "type": "label", "attributes": {}, "group": 0, "label_id": 1}
    assert a[6] == {"id": 7, "type": "caption", "attributes": {}, "group": 0, "caption": "hi"}
    assert a[7] == {"id": 8, "type": "ellipse", "attributes": {}, "group": 0, "label_id": 0,
                    "points": [0.0, 0.0, 2.0, 1.0], "z_order": 0}
    assert _load(tmp_path / "o" / "annotations" / "val.json")["items"] == [{"id": "two", "annotations": []}]


def _fresh_mask_counts() -> str:
    from pycocotools import mask as mu

    m = np.zeros((4, 3), dtype=np.uint8, order="F")
    m[1:3, 1] = 1
    return mu.encode(m)["counts"].decode("ascii")


def test_fresh_dataset_round_trips(tmp_path):
    ds = _fresh()
    export_dataset(ds, tmp_path / "o", "datumaro")
    back = import_dataset(tmp_path / "o", "datumaro")
    key = {it.key: encode_item(it, lambda m: None) for it in back}
    for it in ds:  # images in memory were not saved: compare without media checksums
        assert key[it.key] == encode_item(it, lambda m: None)


def test_uncompressed_rle_keeps_its_form(tmp_path):
    regular = Mask(rle={"size": (2, 3), "counts": (1, 2, 3)}, id=1)
    with_zero_runs = Mask(rle={"size": (2, 3), "counts": (1, 0, 0, 2, 3)}, id=2)
    ds = Dataset.from_items([Item("m", annotations=(regular, with_zero_runs))], CATS)
    export_dataset(ds, tmp_path / "o", "datumaro")
    a = _load(tmp_path / "o" / "annotations" / "default.json")["items"][0]["annotations"]
    from dsrepo.model import masks

    for x in a:  # Datumaro reads a compressed string of the same pixels
        assert isinstance(x["rle"]["counts"], str)
        assert (masks.decode(x["rle"]) == regular.image).all()
    assert a[0]["dsrepo"] == {"rle_counts": "uncompressed"}
    assert a[1]["dsrepo"] == {"rle_counts": [1, 0, 0, 2, 3]}
    back = next(iter(import_dataset(tmp_path / "o", "datumaro"))).annotations
    assert back[0].rle["counts"] == (1, 2, 3) and back[1].rle["counts"] == (1, 0, 0, 2, 3)


def test_save_media_with_image_ext(tmp_path):
    import cv2

    report = export_dataset(_fresh(), tmp_path / "o", "datumaro", ["--save-media", "--image-ext", "jpg"])
    assert report.files == ("annotations/train.json", "annotations/val.json", "images/train/dir/one.jpg")
    assert report.missing_media == ("three",)
    img = cv2.imread(str(tmp_path / "o" / "images" / "train" / "dir" / "one.jpg"))
    assert img.shape == (5, 6, 3)
    items = _load(tmp_path / "o" / "annotations" / "train.json")["items"]
    assert [it["image"]["path"] for it in items] == ["dir/one.jpg", "three.jpg"]
    back = {it.id: it for it in import_dataset(tmp_path / "o", "datumaro")}
    assert back["dir/one"].media.has_file and back["dir/one"].media.size == (5, 6)


def test_labels_outside_the_categories(tmp_path):
    ds = Dataset.from_items([Item("x", annotations=(Bbox(w=1, h=1, label=5), Label(label=1)))], CATS)
    progress = NullProgress()
    export_dataset(ds, tmp_path / "o", "datumaro", None, progress)
    assert progress.warnings == [
        "datumaro cannot hold annotations with a label index outside the categories: 1 written without a label"]
    a = _load(tmp_path / "o" / "annotations" / "default.json")["items"][0]["annotations"]
    assert [x["label_id"] for x in a] == [None, 1]
    with pytest.raises(ExportError, match=r"^datumaro cannot hold annotations with a label index outside the "
                                          r"categories: 1 written without a label \(--strict\)$"):
        export_dataset(ds, tmp_path / "strict", "datumaro", ["--strict"])
    assert list((tmp_path / "strict").iterdir()) == []  # nothing half-written


@pytest.mark.parametrize("subset", ["a/b", "..", ".hidden"])
def test_subset_that_is_not_a_file_name(tmp_path, subset):
    ds = Dataset.from_items([Item("x", subset)], CATS)
    with pytest.raises(ExportError, match=f"subset name {subset!r} cannot be used as a file name"):
        export_dataset(ds, tmp_path / "o", "datumaro")


def test_empty_dataset_gives_an_importable_folder(tmp_path):
    report = export_dataset(Dataset.from_items([], Categories()), tmp_path / "o", "datumaro")
    assert report.files == ("annotations/default.json",)
    ds = import_dataset(tmp_path / "o", "datumaro")
    assert len(ds) == 0 and ds.subsets() == ["default"] and ds.categories.labels == ()


def test_save_dataset_meta(tmp_path):
    cats = Categories(labels=(LabelCategory("bg"), LabelCategory("cat")), colormap={0: (0, 0, 0), 1: (9, 8, 7)})
    export_dataset(Dataset.from_items([Item("x")], cats), tmp_path / "o", "datumaro", ["--save-dataset-meta"])
    assert _load(tmp_path / "o" / "dataset_meta.json") == {
        "label_map": {"0": "bg", "1": "cat"}, "segmentation_colors": [[0, 0, 0], [9, 8, 7]]}


def test_interleaved_subsets_keep_their_own_order(tmp_path):
    items = [Item("b", "s1"), Item("z", "s2"), Item("a", "s1"), Item("y", "s2")]
    export_dataset(Dataset.from_items(items), tmp_path / "o", "datumaro")
    assert [i["id"] for i in _load(tmp_path / "o" / "annotations" / "s1.json")["items"]] == ["b", "a"]
    assert [i["id"] for i in _load(tmp_path / "o" / "annotations" / "s2.json")["items"]] == ["z", "y"]


def test_opaque_annotations_return_to_their_place(tmp_path):
    cuboid = {"id": 9, "type": "cuboid_3d", "position": [1, 2, 3]}
    meta = {"datumaro": {"opaque": [[0, cuboid], [5, {"id": 10, "type": "hash_key"}]]}}
    ds = Dataset.from_items([Item("x", annotations=(Label(id=1, label=0), Label(id=2, label=1)), meta=meta)], CATS)
    export_dataset(ds, tmp_path / "o", "datumaro")
    a = _load(tmp_path / "o" / "annotations" / "default.json")["items"][0]["annotations"]
    assert [x["id"] for x in a] == [9, 1, 2, 10]  # index 5 is past the end (annotations were removed)
    assert a[0] == {"id": 9, "position": [1, 2, 3], "type": "cuboid_3d"}


def test_attribute_order_does_not_change_the_bytes(tmp_path):
    one = Dataset.from_items([Item("x", attributes={"a": 1, "b": {"d": 1, "c": 2}})])
    two = Dataset.from_items([Item("x", attributes={"b": {"c": 2, "d": 1}, "a": 1})])
    export_dataset(one, tmp_path / "1", "datumaro")
    export_dataset(two, tmp_path / "2", "datumaro")
    assert (tmp_path / "1/annotations/default.json").read_bytes() == \
        (tmp_path / "2/annotations/default.json").read_bytes()
